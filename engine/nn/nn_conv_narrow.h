/* The few-output-channel convolution (cl/nn_conv_narrow.cl): a 2D Conv
 * of group 1 with at most NN_CONV_NARROW_MAX_OC output channels (the
 * side-output and fuse convs of segmentation networks), any stride,
 * dilation and pads, bias, fused activation and residual, on plain
 * OIHW weights.  Each work-item computes every output channel of a block
 * of output rows x one vector of pixels. */
#ifndef KILN_NN_CONV_NARROW_H
#define KILN_NN_CONV_NARROW_H

#include "graph.h"
#include "nn_ops.h"

#define NN_CONV_NARROW_MAX_OC 4
/* Output rows at most this wide: measured under POCL on a 2-core EPYC,
 * the kernel beats the tiled kernel's narrow tile on 64 -> 1 3x3 at 160
 * and 320 pixels square and loses at 512 and 1024 (where the tiled kernel
 * keeps those convs). */
#define NN_CONV_NARROW_MAX_WIDTH 384

/* Whether node n of a folded graph runs on the few-output-channel
 * kernel: a Conv the tiled kernel could run (nn_conv_tiled_fits) with at
 * most NN_CONV_NARROW_MAX_OC output channels and output rows at most
 * NN_CONV_NARROW_MAX_WIDTH wide.  The network executor (nn_model.c) asks
 * it before nn_conv_tiled_fits; its weights then stay plain OIHW. */
int nn_conv_narrow_fits(const kiln_graph *g, const graph_node *n);

/* Enqueues node n (nn_conv_narrow_fits must hold), one launch per batch
 * image: weights plain OIHW at places[inputs[1]], bias at
 * places[inputs[2]] and residual at places[inputs[3]] when present.
 * KILN_E_INVAL naming the node when it does not fit or a tensor has no
 * place.  Does not wait. */
kiln_status nn_launch_conv_narrow(const nn_launch *ctx, const graph_node *n);

#endif
