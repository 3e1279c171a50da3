/* ONNX node-test directories (model.onnx + test_data_set_0/input_N.pb,
 * output_N.pb, the layout of the ONNX project's node tests) for the
 * conformance tests: reading them, turning inputs into constants, and
 * comparing outputs at the ONNX runner's tolerance. */
#ifndef KILN_NODE_TEST_H
#define KILN_NODE_TEST_H

#include <stddef.h>
#include <stdint.h>

#include "graph.h"
#include "onnx.pb-c.h"
#include "onnx_load.h"

#define MAX_IO 16
#define NAME_LEN 1024

/* One node test's files. */
typedef struct node_test {
    char dir[NAME_LEN];
    const char *name;
    uint8_t *model_bytes;
    size_t model_size;
    Onnx__ModelProto *model;
    const char *input_names[MAX_IO];    /* runtime inputs, in order */
    size_t ninputs;
    Onnx__TensorProto *inputs[MAX_IO];  /* input_N.pb */
    graph_tensor outputs[MAX_IO];       /* output_N.pb */
    size_t noutputs;
} node_test;

/* Reads a whole file (NULL when absent). */
uint8_t *node_test_slurp(const char *path, size_t *size);

/* Releases what a node test holds. */
void node_test_clear(node_test *t);

/* Reads model.onnx and test_data_set_0's input files. */
int node_test_read(node_test *t, const char *base, const char *name);

/* Reads the reference outputs: 1 when every graph output has one, -1 when
 * one has a type kiln cannot hold, 0 when files are missing. */
int node_test_read_outputs(node_test *t);

/* Packs the model with inputs [first_const, ninputs) turned into
 * initializers.  The unpacked message is restored before returning. */
uint8_t *node_test_pack_constants(node_test *t, size_t first_const, size_t *size);

/* Load options giving every input below `count` its .pb file's shape. */
void node_test_shapes(const node_test *t, size_t count, onnx_input_shape *shapes,
                                onnx_load_options *opt);

/* Compares an output's type and dims with the reference. */
int node_test_shape_matches(const graph_tensor *got, const graph_tensor *want);

/* Compares values at the ONNX runner's tolerance. */
int node_test_values_match(const graph_tensor *got, const graph_tensor *want);

#endif
