/* Host images: interleaved 8- or 16-bit samples, 1 to 4 channels. */
#ifndef KILN_HOST_IMAGE_H
#define KILN_HOST_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "kiln.h"

/* Default limit on decoded pixels (width * height) of every reader: 256
 * megapixels. */
#define IMAGE_DEFAULT_MAX_PIXELS ((uint64_t)256 * 1000 * 1000)

/* An interleaved host image: the public kiln_image (kiln.h).  16-bit
 * samples are stored as native-endian uint16_t.  Channels: 1 gray,
 * 2 gray+alpha, 3 RGB, 4 RGBA. */
typedef kiln_image host_image;

/* Bytes held by an image's pixels. */
size_t host_image_bytes(const host_image *img);

/* Allocates pixels for a width x height x channels image at bit_depth
 * (8 or 16), zeroed.  Returns KILN_OK, KILN_E_INVAL or KILN_E_HOSTMEM. */
kiln_status host_image_alloc(host_image *img, uint32_t width, uint32_t height,
                             uint32_t channels, uint32_t bit_depth);

/* Averages n x n blocks of `in` into *out (allocated here; the same
 * channels and bit depth; floor(width / n) x floor(height / n), the
 * remainder cropped), rounding to nearest.  n >= 1; KILN_E_INVAL when
 * the result would be empty; KILN_E_HOSTMEM. */
kiln_status host_image_reduce(const host_image *in, uint32_t n, host_image *out);

/* Frees the pixels and zeroes the struct.  Safe on a zeroed image. */
void host_image_free(host_image *img);

#endif
