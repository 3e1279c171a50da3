/* Helpers shared by the network operator launchers (nn_conv_direct.c,
 * nn_pool.c, nn_resize.c, nn_eltwise.c, nn_layout.c): the places of a
 * node's tensors, the fixed work-group size they launch with
 * (dev_kernel_launch, launch.h), plain copies, and shape packing for the
 * kernels' vector arguments. */
#ifndef KILN_NN_KERNEL_H
#define KILN_NN_KERNEL_H

#include <CL/cl.h>

#include "launch.h"
#include "nn_opcodes.h"
#include "nn_ops.h"

/* Work-items per work-group along dimension 0 of every network kernel
 * (1 along the others): a fixed size, so that a driver that compiles per
 * work-group size (POCL) compiles each kernel once for every shape. */
#define NN_LOCAL_SIZE 64

/* The work-group of every network kernel launch, { NN_LOCAL_SIZE, 1, 1 }:
 * the `local` argument of dev_kernel_launch for 1 to 3 dims. */
extern const size_t nn_local[3];

/* Label buffer size for graph_node_label. */
#define NN_LABEL_MAX 192

/* The place of tensor t, checking that it has a buffer and that its
 * elements end within 2^32 (the kernels' unsigned 32-bit indexing).
 * Returns KILN_OK and *out, or KILN_E_INVAL naming the node (`label`)
 * and the tensor. */
kiln_status nn_place_of(const nn_launch *ctx, int t, const char *label, nn_place *out);

/* The places of Conv node n's tensors: input x, output y, weights w and
 * the optional bias b and fused residual res ({NULL, 0} when absent),
 * each through nn_place_of, except weights packed for an algorithm
 * (`packed`: they may hold more elements than the tensor declares), of
 * which only the buffer is checked.  Returns KILN_OK, or KILN_E_INVAL
 * naming the node (`label`) and the tensor. */
kiln_status nn_conv_places_of(const nn_launch *ctx, const graph_node *n, const char *label,
                              int packed, nn_place *x, nn_place *w, nn_place *y, nn_place *b,
                              nn_place *res);

/* Whether tensor t is FLOAT16 (its results are rounded to half). */
int nn_half_out(const kiln_graph *g, int t);

/* Whether tensor t is half-stored on the device (graph_tensor.half_stored;
 * 0 for t < 0, an absent optional input). */
int nn_half_stored(const kiln_graph *g, int t);

/* The bit of storage role `role` (NN_R_*, cl/nn_opcodes.h) in a kernel's
 * NN_HALF build option when tensor t is half-stored, else 0. */
unsigned nn_half_bit(const kiln_graph *g, int t, int role);

/* The NN_HALF mask of Conv node n: its input (NN_R_X), weights (NN_R_W),
 * bias (NN_R_B), fused residual (NN_R_RES) and output (NN_R_Y). */
unsigned nn_conv_half_mask(const kiln_graph *g, const graph_node *n);

/* Build options of a network kernel: `extra` (NULL: none) preceded, when
 * `half_mask` is not 0, by "-D NN_HALF=<mask>" and, on a context that
 * computes in half (ctx->half_math), "-D NN_HALF_MATH=1".  Writes into
 * buf (len bytes) and returns the options for dev_kernel_launch: `extra`
 * itself when there is nothing to add (so float32 programs keep their
 * options, and their cache keys). */
const char *nn_build_options(const nn_launch *ctx, unsigned half_mask, const char *extra,
                             char *buf, size_t len);

/* Copies `count` contiguous elements of `elem_bytes` each (4: float32, 2:
 * half) from src to dst on the device queue.  Nothing is done when the
 * places are equal or count is 0; overlapping distinct ranges of one
 * buffer are KILN_E_INVAL (a planning bug). */
kiln_status nn_copy(kiln_device *dev, nn_place src, nn_place dst, size_t count,
                    size_t elem_bytes);

/* The kernels' activation code (NN_ACT_*, cl/nn_opcodes.h) of a fused
 * Conv activation. */
cl_int nn_act_code(graph_activation act);

/* Packs up to 8 ints into an int8 (unused lanes `fill`). */
cl_int8 nn_int8(const int64_t *v, int n, cl_int fill);

/* Packs up to 8 floats into a float8 (unused lanes `fill`). */
cl_float8 nn_float8(const float *v, int n, cl_float fill);

/* Merges the axes of an n-dim walk that the strides of every operand
 * allow (operand k's stride on axis i is strides[k][i]; axes i and i+1
 * merge when, for every operand, stride[i] == stride[i+1] * dims[i+1])
 * and drops axes of size 1.  Rewrites dims and strides in place and
 * returns the new rank (at least 1: a walk over one element is
 * [1] with strides 0). */
int nn_collapse(int rank, int64_t *dims, int nops, int64_t (*strides)[GRAPH_MAX_RANK]);

#endif
