/* Conv on the device: the implementation each Conv node was planned for.
 *
 * The network executor (nn_model.c) decides per node when it uploads the
 * weights: a Conv that nn_conv_tiled_fits gets its weights packed for the
 * register-tiled kernel and ctx->conv_tiled[node] set; every other Conv
 * (groups, 1D/3D) keeps plain OIHW weights and runs the direct kernel.
 * The weight layout and the kernel must agree, so the choice is read
 * from ctx->conv_tiled, never re-derived here. */
#include "nn_conv_tiled.h"
#include "nn_ops.h"

/* Enqueues Conv node n on the kernel its weights were laid out for. */
kiln_status nn_launch_conv(const nn_launch *ctx, const graph_node *n)
{
    size_t index = (size_t)(n - ctx->g->nodes);

    if (ctx->conv_tiled && index < ctx->g->nnodes && ctx->conv_tiled[index])
        return nn_launch_conv_tiled(ctx, n);
    return nn_launch_conv_direct(ctx, n);
}
