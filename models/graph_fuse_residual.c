/* Residual Add fused into the Conv that feeds it (see graph_fuse.h). */
#include "graph_edit.h"
#include "graph_fuse.h"
#include "host_alloc.h"
#include "status.h"

/* Whether two tensors have the same rank and dims. */
static int same_shape(const graph_tensor *a, const graph_tensor *b)
{
    if (a->rank != b->rank || a->rank < 0)
        return 0;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i])
            return 0;
    return 1;
}

/* Whether input `k` (0 or 1) of Add node `a` (at schedule step `ai`) is
 * a Conv output that can take the Add's other input as its residual:
 * sets *conv.  The Conv must have no residual yet, its output must be
 * read only by the Add and not be a graph output, the residual must be
 * ready before the Conv runs (a runtime input, a constant, or produced
 * earlier), and the three tensors must share shape and type. */
static int residual_fusable(const kiln_graph *g, const size_t *uses, const graph_node *a,
                            size_t ai, int k, int *conv)
{
    int c = a->inputs[k], r = a->inputs[1 - k], y = a->outputs[0];

    if (c < 0 || r < 0 || y < 0 || c == r || uses[c] != 1 || graph_is_output(g, c))
        return 0;
    int p = g->tensors[c].producer;
    if (p < 0 || (size_t)p >= ai || g->nodes[p].op != GRAPH_OP_CONV)
        return 0;
    const graph_node *cn = &g->nodes[p];
    if (cn->ninputs > 3 && cn->inputs[3] >= 0)
        return 0;
    int rp = g->tensors[r].producer;
    if (rp >= p)
        return 0;
    const graph_tensor *ct = &g->tensors[c], *rt = &g->tensors[r], *yt = &g->tensors[y];
    if (!graph_dtype_is_float(ct->dtype) || ct->dtype != rt->dtype || ct->dtype != yt->dtype ||
        !same_shape(ct, rt) || !same_shape(ct, yt))
        return 0;
    *conv = p;
    return 1;
}

/* Gives Conv node `ci` the residual input r and the output of Add node
 * `ai`; removes the Add. */
static kiln_status residual_fuse_one(kiln_graph *g, size_t ai, int ci, int r)
{
    graph_node *conv = &g->nodes[ci];

    if (conv->ninputs < 4) {
        int *grown = kiln_realloc(conv->inputs, 4 * sizeof(*grown));
        if (!grown)
            return kiln_fail(KILN_E_HOSTMEM, "out of host memory fusing a residual Add");
        for (size_t k = conv->ninputs; k < 4; k++)
            grown[k] = -1;
        conv->inputs = grown;
        conv->ninputs = 4;
    }
    conv->inputs[3] = r;
    graph_node_absorb(g, ci, ai);
    return KILN_OK;
}

/* Fuses each residual Add into its Conv; uses are recounted after each. */
kiln_status graph_fuse_residual(kiln_graph *g, size_t *count)
{
    size_t *uses = kiln_malloc((g->ntensors ? g->ntensors : 1) * sizeof(*uses));
    kiln_status st = KILN_OK;

    if (!uses)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory fusing residual Adds");
    graph_uses_count(g, uses);
    for (size_t i = 0; i < g->nnodes && st == KILN_OK; i++) {
        const graph_node *a = &g->nodes[i];
        int conv = -1, k;
        if (a->op != GRAPH_OP_ADD || a->ninputs != 2 || a->noutputs < 1)
            continue;
        for (k = 0; k < 2; k++)
            if (residual_fusable(g, uses, a, i, k, &conv))
                break;
        if (k == 2)
            continue;
        st = residual_fuse_one(g, i, conv, a->inputs[1 - k]);
        if (st == KILN_OK) {
            (*count)++;
            graph_uses_count(g, uses);
        }
    }
    kiln_free(uses);
    return st;
}
