/* Image operations on the device: resize (cl/image_resize.cl), channel
 * conversions and normalisation (cl/image_convert.cl), compositing
 * (cl/image_composite.cl).  Each op checks its arguments, acquires its
 * output from the pool, enqueues its kernels and, on any error, releases
 * everything it acquired. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host_alloc.h"
#include "launch.h"
#include "ops_image.h"
#include "status.h"

#define CONVERT_SOURCE "image_convert.cl"
#define RESIZE_SOURCE "image_resize.cl"
#define COMPOSITE_SOURCE "image_composite.cl"

/* Parses a filter name. */
int resize_filter_parse(const char *name)
{
    if (!name)
        return -1;
    if (strcmp(name, "bilinear") == 0)
        return RESIZE_BILINEAR;
    if (strcmp(name, "area") == 0)
        return RESIZE_AREA;
    if (strcmp(name, "lanczos3") == 0)
        return RESIZE_LANCZOS3;
    return -1;
}

/* Checks that `out` is a usable output for `op` (not NULL, not one of the
 * inputs `a` or `b`) and empties it.  An aliasing output is left as it is
 * so that the input it names stays intact. */
static kiln_status out_prepare(dev_image *out, const dev_image *a, const dev_image *b,
                               const char *op)
{
    if (!out)
        return kiln_fail(KILN_E_INVAL, "%s: NULL output image", op);
    if (out == a || out == b)
        return kiln_fail(KILN_E_INVAL, "%s: the output must not be an input image", op);
    memset(out, 0, sizeof(*out));
    return KILN_OK;
}

/* Checks an input image and that it has between lo and hi channels;
 * `what` names it in messages ("resize: input"). */
static kiln_status in_check(const dev_image *img, uint32_t lo, uint32_t hi,
                            const char *what)
{
    kiln_status st = dev_image_check(img, what);
    if (st != KILN_OK)
        return st;
    if (img->channels < lo || img->channels > hi) {
        if (lo == hi)
            return kiln_fail(KILN_E_INVAL, "%s: %u channels, need %u", what,
                             (unsigned)img->channels, (unsigned)lo);
        return kiln_fail(KILN_E_INVAL, "%s: %u channels, need %u to %u", what,
                         (unsigned)img->channels, (unsigned)lo, (unsigned)hi);
    }
    return KILN_OK;
}

/* Checks that two images have the same width and height. */
static kiln_status same_size(const dev_image *a, const dev_image *b, const char *op)
{
    if (a->width != b->width || a->height != b->height)
        return kiln_fail(KILN_E_INVAL, "%s: image sizes differ (%ux%u and %ux%u)", op,
                         (unsigned)a->width, (unsigned)a->height,
                         (unsigned)b->width, (unsigned)b->height);
    return KILN_OK;
}

/* ---- resize ---- */

/* Evaluates PIL's filter `filter` (RESIZE_AREA: box, RESIZE_LANCZOS3) at
 * x, in source pixels divided by the filterscale. */
static double filter_eval(resize_filter filter, double x)
{
    if (filter == RESIZE_AREA)
        return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0;
    if (x > -3.0 && x < 3.0) {
        double a = x == 0.0 ? 1.0 : sin(M_PI * x) / (M_PI * x);
        double b = x == 0.0 ? 1.0 : sin(M_PI * x / 3.0) / (M_PI * x / 3.0);
        return a * b;
    }
    return 0.0;
}

/* Computes the weight table of one axis as PIL's precompute_coeffs does,
 * in double: per output coordinate `stride` floats (window start, tap
 * count, then the normalised weights; stride = 2 + the widest window).
 * *table is allocated here (free with free); KILN_E_HOSTMEM. */
static kiln_status resize_table(uint32_t in_size, uint32_t out_size, resize_filter filter,
                                float **table, cl_uint *stride)
{
    double scale = (double)in_size / (double)out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = (filter == RESIZE_LANCZOS3 ? 3.0 : 0.5) * filterscale;
    cl_uint ksize = 2 * (cl_uint)ceil(support) + 1;
    float *t;

    *stride = ksize + 2;
    t = kiln_calloc((size_t)out_size * *stride, sizeof(*t));
    *table = t;
    if (!t)
        return kiln_fail(KILN_E_HOSTMEM, "resize: out of host memory for a %u x %u weight table",
                         (unsigned)out_size, (unsigned)ksize);
    for (uint32_t o = 0; o < out_size; o++, t += *stride) {
        double centre = ((double)o + 0.5) * scale, sum = 0.0;
        int lo = (int)(centre - support + 0.5), hi = (int)(centre + support + 0.5), n;
        if (lo < 0)
            lo = 0;
        if (hi > (int)in_size)
            hi = (int)in_size;
        n = hi - lo;
        if (n < 0)
            n = 0;
        if (n > (int)ksize)
            n = (int)ksize;
        for (int k = 0; k < n; k++)
            sum += filter_eval(filter, ((double)(k + lo) - centre + 0.5) / filterscale);
        t[0] = (float)lo;
        t[1] = (float)n;
        for (int k = 0; k < n && sum != 0.0; k++)
            t[2 + k] = (float)(filter_eval(filter, ((double)(k + lo) - centre + 0.5) / filterscale)
                               / sum);
    }
    return KILN_OK;
}

/* Uploads the weight table of one axis into a new pool buffer *table.
 * On error *table is NULL. */
static kiln_status resize_weights(kiln_device *dev, uint32_t in_size, uint32_t out_size,
                                  resize_filter filter, pool_buffer **table, cl_uint *stride)
{
    float *host = NULL;
    size_t bytes;
    kiln_status st;

    *table = NULL;
    st = resize_table(in_size, out_size, filter, &host, stride);
    if (st != KILN_OK)
        return st;
    bytes = (size_t)out_size * *stride * sizeof(float);
    st = pool_acquire(dev->pool, bytes, "image.resize.tmp", table);
    if (st != KILN_OK) {
        *table = NULL;
        kiln_free(host);
        return kiln_fail_context(st, "resize: weight table of %u x %u", (unsigned)out_size,
                                 (unsigned)*stride);
    }
    st = dev_buffer_write(dev, (*table)->mem, 0, bytes, host, "resize: uploading the weights");
    kiln_free(host);
    if (st != KILN_OK) {
        pool_release(dev->pool, *table);
        *table = NULL;
    }
    return st;
}

/* Resizes `src` along one axis into `dst` (already acquired): columns
 * when `vertical` is 0 (src and dst share height), rows otherwise (they
 * share width). */
static kiln_status resize_pass(kiln_device *dev, const dev_image *src, dev_image *dst,
                               resize_filter filter, int vertical)
{
    cl_uint in_size = vertical ? src->height : src->width;
    cl_uint out_size = vertical ? dst->height : dst->width;
    cl_uint width = dst->width, channels = dst->channels;
    cl_uint rows = src->height * src->channels;
    pool_buffer *table = NULL;
    cl_uint stride = 0;
    size_t global[3];
    kiln_status st;

    global[0] = vertical ? width : out_size;
    global[1] = vertical ? out_size : rows;
    global[2] = channels;
    if (filter == RESIZE_BILINEAR) {
        cl_float scale = (cl_float)((double)in_size / (double)out_size);
        if (vertical) {
            const dev_kernel_arg args[] = {
                DEV_ARG(src->buf->mem), DEV_ARG(dst->buf->mem), DEV_ARG(width),
                DEV_ARG(in_size), DEV_ARG(out_size), DEV_ARG(channels), DEV_ARG(scale)
            };
            return dev_kernel_launch_default(dev, RESIZE_SOURCE, "resize_v_bilinear", args,
                                             DEV_NARGS(args), 3, global);
        } else {
            const dev_kernel_arg args[] = {
                DEV_ARG(src->buf->mem), DEV_ARG(dst->buf->mem), DEV_ARG(in_size),
                DEV_ARG(out_size), DEV_ARG(rows), DEV_ARG(scale)
            };
            return dev_kernel_launch_default(dev, RESIZE_SOURCE, "resize_h_bilinear", args,
                                             DEV_NARGS(args), 2, global);
        }
    }

    st = resize_weights(dev, in_size, out_size, filter, &table, &stride);
    if (st != KILN_OK)
        return st;
    if (vertical) {
        const dev_kernel_arg args[] = {
            DEV_ARG(src->buf->mem), DEV_ARG(table->mem), DEV_ARG(dst->buf->mem),
            DEV_ARG(width), DEV_ARG(in_size), DEV_ARG(out_size), DEV_ARG(channels),
            DEV_ARG(stride)
        };
        st = dev_kernel_launch_default(dev, RESIZE_SOURCE, "resize_v_filter", args,
                                       DEV_NARGS(args), 3, global);
    } else {
        const dev_kernel_arg args[] = {
            DEV_ARG(src->buf->mem), DEV_ARG(table->mem), DEV_ARG(dst->buf->mem),
            DEV_ARG(in_size), DEV_ARG(out_size), DEV_ARG(rows), DEV_ARG(stride)
        };
        st = dev_kernel_launch_default(dev, RESIZE_SOURCE, "resize_h_filter", args,
                                       DEV_NARGS(args), 2, global);
    }
    /* In-order queue: the table outlives the pass that reads it. */
    pool_release(dev->pool, table);
    return st;
}

/* Resizes every channel (see ops_image.h): horizontal pass into a
 * temporary image, then vertical pass into the output; an axis whose size
 * does not change is skipped (as PIL does), and an unchanged size is a
 * copy. */
kiln_status op_resize(kiln_device *dev, const dev_image *in, uint32_t width,
                      uint32_t height, resize_filter filter, dev_image *out)
{
    dev_image tmp;
    const dev_image *src = in;
    kiln_status st;

    memset(&tmp, 0, sizeof(tmp));
    st = out_prepare(out, in, NULL, "resize");
    if (st != KILN_OK)
        return st;
    st = dev_image_check(in, "resize: input");
    if (st != KILN_OK)
        return st;
    if (width == 0 || height == 0 || width > DEV_IMAGE_MAX_SIDE || height > DEV_IMAGE_MAX_SIDE)
        return kiln_fail(KILN_E_INVAL, "resize: target size %ux%u must be nonzero and at "
                         "most %u per side", (unsigned)width, (unsigned)height,
                         (unsigned)DEV_IMAGE_MAX_SIDE);
    if (filter != RESIZE_BILINEAR && filter != RESIZE_AREA && filter != RESIZE_LANCZOS3)
        return kiln_fail(KILN_E_INVAL, "resize: unknown filter %d", (int)filter);
    st = dev_image_acquire(dev, width, height, in->channels, "image.resize", out);
    if (st != KILN_OK)
        return st;

    if (width == in->width && height == in->height) {
        st = dev_buffer_copy(dev, in->buf->mem, 0, out->buf->mem, 0,
                             dev_image_elements(in) * sizeof(float),
                             "resize: copying an image of unchanged size");
        goto out_release_tmp;
    }
    if (width != in->width) {
        dev_image *dst = out;
        if (height != in->height) {
            st = dev_image_acquire(dev, width, in->height, in->channels,
                                   "image.resize.tmp", &tmp);
            if (st != KILN_OK)
                goto out_release_tmp;
            dst = &tmp;
        }
        st = resize_pass(dev, in, dst, filter, 0);
        if (st != KILN_OK)
            goto out_release_tmp;
        src = dst;
    }
    if (height != in->height)
        st = resize_pass(dev, src, out, filter, 1);

out_release_tmp:
    /* In-order queue: the vertical pass has read tmp before any reuse. */
    dev_image_release(dev, &tmp);
    if (st == KILN_OK)
        return KILN_OK;
    dev_image_release(dev, out);
    return kiln_fail_context(st, "resize %ux%u to %ux%u", (unsigned)in->width,
                             (unsigned)in->height, (unsigned)width, (unsigned)height);
}

/* ---- per-pixel ops ---- */

/* Ends a per-pixel op whose kernel enqueue returned `st`: on error
 * releases the op's acquired output *out and names `op` in the message,
 * so that a failed op leaves its output empty.  Returns st. */
static kiln_status out_finish(kiln_device *dev, kiln_status st, dev_image *out, const char *op)
{
    if (st == KILN_OK)
        return KILN_OK;
    dev_image_release(dev, out);
    return kiln_fail_context(st, "%s", op);
}

/* out = (in - mean[c]) / std[c] (see ops_image.h): 1 to 4 channels, mean
 * and std of in->channels finite values, std nonzero. */
kiln_status op_normalize(kiln_device *dev, const dev_image *in,
                         const float *mean, const float *std, dev_image *out)
{
    cl_float4 mean_v, std_v;
    cl_uint npix, channels;
    kiln_status st;

    st = out_prepare(out, in, NULL, "normalize");
    if (st != KILN_OK)
        return st;
    st = in_check(in, 1, 4, "normalize: input");
    if (st != KILN_OK)
        return st;
    if (!mean || !std)
        return kiln_fail(KILN_E_INVAL, "normalize: NULL mean or std");
    st = dev_image_norm_vectors(mean, std, in->channels, "normalize", &mean_v, &std_v);
    if (st != KILN_OK)
        return st;
    npix = in->width * in->height;
    channels = in->channels;
    st = dev_image_acquire(dev, in->width, in->height, in->channels, "image.normalize", out);
    if (st != KILN_OK)
        return st;
    {
        const dev_kernel_arg args[] = {
            DEV_ARG(in->buf->mem), DEV_ARG(out->buf->mem), DEV_ARG(npix),
            DEV_ARG(channels), DEV_ARG(mean_v), DEV_ARG(std_v)
        };
        size_t global = npix;
        st = dev_kernel_launch_default(dev, CONVERT_SOURCE, "normalize_channels", args,
                                       DEV_NARGS(args), 1, &global);
    }
    return out_finish(dev, st, out, "normalize");
}

/* Composites RGBA over a solid colour (see ops_image.h): `rgba` has 4
 * channels, colour[] holds 3 values in [0,1]. */
kiln_status op_composite_colour(kiln_device *dev, const dev_image *rgba,
                                const float colour[3], int premultiplied,
                                dev_image *out)
{
    cl_float4 colour_v;
    cl_uint npix;
    cl_int premul = premultiplied ? 1 : 0;
    kiln_status st;

    st = out_prepare(out, rgba, NULL, "composite over colour");
    if (st != KILN_OK)
        return st;
    st = in_check(rgba, 4, 4, "composite over colour: foreground");
    if (st != KILN_OK)
        return st;
    if (!colour)
        return kiln_fail(KILN_E_INVAL, "composite over colour: NULL colour");
    for (int c = 0; c < 3; c++) {
        if (!(colour[c] >= 0.0f && colour[c] <= 1.0f))
            return kiln_fail(KILN_E_INVAL, "composite over colour: colour[%d] = %g is "
                             "not in [0,1]", c, (double)colour[c]);
        colour_v.s[c] = colour[c];
    }
    colour_v.s[3] = 1.0f;
    npix = rgba->width * rgba->height;
    st = dev_image_acquire(dev, rgba->width, rgba->height, 3, "image.composite", out);
    if (st != KILN_OK)
        return st;
    {
        const dev_kernel_arg args[] = {
            DEV_ARG(rgba->buf->mem), DEV_ARG(out->buf->mem), DEV_ARG(npix),
            DEV_ARG(colour_v), DEV_ARG(premul)
        };
        size_t global = npix;
        st = dev_kernel_launch_default(dev, COMPOSITE_SOURCE, "composite_colour", args,
                                       DEV_NARGS(args), 1, &global);
    }
    return out_finish(dev, st, out, "composite over colour");
}

/* Composites RGBA over a background image (see ops_image.h): `rgba` has 4
 * channels, `background` 3 or 4 and the same size. */
kiln_status op_composite_image(kiln_device *dev, const dev_image *rgba,
                               const dev_image *background, int premultiplied,
                               dev_image *out)
{
    cl_uint npix;
    cl_int premul = premultiplied ? 1 : 0;
    kiln_status st;

    st = out_prepare(out, rgba, background, "composite over image");
    if (st != KILN_OK)
        return st;
    st = in_check(rgba, 4, 4, "composite over image: foreground");
    if (st != KILN_OK)
        return st;
    st = in_check(background, 3, 4, "composite over image: background");
    if (st != KILN_OK)
        return st;
    st = same_size(rgba, background, "composite over image");
    if (st != KILN_OK)
        return st;
    npix = rgba->width * rgba->height;
    st = dev_image_acquire(dev, rgba->width, rgba->height, 3, "image.composite", out);
    if (st != KILN_OK)
        return st;
    {
        const dev_kernel_arg args[] = {
            DEV_ARG(rgba->buf->mem), DEV_ARG(background->buf->mem),
            DEV_ARG(out->buf->mem), DEV_ARG(npix), DEV_ARG(premul)
        };
        size_t global = npix;
        st = dev_kernel_launch_default(dev, COMPOSITE_SOURCE, "composite_image", args,
                                       DEV_NARGS(args), 1, &global);
    }
    return out_finish(dev, st, out, "composite over image");
}

/* Premultiplies or unpremultiplies colour by alpha (see ops_image.h):
 * `rgba` has 4 channels (or 2, gray + alpha); alpha is copied. */
kiln_status op_premultiply(kiln_device *dev, const dev_image *rgba,
                           int premultiply, dev_image *out)
{
    const char *op = premultiply ? "premultiply" : "unpremultiply";
    cl_uint npix, channels;
    cl_int multiply = premultiply ? 1 : 0;
    kiln_status st;

    st = out_prepare(out, rgba, NULL, op);
    if (st != KILN_OK)
        return st;
    st = dev_image_check(rgba, op);
    if (st != KILN_OK)
        return st;
    if (rgba->channels != 2 && rgba->channels != 4)
        return kiln_fail(KILN_E_INVAL, "%s: %u channels, need 4 (RGBA) or 2 (gray+alpha)",
                         op, (unsigned)rgba->channels);
    npix = rgba->width * rgba->height;
    channels = rgba->channels;
    st = dev_image_acquire(dev, rgba->width, rgba->height, channels, "image.premultiply", out);
    if (st != KILN_OK)
        return st;
    {
        const dev_kernel_arg args[] = {
            DEV_ARG(rgba->buf->mem), DEV_ARG(out->buf->mem), DEV_ARG(npix),
            DEV_ARG(channels), DEV_ARG(multiply)
        };
        size_t global = npix;
        st = dev_kernel_launch_default(dev, COMPOSITE_SOURCE, "premultiply", args,
                                       DEV_NARGS(args), 1, &global);
    }
    return out_finish(dev, st, out, op);
}

/* Converts between 1-4 channel layouts (see ops_image.h). */
kiln_status op_convert_channels(kiln_device *dev, const dev_image *in,
                                uint32_t channels, dev_image *out)
{
    cl_uint npix, cin, cout = channels;
    kiln_status st;

    st = out_prepare(out, in, NULL, "convert channels");
    if (st != KILN_OK)
        return st;
    st = in_check(in, 1, 4, "convert channels: input");
    if (st != KILN_OK)
        return st;
    if (channels < 1 || channels > 4)
        return kiln_fail(KILN_E_INVAL, "convert channels: target of %u channels, need 1 to 4",
                         (unsigned)channels);
    npix = in->width * in->height;
    cin = in->channels;
    st = dev_image_acquire(dev, in->width, in->height, channels, "image.channels", out);
    if (st != KILN_OK)
        return st;
    {
        const dev_kernel_arg args[] = {
            DEV_ARG(in->buf->mem), DEV_ARG(out->buf->mem), DEV_ARG(npix),
            DEV_ARG(cin), DEV_ARG(cout)
        };
        size_t global = npix;
        st = dev_kernel_launch_default(dev, CONVERT_SOURCE, "convert_channels", args,
                                       DEV_NARGS(args), 1, &global);
    }
    return out_finish(dev, st, out, "convert channels");
}

/* Builds RGBA from RGB and a one-channel alpha of the same size (see
 * ops_image.h). */
kiln_status op_attach_alpha(kiln_device *dev, const dev_image *rgb,
                            const dev_image *alpha, dev_image *out)
{
    cl_uint npix;
    kiln_status st;

    st = out_prepare(out, rgb, alpha, "attach alpha");
    if (st != KILN_OK)
        return st;
    st = in_check(rgb, 3, 3, "attach alpha: colour");
    if (st != KILN_OK)
        return st;
    st = in_check(alpha, 1, 1, "attach alpha: alpha");
    if (st != KILN_OK)
        return st;
    st = same_size(rgb, alpha, "attach alpha");
    if (st != KILN_OK)
        return st;
    npix = rgb->width * rgb->height;
    st = dev_image_acquire(dev, rgb->width, rgb->height, 4, "image.alpha", out);
    if (st != KILN_OK)
        return st;
    {
        const dev_kernel_arg args[] = {
            DEV_ARG(rgb->buf->mem), DEV_ARG(alpha->buf->mem), DEV_ARG(out->buf->mem),
            DEV_ARG(npix)
        };
        size_t global = npix;
        st = dev_kernel_launch_default(dev, CONVERT_SOURCE, "attach_alpha", args,
                                       DEV_NARGS(args), 1, &global);
    }
    return out_finish(dev, st, out, "attach alpha");
}
