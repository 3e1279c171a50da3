/* One-model cases for the network operator tests (see nn_case.h). */
#include <math.h>

#include "cl_status.h"
#include "graph_eval.h"
#include "graph_fold.h"
#include "nn_case.h"
#include "nn_ops.h"
#include "onnx.pb-c.h"
#include "onnx_load.h"
#include "testutil.h"

#define FLOAT_T ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT
#define GAP 16
#define SENTINEL 12345.5f
#define MSG_LEN 512

/* Where every tensor lives for one case. */
typedef struct layout {
    size_t *offset;         /* per tensor, in elements */
    int *in_arena;          /* 1: arena, 2: weight buffer, 0: nowhere */
    size_t arena_elems, weight_elems;
} layout;

/* Cases whose device output was compared with the host's. */
static int cases_compared;

/* The cases compared so far. */
int nn_case_compared(void)
{
    return cases_compared;
}

/* Rounds up to a multiple of GAP. */
static size_t round_gap(size_t n)
{
    return (n + GAP - 1) / GAP * GAP;
}

/* A float graph input. */
void nn_case_input(onnx_build *b, const char *name, int rank, const int64_t *dims)
{
    onnx_build_input(b, name, FLOAT_T, rank, dims);
}

/* A float initializer of uniform values in [-1, 1). */
void nn_case_random_init(onnx_build *b, const char *name, int rank, const int64_t *dims)
{
    size_t n = 1;
    float *v;

    for (int i = 0; i < rank; i++)
        n *= (size_t)dims[i];
    v = test_xmalloc(n ? n : 1, sizeof(*v));
    for (size_t i = 0; i < n; i++)
        v[i] = 2.0f * test_rng_unit() - 1.0f;
    onnx_build_init_f32(b, name, rank, dims, v);
    free(v);
}

/* A 1-D float initializer. */
void nn_case_floats(onnx_build *b, const char *name, int64_t n, const float *v)
{
    onnx_build_init_f32(b, name, 1, &n, v);
}

/* A 1-D int64 initializer. */
void nn_case_ints(onnx_build *b, const char *name, int64_t n, const int64_t *v)
{
    onnx_build_init_i64(b, name, 1, &n, v);
}

/* A value for a runtime input element. */
static float input_value(int wide)
{
    float u = 2.0f * test_rng_unit() - 1.0f;

    if (!wide)
        return u;
    /* sign * 2^[-28, 17): half subnormals, normals and overflow */
    return (u < 0.0f ? -1.0f : 1.0f) * ldexpf(1.0f + test_rng_unit(),
                                              (int)(test_rng_unit() * 45.0f) - 28);
}

/* Whether a tensor is a runtime value the arena holds. */
static int runtime_tensor(const graph_tensor *t)
{
    return !graph_tensor_is_const(t) && t->rank >= 0;
}

/* Gives every runtime tensor an arena offset and every float constant a
 * weight-buffer offset; with inplace_concat, the even-numbered graph
 * inputs of a Concat whose dims before the axis are 1 sit inside its
 * output. */
static void layout_make(const kiln_graph *g, const nn_case_opts *o, layout *l)
{
    size_t a = 2 * GAP, w = GAP;

    l->offset = test_xmalloc(g->ntensors, sizeof(*l->offset));
    l->in_arena = test_xmalloc(g->ntensors, sizeof(*l->in_arena));
    for (size_t t = 0; t < g->ntensors; t++) {
        const graph_tensor *x = &g->tensors[t];
        size_t n = x->rank >= 0 ? (size_t)graph_tensor_elements(x) : 0;
        l->in_arena[t] = 0;
        l->offset[t] = 0;
        if (runtime_tensor(x)) {
            l->in_arena[t] = 1;
            l->offset[t] = a;
            a += round_gap(n) + GAP;
        } else if (graph_tensor_is_const(x) && x->f32) {
            l->in_arena[t] = 2;
            l->offset[t] = w;
            w += round_gap(n) + GAP;
        }
    }
    for (size_t i = 0; o->inplace_concat && i < g->nnodes; i++) {
        const graph_node *n = &g->nodes[i];
        const graph_tensor *y = &g->tensors[n->outputs[0]];
        int64_t outer = 1, inner = 1, at = 0;
        if (n->op != GRAPH_OP_CONCAT)
            continue;
        for (int d = 0; d < n->attr.axis; d++)
            outer *= y->dims[d];
        for (int d = (int)n->attr.axis + 1; d < y->rank; d++)
            inner *= y->dims[d];
        for (size_t k = 0; k < n->ninputs && outer == 1; k++) {
            int t = n->inputs[k];
            if (k % 2 == 0 && g->tensors[t].kind == GRAPH_TENSOR_INPUT)
                l->offset[t] = l->offset[n->outputs[0]] + (size_t)at;
            at += g->tensors[t].dims[n->attr.axis] * inner;
        }
    }
    l->arena_elems = a;
    l->weight_elems = w;
}

/* Frees a layout. */
static void layout_free(layout *l)
{
    free(l->offset);
    free(l->in_arena);
}

/* Writes n floats to buf at element `offset`, blocking. */
static kiln_status write_floats(kiln_device *dev, cl_mem buf, size_t offset, const float *v,
                                size_t n)
{
    cl_int err;

    if (n == 0)
        return KILN_OK;
    err = clEnqueueWriteBuffer(dev->queue, buf, CL_TRUE, offset * sizeof(float),
                               n * sizeof(float), v, 0, NULL, NULL);
    return err == CL_SUCCESS ? KILN_OK : kiln_fail_cl(err, "test: writing floats");
}

/* Fills the arena with the sentinel and writes the inputs (host values in
 * inputs[i] for graph input i) and the constants. */
static kiln_status upload(kiln_device *dev, const kiln_graph *g, const layout *l,
                          pool_buffer *arena, pool_buffer *weights, float **inputs)
{
    const float sentinel = SENTINEL;
    cl_int err = clEnqueueFillBuffer(dev->queue, arena->mem, &sentinel, sizeof(sentinel), 0,
                                     l->arena_elems * sizeof(float), 0, NULL, NULL);
    kiln_status st = KILN_OK;

    if (err != CL_SUCCESS)
        return kiln_fail_cl(err, "test: filling the arena");
    for (size_t i = 0; i < g->ninputs && st == KILN_OK; i++) {
        const graph_tensor *t = &g->tensors[g->inputs[i]];
        st = write_floats(dev, arena->mem, l->offset[g->inputs[i]], inputs[i],
                          (size_t)graph_tensor_elements(t));
    }
    for (size_t t = 0; t < g->ntensors && st == KILN_OK; t++)
        if (l->in_arena[t] == 2)
            st = write_floats(dev, weights->mem, l->offset[t], g->tensors[t].f32,
                              (size_t)graph_tensor_elements(&g->tensors[t]));
    return st;
}

/* Runs every node on the device and reads the first output and the gap
 * after it into got (elements + GAP floats). */
static kiln_status device_run(kiln_device *dev, const kiln_graph *g, const layout *l,
                              float **inputs, float *got)
{
    pool_buffer *arena = NULL, *weights = NULL;
    nn_place *places = test_xmalloc(g->ntensors, sizeof(*places));
    int out = g->outputs[0];
    size_t nout = (size_t)graph_tensor_elements(&g->tensors[out]);
    nn_launch ctx;
    cl_int err;
    kiln_status st;

    st = pool_acquire(dev->pool, l->arena_elems * sizeof(float), "test.arena", &arena);
    if (st != KILN_OK)
        goto out_free_places;
    st = pool_acquire(dev->pool, l->weight_elems * sizeof(float), "test.weights", &weights);
    if (st != KILN_OK)
        goto out_release_arena;
    st = upload(dev, g, l, arena, weights, inputs);
    if (st != KILN_OK)
        goto out_release_weights;
    for (size_t t = 0; t < g->ntensors; t++) {
        places[t].mem = l->in_arena[t] == 1 ? arena->mem : l->in_arena[t] == 2 ? weights->mem
                                                                                : NULL;
        places[t].offset = (cl_uint)l->offset[t];
    }
    memset(&ctx, 0, sizeof(ctx));
    ctx.dev = dev;
    ctx.g = g;
    ctx.places = places;
    for (size_t i = 0; i < g->nnodes && st == KILN_OK; i++)
        st = nn_op_launch(&ctx, (int)i);
    if (st != KILN_OK)
        goto out_release_weights;
    err = clEnqueueReadBuffer(dev->queue, arena->mem, CL_TRUE, l->offset[out] * sizeof(float),
                              (nout + GAP) * sizeof(float), got, 0, NULL, NULL);
    if (err != CL_SUCCESS)
        st = kiln_fail_cl(err, "test: reading the output");

out_release_weights:
    pool_release(dev->pool, weights);
out_release_arena:
    pool_release(dev->pool, arena);
out_free_places:
    free(places);
    return st;
}

/* Makes the runtime inputs constants holding the same values and
 * evaluates every node on the host. */
static kiln_status host_run(kiln_graph *g, float **inputs)
{
    kiln_status st = KILN_OK;

    for (size_t i = 0; i < g->ninputs && st == KILN_OK; i++) {
        graph_tensor *t = &g->tensors[g->inputs[i]];
        st = graph_tensor_alloc_data(t);
        if (st == KILN_OK)
            memcpy(t->f32, inputs[i], (size_t)graph_tensor_elements(t) * sizeof(float));
    }
    for (size_t i = 0; i < g->nnodes && st == KILN_OK; i++)
        st = graph_eval_node(g, (int)i);
    return st;
}

/* Compares the device output with the host's; reports the worst element. */
static void compare(const char *what, const graph_tensor *ref, const float *got)
{
    size_t n = (size_t)graph_tensor_elements(ref), worst = 0, bad = 0;
    double worst_d = 0.0;

    for (size_t i = 0; i < n; i++) {
        double r = ref->f32[i], v = got[i];
        double d = (r == v) ? 0.0 : fabs(r - v);
        if (!(d <= 1e-5 * (1.0 + fabs(r)))) {
            if (bad == 0 || d > worst_d || d != d) {
                worst = i;
                worst_d = d;
            }
            bad++;
        }
    }
    for (size_t i = 0; i < GAP; i++)
        if (got[n + i] != SENTINEL) {
            fprintf(stderr, "%s: the gap after the output was written at +%zu\n", what, i);
            bad++;
        }
    test_checks++;
    cases_compared++;
    if (bad) {
        test_failures++;
        fprintf(stderr, "%s: %zu of %zu elements differ; worst [%zu] device %.9g host %.9g\n",
                what, bad, n, worst, (double)got[worst], (double)ref->f32[worst]);
    }
}

/* Loads, folds and runs a model on the device and on the host, and
 * compares.  Frees the builder. */
void nn_case_run(kiln_device *dev, onnx_build *b, const char *what, const nn_case_opts *o)
{
    static const nn_case_opts defaults = { 0, 0, 0 };
    kiln_graph *g = NULL;
    graph_fold_options fo;
    size_t size;
    uint8_t *bytes = onnx_build_pack(b, &size);
    float **inputs = NULL, *got = NULL;
    layout l = { NULL, NULL, 0, 0 };
    char msg[MSG_LEN];
    kiln_status st;

    if (!o)
        o = &defaults;
    onnx_build_free(b);
    st = onnx_load_buffer(bytes, size, NULL, &g);
    free(bytes);
    if (st != KILN_OK) {
        CHECK_OK(st);
        fprintf(stderr, "  (case %s)\n", what);
        return;
    }
    memset(&fo, 0, sizeof(fo));
    fo.runtime_only = 1;
    st = graph_fold(g, &fo, NULL);
    if (st != KILN_OK) {
        CHECK_OK(st);
        fprintf(stderr, "  (case %s)\n", what);
        goto out_free_graph;
    }
    if (o->expect_nodes && g->nnodes != o->expect_nodes) {
        fprintf(stderr, "%s: %zu nodes after folding, expected %zu\n", what, g->nnodes,
                o->expect_nodes);
        CHECK(g->nnodes == o->expect_nodes);
    }
    for (size_t i = 0; i < g->nnodes; i++) {
        int ok = nn_op_supported(g, &g->nodes[i], msg, sizeof(msg));
        if (!ok)
            fprintf(stderr, "%s: refused: %s\n", what, msg);
        CHECK(ok);
        if (!ok)
            goto out_free_graph;
    }
    layout_make(g, o, &l);
    inputs = test_xmalloc(g->ninputs ? g->ninputs : 1, sizeof(*inputs));
    for (size_t i = 0; i < g->ninputs; i++) {
        size_t n = (size_t)graph_tensor_elements(&g->tensors[g->inputs[i]]);
        inputs[i] = test_xmalloc(n ? n : 1, sizeof(float));
        for (size_t k = 0; k < n; k++)
            inputs[i][k] = input_value(o->wide);
    }
    got = test_xmalloc((size_t)graph_tensor_elements(&g->tensors[g->outputs[0]]) + GAP,
                       sizeof(*got));
    st = device_run(dev, g, &l, inputs, got);
    if (st != KILN_OK) {
        CHECK_OK(st);
        fprintf(stderr, "  (case %s)\n", what);
        goto out_free_data;
    }
    st = host_run(g, inputs);
    CHECK_OK(st);
    if (st == KILN_OK)
        compare(what, &g->tensors[g->outputs[0]], got);

out_free_data:
    for (size_t i = 0; i < g->ninputs; i++)
        free(inputs[i]);
    free(inputs);
    free(got);
    layout_free(&l);
out_free_graph:
    graph_free(g);
}

