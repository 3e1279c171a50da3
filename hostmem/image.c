/* Host images: allocation and size of interleaved pixel buffers. */
#include <stdlib.h>
#include <string.h>

#include "host_alloc.h"
#include "image.h"
#include "status.h"

/* Returns width*height*channels*(bit_depth/8), or 0 for a NULL image or
 * a product that does not fit in size_t (host_image_alloc refuses those,
 * so an allocated image never reports 0). */
size_t host_image_bytes(const host_image *img)
{
    size_t per_pixel;

    if (!img || img->width == 0 || img->height == 0)
        return 0;
    per_pixel = (size_t)img->channels * (img->bit_depth / 8u);
    if (per_pixel == 0)
        return 0;
    if ((size_t)img->width > SIZE_MAX / img->height ||
        (size_t)img->width * img->height > SIZE_MAX / per_pixel)
        return 0;
    return (size_t)img->width * img->height * per_pixel;
}

/* Validates the shape, then allocates the (zeroed) pixels into *img.  On
 * any error *img is left zeroed and the message says what was wrong. */
kiln_status host_image_alloc(host_image *img, uint32_t width, uint32_t height,
                             uint32_t channels, uint32_t bit_depth)
{
    host_image shape;
    size_t bytes;

    if (!img)
        return kiln_fail(KILN_E_INVAL, "host_image_alloc: NULL image");
    memset(img, 0, sizeof(*img));
    if (width == 0 || height == 0 || channels < 1 || channels > 4 ||
        (bit_depth != 8 && bit_depth != 16))
        return kiln_fail(KILN_E_INVAL,
                         "host_image_alloc: invalid shape %ux%u, %u channels, %u-bit",
                         (unsigned)width, (unsigned)height, (unsigned)channels,
                         (unsigned)bit_depth);
    shape.width = width;
    shape.height = height;
    shape.channels = channels;
    shape.bit_depth = bit_depth;
    shape.pixels = NULL;
    bytes = host_image_bytes(&shape);
    if (bytes == 0)
        return kiln_fail(KILN_E_HOSTMEM,
                         "host_image_alloc: %ux%u x %u channels x %u-bit overflows size_t",
                         (unsigned)width, (unsigned)height, (unsigned)channels,
                         (unsigned)bit_depth);
    shape.pixels = kiln_calloc(1, bytes);
    if (!shape.pixels)
        return kiln_fail(KILN_E_HOSTMEM, "host_image_alloc: out of memory for %zu bytes "
                         "(%ux%u, %u channels, %u-bit)", bytes, (unsigned)width,
                         (unsigned)height, (unsigned)channels, (unsigned)bit_depth);
    *img = shape;
    return KILN_OK;
}

/* Frees the pixels and zeroes the struct; a NULL or zeroed image is a
 * no-op. */
void host_image_free(host_image *img)
{
    if (!img)
        return;
    kiln_free(img->pixels);
    memset(img, 0, sizeof(*img));
}
