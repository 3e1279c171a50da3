/* Job files: loading an INI file with iniparser, applying --set overrides,
 * validating every entry against the table of keys (engine/job_keys.c),
 * and writing the documented reference of that table.
 *
 * Messages name their source, section and key:
 *   "job.ini: unknown section [reszie] (did you mean [resize]?)"
 *   "job.ini: [resize] unknown key 'widht' (did you mean 'width'?)"
 *   "job.ini: [resize] width: 'abc' is not an integer"
 *   "--set resize.width: 70000 is out of range 0..65536" */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/types.h>

#include <iniparser.h>

#include "host_alloc.h"
#include "size_parse.h"
#include "job.h"
#include "job_scan.h"
#include "pool.h"
#include "status.h"

#define KIB UINT64_C(1024)
#define NAME_MAX_LEN 64         /* longest section or key name compared */
#define WHERE_MAX (JOB_PATH_MAX + 2 * NAME_MAX_LEN + 16)
#define SUGGEST_DISTANCE 2      /* "did you mean" up to this many edits */

/* The format iniparser 4.1 reports a syntax error with (file, line, text). */
#define INI_SYNTAX_FORMAT "iniparser: syntax error in %s (%d):\n-> %s\n"

/* The first message iniparser reported during this thread's current load. */
static _Thread_local char ini_error[512];

/* iniparser's error callback: keeps the first message of a load in
 * ini_error, reworded ("line 3: syntax error: '[job'"), instead of
 * printing it to stderr.  Always returns 0. */
static int ini_error_capture(const char *fmt, ...)
{
    va_list ap;
    size_t len;

    if (ini_error[0] != '\0')
        return 0;
    va_start(ap, fmt);
    if (strcmp(fmt, INI_SYNTAX_FORMAT) == 0) {
        const char *file = va_arg(ap, const char *);
        int line = va_arg(ap, int);
        const char *text = va_arg(ap, const char *);
        (void)file;
        snprintf(ini_error, sizeof(ini_error), "line %d: syntax error: '%s'",
                 line, text ? text : "");
    } else {
        vsnprintf(ini_error, sizeof(ini_error), fmt, ap);
    }
    va_end(ap);
    if (strncmp(ini_error, "iniparser: ", 11) == 0)
        memmove(ini_error, ini_error + 11, strlen(ini_error + 11) + 1);
    for (char *c = ini_error; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    len = strlen(ini_error);
    while (len > 0 && ini_error[len - 1] == ' ')
        ini_error[--len] = '\0';
    return 0;
}

/* Lower-cases an ASCII letter; other bytes are returned unchanged. */
static int tolower_ascii(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Returns the optimal-string-alignment distance between a and b (edits:
 * insert, delete, substitute, swap two neighbours), or SIZE_MAX when
 * either is longer than NAME_MAX_LEN. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t rows[3][NAME_MAX_LEN + 1];
    size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];

    if (la > NAME_MAX_LEN || lb > NAME_MAX_LEN)
        return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t *spare;
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            if (prev[j - 1] + cost < best)
                best = prev[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                prev2[j - 2] + 1 < best)
                best = prev2[j - 2] + 1;
            cur[j] = best;
        }
        spare = prev2;
        prev2 = prev;
        prev = cur;
        cur = spare;
    }
    return prev[lb];
}

/* Tells whether `candidate` is a close enough spelling of `name` to
 * suggest: at most SUGGEST_DISTANCE edits, and fewer than half the longer
 * name's length (so "foo" does not suggest "job"); *distance gets the
 * edit count. */
static int suggestible(const char *name, const char *candidate, size_t *distance)
{
    size_t longest = strlen(name) > strlen(candidate) ? strlen(name) : strlen(candidate);

    *distance = edit_distance(name, candidate);
    return *distance <= SUGGEST_DISTANCE && 2 * *distance < longest;
}

/* Returns the section named exactly `name` (len bytes), or NULL. */
static const job_section *section_find(const char *name, size_t len)
{
    for (size_t s = 0; s < job_section_count; s++)
        if (strlen(job_sections[s].name) == len &&
            strncmp(job_sections[s].name, name, len) == 0)
            return &job_sections[s];
    return NULL;
}

/* Returns the index of key `name` in `section`, or -1. */
static long key_find(const char *section, const char *name)
{
    for (size_t k = 0; k < job_key_count; k++)
        if (strcmp(job_keys[k].section, section) == 0 &&
            strcmp(job_keys[k].name, name) == 0)
            return (long)k;
    return -1;
}

/* Writes " (did you mean [x]?)" for the closest suggestible section to
 * `name` into buf, or "" when none is that close. */
static void section_suggest(const char *name, char *buf, size_t len)
{
    size_t best = SUGGEST_DISTANCE + 1;
    const char *pick = NULL;

    for (size_t s = 0; s < job_section_count; s++) {
        size_t d;
        if (suggestible(name, job_sections[s].name, &d) && d < best) {
            best = d;
            pick = job_sections[s].name;
        }
    }
    if (pick)
        snprintf(buf, len, " (did you mean [%s]?)", pick);
    else
        snprintf(buf, len, "%s", "");
}

/* Writes a hint for an unknown key `name` of `section` into buf:
 * " (did you mean 'x'?)" for the closest suggestible key of the section,
 * else " ('x' belongs in [s])" when another
 * section has that key, else "". */
static void key_suggest(const char *section, const char *name, char *buf, size_t len)
{
    size_t best = SUGGEST_DISTANCE + 1;
    const char *pick = NULL;

    snprintf(buf, len, "%s", "");
    for (size_t k = 0; k < job_key_count; k++) {
        size_t d;
        if (strcmp(job_keys[k].section, section) != 0)
            continue;
        if (suggestible(name, job_keys[k].name, &d) && d < best) {
            best = d;
            pick = job_keys[k].name;
        }
    }
    if (pick) {
        snprintf(buf, len, " (did you mean '%s'?)", pick);
        return;
    }
    for (size_t k = 0; k < job_key_count; k++)
        if (strcmp(job_keys[k].name, name) == 0) {
            snprintf(buf, len, " ('%s' belongs in [%s])", name, job_keys[k].section);
            return;
        }
}

/* Formats a bound of `key` for messages and the reference: sizes with the
 * largest exact K/M/G/T suffix ("256M"), integers in decimal. */
static void bound_format(const job_key *key, uint64_t value, char *buf, size_t len)
{
    static const char suffixes[] = "KMGT";
    int shift = -1;

    if (key->type == JOB_KEY_SIZE || key->type == JOB_KEY_SIZE_AUTO) {
        uint64_t unit = KIB;
        for (int i = 0; i < 4 && value != 0 && value % unit == 0; i++, unit *= KIB)
            shift = i;
    }
    if (shift >= 0)
        snprintf(buf, len, "%llu%c",
                 (unsigned long long)(value >> (10 * (shift + 1))), suffixes[shift]);
    else
        snprintf(buf, len, "%llu", (unsigned long long)value);
}

/* Returns a pointer to key's field inside cfg. */
static void *key_field(const job_key *key, job_config *cfg)
{
    return (char *)cfg + key->offset;
}

/* Parses a decimal integer: returns 0 and *out, 1 when text is a decimal
 * number that does not fit (negative or too large), -1 when malformed. */
static int integer_parse(const char *text, uint64_t *out)
{
    const char *digits = text[0] == '-' ? text + 1 : text;
    unsigned long long value;
    char *end;

    if (digits[0] == '\0' || strspn(digits, "0123456789") != strlen(digits))
        return -1;
    if (digits != text)
        return 1;
    errno = 0;
    value = strtoull(digits, &end, 10);
    if (errno == ERANGE)
        return 1;
    *out = value;
    return 0;
}

/* Checks value against key's range (or its allowed values); on failure
 * returns KILN_E_CONFIG with "<where>: <text> is out of range a..b". */
static kiln_status range_check(const job_key *key, uint64_t value, const char *text,
                               const char *where)
{
    char lo[32], hi[32];

    if (key->allowed) {
        char list[128] = "";
        for (size_t i = 0; i < key->nallowed; i++) {
            size_t used = strlen(list);
            if (key->allowed[i] == value)
                return KILN_OK;
            snprintf(list + used, sizeof(list) - used, "%s%llu", i ? ", " : "",
                     (unsigned long long)key->allowed[i]);
        }
        return kiln_fail(KILN_E_CONFIG, "%s: %s is not one of %s", where, text, list);
    }
    if (value >= key->min && value <= key->max)
        return KILN_OK;
    bound_format(key, key->min, lo, sizeof(lo));
    bound_format(key, key->max, hi, sizeof(hi));
    return kiln_fail(KILN_E_CONFIG, "%s: %s is out of range %s..%s", where, text, lo, hi);
}

/* Stores a string value in key's char array; too long is KILN_E_CONFIG. */
static kiln_status string_store(const job_key *key, const char *text, job_config *cfg,
                                const char *where)
{
    size_t len = strlen(text);

    if (len >= key->size)
        return kiln_fail(KILN_E_CONFIG, "%s: '%.40s...' is too long (at most %zu bytes)",
                         where, text, key->size - 1);
    memcpy(key_field(key, cfg), text, len + 1);
    return KILN_OK;
}

/* Parses a boolean (true/false, yes/no, on/off, 1/0, any case): returns
 * 0 or 1, or -1 when text is none of them. */
static int bool_parse(const char *text)
{
    static const char *const yes[] = { "true", "yes", "on", "1" };
    static const char *const no[] = { "false", "no", "off", "0" };

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(text, yes[i]) == 0)
            return 1;
        if (strcasecmp(text, no[i]) == 0)
            return 0;
    }
    return -1;
}

/* Parses one hex digit; returns its value or -1. */
static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parses "#rrggbb" into three channels in [0,1]; returns 0, or -1 when
 * malformed. */
static int colour_parse(const char *text, float rgb[3])
{
    if (text[0] != '#' || strlen(text) != 7)
        return -1;
    for (int c = 0; c < 3; c++) {
        int hi = hex_digit(text[1 + 2 * c]), lo = hex_digit(text[2 + 2 * c]);
        if (hi < 0 || lo < 0)
            return -1;
        rgb[c] = (float)(hi * 16 + lo) / 255.0f;
    }
    return 0;
}

/* Stores a boolean value in key's int field. */
static kiln_status bool_store(const job_key *key, const char *text, job_config *cfg,
                              const char *where)
{
    int value = bool_parse(text);

    if (value < 0)
        return kiln_fail(KILN_E_CONFIG,
                         "%s: '%s' is not a boolean (true/false, yes/no, on/off, 1/0)",
                         where, text);
    assert(key->size == sizeof(int));
    *(int *)key_field(key, cfg) = value;
    return KILN_OK;
}

/* Stores an integer, size or size-or-auto value, range-checked, in key's
 * uint64_t field. */
static kiln_status number_store(const job_key *key, const char *text, job_config *cfg,
                                const char *where)
{
    uint64_t number = 0;

    if (key->type == JOB_KEY_INT) {
        int r = integer_parse(text, &number);
        if (r < 0)
            return kiln_fail(KILN_E_CONFIG, "%s: '%s' is not an integer", where, text);
        if (r > 0)
            number = UINT64_MAX;   /* negative or huge: out of every range */
    } else if (key->type == JOB_KEY_SIZE_AUTO && strcasecmp(text, "auto") == 0) {
        number = 0;
    } else if (size_parse(text, &number) != 0) {
        return kiln_fail(KILN_E_CONFIG, "%s: '%s' is not a size (bytes, or with a "
                         "K, M, G or T suffix: 512M)%s", where, text,
                         key->type == JOB_KEY_SIZE_AUTO ? " or auto" : "");
    }
    if (!(key->type == JOB_KEY_SIZE_AUTO && number == 0)) {
        kiln_status st = range_check(key, number, text, where);
        if (st != KILN_OK)
            return st;
    }
    assert(key->size == sizeof(uint64_t));
    memcpy(key_field(key, cfg), &number, sizeof(number));
    return KILN_OK;
}

/* Stores the value of the enum name `text` (any case) in key's int field. */
static kiln_status enum_store(const job_key *key, const char *text, job_config *cfg,
                              const char *where)
{
    char list[256] = "";

    for (size_t i = 0; i < key->nnames; i++) {
        size_t used = strlen(list);
        if (strcasecmp(text, key->names[i].name) == 0) {
            assert(key->size == sizeof(int));
            *(int *)key_field(key, cfg) = key->names[i].value;
            return KILN_OK;
        }
        snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
                 key->names[i].name);
    }
    return kiln_fail(KILN_E_CONFIG, "%s: '%s' is not one of %s", where, text, list);
}

/* Stores a "#rrggbb" colour in key's float[3] field. */
static kiln_status colour_store(const job_key *key, const char *text, job_config *cfg,
                                const char *where)
{
    float rgb[3];

    if (colour_parse(text, rgb) != 0)
        return kiln_fail(KILN_E_CONFIG, "%s: '%s' is not a colour \"#rrggbb\"%s", where,
                         text, text[0] == '\0' ? " (quote it in a job file: '#' starts "
                         "a comment)" : "");
    assert(key->size == sizeof(rgb));
    memcpy(key_field(key, cfg), rgb, sizeof(rgb));
    return KILN_OK;
}

/* Stores a finite decimal number within fmin..fmax in key's float field. */
static kiln_status float_store(const job_key *key, const char *text, job_config *cfg,
                               const char *where)
{
    char *end = NULL;
    double v;

    errno = 0;
    v = strtod(text, &end);
    if (end == text || *end != '\0' || errno == ERANGE || !isfinite(v))
        return kiln_fail(KILN_E_CONFIG, "%s: '%s' is not a number", where, text);
    if (v < key->fmin || v > key->fmax)
        return kiln_fail(KILN_E_CONFIG, "%s: %s is out of range %g..%g", where, text,
                         key->fmin, key->fmax);
    assert(key->size == sizeof(float));
    *(float *)key_field(key, cfg) = (float)v;
    return KILN_OK;
}

/* Parses `text` as a value of `key` and stores it in cfg.  A malformed or
 * out-of-range value returns KILN_E_CONFIG with a message starting with
 * `where` ("job.ini: [resize] width"); cfg is then unchanged. */
/* Stores three numbers ("0.5, 0.5, 0.5" or "0.5 0.5 0.5") in fmin..fmax,
 * or NaN in [0] for an empty value (unset). */
static kiln_status float3_store(const job_key *key, const char *text, job_config *cfg,
                                const char *where)
{
    float *out = key_field(key, cfg);
    const char *p = text;
    float v[3];

    assert(key->size == 3 * sizeof(float));
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0') {
        out[0] = out[1] = out[2] = NAN;
        return KILN_OK;
    }
    for (int i = 0; i < 3; i++) {
        char *end = NULL;
        double d;
        errno = 0;
        d = strtod(p, &end);
        if (end == p || errno == ERANGE || !isfinite(d))
            return kiln_fail(KILN_E_CONFIG, "%s: '%s' is not three numbers", where, text);
        if (d < key->fmin || d > key->fmax)
            return kiln_fail(KILN_E_CONFIG, "%s: %g is out of range %g..%g", where, d,
                             key->fmin, key->fmax);
        v[i] = (float)d;
        p = end;
        while (*p == ' ' || *p == '\t' || (i < 2 && *p == ','))
            p++;
    }
    if (*p != '\0')
        return kiln_fail(KILN_E_CONFIG, "%s: '%s' is not three numbers", where, text);
    memcpy(out, v, sizeof(v));
    return KILN_OK;
}

static kiln_status value_parse(const job_key *key, const char *text, job_config *cfg,
                               const char *where)
{
    switch (key->type) {
    case JOB_KEY_STRING:
    case JOB_KEY_PATH:
        return string_store(key, text, cfg, where);
    case JOB_KEY_BOOL:
        return bool_store(key, text, cfg, where);
    case JOB_KEY_INT:
    case JOB_KEY_SIZE:
    case JOB_KEY_SIZE_AUTO:
        return number_store(key, text, cfg, where);
    case JOB_KEY_ENUM:
        return enum_store(key, text, cfg, where);
    case JOB_KEY_COLOUR:
        return colour_store(key, text, cfg, where);
    case JOB_KEY_FLOAT:
        return float_store(key, text, cfg, where);
    case JOB_KEY_FLOAT3:
        return float3_store(key, text, cfg, where);
    default:
        return kiln_fail(KILN_E_INVAL, "%s: key of unknown type %d", where, (int)key->type);
    }
}

/* Writes the source of a key's value for messages: "job.ini: [s] k" for a
 * value from the file, "--set s.k" for one from the command line. */
static void where_format(const char *path, const job_key *key, int from_set,
                         char *buf, size_t len)
{
    if (from_set)
        snprintf(buf, len, "--set %s.%s", key->section, key->name);
    else
        snprintf(buf, len, "%s: [%s] %s", path, key->section, key->name);
}

/* Copies the stem of path (its last component without the extension)
 * into buf, truncated to len - 1 bytes. */
static void stem_copy(const char *path, char *buf, size_t len)
{
    const char *base = strrchr(path, '/');
    const char *dot;
    size_t n;

    base = base ? base + 1 : path;
    dot = strrchr(base, '.');
    n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    if (n >= len)
        n = len - 1;
    memcpy(buf, base, n);
    buf[n] = '\0';
}

/* Fills *out with every key's default; see job.h. */
void job_defaults(job_config *out, const char *path)
{
    if (!path)
        path = "";
    memset(out, 0, sizeof(*out));
    snprintf(out->path, sizeof(out->path), "%s", path);
    for (size_t k = 0; k < job_key_count; k++) {
        kiln_status st = value_parse(&job_keys[k], job_keys[k].default_text, out,
                                     "default");
        assert(st == KILN_OK);   /* the table's defaults parse (tests prove it) */
        (void)st;
    }
    stem_copy(path, out->name, sizeof(out->name));
}

/* Checks that path names a readable regular file (not a directory):
 * KILN_E_IO "<path>: cannot read: <reason>" otherwise. */
static kiln_status job_file_check(const char *path)
{
    struct stat sb;
    FILE *f;

    if (strlen(path) >= JOB_PATH_MAX)
        return kiln_fail(KILN_E_IO, "%.64s...: cannot read: %s", path, strerror(ENAMETOOLONG));
    if (stat(path, &sb) != 0)
        return kiln_fail(KILN_E_IO, "%s: cannot read: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return kiln_fail(KILN_E_IO, "%s: cannot read: %s", path, strerror(EISDIR));
    f = fopen(path, "r");
    if (!f)
        return kiln_fail(KILN_E_IO, "%s: cannot read: %s", path, strerror(errno));
    fclose(f);
    return KILN_OK;
}

/* Scans the INI file (job_scan.h), then parses it into *out with
 * iniparser, capturing its messages:
 * a syntax error is KILN_E_CONFIG "<path>: line N: syntax error: '...'". */
static kiln_status job_file_parse(const char *path, dictionary **out)
{
    char parse_path[64];
    int fd;
    kiln_status st = job_scan(path, &fd, parse_path, sizeof(parse_path));

    *out = NULL;
    if (st != KILN_OK)
        return st;
    ini_error[0] = '\0';
    iniparser_set_error_callback(ini_error_capture);
    *out = iniparser_load(parse_path);
    close(fd);
    if (*out)
        return KILN_OK;
    if (ini_error[0] == '\0')
        return kiln_fail(KILN_E_HOSTMEM, "%s: cannot parse: out of memory", path);
    if (strncmp(ini_error, "cannot open", 11) == 0)
        return kiln_fail(KILN_E_IO, "%s: %s", path, ini_error);
    return kiln_fail(KILN_E_CONFIG, "%s: %s", path, ini_error);
}

/* Applies one "section.key=value" override to dict (which lower-cases the
 * names), marking the key in from_set.  Malformed, unknown section or
 * unknown key: KILN_E_CONFIG naming "--set". */
static kiln_status set_apply(dictionary *dict, const char *set, unsigned char *from_set)
{
    char section[NAME_MAX_LEN + 1], name[NAME_MAX_LEN + 1];
    char entry[2 * NAME_MAX_LEN + 2], hint[128];
    const char *eq, *dot;
    size_t slen, nlen;
    long k;

    if (!set)
        return kiln_fail(KILN_E_INVAL, "--set: NULL override");
    eq = strchr(set, '=');
    dot = eq ? memchr(set, '.', (size_t)(eq - set)) : NULL;
    if (!eq || !dot || dot == set || dot + 1 == eq)
        return kiln_fail(KILN_E_CONFIG, "--set %s: expected section.key=value", set);
    slen = (size_t)(dot - set);
    nlen = (size_t)(eq - dot - 1);
    if (slen > NAME_MAX_LEN || nlen > NAME_MAX_LEN)
        return kiln_fail(KILN_E_CONFIG, "--set %.*s: unknown key", (int)(eq - set), set);
    for (size_t i = 0; i < slen; i++)
        section[i] = (char)tolower_ascii(set[i]);
    section[slen] = '\0';
    for (size_t i = 0; i < nlen; i++)
        name[i] = (char)tolower_ascii(dot[1 + i]);
    name[nlen] = '\0';
    if (!section_find(section, slen)) {
        section_suggest(section, hint, sizeof(hint));
        return kiln_fail(KILN_E_CONFIG, "--set %s.%s: unknown section [%s]%s",
                         section, name, section, hint);
    }
    k = key_find(section, name);
    if (k < 0) {
        key_suggest(section, name, hint, sizeof(hint));
        return kiln_fail(KILN_E_CONFIG, "--set %s.%s: unknown key '%s' in [%s]%s",
                         section, name, name, section, hint);
    }
    snprintf(entry, sizeof(entry), "%s:%s", section, name);
    if ((!iniparser_find_entry(dict, section) && iniparser_set(dict, section, NULL) != 0) ||
        iniparser_set(dict, entry, eq + 1) != 0)
        return kiln_fail(KILN_E_HOSTMEM, "--set %s.%s: out of memory", section, name);
    from_set[k] = 1;
    return KILN_OK;
}

/* Validates one dictionary entry (a section, or "section:key" with its
 * value) and stores the value in cfg.  Errors name the file (or --set),
 * section and key. */
static kiln_status entry_check(const char *path, const char *entry, const char *value,
                               job_config *cfg, const unsigned char *from_set)
{
    char where[WHERE_MAX], hint[128], name[NAME_MAX_LEN + 1];
    const char *colon = strchr(entry, ':');
    const job_section *section;
    long k;

    if (!value) {   /* a section line: iniparser stores it without a value */
        if (section_find(entry, strlen(entry)))
            return KILN_OK;
        section_suggest(entry, hint, sizeof(hint));
        return kiln_fail(KILN_E_CONFIG, "%s: unknown section [%s]%s", path, entry, hint);
    }
    if (!colon || colon == entry)
        return kiln_fail(KILN_E_CONFIG, "%s: key '%s' is outside any section", path,
                         colon ? colon + 1 : entry);
    section = section_find(entry, (size_t)(colon - entry));
    if (!section)
        return kiln_fail(KILN_E_CONFIG, "%s: unknown section [%.*s]", path,
                         (int)(colon - entry), entry);
    if (strlen(colon + 1) > NAME_MAX_LEN)
        return kiln_fail(KILN_E_CONFIG, "%s: [%s] unknown key '%s'", path,
                         section->name, colon + 1);
    snprintf(name, sizeof(name), "%s", colon + 1);
    k = key_find(section->name, name);
    if (k < 0) {
        key_suggest(section->name, name, hint, sizeof(hint));
        return kiln_fail(KILN_E_CONFIG, "%s: [%s] unknown key '%s'%s", path,
                         section->name, name, hint);
    }
    where_format(path, &job_keys[k], from_set[k], where, sizeof(where));
    return value_parse(&job_keys[k], value, cfg, where);
}

/* Validates every entry of dict, in file order, into cfg. */
static kiln_status dict_check(const char *path, const dictionary *dict, job_config *cfg,
                              const unsigned char *from_set)
{
    for (ssize_t i = 0; i < dict->size; i++) {
        kiln_status st;
        if (!dict->key[i])
            continue;
        st = entry_check(path, dict->key[i], dict->val[i], cfg, from_set);
        if (st != KILN_OK)
            return st;
    }
    return KILN_OK;
}

/* Joins a relative path value to `dir` (dir_len bytes, no trailing slash
 * except for "/") into the key's field; an empty, absolute or
 * "@"-prefixed-absolute value, or an empty dir, leaves it as it is.  A
 * result too long for the field is KILN_E_CONFIG. */
static kiln_status path_resolve(const job_key *key, job_config *cfg, const char *dir,
                                size_t dir_len, const char *where)
{
    char *field = key_field(key, cfg);
    char joined[2 * JOB_PATH_MAX];
    const char *rel = field;
    const char *at = "";

    if (rel[0] == '@') {   /* a list file: "@FILE" */
        at = "@";
        rel++;
    }
    if (rel[0] == '\0' || rel[0] == '/' || dir_len == 0)
        return KILN_OK;
    snprintf(joined, sizeof(joined), "%s%.*s%s%s", at, (int)dir_len, dir,
             dir_len == 1 && dir[0] == '/' ? "" : "/", rel);
    if (strlen(joined) >= key->size)
        return kiln_fail(KILN_E_CONFIG, "%s: '%s' is too long (at most %zu bytes)",
                         where, joined, key->size - 1);
    memcpy(field, joined, strlen(joined) + 1);
    return KILN_OK;
}

/* Whether a file-or-name value names a file: it holds a '/' or ends in
 * ".onnx". */
static int names_file(const char *value)
{
    size_t len = strlen(value);
    return strchr(value, '/') != NULL || (len > 5 && strcmp(value + len - 5, ".onnx") == 0);
}

/* Checks what single values cannot (required keys, [resize] needing a
 * size, the suffix), names the job after its file when job.name is
 * empty, and resolves relative paths from the file against its
 * directory. */
static kiln_status job_finish(job_config *cfg, const unsigned char *from_set)
{
    const char *slash = strrchr(cfg->path, '/');
    size_t dir_len = slash ? (size_t)(slash - cfg->path) : 0;
    char where[WHERE_MAX];

    if (slash && dir_len == 0)
        dir_len = 1;   /* a job file in "/" */
    if (cfg->name[0] == '\0')
        stem_copy(cfg->path, cfg->name, sizeof(cfg->name));
    for (size_t k = 0; k < job_key_count; k++) {
        const job_key *key = &job_keys[k];
        kiln_status st;
        if (key->type != JOB_KEY_PATH && key->type != JOB_KEY_STRING)
            continue;
        if (key->required && ((const char *)key_field(key, cfg))[0] == '\0')
            return kiln_fail(KILN_E_CONFIG, "%s: [%s] %s is required (or --set %s.%s=...)",
                             cfg->path, key->section, key->name, key->section, key->name);
        if (from_set[k] || (key->type != JOB_KEY_PATH &&
                            !(key->file_or_name && names_file(key_field(key, cfg)))))
            continue;
        where_format(cfg->path, key, 0, where, sizeof(where));
        st = path_resolve(key, cfg, cfg->path, dir_len, where);
        if (st != KILN_OK)
            return st;
    }
    if (cfg->resize.enabled && cfg->resize.width == 0 && cfg->resize.height == 0 &&
        cfg->resize.max_side == 0)
        return kiln_fail(KILN_E_CONFIG, "%s: [resize] enabled needs width, height or "
                         "max_side (all are 0)", cfg->path);
    /* a batch reads each mask from a directory; images in memory ("-":
       kiln refine, kiln_pipeline_run) come with theirs */
    if (cfg->refine.enabled && !cfg->segment.enabled && cfg->refine.masks[0] == '\0' &&
        cfg->refine.trimaps[0] == '\0' && strcmp(cfg->inputs, "-") != 0)
        return kiln_fail(KILN_E_CONFIG, "%s: [refine] enabled needs masks or trimaps "
                         "(a directory of mask or trimap files), or [segment] enabled",
                         cfg->path);
    if (cfg->refine.enabled && cfg->segment.enabled &&
        (cfg->refine.masks[0] != '\0' || cfg->refine.trimaps[0] != '\0'))
        return kiln_fail(KILN_E_CONFIG, "%s: [refine] masks/trimaps and [segment] enabled "
                         "both give the mask: choose one", cfg->path);
    if (cfg->segment.enabled && cfg->segment.model[0] == '\0')
        return kiln_fail(KILN_E_CONFIG, "%s: [segment] model is empty", cfg->path);

    if (cfg->train.enabled && (cfg->splat.enabled || cfg->refine.enabled ||
                               cfg->resize.enabled || cfg->composite.enabled))
        return kiln_fail(KILN_E_CONFIG, "%s: [train] trains datasets; only [segment] (masks of "
                         "their images) may run in the same job", cfg->path);
    if (cfg->train.enabled && cfg->segment.enabled && cfg->train.masks[0])
        return kiln_fail(KILN_E_CONFIG, "%s: [train] masks and [segment] enabled both give the "
                         "masks: choose one", cfg->path);
    if (cfg->splat.enabled) {
        int sources = (cfg->splat.cameras[0] != '\0') + (cfg->splat.scene_cameras[0] != '\0') +
                      (cfg->splat.orbit_frames > 0);
        if (cfg->segment.enabled || cfg->refine.enabled)
            return kiln_fail(KILN_E_CONFIG, "%s: [splat] renders scenes, [segment] and [refine] "
                             "take images: enable one of them", cfg->path);
        if (sources != 1)
            return kiln_fail(KILN_E_CONFIG, "%s: [splat] needs one camera source: cameras, "
                             "scene_cameras or orbit_frames (%d given)", cfg->path, sources);
        /* a batch writes PNGs; kiln splat render may write floats */
        if (cfg->splat.output == SPLAT_JOB_DEPTH && cfg->output.bit_depth != 16 &&
            strcmp(cfg->inputs, "-") != 0)
            return kiln_fail(KILN_E_CONFIG, "%s: [splat] output = depth needs [output] "
                             "bit_depth = 16", cfg->path);
        if (strspn(cfg->splat.views, "0123456789, ") != strlen(cfg->splat.views))
            return kiln_fail(KILN_E_CONFIG, "%s: [splat] views: '%s' is not a list of view "
                             "indices", cfg->path, cfg->splat.views);
    }
    if (cfg->refine.bg_threshold > cfg->refine.fg_threshold)
        return kiln_fail(KILN_E_CONFIG, "%s: [refine] background_threshold (%llu) is above "
                         "foreground_threshold (%llu)", cfg->path,
                         (unsigned long long)cfg->refine.bg_threshold,
                         (unsigned long long)cfg->refine.fg_threshold);
    if (strchr(cfg->refine.mask_suffix, '/'))
        return kiln_fail(KILN_E_CONFIG, "%s: [refine] mask_suffix: '%s' must not contain '/'",
                         cfg->path, cfg->refine.mask_suffix);
    if (strchr(cfg->output.suffix, '/'))
        return kiln_fail(KILN_E_CONFIG, "%s: [output] suffix: '%s' must not contain '/'",
                         cfg->path, cfg->output.suffix);
    return KILN_OK;
}

/* Loads, overrides and validates a job file; see job.h. */
kiln_status job_load(const char *path, const char *const *sets, size_t nsets,
                     job_config *out)
{
    dictionary *dict = NULL;
    unsigned char *from_set = NULL;
    job_config cfg;
    kiln_status st;

    if (!out || (nsets > 0 && !sets))
        return kiln_fail(KILN_E_INVAL, "job_load: NULL argument");
    if (path) {
        st = job_file_check(path);
        if (st != KILN_OK)
            return st;
        st = job_file_parse(path, &dict);
        if (st != KILN_OK)
            return st;
    } else {
        dict = dictionary_new(0);
        if (!dict)
            return kiln_fail(KILN_E_HOSTMEM, "command line: out of memory");
        path = "command line";
    }
    from_set = kiln_calloc(job_key_count, sizeof(*from_set));
    if (!from_set) {
        st = kiln_fail(KILN_E_HOSTMEM, "%s: out of memory", path);
        goto out_free_dict;
    }
    for (size_t i = 0; i < nsets; i++) {
        st = set_apply(dict, sets[i], from_set);
        if (st != KILN_OK)
            goto out_free_from_set;
    }
    job_defaults(&cfg, path);
    cfg.name[0] = '\0';   /* named after the file unless the job says */
    st = dict_check(path, dict, &cfg, from_set);
    if (st != KILN_OK)
        goto out_free_from_set;
    st = job_finish(&cfg, from_set);
    if (st != KILN_OK)
        goto out_free_from_set;
    *out = cfg;
out_free_from_set:
    kiln_free(from_set);
out_free_dict:
    iniparser_freedict(dict);
    return st;
}

/* Writes key's type and range for the reference ("integer 0..65536"). */
static void key_describe(const job_key *key, char *buf, size_t len)
{
    char lo[32], hi[32];
    size_t used;

    bound_format(key, key->min, lo, sizeof(lo));
    bound_format(key, key->max, hi, sizeof(hi));
    switch (key->type) {
    case JOB_KEY_STRING:
        snprintf(buf, len, "string, at most %zu bytes", key->size - 1);
        break;
    case JOB_KEY_PATH:
        snprintf(buf, len, "path, relative to the job file's directory");
        break;
    case JOB_KEY_BOOL:
        snprintf(buf, len, "boolean");
        break;
    case JOB_KEY_INT:
        if (!key->allowed) {
            snprintf(buf, len, "integer %s..%s", lo, hi);
            break;
        }
        snprintf(buf, len, "integer, one of ");
        for (size_t i = 0; i < key->nallowed; i++) {
            used = strlen(buf);
            snprintf(buf + used, len - used, "%s%llu", i ? ", " : "",
                     (unsigned long long)key->allowed[i]);
        }
        break;
    case JOB_KEY_SIZE:
        snprintf(buf, len, "size %s..%s", lo, hi);
        break;
    case JOB_KEY_SIZE_AUTO:
        snprintf(buf, len, "size %s..%s, or auto (0)", lo, hi);
        break;
    case JOB_KEY_ENUM:
        snprintf(buf, len, "one of ");
        for (size_t i = 0; i < key->nnames; i++) {
            used = strlen(buf);
            snprintf(buf + used, len - used, "%s%s", i ? ", " : "", key->names[i].name);
        }
        break;
    case JOB_KEY_COLOUR:
        snprintf(buf, len, "colour \"#rrggbb\"");
        break;
    case JOB_KEY_FLOAT:
        snprintf(buf, len, "number %g..%g", key->fmin, key->fmax);
        break;
    case JOB_KEY_FLOAT3:
        snprintf(buf, len, "three numbers %g..%g, or empty", key->fmin, key->fmax);
        break;
    default:
        snprintf(buf, len, "?");
        break;
    }
}

/* Writes the reference INI: every section and key, each preceded by a
 * comment with its type, range, default and documentation, set to its
 * default (required keys empty). */
void job_write_reference(FILE *out)
{
    fputs("# kiln job file reference: every section and key, with its type, range,\n"
          "# default and meaning.  Generated from engine/job_keys.c by\n"
          "# job_write_reference (kiln config --reference); do not edit by hand.\n"
          "#\n"
          "# Section and key names are case-insensitive.  Booleans: true/false,\n"
          "# yes/no, on/off, 1/0.  Sizes: bytes, or with a K, M, G or T suffix\n"
          "# (powers of 1024: 256M).  '#' and ';' start comments, so quote values\n"
          "# holding them (colour = \"#ffffff\").  Relative paths are taken from the\n"
          "# job file's directory.  On the command line, --set section.key=value\n"
          "# overrides a key (a relative path there is taken from the current\n"
          "# directory).  Unknown sections or keys are errors.\n", out);
    for (size_t s = 0; s < job_section_count; s++) {
        const char *section = job_sections[s].name;
        fprintf(out, "\n[%s]\n# %s\n", section, job_sections[s].doc);
        for (size_t k = 0; k < job_key_count; k++) {
            const job_key *key = &job_keys[k];
            char type[256], value[256];
            int quoted;
            if (strcmp(key->section, section) != 0)
                continue;
            key_describe(key, type, sizeof(type));
            quoted = key->type == JOB_KEY_STRING || key->type == JOB_KEY_PATH ||
                     key->type == JOB_KEY_COLOUR;
            snprintf(value, sizeof(value), "%s%s%s", quoted ? "\"" : "",
                     key->default_text, quoted ? "\"" : "");
            fprintf(out, "\n# %s: %s; %s%s\n#   %s\n%s = %s\n", key->name, type,
                    key->required ? "required" : "default ",
                    key->required ? "" : value, key->doc, key->name, value);
        }
    }
}
