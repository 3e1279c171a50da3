/* The engine's operator table: what the engine runs on a device, the
 * checks of each operator, and the dispatch from a graph node to its
 * launcher (see nn_ops.h). */
#include <stdarg.h>
#include <stdio.h>

#include "nn_kernel.h"
#include "nn_opcodes.h"
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

/* Conv: weights present, a supported window, a group that divides the
 * channels, a residual (input 3, when present) of the output's shape. */
static int conv_supported(const kiln_graph *g, const graph_node *n, const char *label,
                          char *msg, size_t msg_len)
{
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
    if (n->ninputs > 3 && n->inputs[3] >= 0) {
        const graph_tensor *r = &g->tensors[n->inputs[3]];
        int same = r->rank == y->rank;
        for (int i = 0; same && i < r->rank; i++)
            same = r->dims[i] == y->dims[i];
        if (!same)
            return refuse(msg, msg_len, label, "Conv residual '%.100s' does not have the "
                          "output's shape", r->name);
    }
    return 1;
}

/* MaxPool: no Indices output, a supported window. */
static int maxpool_supported(const kiln_graph *g, const graph_node *n, const char *label,
                             char *msg, size_t msg_len)
{
    if (n->noutputs > 1 && n->outputs[1] >= 0)
        return refuse(msg, msg_len, label, "MaxPool's Indices output is not supported");
    return window_supported(g, n, &n->attr.pool.win, label, msg, msg_len);
}

/* AveragePool: a supported window. */
static int avgpool_supported(const kiln_graph *g, const graph_node *n, const char *label,
                             char *msg, size_t msg_len)
{
    return window_supported(g, n, &n->attr.pool.win, label, msg, msg_len);
}

/* Concat: an axis within the output's rank. */
static int concat_supported(const kiln_graph *g, const graph_node *n, const char *label,
                            char *msg, size_t msg_len)
{
    const graph_tensor *y = &g->tensors[n->outputs[0]];

    if (n->attr.axis < 0 || n->attr.axis >= y->rank)
        return refuse(msg, msg_len, label, "Concat axis %lld of rank %d",
                      (long long)n->attr.axis, y->rank);
    return 1;
}

/* Resize: not of a scalar. */
static int resize_supported(const kiln_graph *g, const graph_node *n, const char *label,
                            char *msg, size_t msg_len)
{
    const graph_tensor *x = &g->tensors[n->inputs[0]];

    if (x->rank < 1)
        return refuse(msg, msg_len, label, "Resize of a scalar");
    return 1;
}

/* A row of an operator with one data input and no checks of its own. */
#define ONE_INPUT(launcher, op_code) \
    { .ndata = 1, .nrequired = 1, .launch = (launcher), .code = (op_code) }
/* A row of an arithmetic operator: two data inputs, broadcast. */
#define TWO_INPUTS(op_code) \
    { .ndata = 2, .nrequired = 2, .launch = nn_launch_binary, .code = (op_code) }
/* A row of an operator the engine does not run: graph_fold evaluates it
 * on the host, or graph_lower rewrites it into operators the engine
 * runs. */
#define NOT_RUN { .ndata = 0, .nrequired = 0, .launch = NULL }

/* The operator table, one row per graph_op (see nn_op_def). */
static const nn_op_def op_table[] = {
    [GRAPH_OP_NONE] = NOT_RUN,
    /* Conv's data: X, W, optional bias, optional residual (graph_fuse.h) */
    [GRAPH_OP_CONV] = { .ndata = 4, .nrequired = 2, .supported = conv_supported,
                        .launch = nn_launch_conv },
    [GRAPH_OP_MAXPOOL] = { .ndata = 1, .nrequired = 1, .supported = maxpool_supported,
                           .launch = nn_launch_pool, .code = NN_POOL_MAX },
    [GRAPH_OP_AVERAGEPOOL] = { .ndata = 1, .nrequired = 1, .supported = avgpool_supported,
                               .launch = nn_launch_pool, .code = NN_POOL_AVG },
    [GRAPH_OP_RESIZE] = { .ndata = 1, .nrequired = 1, .supported = resize_supported,
                          .launch = nn_launch_resize },
    [GRAPH_OP_CONCAT] = { .ndata = NN_DATA_ALL, .nrequired = NN_DATA_ALL,
                          .supported = concat_supported, .launch = nn_launch_concat },
    [GRAPH_OP_ADD] = TWO_INPUTS(NN_BIN_ADD),
    [GRAPH_OP_SUB] = TWO_INPUTS(NN_BIN_SUB),
    [GRAPH_OP_MUL] = TWO_INPUTS(NN_BIN_MUL),
    [GRAPH_OP_DIV] = TWO_INPUTS(NN_BIN_DIV),
    [GRAPH_OP_RELU] = ONE_INPUT(nn_launch_unary, NN_UN_RELU),
    [GRAPH_OP_SIGMOID] = ONE_INPUT(nn_launch_unary, NN_UN_SIGMOID),
    [GRAPH_OP_CLIP] = ONE_INPUT(nn_launch_unary, NN_UN_CLIP),
    [GRAPH_OP_CAST] = ONE_INPUT(nn_launch_unary, NN_UN_COPY),
    [GRAPH_OP_RESHAPE] = ONE_INPUT(nn_launch_unary, NN_UN_COPY),
    [GRAPH_OP_TRANSPOSE] = ONE_INPUT(nn_launch_transpose, 0),
    [GRAPH_OP_SLICE] = ONE_INPUT(nn_launch_slice, 0),
    [GRAPH_OP_IDENTITY] = ONE_INPUT(nn_launch_unary, NN_UN_COPY),
    [GRAPH_OP_BATCHNORM] = NOT_RUN,
    [GRAPH_OP_SQUEEZE] = NOT_RUN,
    [GRAPH_OP_UNSQUEEZE] = NOT_RUN,
    [GRAPH_OP_FLATTEN] = NOT_RUN,
    [GRAPH_OP_SHAPE] = NOT_RUN,
    [GRAPH_OP_GATHER] = NOT_RUN,
    [GRAPH_OP_CONSTANT_OF_SHAPE] = NOT_RUN,
    [GRAPH_OP_RANGE] = NOT_RUN,
    [GRAPH_OP_EQUAL] = NOT_RUN,
    [GRAPH_OP_WHERE] = NOT_RUN,
    [GRAPH_OP_EXPAND] = NOT_RUN,
    [GRAPH_OP_FLOOR] = NOT_RUN,
    [GRAPH_OP_CEIL] = NOT_RUN,
};
_Static_assert(sizeof(op_table) / sizeof(op_table[0]) == GRAPH_OP_COUNT,
               "nn_ops.c: one operator table row per graph_op");

/* The row of op (see nn_ops.h). */
const nn_op_def *nn_op_def_of(graph_op op)
{
    if ((int)op < 0 || op >= GRAPH_OP_COUNT)
        return NULL;
    return &op_table[op];
}

/* The leading inputs its launcher reads as data (see nn_ops.h). */
size_t nn_op_data_inputs(const graph_node *n)
{
    const nn_op_def *def = nn_op_def_of(n->op);

    if (!def)
        return 0;
    if (def->ndata == NN_DATA_ALL)
        return n->ninputs;
    /* trailing optional data inputs may be left off */
    if (def->nrequired < def->ndata && n->ninputs < (size_t)def->ndata)
        return n->ninputs;
    return (size_t)def->ndata;
}

/* How many leading inputs of node n must be present. */
static size_t required_inputs(const graph_node *n)
{
    const nn_op_def *def = nn_op_def_of(n->op);

    if (!def)
        return 0;
    if (def->nrequired == NN_DATA_ALL)
        return n->ninputs;
    return (size_t)def->nrequired;
}

/* Whether node n runs on the device (see nn_ops.h). */
int nn_op_supported(const kiln_graph *g, const graph_node *n, char *msg, size_t msg_len)
{
    const nn_op_def *def = nn_op_def_of(n->op);
    char label[NN_LABEL_MAX];
    size_t ndata = nn_op_data_inputs(n), nrequired = required_inputs(n);

    graph_node_label(n, label, sizeof(label));
    if (!def || !def->launch)
        return refuse(msg, msg_len, label, "operator %s is not run on the device",
                      graph_op_name(n->op));
    if (n->noutputs < 1 || n->outputs[0] < 0 || n->ninputs < ndata)
        return refuse(msg, msg_len, label, "%s has %zu inputs and %zu outputs",
                      graph_op_name(n->op), n->ninputs, n->noutputs);
    for (size_t k = 0; k < n->ninputs; k++) {
        const graph_tensor *t;
        if (n->inputs[k] < 0) {
            if (k < ndata && k < nrequired)
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
    return def->supported ? def->supported(g, n, label, msg, msg_len) : 1;
}

/* Whether tensor index t names a tensor of g. */
static int tensor_valid(const kiln_graph *g, int t)
{
    return t >= 0 && (size_t)t < g->ntensors;
}

/* Checks that node n has its output and every data input its launcher
 * reads (an optional one, such as Conv's bias, may be absent), so that
 * the launchers can index the tensors; KILN_E_INVAL naming the node
 * otherwise. */
static kiln_status node_wired(const kiln_graph *g, const graph_node *n, const char *label)
{
    size_t ndata = nn_op_data_inputs(n), nrequired = required_inputs(n);

    if (n->noutputs < 1 || !tensor_valid(g, n->outputs[0]) || n->ninputs < ndata ||
        n->ninputs < nrequired)
        return kiln_fail(KILN_E_INVAL, "%s: %zu inputs and %zu outputs do not fit %s", label,
                         n->ninputs, n->noutputs, graph_op_name(n->op));
    for (size_t k = 0; k < ndata; k++) {
        if (k >= nrequired && n->inputs[k] < 0)
            continue;
        if (!tensor_valid(g, n->inputs[k]))
            return kiln_fail(KILN_E_INVAL, "%s: input %zu (tensor %d) is missing", label, k,
                             n->inputs[k]);
    }
    return KILN_OK;
}

/* Enqueues node `node` with its row's launcher (see nn_ops.h), after
 * checking that the node has the tensors the launcher reads. */
kiln_status nn_op_launch(const nn_launch *ctx, int node)
{
    const graph_node *n;
    const nn_op_def *def;
    char label[NN_LABEL_MAX];
    kiln_status st;

    if (node < 0 || (size_t)node >= ctx->g->nnodes)
        return kiln_fail(KILN_E_INVAL, "node index %d is out of range (%zu nodes)", node,
                         ctx->g->nnodes);
    n = &ctx->g->nodes[node];
    def = nn_op_def_of(n->op);
    graph_node_label(n, label, sizeof(label));
    if (!def || !def->launch)
        return kiln_fail(KILN_E_INVAL, "%s: operator %s is not run on the device", label,
                         graph_op_name(n->op));
    st = node_wired(ctx->g, n, label);
    if (st != KILN_OK)
        return st;
    return def->launch(ctx, n);
}
