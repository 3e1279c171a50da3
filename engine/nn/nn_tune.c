/* The convolution tuning search and its per-device file (see nn_tune.h). */
#include <clblast_c.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dir_create.h"
#include "clock.h"
#include "atomic_file.h"
#include "launch.h"
#include "hash.h"
#include "nn_opcodes.h"
#include "host_alloc.h"
#include "nn_ops.h"
#include "nn_conv_algo.h"
#include "graph_fold.h"
#include "onnx_load.h"
#include "pool.h"
#include "nn_tune.h"
#include "nn_tune_internal.h"
#include "program.h"
#include "program_disk.h"
#include "status.h"

#define TUNE_FILE_MAX 65536

static const char *const class_names[NN_CONV_CLASSES] = { "wide", "thin_in", "narrow" };

/* One representative conv of the search. */
typedef struct tune_shape {
    const char *name;
    int cls;
    nn_conv_shape s;
} tune_shape;

/* U^2-Net / IS-Net convs at moderate sizes (C, H, W, OC, OH, OW, KH, KW,
 * sy, sx, dy, dx, py, px, act, half_out). */
static const tune_shape shapes[] = {
    { "64->64 3x3 d1 80x80", NN_CONV_CLASS_WIDE,
      { 64, 80, 80, 64, 80, 80, 3, 3, 1, 1, 1, 1, 1, 1, NN_ACT_RELU, 0 } },
    { "16->16 3x3 d2 160x160", NN_CONV_CLASS_WIDE,
      { 16, 160, 160, 16, 160, 160, 3, 3, 1, 1, 2, 2, 2, 2, NN_ACT_RELU, 0 } },
    { "32->32 3x3 d8 40x40", NN_CONV_CLASS_WIDE,
      { 32, 40, 40, 32, 40, 40, 3, 3, 1, 1, 8, 8, 8, 8, NN_ACT_RELU, 0 } },
    { "256->128 3x3 d1 20x20", NN_CONV_CLASS_WIDE,
      { 256, 20, 20, 128, 20, 20, 3, 3, 1, 1, 1, 1, 1, 1, NN_ACT_RELU, 0 } },
    { "3->64 3x3 d1 160x160", NN_CONV_CLASS_THIN_IN,
      { 3, 160, 160, 64, 160, 160, 3, 3, 1, 1, 1, 1, 1, 1, NN_ACT_RELU, 0 } },
    { "3->64 3x3 s2 256x256", NN_CONV_CLASS_THIN_IN,
      { 3, 256, 256, 64, 128, 128, 3, 3, 2, 2, 1, 1, 1, 1, NN_ACT_RELU, 0 } },
    { "64->1 3x3 d1 160x160", NN_CONV_CLASS_NARROW,
      { 64, 160, 160, 1, 160, 160, 3, 3, 1, 1, 1, 1, 1, 1, NN_ACT_NONE, 0 } },
    { "6->1 1x1 160x160", NN_CONV_CLASS_NARROW,
      { 6, 160, 160, 1, 160, 160, 1, 1, 1, 1, 1, 1, 0, 0, NN_ACT_SIGMOID, 0 } },
};
#define NSHAPES (sizeof(shapes) / sizeof(shapes[0]))

/* Tile candidates per class (toc, nv, vw, lx, ly), CPU and GPU.  The
 * first of each list is the default; candidates that differ only in the
 * work-group size share a program build. */
static const nn_conv_tile cpu_cands[NN_CONV_CLASSES][8] = {
    { { 16, 1, 16, 1, 4 }, { 16, 1, 16, 1, 8 }, { 16, 1, 16, 1, 2 }, { 16, 2, 16, 1, 4 },
      { 8, 2, 16, 1, 4 }, { 24, 1, 16, 1, 4 }, { 16, 1, 8, 1, 4 }, { 16, 2, 8, 1, 4 } },
    { { 16, 1, 16, 1, 4 }, { 16, 2, 16, 1, 4 }, { 8, 2, 16, 1, 4 }, { 16, 1, 8, 1, 4 },
      { 0, 0, 0, 0, 0 } },
    { { 1, 4, 16, 1, 4 }, { 1, 2, 16, 1, 4 }, { 1, 8, 16, 1, 4 }, { 1, 4, 16, 1, 8 },
      { 1, 4, 8, 1, 4 }, { 0, 0, 0, 0, 0 } },
};
static const nn_conv_tile gpu_cands[NN_CONV_CLASSES][8] = {
    { { 8, 1, 1, 16, 8 }, { 4, 1, 1, 16, 8 }, { 16, 1, 1, 16, 8 }, { 8, 2, 1, 16, 8 },
      { 8, 1, 1, 64, 1 }, { 8, 1, 4, 16, 8 }, { 0, 0, 0, 0, 0 } },
    { { 8, 1, 1, 16, 8 }, { 4, 1, 1, 16, 8 }, { 16, 1, 1, 16, 8 }, { 0, 0, 0, 0, 0 } },
    { { 1, 1, 1, 16, 8 }, { 1, 2, 1, 16, 8 }, { 1, 4, 1, 16, 8 }, { 0, 0, 0, 0, 0 } },
};

/* Floating-point operations of one conv (a multiply-add counts 2). */
static double shape_flops(const nn_conv_shape *s)
{
    return 2.0 * s->oc * s->oh * s->ow * (double)s->c * s->kh * s->kw;
}

/* Where the search keeps its data: one activation buffer (input, output,
 * im2col matrix) and one weight buffer (packed weights, plain OIHW
 * weights, bias). */
typedef struct tune_bufs {
    pool_buffer *act;
    pool_buffer *wts;
    nn_place x, y, col, wpacked, wplain, bias;
} tune_bufs;

typedef struct tune_op tune_op;

/* Enqueues one run of a timed operation (does not wait). */
typedef kiln_status (*tune_run_fn)(const tune_op *op);

/* One timed operation: a tiled launch, a direct launch, or im2col + GEMM,
 * as `run` enqueues it. */
struct tune_op {
    tune_run_fn run;
    kiln_device *dev;
    const nn_conv_shape *s;
    const tune_bufs *b;
    nn_conv_tile tile;         /* tiled */
    int oc_first;              /* tiled */
    const nn_launch *direct;   /* direct: the launch context, node 0 */
};

/* The tiled kernel with op->tile. */
static kiln_status run_tiled(const tune_op *op)
{
    return nn_conv_tiled_enqueue(op->dev, op->s, &op->tile, op->oc_first, op->b->x,
                                 op->b->wpacked, op->b->bias, op->b->y, (nn_place){ NULL, 0 });
}

/* The direct launcher on node 0 of op->direct's one-Conv graph. */
static kiln_status run_direct(const tune_op *op)
{
    return nn_launch_conv_direct(op->direct, &op->direct->g->nodes[0]);
}

/* im2col into the column matrix, then CLBlast's GEMM with the plain
 * weights. */
static kiln_status run_gemm(const tune_op *op)
{
    static const size_t local[2] = { 64, 1 };
    const nn_conv_shape *s = op->s;
    size_t npix = (size_t)s->oh * (size_t)s->ow, ck = (size_t)s->c * s->kh * s->kw;
    size_t global[2] = { npix, ck };
    cl_int ci = s->c, hi = s->h, wi = s->w, ohi = s->oh, owi = s->ow, khi = s->kh;
    cl_int kwi = s->kw, syi = s->sy, sxi = s->sx, dyi = s->dy, dxi = s->dx, pyi = s->py;
    cl_int pxi = s->px;
    const dev_kernel_arg args[] = {
        DEV_ARG(op->b->x.mem), DEV_ARG(op->b->x.offset), DEV_ARG(op->b->col.mem),
        DEV_ARG(op->b->col.offset), DEV_ARG(ci), DEV_ARG(hi), DEV_ARG(wi), DEV_ARG(ohi),
        DEV_ARG(owi), DEV_ARG(khi), DEV_ARG(kwi), DEV_ARG(syi), DEV_ARG(sxi), DEV_ARG(dyi),
        DEV_ARG(dxi), DEV_ARG(pyi), DEV_ARG(pxi)
    };
    cl_command_queue queue = op->dev->queue;
    CLBlastStatusCode code;
    kiln_status st = dev_kernel_launch(op->dev, "nn_conv_gemm.cl", NULL, "conv_gemm_im2col", args,
                                       DEV_NARGS(args), 2, global, local);

    if (st != KILN_OK)
        return st;
    code = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo,
                        (size_t)s->oc, npix, ck, 1.0f, op->b->wplain.mem, op->b->wplain.offset,
                        ck, op->b->col.mem, op->b->col.offset, npix, 0.0f, op->b->y.mem,
                        op->b->y.offset, npix, &queue, NULL);
    if (code != CLBlastSuccess)
        return kiln_fail(KILN_E_CL, "CLBlastSgemm failed with status %d", (int)code);
    return KILN_OK;
}

/* Runs one tune_op (the nn_tune_fn of op_time). */
static kiln_status op_run(void *user)
{
    const tune_op *op = user;

    return op->run(op);
}

/* Times a tune_op (nn_tune_time). */
static kiln_status op_time(const tune_op *op, double *ms)
{
    return nn_tune_time(op->dev, op_run, (void *)op, ms);
}

/* Acquires and fills the search's buffers, sized for every shape and
 * every candidate tile (toc <= 32).  On error nothing stays acquired. */
static kiln_status bufs_acquire(kiln_device *dev, tune_bufs *b)
{
    size_t in_max = 0, out_max = 0, col_max = 0, packed_max = 0, plain_max = 0, oc_max = 0;
    size_t act_n, wts_n, n;
    float *host = NULL;
    uint32_t seed = 12345u;
    kiln_status st;

    memset(b, 0, sizeof(*b));
    for (size_t i = 0; i < NSHAPES; i++) {
        const nn_conv_shape *s = &shapes[i].s;
        size_t taps = (size_t)s->c * s->kh * s->kw;
        size_t in = (size_t)s->c * s->h * s->w, out = (size_t)s->oc * s->oh * s->ow;
        size_t col = taps * s->oh * s->ow;
        in_max = in > in_max ? in : in_max;
        out_max = out > out_max ? out : out_max;
        col_max = col > col_max ? col : col_max;
        packed_max = (s->oc + 32u) * taps > packed_max ? (s->oc + 32u) * taps : packed_max;
        plain_max = (size_t)s->oc * taps > plain_max ? (size_t)s->oc * taps : plain_max;
        oc_max = (size_t)s->oc > oc_max ? (size_t)s->oc : oc_max;
    }
    /* odd offsets, as in a real arena */
    b->x.offset = 3;
    b->y.offset = (cl_uint)(b->x.offset + in_max + 5);
    b->col.offset = (cl_uint)(b->y.offset + out_max + 7);
    act_n = b->col.offset + col_max;
    b->wpacked.offset = 1;
    b->wplain.offset = (cl_uint)(b->wpacked.offset + packed_max);
    b->bias.offset = (cl_uint)(b->wplain.offset + plain_max);
    wts_n = b->bias.offset + oc_max;
    st = pool_acquire(dev->pool, act_n * sizeof(float), "tune.activations", &b->act);
    if (st == KILN_OK)
        st = pool_acquire(dev->pool, wts_n * sizeof(float), "tune.weights", &b->wts);
    if (st != KILN_OK)
        goto fail;
    n = act_n > wts_n ? act_n : wts_n;
    host = kiln_malloc(n * sizeof(float));
    if (!host) {
        st = kiln_fail(KILN_E_HOSTMEM, "tuning: out of host memory");
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        host[i] = (float)(seed >> 8) / 16777216.0f - 0.5f;
    }
    st = dev_buffer_write(dev, b->act->mem, 0, act_n * sizeof(float), host,
                          "tuning: writing test data");
    if (st == KILN_OK)
        st = dev_buffer_write(dev, b->wts->mem, 0, wts_n * sizeof(float), host,
                              "tuning: writing test data");
    kiln_free(host);
    if (st != KILN_OK)
        goto fail;
    b->x.mem = b->y.mem = b->col.mem = b->act->mem;
    b->wpacked.mem = b->wplain.mem = b->bias.mem = b->wts->mem;
    return KILN_OK;
fail:
    pool_release(dev->pool, b->act);
    pool_release(dev->pool, b->wts);
    memset(b, 0, sizeof(*b));
    return st;
}

/* Gives the search's buffers back (after draining the queue). */
static void bufs_release(kiln_device *dev, tune_bufs *b)
{
    device_finish(dev);
    pool_release(dev->pool, b->act);
    pool_release(dev->pool, b->wts);
    memset(b, 0, sizeof(*b));
}

/* Times the direct launcher on every shape, printing GFLOP/s. */
static kiln_status time_direct(kiln_device *dev, FILE *log, const tune_bufs *b)
{
    for (size_t i = 0; i < NSHAPES; i++) {
        kiln_graph *g = NULL;
        nn_place places[4];
        nn_launch ctx;
        tune_op op;
        double ms = 0.0;
        kiln_status st = nn_tune_conv_graph(&shapes[i].s, &g);

        if (st != KILN_OK)
            return st;
        places[0] = b->x;
        places[1] = b->wplain;
        places[2] = b->bias;
        places[3] = b->y;
        ctx = (nn_launch){ dev, g, places, NULL, NULL, { NULL, 0 }, 0, 0 };
        op = (tune_op){ run_direct, dev, &shapes[i].s, b, { 0, 0, 0, 0, 0 }, 0, &ctx };
        st = op_time(&op, &ms);
        graph_free(g);
        if (st != KILN_OK)
            return st;
        if (log)
            fprintf(log, "  direct          %-24s %9.3f ms %8.1f GFLOP/s\n", shapes[i].name, ms,
                    shape_flops(&shapes[i].s) / ms / 1e6);
    }
    return KILN_OK;
}

static kiln_status time_clblast_run(kiln_device *dev, FILE *log, const tune_bufs *b);

/* Runs the CLBlast comparison, then drops CLBlast's program cache so that
 * it holds nothing of this device's context. */
static kiln_status time_clblast(kiln_device *dev, FILE *log, const tune_bufs *b)
{
    kiln_status st = time_clblast_run(dev, log, b);

    device_finish(dev);
    CLBlastClearCache();
    return st;
}

/* Times im2col + CLBlast's direct GEMM (the indirect path, which allocates
 * its own buffers, is disabled by a high XGEMM_MIN_INDIRECT_SIZE) with
 * CLBlast's parameters and, on CPUs, with one XgemmDirect override set.
 * CLBlast failures are logged, not returned: the comparison is
 * informative. */
static kiln_status time_clblast_run(kiln_device *dev, FILE *log, const tune_bufs *b)
{
    static const char *const route_names[1] = { "XGEMM_MIN_INDIRECT_SIZE" };
    static const size_t route_values[1] = { (size_t)1 << 30 };
    static const char *const direct_names[10] = { "KWID", "MDIMAD", "MDIMCD", "NDIMBD", "NDIMCD",
                                                   "PADA", "PADB", "VWMD", "VWND", "WGD" };
    static const size_t direct_values[10] = { 8, 8, 8, 8, 8, 1, 1, 4, 8, 64 };
    cl_command_queue queue = dev->queue;
    CLBlastStatusCode code;

    /* a tiny GEMM (always direct) loads CLBlast's parameter tables, which
       an override needs */
    code = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, 16, 16, 16,
                        1.0f, b->wplain.mem, b->wplain.offset, 16, b->col.mem, b->col.offset, 16,
                        0.0f, b->y.mem, b->y.offset, 16, &queue, NULL);
    if (code == CLBlastSuccess)
        code = CLBlastOverrideParameters(dev->info.id, "GemmRoutine", CLBlastPrecisionSingle, 1,
                                         (const char **)route_names, route_values);
    if (code != CLBlastSuccess) {
        if (log)
            fprintf(log, "  clblast: unavailable (status %d); not compared\n", (int)code);
        device_finish(dev);
        return KILN_OK;
    }
    for (int variant = 0; variant < 2; variant++) {
        if (variant == 1) {
            if (!(dev->info.type & CL_DEVICE_TYPE_CPU))
                break;
            code = CLBlastOverrideParameters(dev->info.id, "XgemmDirect", CLBlastPrecisionSingle,
                                             10, (const char **)direct_names, direct_values);
            if (code != CLBlastSuccess) {
                if (log)
                    fprintf(log, "  clblast: XgemmDirect override refused (status %d)\n",
                            (int)code);
                break;
            }
        }
        for (size_t i = 0; i < NSHAPES; i++) {
            tune_op op = { run_gemm, dev, &shapes[i].s, b, { 0, 0, 0, 0, 0 }, 0, NULL };
            double ms = 0.0;
            kiln_status st;
            if (shapes[i].cls == NN_CONV_CLASS_NARROW)
                continue;   /* a GEMM of one row: not a contender */
            st = op_time(&op, &ms);
            if (st != KILN_OK) {
                if (log)
                    fprintf(log, "  clblast: %s\n", kiln_last_error());
                device_finish(dev);
                return st == KILN_E_CL ? KILN_OK : st;
            }
            if (log)
                fprintf(log, "  im2col+clblast%c %-24s %9.3f ms %8.1f GFLOP/s\n",
                        variant ? '*' : ' ', shapes[i].name, ms,
                        shape_flops(&shapes[i].s) / ms / 1e6);
        }
    }
    return KILN_OK;
}

/* Searches the candidates of one class, keeping the fastest (least total
 * time over the class's shapes, by a 3% margin over earlier candidates) in
 * *best. */
static kiln_status search_class(kiln_device *dev, FILE *log, const tune_bufs *b, int cls,
                                const nn_conv_tile *cands, int oc_first, nn_conv_tile *best)
{
    double best_ms = -1.0;

    for (int k = 0; k < 8 && cands[k].toc; k++) {
        double total = 0.0, flops = 0.0;
        for (size_t i = 0; i < NSHAPES; i++) {
            tune_op op = { run_tiled, dev, &shapes[i].s, b, cands[k], oc_first, NULL };
            double ms = 0.0;
            kiln_status st;
            if (shapes[i].cls != cls)
                continue;
            nn_conv_tile_fit(&op.tile, shapes[i].s.oc, shapes[i].s.ow);
            st = op_time(&op, &ms);
            if (st != KILN_OK)
                return st;
            total += ms;
            flops += shape_flops(&shapes[i].s);
            if (log)
                fprintf(log, "  %-7s toc %2d nv %d vw %2d wg %2dx%-2d %-24s %9.3f ms %8.1f GFLOP/s\n",
                        class_names[cls], cands[k].toc, cands[k].nv, cands[k].vw, cands[k].lx,
                        cands[k].ly, shapes[i].name, ms, shape_flops(&shapes[i].s) / ms / 1e6);
        }
        if (log)
            fprintf(log, "  %-7s toc %2d nv %d vw %2d wg %2dx%-2d %-24s %9.3f ms %8.1f GFLOP/s\n",
                    class_names[cls], cands[k].toc, cands[k].nv, cands[k].vw, cands[k].lx,
                    cands[k].ly, "= class total", total, flops / total / 1e6);
        /* a challenger must beat the best so far by 3%: timing noise does
           not move the choice away from the default */
        if (best_ms < 0.0 || total < 0.97 * best_ms) {
            best_ms = total;
            *best = cands[k];
        }
    }
    return KILN_OK;
}

/* Runs the search (see nn_tune.h). */
kiln_status nn_tune_run(kiln_device *dev, FILE *log, nn_conv_tuning *out)
{
    int gpu = (dev->info.type & CL_DEVICE_TYPE_GPU) != 0;
    const nn_conv_tile (*cands)[8] = gpu ? gpu_cands : cpu_cands;
    nn_conv_tuning t;
    tune_bufs b;
    double start = kiln_clock_ms();
    kiln_status st;

    nn_conv_tuning_default(&dev->info, &t);
    st = bufs_acquire(dev, &b);
    if (st != KILN_OK)
        return st;
    if (log)
        fprintf(log, "tuning the tiled convolution on %s (%s, %s)\n", dev->info.name,
                dev->info.platform_name, dev->info.driver_version);
    for (int c = 0; c < NN_CONV_CLASSES && st == KILN_OK; c++)
        st = search_class(dev, log, &b, c, cands[c], t.oc_first, &t.cls[c]);
    if (st == KILN_OK && log)
        fprintf(log, "algorithms per shape (with the chosen tiles):\n");
    for (size_t i = 0; i < NSHAPES && st == KILN_OK; i++) {
        nn_tune_shape_result r;
        st = nn_tune_shape(dev, log, shapes[i].name, &shapes[i].s, &t, &r);
    }
    if (st == KILN_OK && log) {
        fprintf(log, "reference paths:\n");
        st = time_direct(dev, log, &b);
    }
    if (st == KILN_OK && log)
        st = time_clblast(dev, log, &b);
    bufs_release(dev, &b);
    if (st != KILN_OK)
        return kiln_fail_context(st, "tuning the convolution");
    t.origin = NN_TUNING_SEARCHED;
    if (log) {
        fprintf(log, "chosen (%.1f s):", (kiln_clock_ms() - start) / 1e3);
        for (int c = 0; c < NN_CONV_CLASSES; c++)
            fprintf(log, " %s toc %d nv %d vw %d wg %dx%d;", class_names[c], t.cls[c].toc,
                    t.cls[c].nv, t.cls[c].vw, t.cls[c].lx, t.cls[c].ly);
        fprintf(log, "\n");
    }
    *out = t;
    return KILN_OK;
}

/* The device's key: a hash of what the best parameters depend on. */
static void tune_key(const kiln_device *dev, char key[33])
{
    hash128 h;
    char format[32];

    snprintf(format, sizeof(format), "conv-tune-%d", NN_TUNE_FORMAT);
    hash_init(&h);
    hash_update_str(&h, format);
    program_hash_device(&h, &dev->info);
    hash_hex(&h, key);
}

/* Writes the tuning file's path (see nn_tune.h). */
void nn_tune_path(const kiln_device *dev, char *buf, size_t len)
{
    char dir[4096], key[33];

    program_cache_dir(dir, sizeof(dir));
    tune_key(dev, key);
    snprintf(buf, len, "%s/conv-tune-%s.txt", dir, key);
}

/* Saves the tuning atomically (see nn_tune.h). */
kiln_status nn_tune_save(const kiln_device *dev, const nn_conv_tuning *t)
{
    char dir[4096], path[4200], key[33];
    atomic_file af;
    kiln_status st;

    if (!nn_conv_tuning_valid(t))
        return kiln_fail(KILN_E_INVAL, "saving the conv tuning: invalid parameters");
    program_cache_dir(dir, sizeof(dir));
    st = dir_create_parents(dir);
    if (st != KILN_OK)
        return st;
    nn_tune_path(dev, path, sizeof(path));
    tune_key(dev, key);
    st = atomic_file_open(&af, path);
    if (st != KILN_OK)
        return st;
    fprintf(af.fp, "kiln-conv-tuning %d\n", NN_TUNE_FORMAT);
    fprintf(af.fp, "key %s\n", key);
    fprintf(af.fp, "oc_first %d\n", t->oc_first);
    for (int c = 0; c < NN_CONV_CLASSES; c++)
        fprintf(af.fp, "class %s %d %d %d %d %d\n", class_names[c], t->cls[c].toc, t->cls[c].nv,
                t->cls[c].vw, t->cls[c].lx, t->cls[c].ly);
    for (int i = 0; i < t->nchoices; i++) {
        const nn_conv_shape *s = &t->choice[i].s;
        fprintf(af.fp, "shape %d %d %d %d %d %d %d %d %d %d %d %d %d %d %s\n", s->c, s->h, s->w,
                s->oc, s->oh, s->ow, s->kh, s->kw, s->sy, s->sx, s->dy, s->dx, s->py, s->px,
                nn_conv_algo_name(t->choice[i].algo));
    }
    fprintf(af.fp, "end\n");
    return atomic_file_commit(&af);
}

/* Parses a tuning file's text into *t; returns 1 when it is complete,
 * valid and for this key. */
static int tune_parse(char *text, const char *key, nn_conv_tuning *t)
{
    int have_header = 0, have_key = 0, have_order = 0, have_end = 0;
    int have_cls[NN_CONV_CLASSES] = { 0 };
    char *save = NULL;

    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char word[64], extra[2];
        int v[5], version;
        nn_conv_shape s = { 0 };
        if (have_end)
            return 0;
        if (sscanf(line, "kiln-conv-tuning %d %1s", &version, extra) == 1 && !have_header) {
            if (version != NN_TUNE_FORMAT)
                return 0;
            have_header = 1;
        } else if (!have_header) {
            return 0;
        } else if (sscanf(line, "key %63s %1s", word, extra) == 1 && !have_key) {
            if (strcmp(word, key) != 0)
                return 0;
            have_key = 1;
        } else if (sscanf(line, "oc_first %d %1s", &v[0], extra) == 1 && !have_order) {
            t->oc_first = v[0];
            have_order = 1;
        } else if (sscanf(line, "class %63s %d %d %d %d %d %1s", word, &v[0], &v[1], &v[2],
                          &v[3], &v[4], extra) == 6) {
            int c = 0;
            while (c < NN_CONV_CLASSES && strcmp(word, class_names[c]) != 0)
                c++;
            if (c == NN_CONV_CLASSES || have_cls[c])
                return 0;
            t->cls[c] = (nn_conv_tile){ v[0], v[1], v[2], v[3], v[4] };
            have_cls[c] = 1;
        } else if (sscanf(line, "shape %d %d %d %d %d %d %d %d %d %d %d %d %d %d %63s %1s", &s.c,
                          &s.h, &s.w, &s.oc, &s.oh, &s.ow, &s.kh, &s.kw, &s.sy, &s.sx, &s.dy,
                          &s.dx, &s.py, &s.px, word, extra) == 15) {
            int algo;
            if (!nn_conv_algo_parse(word, &algo) || algo < 0 ||
                nn_conv_tuning_lookup(t, &s) >= 0 || !nn_conv_tuning_record(t, &s, algo))
                return 0;
        } else if (strcmp(line, "end") == 0) {
            have_end = 1;
        } else {
            return 0;
        }
    }
    for (int c = 0; c < NN_CONV_CLASSES; c++)
        if (!have_cls[c])
            return 0;
    return have_header && have_key && have_order && have_end && nn_conv_tuning_valid(t);
}

/* Loads the tuning, falling back to defaults (see nn_tune.h). */
kiln_status nn_tune_load(const kiln_device *dev, nn_conv_tuning *t)
{
    char path[4200], key[33], *text = NULL;
    nn_conv_tuning parsed;
    FILE *fp;
    size_t n;

    nn_conv_tuning_default(&dev->info, t);
    nn_tune_path(dev, path, sizeof(path));
    fp = fopen(path, "rb");
    if (!fp) {
        if (errno != ENOENT)
            t->origin = NN_TUNING_CORRUPT;
        return KILN_OK;
    }
    text = kiln_malloc(TUNE_FILE_MAX + 1);
    if (!text) {
        fclose(fp);
        return KILN_OK;
    }
    n = fread(text, 1, TUNE_FILE_MAX + 1, fp);
    fclose(fp);
    text[n > TUNE_FILE_MAX ? TUNE_FILE_MAX : n] = '\0';
    tune_key(dev, key);
    parsed = *t;
    if (n <= TUNE_FILE_MAX && strlen(text) == n && tune_parse(text, key, &parsed)) {
        *t = parsed;
        t->origin = NN_TUNING_FILE;
    } else {
        t->origin = NN_TUNING_CORRUPT;
    }
    kiln_free(text);
    return KILN_OK;
}
