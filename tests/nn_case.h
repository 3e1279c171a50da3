/* One-model cases for the network operator tests (tests/test_nn_ops.c):
 * a model built with tests/onnx_build.h runs through nn_op_launch and
 * through the host reference (graph_eval_node), and the outputs are
 * compared.
 *
 * nn_case_run loads the model at its fixed input shape and folds it for
 * the engine (runtime_only).  On the device, one pool buffer is the
 * arena: every runtime tensor at its own element offset (none at 0, a
 * 16-element gap after each, everything else filled with a sentinel); a
 * second is the weight buffer holding every float constant at an
 * offset.  Every node runs through nn_op_launch.  On the host, the
 * runtime inputs become constants with the same values and every node is
 * evaluated by graph_eval_node.  The device output must match within
 * 1e-5 * (1 + |ref|), and the gap after it must still hold the sentinel;
 * a mismatch is a failed check (testutil.h) naming the case. */
#ifndef KILN_TEST_NN_CASE_H
#define KILN_TEST_NN_CASE_H

#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "onnx_build.h"

/* How one case places and fills its tensors. */
typedef struct nn_case_opts {
    int inplace_concat;     /* even-numbered Concat inputs inside the output */
    int wide;               /* inputs span many magnitudes (Cast) */
    size_t expect_nodes;    /* runtime nodes after folding; 0: any */
} nn_case_opts;

/* Adds a FLOAT graph input. */
void nn_case_input(onnx_build *b, const char *name, int rank, const int64_t *dims);

/* Adds a FLOAT initializer of uniform values in [-1, 1) (test_rng). */
void nn_case_random_init(onnx_build *b, const char *name, int rank, const int64_t *dims);

/* Adds a 1-D FLOAT initializer. */
void nn_case_floats(onnx_build *b, const char *name, int64_t n, const float *v);

/* Adds a 1-D INT64 initializer. */
void nn_case_ints(onnx_build *b, const char *name, int64_t n, const int64_t *v);

/* Runs the model's first output on the device and on the host and
 * compares them (o NULL: defaults).  Frees the builder. */
void nn_case_run(kiln_device *dev, onnx_build *b, const char *what, const nn_case_opts *o);

/* How many cases have been compared. */
int nn_case_compared(void);

#endif
