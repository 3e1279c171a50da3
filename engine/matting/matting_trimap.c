/* Trimaps on the device (cl/matting_trimap.cl): rembg's trimap from a
 * mask (thresholds, then a separable square erosion with scipy's
 * binary_erosion conventions), and trimap pixel counts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "launch.h"
#include "host_alloc.h"
#include "matting.h"
#include "status.h"

#define TRIMAP_SOURCE "matting_trimap.cl"

/* Largest erosion square accepted (each pass costs erode_size reads per
 * pixel). */
#define TRIMAP_MAX_ERODE 4096u

/* Checks a one-channel input image; `what` names it in messages. */
static kiln_status gray_check(const dev_image *img, const char *what)
{
    kiln_status st = dev_image_check(img, what);
    if (st != KILN_OK)
        return st;
    if (img->channels != 1)
        return kiln_fail(KILN_E_INVAL, "%s: %u channels, need 1", what,
                         (unsigned)img->channels);
    return KILN_OK;
}

/* Builds rembg's trimap from `mask` (see matting.h): a row pass into a
 * temporary byte image, then a column pass into the output. */
kiln_status op_trimap_from_mask(kiln_device *dev, const dev_image *mask,
                                float fg_threshold, float bg_threshold,
                                uint32_t erode_size, dev_image *trimap)
{
    pool_buffer *rows = NULL;
    cl_uint width, height;
    cl_int lo, hi;
    size_t global;
    kiln_status st;

    if (!trimap)
        return kiln_fail(KILN_E_INVAL, "trimap: NULL output image");
    if (trimap == mask)
        return kiln_fail(KILN_E_INVAL, "trimap: the output must not be the mask");
    memset(trimap, 0, sizeof(*trimap));
    if (!dev)
        return kiln_fail(KILN_E_INVAL, "trimap: NULL device");
    st = gray_check(mask, "trimap: mask");
    if (st != KILN_OK)
        return st;
    if (!isfinite(fg_threshold) || !isfinite(bg_threshold))
        return kiln_fail(KILN_E_INVAL, "trimap: thresholds %g and %g must be finite",
                         (double)fg_threshold, (double)bg_threshold);
    if (erode_size > TRIMAP_MAX_ERODE)
        return kiln_fail(KILN_E_INVAL, "trimap: erode size %u exceeds %u",
                         (unsigned)erode_size, (unsigned)TRIMAP_MAX_ERODE);
    /* scipy's footprint of size s spans offsets -s/2 .. s-1-s/2; size 0
     * (no erosion) is the single offset 0. */
    lo = erode_size ? -(cl_int)(erode_size / 2) : 0;
    hi = erode_size ? (cl_int)(erode_size - 1 - erode_size / 2) : 0;
    width = mask->width;
    height = mask->height;
    global = (size_t)width * height;

    st = dev_image_acquire(dev, width, height, 1, "matting.trimap", trimap);
    if (st != KILN_OK)
        return kiln_fail_context(st, "trimap");
    st = pool_acquire(dev->pool, global, "matting.trimap.scratch", &rows);
    if (st != KILN_OK) {
        rows = NULL;
        kiln_fail_context(st, "trimap: row pass of %ux%u", (unsigned)width,
                          (unsigned)height);
        goto out_release_trimap;
    }
    {
        const dev_kernel_arg args[] = {
            DEV_ARG(mask->buf->mem), DEV_ARG(rows->mem), DEV_ARG(width),
            DEV_ARG(height), DEV_ARG(fg_threshold), DEV_ARG(bg_threshold),
            DEV_ARG(lo), DEV_ARG(hi)
        };
        size_t items = height;
        st = dev_kernel_launch_default(dev, TRIMAP_SOURCE, "trimap_rows", args,
                                       DEV_NARGS(args), 1, &items);
    }
    if (st == KILN_OK) {
        const dev_kernel_arg args[] = {
            DEV_ARG(rows->mem), DEV_ARG(trimap->buf->mem), DEV_ARG(width),
            DEV_ARG(height), DEV_ARG(lo), DEV_ARG(hi)
        };
        size_t items = width;
        st = dev_kernel_launch_default(dev, TRIMAP_SOURCE, "trimap_cols", args,
                                       DEV_NARGS(args), 1, &items);
    }
    /* In-order queue: the column pass has read the rows before any reuse. */
    pool_release(dev->pool, rows);
    if (st == KILN_OK)
        return KILN_OK;
    kiln_fail_context(st, "trimap");
out_release_trimap:
    dev_image_release(dev, trimap);
    return st;
}

/* Counts foreground, background and unknown pixels (see matting.h): one
 * work-item per row writes three counts, summed here. */
kiln_status op_trimap_counts(kiln_device *dev, const dev_image *trimap,
                             size_t *foreground, size_t *background,
                             size_t *unknown)
{
    pool_buffer *counts = NULL;
    cl_uint *host = NULL;
    cl_uint width, height;
    size_t global, bytes, sums[3] = { 0, 0, 0 };
    kiln_status st;

    if (!dev)
        return kiln_fail(KILN_E_INVAL, "trimap counts: NULL device");
    st = gray_check(trimap, "trimap counts: trimap");
    if (st != KILN_OK)
        return st;
    width = trimap->width;
    height = trimap->height;
    bytes = (size_t)height * 3 * sizeof(*host);
    host = kiln_malloc(bytes);
    if (!host)
        return kiln_fail(KILN_E_HOSTMEM, "trimap counts: %zu bytes of host memory", bytes);
    st = pool_acquire(dev->pool, bytes, "matting.trimap.scratch", &counts);
    if (st != KILN_OK) {
        counts = NULL;
        kiln_fail_context(st, "trimap counts");
        goto out_free_host;
    }
    {
        const dev_kernel_arg args[] = {
            DEV_ARG(trimap->buf->mem), DEV_ARG(counts->mem), DEV_ARG(width),
            DEV_ARG(height)
        };
        global = height;
        st = dev_kernel_launch_default(dev, TRIMAP_SOURCE, "trimap_count_rows", args,
                                       DEV_NARGS(args), 1, &global);
    }
    if (st == KILN_OK)
        st = dev_buffer_read(dev, counts->mem, 0, bytes, host,
                             "trimap counts: reading the row counts");
    if (st == KILN_OK) {
        for (size_t i = 0; i < (size_t)height; i++)
            for (int c = 0; c < 3; c++)
                sums[c] += host[3 * i + (size_t)c];
        if (foreground)
            *foreground = sums[0];
        if (background)
            *background = sums[1];
        if (unknown)
            *unknown = sums[2];
    }
    pool_release(dev->pool, counts);
out_free_host:
    kiln_free(host);
    return st;
}
