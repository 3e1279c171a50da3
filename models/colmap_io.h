/* Reading COLMAP sparse-model files: a little-endian reader over the
 * binary files and a line and token reader over the text files, every
 * failure a KILN_E_FORMAT naming the file (and the line) and what is
 * wrong.  Shared by the camera reader (splat_cameras_colmap.c) and the
 * point reader (splat_points3d.c).  Internal to models/. */
#ifndef KILN_COLMAP_IO_H
#define KILN_COLMAP_IO_H

#include <stddef.h>
#include <stdint.h>

#include "kiln.h"

/* A little-endian reader over a byte range; `file` is for messages. */
typedef struct colmap_bin_reader {
    const unsigned char *p;
    size_t left;
    const char *file;
} colmap_bin_reader;

/* A NUL-terminated copy of a text file, walked line by line. */
typedef struct colmap_text {
    char *buf;
    char *next;        /* start of the next line, NULL at the end */
    size_t line_no;    /* 1-based number of the line last returned */
    const char *file;
} colmap_text;

/* Reads n bytes as a little-endian unsigned integer (n <= 8).  KILN_E_FORMAT
 * "truncated" naming `what` when fewer remain. */
kiln_status colmap_bin_uint(colmap_bin_reader *r, size_t n, const char *what, uint64_t *out);

/* Reads n little-endian IEEE doubles. */
kiln_status colmap_bin_doubles(colmap_bin_reader *r, size_t n, const char *what, double *out);

/* Reads a count and checks that `min_each` bytes per item fit in what
 * remains (so that a corrupt count never sizes an allocation). */
kiln_status colmap_bin_count(colmap_bin_reader *r, size_t min_each, const char *what,
                             size_t *out);

/* Copies `len` bytes of text; a NUL byte inside is an error. */
kiln_status colmap_text_init(colmap_text *t, const char *text, size_t len, const char *file);

/* Returns the next line (without its end, a trailing CR dropped), or
 * NULL at the end of the text; the caller frees t->buf with kiln_free. */
char *colmap_text_line(colmap_text *t);

/* Cuts the next white-space separated token off *s; NULL when none. */
char *colmap_token_next(char **s);

/* Whether a line holds nothing but white space, or is a '#' comment. */
int colmap_line_blank(const char *s, int *comment);

/* Parses token `tok` (what: for the message) as a decimal unsigned
 * integer no greater than max. */
kiln_status colmap_token_uint(const char *tok, uint64_t max, const colmap_text *t,
                              const char *what, uint64_t *out);

/* Parses token `tok` as a finite number. */
kiln_status colmap_token_double(const char *tok, const colmap_text *t, const char *what,
                                double *out);

#endif
