/* The splatting loss and PSNR launchers (see splat_loss.h): argument
 * checks, the per-channel pipeline of cl/splat_loss.cl, and the
 * two-stage sum (per-work-group partial sums on the device, added on the
 * host in double). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "host_alloc.h"
#include "launch.h"
#include "splat_loss.h"
#include "status.h"

#define LOSS_SOURCE "splat_loss.cl"
#define LOSS_RADIUS 5
#define LOSS_SIGMA 1.5
#define LOSS_MOMENTS 5        /* mu1, mu2, E[x^2], E[y^2], E[xy] */
#define LOSS_DERIVS 3         /* dS/dmu1, dS/dE[x^2], dS/dE[xy] */
#define LOSS_TERMS 2          /* m |d|, m S */

/* The kernels' shared build options and the reduction's work-group size. */
typedef struct loss_setup {
    size_t reduce_wg;
    char options[320];
} loss_setup;

/* Fills *setup for `dev`: the build options of cl/splat_loss.cl: the
 * reduction's work-group (the largest power of two up to 256 the device
 * allows) and the 11 window taps exp(-k^2 / (2 sigma^2)), normalised in
 * double and written to 9 significant digits (float's round trip). */
static void loss_setup_get(const kiln_device *dev, loss_setup *setup)
{
    double taps[2 * LOSS_RADIUS + 1], sum = 0.0;
    size_t len;

    setup->reduce_wg = 256;
    while (setup->reduce_wg > 1 && setup->reduce_wg > dev->info.max_work_group)
        setup->reduce_wg /= 2;
    for (int k = -LOSS_RADIUS; k <= LOSS_RADIUS; k++) {
        taps[k + LOSS_RADIUS] = exp(-(double)(k * k) / (2.0 * LOSS_SIGMA * LOSS_SIGMA));
        sum += taps[k + LOSS_RADIUS];
    }
    len = (size_t)snprintf(setup->options, sizeof(setup->options),
                           "-DREDUCE_WG=%zu -DLOSS_TAPS=", setup->reduce_wg);
    for (int k = 0; k < 2 * LOSS_RADIUS + 1 && len < sizeof(setup->options); k++)
        len += (size_t)snprintf(setup->options + len, sizeof(setup->options) - len, "%s%.9ef",
                                k ? "," : "", (double)(float)(taps[k] / sum));
}

/* Sums each of `planes` planes of n floats of `terms` into sums[q]:
 * per-work-group partial sums on the device (a pool buffer, tag
 * "splat.loss.partial", released here), added on the host in double.
 * Waits for the result. */
static kiln_status loss_sum_planes(kiln_device *dev, const loss_setup *setup, cl_mem terms,
                                   cl_uint n, cl_uint planes, double *sums)
{
    size_t groups = ((size_t)n + setup->reduce_wg - 1) / setup->reduce_wg;
    size_t global = groups * setup->reduce_wg, count = groups * planes;
    pool_buffer *partial = NULL;
    float *host = NULL;
    kiln_status st;

    st = pool_acquire(dev->pool, count * sizeof(float), "splat.loss.partial", &partial);
    if (st != KILN_OK)
        return kiln_fail_context(st, "splat loss: %zu partial sums", count);
    host = kiln_malloc(count * sizeof(*host));
    if (!host) {
        st = kiln_fail(KILN_E_HOSTMEM, "splat loss: out of host memory for %zu partial sums",
                       count);
        goto out_release_partial;
    }
    {
        const dev_kernel_arg args[] = { DEV_ARG(terms), DEV_ARG(n), DEV_ARG(planes),
                                        DEV_ARG(partial->mem) };
        st = dev_kernel_launch(dev, LOSS_SOURCE, setup->options, "reduce_planes", args,
                               DEV_NARGS(args), 1, &global, &setup->reduce_wg);
    }
    if (st == KILN_OK)
        st = dev_buffer_read(dev, partial->mem, 0, count * sizeof(float), host,
                             "splat loss: reading the partial sums");
    if (st == KILN_OK) {
        for (cl_uint q = 0; q < planes; q++)
            sums[q] = 0.0;
        for (size_t g = 0; g < groups; g++)
            for (cl_uint q = 0; q < planes; q++)
                sums[q] += (double)host[g * planes + q];
    }
    kiln_free(host);
out_release_partial:
    pool_release(dev->pool, partial);
    return st;
}

/* Checks that `img` is a valid image of `channels` channels and, when
 * `like` is not NULL, of its width and height; `what` names it. */
static kiln_status loss_image_check(const dev_image *img, uint32_t channels,
                                    const dev_image *like, const char *what)
{
    kiln_status st;

    if (!img)
        return kiln_fail(KILN_E_INVAL, "%s: NULL image", what);
    st = dev_image_check(img, what);
    if (st != KILN_OK)
        return st;
    if (channels && img->channels != channels)
        return kiln_fail(KILN_E_INVAL, "%s: %u channels, need %u", what,
                         (unsigned)img->channels, (unsigned)channels);
    if (like && (img->width != like->width || img->height != like->height))
        return kiln_fail(KILN_E_INVAL, "%s: %ux%u, need %ux%u", what,
                         (unsigned)img->width, (unsigned)img->height,
                         (unsigned)like->width, (unsigned)like->height);
    return KILN_OK;
}

/* Checks splat_loss's arguments. */
static kiln_status loss_args_check(const kiln_device *dev, const dev_image *render,
                                   const dev_image *target, const dev_image *mask,
                                   float lambda, const splat_loss_result *out,
                                   const dev_image *grad)
{
    kiln_status st;

    if (!dev || !out)
        return kiln_fail(KILN_E_INVAL, "splat loss: NULL %s", dev ? "result" : "device");
    if (grad && (grad == render || grad == target || grad == mask))
        return kiln_fail(KILN_E_INVAL, "splat loss: the gradient must not be an input image");
    if (!(lambda >= 0.0f && lambda <= 1.0f))
        return kiln_fail(KILN_E_INVAL, "splat loss: lambda %g is not in [0, 1]",
                         (double)lambda);
    st = loss_image_check(render, 3, NULL, "splat loss: render");
    if (st == KILN_OK)
        st = loss_image_check(target, 3, render, "splat loss: target");
    if (st == KILN_OK && mask)
        st = loss_image_check(mask, 1, render, "splat loss: mask");
    return st;
}

/* The scratch buffers of one loss: two 5-plane work buffers (the blur's
 * ping-pong), the 2-plane per-pixel terms. */
typedef struct loss_scratch {
    pool_buffer *work[2];
    pool_buffer *terms;
} loss_scratch;

/* Acquires the scratch of an npix-pixel loss; on error releases what it
 * acquired. */
static kiln_status loss_scratch_acquire(kiln_device *dev, size_t npix, loss_scratch *s)
{
    size_t plane = npix * sizeof(float);
    kiln_status st;

    memset(s, 0, sizeof(*s));
    st = pool_acquire(dev->pool, LOSS_MOMENTS * plane, "splat.loss.moments", &s->work[0]);
    if (st != KILN_OK)
        goto out_fail;
    st = pool_acquire(dev->pool, LOSS_MOMENTS * plane, "splat.loss.blur", &s->work[1]);
    if (st != KILN_OK)
        goto out_release_moments;
    st = pool_acquire(dev->pool, LOSS_TERMS * plane, "splat.loss.terms", &s->terms);
    if (st != KILN_OK)
        goto out_release_blur;
    return KILN_OK;

out_release_blur:
    pool_release(dev->pool, s->work[1]);
out_release_moments:
    pool_release(dev->pool, s->work[0]);
out_fail:
    memset(s, 0, sizeof(*s));
    return kiln_fail_context(st, "splat loss: scratch for %zu pixels", npix);
}

/* Releases the scratch of a loss. */
static void loss_scratch_release(kiln_device *dev, loss_scratch *s)
{
    pool_release(dev->pool, s->terms);
    pool_release(dev->pool, s->work[1]);
    pool_release(dev->pool, s->work[0]);
    memset(s, 0, sizeof(*s));
}

/* Enqueues one separable blur pass (`kernel` "loss_blur_h" or
 * "loss_blur_v") of `planes` planes of a width x height image. */
static kiln_status loss_blur(kiln_device *dev, const loss_setup *setup, const char *kernel,
                             cl_mem in, cl_mem out, cl_uint width, cl_uint height,
                             cl_uint planes)
{
    const size_t global[3] = { width, height, planes };
    const dev_kernel_arg args[] = { DEV_ARG(in), DEV_ARG(out), DEV_ARG(width),
                                    DEV_ARG(height) };
    return dev_kernel_launch(dev, LOSS_SOURCE, setup->options, kernel, args, DEV_NARGS(args),
                             3, global, NULL);
}

/* Enqueues the pipeline of colour channel `chan`: the moments, the SSIM
 * and L1 terms (added into scratch->terms) and, when grad_mem is not
 * NULL, plane chan of the gradient with factors a = (1 - lambda) / N and
 * b = -lambda / N. */
static kiln_status loss_channel(kiln_device *dev, const loss_setup *setup,
                                const dev_image *render, const dev_image *target,
                                cl_mem mask_mem, const loss_scratch *scratch, cl_mem grad_mem,
                                cl_uint chan, cl_float a, cl_float b)
{
    cl_uint width = render->width, height = render->height, npix = width * height;
    cl_mem x = render->buf->mem, y = target->buf->mem;
    cl_mem w0 = scratch->work[0]->mem, w1 = scratch->work[1]->mem;
    cl_mem terms = scratch->terms->mem, m = mask_mem ? mask_mem : x;
    cl_int has_mask = mask_mem != NULL, want_grad = grad_mem != NULL;
    const size_t image[2] = { width, height }, pixels = npix;
    kiln_status st;

    {
        const dev_kernel_arg args[] = { DEV_ARG(x), DEV_ARG(y), DEV_ARG(w1), DEV_ARG(width),
                                        DEV_ARG(height), DEV_ARG(chan) };
        st = dev_kernel_launch(dev, LOSS_SOURCE, setup->options, "loss_moments_h", args,
                               DEV_NARGS(args), 2, image, NULL);
    }
    if (st == KILN_OK)
        st = loss_blur(dev, setup, "loss_blur_v", w1, w0, width, height, LOSS_MOMENTS);
    if (st == KILN_OK) {
        const dev_kernel_arg args[] = { DEV_ARG(w0), DEV_ARG(x), DEV_ARG(y), DEV_ARG(m),
                                        DEV_ARG(has_mask), DEV_ARG(terms), DEV_ARG(w1),
                                        DEV_ARG(want_grad), DEV_ARG(npix), DEV_ARG(chan) };
        st = dev_kernel_launch(dev, LOSS_SOURCE, setup->options, "loss_ssim_terms", args,
                               DEV_NARGS(args), 1, &pixels, NULL);
    }
    if (st != KILN_OK || !grad_mem)
        return st;
    st = loss_blur(dev, setup, "loss_blur_h", w1, w0, width, height, LOSS_DERIVS);
    if (st == KILN_OK)
        st = loss_blur(dev, setup, "loss_blur_v", w0, w1, width, height, LOSS_DERIVS);
    if (st == KILN_OK) {
        const dev_kernel_arg args[] = { DEV_ARG(w1), DEV_ARG(x), DEV_ARG(y), DEV_ARG(m),
                                        DEV_ARG(has_mask), DEV_ARG(grad_mem), DEV_ARG(npix),
                                        DEV_ARG(chan), DEV_ARG(a), DEV_ARG(b) };
        st = dev_kernel_launch(dev, LOSS_SOURCE, setup->options, "loss_grad", args,
                               DEV_NARGS(args), 1, &pixels, NULL);
    }
    return st;
}

/* Computes the loss and, on request, its gradient (see splat_loss.h). */
kiln_status splat_loss(kiln_device *dev, const dev_image *render, const dev_image *target,
                       const dev_image *mask, float lambda, splat_loss_result *out,
                       dev_image *grad)
{
    size_t npix;
    double weight, sums[LOSS_TERMS];
    cl_float a, b;
    loss_setup setup;
    loss_scratch scratch;
    kiln_status st;

    if (grad && grad != render && grad != target && grad != mask)
        memset(grad, 0, sizeof(*grad));
    st = loss_args_check(dev, render, target, mask, lambda, out, grad);
    if (st != KILN_OK)
        return st;
    npix = (size_t)render->width * render->height;
    loss_setup_get(dev, &setup);
    weight = 3.0 * (double)npix;
    if (mask) {
        st = loss_sum_planes(dev, &setup, mask->buf->mem, (cl_uint)npix, 1, &weight);
        if (st != KILN_OK)
            return kiln_fail_context(st, "splat loss: summing the mask");
        weight *= 3.0;
        if (!(weight > 0.0) || !isfinite(weight))
            return kiln_fail(KILN_E_INVAL, "splat loss: mask: its values sum to %g, need a "
                             "positive sum", weight / 3.0);
    }
    a = (cl_float)((1.0 - lambda) / weight);
    b = (cl_float)(-(double)lambda / weight);

    st = loss_scratch_acquire(dev, npix, &scratch);
    if (st != KILN_OK)
        return st;
    if (grad) {
        st = dev_image_acquire(dev, render->width, render->height, 3, "splat.loss.grad", grad);
        if (st != KILN_OK) {
            kiln_fail_context(st, "splat loss: the gradient");
            goto out_release_scratch;
        }
    }
    for (cl_uint c = 0; c < 3 && st == KILN_OK; c++)
        st = loss_channel(dev, &setup, render, target, mask ? mask->buf->mem : NULL, &scratch,
                          grad ? grad->buf->mem : NULL, c, a, b);
    if (st == KILN_OK)
        st = loss_sum_planes(dev, &setup, scratch.terms->mem, (cl_uint)npix, LOSS_TERMS, sums);
    if (st != KILN_OK)
        goto out_release_grad;
    out->l1 = sums[0] / weight;
    out->ssim = sums[1] / weight;
    out->loss = (1.0 - lambda) * out->l1 + (double)lambda * (1.0 - out->ssim);
    loss_scratch_release(dev, &scratch);
    return KILN_OK;

out_release_grad:
    if (grad)
        dev_image_release(dev, grad);
out_release_scratch:
    loss_scratch_release(dev, &scratch);
    return st;
}

/* Computes the PSNR of a against b (see splat_loss.h). */
kiln_status splat_psnr(kiln_device *dev, const dev_image *a, const dev_image *b, double *psnr)
{
    cl_uint npix, channels;
    size_t pixels;
    pool_buffer *terms = NULL;
    loss_setup setup;
    double sum = 0.0, mse;
    kiln_status st;

    if (!dev || !psnr)
        return kiln_fail(KILN_E_INVAL, "splat psnr: NULL %s", dev ? "result" : "device");
    st = loss_image_check(a, 0, NULL, "splat psnr: first image");
    if (st == KILN_OK)
        st = loss_image_check(b, a->channels, a, "splat psnr: second image");
    if (st != KILN_OK)
        return st;
    npix = a->width * a->height;
    channels = a->channels;
    pixels = npix;
    loss_setup_get(dev, &setup);
    st = pool_acquire(dev->pool, pixels * sizeof(float), "splat.loss.terms", &terms);
    if (st != KILN_OK)
        return kiln_fail_context(st, "splat psnr: %zu pixels", pixels);
    {
        const dev_kernel_arg args[] = { DEV_ARG(a->buf->mem), DEV_ARG(b->buf->mem),
                                        DEV_ARG(terms->mem), DEV_ARG(npix), DEV_ARG(channels) };
        st = dev_kernel_launch(dev, LOSS_SOURCE, setup.options, "loss_sq_terms", args,
                               DEV_NARGS(args), 1, &pixels, NULL);
    }
    if (st == KILN_OK)
        st = loss_sum_planes(dev, &setup, terms->mem, npix, 1, &sum);
    pool_release(dev->pool, terms);
    if (st != KILN_OK)
        return st;
    mse = sum / ((double)pixels * channels);
    *psnr = mse > 0.0 ? 10.0 * log10(1.0 / mse) : INFINITY;
    return KILN_OK;
}
