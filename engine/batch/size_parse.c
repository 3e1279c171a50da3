/* Byte sizes as written in job files and on the command line: "512",
 * "64K", "2 GiB" (integers only: "1.5G" is rejected). */
#include <stddef.h>
#include <stdint.h>

#include "size_parse.h"

/* Tells whether c is ASCII white space (locale-independent). */
static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Returns c lower-cased if it is an ASCII capital letter. */
static char ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Returns the binary shift for the unit suffix spelled by the `len`
 * characters at s (case-insensitive): "" or "B" 0, "K"/"KB"/"KiB" 10,
 * "M.." 20, "G.." 30, "T.." 40; -1 for anything else. */
static int suffix_shift(const char *s, size_t len)
{
    static const char letters[] = "kmgt";
    int shift = -1, i;
    char unit;

    if (len == 0)
        return 0;
    if (len == 1 && ascii_lower(s[0]) == 'b')
        return 0;
    unit = ascii_lower(s[0]);
    for (i = 0; letters[i] != '\0'; i++)
        if (letters[i] == unit)
            shift = 10 * (i + 1);
    if (shift < 0)
        return -1;
    if (len == 1)
        return shift;
    if (len == 2 && ascii_lower(s[1]) == 'b')
        return shift;
    if (len == 3 && ascii_lower(s[1]) == 'i' && ascii_lower(s[2]) == 'b')
        return shift;
    return -1;
}

/* Parses optional white space, a decimal integer, optional white space,
 * an optional unit suffix (K, M, G, T with optional B or iB, all powers of
 * 1024, any case; or B) and optional white space.  Writes *out and returns
 * 0, or returns -1 leaving *out untouched for NULL arguments, an empty
 * string, a sign, a fraction, an unknown suffix, trailing text, or a value
 * above UINT64_MAX. */
int size_parse(const char *text, uint64_t *out)
{
    const char *p = text, *suffix;
    uint64_t value = 0;
    size_t suffix_len = 0;
    int shift;

    if (!text || !out)
        return -1;
    while (is_space(*p))
        p++;
    if (*p < '0' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned digit = (unsigned)(*p - '0');
        if (value > (UINT64_MAX - digit) / 10)
            return -1;
        value = value * 10 + digit;
    }
    while (is_space(*p))
        p++;
    suffix = p;
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) {
        p++;
        suffix_len++;
    }
    while (is_space(*p))
        p++;
    if (*p != '\0')
        return -1;
    shift = suffix_shift(suffix, suffix_len);
    if (shift < 0)
        return -1;
    if (shift > 0 && value > (UINT64_MAX >> shift))
        return -1;
    *out = value << shift;
    return 0;
}
