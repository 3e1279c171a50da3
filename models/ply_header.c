/* PLY header parsing (see ply_header.h). */
#include <string.h>

#include "host_alloc.h"
#include "ply_header.h"
#include "status.h"

#define TOKENS_MAX 6

/* One header line split into blank-separated tokens. */
typedef struct line_tokens {
    const char *tok[TOKENS_MAX];
    size_t len[TOKENS_MAX];
    size_t n;           /* tokens found, at most TOKENS_MAX */
    int more;           /* non-zero when the line had more than TOKENS_MAX */
} line_tokens;

/* Type names, canonical first, then the aliases. */
static const struct {
    const char *name;
    ply_type type;
} type_names[] = {
    { "char", PLY_I8 },     { "uchar", PLY_U8 },    { "short", PLY_I16 },
    { "ushort", PLY_U16 },  { "int", PLY_I32 },     { "uint", PLY_U32 },
    { "float", PLY_F32 },   { "double", PLY_F64 },  { "int8", PLY_I8 },
    { "uint8", PLY_U8 },    { "int16", PLY_I16 },   { "uint16", PLY_U16 },
    { "int32", PLY_I32 },   { "uint32", PLY_U32 },  { "float32", PLY_F32 },
    { "float64", PLY_F64 },
};

/* Bytes of a scalar type; 0 for PLY_NONE. */
size_t ply_type_size(ply_type type)
{
    static const size_t sizes[PLY_TYPE_COUNT] = { 0, 1, 1, 2, 2, 4, 4, 4, 8 };

    return (unsigned)type < PLY_TYPE_COUNT ? sizes[type] : 0;
}

/* The canonical name of a type ("none" for PLY_NONE). */
const char *ply_type_name(ply_type type)
{
    for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
        if (type_names[i].type == type)
            return type_names[i].name;
    return "none";
}

/* Whether the property is named exactly s. */
int ply_property_is(const ply_property *p, const char *s)
{
    size_t n = strlen(s);

    return p->name_len == n && memcmp(p->name, s, n) == 0;
}

/* Whether token i of t equals the NUL-terminated word s. */
static int token_is(const line_tokens *t, size_t i, const char *s)
{
    size_t n = strlen(s);

    return i < t->n && t->len[i] == n && memcmp(t->tok[i], s, n) == 0;
}

/* Splits line [s, e) at blanks (spaces and tabs) into *t. */
static void line_split(const char *s, const char *e, line_tokens *t)
{
    memset(t, 0, sizeof(*t));
    while (s < e) {
        const char *b;

        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        if (s == e)
            break;
        b = s;
        while (s < e && *s != ' ' && *s != '\t')
            s++;
        if (t->n == TOKENS_MAX) {
            t->more = 1;
            break;
        }
        t->tok[t->n] = b;
        t->len[t->n] = (size_t)(s - b);
        t->n++;
    }
}

/* Copies token i of t into buf (size bytes) for a message: at most 40
 * characters, bytes outside printable ASCII shown as '?'. */
static const char *token_show(const line_tokens *t, size_t i, char *buf, size_t size)
{
    size_t n = i < t->n ? t->len[i] : 0, k;

    if (n > 40)
        n = 40;
    if (n > size - 1)
        n = size - 1;
    for (k = 0; k < n; k++) {
        unsigned char c = (unsigned char)t->tok[i][k];
        buf[k] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    buf[k] = '\0';
    return buf;
}

/* The type named by token i of t, or PLY_NONE when it names none. */
static ply_type token_type(const line_tokens *t, size_t i)
{
    for (size_t k = 0; k < sizeof(type_names) / sizeof(type_names[0]); k++)
        if (token_is(t, i, type_names[k].name))
            return type_names[k].type;
    return PLY_NONE;
}

/* Parses token i of t as a decimal count into *out; -1 when it is not
 * all digits or does not fit 64 bits. */
static int token_count(const line_tokens *t, size_t i, uint64_t *out)
{
    uint64_t v = 0;

    if (i >= t->n || t->len[i] == 0 || t->len[i] > 20)
        return -1;
    for (size_t k = 0; k < t->len[i]; k++) {
        unsigned d = (unsigned)(unsigned char)t->tok[i][k] - '0';
        if (d > 9 || v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* The end of the line starting at s within [s, end): the position of its
 * '\n', or NULL when there is none. */
static const char *line_end(const char *s, const char *end)
{
    return memchr(s, '\n', (size_t)(end - s));
}

/* Whether line [s, e) (its '\r' excluded) is exactly `word`. */
static int line_is(const char *s, const char *e, const char *word)
{
    size_t n = strlen(word);

    if (e > s && e[-1] == '\r')
        e--;
    return (size_t)(e - s) == n && memcmp(s, word, n) == 0;
}

/* Finds the end_header line: sets *size to the offset just past it and
 * *lines to the number of header lines.  KILN_E_FORMAT when the data does
 * not start with "ply" or has no end_header within PLY_HEADER_MAX. */
static kiln_status header_locate(const char *data, size_t len, const char *name, size_t *size,
                                 size_t *lines)
{
    const char *end = data + (len < PLY_HEADER_MAX ? len : PLY_HEADER_MAX);
    const char *s = data, *e = line_end(s, end);
    size_t n = 1;

    if (!e || !line_is(s, e, "ply"))
        return kiln_fail(KILN_E_FORMAT, "%s: not a PLY file (no \"ply\" first line)", name);
    for (s = e + 1; s < end; s = e + 1, n++) {
        e = line_end(s, end);
        if (!e)
            break;
        if (line_is(s, e, "end_header")) {
            *size = (size_t)(e + 1 - data);
            *lines = n + 1;
            return KILN_OK;
        }
    }
    if (len > PLY_HEADER_MAX)
        return kiln_fail(KILN_E_FORMAT, "%s: PLY header has no end_header within its first %zu bytes",
                         name, PLY_HEADER_MAX);
    return kiln_fail(KILN_E_FORMAT, "%s: PLY header has no end_header (truncated file?)", name);
}

/* Applies a "format" line.  KILN_E_FORMAT for anything but binary
 * little-endian 1.0 or a second format line. */
static kiln_status format_apply(const line_tokens *t, const char *name, size_t line, int *seen)
{
    char shown[48];

    if (*seen)
        return kiln_fail(KILN_E_FORMAT, "%s: PLY header line %zu: a second format line", name, line);
    *seen = 1;
    if (token_is(t, 1, "ascii"))
        return kiln_fail(KILN_E_FORMAT,
                         "%s: ASCII PLY is not supported (binary_little_endian only)", name);
    if (token_is(t, 1, "binary_big_endian"))
        return kiln_fail(KILN_E_FORMAT,
                         "%s: big-endian PLY is not supported (binary_little_endian only)", name);
    if (!token_is(t, 1, "binary_little_endian") || t->n != 3 || t->more)
        return kiln_fail(KILN_E_FORMAT, "%s: PLY header line %zu: unknown format \"%s\"", name,
                         line, token_show(t, 1, shown, sizeof(shown)));
    if (!token_is(t, 2, "1.0"))
        return kiln_fail(KILN_E_FORMAT, "%s: PLY format version \"%s\" is not 1.0", name,
                         token_show(t, 2, shown, sizeof(shown)));
    return KILN_OK;
}

/* Applies an "element" or "property" line to *hdr (whose arrays hold
 * room for every header line). */
static kiln_status declaration_apply(const line_tokens *t, const char *name, size_t line,
                                     ply_header *hdr)
{
    char shown[48];

    if (token_is(t, 0, "element")) {
        ply_element *el = &hdr->elements[hdr->n_elements];

        if (t->n != 3 || t->more)
            return kiln_fail(KILN_E_FORMAT,
                             "%s: PLY header line %zu: element needs a name and a count", name, line);
        if (token_count(t, 2, &el->count) != 0)
            return kiln_fail(KILN_E_FORMAT, "%s: PLY header line %zu: bad element count \"%s\"",
                             name, line, token_show(t, 2, shown, sizeof(shown)));
        el->name = t->tok[1];
        el->name_len = t->len[1];
        el->first_prop = hdr->n_props;
        hdr->n_elements++;
        return KILN_OK;
    }
    /* a property */
    {
        ply_property *p = &hdr->props[hdr->n_props];
        int list = token_is(t, 1, "list");
        size_t want = list ? 5 : 3;

        if (hdr->n_elements == 0)
            return kiln_fail(KILN_E_FORMAT, "%s: PLY header line %zu: a property before any element",
                             name, line);
        if (t->n != want || t->more)
            return kiln_fail(KILN_E_FORMAT, "%s: PLY header line %zu: malformed property line", name,
                             line);
        if (list) {
            p->list_count = token_type(t, 2);
            if (p->list_count == PLY_NONE || p->list_count == PLY_F32 || p->list_count == PLY_F64)
                return kiln_fail(KILN_E_FORMAT,
                                 "%s: PLY header line %zu: bad list count type \"%s\"", name, line,
                                 token_show(t, 2, shown, sizeof(shown)));
        }
        p->type = token_type(t, want - 2);
        if (p->type == PLY_NONE)
            return kiln_fail(KILN_E_FORMAT, "%s: PLY header line %zu: unknown property type \"%s\"",
                             name, line, token_show(t, want - 2, shown, sizeof(shown)));
        p->name = t->tok[want - 1];
        p->name_len = t->len[want - 1];
        hdr->n_props++;
        hdr->elements[hdr->n_elements - 1].n_props++;
        return KILN_OK;
    }
}

/* Parses the header (see ply_header.h). */
kiln_status ply_header_parse(const void *data, size_t len, const char *name, ply_header *hdr)
{
    const char *text = data, *s, *e;
    size_t size = 0, lines = 0, line;
    int format_seen = 0;
    kiln_status st;
    char shown[48];

    memset(hdr, 0, sizeof(*hdr));
    st = header_locate(text, len, name, &size, &lines);
    if (st != KILN_OK)
        return st;
    hdr->elements = kiln_calloc(lines, sizeof(*hdr->elements));
    hdr->props = kiln_calloc(lines, sizeof(*hdr->props));
    if (!hdr->elements || !hdr->props) {
        st = kiln_fail(KILN_E_HOSTMEM, "%s: out of host memory reading the PLY header", name);
        goto out_free_header;
    }
    /* line 1 is "ply"; the last is end_header */
    s = (const char *)memchr(text, '\n', size) + 1;
    for (line = 2; line < lines; line++, s = e + 1) {
        line_tokens t;

        e = memchr(s, '\n', (size_t)(text + size - s));
        line_split(s, e > s && e[-1] == '\r' ? e - 1 : e, &t);
        if (token_is(&t, 0, "comment") || token_is(&t, 0, "obj_info"))
            continue;
        if (token_is(&t, 0, "format"))
            st = format_apply(&t, name, line, &format_seen);
        else if (token_is(&t, 0, "element") || token_is(&t, 0, "property"))
            st = format_seen ? declaration_apply(&t, name, line, hdr)
                             : kiln_fail(KILN_E_FORMAT,
                                         "%s: PLY header line %zu: a declaration before the format line",
                                         name, line);
        else if (t.n == 0)
            st = kiln_fail(KILN_E_FORMAT, "%s: PLY header line %zu: an empty line", name, line);
        else
            st = kiln_fail(KILN_E_FORMAT, "%s: PLY header line %zu: unknown keyword \"%s\"", name,
                           line, token_show(&t, 0, shown, sizeof(shown)));
        if (st != KILN_OK)
            goto out_free_header;
    }
    if (!format_seen) {
        st = kiln_fail(KILN_E_FORMAT, "%s: PLY header has no format line", name);
        goto out_free_header;
    }
    hdr->size = size;
    return KILN_OK;

out_free_header:
    ply_header_free(hdr);
    return st;
}

/* Releases a header's arrays. */
void ply_header_free(ply_header *hdr)
{
    kiln_free(hdr->elements);
    kiln_free(hdr->props);
    memset(hdr, 0, sizeof(*hdr));
}
