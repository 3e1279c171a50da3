/* Building scene files in memory for the splat tests: a growing byte
 * buffer, Inria PLYs of any property order and types, .splat records. */
#ifndef KILN_SPLAT_BUILD_H
#define KILN_SPLAT_BUILD_H

#include <stddef.h>
#include <stdint.h>

/* A growing buffer (malloc'd; exits on OOM). */
typedef struct byte_buf {
    unsigned char *p;
    size_t len, cap;
} byte_buf;

/* Appends n bytes / a string / one value of PLY type `type` ("float",
 * "uchar", "int16"...), little-endian. */
void bb_put(byte_buf *b, const void *d, size_t n);
void bb_text(byte_buf *b, const char *s);
void bb_scalar(byte_buf *b, const char *type, double v);

/* Frees the buffer and zeroes it. */
void bb_free(byte_buf *b);

/* Writes the canonical property names of SH degree `degree` (x y z nx ny
 * nz f_dc_0..2 f_rest_* opacity scale_0..2 rot_0..3) into names (62
 * entries of 32 bytes); returns how many. */
size_t splat_names_canonical(uint32_t degree, char names[][32]);

/* The deterministic value of property `name` of Gaussian `row`: exactly
 * representable in float32, distinct across names and rows. */
double splat_value(size_t row, const char *name);

/* One vertex property of a built PLY: its name and PLY type; a `list`
 * non-zero makes it "property list uchar TYPE NAME" holding row % 3
 * items. */
typedef struct prop_spec {
    const char *name;
    const char *type;
    int list;
} prop_spec;

/* Appends a PLY: the header ("ply", the format, `pre_header` verbatim
 * when not NULL (element declarations before vertex), "element vertex
 * count", the properties, `post_header` verbatim, "end_header"), then
 * `pre_data` bytes, then the rows with splat_value values (extra
 * properties hold row-derived values too), then `post_data` bytes. */
void ply_build(byte_buf *b, const prop_spec *props, size_t n_props, size_t count,
               const char *pre_header, const void *pre_data, size_t pre_len,
               const char *post_header, const void *post_data, size_t post_len);

/* Appends the canonical float32 PLY of degree `degree` with `count`
 * Gaussians (the layout splat_scene_write_ply writes). */
void ply_build_canonical(byte_buf *b, uint32_t degree, size_t count);

/* Appends one .splat record. */
void dotsplat_record(byte_buf *b, const float pos[3], const float scale[3],
                     const uint8_t rgba[4], const uint8_t rot[4]);

#endif
