/* Float images on disk, for results that 8- or 16-bit samples would
 * round (depth, linear colour):
 *   .f32  the reference layout of ../shared/refdata: "F32I", then uint32
 *         little-endian height, width, channels, then height * width *
 *         channels float32 little-endian, row-major, channels interleaved;
 *   .pfm  Portable Float Map: "PF" (3 channels) or "Pf" (1), width and
 *         height, scale -1 (little-endian), rows bottom to top.
 * Written atomically (atomic_file.h). */
#ifndef KILN_FLOAT_IMAGE_H
#define KILN_FLOAT_IMAGE_H

#include <stdint.h>

#include "kiln.h"

/* Whether `path` names a float image file (.f32 or .pfm, any case). */
int float_image_path(const char *path);

/* Writes planar floats (channels planes of width x height) to `path` in
 * the format its extension names.  A .pfm of other than 1 or 3 channels
 * is KILN_E_INVAL naming the file; I/O errors name it too. */
kiln_status float_image_write(const char *path, const float *planar, uint32_t width,
                              uint32_t height, uint32_t channels);

#endif
