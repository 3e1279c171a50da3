/* PNG decode and encode through libpng. */
#ifndef KILN_PNG_IO_H
#define KILN_PNG_IO_H

#include <stdint.h>
#include <stdio.h>

#include "image.h"

/* Default limit on decoded pixels (width * height): 256 megapixels. */
#define PNG_DEFAULT_MAX_PIXELS IMAGE_DEFAULT_MAX_PIXELS

/* Reads `path` into *img.  Every PNG colour type and bit depth is accepted:
 * 1/2/4/8-bit gray becomes 8-bit gray, 16-bit stays 16-bit; palette becomes
 * RGB, or RGBA when it has tRNS; tRNS on gray/RGB adds an alpha channel;
 * interlaced files are de-interlaced.  A header announcing more than
 * max_pixels pixels (0: PNG_DEFAULT_MAX_PIXELS) is refused before any pixel
 * memory is allocated (KILN_E_LIMIT).  Non-PNG, truncated or corrupt data:
 * KILN_E_FORMAT; unreadable file: KILN_E_IO.  Messages name the file and the
 * problem.  On error *img is left zeroed. */
kiln_status png_read_file(const char *path, uint64_t max_pixels, host_image *img);

/* Reads only the header of `path`: width, height, channels and bit depth
 * as png_read_file would return them.  Same errors as png_read_file. */
kiln_status png_read_header(const char *path, uint64_t max_pixels, host_image *info);

/* Writes `img` (1-4 channels, 8 or 16 bit) to `path` via a temporary file
 * in the same directory that is renamed over `path` only when complete,
 * so `path` either does not exist or is a whole PNG. */
kiln_status png_write_file(const char *path, const host_image *img);

/* As png_read_file, from the open stream `fp` (read from its position,
 * left open); `name` stands for the file in messages. */
kiln_status png_read_stream(FILE *fp, const char *name, uint64_t max_pixels, host_image *img);

/* Encodes `img` exactly as png_write_file does (the same bytes) into a
 * buffer allocated here with malloc (the caller frees it with free(): it
 * may be handed to libraries that free it).  `name` stands for the output
 * in messages.  On error *data is NULL and *len 0. */
kiln_status png_write_memory(const char *name, const host_image *img, unsigned char **data,
                             size_t *len);

#endif
