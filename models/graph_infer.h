/* Shape and type inference for one node at the fixed input shape. */
#ifndef KILN_GRAPH_INFER_H
#define KILN_GRAPH_INFER_H

#include "graph.h"

/* Sets the element type, rank and dims of every output of node `node`
 * from its inputs (whose shapes must be known), following the ONNX
 * operator specs, and resolves the attributes that depend on the shapes:
 * explicit pads for auto_pad, pool output sizes with ceil_mode, Resize
 * scales and roi, Slice starts and steps, Clip bounds, Squeeze and
 * Unsqueeze axes.  Inputs whose values decide an output shape (Reshape's
 * shape, Slice's starts, Resize's sizes, ...) must be constant.  An
 * inconsistent node is KILN_E_FORMAT (KILN_E_LIMIT for absurd sizes) with
 * a message naming the node. */
kiln_status graph_infer_node(kiln_graph *g, int node);

#endif
