/* COLMAP file readers (colmap_io.h): binary little-endian values and
 * counts, text lines and tokens. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "colmap_io.h"
#include "host_alloc.h"
#include "status.h"

/* Reads n bytes as a little-endian unsigned integer (n <= 8).  KILN_E_FORMAT
 * "truncated" naming `what` when fewer remain. */
kiln_status colmap_bin_uint(colmap_bin_reader *r, size_t n, const char *what, uint64_t *out)
{
    uint64_t v = 0;

    *out = 0;
    if (r->left < n)
        return kiln_fail(KILN_E_FORMAT, "%s: truncated: the file ends inside %s", r->file, what);
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)r->p[i] << (8 * i);
    r->p += n;
    r->left -= n;
    *out = v;
    return KILN_OK;
}

/* Reads n little-endian IEEE doubles. */
kiln_status colmap_bin_doubles(colmap_bin_reader *r, size_t n, const char *what, double *out)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t bits;
        kiln_status st = colmap_bin_uint(r, 8, what, &bits);

        if (st != KILN_OK)
            return st;
        memcpy(&out[i], &bits, sizeof(out[i]));
    }
    return KILN_OK;
}

/* Reads a count and checks that `min_each` bytes per item fit in what
 * remains (so that a corrupt count never sizes an allocation). */
kiln_status colmap_bin_count(colmap_bin_reader *r, size_t min_each, const char *what, size_t *out)
{
    uint64_t n;
    kiln_status st = colmap_bin_uint(r, 8, what, &n);

    *out = 0;
    if (st != KILN_OK)
        return st;
    if (n > r->left / min_each)
        return kiln_fail(KILN_E_FORMAT, "%s: %llu %s cannot fit in the %zu bytes that remain",
                         r->file, (unsigned long long)n, what, r->left);
    *out = (size_t)n;
    return KILN_OK;
}


/* Copies `len` bytes of text; a NUL byte inside is an error. */
kiln_status colmap_text_init(colmap_text *t, const char *text, size_t len, const char *file)
{
    memset(t, 0, sizeof(*t));
    t->file = file;
    if (memchr(text, '\0', len))
        return kiln_fail(KILN_E_FORMAT, "%s: a NUL byte in a text file", file);
    t->buf = kiln_malloc(len + 1);
    if (!t->buf)
        return kiln_fail(KILN_E_HOSTMEM, "%s: out of host memory for %zu bytes", file, len);
    memcpy(t->buf, text, len);
    t->buf[len] = '\0';
    t->next = t->buf;
    return KILN_OK;
}

/* Returns the next line (without its end, a trailing CR dropped), or
 * NULL at the end of the text. */
char *colmap_text_line(colmap_text *t)
{
    char *line = t->next, *end;
    size_t n;

    if (!line || *line == '\0') {
        t->next = NULL;
        return NULL;
    }
    end = strchr(line, '\n');
    if (end)
        *end = '\0';
    t->next = end ? end + 1 : NULL;
    n = strlen(line);
    if (n > 0 && line[n - 1] == '\r')
        line[n - 1] = '\0';
    t->line_no++;
    return line;
}

/* Whether a line holds nothing but white space, or is a '#' comment. */
int colmap_line_blank(const char *s, int *comment)
{
    s += strspn(s, " \t");
    *comment = *s == '#';
    return *s == '\0';
}

/* Cuts the next white-space separated token off *s; NULL when none. */
char *colmap_token_next(char **s)
{
    char *p = *s + strspn(*s, " \t"), *end;

    if (*p == '\0')
        return NULL;
    end = p + strcspn(p, " \t");
    if (*end)
        *end++ = '\0';
    *s = end;
    return p;
}

/* Parses token `tok` (what: for the message) as a decimal unsigned
 * integer no greater than max. */
kiln_status colmap_token_uint(const char *tok, uint64_t max, const colmap_text *t,
                              const char *what, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (!tok)
        return kiln_fail(KILN_E_FORMAT, "%s: line %zu: no %s", t->file, t->line_no, what);
    errno = 0;
    v = strtoull(tok, &end, 10);
    if (*tok == '-' || *tok == '+' || end == tok || *end || errno || v > max)
        return kiln_fail(KILN_E_FORMAT, "%s: line %zu: %s \"%.32s\" is not a whole number in "
                         "0..%llu", t->file, t->line_no, what, tok, (unsigned long long)max);
    *out = v;
    return KILN_OK;
}

/* Parses token `tok` as a finite number. */
kiln_status colmap_token_double(const char *tok, const colmap_text *t, const char *what,
                                double *out)
{
    char *end;

    if (!tok)
        return kiln_fail(KILN_E_FORMAT, "%s: line %zu: no %s", t->file, t->line_no, what);
    *out = strtod(tok, &end);
    if (end == tok || *end)
        return kiln_fail(KILN_E_FORMAT, "%s: line %zu: %s \"%.32s\" is not a number", t->file,
                         t->line_no, what, tok);
    if (!isfinite(*out))
        return kiln_fail(KILN_E_FORMAT, "%s: line %zu: %s \"%.32s\" is not finite", t->file,
                         t->line_no, what, tok);
    return KILN_OK;
}
