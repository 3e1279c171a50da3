/* Loading an ONNX model file into kiln's graph IR.
 *
 * The loader parses the protobuf (protobuf-c, generated from the system's
 * onnx.proto), decodes initializers and Constant nodes into constant
 * tensors, parses every node's operator and attributes (opsets 7 to 19,
 * including the older attribute forms), resolves names, orders the nodes
 * topologically and fixes the runtime inputs' shapes.  Everything it
 * refuses (an unsupported operator or attribute, a corrupt or truncated
 * file, external data, initializer data that does not match its dims,
 * absurd dims, a cycle, a missing tensor) is an error with a message that
 * names the node or tensor; nothing is leaked on any path.
 *
 * Shapes of computed tensors are not known after loading: graph_fold
 * infers them for the fixed input shape and folds constants. */
#ifndef KILN_ONNX_LOAD_H
#define KILN_ONNX_LOAD_H

#include <stddef.h>

#include "graph.h"

/* The shape of one runtime input. */
typedef struct onnx_input_shape {
    const char *name;               /* NULL: the i-th runtime input */
    int rank;
    int64_t dims[GRAPH_MAX_RANK];
} onnx_input_shape;

/* Load options: input shapes that fix symbolic dims (e.g. 1x3x320x320).
 * An input without an entry keeps the model's dims, which must then all
 * be fixed.  A given shape must agree with every fixed dim the model
 * declares. */
typedef struct onnx_load_options {
    const onnx_input_shape *inputs;
    size_t ninputs;
} onnx_load_options;

/* Loads the model at `path`.  opt may be NULL.  Returns KILN_OK and a new
 * graph in *out (release with graph_free), or an error with *out NULL:
 * KILN_E_IO (unreadable file), KILN_E_FORMAT (corrupt, unsupported or
 * inconsistent model), KILN_E_LIMIT (absurd sizes), KILN_E_INVAL (options
 * that do not fit the model), KILN_E_HOSTMEM. */
kiln_status onnx_load(const char *path, const onnx_load_options *opt, kiln_graph **out);

/* As onnx_load, from `size` bytes in memory (not kept). */
kiln_status onnx_load_buffer(const void *data, size_t size, const onnx_load_options *opt,
                             kiln_graph **out);

/* Reads a serialized TensorProto file (an ONNX test's input_0.pb) into
 * *out: name, type, shape and data.  On failure *out is cleared.  Release
 * with graph_tensor_clear. */
kiln_status onnx_tensor_load(const char *path, graph_tensor *out);

#endif
