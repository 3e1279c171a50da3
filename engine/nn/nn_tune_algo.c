/* Per-shape algorithm timing of the tuning search (see nn_tune.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "graph_fold.h"
#include "host_alloc.h"
#include "launch.h"
#include "nn_conv_algo.h"
#include "nn_kernel.h"
#include "nn_tune.h"
#include "nn_tune_internal.h"
#include "onnx_load.h"
#include "pool.h"
#include "status.h"

/* A challenger must beat the fastest so far by this factor: timing noise
 * does not move a choice away from the earlier (simpler) algorithm. */
#define ALGO_MARGIN 0.97

/* The algorithms the search compares, in order of preference on a tie. */
static const int algos[] = { NN_CONV_ALGO_TILED, NN_CONV_ALGO_WINO2, NN_CONV_ALGO_WINO4,
                             NN_CONV_ALGO_GEMM, NN_CONV_ALGO_NARROW, NN_CONV_ALGO_WINO4F };
#define NALGOS (sizeof(algos) / sizeof(algos[0]))

/* One shape's timing state: its graph, buffers and launch context. */
typedef struct shape_bench {
    kiln_device *dev;
    kiln_graph *g;
    pool_buffer *act, *wts, *scratch;
    nn_place places[4];
    nn_launch ctx;
    int algo;
} shape_bench;

/* Runs the bench's algorithm once (nn_tune_fn). */
static kiln_status bench_run(void *user)
{
    const shape_bench *b = user;

    return nn_conv_algo_launch(&b->ctx, &b->g->nodes[0], b->algo);
}

/* Fills n floats with a fixed pseudo-random sequence in [-scale, scale). */
static void fill_random(float *v, size_t n, float scale, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        v[i] = scale * ((float)(seed >> 8) / 8388608.0f - 1.0f);
    }
}

/* Packs and uploads the weights for b->algo, acquires its scratch and sets
 * the context.  The weight and scratch buffers are b's to release. */
static kiln_status bench_prepare(shape_bench *b, const nn_conv_tuning *t)
{
    const graph_node *n = &b->g->nodes[0];
    const graph_tensor *bias = &b->g->tensors[n->inputs[2]];
    size_t np = nn_conv_algo_packed_elements(b->g, n, b->algo, t);
    size_t nb = (size_t)graph_tensor_elements(bias);
    size_t scratch = nn_conv_algo_scratch_floats(b->g, n, b->algo, t);
    float *host = kiln_malloc((np + nb) * sizeof(float));
    kiln_status st;

    if (!host)
        return kiln_fail(KILN_E_HOSTMEM, "tuning: out of host memory for %zu weights", np);
    nn_conv_algo_pack(b->g, n, b->algo, t, host);
    memcpy(host + np, bias->f32, nb * sizeof(float));
    st = pool_acquire(b->dev->pool, (np + nb) * sizeof(float), "tune.algo.weights", &b->wts);
    if (st == KILN_OK)
        st = dev_buffer_write(b->dev, b->wts->mem, 0, (np + nb) * sizeof(float), host,
                              "tuning: writing weights");
    kiln_free(host);
    if (st == KILN_OK && scratch)
        st = pool_acquire(b->dev->pool, scratch * sizeof(float), "tune.algo.scratch",
                          &b->scratch);
    if (st != KILN_OK)
        return st;
    b->places[1] = (nn_place){ b->wts->mem, 0 };
    b->places[2] = (nn_place){ b->wts->mem, (cl_uint)np };
    b->ctx = (nn_launch){ b->dev, b->g, b->places, t, NULL, { NULL, 0 }, 0, 0 };
    if (b->scratch) {
        b->ctx.scratch.mem = b->scratch->mem;
        b->ctx.scratch_floats = scratch;
    }
    return KILN_OK;
}

/* Gives back the weight and scratch buffers of one algorithm. */
static void bench_unprepare(shape_bench *b)
{
    device_finish(b->dev);
    pool_release(b->dev->pool, b->wts);
    pool_release(b->dev->pool, b->scratch);
    b->wts = b->scratch = NULL;
}

/* Reads the output into y (ny floats, blocking). */
static kiln_status bench_read(const shape_bench *b, float *y, size_t ny)
{
    return dev_buffer_read(b->dev, b->act->mem, (size_t)b->places[3].offset * sizeof(float),
                           ny * sizeof(float), y, "tuning: reading the output");
}

/* Builds the graph with random weights and input, and the activation
 * buffer (x then y). */
static kiln_status bench_open(kiln_device *dev, const nn_conv_shape *s, shape_bench *b)
{
    graph_tensor *w, *bias;
    size_t nx = (size_t)s->c * s->h * s->w, ny = (size_t)s->oc * s->oh * s->ow;
    float *host;
    kiln_status st;

    memset(b, 0, sizeof(*b));
    b->dev = dev;
    st = nn_tune_conv_graph(s, &b->g);
    if (st != KILN_OK)
        return st;
    w = &b->g->tensors[b->g->nodes[0].inputs[1]];
    bias = &b->g->tensors[b->g->nodes[0].inputs[2]];
    st = graph_tensor_alloc_data(w);
    if (st == KILN_OK)
        st = graph_tensor_alloc_data(bias);
    if (st != KILN_OK)
        return st;
    /* weights of a trained layer's scale: outputs of magnitude ~1 */
    fill_random(w->f32, (size_t)graph_tensor_elements(w),
                (float)(1.7 / sqrt((double)s->c * s->kh * s->kw)), 7u);
    fill_random(bias->f32, (size_t)s->oc, 0.1f, 11u);
    st = pool_acquire(dev->pool, (nx + ny) * sizeof(float), "tune.algo.act", &b->act);
    if (st != KILN_OK)
        return st;
    host = kiln_malloc(nx * sizeof(float));
    if (!host)
        return kiln_fail(KILN_E_HOSTMEM, "tuning: out of host memory for the input");
    fill_random(host, nx, 1.0f, 3u);
    st = dev_buffer_write(dev, b->act->mem, 0, nx * sizeof(float), host, "tuning: writing input");
    kiln_free(host);
    b->places[0] = (nn_place){ b->act->mem, 0 };
    b->places[3] = (nn_place){ b->act->mem, (cl_uint)nx };
    return st;
}

/* Frees the bench's graph and buffers. */
static void bench_close(shape_bench *b)
{
    bench_unprepare(b);
    pool_release(b->dev->pool, b->act);
    graph_free(b->g);
    memset(b, 0, sizeof(*b));
}

/* Times every fitting algorithm on shape s (see nn_tune.h). */
kiln_status nn_tune_shape(kiln_device *dev, FILE *log, const char *name, const nn_conv_shape *s,
                          nn_conv_tuning *t, nn_tune_shape_result *r)
{
    shape_bench b;
    size_t ny = (size_t)s->oc * s->oh * s->ow;
    double flops = 2.0 * s->oc * s->oh * s->ow * (double)s->c * s->kh * s->kw;
    double best_ms = -1.0;
    float *ref = NULL, *got = NULL;
    kiln_status st = bench_open(dev, s, &b);

    memset(r, 0, sizeof(*r));
    r->algo = NN_CONV_ALGO_TILED;
    ref = kiln_malloc(ny * sizeof(float));
    got = kiln_malloc(ny * sizeof(float));
    if (st == KILN_OK && (!ref || !got))
        st = kiln_fail(KILN_E_HOSTMEM, "tuning: out of host memory for the output");
    for (size_t k = 0; k < NALGOS && st == KILN_OK; k++) {
        double ms = 0.0, err = 0.0;
        b.algo = algos[k];
        if (!nn_conv_algo_fits(b.g, &b.g->nodes[0], b.algo))
            continue;
        st = bench_prepare(&b, t);
        if (st == KILN_OK)
            st = nn_tune_time(dev, bench_run, &b, &ms);
        if (st == KILN_OK)
            st = bench_read(&b, b.algo == NN_CONV_ALGO_TILED ? ref : got, ny);
        bench_unprepare(&b);
        if ((st == KILN_E_CL && b.algo == NN_CONV_ALGO_GEMM) ||
            ((st == KILN_E_CL || st == KILN_E_BUILD) && b.algo == NN_CONV_ALGO_WINO4F)) {
            /* CLBlast unavailable or refusing, or a device that cannot
               build or run the fused kernel's per-work-item arrays: not
               a contender */
            if (log)
                fprintf(log, "  %-10s %-34s skipped: %s\n", nn_conv_algo_name(b.algo), name,
                        kiln_last_error());
            st = KILN_OK;
            continue;
        }
        if (st != KILN_OK)
            break;
        if (b.algo == NN_CONV_ALGO_TILED) {
            for (size_t i = 0; i < ny; i++)
                r->magnitude = fmax(r->magnitude, fabs((double)ref[i]));
        } else {
            for (size_t i = 0; i < ny; i++) {
                double d = fabs((double)got[i] - (double)ref[i]);
                err = d > err || isnan(d) ? d : err;
            }
        }
        r->ms[b.algo] = ms;
        r->err[b.algo] = err;
        if (log)
            fprintf(log, "  %-10s %-34s %9.3f ms %8.1f GFLOP/s  max |d| %.3g (max |y| %.3g)\n",
                    nn_conv_algo_name(b.algo), name, ms, flops / ms / 1e6, err, r->magnitude);
        if (best_ms < 0.0 || ms < ALGO_MARGIN * best_ms) {
            best_ms = ms;
            r->algo = b.algo;
        }
    }
    kiln_free(ref);
    kiln_free(got);
    bench_close(&b);
    if (st != KILN_OK)
        return kiln_fail_context(st, "tuning %s", name);
    r->best_ms = best_ms;
    if (!nn_conv_tuning_record(t, s, r->algo))
        return kiln_fail(KILN_E_LIMIT, "tuning %s: more than %d shapes", name,
                         NN_CONV_CHOICES_MAX);
    return KILN_OK;
}

/* A readable name of a shape: "C->OC KHxKW sS dD pP HxW". */
static void shape_name(const nn_conv_shape *s, char *buf, size_t len)
{
    snprintf(buf, len, "%d->%d %dx%d s%d d%d p%d %dx%d", s->c, s->oc, s->kh, s->kw, s->sy, s->dy,
             s->py, s->h, s->w);
}

/* Times each distinct conv shape of a model (see nn_tune.h). */
kiln_status nn_tune_model(kiln_device *dev, FILE *log, const char *path,
                          const onnx_input_shape *shape, nn_conv_tuning *t)
{
    onnx_load_options opt = { shape, shape ? 1 : 0 };
    graph_fold_options fold = { 0 };
    kiln_graph *g = NULL;
    double total_best = 0.0, total_tiled = 0.0, worst2 = 0.0, worst4 = 0.0, mag = 0.0;
    int counted = 0;
    kiln_status st = onnx_load(path, &opt, &g);

    fold.runtime_only = 1;
    if (st != KILN_OK)
        return st;
    st = graph_fold(g, &fold, NULL);
    if (st != KILN_OK) {
        graph_free(g);
        return kiln_fail_context(st, "%s", path);
    }
    if (log)
        fprintf(log, "per-shape algorithms of %s:\n", path);
    for (size_t i = 0; i < g->nnodes && st == KILN_OK; i++) {
        const graph_node *n = &g->nodes[i];
        nn_conv_shape s;
        nn_tune_shape_result r;
        char name[96];
        int seen = 0;
        if (n->op != GRAPH_OP_CONV || !nn_conv_tiled_fits(g, n))
            continue;
        nn_conv_node_shape(g, n, &s);
        s.act = nn_act_code(n->attr.conv.activation);
        for (size_t j = 0; j < i && !seen; j++) {
            nn_conv_shape o;
            if (g->nodes[j].op != GRAPH_OP_CONV || !nn_conv_tiled_fits(g, &g->nodes[j]))
                continue;
            nn_conv_node_shape(g, &g->nodes[j], &o);
            o.act = s.act;
            seen = memcmp(&o, &s, sizeof(o)) == 0;
        }
        if (seen)
            continue;
        shape_name(&s, name, sizeof(name));
        st = nn_tune_shape(dev, log, name, &s, t, &r);
        if (st != KILN_OK)
            break;
        counted++;
        total_best += r.best_ms;
        total_tiled += r.ms[NN_CONV_ALGO_TILED];
        worst2 = fmax(worst2, r.err[NN_CONV_ALGO_WINO2]);
        worst4 = fmax(worst4, r.err[NN_CONV_ALGO_WINO4]);
        mag = fmax(mag, r.magnitude);
        if (log)
            fprintf(log, "  -> %s\n", nn_conv_algo_name(r.algo));
    }
    graph_free(g);
    if (st != KILN_OK)
        return kiln_fail_context(st, "%s", path);
    if (log)
        fprintf(log, "%d distinct conv shapes: %.1f ms with the chosen algorithms, %.1f ms all "
                     "tiled (one conv of each shape); Winograd max |d| vs tiled: F(2,3) %.3g, "
                     "F(4,3) %.3g (max |y| %.3g)\n",
                counted, total_best, total_tiled, worst2, worst4, mag);
    return KILN_OK;
}
