/* JPEG decoding through libjpeg-turbo's TurboJPEG API.
 *
 * The decode uses libjpeg's accurate integer IDCT ("islow") and fancy
 * (smooth) chroma upsampling: libjpeg's defaults, which PIL decodes with,
 * so the pixels are those PIL gets from the same libjpeg-turbo build.
 *
 * The EXIF orientation is applied (exif_orient.h): the image comes back
 * upright, with width and height swapped for orientations 5 to 8, as
 * rembg's remove() turns it (ImageOps.exif_transpose) before it
 * segments. */
#ifndef KILN_JPEG_IO_H
#define KILN_JPEG_IO_H

#include <stdint.h>
#include <stdio.h>

#include "image.h"

/* Reads the JPEG `path` into *img: 8-bit gray (1 channel) for a grayscale
 * JPEG, 8-bit RGB (3 channels) for a YCbCr or RGB one.  A header
 * announcing more than max_pixels pixels (0: IMAGE_DEFAULT_MAX_PIXELS) is
 * refused before any pixel memory is allocated (KILN_E_LIMIT).  CMYK and
 * YCCK JPEGs are refused (KILN_E_FORMAT, saying so).  Not a JPEG,
 * truncated or corrupt data, including data libjpeg would only warn about
 * (premature end of data, corrupt entropy data): KILN_E_FORMAT, never a
 * partial image.  Unreadable file: KILN_E_IO.  Messages name the file.  On
 * error *img is left zeroed.  (Named jpeg_read_file/jpeg_read_info so as
 * not to collide with libjpeg's own jpeg_read_header.) */
kiln_status jpeg_read_file(const char *path, uint64_t max_pixels, host_image *img);

/* Reads only as much of `path` as its header needs and returns the shape
 * jpeg_read_file would give (pixels NULL).  Same errors as jpeg_read_file,
 * except that damage after the header is found only when decoding. */
kiln_status jpeg_read_info(const char *path, uint64_t max_pixels, host_image *info);

/* As jpeg_read_file, from the open stream `fp` (read from its position to
 * its end, left open); `name` stands for the file in messages. */
kiln_status jpeg_read_stream(FILE *fp, const char *name, uint64_t max_pixels, host_image *img);

#endif
