/* Parsing one ONNX NodeProto: its operator, its typed attributes, and how
 * its inputs map onto the graph node's input slots.  Internal to the ONNX
 * loader. */
#ifndef KILN_ONNX_NODE_H
#define KILN_ONNX_NODE_H

#include "graph.h"
#include "onnx.pb-c.h"

/* The most input slots a kiln node has for a fixed-arity operator
 * (variadic Concat takes as many as the ONNX node has). */
#define ONNX_NODE_MAX_SLOTS 5

/* What onnx_node_parse found: the operator and attributes, the number of
 * input slots of the graph node, the slot of each ONNX input (slot[i] for
 * ONNX input i, or -1 when it has none: Concat uses slot i) and the number
 * of outputs kept. */
typedef struct onnx_node_info {
    graph_op op;
    graph_attrs attr;
    size_t nslots;
    int slot[ONNX_NODE_MAX_SLOTS];
    size_t noutputs;
} onnx_node_info;

/* Whether the node is an ONNX Constant (loaded as a constant tensor by
 * onnx_constant_value rather than as a node). */
int onnx_node_is_constant(const Onnx__NodeProto *np);

/* Parses node `np` (the index-th of its graph) at default-domain opset
 * `opset` into *info.  An unknown operator or domain, an unknown
 * attribute, an attribute of the wrong type or with a value kiln does not
 * support, or a wrong number of inputs or outputs is KILN_E_FORMAT with a
 * message naming the node (its name or index), the operator and the
 * attribute. */
kiln_status onnx_node_parse(const Onnx__NodeProto *np, size_t index, int64_t opset,
                            onnx_node_info *info);

/* Decodes the value of Constant node `np` into t (type, shape, data; the
 * name is left alone). */
kiln_status onnx_constant_value(const Onnx__NodeProto *np, size_t index, graph_tensor *t);

#endif
