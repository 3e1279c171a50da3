/* Lifetimes and in-place Concat inputs (see graph_lifetime.h). */
#include <stdlib.h>
#include <string.h>

#include "graph_edit.h"
#include "graph_lifetime.h"
#include "host_alloc.h"
#include "status.h"

/* Marks the inputs of Concat node n that can be written in place; with
 * `shared`, inputs other nodes read too (not yet inside a Concat). */
static void concat_inplace(const kiln_graph *g, const graph_node *n, const size_t *uses,
                           int shared, graph_lifetime *life)
{
    int out = n->outputs[0];
    int axis = (int)n->attr.axis;
    const graph_tensor *o = &g->tensors[out];
    size_t at = 0;

    if (!life[out].planned)
        return;
    for (int i = 0; i < axis; i++)
        if (o->dims[i] != 1)
            return;
    for (size_t k = 0; k < n->ninputs; k++) {
        int in = n->inputs[k];
        const graph_tensor *t = &g->tensors[in];
        /* the input's slice, in the output's storage */
        size_t bytes = (size_t)graph_tensor_elements(t) * graph_tensor_storage_size(o);
        int alone = uses[in] == 1;
        if (life[in].planned && t->kind == GRAPH_TENSOR_VALUE && t->producer >= 0 &&
            (alone || shared) && life[in].parent < 0 && in != out &&
            !graph_is_output(g, in) && t->dtype == o->dtype &&
            t->half_stored == o->half_stored) {
            life[in].parent = out;
            life[in].parent_offset = at;
        }
        at += bytes;
    }
}

/* Walks the schedule once for producers and readers. */
kiln_status graph_lifetimes(const kiln_graph *g, int inplace_concat, graph_lifetime **out)
{
    size_t nt = g->ntensors ? g->ntensors : 1;
    graph_lifetime *life = kiln_calloc(nt, sizeof(*life));
    size_t *uses = kiln_malloc(nt * sizeof(*uses));

    *out = NULL;
    if (!life || !uses) {
        kiln_free(life);
        kiln_free(uses);
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory for tensor lifetimes");
    }
    for (size_t t = 0; t < g->ntensors; t++) {
        const graph_tensor *x = &g->tensors[t];
        life[t].parent = -1;
        life[t].planned = !graph_tensor_is_const(x) && x->rank >= 0;
        if (life[t].planned)
            life[t].bytes = (size_t)graph_tensor_elements(x) * graph_tensor_storage_size(x);
    }
    for (size_t s = 0; s < g->nnodes; s++) {
        const graph_node *n = &g->nodes[s];
        for (size_t k = 0; k < n->noutputs; k++)
            if (n->outputs[k] >= 0)
                life[n->outputs[k]].first = life[n->outputs[k]].last = s;
    }
    for (size_t s = 0; s < g->nnodes; s++) {
        const graph_node *n = &g->nodes[s];
        for (size_t k = 0; k < n->ninputs; k++)
            if (n->inputs[k] >= 0 && life[n->inputs[k]].last < s)
                life[n->inputs[k]].last = s;
    }
    for (size_t i = 0; i < g->noutputs; i++)
        life[g->outputs[i]].last = g->nnodes;
    if (inplace_concat) {
        graph_uses_count(g, uses);
        for (size_t s = 0; s < g->nnodes; s++)
            if (g->nodes[s].op == GRAPH_OP_CONCAT)
                concat_inplace(g, &g->nodes[s], uses,
                               inplace_concat == GRAPH_INPLACE_CONCAT_SHARED, life);
    }
    kiln_free(uses);
    *out = life;
    return KILN_OK;
}
