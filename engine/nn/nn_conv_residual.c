/* The optional residual input of a Conv (see nn_conv_algo.h): what every
 * algorithm that adds it checks. */
#include "graph.h"
#include "nn_conv_algo.h"

/* Checks the optional residual input (see nn_conv_algo.h). */
int nn_conv_residual_fits(const kiln_graph *g, const graph_node *n)
{
    const graph_tensor *r, *y;

    if (n->ninputs <= 3 || n->inputs[3] < 0)
        return 1;
    if ((size_t)n->inputs[3] >= g->ntensors || n->noutputs < 1)
        return 0;
    r = &g->tensors[n->inputs[3]];
    y = &g->tensors[n->outputs[0]];
    return graph_dtype_is_float(r->dtype) && graph_tensor_elements(r) == graph_tensor_elements(y);
}
