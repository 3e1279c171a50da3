/* Tests of the Conv algorithms (engine/nn/nn_conv.c, nn_conv_winograd.c,
 * nn_conv_wino_fused.c, nn_conv_gemm.c): each algorithm that fits a case
 * (tiled, Winograd F(2,3) and F(4,3) in three kernels, F(4,3) fused,
 * CLBlast GEMM, narrow), one after another in one process, against the host reference graph_eval_conv
 * (double accumulation), on odd sizes, pads 0 / 1 / asymmetric, 1, 3
 * and 64+ channels, with and without bias, no activation / relu /
 * sigmoid, a FLOAT16 output, a residual input (inputs[3], added after
 * the activation), a U^2-Net layer shape, and an image that the Winograd
 * path runs in several bands of tile rows (the fused kernel: several
 * chunks of input channels and blocks of output channels); the per-node choice
 * (forced, recorded, default); the tuning file's per-shape records; and
 * that every pool buffer is released.
 *
 * Tolerance, relative to the output's scale m = max |want|:
 *   tiled, GEMM, F(2,3): |d| <= 1e-5 * (1 + m) + 1e-4 * |want|
 *   F(4,3), fused F(4,3): |d| <= 1e-4 * (1 + m) + 1e-4 * |want|
 *   (FLOAT16 outputs: 1e-3 * |want| more, the neighbouring half).
 * The largest error of each algorithm is printed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "graph_eval_spatial.h"
#include "nn_conv_algo.h"
#include "nn_conv_winograd.h"
#include "nn_tune.h"
#include "pool.h"
#include "testutil.h"

/* One conv case. */
typedef struct conv_case {
    int c, h, w, oc, kh, kw;
    int sy, sx, dy, dx;
    int pt, pl, pb, pr;
    int bias, residual;
    graph_activation act;
    graph_dtype out_dtype;
} conv_case;

/* A one-Conv graph: tensors x, w, b (or -1), r (or -1), y; node 0. */
typedef struct conv_graph {
    kiln_graph *g;
    int x, w, b, r, y;
} conv_graph;

/* A uniform float in [lo, hi). */
static float rng_float(float lo, float hi)
{
    return lo + (hi - lo) * (float)(test_rng_next() >> 8) / 16777216.0f;
}

/* Output size along one axis. */
static int out_dim(int in, int k, int s, int d, int pb, int pe)
{
    return (in + pb + pe - ((k - 1) * d + 1)) / s + 1;
}

/* Adds a float tensor of `rank` dims with random data in [lo, hi). */
static int add_tensor(kiln_graph *g, const char *name, graph_dtype dt, int rank,
                      const int64_t *dims, float lo, float hi)
{
    int t;
    graph_tensor *x;

    if (graph_add_tensor(g, name, dt, &t) != KILN_OK)
        exit(1);
    x = &g->tensors[t];
    x->rank = rank;
    memcpy(x->dims, dims, (size_t)rank * sizeof(int64_t));
    if (graph_tensor_alloc_data(x) != KILN_OK)
        exit(1);
    for (int64_t i = 0; i < graph_tensor_elements(x); i++)
        x->f32[i] = rng_float(lo, hi);
    return t;
}

/* Builds a case's graph with random data and the reference in y. */
static void graph_build(const conv_case *cc, conv_graph *cg)
{
    int oh = out_dim(cc->h, cc->kh, cc->sy, cc->dy, cc->pt, cc->pb);
    int ow = out_dim(cc->w, cc->kw, cc->sx, cc->dx, cc->pl, cc->pr);
    const int64_t xd[4] = { 1, cc->c, cc->h, cc->w }, wd[4] = { cc->oc, cc->c, cc->kh, cc->kw };
    const int64_t yd[4] = { 1, cc->oc, oh, ow }, bd[1] = { cc->oc };
    kiln_graph *g = NULL;
    graph_node *n;
    graph_window *win;
    int node;

    if (graph_new(&g) != KILN_OK)
        exit(1);
    cg->x = add_tensor(g, "x", GRAPH_DT_FLOAT32, 4, xd, -1.0f, 1.0f);
    cg->w = add_tensor(g, "w", GRAPH_DT_FLOAT32, 4, wd, -0.5f, 0.5f);
    cg->b = cc->bias ? add_tensor(g, "b", GRAPH_DT_FLOAT32, 1, bd, -1.0f, 1.0f) : -1;
    cg->r = cc->residual ? add_tensor(g, "r", GRAPH_DT_FLOAT32, 4, yd, -2.0f, 2.0f) : -1;
    cg->y = add_tensor(g, "y", cc->out_dtype, 4, yd, 0.0f, 0.0f);
    if (graph_add_node(g, GRAPH_OP_CONV, "conv", cc->residual ? 4 : 3, 1, &node) != KILN_OK)
        exit(1);
    g->tensors[cg->x].kind = GRAPH_TENSOR_INPUT;
    g->tensors[cg->w].kind = GRAPH_TENSOR_CONSTANT;
    if (cg->b >= 0)
        g->tensors[cg->b].kind = GRAPH_TENSOR_CONSTANT;
    if (cg->r >= 0)
        g->tensors[cg->r].kind = GRAPH_TENSOR_INPUT;
    g->tensors[cg->y].kind = GRAPH_TENSOR_VALUE;
    g->tensors[cg->y].producer = node;
    n = &g->nodes[node];
    n->inputs[0] = cg->x;
    n->inputs[1] = cg->w;
    n->inputs[2] = cg->b;
    if (cc->residual)
        n->inputs[3] = cg->r;
    n->outputs[0] = cg->y;
    n->attr.conv.group = 1;
    n->attr.conv.activation = cc->act;
    win = &n->attr.conv.win;
    win->nspatial = 2;
    win->kernel[0] = cc->kh;
    win->kernel[1] = cc->kw;
    win->strides[0] = cc->sy;
    win->strides[1] = cc->sx;
    win->dilations[0] = cc->dy;
    win->dilations[1] = cc->dx;
    win->pads[0] = cc->pt;
    win->pads[1] = cc->pl;
    win->pads[2] = cc->pb;
    win->pads[3] = cc->pr;
    win->has_kernel = win->has_strides = win->has_dilations = win->has_pads = 1;
    win->auto_pad = GRAPH_PAD_NOTSET;
    graph_eval_conv(n, &g->tensors[cg->x], &g->tensors[cg->w],
                    cg->b >= 0 ? &g->tensors[cg->b] : NULL,
                    cg->r >= 0 ? &g->tensors[cg->r] : NULL, &g->tensors[cg->y]);
    cg->g = g;
}

/* Writes n floats at element offset off (blocking). */
static kiln_status put(kiln_device *dev, cl_mem mem, size_t off, const float *data, size_t n)
{
    return dev_buffer_write(dev, mem, off * sizeof(float), n * sizeof(float), data, "test data");
}

/* Runs a case with `algo` (which fits) under tuning t and compares with
 * the reference; returns the largest |d|. */
static double run_algo(kiln_device *dev, const conv_graph *cg, const conv_case *cc, int algo,
                       const nn_conv_tuning *t, const char *label)
{
    const kiln_graph *g = cg->g;
    const graph_node *n = &g->nodes[0];
    const graph_tensor *x = &g->tensors[cg->x], *y = &g->tensors[cg->y];
    size_t nx = (size_t)graph_tensor_elements(x), ny = (size_t)graph_tensor_elements(y);
    size_t np = nn_conv_algo_packed_elements(g, n, algo, t);
    size_t ns = nn_conv_algo_scratch_floats(g, n, algo, t);
    size_t x_off = 5, r_off = x_off + nx + 3, y_off = r_off + ny + 11, w_off = 3;
    size_t b_off = w_off + np + 7;
    pool_buffer *act = NULL, *wts = NULL, *scratch = NULL;
    float *packed = test_xmalloc(np, sizeof(float)), *got = test_xmalloc(ny, sizeof(float));
    nn_place places[5];
    double worst = 0.0, scale = 0.0;
    const double tol = algo == NN_CONV_ALGO_WINO4 || algo == NN_CONV_ALGO_WINO4F ? 1e-4 : 1e-5;
    const double half = cc->out_dtype == GRAPH_DT_FLOAT16 ? 1e-3 : 0.0;
    kiln_status st;

    memset(places, 0, sizeof(places));
    nn_conv_algo_pack(g, n, algo, t, packed);
    st = pool_acquire(dev->pool, (y_off + ny + 13) * sizeof(float), "test.algo.act", &act);
    if (st == KILN_OK)
        st = pool_acquire(dev->pool, (b_off + (size_t)cc->oc + 1) * sizeof(float),
                          "test.algo.weights", &wts);
    if (st == KILN_OK && ns)
        st = pool_acquire(dev->pool, (ns + 9) * sizeof(float), "test.algo.scratch", &scratch);
    if (st == KILN_OK)
        st = put(dev, act->mem, x_off, x->f32, nx);
    if (st == KILN_OK && cg->r >= 0)
        st = put(dev, act->mem, r_off, g->tensors[cg->r].f32, ny);
    if (st == KILN_OK)
        st = put(dev, wts->mem, w_off, packed, np);
    if (st == KILN_OK && cg->b >= 0)
        st = put(dev, wts->mem, b_off, g->tensors[cg->b].f32, (size_t)cc->oc);
    if (st == KILN_OK) {
        unsigned char algos[1] = { (unsigned char)algo };
        nn_launch ctx;
        places[cg->x] = (nn_place){ act->mem, (cl_uint)x_off };
        places[cg->y] = (nn_place){ act->mem, (cl_uint)y_off };
        places[cg->w] = (nn_place){ wts->mem, (cl_uint)w_off };
        if (cg->b >= 0)
            places[cg->b] = (nn_place){ wts->mem, (cl_uint)b_off };
        if (cg->r >= 0)
            places[cg->r] = (nn_place){ act->mem, (cl_uint)r_off };
        ctx = (nn_launch){ dev, g, places, t, algos, { NULL, 0 }, 0, 0 };
        if (scratch) {
            ctx.scratch = (nn_place){ scratch->mem, 9 };
            ctx.scratch_floats = ns;
        }
        st = nn_launch_conv(&ctx, n);
    }
    if (st == KILN_OK)
        st = dev_buffer_read(dev, act->mem, y_off * sizeof(float), ny * sizeof(float), got,
                             "reading the result");
    CHECK_OK(st);
    for (size_t i = 0; i < ny; i++)
        scale = fmax(scale, fabs((double)y->f32[i]));
    if (st == KILN_OK) {
        size_t bad = 0;
        for (size_t i = 0; i < ny; i++) {
            double want = y->f32[i], d = fabs((double)got[i] - want);
            if (!(d <= tol * (1.0 + scale) + (1e-4 + half) * fabs(want))) {
                if (bad < 5)
                    fprintf(stderr, "%s %s: [%zu] got %.9g want %.9g\n", label,
                            nn_conv_algo_name(algo), i, (double)got[i], want);
                bad++;
            }
            if (d > worst || isnan(d))
                worst = d;
        }
        CHECK(bad == 0);
    }
    pool_release(dev->pool, act);
    pool_release(dev->pool, wts);
    pool_release(dev->pool, scratch);
    free(packed);
    free(got);
    return worst;
}

/* The algorithms a case exercises: all that fit but direct. */
static void run_case(kiln_device *dev, const conv_case *cc, const nn_conv_tuning *t, int index,
                     double *worst)
{
    conv_graph cg;
    char label[64];

    graph_build(cc, &cg);
    snprintf(label, sizeof(label), "case %d", index);
    for (int a = NN_CONV_ALGO_TILED; a < NN_CONV_ALGOS; a++) {
        double d;
        if (!nn_conv_algo_fits(cg.g, &cg.g->nodes[0], a))
            continue;
        d = run_algo(dev, &cg, cc, a, t, label);
        worst[a] = fmax(worst[a], d);
    }
    graph_free(cg.g);
}

/* The per-node choice: forced, recorded, default, unfit. */
static void test_choose(void)
{
    static const conv_case c3 = { 64, 40, 40, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
                                  GRAPH_ACT_RELU, GRAPH_DT_FLOAT32 };
    static const conv_case small = { 64, 10, 10, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
                                     GRAPH_ACT_RELU, GRAPH_DT_FLOAT32 };
    static const conv_case c3d = { 32, 20, 20, 32, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, 0,
                                   GRAPH_ACT_RELU, GRAPH_DT_FLOAT32 };
    static const conv_case big_d2 = { 32, 16, 16, 32, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, 0,
                                      GRAPH_ACT_RELU, GRAPH_DT_FLOAT32 };
    static const conv_case thin_d4 = { 16, 40, 40, 16, 3, 3, 1, 1, 4, 4, 4, 4, 4, 4, 1, 0,
                                       GRAPH_ACT_RELU, GRAPH_DT_FLOAT32 };
    conv_graph a, b, c, d, e;
    nn_conv_tuning t;
    nn_conv_shape s;
    int algo = 99;

    graph_build(&c3, &a);
    graph_build(&c3d, &b);
    graph_build(&small, &c);
    graph_build(&big_d2, &d);
    graph_build(&thin_d4, &e);
    nn_conv_tuning_default(NULL, &t);
    CHECK(nn_conv_algo_choose(c.g, &c.g->nodes[0], &t, NN_CONV_ALGO_AUTO, 0) ==
          NN_CONV_ALGO_TILED);
    CHECK(nn_conv_algo_choose(a.g, &a.g->nodes[0], &t, NN_CONV_ALGO_AUTO, 0) ==
          NN_CONV_ALGO_WINO4F);
    /* dilation 2 on 8x8 phases, 32 inputs: fused on CPUs, tiled on GPUs;
       16 inputs: tiled */
    CHECK(nn_conv_algo_choose(d.g, &d.g->nodes[0], &t, NN_CONV_ALGO_AUTO, 0) ==
          NN_CONV_ALGO_WINO4F);
    CHECK(nn_conv_algo_choose(e.g, &e.g->nodes[0], &t, NN_CONV_ALGO_AUTO, 0) ==
          NN_CONV_ALGO_TILED);
    CHECK(nn_conv_algo_choose(d.g, &d.g->nodes[0], &t, NN_CONV_ALGO_AUTO, 1) ==
          NN_CONV_ALGO_TILED);
    /* GPUs keep the three-kernel F(4,3) by default */
    CHECK(nn_conv_algo_choose(a.g, &a.g->nodes[0], &t, NN_CONV_ALGO_AUTO, 1) ==
          NN_CONV_ALGO_WINO4);
    CHECK(nn_conv_algo_choose(c.g, &c.g->nodes[0], &t, NN_CONV_ALGO_AUTO, 1) ==
          NN_CONV_ALGO_TILED);
    /* 32 -> 32 dilated 2 on 10x10 phases: fused on CPUs, tiled on GPUs */
    CHECK(nn_conv_algo_choose(b.g, &b.g->nodes[0], &t, NN_CONV_ALGO_AUTO, 0) ==
          NN_CONV_ALGO_WINO4F);
    CHECK(nn_conv_algo_choose(b.g, &b.g->nodes[0], &t, NN_CONV_ALGO_AUTO, 1) ==
          NN_CONV_ALGO_TILED);
    /* a forced algorithm that does not fit falls back */
    CHECK(nn_conv_algo_choose(b.g, &b.g->nodes[0], &t, NN_CONV_ALGO_WINO2, 1) ==
          NN_CONV_ALGO_TILED);
    CHECK(nn_conv_algo_choose(b.g, &b.g->nodes[0], &t, NN_CONV_ALGO_WINO2, 0) ==
          NN_CONV_ALGO_WINO4F);
    CHECK(nn_conv_algo_choose(a.g, &a.g->nodes[0], &t, NN_CONV_ALGO_GEMM, 0) == NN_CONV_ALGO_GEMM);
    nn_conv_node_shape(a.g, &a.g->nodes[0], &s);
    CHECK(nn_conv_tuning_record(&t, &s, NN_CONV_ALGO_WINO2));
    CHECK(nn_conv_algo_choose(a.g, &a.g->nodes[0], &t, NN_CONV_ALGO_AUTO, 0) ==
          NN_CONV_ALGO_WINO2);
    CHECK(nn_conv_algo_choose(a.g, &a.g->nodes[0], &t, NN_CONV_ALGO_DIRECT, 0) ==
          NN_CONV_ALGO_DIRECT);
    CHECK(nn_conv_algo_parse("winograd4", &algo) && algo == NN_CONV_ALGO_WINO4);
    CHECK(nn_conv_algo_parse("winograd4f", &algo) && algo == NN_CONV_ALGO_WINO4F);
    CHECK(nn_conv_algo_parse("auto", &algo) && algo == NN_CONV_ALGO_AUTO);
    CHECK(!nn_conv_algo_parse("fft", &algo));
    graph_free(a.g);
    graph_free(b.g);
    graph_free(c.g);
    graph_free(d.g);
    graph_free(e.g);
}

/* The tuning file keeps per-shape records; bad records make it corrupt. */
static void test_tune_records(kiln_device *dev)
{
    nn_conv_tuning t, back;
    nn_conv_shape s1 = { 64, 80, 80, 64, 80, 80, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0 };
    nn_conv_shape s2 = { 128, 20, 20, 64, 20, 20, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0 };
    char path[4200];

    nn_tune_path(dev, path, sizeof(path));
    nn_conv_tuning_default(&dev->info, &t);
    CHECK(nn_conv_tuning_record(&t, &s1, NN_CONV_ALGO_WINO4));
    CHECK(nn_conv_tuning_record(&t, &s2, NN_CONV_ALGO_GEMM));
    CHECK(nn_conv_tuning_record(&t, &s1, NN_CONV_ALGO_WINO2));   /* replaces */
    CHECK(t.nchoices == 2);
    CHECK_OK(nn_tune_save(dev, &t));
    CHECK_OK(nn_tune_load(dev, &back));
    CHECK(back.origin == NN_TUNING_FILE);
    CHECK(back.nchoices == 2);
    CHECK(nn_conv_tuning_lookup(&back, &s1) == NN_CONV_ALGO_WINO2);
    CHECK(nn_conv_tuning_lookup(&back, &s2) == NN_CONV_ALGO_GEMM);
    s2.act = 1;   /* the activation does not key a record */
    CHECK(nn_conv_tuning_lookup(&back, &s2) == NN_CONV_ALGO_GEMM);
    s2.c = 127;
    CHECK(nn_conv_tuning_lookup(&back, &s2) == -1);

    /* an unknown algorithm name, an older format: defaults */
    {
        char text[1024];
        FILE *fp = fopen(path, "rb");
        size_t n = fp ? fread(text, 1, sizeof(text) - 1, fp) : 0;
        char *at;
        if (fp)
            fclose(fp);
        text[n] = '\0';
        at = strstr(text, "winograd2");
        CHECK(at != NULL);
        if (at) {
            memcpy(at, "winograd9", 9);
            test_write_text(path, text);
            CHECK_OK(nn_tune_load(dev, &back));
            CHECK(back.origin == NN_TUNING_CORRUPT && back.nchoices == 0);
        }
    }
    test_write_text(path, "kiln-conv-tuning 1\nkey 0\noc_first 1\nend\n");
    CHECK_OK(nn_tune_load(dev, &back));
    CHECK(back.origin == NN_TUNING_CORRUPT && back.nchoices == 0);
    remove(path);
}

/* Runs the cases, the choice and the file tests. */
int main(void)
{
    static const conv_case cases[] = {
        /* c   h   w  oc kh kw sy sx dy dx pt pl pb pr bias res act dtype */
        { 16, 40, 40, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, GRAPH_ACT_RELU, GRAPH_DT_FLOAT32 },
        { 64, 37, 29, 72, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, GRAPH_ACT_RELU, GRAPH_DT_FLOAT32 },
        { 1, 13, 7, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, GRAPH_ACT_NONE, GRAPH_DT_FLOAT32 },
        { 3, 50, 67, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, GRAPH_ACT_RELU, GRAPH_DT_FLOAT32 },
        { 17, 23, 19, 9, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, GRAPH_ACT_SIGMOID, GRAPH_DT_FLOAT32 },
        { 24, 17, 40, 48, 3, 3, 1, 1, 1, 1, 0, 1, 1, 0, 1, 0, GRAPH_ACT_NONE, GRAPH_DT_FLOAT32 },
        { 12, 1, 1, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, GRAPH_ACT_RELU, GRAPH_DT_FLOAT32 },
        { 64, 21, 19, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, GRAPH_ACT_NONE, GRAPH_DT_FLOAT32 },
        { 32, 15, 34, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, GRAPH_ACT_RELU, GRAPH_DT_FLOAT32 },
        { 18, 15, 34, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, GRAPH_ACT_SIGMOID, GRAPH_DT_FLOAT16 },
        /* a U^2-Net layer: RSU-4 at 1/8 of 320, 128 -> 64 */
        { 128, 40, 40, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, GRAPH_ACT_RELU, GRAPH_DT_FLOAT32 },
        /* several bands of tile rows (the last one partial), with residual */
        { 48, 131, 127, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, GRAPH_ACT_RELU, GRAPH_DT_FLOAT32 },
        /* the fused Winograd kernel: two blocks of output channels (the
           second partial) and two chunks of input channels (the second
           partial), residual */
        { 40, 19, 23, 100, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, GRAPH_ACT_SIGMOID, GRAPH_DT_FLOAT32 },
        /* dilation 3 (the fused kernel's phases), asymmetric pads */
        { 20, 27, 31, 14, 3, 3, 1, 1, 3, 3, 3, 2, 3, 4, 1, 1, GRAPH_ACT_RELU, GRAPH_DT_FLOAT32 },
        /* 1x1 (plain GEMM), dilated (im2col; fused Winograd) and strided
           (im2col) */
        { 40, 12, 36, 37, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, GRAPH_ACT_RELU, GRAPH_DT_FLOAT32 },
        { 16, 33, 29, 24, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, 0, GRAPH_ACT_RELU, GRAPH_DT_FLOAT32 },
        { 5, 37, 41, 19, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0, GRAPH_ACT_SIGMOID, GRAPH_DT_FLOAT32 },
    };
    const size_t ncases = sizeof(cases) / sizeof(cases[0]);
    double worst[NN_CONV_ALGOS] = { 0 };
    nn_conv_tuning odd;
    kiln_device *dev;
    char dir[4200];

    snprintf(dir, sizeof(dir), "%s", test_tmpdir("test_conv_algo"));
    setenv("KILN_CACHE_DIR", dir, 1);
    test_rng_seed(20261203u);
    dev = test_device_open(0);
    for (size_t i = 0; i < ncases; i++)
        run_case(dev, &cases[i], NULL, (int)i, worst);
    for (int a = NN_CONV_ALGO_TILED; a < NN_CONV_ALGOS; a++)
        printf("%-10s max |d| %.3g\n", nn_conv_algo_name(a), worst[a]);
    /* other product tiles: odd toc, narrow vectors, two vectors */
    nn_conv_tuning_default(&dev->info, &odd);
    odd.cls[NN_CONV_CLASS_WIDE] = (nn_conv_tile){ 5, 2, 4, 2, 3 };
    odd.cls[NN_CONV_CLASS_THIN_IN] = (nn_conv_tile){ 7, 1, 8, 1, 2 };
    odd.cls[NN_CONV_CLASS_NARROW] = (nn_conv_tile){ 3, 3, 1, 4, 1 };
    memset(worst, 0, sizeof(worst));
    for (size_t i = 0; i < ncases; i++)
        run_case(dev, &cases[i], &odd, (int)i, worst);
    printf("odd tiles: F(2,3) max |d| %.3g, F(4,3) max |d| %.3g\n", worst[NN_CONV_ALGO_WINO2],
           worst[NN_CONV_ALGO_WINO4]);
    test_choose();
    test_tune_records(dev);
    test_device_close(dev);
    return test_summary("test_conv_algo");
}
