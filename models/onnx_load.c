/* ONNX ModelProto -> kiln_graph (see onnx_load.h).
 *
 * The loader works in passes over the unpacked message: define every
 * tensor (initializers, runtime inputs, Constant outputs, node outputs)
 * in a name table, parse every node, resolve node inputs by name, order
 * the nodes topologically (Kahn's algorithm; what is left is a cycle) and
 * append them to the graph in that order.  All scratch state lives in one
 * `loader` released on one path. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "file_open.h"
#include "host_alloc.h"
#include "onnx.pb-c.h"
#include "onnx_load.h"
#include "onnx_node.h"
#include "onnx_tensor.h"
#include "clock.h"
#include "phase_time.h"
#include "status.h"

#define OPSET_MIN 7
#define OPSET_MAX 19
#define LABEL_MAX 256

/* A parsed non-Constant node waiting to be ordered. */
typedef struct pending_node {
    const Onnx__NodeProto *np;
    size_t index;                   /* position in the file */
    onnx_node_info info;
    int *inputs;                    /* tensor per graph input slot, -1 absent */
    size_t npending;                /* inputs whose producer is not placed yet */
} pending_node;

/* Scratch state of one load. */
typedef struct loader {
    Onnx__ModelProto *model;
    Onnx__GraphProto *gp;
    const onnx_load_options *opt;
    int64_t opset;
    kiln_graph *g;
    /* name table: open addressing over tensor indices, -1 empty */
    int *table;
    size_t table_size;
    /* nodes */
    pending_node *pending;
    size_t npending;
    int *producer_of;               /* tensor -> pending node, -1 */
    size_t *consumer_start;         /* CSR of pending-node consumers per pending node */
    size_t *consumers;
    size_t *order;                  /* topological order of pending nodes */
} loader;

/* protobuf-c's allocations go through the host memory door, so that the
 * loader may release an initializer's data as soon as it is decoded, and
 * so that they are counted.  ctx, when not NULL, is an int set to 1 on a
 * failed allocation: protobuf-c reports that as a NULL message, the same
 * as corrupt data. */
static void *pb_alloc(void *ctx, size_t size)
{
    void *p = kiln_malloc(size);

    if (!p && ctx)
        *(int *)ctx = 1;
    return p;
}

/* The matching release. */
static void pb_free(void *ctx, void *p)
{
    (void)ctx;
    kiln_free(p);
}

static ProtobufCAllocator pb_allocator = { pb_alloc, pb_free, NULL };

/* A string or "" for NULL. */
static const char *str_or_empty(const char *s)
{
    return s ? s : "";
}

/* FNV-1a hash of a name. */
static size_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;

    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return (size_t)h;
}

/* The table slot of `name`: its tensor, or the empty slot to fill. */
static size_t table_slot(const loader *L, const char *name)
{
    size_t mask = L->table_size - 1;
    size_t i = name_hash(name) & mask;

    while (L->table[i] >= 0 && strcmp(L->g->tensors[L->table[i]].name, name) != 0)
        i = (i + 1) & mask;
    return i;
}

/* The tensor named `name`, or -1. */
static int table_find(const loader *L, const char *name)
{
    return L->table[table_slot(L, name)];
}

/* Sizes the name table for `count` names (load factor <= 1/2). */
static kiln_status table_init(loader *L, size_t count)
{
    size_t size = 64;

    while (size < 2 * count + 2) {
        if (size > SIZE_MAX / 4)
            return kiln_fail(KILN_E_LIMIT, "too many tensors in the model");
        size *= 2;
    }
    L->table = kiln_malloc(size * sizeof(*L->table));
    if (!L->table)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory for the name table");
    for (size_t i = 0; i < size; i++)
        L->table[i] = -1;
    L->table_size = size;
    return KILN_OK;
}

/* Adds a tensor named `name`; a name defined twice is an error naming
 * `what` (the second definition). */
static kiln_status tensor_define(loader *L, const char *name, const char *what, int *index)
{
    if (!name || !name[0])
        return kiln_fail(KILN_E_FORMAT, "%s has no name", what);
    size_t slot = table_slot(L, name);
    if (L->table[slot] >= 0)
        return kiln_fail(KILN_E_FORMAT, "tensor '%.200s' is defined twice (again by %s)",
                         name, what);
    kiln_status st = graph_add_tensor(L->g, name, GRAPH_DT_FLOAT32, index);
    if (st != KILN_OK)
        return st;
    L->table[slot] = *index;
    return KILN_OK;
}

/* Frees the loader's scratch state (not the graph). */
static void loader_release(loader *L)
{
    for (size_t i = 0; i < L->npending; i++)
        kiln_free(L->pending[i].inputs);
    kiln_free(L->pending);
    kiln_free(L->table);
    kiln_free(L->producer_of);
    kiln_free(L->consumer_start);
    kiln_free(L->consumers);
    kiln_free(L->order);
}

/* The default-domain opset the model imports. */
static kiln_status opset_find(const Onnx__ModelProto *m, int64_t *opset)
{
    int found = 0;

    for (size_t i = 0; i < m->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = m->opset_import[i];
        const char *d = str_or_empty(o->domain);
        if (d[0] && strcmp(d, "ai.onnx") != 0)
            continue;
        *opset = o->has_version ? o->version : 0;
        found = 1;
    }
    if (!found)
        return kiln_fail(KILN_E_FORMAT, "the model imports no default-domain opset");
    if (*opset < OPSET_MIN || *opset > OPSET_MAX)
        return kiln_fail(KILN_E_FORMAT, "the model uses opset %lld; kiln supports opsets %d to %d",
                         (long long)*opset, OPSET_MIN, OPSET_MAX);
    return KILN_OK;
}

/* Decodes every initializer into a constant tensor. */
static kiln_status initializers_load(loader *L)
{
    char what[LABEL_MAX];

    if (L->gp->n_sparse_initializer > 0)
        return kiln_fail(KILN_E_FORMAT, "the model has sparse initializers, which kiln does not "
                         "support");
    for (size_t i = 0; i < L->gp->n_initializer; i++) {
        Onnx__TensorProto *tp = L->gp->initializer[i];
        int idx;
        snprintf(what, sizeof(what), "initializer '%.200s'", str_or_empty(tp->name));
        if (!tp->name || !tp->name[0])
            snprintf(what, sizeof(what), "initializer #%zu", i);
        kiln_status st = tensor_define(L, tp->name, what, &idx);
        if (st != KILN_OK)
            return st;
        st = onnx_tensor_decode_take(tp, what, &L->g->tensors[idx]);
        if (st != KILN_OK)
            return st;
        /* the decoded copy is all that is needed: give back the raw bytes
           (unless they were adopted as they are) */
        if (tp->has_raw_data && tp->raw_data.data) {
            pb_free(NULL, tp->raw_data.data);
            tp->raw_data.data = NULL;
            tp->raw_data.len = 0;
            tp->has_raw_data = 0;
        }
    }
    return KILN_OK;
}

/* The option entry for runtime input number `pos` named `name`, or NULL. */
static const onnx_input_shape *option_for(const loader *L, const char *name, size_t pos)
{
    if (!L->opt)
        return NULL;
    for (size_t i = 0; i < L->opt->ninputs; i++)
        if (L->opt->inputs[i].name && strcmp(L->opt->inputs[i].name, name) == 0)
            return &L->opt->inputs[i];
    if (pos < L->opt->ninputs && !L->opt->inputs[pos].name)
        return &L->opt->inputs[pos];
    return NULL;
}

/* Fixes a runtime input's shape from the options and the model's declared
 * dims, which must agree where both are fixed. */
static kiln_status input_shape_fix(loader *L, const Onnx__ValueInfoProto *vi, size_t pos,
                                   graph_tensor *t)
{
    const Onnx__TypeProto__Tensor *tt = vi->type->tensor_type;
    const Onnx__TensorShapeProto *shape = tt->shape;
    const onnx_input_shape *o = option_for(L, t->name, pos);
    char what[LABEL_MAX];

    snprintf(what, sizeof(what), "input '%.200s'", t->name);
    if (shape && shape->n_dim > GRAPH_MAX_RANK)
        return kiln_fail(KILN_E_LIMIT, "%s has rank %zu (kiln allows 0 to %d)", what,
                         shape->n_dim, GRAPH_MAX_RANK);
    if (o) {
        if (o->rank < 0 || o->rank > GRAPH_MAX_RANK)
            return kiln_fail(KILN_E_INVAL, "%s: the options give rank %d", what, o->rank);
        if (shape && shape->n_dim != (size_t)o->rank)
            return kiln_fail(KILN_E_INVAL, "%s has rank %zu in the model but the options give "
                             "rank %d", what, shape->n_dim, o->rank);
        t->rank = o->rank;
        for (int i = 0; i < o->rank; i++) {
            const Onnx__TensorShapeProto__Dimension *d = shape ? shape->dim[i] : NULL;
            if (d && d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
                d->dim_value != o->dims[i])
                return kiln_fail(KILN_E_INVAL, "%s: dim %d is %lld in the model but the options "
                                 "give %lld", what, i, (long long)d->dim_value,
                                 (long long)o->dims[i]);
            t->dims[i] = o->dims[i];
        }
        return graph_shape_check(t->rank, t->dims, what);
    }
    if (!shape)
        return kiln_fail(KILN_E_INVAL, "%s declares no shape; give it in the load options", what);
    t->rank = (int)shape->n_dim;
    for (size_t i = 0; i < shape->n_dim; i++) {
        const Onnx__TensorShapeProto__Dimension *d = shape->dim[i];
        if (d->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
            const char *param = d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
                                ? str_or_empty(d->dim_param) : "";
            return kiln_fail(KILN_E_INVAL, "%s has a symbolic dimension '%.60s' at axis %zu; "
                             "give its shape in the load options", what, param, i);
        }
        t->dims[i] = d->dim_value;
    }
    return graph_shape_check(t->rank, t->dims, what);
}

/* Defines the runtime inputs: graph inputs without an initializer of the
 * same name (older models list every initializer as an input too). */
static kiln_status inputs_load(loader *L)
{
    size_t pos = 0;

    L->g->inputs = kiln_malloc((L->gp->n_input ? L->gp->n_input : 1) * sizeof(*L->g->inputs));
    if (!L->g->inputs)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory for the inputs");
    for (size_t i = 0; i < L->gp->n_input; i++) {
        const Onnx__ValueInfoProto *vi = L->gp->input[i];
        char what[LABEL_MAX];
        int idx;
        graph_dtype dtype;

        snprintf(what, sizeof(what), "input '%.200s'", str_or_empty(vi->name));
        if (vi->name && vi->name[0] && table_find(L, vi->name) >= 0 &&
            L->g->tensors[table_find(L, vi->name)].kind == GRAPH_TENSOR_CONSTANT)
            continue;
        if (!vi->type || vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
            !vi->type->tensor_type)
            return kiln_fail(KILN_E_FORMAT, "%s is not a tensor", what);
        if (!vi->type->tensor_type->has_elem_type)
            return kiln_fail(KILN_E_FORMAT, "%s has no element type", what);
        kiln_status st = onnx_dtype_map(vi->type->tensor_type->elem_type, what, &dtype);
        if (st == KILN_OK)
            st = tensor_define(L, vi->name, what, &idx);
        if (st != KILN_OK)
            return st;
        graph_tensor *t = &L->g->tensors[idx];
        t->kind = GRAPH_TENSOR_INPUT;
        t->dtype = dtype;
        st = input_shape_fix(L, vi, pos, t);
        if (st != KILN_OK)
            return st;
        L->g->inputs[L->g->ninputs++] = idx;
        pos++;
    }
    if (L->opt) {
        for (size_t i = 0; i < L->opt->ninputs; i++) {
            const char *name = L->opt->inputs[i].name;
            int idx = name ? table_find(L, name) : 0;
            if (name && (idx < 0 || L->g->tensors[idx].kind != GRAPH_TENSOR_INPUT))
                return kiln_fail(KILN_E_INVAL, "the options give a shape for '%.200s', which is "
                                 "not a runtime input of the model", name);
            if (!name && i >= L->g->ninputs)
                return kiln_fail(KILN_E_INVAL, "the options give %zu input shapes but the model "
                                 "has %zu runtime inputs", L->opt->ninputs, L->g->ninputs);
        }
    }
    return KILN_OK;
}

/* Formats an ONNX node's label into buf. */
static void node_label(const Onnx__NodeProto *np, size_t index, char *buf, size_t size)
{
    if (np->name && np->name[0])
        snprintf(buf, size, "node '%.100s' (#%zu, %.60s)", np->name, index,
                 str_or_empty(np->op_type));
    else
        snprintf(buf, size, "node #%zu (%.60s)", index, str_or_empty(np->op_type));
}

/* Parses each node: Constants become constant tensors, the others are
 * kept pending with their outputs defined. */
static kiln_status nodes_parse(loader *L)
{
    char what[LABEL_MAX];

    L->pending = kiln_calloc(L->gp->n_node ? L->gp->n_node : 1, sizeof(*L->pending));
    if (!L->pending)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory for nodes");
    for (size_t i = 0; i < L->gp->n_node; i++) {
        const Onnx__NodeProto *np = L->gp->node[i];
        kiln_status st;
        int idx;

        node_label(np, i, what, sizeof(what));
        if (onnx_node_is_constant(np)) {
            st = tensor_define(L, np->n_output ? np->output[0] : NULL, what, &idx);
            if (st == KILN_OK)
                st = onnx_constant_value(np, i, &L->g->tensors[idx]);
            if (st != KILN_OK)
                return st;
            continue;
        }
        pending_node *p = &L->pending[L->npending];
        p->np = np;
        p->index = i;
        st = onnx_node_parse(np, i, L->opset, &p->info);
        if (st != KILN_OK)
            return st;
        p->inputs = kiln_malloc((p->info.nslots ? p->info.nslots : 1) * sizeof(*p->inputs));
        if (!p->inputs)
            return kiln_fail(KILN_E_HOSTMEM, "out of host memory for node inputs");
        for (size_t s = 0; s < p->info.nslots; s++)
            p->inputs[s] = -1;
        L->npending++;
        for (size_t o = 0; o < p->info.noutputs; o++) {
            st = tensor_define(L, np->output[o], what, &idx);
            if (st != KILN_OK)
                return st;
        }
    }
    return KILN_OK;
}

/* Resolves every pending node's inputs by name and records, per tensor,
 * the pending node that produces it. */
static kiln_status inputs_resolve(loader *L)
{
    char what[LABEL_MAX];

    L->producer_of = kiln_malloc((L->g->ntensors ? L->g->ntensors : 1) * sizeof(*L->producer_of));
    if (!L->producer_of)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory for producers");
    for (size_t t = 0; t < L->g->ntensors; t++)
        L->producer_of[t] = -1;
    for (size_t i = 0; i < L->npending; i++) {
        const pending_node *p = &L->pending[i];
        for (size_t o = 0; o < p->info.noutputs; o++)
            L->producer_of[table_find(L, p->np->output[o])] = (int)i;
    }
    for (size_t i = 0; i < L->npending; i++) {
        pending_node *p = &L->pending[i];
        for (size_t k = 0; k < p->np->n_input; k++) {
            const char *name = str_or_empty(p->np->input[k]);
            int slot = p->info.op == GRAPH_OP_CONCAT ? (int)k :
                       (k < ONNX_NODE_MAX_SLOTS ? p->info.slot[k] : -1);
            if (!name[0])
                continue;
            if (slot < 0 || (size_t)slot >= p->info.nslots)
                continue;       /* beyond the inputs kept (trailing) */
            int idx = table_find(L, name);
            if (idx < 0) {
                node_label(p->np, p->index, what, sizeof(what));
                return kiln_fail(KILN_E_FORMAT, "%s: input '%.200s' is not produced by any "
                                 "node, graph input or initializer", what, name);
            }
            p->inputs[slot] = idx;
            if (L->producer_of[idx] >= 0)
                p->npending++;
        }
    }
    return KILN_OK;
}

/* Orders the pending nodes topologically (Kahn's algorithm, ready nodes
 * in file order).  Nodes left over form or follow a cycle. */
static kiln_status nodes_order(loader *L)
{
    size_t n = L->npending, total = 0, head = 0, tail = 0;

    L->consumer_start = kiln_calloc(n + 1, sizeof(*L->consumer_start));
    L->order = kiln_malloc((n ? n : 1) * sizeof(*L->order));
    if (!L->consumer_start || !L->order)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory for node order");
    /* count edges producer -> consumer, then fill in CSR form */
    for (size_t i = 0; i < n; i++)
        for (size_t s = 0; s < L->pending[i].info.nslots; s++) {
            int t = L->pending[i].inputs[s];
            if (t >= 0 && L->producer_of[t] >= 0) {
                L->consumer_start[L->producer_of[t] + 1]++;
                total++;
            }
        }
    for (size_t i = 0; i < n; i++)
        L->consumer_start[i + 1] += L->consumer_start[i];
    L->consumers = kiln_malloc((total ? total : 1) * sizeof(*L->consumers));
    size_t *fill = kiln_calloc(n + 1, sizeof(*fill));
    if (!L->consumers || !fill) {
        kiln_free(fill);
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory for node order");
    }
    for (size_t i = 0; i < n; i++)
        for (size_t s = 0; s < L->pending[i].info.nslots; s++) {
            int t = L->pending[i].inputs[s];
            if (t >= 0 && L->producer_of[t] >= 0) {
                size_t p = (size_t)L->producer_of[t];
                L->consumers[L->consumer_start[p] + fill[p]++] = i;
            }
        }
    kiln_free(fill);

    for (size_t i = 0; i < n; i++)
        if (L->pending[i].npending == 0)
            L->order[tail++] = i;
    while (head < tail) {
        size_t p = L->order[head++];
        for (size_t e = L->consumer_start[p]; e < L->consumer_start[p + 1]; e++) {
            pending_node *c = &L->pending[L->consumers[e]];
            if (--c->npending == 0)
                L->order[tail++] = L->consumers[e];
        }
    }
    if (tail < n) {
        for (size_t i = 0; i < n; i++) {
            if (L->pending[i].npending > 0) {
                char what[LABEL_MAX];
                node_label(L->pending[i].np, L->pending[i].index, what, sizeof(what));
                return kiln_fail(KILN_E_FORMAT, "the graph has a cycle: %s depends on its own "
                                 "output (%zu nodes can never run)", what, n - tail);
            }
        }
    }
    return KILN_OK;
}

/* Appends the nodes to the graph in topological order. */
static kiln_status nodes_emit(loader *L)
{
    for (size_t k = 0; k < L->npending; k++) {
        const pending_node *p = &L->pending[L->order[k]];
        int idx;
        kiln_status st = graph_add_node(L->g, p->info.op, p->np->name, p->info.nslots,
                                        p->info.noutputs, &idx);
        if (st != KILN_OK)
            return st;
        graph_node *gn = &L->g->nodes[idx];
        gn->index = p->index;
        gn->attr = p->info.attr;
        for (size_t s = 0; s < p->info.nslots; s++)
            gn->inputs[s] = p->inputs[s];
        for (size_t o = 0; o < p->info.noutputs; o++) {
            int t = table_find(L, p->np->output[o]);
            gn->outputs[o] = t;
            L->g->tensors[t].producer = idx;
        }
    }
    return KILN_OK;
}

/* Resolves the graph outputs by name. */
static kiln_status outputs_resolve(loader *L)
{
    if (L->gp->n_output == 0)
        return kiln_fail(KILN_E_FORMAT, "the graph has no output");
    L->g->outputs = kiln_malloc(L->gp->n_output * sizeof(*L->g->outputs));
    if (!L->g->outputs)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory for the outputs");
    for (size_t i = 0; i < L->gp->n_output; i++) {
        const char *name = str_or_empty(L->gp->output[i]->name);
        int idx = name[0] ? table_find(L, name) : -1;
        if (idx < 0)
            return kiln_fail(KILN_E_FORMAT, "graph output '%.200s' is not produced by any node, "
                             "input or initializer", name);
        L->g->outputs[L->g->noutputs++] = idx;
    }
    return KILN_OK;
}

/* Counts the names the table must hold. */
static size_t names_count(const Onnx__GraphProto *gp)
{
    size_t n = gp->n_initializer + gp->n_input;

    for (size_t i = 0; i < gp->n_node; i++)
        n += gp->node[i]->n_output;
    return n;
}

/* Builds the graph from an unpacked model. */
static kiln_status model_convert(loader *L)
{
    kiln_status st = opset_find(L->model, &L->opset);

    if (st != KILN_OK)
        return st;
    L->gp = L->model->graph;
    if (!L->gp)
        return kiln_fail(KILN_E_FORMAT, "the model has no graph");
    st = graph_new(&L->g);
    if (st != KILN_OK)
        return st;
    L->g->opset = L->opset;
    st = table_init(L, names_count(L->gp));
    if (st == KILN_OK)
        st = initializers_load(L);
    if (st == KILN_OK)
        st = inputs_load(L);
    if (st == KILN_OK)
        st = nodes_parse(L);
    if (st == KILN_OK)
        st = inputs_resolve(L);
    if (st == KILN_OK)
        st = nodes_order(L);
    if (st == KILN_OK)
        st = nodes_emit(L);
    if (st == KILN_OK)
        st = outputs_resolve(L);
    return st;
}

/* Unpacks a ModelProto (free it with pb_allocator); NULL with a message
 * and *st set when the bytes are not one (KILN_E_FORMAT) or memory ran out
 * (KILN_E_HOSTMEM). */
static Onnx__ModelProto *model_unpack(const void *data, size_t size, kiln_status *st)
{
    int out_of_memory = 0;
    ProtobufCAllocator counted = { pb_alloc, pb_free, &out_of_memory };
    Onnx__ModelProto *model = onnx__model_proto__unpack(&counted, size, data);

    *st = KILN_OK;
    if (!model && out_of_memory)
        *st = kiln_fail(KILN_E_HOSTMEM, "out of host memory unpacking the ONNX model "
                        "(%zu bytes)", size);
    else if (!model)
        *st = kiln_fail(KILN_E_FORMAT, "not a valid ONNX model: the protobuf data is truncated "
                        "or corrupt (%zu bytes)", size);
    return model;
}

/* Converts an unpacked model and frees it; on any failure the partial
 * graph is freed. */
static kiln_status model_load(Onnx__ModelProto *model, const onnx_load_options *opt,
                              kiln_graph **out)
{
    loader L;
    kiln_status st;

    memset(&L, 0, sizeof(L));
    L.model = model;
    L.opt = opt;
    st = model_convert(&L);
    if (st != KILN_OK)
        goto out_free_graph;
    *out = L.g;
    L.g = NULL;
out_free_graph:
    graph_free(L.g);
    loader_release(&L);
    onnx__model_proto__free_unpacked(model, &pb_allocator);
    return st;
}

/* Unpacks the protobuf and converts it. */
kiln_status onnx_load_buffer(const void *data, size_t size, const onnx_load_options *opt,
                             kiln_graph **out)
{
    Onnx__ModelProto *model;
    kiln_status st;

    *out = NULL;
    model = model_unpack(data, size, &st);
    if (!model)
        return st;
    return model_load(model, opt, out);
}

/* Reads a whole file into a new buffer. */
static kiln_status file_read(const char *path, unsigned char **data, size_t *size)
{
    struct stat sb;
    unsigned char *buf = NULL;
    kiln_status st;
    FILE *fp;

    *data = NULL;
    *size = 0;
    st = file_open_regular(path, &fp);   /* a FIFO is refused, never waited on */
    if (st != KILN_OK)
        return st;
    if (fstat(fileno(fp), &sb) != 0) {
        st = kiln_fail(KILN_E_IO, "%s: cannot read: %s", path, strerror(errno));
        goto out_close;
    }
    if (sb.st_size == 0) {
        st = kiln_fail(KILN_E_FORMAT, "%s: empty file, not an ONNX model", path);
        goto out_close;
    }
    buf = kiln_malloc(sb.st_size > 0 ? (size_t)sb.st_size : 1);
    if (!buf) {
        st = kiln_fail(KILN_E_HOSTMEM, "%s: out of host memory for %lld bytes", path,
                       (long long)sb.st_size);
        goto out_close;
    }
    if (sb.st_size > 0 && fread(buf, 1, (size_t)sb.st_size, fp) != (size_t)sb.st_size) {
        st = kiln_fail(KILN_E_IO, "%s: read failed", path);
        kiln_free(buf);
        goto out_close;
    }
    *data = buf;
    *size = (size_t)sb.st_size;
out_close:
    fclose(fp);
    return st;
}

/* Maps a whole regular file read-only into *data (*mapped = 1; release
 * with munmap), or reads it into a new buffer when it cannot be mapped
 * (*mapped = 0; kiln_free it).  Mapping saves copying the file's bytes
 * out of the page cache (a 176 MB model is read once more otherwise). */
static kiln_status file_map(const char *path, unsigned char **data, size_t *size, int *mapped)
{
    struct stat sb;
    FILE *fp;
    void *p = MAP_FAILED;
    kiln_status st;

    *mapped = 0;
    st = file_open_regular(path, &fp);   /* a FIFO is refused, never waited on */
    if (st != KILN_OK)
        return st;
    if (fstat(fileno(fp), &sb) == 0 && sb.st_size > 0 && (uintmax_t)sb.st_size <= SIZE_MAX) {
        int flags = MAP_PRIVATE;
#ifdef MAP_POPULATE
        flags |= MAP_POPULATE;
#endif
        p = mmap(NULL, (size_t)sb.st_size, PROT_READ, flags, fileno(fp), 0);
    }
    fclose(fp);
    if (p == MAP_FAILED)
        return file_read(path, data, size);
    *data = p;
    *size = (size_t)sb.st_size;
    *mapped = 1;
    return KILN_OK;
}

/* Maps (or reads) the file, unpacks it, drops the file's bytes, then
 * converts (at most about twice the weights are in memory at once). */
kiln_status onnx_load(const char *path, const onnx_load_options *opt, kiln_graph **out)
{
    unsigned char *data;
    size_t size;
    int mapped;
    Onnx__ModelProto *model;
    double t0 = kiln_clock_ms();
    kiln_status st;

    *out = NULL;
    st = file_map(path, &data, &size, &mapped);
    if (st != KILN_OK)
        return st;
    kiln_phase_lap(KILN_PHASE_MODEL_READ, &t0);
    model = model_unpack(data, size, &st);
    if (mapped)
        munmap(data, size);
    else
        kiln_free(data);
    kiln_phase_lap(KILN_PHASE_MODEL_DECODE, &t0);
    if (model)
        st = model_load(model, opt, out);
    kiln_phase_lap(KILN_PHASE_MODEL_CONVERT, &t0);
    if (st != KILN_OK)
        return kiln_fail_context(st, "%s", path);
    return KILN_OK;
}

/* Reads a TensorProto file and decodes it with its name. */
kiln_status onnx_tensor_load(const char *path, graph_tensor *out)
{
    unsigned char *data;
    size_t size;
    Onnx__TensorProto *tp;
    int out_of_memory = 0;
    ProtobufCAllocator counted = { pb_alloc, pb_free, &out_of_memory };
    kiln_status st;

    memset(out, 0, sizeof(*out));
    out->rank = -1;
    out->producer = -1;
    st = file_read(path, &data, &size);
    if (st != KILN_OK)
        return st;
    tp = onnx__tensor_proto__unpack(&counted, size, data);
    kiln_free(data);
    if (!tp && out_of_memory)
        return kiln_fail(KILN_E_HOSTMEM, "%s: out of host memory unpacking a TensorProto", path);
    if (!tp)
        return kiln_fail(KILN_E_FORMAT, "%s: not a valid TensorProto (truncated or corrupt)",
                         path);
    st = onnx_tensor_decode(tp, "the tensor", out);
    if (st == KILN_OK) {
        size_t len = strlen(str_or_empty(tp->name)) + 1;
        out->name = kiln_malloc(len);
        if (out->name)
            memcpy(out->name, str_or_empty(tp->name), len);
        else
            st = kiln_fail(KILN_E_HOSTMEM, "out of host memory for a tensor name");
    }
    onnx__tensor_proto__free_unpacked(tp, &pb_allocator);
    if (st != KILN_OK) {
        graph_tensor_clear(out);
        return kiln_fail_context(st, "%s", path);
    }
    return KILN_OK;
}
