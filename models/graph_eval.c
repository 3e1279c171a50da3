/* Host kernels for constant folding (see graph_eval.h).  Every kernel
 * reads constant inputs and writes the output tensor's data, which
 * eval_node allocates from the inferred shape. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "float16.h"
#include "graph_eval.h"
#include "graph_eval_spatial.h"
#include "status.h"

#define LABEL_MAX 256

/* The node being evaluated. */
typedef struct eval_ctx {
    kiln_graph *g;
    graph_node *n;
    graph_tensor *out;
    char label[LABEL_MAX];
} eval_ctx;

/* Walks an output shape while tracking the linear offset of up to three
 * inputs broadcast (or permuted, or strided) onto it. */
typedef struct walk {
    int rank;
    int64_t dims[GRAPH_MAX_RANK];
    int64_t coord[GRAPH_MAX_RANK];
    int nin;
    int64_t stride[3][GRAPH_MAX_RANK];  /* per output axis, 0 when broadcast */
    int64_t off[3];
} walk;

/* Input k's tensor, or NULL when absent. */
static graph_tensor *in_tensor(const eval_ctx *c, size_t k)
{
    if (k >= c->n->ninputs || c->n->inputs[k] < 0)
        return NULL;
    return &c->g->tensors[c->n->inputs[k]];
}

/* Starts a walk over `out`'s shape. */
static void walk_init(walk *w, const graph_tensor *out)
{
    memset(w, 0, sizeof(*w));
    w->rank = out->rank;
    memcpy(w->dims, out->dims, sizeof(w->dims));
}

/* Adds an input broadcast numpy-style onto the walk's shape. */
static void walk_add_broadcast(walk *w, const graph_tensor *t)
{
    int64_t s = 1;
    int k = w->nin++;

    for (int i = w->rank - 1; i >= 0; i--) {
        int j = i - (w->rank - t->rank);
        if (j < 0 || t->dims[j] == 1) {
            w->stride[k][i] = 0;
        } else {
            w->stride[k][i] = s;
        }
        if (j >= 0)
            s *= t->dims[j];
    }
}

/* Moves to the next output element, updating the input offsets. */
static void walk_next(walk *w)
{
    for (int i = w->rank - 1; i >= 0; i--) {
        w->coord[i]++;
        for (int k = 0; k < w->nin; k++)
            w->off[k] += w->stride[k][i];
        if (w->coord[i] < w->dims[i])
            return;
        for (int k = 0; k < w->nin; k++)
            w->off[k] -= w->stride[k][i] * w->dims[i];
        w->coord[i] = 0;
    }
}

/* Rounds a result to the output's float precision. */
static float float_store(const graph_tensor *out, float v)
{
    return out->dtype == GRAPH_DT_FLOAT16 ? float16_round(v) : v;
}

/* Converts a double to int64, saturating (NaN gives 0). */
static int64_t double_to_int(double v)
{
    if (v != v)
        return 0;
    if (v >= 9223372036854775807.0)
        return INT64_MAX;
    if (v <= -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)v;
}

/* Add, Sub, Mul, Div with broadcasting. */
static kiln_status eval_arith(const eval_ctx *c)
{
    const graph_tensor *a = in_tensor(c, 0), *b = in_tensor(c, 1);
    graph_tensor *out = c->out;
    int64_t n = graph_tensor_elements(out);
    walk w;

    walk_init(&w, out);
    walk_add_broadcast(&w, a);
    walk_add_broadcast(&w, b);
    for (int64_t i = 0; i < n; i++, walk_next(&w)) {
        if (out->f32) {
            float x = a->f32[w.off[0]], y = b->f32[w.off[1]], r;
            switch (c->n->op) {
            case GRAPH_OP_ADD: r = x + y; break;
            case GRAPH_OP_SUB: r = x - y; break;
            case GRAPH_OP_MUL: r = x * y; break;
            default: r = x / y; break;
            }
            out->f32[i] = float_store(out, r);
            continue;
        }
        int64_t x = a->i64[w.off[0]], y = b->i64[w.off[1]], r;
        switch (c->n->op) {
        case GRAPH_OP_ADD: r = (int64_t)((uint64_t)x + (uint64_t)y); break;
        case GRAPH_OP_SUB: r = (int64_t)((uint64_t)x - (uint64_t)y); break;
        case GRAPH_OP_MUL: r = (int64_t)((uint64_t)x * (uint64_t)y); break;
        default:
            if (y == 0)
                return kiln_fail(KILN_E_FORMAT, "%s: integer division by zero", c->label);
            r = (x == INT64_MIN && y == -1) ? INT64_MIN : x / y;
            break;
        }
        out->i64[i] = graph_dtype_wrap(out->dtype, r);
    }
    return KILN_OK;
}

/* Equal with broadcasting: BOOL output. */
static kiln_status eval_equal(const eval_ctx *c)
{
    const graph_tensor *a = in_tensor(c, 0), *b = in_tensor(c, 1);
    int64_t n = graph_tensor_elements(c->out);
    walk w;

    walk_init(&w, c->out);
    walk_add_broadcast(&w, a);
    walk_add_broadcast(&w, b);
    for (int64_t i = 0; i < n; i++, walk_next(&w))
        c->out->i64[i] = a->f32 ? a->f32[w.off[0]] == b->f32[w.off[1]]
                                : a->i64[w.off[0]] == b->i64[w.off[1]];
    return KILN_OK;
}

/* Where with three-way broadcasting. */
static kiln_status eval_where(const eval_ctx *c)
{
    const graph_tensor *cond = in_tensor(c, 0), *x = in_tensor(c, 1), *y = in_tensor(c, 2);
    int64_t n = graph_tensor_elements(c->out);
    walk w;

    walk_init(&w, c->out);
    walk_add_broadcast(&w, cond);
    walk_add_broadcast(&w, x);
    walk_add_broadcast(&w, y);
    for (int64_t i = 0; i < n; i++, walk_next(&w)) {
        int pick = cond->i64[w.off[0]] != 0;
        if (c->out->f32)
            c->out->f32[i] = pick ? x->f32[w.off[1]] : y->f32[w.off[2]];
        else
            c->out->i64[i] = pick ? x->i64[w.off[1]] : y->i64[w.off[2]];
    }
    return KILN_OK;
}

/* Relu, Sigmoid, Floor, Ceil, Clip: elementwise on one input. */
static kiln_status eval_unary(const eval_ctx *c)
{
    const graph_tensor *x = in_tensor(c, 0);
    graph_tensor *out = c->out;
    int64_t n = graph_tensor_elements(out);
    double lo = c->n->attr.clip.min, hi = c->n->attr.clip.max;

    for (int64_t i = 0; i < n; i++) {
        if (out->f32) {
            float v = x->f32[i];
            switch (c->n->op) {
            case GRAPH_OP_RELU: v = v > 0.0f ? v : 0.0f; break;
            case GRAPH_OP_SIGMOID: v = 1.0f / (1.0f + expf(-v)); break;
            case GRAPH_OP_FLOOR: v = floorf(v); break;
            case GRAPH_OP_CEIL: v = ceilf(v); break;
            case GRAPH_OP_CLIP:
                if ((double)v < lo)
                    v = (float)lo;
                if ((double)v > hi)
                    v = (float)hi;
                break;
            default: break;
            }
            out->f32[i] = float_store(out, v);
            continue;
        }
        int64_t v = x->i64[i];
        if (c->n->op == GRAPH_OP_RELU && v < 0)
            v = 0;
        if (c->n->op == GRAPH_OP_CLIP) {
            if ((double)v < lo)
                v = double_to_int(ceil(lo));
            if ((double)v > hi)
                v = double_to_int(floor(hi));
        }
        out->i64[i] = v;
    }
    return KILN_OK;
}

/* Cast between the storage kinds with ONNX's conversions. */
static kiln_status eval_cast(const eval_ctx *c)
{
    const graph_tensor *x = in_tensor(c, 0);
    graph_tensor *out = c->out;
    int64_t n = graph_tensor_elements(out);

    for (int64_t i = 0; i < n; i++) {
        if (x->f32 && out->f32)
            out->f32[i] = float_store(out, x->f32[i]);
        else if (x->f32 && out->dtype == GRAPH_DT_BOOL)
            out->i64[i] = x->f32[i] != 0.0f;
        else if (x->f32)
            out->i64[i] = graph_dtype_wrap(out->dtype, double_to_int((double)x->f32[i]));
        else if (out->f32)
            out->f32[i] = float_store(out, (float)x->i64[i]);
        else
            out->i64[i] = graph_dtype_wrap(out->dtype, x->i64[i]);
    }
    return KILN_OK;
}

/* Copies element si of src to element di of dst (same storage). */
static void elem_copy(graph_tensor *dst, int64_t di, const graph_tensor *src, int64_t si)
{
    if (dst->f32)
        dst->f32[di] = src->f32[si];
    else
        dst->i64[di] = src->i64[si];
}

/* Identity, Reshape, Squeeze, Unsqueeze, Flatten: the same data. */
static kiln_status eval_copy(const eval_ctx *c)
{
    const graph_tensor *x = in_tensor(c, 0);
    int64_t n = graph_tensor_elements(c->out);

    if (c->out->f32)
        memcpy(c->out->f32, x->f32, (size_t)n * sizeof(*x->f32));
    else
        memcpy(c->out->i64, x->i64, (size_t)n * sizeof(*x->i64));
    return KILN_OK;
}

/* Row-major strides of a tensor. */
static void strides_of(const graph_tensor *t, int64_t *s)
{
    int64_t acc = 1;

    for (int i = t->rank - 1; i >= 0; i--) {
        s[i] = acc;
        acc *= t->dims[i];
    }
}

/* Transpose: output axis i reads input axis perm[i]. */
static kiln_status eval_transpose(const eval_ctx *c)
{
    const graph_tensor *x = in_tensor(c, 0);
    int64_t n = graph_tensor_elements(c->out), s[GRAPH_MAX_RANK];
    walk w;

    walk_init(&w, c->out);
    strides_of(x, s);
    w.nin = 1;
    for (int i = 0; i < w.rank; i++)
        w.stride[0][i] = s[c->n->attr.transpose.perm[i]];
    for (int64_t i = 0; i < n; i++, walk_next(&w))
        elem_copy(c->out, i, x, w.off[0]);
    return KILN_OK;
}

/* Slice: output coordinate k on axis d reads start[d] + k * step[d]. */
static kiln_status eval_slice(const eval_ctx *c)
{
    const graph_tensor *x = in_tensor(c, 0);
    const graph_slice_attr *a = &c->n->attr.slice;
    int64_t n = graph_tensor_elements(c->out), s[GRAPH_MAX_RANK];
    walk w;

    walk_init(&w, c->out);
    strides_of(x, s);
    w.nin = 1;
    for (int i = 0; i < w.rank; i++) {
        w.stride[0][i] = s[i] * a->step[i];
        w.off[0] += s[i] * a->start[i];
    }
    for (int64_t i = 0; i < n; i++, walk_next(&w))
        elem_copy(c->out, i, x, w.off[0]);
    return KILN_OK;
}

/* Concat: each input's blocks in turn along the axis. */
static kiln_status eval_concat(const eval_ctx *c)
{
    int axis = (int)c->n->attr.axis;
    int64_t outer = 1, inner = 1, at = 0;
    graph_tensor *out = c->out;

    for (int i = 0; i < axis; i++)
        outer *= out->dims[i];
    for (int i = axis + 1; i < out->rank; i++)
        inner *= out->dims[i];
    for (size_t k = 0; k < c->n->ninputs; k++) {
        const graph_tensor *t = in_tensor(c, k);
        int64_t block = t->dims[axis] * inner;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t e = 0; e < block; e++)
                elem_copy(out, o * out->dims[axis] * inner + at + e, t, o * block + e);
        at += block;
    }
    return KILN_OK;
}

/* Shape: the selected dims of the input. */
static kiln_status eval_shape(const eval_ctx *c)
{
    const graph_tensor *x = in_tensor(c, 0);
    const graph_shape_attr *a = &c->n->attr.shape;

    for (int64_t i = a->start; i < a->end; i++)
        c->out->i64[i - a->start] = x->dims[i];
    return KILN_OK;
}

/* Gather along an axis, negative indices counting from the end. */
static kiln_status eval_gather(const eval_ctx *c)
{
    const graph_tensor *data = in_tensor(c, 0), *idx = in_tensor(c, 1);
    int axis = (int)c->n->attr.axis;
    int64_t outer = 1, inner = 1, dim = data->dims[axis];
    int64_t nidx = graph_tensor_elements(idx);

    for (int i = 0; i < axis; i++)
        outer *= data->dims[i];
    for (int i = axis + 1; i < data->rank; i++)
        inner *= data->dims[i];
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t j = 0; j < nidx; j++) {
            int64_t k = idx->i64[j];
            if (k < -dim || k >= dim)
                return kiln_fail(KILN_E_FORMAT, "%s: index %lld is out of range for a dim of "
                                 "%lld", c->label, (long long)k, (long long)dim);
            if (k < 0)
                k += dim;
            for (int64_t e = 0; e < inner; e++)
                elem_copy(c->out, (o * nidx + j) * inner + e, data, (o * dim + k) * inner + e);
        }
    }
    return KILN_OK;
}

/* ConstantOfShape: every element is the fill value. */
static kiln_status eval_fill(const eval_ctx *c)
{
    int64_t n = graph_tensor_elements(c->out);
    double v = c->n->attr.fill.value;

    for (int64_t i = 0; i < n; i++) {
        if (c->out->f32)
            c->out->f32[i] = float_store(c->out, (float)v);
        else
            c->out->i64[i] = graph_dtype_wrap(c->out->dtype, double_to_int(v));
    }
    return KILN_OK;
}

/* Range: start + i * delta. */
static kiln_status eval_range(const eval_ctx *c)
{
    const graph_tensor *s = in_tensor(c, 0), *d = in_tensor(c, 2);
    int64_t n = graph_tensor_elements(c->out);

    for (int64_t i = 0; i < n; i++) {
        if (c->out->f32) {
            c->out->f32[i] = float_store(c->out, (float)((double)s->f32[0] +
                                                         (double)i * (double)d->f32[0]));
        } else {
            uint64_t v = (uint64_t)s->i64[0] + (uint64_t)i * (uint64_t)d->i64[0];
            c->out->i64[i] = graph_dtype_wrap(c->out->dtype, (int64_t)v);
        }
    }
    return KILN_OK;
}

/* Expand: the input broadcast onto the output shape. */
static kiln_status eval_expand(const eval_ctx *c)
{
    const graph_tensor *x = in_tensor(c, 0);
    int64_t n = graph_tensor_elements(c->out);
    walk w;

    walk_init(&w, c->out);
    walk_add_broadcast(&w, x);
    for (int64_t i = 0; i < n; i++, walk_next(&w))
        elem_copy(c->out, i, x, w.off[0]);
    return KILN_OK;
}

/* BatchNormalization in inference mode, per channel (axis 1). */
static kiln_status eval_batchnorm(const eval_ctx *c)
{
    const graph_tensor *x = in_tensor(c, 0), *scale = in_tensor(c, 1), *bias = in_tensor(c, 2);
    const graph_tensor *mean = in_tensor(c, 3), *var = in_tensor(c, 4);
    int64_t n = graph_tensor_elements(c->out), inner = 1, ch = x->dims[1];
    double eps = c->n->attr.epsilon;

    for (int i = 2; i < x->rank; i++)
        inner *= x->dims[i];
    for (int64_t i = 0; i < n; i++) {
        int64_t k = (i / inner) % ch;
        double y = ((double)x->f32[i] - mean->f32[k]) / sqrt((double)var->f32[k] + eps) *
                   scale->f32[k] + bias->f32[k];
        c->out->f32[i] = float_store(c->out, (float)y);
    }
    return KILN_OK;
}

/* Conv (graph_eval_spatial.c). */
static kiln_status eval_conv(const eval_ctx *c)
{
    graph_eval_conv(c->n, in_tensor(c, 0), in_tensor(c, 1), in_tensor(c, 2), in_tensor(c, 3),
                    c->out);
    return KILN_OK;
}

/* MaxPool and AveragePool (graph_eval_spatial.c). */
static kiln_status eval_pool(const eval_ctx *c)
{
    graph_eval_pool(c->n, in_tensor(c, 0), c->out);
    return KILN_OK;
}

/* Resize (graph_eval_spatial.c). */
static kiln_status eval_resize(const eval_ctx *c)
{
    return graph_eval_resize(c->n, in_tensor(c, 0), c->out);
}

/* Conv's multiply-adds per output element: a kernel window over the
 * group's input channels. */
static int64_t conv_work(const kiln_graph *g, const graph_node *n)
{
    const graph_tensor *w = &g->tensors[n->inputs[1]];
    int64_t per = 1;

    for (int i = 1; i < w->rank; i++)
        per *= w->dims[i];
    return per;
}

/* A pool's reads per output element: its window. */
static int64_t pool_work(const kiln_graph *g, const graph_node *n)
{
    int64_t per = 1;

    (void)g;
    for (int i = 0; i < n->attr.pool.win.nspatial; i++)
        per *= n->attr.pool.win.kernel[i];
    return per;
}

/* Resize's taps per output element: 2 (4 for cubic) per axis, capped
 * near 2^20. */
static int64_t resize_work(const kiln_graph *g, const graph_node *n)
{
    const graph_tensor *out = &g->tensors[n->outputs[0]];
    int64_t per = 1;

    for (int i = 0; i < out->rank && per < (INT64_C(1) << 20); i++)
        per *= n->attr.resize.mode == GRAPH_RESIZE_CUBIC ? 4 : 2;
    return per;
}

/* One row of the host kernel table. */
typedef struct eval_op {
    /* computes the output's data (allocated and shaped) */
    kiln_status (*run)(const eval_ctx *c);
    /* the work per output element (see graph_eval_cost); NULL: 1 */
    int64_t (*work)(const kiln_graph *g, const graph_node *n);
} eval_op;

/* The host kernel of each operator, one row per graph_op (none for
 * GRAPH_OP_NONE). */
static const eval_op eval_ops[] = {
    [GRAPH_OP_NONE] = { NULL, NULL },
    [GRAPH_OP_CONV] = { eval_conv, conv_work },
    [GRAPH_OP_MAXPOOL] = { eval_pool, pool_work },
    [GRAPH_OP_AVERAGEPOOL] = { eval_pool, pool_work },
    [GRAPH_OP_RESIZE] = { eval_resize, resize_work },
    [GRAPH_OP_CONCAT] = { eval_concat, NULL },
    [GRAPH_OP_ADD] = { eval_arith, NULL },
    [GRAPH_OP_SUB] = { eval_arith, NULL },
    [GRAPH_OP_MUL] = { eval_arith, NULL },
    [GRAPH_OP_DIV] = { eval_arith, NULL },
    [GRAPH_OP_RELU] = { eval_unary, NULL },
    [GRAPH_OP_SIGMOID] = { eval_unary, NULL },
    [GRAPH_OP_CLIP] = { eval_unary, NULL },
    [GRAPH_OP_CAST] = { eval_cast, NULL },
    [GRAPH_OP_RESHAPE] = { eval_copy, NULL },
    [GRAPH_OP_TRANSPOSE] = { eval_transpose, NULL },
    [GRAPH_OP_SLICE] = { eval_slice, NULL },
    [GRAPH_OP_IDENTITY] = { eval_copy, NULL },
    [GRAPH_OP_BATCHNORM] = { eval_batchnorm, NULL },
    [GRAPH_OP_SQUEEZE] = { eval_copy, NULL },
    [GRAPH_OP_UNSQUEEZE] = { eval_copy, NULL },
    [GRAPH_OP_FLATTEN] = { eval_copy, NULL },
    [GRAPH_OP_SHAPE] = { eval_shape, NULL },
    [GRAPH_OP_GATHER] = { eval_gather, NULL },
    [GRAPH_OP_CONSTANT_OF_SHAPE] = { eval_fill, NULL },
    [GRAPH_OP_RANGE] = { eval_range, NULL },
    [GRAPH_OP_EQUAL] = { eval_equal, NULL },
    [GRAPH_OP_WHERE] = { eval_where, NULL },
    [GRAPH_OP_EXPAND] = { eval_expand, NULL },
    [GRAPH_OP_FLOOR] = { eval_unary, NULL },
    [GRAPH_OP_CEIL] = { eval_unary, NULL },
};
_Static_assert(sizeof(eval_ops) / sizeof(eval_ops[0]) == GRAPH_OP_COUNT,
               "graph_eval.c: one host kernel row per graph_op");

/* The row of op, or NULL when op is not an operator. */
static const eval_op *eval_op_of(graph_op op)
{
    if ((int)op < 0 || op >= GRAPH_OP_COUNT)
        return NULL;
    return &eval_ops[op];
}

/* Operators with a host kernel: all of them. */
int graph_eval_supports(graph_op op)
{
    const eval_op *row = eval_op_of(op);

    return row && row->run;
}

/* Products or copies: output elements times the work per element. */
int64_t graph_eval_cost(const kiln_graph *g, const graph_node *n)
{
    const graph_tensor *out = &g->tensors[n->outputs[0]];
    const eval_op *row = eval_op_of(n->op);
    int64_t per = row && row->work ? row->work(g, n) : 1, elems = graph_tensor_elements(out);

    if (per > 0 && elems > INT64_MAX / per)
        return INT64_MAX;
    return elems * per;
}

/* Allocates the output and runs the operator's kernel. */
kiln_status graph_eval_node(kiln_graph *g, int node)
{
    const eval_op *row;
    eval_ctx c;
    kiln_status st;

    c.g = g;
    c.n = &g->nodes[node];
    c.out = &g->tensors[c.n->outputs[0]];
    graph_node_label(c.n, c.label, sizeof(c.label));
    for (size_t k = 0; k < c.n->ninputs; k++) {
        const graph_tensor *t = in_tensor(&c, k);
        if (t && !graph_tensor_is_const(t) && c.n->op != GRAPH_OP_SHAPE)
            return kiln_fail(KILN_E_FORMAT, "%s: input '%.100s' is not constant", c.label,
                             t->name);
    }
    st = graph_tensor_alloc_data(c.out);
    if (st != KILN_OK)
        return st;
    row = eval_op_of(c.n->op);
    st = row && row->run ? row->run(&c)
                         : kiln_fail(KILN_E_FORMAT, "%s: no host kernel for this operator", c.label);
    if (st != KILN_OK) {
        graph_tensor_drop_data(c.out);
        c.out->kind = GRAPH_TENSOR_VALUE;
    }
    return st;
}
