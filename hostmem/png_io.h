/* PNG decode and encode through libpng. */
#ifndef KILN_PNG_IO_H
#define KILN_PNG_IO_H

#include <stdint.h>

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

#endif
