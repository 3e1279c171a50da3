/* The guided filter (He, Sun, Tang 2010) on the device, with a gray or a
 * colour guide.  Kernels in cl/guided_filter.cl, built once per guide
 * channel count (-DGF_CH=1 or 3).
 *
 * Box means are sliding sums (the cost is independent of the radius) in
 * compensated float-float arithmetic, so that the raw-moment variance
 * E[I^2] - E[I]^2 keeps its accuracy for small variances and eps; four
 * streaming passes, each writing its records transposed for the next.
 *
 * Device memory: besides the output, one buffer of 2 K1 floats per pixel
 * (K1 = 4 for a gray guide, 13 for a colour one; it holds the stage-1
 * sums, then the stage-2 ones) and one of 4 (gray) or 8 (colour) floats
 * per pixel for a and b. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "launch.h"
#include "matting.h"
#include "status.h"

#define GF_SOURCE "guided_filter.cl"
#define GF_TAG_OUT "matting.guided"
#define GF_TAG_TMP "matting.guided.tmp"

/* Smallest eps accepted: the float-float kernels form the determinant of
 * Sigma + eps U, at least eps^3 in a flat window, in float. */
#define GF_MIN_EPS 1e-10f

/* Work-group size of every pass (one work-item per line, the line count
 * rounded up to it): fixed, so that a driver that compiles per
 * work-group size compiles each kernel once. */
#define GF_LOCAL 64

/* Floats per pixel of the sums buffer and of the a, b buffer for a
 * guide of `channels` channels (the kernels' GF_R1 and GF_RAB). */
static size_t gf_sums_record(uint32_t channels)
{
    return channels == 1 ? 8 : 26;
}

/* See gf_sums_record. */
static size_t gf_coeffs_record(uint32_t channels)
{
    return channels == 1 ? 4 : 8;
}

/* Returns whether to build the double-precision kernels: the device has
 * fp64 and KILN_NO_FP64 is unset, empty or "0". */
static int gf_use_fp64(const kiln_device *dev)
{
    const char *off = getenv("KILN_NO_FP64");

    if (off && *off && strcmp(off, "0") != 0)
        return 0;
    return dev->info.fp64 != 0;
}

/* Checks the arguments of op_guided_filter and empties *out: guide 1 or
 * 3 channels, src 1 channel of the same size, eps finite and at least
 * GF_MIN_EPS, out not one of the inputs. */
static kiln_status gf_args_check(const kiln_device *dev, const dev_image *guide,
                                 const dev_image *src, float eps, dev_image *out)
{
    kiln_status st;

    if (!out)
        return kiln_fail(KILN_E_INVAL, "guided filter: NULL output image");
    if (out == guide || out == src)
        return kiln_fail(KILN_E_INVAL, "guided filter: the output must not be an input "
                         "image");
    memset(out, 0, sizeof(*out));
    if (!dev)
        return kiln_fail(KILN_E_INVAL, "guided filter: NULL device");
    st = dev_image_check(guide, "guided filter: guide");
    if (st != KILN_OK)
        return st;
    st = dev_image_check(src, "guided filter: source");
    if (st != KILN_OK)
        return st;
    if (guide->channels != 1 && guide->channels != 3)
        return kiln_fail(KILN_E_INVAL, "guided filter: guide has %u channels, need 1 or 3",
                         (unsigned)guide->channels);
    if (src->channels != 1)
        return kiln_fail(KILN_E_INVAL, "guided filter: source has %u channels, need 1",
                         (unsigned)src->channels);
    if (guide->width != src->width || guide->height != src->height)
        return kiln_fail(KILN_E_INVAL, "guided filter: guide %ux%u and source %ux%u "
                         "differ in size", (unsigned)guide->width, (unsigned)guide->height,
                         (unsigned)src->width, (unsigned)src->height);
    if (!(isfinite(eps) && eps >= GF_MIN_EPS))
        return kiln_fail(KILN_E_INVAL, "guided filter: eps %g must be finite and at "
                         "least %g", (double)eps, (double)GF_MIN_EPS);
    return KILN_OK;
}

/* Guided filter (see matting.h): acquires the output and the two
 * temporaries, enqueues the four passes, releases the temporaries (the
 * queue is in order).  A radius beyond the image is clamped to its
 * larger side: every window is then the whole image.  Does not wait. */
kiln_status op_guided_filter(kiln_device *dev, const dev_image *guide,
                             const dev_image *src, uint32_t radius, float eps,
                             dev_image *out)
{
    const char *options;
    pool_buffer *sums = NULL, *coeffs = NULL;
    cl_uint w, h, r;
    size_t npix, rows, cols;
    const size_t local = GF_LOCAL;
    kiln_status st;

    st = gf_args_check(dev, guide, src, eps, out);
    if (st != KILN_OK)
        return st;
    w = guide->width;
    h = guide->height;
    npix = (size_t)w * h;
    rows = h;
    cols = w;
    r = radius;
    if (r > (w > h ? w : h))
        r = w > h ? w : h;
    if (gf_use_fp64(dev))
        options = guide->channels == 1 ? "-DGF_CH=1 -DGF_FP64" : "-DGF_CH=3 -DGF_FP64";
    else
        options = guide->channels == 1 ? "-DGF_CH=1" : "-DGF_CH=3";

    st = dev_image_acquire(dev, w, h, 1, GF_TAG_OUT, out);
    if (st != KILN_OK)
        return kiln_fail_context(st, "guided filter");
    st = pool_acquire(dev->pool, npix * gf_sums_record(guide->channels) * sizeof(float),
                      GF_TAG_TMP, &sums);
    if (st != KILN_OK) {
        kiln_fail_context(st, "guided filter: window sums");
        goto out_release_output;
    }
    st = pool_acquire(dev->pool, npix * gf_coeffs_record(guide->channels) * sizeof(float),
                      GF_TAG_TMP, &coeffs);
    if (st != KILN_OK) {
        kiln_fail_context(st, "guided filter: coefficients");
        goto out_release_sums;
    }
    {
        const dev_kernel_arg args[] = {
            DEV_ARG(guide->buf->mem), DEV_ARG(src->buf->mem), DEV_ARG(sums->mem),
            DEV_ARG(w), DEV_ARG(h), DEV_ARG(r)
        };
        st = dev_kernel_launch(dev, GF_SOURCE, options, "gf_rows_moments", args,
                               DEV_NARGS(args), 1, &rows, &local);
    }
    if (st == KILN_OK) {
        const dev_kernel_arg args[] = {
            DEV_ARG(sums->mem), DEV_ARG(coeffs->mem), DEV_ARG(w), DEV_ARG(h), DEV_ARG(r),
            DEV_ARG(eps)
        };
        st = dev_kernel_launch(dev, GF_SOURCE, options, "gf_cols_coeffs", args,
                               DEV_NARGS(args), 1, &cols, &local);
    }
    if (st == KILN_OK) {
        const dev_kernel_arg args[] = {
            DEV_ARG(coeffs->mem), DEV_ARG(guide->buf->mem), DEV_ARG(sums->mem),
            DEV_ARG(w), DEV_ARG(h), DEV_ARG(r)
        };
        st = dev_kernel_launch(dev, GF_SOURCE, options, "gf_rows_coeffs", args,
                               DEV_NARGS(args), 1, &rows, &local);
    }
    if (st == KILN_OK) {
        const dev_kernel_arg args[] = {
            DEV_ARG(sums->mem), DEV_ARG(out->buf->mem), DEV_ARG(w), DEV_ARG(h), DEV_ARG(r)
        };
        st = dev_kernel_launch(dev, GF_SOURCE, options, "gf_cols_output", args,
                               DEV_NARGS(args), 1, &cols, &local);
    }

    /* In-order queue: the passes have read the temporaries before any
     * later user of the pool gets them. */
    pool_release(dev->pool, coeffs);
out_release_sums:
    pool_release(dev->pool, sums);
    if (st == KILN_OK)
        return KILN_OK;
out_release_output:
    dev_image_release(dev, out);
    return kiln_fail_context(st, "guided filter %ux%u, radius %u", (unsigned)w,
                             (unsigned)h, (unsigned)radius);
}
