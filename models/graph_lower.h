/* Lowering a folded graph to the operators the engine runs. */
#ifndef KILN_GRAPH_LOWER_H
#define KILN_GRAPH_LOWER_H

#include "graph.h"

/* Rewrites what is left after folding and fusion into runtime operators:
 * a BatchNormalization that did not fold into a Conv becomes Mul and Add
 * by per-channel constants (shape [C, 1, ...]); Squeeze, Unsqueeze,
 * Flatten and Reshape on runtime data become a one-input Reshape (the
 * output dims say the shape); a Cast to the input's own type and an
 * Identity whose output is not a graph output are removed, their readers
 * reading the input instead.  Adds to *rewritten the nodes rewritten and
 * to *removed the nodes removed. */
kiln_status graph_lower(kiln_graph *g, size_t *rewritten, size_t *removed);

#endif
