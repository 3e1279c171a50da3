/* Building small ONNX models in tests with protobuf-c's generated types:
 * inputs, initializers, nodes with attributes, outputs; then packed to
 * bytes or a file.  The builder owns every message and string it makes
 * and frees them all in onnx_build_free.  Out of memory exits the test
 * (status 1): builders are test scaffolding, not code under test. */
#ifndef KILN_ONNX_BUILD_H
#define KILN_ONNX_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "onnx.pb-c.h"

typedef struct onnx_build onnx_build;

/* A model with one default-domain opset import and an empty graph. */
onnx_build *onnx_build_new(int64_t opset);

/* Frees the builder and everything it made. */
void onnx_build_free(onnx_build *b);

/* The model message (to edit fields the helpers do not cover). */
Onnx__ModelProto *onnx_build_model(onnx_build *b);

/* Adds a graph input of ONNX element type `elem_type`; a negative dim is
 * symbolic (named "N"). */
void onnx_build_input(onnx_build *b, const char *name, int32_t elem_type, int rank,
                      const int64_t *dims);

/* Adds a graph output. */
void onnx_build_output(onnx_build *b, const char *name);

/* Adds a FLOAT initializer stored in raw_data (n = product of dims). */
Onnx__TensorProto *onnx_build_init_f32(onnx_build *b, const char *name, int rank,
                                       const int64_t *dims, const float *data);

/* Adds an INT64 initializer stored in int64_data. */
Onnx__TensorProto *onnx_build_init_i64(onnx_build *b, const char *name, int rank,
                                       const int64_t *dims, const int64_t *data);

/* Adds a node; inputs and outputs are NULL-terminated name lists ("" for
 * an omitted optional input). */
Onnx__NodeProto *onnx_build_node(onnx_build *b, const char *op, const char *name,
                                 const char *const *inputs, const char *const *outputs);

/* Attribute helpers for a node made by onnx_build_node. */
void onnx_build_attr_int(onnx_build *b, Onnx__NodeProto *n, const char *name, int64_t v);
void onnx_build_attr_float(onnx_build *b, Onnx__NodeProto *n, const char *name, float v);
void onnx_build_attr_ints(onnx_build *b, Onnx__NodeProto *n, const char *name, size_t count,
                          const int64_t *v);
void onnx_build_attr_string(onnx_build *b, Onnx__NodeProto *n, const char *name,
                            const char *v);
void onnx_build_attr_floats(onnx_build *b, Onnx__NodeProto *n, const char *name, size_t count,
                            const float *v);

/* Builds a small U-Net-like model at opset 11 with the patterns kiln
 * folds and fuses: input "x" 1x3x8x8; Conv (pads 1) -> BatchNormalization
 * -> Relu ("r1", 1x4x8x8) -> MaxPool (2x2, stride 2, ceil_mode) -> Resize
 * (linear, half_pixel) to sizes computed by Shape -> Gather -> Cast ->
 * Concat with a Constant -> Concat with r1 -> Conv 1x1 -> Sigmoid ("y",
 * 1x2x8x8).  Outputs: "y", then "pooled" (the MaxPool output). */
void onnx_build_mini_unet(onnx_build *b);

/* Packs the model into a new buffer (free it); its size goes to *size. */
uint8_t *onnx_build_pack(onnx_build *b, size_t *size);

/* Packs the model into the file at `path`. */
void onnx_build_write(onnx_build *b, const char *path);

/* Writes `size` bytes to `path` (exits 1 on failure). */
void onnx_build_write_bytes(const char *path, const uint8_t *data, size_t size);

#endif
