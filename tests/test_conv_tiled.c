/* Tests of the tiled convolution (engine/nn_conv_tiled.c,
 * cl/nn_conv_tiled.cl) against the host reference graph_eval_conv (double
 * accumulation), and of the tuning file (engine/nn_tune.c).
 *
 * Cases cover dilations 1, 2, 4, 8 with pad = dilation, strides 2 and 3,
 * 1x1 and 5x3 kernels, asymmetric pads, odd image sizes (13x7, 1x1,
 * images smaller than a tile), channel counts that are not multiples of
 * the tile, every shape class, with and without bias, no activation /
 * relu / sigmoid, a FLOAT16 output; each under the device defaults and
 * under other tunings (GPU-style one-pixel tiles, odd tiles, other
 * work-group sizes).  Tensors sit at odd offsets inside shared buffers.
 * Tolerance: |got - want| <= 1e-4 * (1 + |want|) (1e-3 for the FLOAT16
 * output, which may round to the neighbouring half).
 *
 * It prints the GFLOP/s of a 64->64 3x3 conv at 160x160 as information
 * (never asserts time), checks that a saved tuning loads back and that a
 * corrupt tuning file falls back to the defaults, and that every pool
 * buffer is released (the device closes cleanly). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_status.h"
#include "graph.h"
#include "graph_eval_spatial.h"
#include "nn_conv_tiled.h"
#include "nn_tune.h"
#include "testutil.h"

/* One conv case. */
typedef struct conv_case {
    int c, h, w, oc, kh, kw;
    int sy, sx, dy, dx;
    int pt, pl, pb, pr;       /* pads: top, left, bottom, right */
    int bias;
    graph_activation act;
    graph_dtype out_dtype;
} conv_case;

/* A one-Conv graph: tensors x, w, b (optional), y; node 0. */
typedef struct conv_graph {
    kiln_graph *g;
    int x, w, b, y;
} conv_graph;

/* Returns a uniform float in [lo, hi). */
static float rng_float(float lo, float hi)
{
    return lo + (hi - lo) * (float)(test_rng_next() >> 8) / 16777216.0f;
}

/* Output size along one axis. */
static int out_dim(int in, int k, int s, int d, int pb, int pe)
{
    return (in + pb + pe - ((k - 1) * d + 1)) / s + 1;
}

/* Builds the graph of a case with random host data in x, w, b and a host
 * y to receive the reference.  Exits on failure. */
static void graph_build(const conv_case *cc, conv_graph *cg)
{
    kiln_graph *g = NULL;
    int node, oh = out_dim(cc->h, cc->kh, cc->sy, cc->dy, cc->pt, cc->pb);
    int ow = out_dim(cc->w, cc->kw, cc->sx, cc->dx, cc->pl, cc->pr);
    graph_node *n;
    graph_window *win;
    kiln_status st;

    st = graph_new(&g);
    if (st == KILN_OK)
        st = graph_add_tensor(g, "x", GRAPH_DT_FLOAT32, &cg->x);
    if (st == KILN_OK)
        st = graph_add_tensor(g, "w", GRAPH_DT_FLOAT32, &cg->w);
    cg->b = -1;
    if (st == KILN_OK && cc->bias)
        st = graph_add_tensor(g, "b", GRAPH_DT_FLOAT32, &cg->b);
    if (st == KILN_OK)
        st = graph_add_tensor(g, "y", cc->out_dtype, &cg->y);
    if (st == KILN_OK)
        st = graph_add_node(g, GRAPH_OP_CONV, "conv", 3, 1, &node);
    if (st != KILN_OK) {
        fprintf(stderr, "graph build: %s\n", kiln_last_error());
        exit(1);
    }
    {
        graph_tensor *x = &g->tensors[cg->x], *w = &g->tensors[cg->w], *y = &g->tensors[cg->y];
        const int64_t xd[4] = { 1, cc->c, cc->h, cc->w }, wd[4] = { cc->oc, cc->c, cc->kh, cc->kw };
        const int64_t yd[4] = { 1, cc->oc, oh, ow };
        x->rank = w->rank = y->rank = 4;
        memcpy(x->dims, xd, sizeof(xd));
        memcpy(w->dims, wd, sizeof(wd));
        memcpy(y->dims, yd, sizeof(yd));
        if (graph_tensor_alloc_data(x) != KILN_OK || graph_tensor_alloc_data(w) != KILN_OK ||
            graph_tensor_alloc_data(y) != KILN_OK) {
            fprintf(stderr, "out of host memory\n");
            exit(1);
        }
        x->kind = GRAPH_TENSOR_INPUT;
        y->kind = GRAPH_TENSOR_VALUE;
        y->producer = node;
        for (int64_t i = 0; i < graph_tensor_elements(x); i++)
            x->f32[i] = rng_float(-1.0f, 1.0f);
        for (int64_t i = 0; i < graph_tensor_elements(w); i++)
            w->f32[i] = rng_float(-0.5f, 0.5f);
    }
    if (cc->bias) {
        graph_tensor *b = &g->tensors[cg->b];
        b->rank = 1;
        b->dims[0] = cc->oc;
        if (graph_tensor_alloc_data(b) != KILN_OK) {
            fprintf(stderr, "out of host memory\n");
            exit(1);
        }
        for (int i = 0; i < cc->oc; i++)
            b->f32[i] = rng_float(-1.0f, 1.0f);
    }
    n = &g->nodes[node];
    n->inputs[0] = cg->x;
    n->inputs[1] = cg->w;
    n->inputs[2] = cg->b;
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
    cg->g = g;
}

/* Writes n floats at element offset `off` of a buffer (blocking). */
static kiln_status put(kiln_device *dev, cl_mem mem, size_t off, const float *data, size_t n)
{
    cl_int err = clEnqueueWriteBuffer(dev->queue, mem, CL_TRUE, off * sizeof(float),
                                      n * sizeof(float), data, 0, NULL, NULL);
    return err == CL_SUCCESS ? KILN_OK : kiln_fail_cl(err, "writing test data");
}

/* Runs one case on the device under tuning t (NULL: the device defaults)
 * and compares with the host reference.  Returns the largest |d|. */
static double run_case(kiln_device *dev, const conv_case *cc, const nn_conv_tuning *t,
                       const char *label)
{
    conv_graph cg;
    const graph_node *n;
    const graph_tensor *x, *w, *y;
    pool_buffer *act = NULL, *wts = NULL;
    float *packed = NULL, *got = NULL;
    nn_place *places = NULL;
    size_t nx, ny, np, x_off = 5, y_off, w_off = 3, b_off;
    double worst = 0.0;
    /* a FLOAT16 output may round to the neighbouring half (2^-11) */
    const double tol = cc->out_dtype == GRAPH_DT_FLOAT16 ? 1e-3 : 1e-4;
    kiln_status st;

    graph_build(cc, &cg);
    n = &cg.g->nodes[0];
    x = &cg.g->tensors[cg.x];
    w = &cg.g->tensors[cg.w];
    y = &cg.g->tensors[cg.y];
    CHECK(nn_conv_tiled_fits(cg.g, n));
    graph_eval_conv(n, x, w, cc->bias ? &cg.g->tensors[cg.b] : NULL, NULL, &cg.g->tensors[cg.y]);
    nx = (size_t)graph_tensor_elements(x);
    ny = (size_t)graph_tensor_elements(y);
    np = nn_conv_tiled_packed_elements(cg.g, n, t);
    y_off = x_off + nx + 11;
    b_off = w_off + np + 7;
    packed = test_xmalloc(np, sizeof(float));
    got = test_xmalloc(ny, sizeof(float));
    places = test_xmalloc(cg.g->ntensors, sizeof(*places));
    memset(places, 0, cg.g->ntensors * sizeof(*places));
    nn_conv_tiled_pack(cg.g, n, t, packed);
    st = pool_acquire(dev->pool, (y_off + ny + 13) * sizeof(float), "test.conv.act", &act);
    if (st == KILN_OK)
        st = pool_acquire(dev->pool, (b_off + (size_t)cc->oc + 1) * sizeof(float),
                          "test.conv.weights", &wts);
    if (st == KILN_OK)
        st = put(dev, act->mem, x_off, x->f32, nx);
    if (st == KILN_OK)
        st = put(dev, wts->mem, w_off, packed, np);
    if (st == KILN_OK && cc->bias)
        st = put(dev, wts->mem, b_off, cg.g->tensors[cg.b].f32, (size_t)cc->oc);
    if (st == KILN_OK) {
        nn_launch ctx = { dev, cg.g, places, t, NULL, { NULL, 0 }, 0, 0 };
        places[cg.x] = (nn_place){ act->mem, (cl_uint)x_off };
        places[cg.y] = (nn_place){ act->mem, (cl_uint)y_off };
        places[cg.w] = (nn_place){ wts->mem, (cl_uint)w_off };
        if (cc->bias)
            places[cg.b] = (nn_place){ wts->mem, (cl_uint)b_off };
        st = nn_launch_conv_tiled(&ctx, n);
    }
    if (st == KILN_OK) {
        cl_int err = clEnqueueReadBuffer(dev->queue, act->mem, CL_TRUE, y_off * sizeof(float),
                                         ny * sizeof(float), got, 0, NULL, NULL);
        if (err != CL_SUCCESS)
            st = kiln_fail_cl(err, "reading the result");
    }
    CHECK_OK(st);
    if (st == KILN_OK) {
        size_t bad = 0;
        for (size_t i = 0; i < ny; i++) {
            double want = y->f32[i], d = fabs((double)got[i] - want);
            if (!(d <= tol * (1.0 + fabs(want)))) {
                if (bad < 5)
                    fprintf(stderr, "%s: [%zu] got %.9g want %.9g\n", label, i, (double)got[i],
                            want);
                bad++;
            }
            if (d > worst || isnan(d))
                worst = d;
        }
        CHECK(bad == 0);
    }
    pool_release(dev->pool, act);
    pool_release(dev->pool, wts);
    free(places);
    free(got);
    free(packed);
    graph_free(cg.g);
    return worst;
}

/* Times a 64->64 3x3 relu conv at 160x160 under the device defaults and
 * prints its GFLOP/s (information only). */
static void report_speed(kiln_device *dev)
{
    nn_conv_tuning t;
    nn_conv_tile tile;
    nn_conv_shape s = { 64, 160, 160, 64, 160, 160, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0 };
    pool_buffer *act = NULL, *wts = NULL;
    size_t nact = (size_t)64 * 160 * 160 * 2, nw = (size_t)(64 + 32) * 64 * 9 + 64;
    double best = 1e30;
    kiln_status st;

    nn_conv_tuning_default(&dev->info, &t);
    tile = t.cls[NN_CONV_CLASS_WIDE];
    st = pool_acquire(dev->pool, nact * sizeof(float), "test.conv.act", &act);
    if (st == KILN_OK)
        st = pool_acquire(dev->pool, nw * sizeof(float), "test.conv.weights", &wts);
    if (st == KILN_OK) {
        float zero = 0.25f;
        cl_int err = clEnqueueFillBuffer(dev->queue, act->mem, &zero, sizeof(zero), 0,
                                         nact * sizeof(float), 0, NULL, NULL);
        if (err == CL_SUCCESS)
            err = clEnqueueFillBuffer(dev->queue, wts->mem, &zero, sizeof(zero), 0,
                                      nw * sizeof(float), 0, NULL, NULL);
        if (err != CL_SUCCESS)
            st = kiln_fail_cl(err, "filling");
    }
    for (int r = 0; r < 6 && st == KILN_OK; r++) {
        nn_place x = { act->mem, 0 }, y = { act->mem, (cl_uint)(nact / 2) };
        nn_place w = { wts->mem, 0 }, b = { wts->mem, (cl_uint)(nw - 64) };
        double t0 = test_now_ms(), ms;
        st = nn_conv_tiled_enqueue(dev, &s, &tile, t.oc_first, x, w, b, y, (nn_place){ NULL, 0 });
        if (st == KILN_OK)
            st = device_finish(dev);
        ms = test_now_ms() - t0;
        if (r > 0 && ms < best)
            best = ms;
    }
    CHECK_OK(st);
    if (st == KILN_OK)
        printf("tiled conv 64->64 3x3 160x160 (toc %d, %d x %d px): %.3f ms, %.1f GFLOP/s\n",
               tile.toc, tile.nv, tile.vw, best, 2.0 * 64 * 64 * 9 * 160 * 160 / best / 1e6);
    pool_release(dev->pool, act);
    pool_release(dev->pool, wts);
}

/* Checks nn_tune_save / nn_tune_load round trips and the fallbacks. */
static void test_tune_file(kiln_device *dev)
{
    nn_conv_tuning t, back, def;
    char path[4200];

    nn_conv_tuning_default(&dev->info, &def);
    nn_tune_path(dev, path, sizeof(path));
    remove(path);
    CHECK_OK(nn_tune_load(dev, &back));
    CHECK(back.origin == NN_TUNING_DEFAULT);
    CHECK(memcmp(back.cls, def.cls, sizeof(def.cls)) == 0 && back.oc_first == def.oc_first);

    t = def;
    t.oc_first = !def.oc_first;
    t.cls[NN_CONV_CLASS_WIDE] = (nn_conv_tile){ 12, 3, 8, 2, 2 };
    t.cls[NN_CONV_CLASS_NARROW] = (nn_conv_tile){ 2, 1, 4, 64, 1 };
    CHECK_OK(nn_tune_save(dev, &t));
    CHECK_OK(nn_tune_load(dev, &back));
    CHECK(back.origin == NN_TUNING_FILE);
    CHECK(back.oc_first == t.oc_first);
    CHECK(memcmp(back.cls, t.cls, sizeof(t.cls)) == 0);

    t.cls[0].vw = 3;
    CHECK_STATUS(nn_tune_save(dev, &t), KILN_E_INVAL);

    test_write_text(path, "kiln-conv-tuning 1\nkey 0123\noc_first 1\nclass wide 99 2 16 1 4\n");
    CHECK_OK(nn_tune_load(dev, &back));
    CHECK(back.origin == NN_TUNING_CORRUPT);
    CHECK(memcmp(back.cls, def.cls, sizeof(def.cls)) == 0 && back.oc_first == def.oc_first);

    test_write_text(path, "\x01\x02garbage");
    CHECK_OK(nn_tune_load(dev, &back));
    CHECK(back.origin == NN_TUNING_CORRUPT);
    CHECK(memcmp(back.cls, def.cls, sizeof(def.cls)) == 0);
    remove(path);
}

/* Runs every case under the defaults and a few other tunings. */
int main(void)
{
    static const conv_case cases[] = {
        /* c   h   w  oc kh kw sy sx dy dx pt pl pb pr bias act */
        { 16, 40, 40, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, GRAPH_ACT_RELU, GRAPH_DT_FLOAT32 },
        { 16, 33, 29, 24, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, GRAPH_ACT_RELU, GRAPH_DT_FLOAT32 },
        { 11, 13, 7, 20, 3, 3, 1, 1, 4, 4, 4, 4, 4, 4, 1, GRAPH_ACT_RELU, GRAPH_DT_FLOAT32 },
        { 17, 20, 21, 16, 3, 3, 1, 1, 8, 8, 8, 8, 8, 8, 1, GRAPH_ACT_SIGMOID, GRAPH_DT_FLOAT32 },
        { 9, 70, 45, 33, 3, 3, 1, 1, 8, 8, 8, 8, 8, 8, 0, GRAPH_ACT_NONE, GRAPH_DT_FLOAT32 },
        { 5, 37, 41, 19, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, GRAPH_ACT_RELU, GRAPH_DT_FLOAT32 },
        { 3, 64, 70, 64, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, GRAPH_ACT_RELU, GRAPH_DT_FLOAT32 },
        { 3, 50, 67, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, GRAPH_ACT_RELU, GRAPH_DT_FLOAT32 },
        { 6, 13, 7, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, GRAPH_ACT_SIGMOID, GRAPH_DT_FLOAT32 },
        { 64, 21, 19, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, GRAPH_ACT_NONE, GRAPH_DT_FLOAT32 },
        { 20, 9, 50, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, GRAPH_ACT_RELU, GRAPH_DT_FLOAT32 },
        { 12, 1, 1, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, GRAPH_ACT_RELU, GRAPH_DT_FLOAT32 },
        { 10, 3, 5, 18, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, GRAPH_ACT_NONE, GRAPH_DT_FLOAT32 },
        { 14, 23, 31, 10, 5, 3, 3, 3, 1, 2, 2, 1, 1, 2, 1, GRAPH_ACT_RELU, GRAPH_DT_FLOAT32 },
        { 24, 17, 40, 48, 3, 3, 1, 1, 1, 1, 0, 1, 1, 0, 1, GRAPH_ACT_NONE, GRAPH_DT_FLOAT32 },
        { 40, 12, 36, 37, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, GRAPH_ACT_RELU, GRAPH_DT_FLOAT32 },
        { 18, 15, 34, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, GRAPH_ACT_SIGMOID, GRAPH_DT_FLOAT16 },
    };
    const size_t ncases = sizeof(cases) / sizeof(cases[0]);
    nn_conv_tuning tunings[4];
    const char *tuning_names[4] = { "defaults", "gpu-defaults", "odd-tiles", "wg-3x1" };
    device_info gpu_info;
    kiln_device *dev;
    char dir[4200];

    snprintf(dir, sizeof(dir), "%s", test_tmpdir("test_conv_tiled"));
    setenv("KILN_CACHE_DIR", dir, 1);
    test_rng_seed(20261123u);
    dev = test_device_open(0);

    nn_conv_tuning_default(&dev->info, &tunings[0]);
    memset(&gpu_info, 0, sizeof(gpu_info));
    gpu_info.type = CL_DEVICE_TYPE_GPU;
    nn_conv_tuning_default(&gpu_info, &tunings[1]);
    tunings[2] = tunings[0];
    tunings[2].oc_first = !tunings[0].oc_first;
    tunings[2].cls[NN_CONV_CLASS_WIDE] = (nn_conv_tile){ 5, 3, 4, 2, 3 };
    tunings[2].cls[NN_CONV_CLASS_THIN_IN] = (nn_conv_tile){ 7, 1, 8, 1, 2 };
    tunings[2].cls[NN_CONV_CLASS_NARROW] = (nn_conv_tile){ 3, 2, 2, 4, 1 };
    tunings[3] = tunings[0];
    for (int c = 0; c < NN_CONV_CLASSES; c++) {
        tunings[3].cls[c].lx = 3;
        tunings[3].cls[c].ly = 1;
        tunings[3].cls[c].nv = 1;
        tunings[3].cls[c].vw = 8;
    }
    for (int k = 0; k < 4; k++)
        CHECK(nn_conv_tuning_valid(&tunings[k]));

    for (int k = 0; k < 4; k++) {
        double worst = 0.0;
        for (size_t i = 0; i < ncases; i++) {
            char label[96];
            double d;
            snprintf(label, sizeof(label), "%s case %zu", tuning_names[k], i);
            d = run_case(dev, &cases[i], k == 0 ? NULL : &tunings[k], label);
            worst = d > worst ? d : worst;
        }
        printf("%-12s: %zu cases, max |d| %.3g\n", tuning_names[k], ncases, worst);
    }
    /* an invalid tuning in the launch context means the defaults, for the
       packing and the launch alike */
    {
        nn_conv_tuning bad = tunings[0];
        bad.cls[NN_CONV_CLASS_WIDE].toc = 0;
        CHECK(!nn_conv_tuning_valid(&bad));
        run_case(dev, &cases[1], &bad, "invalid tuning");
    }

    report_speed(dev);
    test_tune_file(dev);
    test_device_close(dev);
    return test_summary("test_conv_tiled");
}
