/* Graph facts and their printout (see graph_info.h). */
#include <stdlib.h>
#include <string.h>

#include "graph_edit.h"
#include "graph_info.h"
#include "host_alloc.h"
#include "status.h"

/* Conv MACs: each output element sums in_ch/group * prod(kernel) products. */
static int64_t conv_macs(const kiln_graph *g, const graph_node *n)
{
    const graph_tensor *out = &g->tensors[n->outputs[0]];
    const graph_tensor *w = &g->tensors[n->inputs[1]];
    int64_t per = 1;

    for (int i = 1; i < w->rank; i++)
        per *= w->dims[i];      /* in_ch/group * kernel */
    return graph_tensor_elements(out) * per;
}

/* Bytes of a shaped tensor. */
static uint64_t tensor_bytes(const graph_tensor *t)
{
    return (uint64_t)graph_tensor_elements(t) * graph_dtype_size(t->dtype);
}

/* Walks nodes and tensors once. */
kiln_status graph_info_compute(const kiln_graph *g, graph_info *info)
{
    size_t *uses = kiln_malloc((g->ntensors ? g->ntensors : 1) * sizeof(*uses));

    memset(info, 0, sizeof(*info));
    if (!uses)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory for graph facts");
    graph_uses_count(g, uses);
    for (size_t i = 0; i < g->nnodes; i++) {
        const graph_node *n = &g->nodes[i];
        if (n->op == GRAPH_OP_NONE)
            continue;
        info->nodes++;
        info->op_counts[n->op]++;
        if (n->op == GRAPH_OP_CONV && n->inputs[1] >= 0)
            info->macs += conv_macs(g, n);
    }
    for (size_t t = 0; t < g->ntensors; t++) {
        const graph_tensor *x = &g->tensors[t];
        if (x->rank < 0)
            continue;
        if (graph_tensor_is_const(x)) {
            if (!graph_dtype_is_float(x->dtype))
                continue;
            if (uses[t]) {
                info->parameters += graph_tensor_elements(x);
                info->parameter_bytes += tensor_bytes(x);
            }
            continue;
        }
        uint64_t b = tensor_bytes(x);
        info->activations++;
        info->activation_bytes += b;
        if (b > info->largest_activation)
            info->largest_activation = b;
    }
    kiln_free(uses);
    return KILN_OK;
}

/* Prints a count with a K/M/G suffix (powers of 1000). */
static void print_count(FILE *fp, double v)
{
    if (v >= 1e9)
        fprintf(fp, "%.2fG", v / 1e9);
    else if (v >= 1e6)
        fprintf(fp, "%.2fM", v / 1e6);
    else if (v >= 1e3)
        fprintf(fp, "%.2fK", v / 1e3);
    else
        fprintf(fp, "%.0f", v);
}

/* Prints bytes in the largest fitting binary unit, with the exact count. */
static void print_bytes(FILE *fp, uint64_t b)
{
    if (b >= 1024u * 1024u)
        fprintf(fp, "%.2f MiB (%llu bytes)", (double)b / (1024.0 * 1024.0), (unsigned long long)b);
    else if (b >= 1024u)
        fprintf(fp, "%.2f KiB (%llu bytes)", (double)b / 1024.0, (unsigned long long)b);
    else
        fprintf(fp, "%llu bytes", (unsigned long long)b);
}

/* Prints one tensor's name, type and shape. */
static void print_tensor(FILE *fp, const char *role, const graph_tensor *t)
{
    char shape[128];

    fprintf(fp, "%-12s %s %s %s\n", role, t->name, graph_dtype_name(t->dtype),
            graph_shape_string(t, shape, sizeof(shape)));
}

/* The model-info report. */
kiln_status graph_print_info(FILE *fp, const kiln_graph *g)
{
    graph_info info;
    kiln_status st = graph_info_compute(g, &info);

    if (st != KILN_OK)
        return st;
    fprintf(fp, "opset:       %lld\n", (long long)g->opset);
    for (size_t i = 0; i < g->ninputs; i++)
        print_tensor(fp, "input:", &g->tensors[g->inputs[i]]);
    for (size_t i = 0; i < g->noutputs; i++)
        print_tensor(fp, "output:", &g->tensors[g->outputs[i]]);
    fprintf(fp, "nodes:       %zu (", info.nodes);
    int first = 1;
    for (int op = 0; op < GRAPH_OP_COUNT; op++) {
        if (!info.op_counts[op])
            continue;
        fprintf(fp, "%s%s %zu", first ? "" : ", ", graph_op_name((graph_op)op), info.op_counts[op]);
        first = 0;
    }
    fprintf(fp, ")\n");
    fprintf(fp, "parameters:  ");
    print_count(fp, (double)info.parameters);
    fprintf(fp, " (");
    print_bytes(fp, info.parameter_bytes);
    fprintf(fp, ")\nMACs:        ");
    print_count(fp, (double)info.macs);
    fprintf(fp, "\nactivations: %zu tensors, sum ", info.activations);
    print_bytes(fp, info.activation_bytes);
    fprintf(fp, ", largest ");
    print_bytes(fp, info.largest_activation);
    fprintf(fp, "\n");
    return KILN_OK;
}
