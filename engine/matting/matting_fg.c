/* Multi-level foreground estimation (Germer et al. 2020) on the device,
 * matching pymatting 1.1.15's estimate_foreground_ml (its numba CPU
 * loop: initial 1x1 F and B from the mean colours of alpha > 0.9 and
 * alpha < 0.1, levels of round(w0^(l/n)) x round(h0^(l/n)) for
 * l = 0..n with n = ceil(log2(max(w0, h0))), nearest-neighbour resizes
 * between levels, in-place raster-order sweeps).  Kernels in
 * cl/matting_fg.cl.
 *
 * The raster order is kept exactly: a level that fits in one tile is
 * swept by a single work-item; a larger one by tiles along anti-diagonal
 * wavefronts, one kernel launch per wavefront step (see fg_wave).  The
 * whole computation is enqueued without waiting.
 *
 * Device memory, besides the outputs: 8 floats per pixel of the input
 * for the top level's records (F, B, alpha), two record sets for the
 * lower levels (the largest of them about a quarter of the input), the
 * colour planes of a lower level, and 8 floats per input row for the
 * initial colours: about 11.5 floats per input pixel in all. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "launch.h"
#include "matting.h"
#include "status.h"

#define FG_SOURCE "matting_fg.cl"
#define FG_TAG_OUT "matting.foreground"
#define FG_TAG_TMP "matting.foreground.tmp"

/* Levels are at most ceil(log2(DEV_IMAGE_MAX_SIDE)) + 1. */
#define FG_MAX_LEVELS 26

/* Largest small_iterations or big_iterations accepted: every sweep of a
 * tiled level costs a kernel launch. */
#define FG_MAX_ITERATIONS 1000

/* Tile sizes of the wavefront sweeps: a CPU wants few, long work-items
 * (a launch costs tens of microseconds there) with rows long enough to
 * stream; a GPU wants more tiles per diagonal.  Measured on POCL (2
 * cores, 1 MP): 32x32 51 ms, 64x64 49 ms, 64x32 46 ms, 128x32 45 ms; the
 * GPU size is a guess, not measured. */
#define FG_TILE_CPU_W 64u
#define FG_TILE_CPU_H 32u
#define FG_TILE_GPU 8u

/* Fills the pymatting defaults. */
void fg_params_default(fg_params *p)
{
    if (!p)
        return;
    p->regularization = 1e-5f;
    p->small_iterations = 10;
    p->big_iterations = 2;
    p->small_size = 32;
    p->gradient_weight = 1.0f;
}

/* The level sizes of a w0 x h0 input: count levels, level l of
 * w[l] x h[l], the last one the input size. */
typedef struct fg_levels {
    uint32_t count;
    uint32_t w[FG_MAX_LEVELS];
    uint32_t h[FG_MAX_LEVELS];
} fg_levels;

/* Computes pymatting's level sizes: n = ceil(log2(max(w0, h0))) and, for
 * l = 0..n, round(side^(l / n)) (rounding half to even as Python's
 * round).  A 1x1 input (n = 0, where pymatting divides by zero) has one
 * level of 1x1. */
static void fg_levels_plan(uint32_t w0, uint32_t h0, fg_levels *lv)
{
    uint32_t side = w0 > h0 ? w0 : h0, n = 0;

    while (((uint64_t)1 << n) < side)
        n++;
    lv->count = n + 1;
    for (uint32_t l = 0; l <= n; l++) {
        if (n == 0 || l == n) {
            lv->w[l] = w0;
            lv->h[l] = h0;
            continue;
        }
        lv->w[l] = (uint32_t)nearbyint(pow((double)w0, (double)l / (double)n));
        lv->h[l] = (uint32_t)nearbyint(pow((double)h0, (double)l / (double)n));
    }
}

/* The working buffers of one estimation: the records of the top level
 * and two sets of records for the lower levels (consecutive levels
 * alternate between them), the colour planes of a lower level, and the
 * per-row colour sums. */
typedef struct fg_work {
    pool_buffer *top;
    pool_buffer *set[2];
    pool_buffer *image;
    pool_buffer *sums;
} fg_work;

/* A record per pixel: F0, F1, F2, alpha, B0, B1, B2, alpha. */
#define FG_RECORD 8

/* Which record set level l (of count) uses; l = -1 is the initial 1x1
 * record.  The top level has its own buffer. */
static int fg_level_set(const fg_levels *lv, int l)
{
    return (int)(((int)lv->count - 2 - l) % 2);
}

/* Gives every buffer of *work back to the pool (NULL ones are skipped).
 * The queue is in order: kernels already enqueued run before any reuse. */
static void fg_work_release(kiln_device *dev, fg_work *work)
{
    pool_release(dev->pool, work->top);
    pool_release(dev->pool, work->set[0]);
    pool_release(dev->pool, work->set[1]);
    pool_release(dev->pool, work->image);
    pool_release(dev->pool, work->sums);
    memset(work, 0, sizeof(*work));
}

/* Acquires one temporary of `floats` floats into *out, adding `what` to
 * the message on failure. */
static kiln_status fg_acquire(kiln_device *dev, size_t floats, const char *what,
                              pool_buffer **out)
{
    kiln_status st = pool_acquire(dev->pool, floats * sizeof(float), FG_TAG_TMP, out);
    if (st != KILN_OK) {
        *out = NULL;
        return kiln_fail_context(st, "foreground: %s (%zu floats)", what, floats);
    }
    return KILN_OK;
}

/* Acquires the working buffers for input w0 x h0 with levels *lv.  On
 * error releases what it acquired. */
static kiln_status fg_work_acquire(kiln_device *dev, const fg_levels *lv, uint32_t w0,
                                   uint32_t h0, fg_work *work)
{
    size_t set_pixels[2] = { 1, 1 }, lower = 1;
    kiln_status st;

    memset(work, 0, sizeof(*work));
    for (uint32_t l = 0; l + 1 < lv->count; l++) {
        size_t n = (size_t)lv->w[l] * lv->h[l];
        int set = fg_level_set(lv, (int)l);
        if (n > set_pixels[set])
            set_pixels[set] = n;
        if (n > lower)
            lower = n;
    }
    st = fg_acquire(dev, (size_t)FG_RECORD * w0 * h0, "level records", &work->top);
    if (st == KILN_OK)
        st = fg_acquire(dev, FG_RECORD * set_pixels[0], "lower level records", &work->set[0]);
    if (st == KILN_OK)
        st = fg_acquire(dev, FG_RECORD * set_pixels[1], "lower level records", &work->set[1]);
    if (st == KILN_OK)
        st = fg_acquire(dev, 3 * lower, "level image", &work->image);
    if (st == KILN_OK)
        st = fg_acquire(dev, (size_t)8 * h0, "row colour sums", &work->sums);
    if (st != KILN_OK)
        fg_work_release(dev, work);
    return st;
}

/* Work-group sizes: fixed, so that a driver that compiles a kernel per
 * work-group size (POCL does) compiles each kernel once whatever the
 * image size (global sizes are rounded up to them; the kernels ignore
 * the items past their range).  The wavefront kernels use single-item groups: a driver
 * would otherwise put a whole short diagonal into one group, and so on
 * one CPU core. */
static const size_t fg_local_1d[1] = { 256 };
static const size_t fg_local_2d[2] = { 64, 4 };
static const size_t fg_local_single[2] = { 1, 1 };

/* Enqueues the initial colours: per-row sums of the input, then their
 * total into the 1x1 record buffer `fb`. */
static kiln_status fg_enqueue_init(kiln_device *dev, const dev_image *image,
                                   const dev_image *alpha, fg_work *work, cl_mem fb)
{
    cl_uint w0 = image->width, h0 = image->height;
    size_t global = h0, one = 1;
    kiln_status st;

    {
        const dev_kernel_arg args[] = {
            DEV_ARG(image->buf->mem), DEV_ARG(alpha->buf->mem),
            DEV_ARG(work->sums->mem), DEV_ARG(w0), DEV_ARG(h0)
        };
        st = dev_kernel_launch(dev, FG_SOURCE, NULL, "fg_row_sums", args, DEV_NARGS(args),
                               1, &global, fg_local_1d);
    }
    if (st != KILN_OK)
        return st;
    {
        const dev_kernel_arg args[] = { DEV_ARG(work->sums->mem), DEV_ARG(h0), DEV_ARG(fb) };
        return dev_kernel_launch(dev, FG_SOURCE, NULL, "fg_init", args, DEV_NARGS(args),
                                 1, &one, fg_local_single);
    }
}

/* Where one level lives: its record buffer, its colour planes, its size. */
typedef struct fg_level_bufs {
    cl_mem fb, image;
    cl_uint w, h;
} fg_level_bufs;

/* Enqueues `iterations` raster sweeps over level *lv: one work-item for a
 * level that fits in one tile_w x tile_h tile, else one wavefront launch
 * per step (sweep t of tile (i, j) at step i + j + 2t). */
static kiln_status fg_enqueue_sweeps(kiln_device *dev, const fg_level_bufs *lv,
                                     cl_uint iterations, cl_uint tile_w, cl_uint tile_h,
                                     cl_float reg, cl_float gw)
{
    cl_uint tiles_x, tiles_y, last_diag, steps;
    kiln_status st = KILN_OK;

    if (lv->w <= tile_w && lv->h <= tile_h) {
        const dev_kernel_arg args[] = {
            DEV_ARG(lv->fb), DEV_ARG(lv->image), DEV_ARG(lv->w), DEV_ARG(lv->h),
            DEV_ARG(iterations), DEV_ARG(reg), DEV_ARG(gw)
        };
        size_t one = 1;
        return dev_kernel_launch(dev, FG_SOURCE, NULL, "fg_sweep_level", args, DEV_NARGS(args),
                                 1, &one, fg_local_single);
    }
    tiles_x = (lv->w + tile_w - 1) / tile_w;
    tiles_y = (lv->h + tile_h - 1) / tile_h;
    last_diag = tiles_x + tiles_y - 2;
    steps = last_diag + 2 * (iterations - 1) + 1;
    for (cl_uint step = 0; step < steps && st == KILN_OK; step++) {
        cl_uint t_hi = step / 2 < iterations - 1 ? step / 2 : iterations - 1;
        cl_uint t_lo = step > last_diag ? (step - last_diag + 1) / 2 : 0;
        size_t global[2];

        if (t_lo > t_hi)
            continue;
        global[0] = tiles_x < tiles_y ? tiles_x : tiles_y;
        global[1] = t_hi - t_lo + 1;
        {
            const dev_kernel_arg args[] = {
                DEV_ARG(lv->fb), DEV_ARG(lv->image), DEV_ARG(lv->w), DEV_ARG(lv->h),
                DEV_ARG(tile_w), DEV_ARG(tile_h), DEV_ARG(tiles_x), DEV_ARG(tiles_y),
                DEV_ARG(step), DEV_ARG(t_lo), DEV_ARG(iterations), DEV_ARG(reg),
                DEV_ARG(gw)
            };
            st = dev_kernel_launch(dev, FG_SOURCE, NULL, "fg_wave", args, DEV_NARGS(args),
                                   2, global, fg_local_single);
        }
    }
    return st;
}

/* Checks the parameters: regularization finite, > 0 and normal (the
 * per-pixel system is singular without it where alpha is flat, and the
 * kernels divide by a multiple of it), gradient_weight finite and >= 0,
 * iteration counts at most FG_MAX_ITERATIONS. */
static kiln_status fg_params_check(const fg_params *p)
{
    if (!p)
        return kiln_fail(KILN_E_INVAL, "foreground: NULL parameters");
    if (!(isnormal(p->regularization) && p->regularization > 0.0f))
        return kiln_fail(KILN_E_INVAL, "foreground: regularization %g must be finite "
                         "and > 0 (and not subnormal)", (double)p->regularization);
    if (!(isfinite(p->gradient_weight) && p->gradient_weight >= 0.0f))
        return kiln_fail(KILN_E_INVAL, "foreground: gradient_weight %g must be finite "
                         "and >= 0", (double)p->gradient_weight);
    if (p->small_iterations > FG_MAX_ITERATIONS || p->big_iterations > FG_MAX_ITERATIONS)
        return kiln_fail(KILN_E_INVAL, "foreground: iterations %u/%u exceed %u",
                         (unsigned)p->small_iterations, (unsigned)p->big_iterations,
                         (unsigned)FG_MAX_ITERATIONS);
    return KILN_OK;
}

/* Checks the images and outputs of op_foreground_ml and empties the
 * outputs: image 3 channels, alpha 1 channel of the same size, outputs
 * distinct from each other and from the inputs. */
static kiln_status fg_args_check(const dev_image *image, const dev_image *alpha,
                                 dev_image *foreground, dev_image *background)
{
    kiln_status st;

    if (!foreground)
        return kiln_fail(KILN_E_INVAL, "foreground: NULL output image");
    if (foreground == image || foreground == alpha || foreground == background ||
        (background && (background == image || background == alpha)))
        return kiln_fail(KILN_E_INVAL, "foreground: the outputs must be distinct and "
                         "must not be input images");
    memset(foreground, 0, sizeof(*foreground));
    if (background)
        memset(background, 0, sizeof(*background));
    st = dev_image_check(image, "foreground: image");
    if (st != KILN_OK)
        return st;
    st = dev_image_check(alpha, "foreground: alpha");
    if (st != KILN_OK)
        return st;
    if (image->channels != 3)
        return kiln_fail(KILN_E_INVAL, "foreground: image has %u channels, need 3",
                         (unsigned)image->channels);
    if (alpha->channels != 1)
        return kiln_fail(KILN_E_INVAL, "foreground: alpha has %u channels, need 1",
                         (unsigned)alpha->channels);
    if (image->width != alpha->width || image->height != alpha->height)
        return kiln_fail(KILN_E_INVAL, "foreground: image %ux%u and alpha %ux%u differ "
                         "in size", (unsigned)image->width, (unsigned)image->height,
                         (unsigned)alpha->width, (unsigned)alpha->height);
    return KILN_OK;
}

/* Multi-level foreground (and background) estimation (see matting.h):
 * plans the levels, acquires the outputs and working buffers, enqueues
 * the initial colours, per level the nearest-neighbour preparation and
 * the sweeps, and the copy of the top level to the outputs.  Does not
 * wait for the device. */
kiln_status op_foreground_ml(kiln_device *dev, const dev_image *image,
                             const dev_image *alpha, const fg_params *params,
                             dev_image *foreground, dev_image *background)
{
    fg_levels levels;
    fg_work work;
    fg_level_bufs prev, cur;
    cl_uint w0, h0, npix, tile_w, tile_h;
    int cpu;
    cl_int want_background = background ? 1 : 0;
    cl_float reg, gw;
    kiln_status st;

    st = fg_args_check(image, alpha, foreground, background);
    if (st != KILN_OK)
        return st;
    st = fg_params_check(params);
    if (st != KILN_OK)
        return st;
    if (!dev)
        return kiln_fail(KILN_E_INVAL, "foreground: NULL device");
    w0 = image->width;
    h0 = image->height;
    npix = w0 * h0;
    reg = params->regularization;
    gw = params->gradient_weight;
    cpu = (dev->info.type & CL_DEVICE_TYPE_CPU) != 0;
    tile_w = cpu ? FG_TILE_CPU_W : FG_TILE_GPU;
    tile_h = cpu ? FG_TILE_CPU_H : FG_TILE_GPU;
    fg_levels_plan(w0, h0, &levels);

    st = dev_image_acquire(dev, w0, h0, 3, FG_TAG_OUT, foreground);
    if (st != KILN_OK)
        return kiln_fail_context(st, "foreground");
    if (background) {
        st = dev_image_acquire(dev, w0, h0, 3, FG_TAG_OUT, background);
        if (st != KILN_OK) {
            kiln_fail_context(st, "foreground: background output");
            goto out_release_foreground;
        }
    }
    st = fg_work_acquire(dev, &levels, w0, h0, &work);
    if (st != KILN_OK)
        goto out_release_background;

    memset(&prev, 0, sizeof(prev));
    prev.fb = work.set[fg_level_set(&levels, -1)]->mem;
    prev.w = prev.h = 1;
    st = fg_enqueue_init(dev, image, alpha, &work, prev.fb);
    for (uint32_t l = 0; l < levels.count && st == KILN_OK; l++) {
        int top = l + 1 == levels.count;
        cl_int copy_image = top ? 0 : 1;
        cl_uint iterations;
        size_t global[2];

        cur.w = levels.w[l];
        cur.h = levels.h[l];
        cur.fb = top ? work.top->mem : work.set[fg_level_set(&levels, (int)l)]->mem;
        cur.image = top ? image->buf->mem : work.image->mem;
        global[0] = cur.w;
        global[1] = cur.h;
        {
            const dev_kernel_arg args[] = {
                DEV_ARG(image->buf->mem), DEV_ARG(alpha->buf->mem), DEV_ARG(w0),
                DEV_ARG(h0), DEV_ARG(prev.fb), DEV_ARG(prev.w), DEV_ARG(prev.h),
                DEV_ARG(cur.image), DEV_ARG(cur.fb), DEV_ARG(cur.w), DEV_ARG(cur.h),
                DEV_ARG(copy_image)
            };
            st = dev_kernel_launch(dev, FG_SOURCE, NULL, "fg_prepare", args, DEV_NARGS(args),
                                   2, global, fg_local_2d);
        }
        iterations = (cur.w <= params->small_size && cur.h <= params->small_size)
                     ? params->small_iterations : params->big_iterations;
        if (st == KILN_OK && iterations > 0)
            st = fg_enqueue_sweeps(dev, &cur, iterations, tile_w, tile_h, reg, gw);
        prev = cur;
    }
    if (st == KILN_OK) {
        cl_mem bg_mem = background ? background->buf->mem : foreground->buf->mem;
        const dev_kernel_arg args[] = {
            DEV_ARG(work.top->mem), DEV_ARG(foreground->buf->mem), DEV_ARG(bg_mem),
            DEV_ARG(npix), DEV_ARG(want_background)
        };
        size_t global = npix;
        st = dev_kernel_launch(dev, FG_SOURCE, NULL, "fg_unpack", args, DEV_NARGS(args),
                               1, &global, fg_local_1d);
    }
    /* In-order queue: the enqueued kernels have read the work buffers
     * before any later user of the pool gets them. */
    fg_work_release(dev, &work);
    if (st == KILN_OK)
        return KILN_OK;
    kiln_fail_context(st, "foreground %ux%u", (unsigned)w0, (unsigned)h0);
out_release_background:
    dev_image_release(dev, background);
out_release_foreground:
    dev_image_release(dev, foreground);
    return st;
}
