/* Tensor lifetimes over a folded graph's schedule, for arena planning.
 *
 * The schedule is the node order (topological): step s runs node s.  A
 * runtime input is live from step 0, a node's output from its producer's
 * step; each stays live until its last reader's step, a graph output
 * until step nnodes (after the last node, when it is read back).
 * Constants are not planned (they are weights, uploaded once).
 *
 * In-place concatenation: an input of a Concat whose output is
 * contiguous per input (every dim before the axis is 1, as for NCHW with
 * N = 1 along C) is written by its producer straight into its slice of the
 * Concat's output when the Concat is its only reader (once), it is
 * produced by a node (not a runtime input), and it is not a graph output.
 * Its `parent` is then the Concat's output and `parent_offset` its byte
 * offset there; the engine's Concat skips the copy for such inputs.
 *
 * GRAPH_INPLACE_CONCAT_SHARED also places an input that other nodes read
 * as well (a U-Net skip tensor, read by a pool and by the decoder's
 * Concat), at its first Concat only: the Concat's output then lives from
 * that input's production on (more arena bytes), and the Concat copies
 * nothing. */
#ifndef KILN_GRAPH_LIFETIME_H
#define KILN_GRAPH_LIFETIME_H

#include <stddef.h>

#include "graph.h"

typedef struct graph_lifetime {
    int planned;                    /* 1: a runtime tensor that needs arena bytes */
    size_t bytes;
    size_t first, last;             /* schedule steps, inclusive */
    int parent;                     /* tensor it is written inside, or -1 */
    size_t parent_offset;           /* byte offset inside the parent */
} graph_lifetime;

/* The in-place rules (graph_lifetimes' inplace_concat). */
enum {
    GRAPH_INPLACE_CONCAT_NONE = 0,
    GRAPH_INPLACE_CONCAT_SINGLE = 1,    /* inputs the Concat alone reads */
    GRAPH_INPLACE_CONCAT_SHARED = 2     /* and inputs other nodes read too */
};

/* Computes one graph_lifetime per tensor (g->ntensors of them, in a new
 * array in *out; kiln_free it).  inplace_concat: GRAPH_INPLACE_CONCAT_*
 * (any other nonzero value: SINGLE). */
kiln_status graph_lifetimes(const kiln_graph *g, int inplace_concat, graph_lifetime **out);

#endif
