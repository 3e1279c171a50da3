/* Conv fusions and Conv kernels through the whole engine path, against
 * the unfused host reference.
 *
 * Each case is a small ONNX model: an optional residual branch (a 1x1
 * Conv of the input, node "rconv", output "r"), the Conv under test with
 * bias and an optional Relu or Sigmoid, and an optional Add of the two
 * (either input order).  The device side loads the model with the input
 * as a runtime input through nn_model_acquire, which folds it (the
 * residual Add fused into the Conv, graph_fuse_residual), chooses each
 * Conv's kernel (tiled, few-output-channel, or direct for grouped
 * Convs) and runs it.  The reference is the same model with the input as
 * an initializer: graph_fold evaluates every node on the host, one by
 * one, before any fusion (double accumulation in Conv).  Outputs match
 * within 1e-4 * (1 + |ref|).
 *
 * The pass's conditions are checked on folded graphs: a Conv output that
 * something else also reads, a broadcasting Add, and a residual produced
 * after the Conv are left alone; so is the choice of the few-output-
 * channel kernel (nn_conv_narrow_fits: at most 4 outputs, rows at most
 * NN_CONV_NARROW_MAX_WIDTH wide, group 1).  Every case ends with an
 * empty pool ledger. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph_fold.h"
#include "nn_conv_narrow.h"
#include "nn_model.h"
#include "onnx_build.h"
#include "onnx_load.h"
#include "testutil.h"

/* One case: C x H x W -> OC, a k x k Conv (pads k / 2 * dil, stride). */
typedef struct fused_case {
    const char *what;
    int64_t c, h, w, oc, k, stride, dil, group;
    const char *act;            /* "Relu", "Sigmoid" or NULL */
    int residual;               /* 0: none; 1: Add(conv, r); 2: Add(r, conv) */
} fused_case;

static unsigned rng_state = 12345;

/* Uniform floats in [-1, 1). */
static void fill(float *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        rng_state = rng_state * 1664525u + 1013904223u;
        v[i] = (float)(rng_state >> 8) / 8388608.0f - 1.0f;
    }
}

/* Output size of the case's Conv along one axis. */
static int64_t out_dim(const fused_case *fc, int64_t in)
{
    int64_t pad = fc->k / 2 * fc->dil;
    return (in + 2 * pad - fc->dil * (fc->k - 1) - 1) / fc->stride + 1;
}

/* Builds the case's model; the input "x" is a runtime input, or the
 * initializer `x` when x is not NULL. */
static onnx_build *case_model(const fused_case *fc, const float *x)
{
    onnx_build *b = onnx_build_new(13);
    const int64_t xd[4] = { 1, fc->c, fc->h, fc->w };
    const int64_t wd[4] = { fc->oc, fc->c / fc->group, fc->k, fc->k };
    const int64_t rwd[4] = { fc->oc, fc->c, 1, 1 }, bd[1] = { fc->oc };
    size_t nw = (size_t)(fc->oc * fc->c / fc->group * fc->k * fc->k);
    float *w = malloc(nw * sizeof(*w)), *rw = malloc((size_t)(fc->oc * fc->c) * sizeof(*rw));
    float *bias = malloc((size_t)fc->oc * sizeof(*bias));
    float *rbias = malloc((size_t)fc->oc * sizeof(*rbias));
    int64_t pad = fc->k / 2 * fc->dil;
    const char *conv_out = fc->act ? "c" : fc->residual ? "a" : "y";
    const char *act_out = fc->residual ? "a" : "y";

    if (!w || !rw || !bias || !rbias) {
        fprintf(stderr, "out of host memory\n");
        exit(1);
    }
    rng_state = 777;
    fill(w, nw);
    fill(rw, (size_t)(fc->oc * fc->c));
    fill(bias, (size_t)fc->oc);
    fill(rbias, (size_t)fc->oc);
    if (x)
        onnx_build_init_f32(b, "x", 4, xd, x);
    else
        onnx_build_input(b, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 4, xd);
    onnx_build_init_f32(b, "w", 4, wd, w);
    onnx_build_init_f32(b, "b", 1, bd, bias);
    if (fc->residual) {
        onnx_build_init_f32(b, "rw", 4, rwd, rw);
        onnx_build_init_f32(b, "rb", 1, bd, rbias);
        Onnx__NodeProto *r = onnx_build_node(b, "Conv", "rconv",
                                             (const char *[]){ "x", "rw", "rb", NULL },
                                             (const char *[]){ "r", NULL });
        onnx_build_attr_ints(b, r, "strides", 2, (const int64_t[]){ fc->stride, fc->stride });
    }
    Onnx__NodeProto *n = onnx_build_node(b, "Conv", "conv",
                                         (const char *[]){ "x", "w", "b", NULL },
                                         (const char *[]){ conv_out, NULL });
    onnx_build_attr_ints(b, n, "kernel_shape", 2, (const int64_t[]){ fc->k, fc->k });
    onnx_build_attr_ints(b, n, "pads", 4, (const int64_t[]){ pad, pad, pad, pad });
    onnx_build_attr_ints(b, n, "strides", 2, (const int64_t[]){ fc->stride, fc->stride });
    onnx_build_attr_ints(b, n, "dilations", 2, (const int64_t[]){ fc->dil, fc->dil });
    onnx_build_attr_int(b, n, "group", fc->group);
    if (fc->act)
        onnx_build_node(b, fc->act, "act", (const char *[]){ "c", NULL },
                        (const char *[]){ act_out, NULL });
    if (fc->residual == 1)
        onnx_build_node(b, "Add", "add", (const char *[]){ "a", "r", NULL },
                        (const char *[]){ "y", NULL });
    else if (fc->residual == 2)
        onnx_build_node(b, "Add", "add", (const char *[]){ "r", "a", NULL },
                        (const char *[]){ "y", NULL });
    onnx_build_output(b, "y");
    free(w);
    free(rw);
    free(bias);
    free(rbias);
    return b;
}

/* Loads a builder's model from memory and folds it (all outputs kept
 * as the model says: the first). */
static kiln_graph *load_folded(onnx_build *b, graph_fold_stats *stats)
{
    kiln_graph *g = NULL;
    size_t size;
    uint8_t *bytes = onnx_build_pack(b, &size);
    kiln_status st = onnx_load_buffer(bytes, size, NULL, &g);

    free(bytes);
    if (st == KILN_OK)
        st = graph_fold(g, NULL, stats);
    CHECK_OK(st);
    if (st != KILN_OK) {
        graph_free(g);
        return NULL;
    }
    return g;
}

/* Runs case number `index` on the device and against the host
 * reference. */
static void run_case(kiln_device *dev, const char *dir, size_t index, const fused_case *fc)
{
    size_t nx = (size_t)(fc->c * fc->h * fc->w);
    size_t ny = (size_t)(fc->oc * out_dim(fc, fc->h) * out_dim(fc, fc->w));
    float *x = malloc(nx * sizeof(*x)), *got = malloc(ny * sizeof(*got));
    char path[4096];
    nn_model *m = NULL;
    kiln_graph *ref;
    onnx_build *b;
    size_t bad = 0;

    if (!x || !got) {
        fprintf(stderr, "out of host memory\n");
        exit(1);
    }
    rng_state = 99;
    fill(x, nx);
    b = case_model(fc, x);
    ref = load_folded(b, NULL);
    onnx_build_free(b);
    /* one file per case: the device caches models by path */
    snprintf(path, sizeof(path), "%s/case%zu.onnx", dir, index);
    b = case_model(fc, NULL);
    onnx_build_write(b, path);
    onnx_build_free(b);
    CHECK_OK(nn_model_acquire(dev, path, NULL, 0, &m));
    if (m && ref) {
        const graph_tensor *want = &ref->tensors[ref->outputs[0]];
        const kiln_graph *g = nn_model_graph(m);
        size_t convs = 0;
        for (size_t i = 0; i < g->nnodes; i++)
            convs += g->nodes[i].op == GRAPH_OP_CONV;
        /* the residual Add is fused: only the Convs remain */
        CHECK(g->nnodes == convs && convs == (fc->residual ? 2u : 1u));
        CHECK(ref->nnodes == 0 && want->f32 && (size_t)graph_tensor_elements(want) == ny);
        CHECK_OK(nn_model_write_input(m, 0, x, nx));
        CHECK_OK(nn_model_run(m));
        CHECK_OK(nn_model_read_output(m, 0, got, ny));
        for (size_t i = 0; want->f32 && i < ny; i++) {
            double d = fabs((double)got[i] - (double)want->f32[i]);
            if (!(d <= 1e-4 * (1.0 + fabs((double)want->f32[i])))) {
                if (bad < 5)
                    fprintf(stderr, "%s: [%zu] got %.9g want %.9g\n", fc->what, i,
                            (double)got[i], (double)want->f32[i]);
                bad++;
            }
        }
        CHECK(bad == 0);
    }
    nn_model_release(m);
    graph_free(ref);
    free(x);
    free(got);
}

/* Device parity of fused residuals and few-output-channel Convs. */
static void test_device_cases(const char *dir)
{
    static const fused_case cases[] = {
        { "residual tiled thin-in relu", 8, 19, 23, 16, 3, 1, 1, 1, "Relu", 1 },
        { "residual tiled wide, add order swapped", 16, 12, 40, 16, 3, 1, 1, 1, NULL, 2 },
        { "residual tiled sigmoid stride 2", 12, 17, 21, 8, 3, 2, 1, 1, "Sigmoid", 1 },
        { "residual direct (groups 2)", 8, 11, 13, 8, 3, 1, 1, 2, "Relu", 2 },
        { "residual narrow oc 3", 16, 13, 37, 3, 3, 1, 1, 1, "Relu", 1 },
        { "narrow 3x3 64->1", 64, 21, 45, 1, 3, 1, 1, 1, NULL, 0 },
        { "narrow 1x1 6->1 sigmoid", 6, 18, 70, 1, 1, 1, 1, 1, "Sigmoid", 0 },
        { "narrow 3x3 5->4 dilation 2", 5, 16, 19, 4, 3, 1, 2, 1, "Relu", 0 },
        { "narrow 3x3 7->2 stride 2", 7, 15, 33, 2, 3, 2, 1, 1, NULL, 0 },
        { "narrow 3x3 3->1 one-pixel rows", 3, 9, 1, 1, 3, 1, 1, 1, NULL, 0 },
        { "narrow 5x5 9->2 narrow image", 9, 6, 5, 2, 5, 1, 1, 1, "Relu", 1 },
        { "oc 1 rows too wide: tiled, residual", 2, 3, NN_CONV_NARROW_MAX_WIDTH + 1, 1, 3, 1, 1,
          1, "Relu", 1 },
    };
    kiln_device *dev = test_device_open(0);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_case(dev, dir, i, &cases[i]);
    test_device_close(dev);
}

/* Counts live nodes of an operator. */
static size_t op_count(const kiln_graph *g, graph_op op)
{
    size_t n = 0;

    for (size_t i = 0; i < g->nnodes; i++)
        n += g->nodes[i].op == op;
    return n;
}

/* The pass fuses Conv+Relu+Add into one Conv with the residual as input
 * 3, and leaves the Adds it must not fuse. */
static void test_pass_conditions(void)
{
    const int64_t xd[4] = { 1, 4, 6, 6 }, wd[4] = { 4, 4, 3, 3 }, cd[4] = { 1, 4, 1, 1 };
    const int64_t pads[4] = { 1, 1, 1, 1 };
    float w[144], bc[4];
    graph_fold_stats stats;

    fill(w, 144);
    fill(bc, 4);
    for (int variant = 0; variant < 4; variant++) {
        onnx_build *b = onnx_build_new(13);
        onnx_build_input(b, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 4, xd);
        onnx_build_init_f32(b, "w", 4, wd, w);
        onnx_build_init_f32(b, "bc", 4, cd, bc);
        Onnx__NodeProto *n = onnx_build_node(b, "Conv", "conv",
                                             (const char *[]){ "x", "w", NULL },
                                             (const char *[]){ "c", NULL });
        onnx_build_attr_ints(b, n, "pads", 4, pads);
        onnx_build_node(b, "Relu", "relu", (const char *[]){ "c", NULL },
                        (const char *[]){ "a", NULL });
        switch (variant) {
        case 0:     /* fused: y = relu(conv(x)) + x */
            onnx_build_node(b, "Add", "add", (const char *[]){ "a", "x", NULL },
                            (const char *[]){ "y", NULL });
            break;
        case 1:     /* the Conv output is read twice: not fused */
            onnx_build_node(b, "Add", "add", (const char *[]){ "a", "x", NULL },
                            (const char *[]){ "s", NULL });
            onnx_build_node(b, "Mul", "mul", (const char *[]){ "s", "a", NULL },
                            (const char *[]){ "y", NULL });
            break;
        case 2:     /* broadcast Add of a per-channel constant: not fused */
            onnx_build_node(b, "Add", "add", (const char *[]){ "a", "bc", NULL },
                            (const char *[]){ "y", NULL });
            break;
        default:    /* the residual is computed after the Conv: not fused */
            onnx_build_node(b, "Sigmoid", "late", (const char *[]){ "x", NULL },
                            (const char *[]){ "l", NULL });
            onnx_build_node(b, "Add", "add", (const char *[]){ "l", "a", NULL },
                            (const char *[]){ "y", NULL });
            break;
        }
        onnx_build_output(b, "y");
        kiln_graph *g = load_folded(b, &stats);
        onnx_build_free(b);
        if (!g)
            continue;
        if (variant == 0) {
            const graph_node *c = &g->nodes[0];
            CHECK(g->nnodes == 1 && stats.residual_fused == 1);
            CHECK(c->op == GRAPH_OP_CONV && c->ninputs == 4 && c->inputs[2] < 0 &&
                  c->inputs[3] == g->inputs[0] && c->attr.conv.activation == GRAPH_ACT_RELU &&
                  c->outputs[0] == g->outputs[0]);
        } else {
            CHECK(stats.residual_fused == 0 && op_count(g, GRAPH_OP_ADD) == 1);
        }
        graph_free(g);
    }
}

/* Which Convs the few-output-channel kernel takes: at most 4 outputs,
 * rows at most NN_CONV_NARROW_MAX_WIDTH wide, group 1. */
static void test_narrow_choice(void)
{
    static const fused_case cases[] = {
        { "oc 1", 8, 5, 45, 1, 3, 1, 1, 1, NULL, 0 },
        { "oc 4", 8, 5, 45, 4, 3, 1, 1, 1, NULL, 0 },
        { "oc 5", 8, 5, 45, 5, 3, 1, 1, 1, NULL, 0 },
        { "wide rows", 2, 3, NN_CONV_NARROW_MAX_WIDTH + 1, 1, 3, 1, 1, 1, NULL, 0 },
        { "groups 2", 8, 5, 45, 2, 3, 1, 1, 2, NULL, 0 },
    };
    static const int want[] = { 1, 1, 0, 0, 0 };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        onnx_build *b = case_model(&cases[i], NULL);
        kiln_graph *g = load_folded(b, NULL);
        onnx_build_free(b);
        if (!g)
            continue;
        CHECK(g->nnodes == 1 && nn_conv_narrow_fits(g, &g->nodes[0]) == want[i]);
        graph_free(g);
    }
}

/* Fused residual and few-output-channel Conv cases. */
int main(void)
{
    const char *dir = test_tmpdir("test_conv_fused");

    test_pass_conditions();
    test_narrow_choice();
    test_device_cases(dir);
    return test_summary("test_conv_fused");
}
