/* Checks of a job file's text before iniparser reads it (see
 * job_scan.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "host_alloc.h"
#include "job_scan.h"
#include "status.h"

#define SCAN_NAME_MAX 128    /* section and key names kept for duplicates */
#define SCAN_NAMES_MAX 1024  /* keys of one file */

/* A section or a key seen, with its line, for the duplicate check. */
typedef struct scan_name {
    char section[SCAN_NAME_MAX];
    char key[SCAN_NAME_MAX];
    unsigned line;
} scan_name;

typedef struct job_scanner {
    const char *path;
    scan_name *names;
    size_t nnames;
    char section[SCAN_NAME_MAX];
} job_scanner;

/* Copies [from, to) lower-cased and trimmed into out (size SCAN_NAME_MAX,
 * truncated). */
static void name_copy(const char *from, const char *to, char *out)
{
    size_t n = 0;
    while (from < to && isspace((unsigned char)*from))
        from++;
    while (to > from && isspace((unsigned char)to[-1]))
        to--;
    for (; from < to && n + 1 < SCAN_NAME_MAX; from++)
        out[n++] = (char)tolower((unsigned char)*from);
    out[n] = '\0';
}

/* Records a key of the current section, refusing one seen before. */
static kiln_status name_add(job_scanner *s, const char *key, unsigned line)
{
    for (size_t i = 0; i < s->nnames; i++) {
        const scan_name *n = &s->names[i];
        if (strcmp(n->section, s->section) != 0 || strcmp(n->key, key) != 0)
            continue;
        return kiln_fail(KILN_E_CONFIG, "%s: line %u: [%s] %s appears again (first at line "
                         "%u): give each key once", s->path, line, s->section, key, n->line);
    }
    if (s->nnames == SCAN_NAMES_MAX)
        return kiln_fail(KILN_E_CONFIG, "%s: line %u: more than %d keys", s->path,
                         line, SCAN_NAMES_MAX);
    snprintf(s->names[s->nnames].section, SCAN_NAME_MAX, "%s", s->section);
    snprintf(s->names[s->nnames].key, SCAN_NAME_MAX, "%s", key);
    s->names[s->nnames].line = line;
    s->nnames++;
    return KILN_OK;
}

/* Checks a value's quoting: a value that opens a quote closes it, and
 * only a comment may follow the closing quote. */
static kiln_status value_check(const job_scanner *s, const char *v, const char *end,
                               unsigned line)
{
    const char *close;
    char quote;

    while (v < end && isspace((unsigned char)*v))
        v++;
    if (v == end || (*v != '"' && *v != '\''))
        return KILN_OK;
    quote = *v;
    close = memchr(v + 1, quote, (size_t)(end - v - 1));
    if (!close)
        return kiln_fail(KILN_E_CONFIG, "%s: line %u: unterminated quote (%c)", s->path, line,
                         quote);
    for (close++; close < end && isspace((unsigned char)*close); close++)
        ;
    if (close < end && *close != ';' && *close != '#')
        return kiln_fail(KILN_E_CONFIG, "%s: line %u: text after the closing quote: '%.*s'",
                         s->path, line, (int)(end - close), close);
    return KILN_OK;
}

/* Checks one line (without its newline). */
static kiln_status line_check(job_scanner *s, const char *line, const char *end, unsigned no)
{
    const char *p = line, *eq;
    char key[SCAN_NAME_MAX];

    while (p < end && isspace((unsigned char)*p))
        p++;
    if (p == end || *p == ';' || *p == '#')
        return KILN_OK;
    if (*p == '[') {
        const char *close = memchr(p, ']', (size_t)(end - p));
        if (!close)
            return KILN_OK;   /* iniparser reports it as a syntax error */
        /* a section may be opened again: its keys merge, none is lost */
        name_copy(p + 1, close, s->section);
        return KILN_OK;
    }
    eq = memchr(p, '=', (size_t)(end - p));
    if (!eq)
        return KILN_OK;       /* iniparser's syntax error */
    name_copy(p, eq, key);
    if (key[0] == '\0')
        return KILN_OK;
    {
        kiln_status st = name_add(s, key, no);
        if (st != KILN_OK)
            return st;
    }
    return value_check(s, eq + 1, end, no);
}

/* Reads the whole file into a malloc'd buffer. */
static kiln_status file_slurp(const char *path, char **text, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    size_t n;

    *text = NULL;
    if (!fp)
        return kiln_fail(KILN_E_IO, "%s: cannot read: %s", path, strerror(errno));
    *text = kiln_malloc(JOB_FILE_MAX + 1);
    if (!*text) {
        fclose(fp);
        return kiln_fail(KILN_E_HOSTMEM, "%s: out of host memory", path);
    }
    n = fread(*text, 1, JOB_FILE_MAX + 1, fp);
    if (ferror(fp) || n > JOB_FILE_MAX) {
        int err = ferror(fp) ? errno : 0;
        fclose(fp);
        kiln_free(*text);
        *text = NULL;
        return err ? kiln_fail(KILN_E_IO, "%s: cannot read: %s", path, strerror(err))
                   : kiln_fail(KILN_E_CONFIG, "%s: larger than %zu bytes: not a job file", path,
                               JOB_FILE_MAX);
    }
    fclose(fp);
    *len = n;
    return KILN_OK;
}

/* Scans the file and hands the text over in a memory file. */
kiln_status job_scan(const char *path, int *fd, char *parse_path, size_t parse_len)
{
    job_scanner s = { path, NULL, 0, "" };
    char *text = NULL;
    const char *p, *end;
    size_t len = 0, skip = 0;
    unsigned line = 1;
    kiln_status st;

    *fd = -1;
    st = file_slurp(path, &text, &len);
    if (st != KILN_OK)
        return st;
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        skip = 3;   /* a UTF-8 byte-order mark, as some editors write */
    if (memchr(text, '\0', len)) {
        const char *nul = memchr(text, '\0', len);
        for (const char *c = text; c < nul; c++)
            line += *c == '\n';
        st = kiln_fail(KILN_E_CONFIG, "%s: line %u: a NUL byte: not a text file", path, line);
        goto out_free_text;
    }
    s.names = kiln_calloc(SCAN_NAMES_MAX, sizeof(*s.names));
    if (!s.names) {
        st = kiln_fail(KILN_E_HOSTMEM, "%s: out of host memory", path);
        goto out_free_text;
    }
    end = text + len;
    for (p = text + skip; p < end && st == KILN_OK; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        st = line_check(&s, p, stop > p && stop[-1] == '\r' ? stop - 1 : stop, line);
        p = nl ? nl + 1 : end;
    }
    if (st != KILN_OK)
        goto out_free_names;
    *fd = memfd_create("kiln-job", MFD_CLOEXEC);
    if (*fd < 0 || write(*fd, text + skip, len - skip) != (ssize_t)(len - skip)) {
        st = kiln_fail(KILN_E_IO, "%s: cannot hand the file to the parser: %s", path,
                       strerror(errno));
        if (*fd >= 0)
            close(*fd);
        *fd = -1;
        goto out_free_names;
    }
    snprintf(parse_path, parse_len, "/proc/self/fd/%d", *fd);
out_free_names:
    kiln_free(s.names);
out_free_text:
    kiln_free(text);
    return st;
}
