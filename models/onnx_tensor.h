/* Decoding ONNX TensorProto messages (initializers, Constant values, test
 * data files) into graph tensors.  Internal to the ONNX loader and its
 * tests. */
#ifndef KILN_ONNX_TENSOR_H
#define KILN_ONNX_TENSOR_H

#include "graph.h"
#include "onnx.pb-c.h"

/* Maps an ONNX TensorProto data type to kiln's.  An unsupported type is
 * KILN_E_FORMAT with a message naming the type and `what`. */
kiln_status onnx_dtype_map(int32_t onnx_type, const char *what, graph_dtype *out);

/* Fills t's type, shape and constant data from tp and makes it a
 * constant; t's name is left alone.  `what` names the tensor in
 * messages.  Refuses external data, segments, absurd shapes and data whose
 * length does not match the dims.  On failure t holds no data. */
kiln_status onnx_tensor_decode(const Onnx__TensorProto *tp, const char *what,
                               graph_tensor *t);

/* As onnx_tensor_decode, but float32 raw data is adopted without a copy
 * where the host's layout allows (little-endian, float-aligned): t->f32
 * becomes tp->raw_data.data, and tp's raw data is cleared.  tp must have
 * been unpacked with an allocator whose blocks kiln_free releases (the
 * loader's).  Other data is decoded into new storage, tp left alone. */
kiln_status onnx_tensor_decode_take(Onnx__TensorProto *tp, const char *what, graph_tensor *t);

#endif
