/* The graph IR: construction, release and small queries (see graph.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "host_alloc.h"
#include "status.h"

/* Creates an empty graph. */
kiln_status graph_new(kiln_graph **out)
{
    kiln_graph *g = kiln_calloc(1, sizeof(*g));

    *out = NULL;
    if (!g)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory for a graph");
    *out = g;
    return KILN_OK;
}

/* Frees what a tensor owns and clears it. */
void graph_tensor_clear(graph_tensor *t)
{
    kiln_free(t->name);
    kiln_free(t->f32);
    kiln_free(t->i64);
    memset(t, 0, sizeof(*t));
    t->rank = -1;
    t->producer = -1;
}

/* Frees a tensor's constant data. */
void graph_tensor_drop_data(graph_tensor *t)
{
    kiln_free(t->f32);
    kiln_free(t->i64);
    t->f32 = NULL;
    t->i64 = NULL;
}

/* Frees a node's arrays. */
static void node_clear(graph_node *n)
{
    kiln_free(n->name);
    kiln_free(n->inputs);
    kiln_free(n->outputs);
    memset(n, 0, sizeof(*n));
}

/* Frees the graph and everything in it. */
void graph_free(kiln_graph *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->ntensors; i++)
        graph_tensor_clear(&g->tensors[i]);
    for (size_t i = 0; i < g->nnodes; i++)
        node_clear(&g->nodes[i]);
    kiln_free(g->tensors);
    kiln_free(g->nodes);
    kiln_free(g->inputs);
    kiln_free(g->outputs);
    kiln_free(g);
}

/* Duplicates a string, NULL as "". */
static char *copy_name(const char *name)
{
    const char *src = name ? name : "";
    size_t len = strlen(src) + 1;
    char *dst = kiln_malloc(len);

    if (dst)
        memcpy(dst, src, len);
    return dst;
}

/* Appends a tensor, growing the array geometrically. */
kiln_status graph_add_tensor(kiln_graph *g, const char *name, graph_dtype dtype,
                             int *index)
{
    if (g->ntensors >= (size_t)INT32_MAX)
        return kiln_fail(KILN_E_LIMIT, "too many tensors in one graph");
    if (g->ntensors == g->cap_tensors) {
        size_t cap = g->cap_tensors ? g->cap_tensors * 2 : 64;
        graph_tensor *grown = kiln_realloc(g->tensors, cap * sizeof(*grown));
        if (!grown)
            return kiln_fail(KILN_E_HOSTMEM, "out of host memory for tensors");
        g->tensors = grown;
        g->cap_tensors = cap;
    }
    graph_tensor *t = &g->tensors[g->ntensors];
    memset(t, 0, sizeof(*t));
    t->name = copy_name(name);
    if (!t->name)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory for a tensor name");
    t->dtype = dtype;
    t->kind = GRAPH_TENSOR_VALUE;
    t->rank = -1;
    t->producer = -1;
    *index = (int)g->ntensors++;
    return KILN_OK;
}

/* Appends a node with unset (-1) inputs and outputs. */
kiln_status graph_add_node(kiln_graph *g, graph_op op, const char *name,
                           size_t ninputs, size_t noutputs, int *index)
{
    graph_node n;

    if (g->nnodes >= (size_t)INT32_MAX)
        return kiln_fail(KILN_E_LIMIT, "too many nodes in one graph");
    if (g->nnodes == g->cap_nodes) {
        size_t cap = g->cap_nodes ? g->cap_nodes * 2 : 64;
        graph_node *grown = kiln_realloc(g->nodes, cap * sizeof(*grown));
        if (!grown)
            return kiln_fail(KILN_E_HOSTMEM, "out of host memory for nodes");
        g->nodes = grown;
        g->cap_nodes = cap;
    }
    memset(&n, 0, sizeof(n));
    n.op = op;
    n.index = g->nnodes;
    n.ninputs = ninputs;
    n.noutputs = noutputs;
    n.name = copy_name(name);
    n.inputs = kiln_malloc((ninputs ? ninputs : 1) * sizeof(*n.inputs));
    n.outputs = kiln_malloc((noutputs ? noutputs : 1) * sizeof(*n.outputs));
    if (!n.name || !n.inputs || !n.outputs) {
        node_clear(&n);
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory for a node");
    }
    for (size_t i = 0; i < ninputs; i++)
        n.inputs[i] = -1;
    for (size_t i = 0; i < noutputs; i++)
        n.outputs[i] = -1;
    g->nodes[g->nnodes] = n;
    *index = (int)g->nnodes++;
    return KILN_OK;
}

/* Whether data of this type is held as float32. */
int graph_dtype_is_float(graph_dtype dtype)
{
    return dtype == GRAPH_DT_FLOAT32 || dtype == GRAPH_DT_FLOAT16;
}

/* Truncates to the type's width through unsigned arithmetic (no
 * implementation-defined signed conversions). */
int64_t graph_dtype_wrap(graph_dtype dtype, int64_t value)
{
    uint64_t u = (uint64_t)value;

    switch (dtype) {
    case GRAPH_DT_BOOL: return value != 0;
    case GRAPH_DT_UINT8: return (int64_t)(u & 0xffu);
    case GRAPH_DT_UINT16: return (int64_t)(u & 0xffffu);
    case GRAPH_DT_UINT32: return (int64_t)(u & 0xffffffffu);
    case GRAPH_DT_INT8:
        u &= 0xffu;
        return u >= 0x80u ? (int64_t)u - 0x100 : (int64_t)u;
    case GRAPH_DT_INT16:
        u &= 0xffffu;
        return u >= 0x8000u ? (int64_t)u - 0x10000 : (int64_t)u;
    case GRAPH_DT_INT32:
        u &= 0xffffffffu;
        return u >= 0x80000000u ? (int64_t)u - INT64_C(0x100000000) : (int64_t)u;
    default:
        return value;
    }
}

/* The element count: the product of the dims. */
int64_t graph_tensor_elements(const graph_tensor *t)
{
    int64_t n = 1;

    for (int i = 0; i < t->rank; i++)
        n *= t->dims[i];
    return n;
}

/* Allocates zeroed data in the storage the type asks for. */
kiln_status graph_tensor_alloc_data(graph_tensor *t)
{
    size_t n = (size_t)graph_tensor_elements(t);
    size_t count = n ? n : 1;

    if (graph_dtype_is_float(t->dtype)) {
        float *data = kiln_calloc(count, sizeof(*data));
        if (!data)
            return kiln_fail(KILN_E_HOSTMEM, "out of host memory for tensor '%s' (%zu elements)",
                             t->name, n);
        graph_tensor_drop_data(t);
        t->f32 = data;
    } else {
        int64_t *data = kiln_calloc(count, sizeof(*data));
        if (!data)
            return kiln_fail(KILN_E_HOSTMEM, "out of host memory for tensor '%s' (%zu elements)",
                             t->name, n);
        graph_tensor_drop_data(t);
        t->i64 = data;
    }
    t->kind = GRAPH_TENSOR_CONSTANT;
    return KILN_OK;
}

/* Whether the tensor has host data. */
int graph_tensor_is_const(const graph_tensor *t)
{
    return t->f32 != NULL || t->i64 != NULL;
}

/* Element i as a double. */
double graph_tensor_get(const graph_tensor *t, int64_t i)
{
    return t->f32 ? (double)t->f32[i] : (double)t->i64[i];
}

/* Linear search by name. */
int graph_find_tensor(const kiln_graph *g, const char *name)
{
    for (size_t i = 0; i < g->ntensors; i++)
        if (strcmp(g->tensors[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* Validates rank, signs and the element count without overflowing. */
kiln_status graph_shape_check(int rank, const int64_t *dims, const char *what)
{
    int64_t n = 1;

    if (rank < 0 || rank > GRAPH_MAX_RANK)
        return kiln_fail(KILN_E_LIMIT, "%s has rank %d (kiln allows 0 to %d)",
                         what, rank, GRAPH_MAX_RANK);
    for (int i = 0; i < rank; i++)
        if (dims[i] < 0)
            return kiln_fail(KILN_E_FORMAT, "%s has a negative dimension (%lld at axis %d)",
                             what, (long long)dims[i], i);
    for (int i = 0; i < rank; i++) {
        if (dims[i] == 0)
            return KILN_OK;
        if (dims[i] > GRAPH_MAX_ELEMENTS || n > GRAPH_MAX_ELEMENTS / dims[i])
            return kiln_fail(KILN_E_LIMIT,
                             "%s is too large (dimension %lld at axis %d; kiln allows at most "
                             "2^31 elements per tensor)", what, (long long)dims[i], i);
        n *= dims[i];
    }
    return KILN_OK;
}

/* "node 'NAME' (#INDEX, OP)", or without the name when it is empty. */
const char *graph_node_label(const graph_node *n, char *buf, size_t size)
{
    if (n->name && n->name[0])
        snprintf(buf, size, "node '%s' (#%zu, %s)", n->name, n->index, graph_op_name(n->op));
    else
        snprintf(buf, size, "node #%zu (%s)", n->index, graph_op_name(n->op));
    return buf;
}

/* Dims joined with 'x'. */
const char *graph_shape_string(const graph_tensor *t, char *buf, size_t size)
{
    size_t used = 0;

    if (size == 0)
        return buf;
    buf[0] = '\0';
    if (t->rank < 0) {
        snprintf(buf, size, "?");
        return buf;
    }
    if (t->rank == 0) {
        snprintf(buf, size, "scalar");
        return buf;
    }
    for (int i = 0; i < t->rank && used < size; i++) {
        int w = snprintf(buf + used, size - used, "%s%lld", i ? "x" : "", (long long)t->dims[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return buf;
}

/* What the graph knows of an operator: its ONNX-style name, and whether
 * the engine runs it (graph_fold leaves such nodes on runtime data to
 * the device; every other operator is folded on the host or rewritten
 * by graph_lower).  The engine's own table (engine/nn/nn_ops.c) has a
 * launcher for exactly the runtime operators. */
typedef struct graph_op_info {
    const char *name;
    int runtime;
} graph_op_info;

/* The operator table, one row per graph_op. */
static const graph_op_info op_info[] = {
    [GRAPH_OP_NONE] = { "(removed)", 0 },
    [GRAPH_OP_CONV] = { "Conv", 1 },
    [GRAPH_OP_MAXPOOL] = { "MaxPool", 1 },
    [GRAPH_OP_AVERAGEPOOL] = { "AveragePool", 1 },
    [GRAPH_OP_RESIZE] = { "Resize", 1 },
    [GRAPH_OP_CONCAT] = { "Concat", 1 },
    [GRAPH_OP_ADD] = { "Add", 1 },
    [GRAPH_OP_SUB] = { "Sub", 1 },
    [GRAPH_OP_MUL] = { "Mul", 1 },
    [GRAPH_OP_DIV] = { "Div", 1 },
    [GRAPH_OP_RELU] = { "Relu", 1 },
    [GRAPH_OP_SIGMOID] = { "Sigmoid", 1 },
    [GRAPH_OP_CLIP] = { "Clip", 1 },
    [GRAPH_OP_CAST] = { "Cast", 1 },
    [GRAPH_OP_RESHAPE] = { "Reshape", 1 },
    [GRAPH_OP_TRANSPOSE] = { "Transpose", 1 },
    [GRAPH_OP_SLICE] = { "Slice", 1 },
    [GRAPH_OP_IDENTITY] = { "Identity", 1 },
    [GRAPH_OP_BATCHNORM] = { "BatchNormalization", 0 },
    [GRAPH_OP_SQUEEZE] = { "Squeeze", 0 },
    [GRAPH_OP_UNSQUEEZE] = { "Unsqueeze", 0 },
    [GRAPH_OP_FLATTEN] = { "Flatten", 0 },
    [GRAPH_OP_SHAPE] = { "Shape", 0 },
    [GRAPH_OP_GATHER] = { "Gather", 0 },
    [GRAPH_OP_CONSTANT_OF_SHAPE] = { "ConstantOfShape", 0 },
    [GRAPH_OP_RANGE] = { "Range", 0 },
    [GRAPH_OP_EQUAL] = { "Equal", 0 },
    [GRAPH_OP_WHERE] = { "Where", 0 },
    [GRAPH_OP_EXPAND] = { "Expand", 0 },
    [GRAPH_OP_FLOOR] = { "Floor", 0 },
    [GRAPH_OP_CEIL] = { "Ceil", 0 },
};
_Static_assert(sizeof(op_info) / sizeof(op_info[0]) == GRAPH_OP_COUNT,
               "graph.c: one operator table row per graph_op");

/* The row of op, or NULL when op is not an operator. */
static const graph_op_info *op_info_of(graph_op op)
{
    if ((int)op < 0 || op >= GRAPH_OP_COUNT)
        return NULL;
    return &op_info[op];
}

/* The name of an operator. */
const char *graph_op_name(graph_op op)
{
    const graph_op_info *info = op_info_of(op);

    return info && info->name ? info->name : "?";
}

/* Whether the engine runs the operator. */
int graph_op_is_runtime(graph_op op)
{
    const graph_op_info *info = op_info_of(op);

    return info ? info->runtime : 0;
}

/* The name of an element type. */
const char *graph_dtype_name(graph_dtype dtype)
{
    switch (dtype) {
    case GRAPH_DT_FLOAT32: return "FLOAT";
    case GRAPH_DT_FLOAT16: return "FLOAT16";
    case GRAPH_DT_INT64: return "INT64";
    case GRAPH_DT_INT32: return "INT32";
    case GRAPH_DT_INT16: return "INT16";
    case GRAPH_DT_INT8: return "INT8";
    case GRAPH_DT_UINT8: return "UINT8";
    case GRAPH_DT_UINT16: return "UINT16";
    case GRAPH_DT_UINT32: return "UINT32";
    case GRAPH_DT_BOOL: return "BOOL";
    default: return "?";
    }
}

/* Bytes per element on a device (floats as float32). */
size_t graph_storage_size(graph_dtype dtype)
{
    return graph_dtype_is_float(dtype) ? sizeof(float) : graph_dtype_size(dtype);
}

/* Device bytes per element of one tensor (see graph.h). */
size_t graph_tensor_storage_size(const graph_tensor *t)
{
    return t->half_stored ? 2 : graph_storage_size(t->dtype);
}

/* Bytes per element as stored in a model file. */
size_t graph_dtype_size(graph_dtype dtype)
{
    switch (dtype) {
    case GRAPH_DT_FLOAT32: case GRAPH_DT_INT32: case GRAPH_DT_UINT32: return 4;
    case GRAPH_DT_FLOAT16: case GRAPH_DT_INT16: case GRAPH_DT_UINT16: return 2;
    case GRAPH_DT_INT64: return 8;
    default: return 1;
    }
}
