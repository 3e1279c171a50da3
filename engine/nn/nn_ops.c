/* What the engine runs on a device, and the dispatch from a graph node to
 * its launcher (see nn_ops.h). */
#include <stdarg.h>
#include <stdio.h>

#include "nn_kernel.h"
#include "status.h"

/* Writes a refusal "LABEL: REASON" into msg and returns 0. */
static int refuse(char *msg, size_t msg_len, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int refuse(char *msg, size_t msg_len, const char *label, const char *fmt, ...)
{
    char reason[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    if (msg && msg_len)
        snprintf(msg, msg_len, "%s: %s", label, reason);
    return 0;
}

/* How many leading inputs of node n the launcher reads as float data
 * (the rest are parameters graph_fold has resolved into attributes). */
static size_t data_inputs(const graph_node *n)
{
    switch (n->op) {
    case GRAPH_OP_CONV: return n->ninputs < 3 ? n->ninputs : 3;
    case GRAPH_OP_CONCAT: return n->ninputs;
    case GRAPH_OP_ADD:
    case GRAPH_OP_SUB:
    case GRAPH_OP_MUL:
    case GRAPH_OP_DIV: return 2;
    default: return 1;
    }
}

/* Whether a tensor's element type is one the device holds as float32. */
static int float_type(graph_dtype t)
{
    return t == GRAPH_DT_FLOAT32 || t == GRAPH_DT_FLOAT16;
}

/* The window checks shared by Conv and the pools: 1 to 3 spatial dims
 * over an NC... input of matching rank. */
static int window_supported(const kiln_graph *g, const graph_node *n, const graph_window *w,
                            const char *label, char *msg, size_t msg_len)
{
    const graph_tensor *x = &g->tensors[n->inputs[0]];

    if (w->nspatial < 1 || w->nspatial > GRAPH_MAX_SPATIAL)
        return refuse(msg, msg_len, label, "%s over %d spatial dims is not supported (1 to %d)",
                      graph_op_name(n->op), w->nspatial, GRAPH_MAX_SPATIAL);
    if (x->rank != 2 + w->nspatial)
        return refuse(msg, msg_len, label, "%s input of rank %d for %d spatial dims",
                      graph_op_name(n->op), x->rank, w->nspatial);
    return 1;
}

/* The checks of one operator beyond the element types. */
static int op_attrs_supported(const kiln_graph *g, const graph_node *n, const char *label,
                              char *msg, size_t msg_len)
{
    switch (n->op) {
    case GRAPH_OP_CONV: {
        const graph_tensor *x = &g->tensors[n->inputs[0]];
        const graph_tensor *y = &g->tensors[n->outputs[0]];
        int64_t group = n->attr.conv.group;
        if (n->ninputs < 2)
            return refuse(msg, msg_len, label, "Conv without weights");
        if (!window_supported(g, n, &n->attr.conv.win, label, msg, msg_len))
            return 0;
        if (group < 1 || x->dims[1] % group != 0 || y->dims[1] % group != 0)
            return refuse(msg, msg_len, label, "Conv group %lld does not divide its %lld "
                          "input and %lld output channels", (long long)group,
                          (long long)x->dims[1], (long long)y->dims[1]);
        return 1;
    }
    case GRAPH_OP_MAXPOOL:
        if (n->noutputs > 1 && n->outputs[1] >= 0)
            return refuse(msg, msg_len, label, "MaxPool's Indices output is not supported");
        return window_supported(g, n, &n->attr.pool.win, label, msg, msg_len);
    case GRAPH_OP_AVERAGEPOOL:
        return window_supported(g, n, &n->attr.pool.win, label, msg, msg_len);
    case GRAPH_OP_CONCAT: {
        const graph_tensor *y = &g->tensors[n->outputs[0]];
        if (n->attr.axis < 0 || n->attr.axis >= y->rank)
            return refuse(msg, msg_len, label, "Concat axis %lld of rank %d",
                          (long long)n->attr.axis, y->rank);
        return 1;
    }
    case GRAPH_OP_RESIZE: {
        const graph_tensor *x = &g->tensors[n->inputs[0]];
        if (x->rank < 1)
            return refuse(msg, msg_len, label, "Resize of a scalar");
        return 1;
    }
    default:
        return 1;
    }
}

/* Whether node n runs on the device (see nn_ops.h). */
int nn_op_supported(const kiln_graph *g, const graph_node *n, char *msg, size_t msg_len)
{
    char label[NN_LABEL_MAX];
    size_t ndata = data_inputs(n);

    graph_node_label(n, label, sizeof(label));
    if (!graph_op_is_runtime(n->op))
        return refuse(msg, msg_len, label, "operator %s is not run on the device",
                      graph_op_name(n->op));
    if (n->noutputs < 1 || n->outputs[0] < 0 || n->ninputs < ndata)
        return refuse(msg, msg_len, label, "%s has %zu inputs and %zu outputs",
                      graph_op_name(n->op), n->ninputs, n->noutputs);
    for (size_t k = 0; k < n->ninputs; k++) {
        const graph_tensor *t;
        if (n->inputs[k] < 0) {
            if (k < ndata && !(n->op == GRAPH_OP_CONV && k == 2))
                return refuse(msg, msg_len, label, "%s input %zu is missing",
                              graph_op_name(n->op), k);
            continue;
        }
        t = &g->tensors[n->inputs[k]];
        if (k < ndata && !float_type(t->dtype))
            return refuse(msg, msg_len, label, "%s input %zu '%.100s' is %s (the device runs "
                          "FLOAT and FLOAT16)", graph_op_name(n->op), k, t->name,
                          graph_dtype_name(t->dtype));
        if (k >= ndata && !graph_tensor_is_const(t))
            return refuse(msg, msg_len, label, "%s input %zu '%.100s' must be constant",
                          graph_op_name(n->op), k, t->name);
    }
    for (size_t k = 0; k < n->noutputs; k++) {
        const graph_tensor *t;
        if (n->outputs[k] < 0)
            continue;
        t = &g->tensors[n->outputs[k]];
        if (!float_type(t->dtype))
            return refuse(msg, msg_len, label, "%s output '%.100s' is %s (the device runs "
                          "FLOAT and FLOAT16)", graph_op_name(n->op), t->name,
                          graph_dtype_name(t->dtype));
    }
    return op_attrs_supported(g, n, label, msg, msg_len);
}

/* Whether tensor index t names a tensor of g. */
static int tensor_valid(const kiln_graph *g, int t)
{
    return t >= 0 && (size_t)t < g->ntensors;
}

/* Checks that node n has its output and every data input its launcher
 * reads (Conv's bias may be absent), so that the launchers can index the
 * tensors; KILN_E_INVAL naming the node otherwise. */
static kiln_status node_wired(const kiln_graph *g, const graph_node *n, const char *label)
{
    size_t ndata = data_inputs(n);

    if (n->noutputs < 1 || !tensor_valid(g, n->outputs[0]) || n->ninputs < ndata ||
        (n->op == GRAPH_OP_CONV && n->ninputs < 2))
        return kiln_fail(KILN_E_INVAL, "%s: %zu inputs and %zu outputs do not fit %s", label,
                         n->ninputs, n->noutputs, graph_op_name(n->op));
    for (size_t k = 0; k < ndata; k++) {
        if (n->op == GRAPH_OP_CONV && k == 2 && n->inputs[k] < 0)
            continue;
        if (!tensor_valid(g, n->inputs[k]))
            return kiln_fail(KILN_E_INVAL, "%s: input %zu (tensor %d) is missing", label, k,
                             n->inputs[k]);
    }
    return KILN_OK;
}

/* Dispatches node `node` to its launcher (see nn_ops.h), after checking
 * that the node has the tensors the launcher reads. */
kiln_status nn_op_launch(const nn_launch *ctx, int node)
{
    const graph_node *n;
    char label[NN_LABEL_MAX];
    kiln_status st;

    if (node < 0 || (size_t)node >= ctx->g->nnodes)
        return kiln_fail(KILN_E_INVAL, "node index %d is out of range (%zu nodes)", node,
                         ctx->g->nnodes);
    n = &ctx->g->nodes[node];
    graph_node_label(n, label, sizeof(label));
    st = node_wired(ctx->g, n, label);
    if (st != KILN_OK)
        return st;
    switch (n->op) {
    case GRAPH_OP_CONV: return nn_launch_conv(ctx, n);
    case GRAPH_OP_MAXPOOL:
    case GRAPH_OP_AVERAGEPOOL: return nn_launch_pool(ctx, n);
    case GRAPH_OP_RESIZE: return nn_launch_resize(ctx, n);
    case GRAPH_OP_CONCAT: return nn_launch_concat(ctx, n);
    case GRAPH_OP_ADD:
    case GRAPH_OP_SUB:
    case GRAPH_OP_MUL:
    case GRAPH_OP_DIV: return nn_launch_binary(ctx, n);
    case GRAPH_OP_RELU:
    case GRAPH_OP_SIGMOID:
    case GRAPH_OP_CLIP:
    case GRAPH_OP_CAST:
    case GRAPH_OP_IDENTITY:
    case GRAPH_OP_RESHAPE: return nn_launch_unary(ctx, n);
    case GRAPH_OP_TRANSPOSE: return nn_launch_transpose(ctx, n);
    case GRAPH_OP_SLICE: return nn_launch_slice(ctx, n);
    default:
        return kiln_fail(KILN_E_INVAL, "%s: operator %s is not run on the device", label,
                         graph_op_name(n->op));
    }
}
