/* Convolution as a GEMM with CLBlast (cl/nn_conv_gemm.cl): a 1x1 conv of
 * stride 1 without pads is W[OC][C] x X[C][H*W] straight into the output;
 * any other group-1 2D conv first unrolls its input into a column matrix
 * (im2col, [C*KH*KW][OH*OW], in the caller's scratch).  CLBlast's
 * temporary buffer comes from the pool for the launch
 * (CLBlastSGemmTempBufferSize).  An epilogue kernel then adds the bias,
 * applies the activation, adds the optional residual (inputs[3]) and
 * rounds a FLOAT16 output.  Weights stay plain OIHW. */
#ifndef KILN_NN_CONV_GEMM_H
#define KILN_NN_CONV_GEMM_H

#include <stddef.h>

#include "graph.h"
#include "nn_ops.h"

/* Whether node n can run as a GEMM: nn_conv_tiled_fits and an optional
 * residual input of the output's shape. */
int nn_conv_gemm_fits(const kiln_graph *g, const graph_node *n);

/* Floats of scratch node n needs: 0 for a plain 1x1, else the column
 * matrix's C*KH*KW*OH*OW. */
size_t nn_conv_gemm_scratch_floats(const kiln_graph *g, const graph_node *n);

/* Enqueues node n (plain OIHW weights at places[inputs[1]]; the column
 * matrix, when needed, in ctx->scratch).  Does not wait.  A CLBlast
 * failure is KILN_E_CL naming the node and CLBlast's status. */
kiln_status nn_launch_conv_gemm(const nn_launch *ctx, const graph_node *n);

#endif
