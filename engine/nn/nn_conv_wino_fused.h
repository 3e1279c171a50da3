/* The fused Winograd convolution F(4 x 4, 3 x 3) (kernel wino_fused of
 * cl/nn_conv_winograd.cl): the input transform, the product over the 36
 * points and the output transform of a block of tiles in one work-group,
 * the transformed tiles and products in the work-item's private arrays
 * (on a CPU: cache), so that nothing between the input and the output
 * passes over global memory and no scratch buffer is needed.  Runs 3x3
 * convs of stride 1 and of the same dilation d <= NN_WINO_FUSED_MAX_DIL
 * along both axes (a dilated conv as d x d undilated ones over the
 * phases of its input and output), any pads, bias, fused activation,
 * residual, FLOAT16 output rounding.
 *
 * Weights are transformed at upload (nn_conv_winograd_pack_toc with the
 * block's toc) into [alpha^2][OCpad/toc][C][toc]. */
#ifndef KILN_NN_CONV_WINO_FUSED_H
#define KILN_NN_CONV_WINO_FUSED_H

#include <stddef.h>

#include "graph.h"
#include "nn_ops.h"

/* The largest dilation the fused kernel runs (one program per dilation). */
#define NN_WINO_FUSED_MAX_DIL 16

/* Whether node n runs on the fused kernel: nn_conv_tiled_fits, a 3x3
 * kernel, strides 1, equal dilations of at most NN_WINO_FUSED_MAX_DIL,
 * and an optional residual input of the output's shape. */
int nn_conv_wino_fused_fits(const kiln_graph *g, const graph_node *n);

/* The blocking of one fused launch: nt tiles of a row per vector, nv
 * tile rows, toc output channels x nv vectors in registers per product
 * step, ck input channels transformed per chunk, ocb output channels per
 * work-group (a multiple of toc). */
typedef struct nn_wino_fused_block {
    int nt, nv, toc, ck, ocb;
} nn_wino_fused_block;

/* The blocking for a conv of OC output channels (ocb depends on OC). */
nn_wino_fused_block nn_conv_wino_fused_block(int64_t oc);

/* Floats of node n's transformed weights: 36 * OCpad * C with OCpad =
 * OC rounded up to the block's toc. */
size_t nn_conv_wino_fused_packed_elements(const kiln_graph *g, const graph_node *n);

/* Transforms and packs node n's OIHW weights into dst
 * (nn_conv_wino_fused_packed_elements floats). */
void nn_conv_wino_fused_pack(const kiln_graph *g, const graph_node *n, float *dst);

/* Enqueues node n (nn_conv_wino_fused_fits must hold) with F(4, 3), one
 * launch per batch image: weights at places[inputs[1]] packed by
 * nn_conv_wino_fused_pack, bias and residual plain when present.
 * KILN_E_INVAL naming the node when it does not fit or a tensor has no
 * place.  Does not wait. */
kiln_status nn_launch_conv_wino_fused(const nn_launch *ctx, const graph_node *n);

#endif
