/* Host evaluation of operators on constant inputs: the kernels of
 * constant folding (Conv, pools and Resize in graph_eval_spatial.c).  Arithmetic follows ONNX: float32 math for float
 * types (float16 results rounded to half precision), wrapping two's
 * complement for integer types, integer division truncating toward
 * zero. */
#ifndef KILN_GRAPH_EVAL_H
#define KILN_GRAPH_EVAL_H

#include "graph.h"

/* Whether the host can evaluate `op` (every operator kiln loads). */
int graph_eval_supports(graph_op op);

/* The work of evaluating node n on the host, in multiply-adds or element
 * copies (its output shape must be inferred): graph_fold leaves runtime
 * nodes that cost more than GRAPH_FOLD_MAX_WORK to the engine. */
int64_t graph_eval_cost(const kiln_graph *g, const graph_node *n);

/* Computes the data of node `node`'s output, whose shape graph_infer_node
 * has set, from its inputs: all present inputs must be constant (Shape
 * only needs its input's shape).  Makes the output a constant.  A bad
 * value (an integer division by zero, a Gather index out of range) is
 * KILN_E_FORMAT naming the node; KILN_E_HOSTMEM when out of memory. */
kiln_status graph_eval_node(kiln_graph *g, int node);

#endif
