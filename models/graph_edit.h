/* Editing primitives over a graph: use counts, node insertion, removal
 * of nodes not needed for the outputs, and compaction.  The passes of
 * graph_fold are written with these. */
#ifndef KILN_GRAPH_EDIT_H
#define KILN_GRAPH_EDIT_H

#include "graph.h"

/* Fills uses[t] (g->ntensors entries) with the number of times live nodes
 * (op != GRAPH_OP_NONE) read tensor t. */
void graph_uses_count(const kiln_graph *g, size_t *uses);

/* Whether tensor t is a graph output. */
int graph_is_output(const kiln_graph *g, int t);

/* Sets each tensor's producer from the live nodes (-1 for the others). */
void graph_producers_update(kiln_graph *g);

/* Fuses node `follower` into node `into`, which reads its output 0: `into`
 * takes over follower's output 0 (and becomes its producer) and follower
 * is removed (GRAPH_OP_NONE).  The caller has checked that nothing else
 * reads `into`'s old output. */
void graph_node_absorb(kiln_graph *g, int into, size_t follower);

/* Inserts a node at position `pos` (0..g->nnodes), shifting later nodes
 * back, as graph_add_node does otherwise; its index goes to *index
 * (== pos).  Producers are updated. */
kiln_status graph_node_insert(kiln_graph *g, size_t pos, graph_op op, const char *name,
                              size_t ninputs, size_t noutputs, int *index);

/* Marks as removed (GRAPH_OP_NONE) every node none of whose outputs is
 * needed, transitively, for a graph output; adds how many to *removed. */
kiln_status graph_prune(kiln_graph *g, size_t *removed);

/* Drops removed nodes and the tensors that no live node, runtime input or
 * graph output refers to, renumbering what stays (order is kept). */
kiln_status graph_compact(kiln_graph *g);

#endif
