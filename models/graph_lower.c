/* Lowering to runtime operators (see graph_lower.h). */
#include <stdio.h>
#include <stdlib.h>

#include "float16.h"
#include "graph_edit.h"
#include "graph_fuse.h"
#include "graph_lower.h"
#include "host_alloc.h"
#include "status.h"

#define NAME_MAX_LEN 512

/* Adds a [C, 1, ...] constant of rank `rank` holding vals, typed dtype. */
static kiln_status channel_constant(kiln_graph *g, const char *base, const char *suffix,
                                    graph_dtype dtype, int rank, int64_t ch, const double *vals,
                                    int *index)
{
    char name[NAME_MAX_LEN];

    snprintf(name, sizeof(name), "%.400s%s", base, suffix);
    kiln_status st = graph_add_tensor(g, name, dtype, index);
    if (st != KILN_OK)
        return st;
    graph_tensor *t = &g->tensors[*index];
    t->rank = rank;
    t->dims[0] = ch;
    for (int i = 1; i < rank; i++)
        t->dims[i] = 1;
    st = graph_tensor_alloc_data(t);
    if (st != KILN_OK)
        return st;
    for (int64_t c = 0; c < ch; c++)
        t->f32[c] = dtype == GRAPH_DT_FLOAT16 ? float16_round((float)vals[c]) : (float)vals[c];
    return KILN_OK;
}

/* Turns BN node i into Mul(x, scale) followed by a new Add(., shift). */
static kiln_status batchnorm_lower(kiln_graph *g, size_t i)
{
    double *s, *t;
    int ks, kt, mid, add;
    kiln_status st = graph_batchnorm_affine(g, &g->nodes[i], &s, &t);

    if (st != KILN_OK) {
        char label[256];
        return kiln_fail_context(st, "%s", graph_node_label(&g->nodes[i], label, sizeof(label)));
    }
    int x = g->nodes[i].inputs[0], y = g->nodes[i].outputs[0];
    graph_dtype dtype = g->tensors[x].dtype;
    int rank = g->tensors[x].rank - 1;
    int64_t ch = g->tensors[x].dims[1];
    st = channel_constant(g, g->tensors[y].name, "/bn_scale", dtype, rank, ch, s, &ks);
    if (st == KILN_OK)
        st = channel_constant(g, g->tensors[y].name, "/bn_shift", dtype, rank, ch, t, &kt);
    if (st == KILN_OK) {
        char name[NAME_MAX_LEN];
        snprintf(name, sizeof(name), "%.400s/bn_scaled", g->tensors[y].name);
        st = graph_add_tensor(g, name, dtype, &mid);
    }
    if (st == KILN_OK) {
        graph_tensor *m = &g->tensors[mid];
        m->rank = g->tensors[y].rank;
        for (int d = 0; d < m->rank; d++)
            m->dims[d] = g->tensors[y].dims[d];
        st = graph_node_insert(g, i + 1, GRAPH_OP_ADD, g->nodes[i].name, 2, 1, &add);
    }
    if (st == KILN_OK) {
        graph_node *mul = &g->nodes[i];
        mul->op = GRAPH_OP_MUL;
        mul->ninputs = 2;
        mul->inputs[1] = ks;
        mul->outputs[0] = mid;
        g->nodes[add].inputs[0] = mid;
        g->nodes[add].inputs[1] = kt;
        g->nodes[add].outputs[0] = y;
        g->nodes[add].index = mul->index;
        graph_producers_update(g);
    }
    kiln_free(s);
    kiln_free(t);
    return st;
}

/* Makes every reader of tensor `from` read `to`. */
static void uses_replace(kiln_graph *g, int from, int to)
{
    for (size_t i = 0; i < g->nnodes; i++) {
        graph_node *n = &g->nodes[i];
        if (n->op == GRAPH_OP_NONE)
            continue;
        for (size_t k = 0; k < n->ninputs; k++)
            if (n->inputs[k] == from)
                n->inputs[k] = to;
    }
}

/* Applies the rewrites node by node. */
kiln_status graph_lower(kiln_graph *g, size_t *rewritten, size_t *removed)
{
    for (size_t i = 0; i < g->nnodes; i++) {
        graph_node *n = &g->nodes[i];
        kiln_status st;
        switch (n->op) {
        case GRAPH_OP_BATCHNORM:
            st = batchnorm_lower(g, i);
            if (st != KILN_OK)
                return st;
            (*rewritten)++;
            i++;        /* skip the Add just inserted */
            break;
        case GRAPH_OP_SQUEEZE:
        case GRAPH_OP_UNSQUEEZE:
        case GRAPH_OP_FLATTEN:
        case GRAPH_OP_RESHAPE:
            if (n->op != GRAPH_OP_RESHAPE)
                (*rewritten)++;
            n->op = GRAPH_OP_RESHAPE;
            n->ninputs = 1;
            break;
        case GRAPH_OP_CAST:
        case GRAPH_OP_IDENTITY: {
            int x = n->inputs[0], y = n->outputs[0];
            if (n->op == GRAPH_OP_CAST && g->tensors[x].dtype != g->tensors[y].dtype)
                break;
            if (graph_is_output(g, y))
                break;
            uses_replace(g, y, x);
            n->op = GRAPH_OP_NONE;
            (*removed)++;
            break;
        }
        default:
            break;
        }
    }
    return KILN_OK;
}
