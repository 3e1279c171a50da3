/* Scene files built in memory for the splat tests (splat_build.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "splat_build.h"

/* Appends n bytes, growing the buffer. */
void bb_put(byte_buf *b, const void *d, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) {
            fprintf(stderr, "splat_build: out of memory\n");
            exit(1);
        }
        b->p = p;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, d, n);
    b->len += n;
}

/* Appends a string without its NUL. */
void bb_text(byte_buf *b, const char *s)
{
    bb_put(b, s, strlen(s));
}

/* Appends the n low bytes of u, little-endian. */
static void bb_le(byte_buf *b, uint64_t u, size_t n)
{
    unsigned char t[8];

    for (size_t i = 0; i < n; i++)
        t[i] = (unsigned char)(u >> (8 * i));
    bb_put(b, t, n);
}

/* Appends one value of a PLY type. */
void bb_scalar(byte_buf *b, const char *type, double v)
{
    if (!strcmp(type, "float") || !strcmp(type, "float32")) {
        float f = (float)v;
        uint32_t u;
        memcpy(&u, &f, sizeof(u));
        bb_le(b, u, 4);
    } else if (!strcmp(type, "double") || !strcmp(type, "float64")) {
        uint64_t u;
        memcpy(&u, &v, sizeof(u));
        bb_le(b, u, 8);
    } else if (!strcmp(type, "char") || !strcmp(type, "int8") || !strcmp(type, "uchar") ||
               !strcmp(type, "uint8")) {
        bb_le(b, (uint64_t)(int64_t)v, 1);
    } else if (!strcmp(type, "short") || !strcmp(type, "int16") || !strcmp(type, "ushort") ||
               !strcmp(type, "uint16")) {
        bb_le(b, (uint64_t)(int64_t)v, 2);
    } else {
        bb_le(b, (uint64_t)(int64_t)v, 4);
    }
}

/* Frees the buffer. */
void bb_free(byte_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

/* The canonical names of a degree. */
size_t splat_names_canonical(uint32_t degree, char names[][32])
{
    static const char *head[] = { "x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2" };
    static const char *tail[] = { "opacity", "scale_0", "scale_1", "scale_2",
                                  "rot_0", "rot_1", "rot_2", "rot_3" };
    size_t n = 0, rest = 3 * ((size_t)(degree + 1) * (degree + 1) - 1);

    for (size_t i = 0; i < 9; i++)
        snprintf(names[n++], 32, "%s", head[i]);
    for (size_t j = 0; j < rest; j++)
        snprintf(names[n++], 32, "f_rest_%zu", j);
    for (size_t i = 0; i < 8; i++)
        snprintf(names[n++], 32, "%s", tail[i]);
    return n;
}

/* A value per (row, name): a multiple of 1/64 below 2^10. */
double splat_value(size_t row, const char *name)
{
    uint32_t h = 2166136261u;

    for (const char *s = name; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return ((double)((h + 977u * (uint32_t)row) % 8192u) - 4096.0) / 64.0;
}

/* Appends a PLY (see splat_build.h). */
void ply_build(byte_buf *b, const prop_spec *props, size_t n_props, size_t count,
               const char *pre_header, const void *pre_data, size_t pre_len,
               const char *post_header, const void *post_data, size_t post_len)
{
    char line[128];

    bb_text(b, "ply\nformat binary_little_endian 1.0\n");
    if (pre_header)
        bb_text(b, pre_header);
    snprintf(line, sizeof(line), "element vertex %zu\n", count);
    bb_text(b, line);
    for (size_t i = 0; i < n_props; i++) {
        if (props[i].list)
            snprintf(line, sizeof(line), "property list uchar %s %s\n", props[i].type, props[i].name);
        else
            snprintf(line, sizeof(line), "property %s %s\n", props[i].type, props[i].name);
        bb_text(b, line);
    }
    if (post_header)
        bb_text(b, post_header);
    bb_text(b, "end_header\n");
    bb_put(b, pre_data, pre_len);
    for (size_t r = 0; r < count; r++)
        for (size_t i = 0; i < n_props; i++) {
            double v = splat_value(r, props[i].name);
            int integer = strstr(props[i].type, "float") == NULL && strcmp(props[i].type, "double");

            if (integer)
                v = (double)(r % 100);
            if (props[i].list) {
                bb_scalar(b, "uchar", (double)(r % 3));
                for (size_t k = 0; k < r % 3; k++)
                    bb_scalar(b, props[i].type, v);
            } else {
                bb_scalar(b, props[i].type, v);
            }
        }
    bb_put(b, post_data, post_len);
}

/* Appends the canonical PLY of a degree. */
void ply_build_canonical(byte_buf *b, uint32_t degree, size_t count)
{
    char names[62][32];
    prop_spec props[62];
    size_t n = splat_names_canonical(degree, names);

    for (size_t i = 0; i < n; i++) {
        props[i].name = names[i];
        props[i].type = "float";
        props[i].list = 0;
    }
    ply_build(b, props, n, count, NULL, NULL, 0, NULL, NULL, 0);
}

/* Appends one .splat record. */
void dotsplat_record(byte_buf *b, const float pos[3], const float scale[3],
                     const uint8_t rgba[4], const uint8_t rot[4])
{
    for (int i = 0; i < 3; i++)
        bb_scalar(b, "float", pos[i]);
    for (int i = 0; i < 3; i++)
        bb_scalar(b, "float", scale[i]);
    bb_put(b, rgba, 4);
    bb_put(b, rot, 4);
}
