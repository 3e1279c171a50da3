/* Graph editing primitives (see graph_edit.h). */
#include <stdlib.h>
#include <string.h>

#include "graph_edit.h"
#include "host_alloc.h"
#include "status.h"

/* Counts reads by live nodes. */
void graph_uses_count(const kiln_graph *g, size_t *uses)
{
    memset(uses, 0, g->ntensors * sizeof(*uses));
    for (size_t i = 0; i < g->nnodes; i++) {
        const graph_node *n = &g->nodes[i];
        if (n->op == GRAPH_OP_NONE)
            continue;
        for (size_t k = 0; k < n->ninputs; k++)
            if (n->inputs[k] >= 0)
                uses[n->inputs[k]]++;
    }
}

/* Linear search of the outputs. */
int graph_is_output(const kiln_graph *g, int t)
{
    for (size_t i = 0; i < g->noutputs; i++)
        if (g->outputs[i] == t)
            return 1;
    return 0;
}

/* Recomputes producers from live nodes. */
void graph_producers_update(kiln_graph *g)
{
    for (size_t t = 0; t < g->ntensors; t++)
        g->tensors[t].producer = -1;
    for (size_t i = 0; i < g->nnodes; i++) {
        const graph_node *n = &g->nodes[i];
        if (n->op == GRAPH_OP_NONE)
            continue;
        for (size_t k = 0; k < n->noutputs; k++)
            if (n->outputs[k] >= 0)
                g->tensors[n->outputs[k]].producer = (int)i;
    }
}

/* Moves follower's output 0 to `into` and removes follower (see
 * graph_edit.h). */
void graph_node_absorb(kiln_graph *g, int into, size_t follower)
{
    graph_node *n = &g->nodes[into];
    graph_node *f = &g->nodes[follower];

    n->outputs[0] = f->outputs[0];
    g->tensors[n->outputs[0]].producer = into;
    f->op = GRAPH_OP_NONE;
}

/* Appends, then rotates the new node into place. */
kiln_status graph_node_insert(kiln_graph *g, size_t pos, graph_op op, const char *name,
                              size_t ninputs, size_t noutputs, int *index)
{
    int last;
    kiln_status st = graph_add_node(g, op, name, ninputs, noutputs, &last);

    if (st != KILN_OK)
        return st;
    if (pos < (size_t)last) {
        graph_node moved = g->nodes[last];
        memmove(&g->nodes[pos + 1], &g->nodes[pos], ((size_t)last - pos) * sizeof(*g->nodes));
        g->nodes[pos] = moved;
    } else {
        pos = (size_t)last;
    }
    graph_producers_update(g);
    *index = (int)pos;
    return KILN_OK;
}

/* Walks the nodes backwards from the outputs, keeping producers of
 * needed tensors. */
kiln_status graph_prune(kiln_graph *g, size_t *removed)
{
    unsigned char *needed = kiln_calloc(g->ntensors ? g->ntensors : 1, sizeof(*needed));

    if (!needed)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory pruning the graph");
    for (size_t i = 0; i < g->noutputs; i++)
        needed[g->outputs[i]] = 1;
    for (size_t i = g->nnodes; i-- > 0;) {
        graph_node *n = &g->nodes[i];
        int keep = 0;
        if (n->op == GRAPH_OP_NONE)
            continue;
        for (size_t k = 0; k < n->noutputs; k++)
            if (n->outputs[k] >= 0 && needed[n->outputs[k]])
                keep = 1;
        if (!keep) {
            n->op = GRAPH_OP_NONE;
            (*removed)++;
            continue;
        }
        for (size_t k = 0; k < n->ninputs; k++)
            if (n->inputs[k] >= 0)
                needed[n->inputs[k]] = 1;
    }
    kiln_free(needed);
    return KILN_OK;
}

/* Renumbers tensors through `map` (-1: dropped) in a list. */
static void remap_list(int *list, size_t count, const int *map)
{
    for (size_t i = 0; i < count; i++)
        if (list[i] >= 0)
            list[i] = map[list[i]];
}

/* Keeps live nodes and referenced tensors, in order. */
kiln_status graph_compact(kiln_graph *g)
{
    int *map = kiln_malloc((g->ntensors ? g->ntensors : 1) * sizeof(*map));
    size_t keep_nodes = 0, keep_tensors = 0;

    if (!map)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory compacting the graph");
    for (size_t t = 0; t < g->ntensors; t++)
        map[t] = -1;
    /* mark what is referenced */
    for (size_t i = 0; i < g->nnodes; i++) {
        const graph_node *n = &g->nodes[i];
        if (n->op == GRAPH_OP_NONE)
            continue;
        for (size_t k = 0; k < n->ninputs; k++)
            if (n->inputs[k] >= 0)
                map[n->inputs[k]] = 0;
        for (size_t k = 0; k < n->noutputs; k++)
            if (n->outputs[k] >= 0)
                map[n->outputs[k]] = 0;
    }
    for (size_t i = 0; i < g->ninputs; i++)
        map[g->inputs[i]] = 0;
    for (size_t i = 0; i < g->noutputs; i++)
        map[g->outputs[i]] = 0;
    /* move tensors down */
    for (size_t t = 0; t < g->ntensors; t++) {
        if (map[t] < 0) {
            graph_tensor_clear(&g->tensors[t]);
            continue;
        }
        map[t] = (int)keep_tensors;
        if (keep_tensors != t)
            g->tensors[keep_tensors] = g->tensors[t];
        keep_tensors++;
    }
    g->ntensors = keep_tensors;
    /* move nodes down, renumbering their tensors */
    for (size_t i = 0; i < g->nnodes; i++) {
        graph_node *n = &g->nodes[i];
        if (n->op == GRAPH_OP_NONE) {
            kiln_free(n->name);
            kiln_free(n->inputs);
            kiln_free(n->outputs);
            continue;
        }
        remap_list(n->inputs, n->ninputs, map);
        remap_list(n->outputs, n->noutputs, map);
        if (keep_nodes != i)
            g->nodes[keep_nodes] = *n;
        keep_nodes++;
    }
    g->nnodes = keep_nodes;
    remap_list(g->inputs, g->ninputs, map);
    remap_list(g->outputs, g->noutputs, map);
    kiln_free(map);
    graph_producers_update(g);
    return KILN_OK;
}
