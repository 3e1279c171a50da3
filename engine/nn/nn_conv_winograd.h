/* Winograd convolution F(m x m, 3 x 3), m = 2 or 4 (cl/nn_conv_winograd.cl),
 * for 3x3 Convs of stride 1 and dilation 1, group 1, any pads, with bias,
 * fused activation and an optional residual input (inputs[3]: a tensor of
 * the output's shape added after the activation).
 *
 * Weights are transformed once at upload (U = G g G^T, in double) and
 * packed as [alpha^2][OCpad][C] with OCpad rounded up to the product's
 * toc ([alpha^2][OCpad/toc][C][toc]).  A launch runs three kernels: the
 * input transform into V, the batched product over the alpha^2 points into
 * M, and the output transform with the bias / activation / residual
 * epilogue.  V and M live in a caller's scratch buffer
 * (nn_conv_winograd_scratch_floats).
 *
 * Accuracy: F(2,3) is within a few ulps of the direct sum; F(4,3)'s
 * transforms have entries up to 8 (A) and 5 (B), so its error grows
 * about 10x (see tests/test_conv_algo.c for the bounds checked). */
#ifndef KILN_NN_CONV_WINOGRAD_H
#define KILN_NN_CONV_WINOGRAD_H

#include <stddef.h>

#include "graph.h"
#include "nn_conv_tiled.h"
#include "nn_ops.h"

/* Whether node n can run on the Winograd path: nn_conv_tiled_fits, a 3x3
 * kernel, strides and dilations 1, and an optional residual input of the
 * output's shape. */
int nn_conv_winograd_fits(const kiln_graph *g, const graph_node *n);

/* The register tile of the batched product for a conv of C -> OC under
 * tuning t (NULL or invalid: CPU defaults): the class's tile of the tiled
 * kernel with toc capped at OC. */
nn_conv_tile nn_conv_winograd_tile(const nn_conv_tuning *t, int64_t c, int64_t oc);

/* Floats of node n's transformed weights for m (2 or 4) and tuning t:
 * alpha^2 * OCpad * C. */
size_t nn_conv_winograd_packed_elements(const kiln_graph *g, const graph_node *n, int m,
                                        const nn_conv_tuning *t);

/* Transforms and packs node n's OIHW weights into dst
 * (nn_conv_winograd_packed_elements floats; padding channels zero). */
void nn_conv_winograd_pack(const kiln_graph *g, const graph_node *n, int m,
                           const nn_conv_tuning *t, float *dst);

/* Transforms node n's OIHW weights for m (2 or 4) into dst, packed as
 * [alpha^2][OCpad/toc][C][toc] with OCpad = OC rounded up to toc
 * (alpha^2 * OCpad * C floats; padding channels zero). */
void nn_conv_winograd_pack_toc(const kiln_graph *g, const graph_node *n, int m, int toc,
                               float *dst);

/* Floats of scratch (V then M) one launch of node n needs. */
size_t nn_conv_winograd_scratch_floats(const kiln_graph *g, const graph_node *n, int m,
                                       const nn_conv_tuning *t);

/* Enqueues node n with F(m, 3): weights at places[inputs[1]] packed by
 * nn_conv_winograd_pack with ctx->conv_tuning, V and M in ctx->scratch
 * (at least nn_conv_winograd_scratch_floats floats).  Does not wait.
 * KILN_E_INVAL naming the node when it does not fit or the scratch is
 * short. */
kiln_status nn_launch_conv_winograd(const nn_launch *ctx, const graph_node *n, int m);

#endif
