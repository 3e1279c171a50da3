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

/* Averages n x n blocks (see image.h). */
kiln_status host_image_reduce(const host_image *in, uint32_t n, host_image *out)
{
    uint32_t w = n ? in->width / n : 0, h = n ? in->height / n : 0, ch = in->channels;
    int wide = in->bit_depth == 16;
    kiln_status st;

    memset(out, 0, sizeof(*out));
    if (w == 0 || h == 0)
        return kiln_fail(KILN_E_INVAL, "reducing a %ux%u image %u times leaves nothing",
                         in->width, in->height, n);
    st = host_image_alloc(out, w, h, ch, in->bit_depth);
    if (st != KILN_OK)
        return st;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            for (uint32_t c = 0; c < ch; c++) {
                uint64_t sum = 0;
                for (uint32_t dy = 0; dy < n; dy++)
                    for (uint32_t dx = 0; dx < n; dx++) {
                        size_t i = ((size_t)(y * n + dy) * in->width + x * n + dx) * ch + c;
                        sum += wide ? ((const uint16_t *)in->pixels)[i]
                                    : ((const uint8_t *)in->pixels)[i];
                    }
                uint64_t v = (sum + (uint64_t)n * n / 2) / ((uint64_t)n * n);
                size_t o = ((size_t)y * w + x) * ch + c;
                if (wide)
                    ((uint16_t *)out->pixels)[o] = (uint16_t)v;
                else
                    ((uint8_t *)out->pixels)[o] = (uint8_t)v;
            }
    return KILN_OK;
}
