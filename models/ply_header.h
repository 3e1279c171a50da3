/* The header of a binary little-endian PLY file: its elements and their
 * properties, parsed from memory, with every count checked.  Only the
 * header is read here; the element data is the caller's (splat_ply.c).
 *
 * Accepted: "ply" (LF or CRLF line ends), one "format binary_little_endian
 * 1.0" line, "comment" and "obj_info" lines, "element NAME COUNT",
 * "property TYPE NAME", "property list COUNT_TYPE ITEM_TYPE NAME" and
 * "end_header", within PLY_HEADER_MAX bytes.  Types: char uchar short
 * ushort int uint float double and the int8 uint8 int16 uint16 int32
 * uint32 float32 float64 aliases.  Refused (KILN_E_FORMAT naming the file
 * and the line): ASCII and big-endian formats, a missing or repeated
 * format line, unknown keywords or types, a property before any element,
 * a count that does not fit 64 bits, no end_header within the cap. */
#ifndef KILN_PLY_HEADER_H
#define KILN_PLY_HEADER_H

#include <stddef.h>
#include <stdint.h>

#include "kiln.h"

#define PLY_HEADER_MAX ((size_t)64 * 1024)

/* A PLY scalar type; PLY_NONE marks "not a list" in a property. */
typedef enum ply_type {
    PLY_NONE = 0,
    PLY_I8,
    PLY_U8,
    PLY_I16,
    PLY_U16,
    PLY_I32,
    PLY_U32,
    PLY_F32,
    PLY_F64,
    PLY_TYPE_COUNT
} ply_type;

/* One property.  `name` points into the parsed buffer (not terminated). */
typedef struct ply_property {
    const char *name;
    size_t name_len;
    ply_type type;          /* the scalar type, or a list's item type */
    ply_type list_count;    /* a list's count type; PLY_NONE for a scalar */
} ply_property;

/* One element: `count` rows of properties first_prop .. first_prop +
 * n_props - 1 of the header's property array. */
typedef struct ply_element {
    const char *name;
    size_t name_len;
    uint64_t count;
    size_t first_prop;
    size_t n_props;
} ply_element;

/* A parsed header.  `size` is the byte offset of the element data (just
 * after the end_header line). */
typedef struct ply_header {
    size_t size;
    ply_element *elements;
    size_t n_elements;
    ply_property *props;
    size_t n_props;
} ply_header;

/* Parses the header at the start of data[0..len) into *hdr; `name` is the
 * file name for messages.  KILN_E_FORMAT as listed above, KILN_E_HOSTMEM
 * when the arrays cannot be allocated.  On error *hdr is zeroed; on
 * success release it with ply_header_free.  Names in *hdr point into
 * `data`, which must outlive it. */
kiln_status ply_header_parse(const void *data, size_t len, const char *name, ply_header *hdr);

/* Releases a header's arrays and zeroes it; safe on a zeroed header. */
void ply_header_free(ply_header *hdr);

/* Bytes of one value of a scalar type (0 for PLY_NONE). */
size_t ply_type_size(ply_type type);

/* The canonical name of a type ("float", "uchar"...). */
const char *ply_type_name(ply_type type);

/* Whether property `p` is named exactly `s` (NUL-terminated). */
int ply_property_is(const ply_property *p, const char *s);

#endif
