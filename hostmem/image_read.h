/* Reading an input image whatever its format: PNG or JPEG, chosen by the
 * file's first bytes (its signature), never by its name, so a PNG named
 * x.jpg reads as the PNG it is. */
#ifndef KILN_IMAGE_READ_H
#define KILN_IMAGE_READ_H

#include <stddef.h>
#include <stdint.h>

#include "image.h"

/* Reads `path` into *img through png_read_file or jpeg_read_file (see
 * png_io.h and jpeg_io.h for the layouts each gives).  max_pixels (0:
 * IMAGE_DEFAULT_MAX_PIXELS) is checked against the header before any
 * pixel memory is allocated (KILN_E_LIMIT).  A file that starts with
 * neither signature: KILN_E_FORMAT "not a PNG or JPEG file"; an empty
 * one: KILN_E_FORMAT; unreadable: KILN_E_IO.  Messages name the file.  On
 * error *img is left zeroed. */
kiln_status image_read_file(const char *path, uint64_t max_pixels, host_image *img);

/* Reads only the header of `path` (png_read_header or jpeg_read_info):
 * the shape image_read_file would return, pixels NULL.  Same errors. */
kiln_status image_read_header(const char *path, uint64_t max_pixels, host_image *info);

/* As image_read_file, from `len` bytes in memory (an uploaded file);
 * `name` stands for the file in messages.  The bytes are only read. */
kiln_status image_read_memory(const void *data, size_t len, const char *name,
                              uint64_t max_pixels, host_image *img);

#endif
