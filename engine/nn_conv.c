/* Conv on the device: picks an implementation for each Conv node.
 *
 * Contract (nn_ops.h): enqueues node n, a Conv of ctx->g that
 * nn_op_supported accepts, reading its input, weights and optional bias
 * at ctx->places and writing its output there; does not wait; returns
 * KILN_OK or the error of the failing build/enqueue, naming the node.
 * This version always runs the direct kernel (nn_conv_direct.c) on plain
 * OIHW weights; the tiled kernel's dispatch (ctx->conv_tiled) replaces
 * it. */
#include "nn_ops.h"

/* Runs every Conv with the direct kernel. */
kiln_status nn_launch_conv(const nn_launch *ctx, const graph_node *n)
{
    return nn_launch_conv_direct(ctx, n);
}
