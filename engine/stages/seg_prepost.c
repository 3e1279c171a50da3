/* rembg's segmentation pre/post-processing on the device (see
 * seg_prepost.h; kernels in cl/seg_prepost.cl).  The host computes PIL's
 * Lanczos weight tables and OpenCV's Gaussian taps (in double, as those
 * libraries do) and enqueues the kernels; temporaries come from the pool
 * and go back to it before returning (the queue is in order, so a
 * released buffer is reused only by later commands). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cl_status.h"
#include "launch.h"
#include "host_alloc.h"
#include "seg_prepost.h"
#include "status.h"

#define SEG_SOURCE "seg_prepost.cl"
#define SEG_TMP_TAG "segment.tmp"

/* PIL's fixed-point precision for 8-bit resampling (Resample.c). */
#define PIL_PRECISION_BITS (32 - 8 - 2)

/* PIL's sinc_filter. */
static double pil_sinc(double x)
{
    if (x == 0.0)
        return 1.0;
    x = x * M_PI;
    return sin(x) / x;
}

/* PIL's lanczos_filter (support 3). */
static double pil_lanczos(double x)
{
    if (-3.0 <= x && x < 3.0)
        return pil_sinc(x) * pil_sinc(x / 3);
    return 0.0;
}

/* One resize axis: its weight table as the kernels read it. */
typedef struct seg_axis {
    int32_t *table;     /* out_size * (ksize + 2) ints, malloc'd */
    cl_uint ksize;
    cl_uint in_size;
    cl_uint out_size;
} seg_axis;

/* Builds the weight table of resizing in_size samples to out_size as
 * Pillow's precompute_coeffs + normalize_coeffs_8bpc do (Lanczos, box
 * (0, in_size)); an unchanged size (a pass PIL skips) gets the identity.
 * Returns KILN_E_HOSTMEM when malloc fails. */
static kiln_status seg_axis_build(seg_axis *axis, uint32_t in_size, uint32_t out_size)
{
    /* PIL: scale = (double)(in1 - in0) / outSize with a float box. */
    double scale = (double)((float)in_size - 0.0f) / out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = 3.0 * filterscale;
    int identity = in_size == out_size;
    int ksize = identity ? 1 : (int)ceil(support) * 2 + 1;
    size_t stride = (size_t)ksize + 2;
    double *k = NULL;

    axis->in_size = in_size;
    axis->out_size = out_size;
    axis->ksize = (cl_uint)ksize;
    axis->table = kiln_calloc((size_t)out_size * stride, sizeof(int32_t));
    if (!identity)
        k = kiln_malloc((size_t)ksize * sizeof(double));
    if (!axis->table || (!identity && !k)) {
        kiln_free(k);
        kiln_free(axis->table);
        axis->table = NULL;
        return kiln_fail(KILN_E_HOSTMEM, "segment: out of host memory for a weight table of %u x %d",
                         (unsigned)out_size, ksize);
    }
    for (uint32_t xx = 0; xx < out_size; xx++) {
        int32_t *t = axis->table + (size_t)xx * stride;
        double center = 0.0 + (xx + 0.5) * scale;
        double ww = 0.0, ss = 1.0 / filterscale;
        int xmin, xmax;

        if (identity) {
            t[0] = (int32_t)xx;
            t[1] = 1;
            t[2] = 1 << PIL_PRECISION_BITS;
            continue;
        }
        xmin = (int)(center - support + 0.5);
        if (xmin < 0)
            xmin = 0;
        xmax = (int)(center + support + 0.5);
        if (xmax > (int)in_size)
            xmax = (int)in_size;
        xmax -= xmin;
        if (xmax > ksize)
            xmax = ksize;
        if (xmax < 0)
            xmax = 0;
        for (int x = 0; x < xmax; x++) {
            double w = pil_lanczos((x + xmin - center + 0.5) * ss);
            k[x] = w;
            ww += w;
        }
        for (int x = 0; x < xmax; x++)
            if (ww != 0.0)
                k[x] /= ww;
        t[0] = xmin;
        t[1] = xmax;
        /* normalize_coeffs_8bpc: round half away from zero. */
        for (int x = 0; x < xmax; x++) {
            if (k[x] < 0)
                t[2 + x] = (int32_t)(-0.5 + k[x] * (1 << PIL_PRECISION_BITS));
            else
                t[2 + x] = (int32_t)(0.5 + k[x] * (1 << PIL_PRECISION_BITS));
        }
    }
    kiln_free(k);
    return KILN_OK;
}

/* Frees an axis's table. */
static void seg_axis_free(seg_axis *axis)
{
    kiln_free(axis->table);
    axis->table = NULL;
}

/* Ints of an axis's table. */
static size_t seg_axis_ints(const seg_axis *axis)
{
    return (size_t)axis->out_size * (axis->ksize + 2);
}

/* Computes OpenCV's bit-exact 8-bit Gaussian taps for ksize 5, sigma 2
 * (getGaussianKernelBitExact, then getGaussianKernelFixedPoint_ED with 8
 * fractional bits: error-diffused rounding of the outer taps, the centre
 * taking the rest of 256). */
void seg_gaussian_taps(int taps[5])
{
    const int n = 5;
    const double sigma = 2.0;
    double scale2x = -0.125 / (sigma * sigma);
    double values[2], sum = 0.0, mul1, err = 0.0;
    long outer = 0;

    for (int i = 0, x = 1 - n; i < n / 2; i++, x += 2) {
        values[i] = exp((double)(x * x) * scale2x);
        sum += values[i];
    }
    sum *= 2.0;
    sum += 1.0;
    mul1 = 1.0 / sum;
    for (int i = 0; i < n / 2; i++) {
        double adj = values[i] * mul1 * 256.0 + err;
        long v = lrint(adj);
        err = adj - (double)v;
        taps[i] = (int)v;
        taps[n - 1 - i] = (int)v;
        outer += v;
    }
    taps[n / 2] = (int)(256 - 2 * outer);
}

/* Returns the largest power of two work-group size up to 64 the device
 * allows. */
static size_t seg_group_size(const kiln_device *dev)
{
    size_t g = 64;
    while (g > 1 && g > dev->info.max_work_group)
        g >>= 1;
    return g;
}

/* Checks that `mem` holds at least `floats` floats from element `offset`;
 * `what` names it in the message. */
static kiln_status seg_place_check(cl_mem mem, cl_uint offset, size_t floats,
                                   const char *what)
{
    size_t size = 0;
    cl_int err;

    if (!mem)
        return kiln_fail(KILN_E_INVAL, "%s: no device buffer", what);
    err = clGetMemObjectInfo(mem, CL_MEM_SIZE, sizeof(size), &size, NULL);
    if (err != CL_SUCCESS)
        return kiln_fail_cl(err, what);
    if (((size_t)offset + floats) * sizeof(float) > size)
        return kiln_fail(KILN_E_INVAL, "%s: %zu floats at offset %u do not fit in a buffer "
                         "of %zu bytes", what, floats, (unsigned)offset, size);
    return KILN_OK;
}

/* Acquires a temporary pool buffer of `bytes` (tag segment.tmp). */
static kiln_status seg_tmp(kiln_device *dev, size_t bytes, pool_buffer **out)
{
    kiln_status st = pool_acquire(dev->pool, bytes, SEG_TMP_TAG, out);
    if (st != KILN_OK)
        *out = NULL;
    return st;
}

/* Releases a temporary buffer (NULL ignored) and clears the pointer. */
static void seg_tmp_release(kiln_device *dev, pool_buffer **buf)
{
    if (*buf)
        pool_release(dev->pool, *buf);
    *buf = NULL;
}

/* Writes an axis's weight table into a new temporary pool buffer *buf
 * (a blocking write: the host table can be freed at once).  On error *buf
 * is NULL. */
static kiln_status seg_upload_table(kiln_device *dev, const seg_axis *axis,
                                    pool_buffer **buf)
{
    size_t bytes = seg_axis_ints(axis) * sizeof(int32_t);
    kiln_status st = seg_tmp(dev, bytes, buf);

    if (st != KILN_OK)
        return st;
    st = dev_buffer_write(dev, (*buf)->mem, 0, bytes, axis->table,
                          "segment: writing a resize weight table");
    if (st != KILN_OK)
        seg_tmp_release(dev, buf);
    return st;
}

/* Fills `count` uints of `mem` from `values` (enqueued; the pattern is
 * copied at enqueue). */
static kiln_status seg_fill_uints(kiln_device *dev, cl_mem mem, const cl_uint *values,
                                  size_t count)
{
    kiln_status st = KILN_OK;

    for (size_t i = 0; i < count && st == KILN_OK; i++)
        st = dev_buffer_fill(dev, mem, &values[i], sizeof(cl_uint), i * sizeof(cl_uint),
                             sizeof(cl_uint), "segment: presetting a reduction buffer");
    return st;
}

/* The 8-bit PIL Lanczos resize of `channels` planes from src_w x src_h to
 * dst_w x dst_h.  src is float [0,1] (src_is_float) or uchar; the result
 * goes to the uchar buffer dst; maxes[max_index] is raised to the largest
 * result sample.  Temporaries are released before returning. */
static kiln_status seg_resize8(kiln_device *dev, cl_mem src, int src_is_float,
                               uint32_t src_w, uint32_t src_h, uint32_t channels,
                               uint32_t dst_w, uint32_t dst_h, cl_mem dst, cl_mem maxes,
                               cl_uint max_index)
{
    seg_axis hx, vy;
    pool_buffer *htab = NULL, *vtab = NULL, *mid = NULL;
    size_t group = seg_group_size(dev);
    kiln_status st;

    memset(&hx, 0, sizeof(hx));
    memset(&vy, 0, sizeof(vy));
    st = seg_axis_build(&hx, src_w, dst_w);
    if (st != KILN_OK)
        goto out;
    st = seg_axis_build(&vy, src_h, dst_h);
    if (st != KILN_OK)
        goto out;
    st = seg_upload_table(dev, &hx, &htab);
    if (st != KILN_OK)
        goto out;
    st = seg_upload_table(dev, &vy, &vtab);
    if (st != KILN_OK)
        goto out;
    st = seg_tmp(dev, (size_t)dst_w * src_h * channels, &mid);
    if (st != KILN_OK)
        goto out;
    {
        cl_uint in_w = src_w, out_w = dst_w, rows = src_h * channels, ksize = hx.ksize;
        size_t global[2] = { dst_w, rows };
        const dev_kernel_arg args[] = {
            DEV_ARG(src), DEV_ARG(htab->mem), DEV_ARG(mid->mem), DEV_ARG(in_w),
            DEV_ARG(out_w), DEV_ARG(rows), DEV_ARG(ksize)
        };
        st = dev_kernel_launch_default(dev, SEG_SOURCE,
                                       src_is_float ? "seg_resize_h_f32" : "seg_resize_h_u8",
                                       args, DEV_NARGS(args), 2, global);
        if (st != KILN_OK)
            goto out;
    }
    {
        cl_uint width = dst_w, in_h = src_h, out_h = dst_h, ksize = vy.ksize;
        cl_uint n = dst_w * dst_h * channels;
        size_t global = n, local = group;
        const dev_kernel_arg args[] = {
            DEV_ARG(mid->mem), DEV_ARG(vtab->mem), DEV_ARG(dst), DEV_ARG(maxes),
            DEV_ARG(max_index), { group * sizeof(cl_uint), NULL }, DEV_ARG(width),
            DEV_ARG(in_h), DEV_ARG(out_h), DEV_ARG(n), DEV_ARG(ksize)
        };
        st = dev_kernel_launch(dev, SEG_SOURCE, NULL, "seg_resize_v", args, DEV_NARGS(args), 1,
                               &global, &local);
    }
out:
    /* In-order queue: the passes have read these before any reuse. */
    seg_tmp_release(dev, &mid);
    seg_tmp_release(dev, &vtab);
    seg_tmp_release(dev, &htab);
    seg_axis_free(&vy);
    seg_axis_free(&hx);
    return st;
}

/* Computes a network input from an RGB image (see seg_prepost.h). */
kiln_status seg_preprocess(kiln_device *dev, const dev_image *rgb, const model_spec *spec,
                           nn_place dst)
{
    pool_buffer *resized = NULL, *maxes = NULL;
    cl_float4 mean_v, std_v;
    const cl_uint zero = 0;
    cl_uint side, npix;
    kiln_status st;

    if (!dev)
        return kiln_fail(KILN_E_INVAL, "segment preprocess: NULL device");
    if (!spec)
        return kiln_fail(KILN_E_INVAL, "segment preprocess: NULL model spec");
    st = dev_image_check(rgb, "segment preprocess: input");
    if (st != KILN_OK)
        return st;
    if (rgb->channels != 3)
        return kiln_fail(KILN_E_INVAL, "segment preprocess: input has %u channels, need 3 "
                         "(RGB)", (unsigned)rgb->channels);
    side = spec->input_size;
    if (side == 0 || side > 16384)
        return kiln_fail(KILN_E_INVAL, "segment preprocess: model %s has input size %u",
                         spec->name ? spec->name : "?", (unsigned)side);
    st = dev_image_norm_vectors(spec->mean, spec->std, 3, "segment preprocess", &mean_v,
                                &std_v);
    if (st != KILN_OK)
        return st;
    npix = side * side;
    st = seg_place_check(dst.mem, dst.offset, (size_t)npix * 3, "segment preprocess: output");
    if (st != KILN_OK)
        return st;

    st = seg_tmp(dev, (size_t)npix * 3, &resized);
    if (st != KILN_OK)
        goto out;
    st = seg_tmp(dev, sizeof(cl_uint), &maxes);
    if (st != KILN_OK)
        goto out;
    st = seg_fill_uints(dev, maxes->mem, &zero, 1);
    if (st != KILN_OK)
        goto out;
    st = seg_resize8(dev, rgb->buf->mem, 1, rgb->width, rgb->height, 3, side, side,
                     resized->mem, maxes->mem, 0);
    if (st != KILN_OK)
        goto out;
    {
        cl_uint offset = dst.offset;
        size_t global = npix;
        const dev_kernel_arg args[] = {
            DEV_ARG(resized->mem), DEV_ARG(maxes->mem), DEV_ARG(dst.mem), DEV_ARG(offset),
            DEV_ARG(npix), DEV_ARG(mean_v), DEV_ARG(std_v)
        };
        st = dev_kernel_launch_default(dev, SEG_SOURCE, "seg_normalize", args, DEV_NARGS(args), 1,
                                       &global);
    }
out:
    seg_tmp_release(dev, &maxes);
    seg_tmp_release(dev, &resized);
    if (st != KILN_OK)
        return kiln_fail_context(st, "segment preprocess %ux%u to %ux%u", (unsigned)rgb->width,
                                 (unsigned)rgb->height, (unsigned)side, (unsigned)side);
    return KILN_OK;
}

/* Enqueues rembg's post_process on the 8-bit mask `a` (out_w x out_h),
 * using `b` (same size) and a 16-bit temporary, writing 0/1 floats into
 * mask. */
static kiln_status seg_post_process(kiln_device *dev, pool_buffer *a, pool_buffer *b,
                                    cl_uint w, cl_uint h, dev_image *mask)
{
    pool_buffer *rows = NULL;
    size_t global[2] = { w, h };
    int taps[5];
    cl_int4 k0123;
    cl_int k4;
    kiln_status st;

    for (int pass = 0; pass < 2; pass++) {
        cl_int dilate = pass;
        cl_mem from = pass ? b->mem : a->mem, to = pass ? a->mem : b->mem;
        const dev_kernel_arg args[] = {
            DEV_ARG(from), DEV_ARG(to), DEV_ARG(w), DEV_ARG(h), DEV_ARG(dilate)
        };
        st = dev_kernel_launch_default(dev, SEG_SOURCE, "seg_morph_cross", args, DEV_NARGS(args), 2,
                                       global);
        if (st != KILN_OK)
            return st;
    }
    seg_gaussian_taps(taps);
    for (int i = 0; i < 4; i++)
        k0123.s[i] = taps[i];
    k4 = taps[4];
    st = seg_tmp(dev, (size_t)w * h * sizeof(cl_ushort), &rows);
    if (st != KILN_OK)
        return st;
    {
        const dev_kernel_arg args[] = {
            DEV_ARG(a->mem), DEV_ARG(rows->mem), DEV_ARG(w), DEV_ARG(h), DEV_ARG(k0123),
            DEV_ARG(k4)
        };
        st = dev_kernel_launch_default(dev, SEG_SOURCE, "seg_blur_h", args, DEV_NARGS(args), 2,
                                       global);
    }
    if (st == KILN_OK) {
        const dev_kernel_arg args[] = {
            DEV_ARG(rows->mem), DEV_ARG(mask->buf->mem), DEV_ARG(w), DEV_ARG(h),
            DEV_ARG(k0123), DEV_ARG(k4)
        };
        st = dev_kernel_launch_default(dev, SEG_SOURCE, "seg_blur_v_threshold", args,
                                       DEV_NARGS(args), 2, global);
    }
    seg_tmp_release(dev, &rows);
    return st;
}

/* Turns a prediction into a mask (see seg_prepost.h). */
kiln_status seg_postprocess(kiln_device *dev, nn_place pred, uint32_t pred_w,
                            uint32_t pred_h, uint32_t out_w, uint32_t out_h,
                            int post_process_mask, dev_image *mask)
{
    pool_buffer *keys = NULL, *quant = NULL, *a = NULL, *b = NULL;
    const cl_uint presets[3] = { 0xFFFFFFFFu, 0u, 0u };
    size_t group;
    cl_uint n, out_n;
    kiln_status st;

    if (!mask)
        return kiln_fail(KILN_E_INVAL, "segment postprocess: NULL output mask");
    memset(mask, 0, sizeof(*mask));
    if (!dev)
        return kiln_fail(KILN_E_INVAL, "segment postprocess: NULL device");
    if (pred_w == 0 || pred_h == 0 || out_w == 0 || out_h == 0 ||
        pred_w > DEV_IMAGE_MAX_SIDE || pred_h > DEV_IMAGE_MAX_SIDE ||
        out_w > DEV_IMAGE_MAX_SIDE || out_h > DEV_IMAGE_MAX_SIDE ||
        (uint64_t)pred_w * pred_h > UINT32_MAX / 4 || (uint64_t)out_w * out_h > UINT32_MAX / 4)
        return kiln_fail(KILN_E_INVAL, "segment postprocess: prediction %ux%u to mask %ux%u: "
                         "sizes must be nonzero and at most %u per side", (unsigned)pred_w,
                         (unsigned)pred_h, (unsigned)out_w, (unsigned)out_h,
                         (unsigned)DEV_IMAGE_MAX_SIDE);
    n = pred_w * pred_h;
    out_n = out_w * out_h;
    st = seg_place_check(pred.mem, pred.offset, n, "segment postprocess: prediction");
    if (st != KILN_OK)
        return st;
    group = seg_group_size(dev);

    st = dev_image_acquire(dev, out_w, out_h, 1, "segment.mask", mask);
    if (st != KILN_OK)
        goto out;
    st = seg_tmp(dev, sizeof(presets), &keys);
    if (st != KILN_OK)
        goto out;
    st = seg_fill_uints(dev, keys->mem, presets, 3);
    if (st != KILN_OK)
        goto out;
    {
        size_t groups = (n + group - 1) / group;
        size_t global, local = group;
        cl_uint offset = pred.offset;
        if (groups > 1024)
            groups = 1024;
        global = groups * group;
        {
            const dev_kernel_arg args[] = {
                DEV_ARG(pred.mem), DEV_ARG(offset), DEV_ARG(n), DEV_ARG(keys->mem),
                { group * sizeof(cl_uint), NULL }, { group * sizeof(cl_uint), NULL }
            };
            st = dev_kernel_launch(dev, SEG_SOURCE, NULL, "seg_minmax", args, DEV_NARGS(args), 1,
                                   &global, &local);
        }
        if (st != KILN_OK)
            goto out;
    }
    st = seg_tmp(dev, n, &quant);
    if (st != KILN_OK)
        goto out;
    {
        cl_uint offset = pred.offset;
        size_t global = n;
        const dev_kernel_arg args[] = {
            DEV_ARG(pred.mem), DEV_ARG(offset), DEV_ARG(n), DEV_ARG(keys->mem),
            DEV_ARG(quant->mem)
        };
        st = dev_kernel_launch_default(dev, SEG_SOURCE, "seg_quantise_pred", args, DEV_NARGS(args),
                                       1, &global);
        if (st != KILN_OK)
            goto out;
    }
    st = seg_tmp(dev, out_n, &a);
    if (st != KILN_OK)
        goto out;
    st = seg_resize8(dev, quant->mem, 0, pred_w, pred_h, 1, out_w, out_h, a->mem, keys->mem, 2);
    if (st != KILN_OK)
        goto out;
    if (post_process_mask) {
        st = seg_tmp(dev, out_n, &b);
        if (st != KILN_OK)
            goto out;
        st = seg_post_process(dev, a, b, out_w, out_h, mask);
    } else {
        size_t global = out_n;
        const dev_kernel_arg args[] = {
            DEV_ARG(a->mem), DEV_ARG(mask->buf->mem), DEV_ARG(out_n)
        };
        st = dev_kernel_launch_default(dev, SEG_SOURCE, "seg_u8_to_float", args, DEV_NARGS(args), 1,
                                       &global);
    }
out:
    seg_tmp_release(dev, &b);
    seg_tmp_release(dev, &a);
    seg_tmp_release(dev, &quant);
    seg_tmp_release(dev, &keys);
    if (st != KILN_OK) {
        dev_image_release(dev, mask);
        return kiln_fail_context(st, "segment postprocess %ux%u to %ux%u", (unsigned)pred_w,
                                 (unsigned)pred_h, (unsigned)out_w, (unsigned)out_h);
    }
    return KILN_OK;
}
