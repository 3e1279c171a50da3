/* Conv on the device: the algorithm of each node (see nn_conv_algo.h). */
#include <stdlib.h>
#include <string.h>

#include "nn_conv_algo.h"
#include "nn_conv_gemm.h"
#include "nn_conv_narrow.h"
#include "nn_conv_wino_fused.h"
#include "nn_conv_winograd.h"
#include "nn_ops.h"
#include "status.h"

static const char *const algo_names[NN_CONV_ALGOS] = {
    [NN_CONV_ALGO_DIRECT] = "direct", [NN_CONV_ALGO_TILED] = "tiled",
    [NN_CONV_ALGO_WINO2] = "winograd2", [NN_CONV_ALGO_WINO4] = "winograd4",
    [NN_CONV_ALGO_GEMM] = "gemm", [NN_CONV_ALGO_NARROW] = "narrow",
    [NN_CONV_ALGO_WINO4F] = "winograd4f",
};

/* The algorithm's name (see nn_conv_algo.h). */
const char *nn_conv_algo_name(int algo)
{
    return algo >= 0 && algo < NN_CONV_ALGOS ? algo_names[algo] : "?";
}

/* Parses an algorithm name or "auto" (see nn_conv_algo.h). */
int nn_conv_algo_parse(const char *name, int *algo)
{
    if (!name)
        return 0;
    if (strcmp(name, "auto") == 0) {
        *algo = NN_CONV_ALGO_AUTO;
        return 1;
    }
    for (int a = 0; a < NN_CONV_ALGOS; a++)
        if (strcmp(name, algo_names[a]) == 0) {
            *algo = a;
            return 1;
        }
    return 0;
}

/* KILN_CONV_ALGO (see nn_conv_algo.h). */
int nn_conv_algo_forced(void)
{
    const char *v = getenv("KILN_CONV_ALGO");
    int algo = NN_CONV_ALGO_AUTO;

    if (!v || !*v || !nn_conv_algo_parse(v, &algo))
        return NN_CONV_ALGO_AUTO;
    return algo;
}

/* Whether an algorithm runs node n (see nn_conv_algo.h). */
int nn_conv_algo_fits(const kiln_graph *g, const graph_node *n, int algo)
{
    if (!g || !n || n->op != GRAPH_OP_CONV)
        return 0;
    switch (algo) {
    case NN_CONV_ALGO_DIRECT:
        return 1;
    case NN_CONV_ALGO_TILED:
        return nn_conv_tiled_fits(g, n);
    case NN_CONV_ALGO_WINO2:
    case NN_CONV_ALGO_WINO4:
        return nn_conv_winograd_fits(g, n);
    case NN_CONV_ALGO_WINO4F:
        return nn_conv_wino_fused_fits(g, n);
    case NN_CONV_ALGO_GEMM:
        return nn_conv_gemm_fits(g, n);
    case NN_CONV_ALGO_NARROW:
        return nn_conv_narrow_fits(g, n);
    default:
        return 0;
    }
}

/* The node's shape as a tuning key (see nn_conv_algo.h). */
void nn_conv_node_shape(const kiln_graph *g, const graph_node *n, nn_conv_shape *s)
{
    const graph_tensor *x = &g->tensors[n->inputs[0]], *w = &g->tensors[n->inputs[1]];
    const graph_tensor *y = &g->tensors[n->outputs[0]];
    const graph_window *win = &n->attr.conv.win;

    *s = (nn_conv_shape){
        (int)x->dims[1], (int)x->dims[2], (int)x->dims[3], (int)y->dims[1], (int)y->dims[2],
        (int)y->dims[3], (int)w->dims[2], (int)w->dims[3], (int)win->strides[0],
        (int)win->strides[1], (int)win->dilations[0], (int)win->dilations[1],
        (int)win->pads[0], (int)win->pads[1], 0, 0
    };
}

/* The default for an untuned shape (see nn_conv_algo.h).
 *
 * CPUs: the fused Winograd F(4,3) kernel for 3x3 stride-1 convs of more
 * than 4 output channels, undilated on outputs of 16x16 or more, or
 * dilated by d with at least 32 input channels and phases (the output's
 * pixels d apart) of 8x8 or more; the tiled kernel otherwise.  Measured with kiln tune --model on U^2-Net-p
 * at 320 and IS-Net at 1024 under POCL on a 2-core AVX2 EPYC (shared
 * with other work, so ratios only), fused F(4,3) time / tiled time:
 * 0.3-0.55 from 20x20 to 320x320 on every channel count of U^2-Net-p
 * (16 -> 16 to 128 -> 64), 0.1-0.45 on IS-Net's from 16x16 to 512x512
 * (16 -> 16 to 1024 -> 512), 0.78 on 3 -> 64 at 320x320, but 0.9-1.5 at
 * 10x10 and 1.3-2 with one output channel (where the narrow kernel
 * wins).  Dilated, on IS-Net's and U^2-Net-p's shapes: 0.3-0.6 with
 * dilation 2 or 4 on phases of 8x8 to 16x16 and 64 to 512 input
 * channels, 0.7-1.0 with 32, but 1.2-3 with 16 input channels and
 * 2.5-10 on phases of 5x5 or smaller (dilation 4 at 16x16, 8 at 32x32),
 * where most of a work-group's 8 x 2 tiles are padding.  The three-kernel F(4,3) took 1.5-4x the fused time on nearly
 * every shape (it won 512 -> 512 and 512 -> 256 at 16x16, where a
 * work-group's 8 x 2 tiles are half padding), F(2,3) more, and CLBlast's
 * GEMM ran at 1-13 GFLOP/s (5-20x slower than tiled); they are left to
 * the tuning.
 *
 * GPUs: the fused kernel's per-work-item arrays (294 KiB) and few
 * work-items do not suit them; the three-kernel F(4,3) for 3x3 stride-1
 * convs of at least 32 output channels and either at least 64 input
 * channels on outputs of 16x16 or more, or at least 32 on 40x40 or more
 * (the rule measured on the CPU before the fused kernel existed), the
 * tiled kernel otherwise. */
int nn_conv_algo_default(const nn_conv_shape *s, int gpu)
{
    int wino = s->kh == 3 && s->kw == 3 && s->sy == 1 && s->sx == 1 && s->dy == 1 && s->dx == 1;
    long pixels = (long)s->oh * s->ow;

    if (!gpu) {
        int fused = s->kh == 3 && s->kw == 3 && s->sy == 1 && s->sx == 1 && s->dy == s->dx &&
                    s->dy >= 1 && s->dy <= NN_WINO_FUSED_MAX_DIL && s->oc > 4;
        int side_y = (s->oh + s->dy - 1) / s->dy, side_x = (s->ow + s->dx - 1) / s->dx;
        if (fused && s->dy == 1 && pixels >= 256)
            return NN_CONV_ALGO_WINO4F;
        if (fused && s->dy > 1 && side_y >= 8 && side_x >= 8 && s->c >= 32)
            return NN_CONV_ALGO_WINO4F;
        return NN_CONV_ALGO_TILED;
    }
    if (!wino)
        return NN_CONV_ALGO_TILED;
    if (s->oc >= 32 && ((s->c >= 64 && pixels >= 256) || (s->c >= 32 && pixels >= 1600)))
        return NN_CONV_ALGO_WINO4;
    return NN_CONV_ALGO_TILED;
}

/* Chooses node n's algorithm (see nn_conv_algo.h). */
int nn_conv_algo_choose(const kiln_graph *g, const graph_node *n, const nn_conv_tuning *t,
                        int forced, int gpu)
{
    nn_conv_shape s;
    int algo;

    if (forced >= 0 && forced < NN_CONV_ALGOS && nn_conv_algo_fits(g, n, forced))
        return forced;
    if (!nn_conv_tiled_fits(g, n))
        return NN_CONV_ALGO_DIRECT;
    nn_conv_node_shape(g, n, &s);
    algo = t ? nn_conv_tuning_lookup(t, &s) : NN_CONV_ALGO_AUTO;
    if (algo >= 0 && nn_conv_algo_fits(g, n, algo))
        return algo;
    if (nn_conv_narrow_fits(g, n))
        return NN_CONV_ALGO_NARROW;
    algo = nn_conv_algo_default(&s, gpu);
    return nn_conv_algo_fits(g, n, algo) ? algo : NN_CONV_ALGO_TILED;
}

/* Whether the algorithm packs its weights (see nn_conv_algo.h). */
int nn_conv_algo_packs(int algo)
{
    return algo == NN_CONV_ALGO_TILED || algo == NN_CONV_ALGO_WINO2 || algo == NN_CONV_ALGO_WINO4 ||
           algo == NN_CONV_ALGO_WINO4F;
}

/* Packed weight floats (see nn_conv_algo.h). */
size_t nn_conv_algo_packed_elements(const kiln_graph *g, const graph_node *n, int algo,
                                    const nn_conv_tuning *t)
{
    switch (algo) {
    case NN_CONV_ALGO_TILED:
        return nn_conv_tiled_packed_elements(g, n, t);
    case NN_CONV_ALGO_WINO2:
        return nn_conv_winograd_packed_elements(g, n, 2, t);
    case NN_CONV_ALGO_WINO4:
        return nn_conv_winograd_packed_elements(g, n, 4, t);
    case NN_CONV_ALGO_WINO4F:
        return nn_conv_wino_fused_packed_elements(g, n);
    default:
        return (size_t)graph_tensor_elements(&g->tensors[n->inputs[1]]);
    }
}

/* Packs the weights (see nn_conv_algo.h). */
void nn_conv_algo_pack(const kiln_graph *g, const graph_node *n, int algo,
                       const nn_conv_tuning *t, float *dst)
{
    const graph_tensor *w = &g->tensors[n->inputs[1]];

    switch (algo) {
    case NN_CONV_ALGO_TILED:
        nn_conv_tiled_pack(g, n, t, dst);
        break;
    case NN_CONV_ALGO_WINO2:
        nn_conv_winograd_pack(g, n, 2, t, dst);
        break;
    case NN_CONV_ALGO_WINO4:
        nn_conv_winograd_pack(g, n, 4, t, dst);
        break;
    case NN_CONV_ALGO_WINO4F:
        nn_conv_wino_fused_pack(g, n, dst);
        break;
    default:
        memcpy(dst, w->f32, (size_t)graph_tensor_elements(w) * sizeof(float));
        break;
    }
}

/* Scratch floats (see nn_conv_algo.h). */
size_t nn_conv_algo_scratch_floats(const kiln_graph *g, const graph_node *n, int algo,
                                   const nn_conv_tuning *t)
{
    switch (algo) {
    case NN_CONV_ALGO_WINO2:
        return nn_conv_winograd_scratch_floats(g, n, 2, t);
    case NN_CONV_ALGO_WINO4:
        return nn_conv_winograd_scratch_floats(g, n, 4, t);
    case NN_CONV_ALGO_GEMM:
        return nn_conv_gemm_scratch_floats(g, n);
    default:
        return 0;
    }
}

/* Enqueues node n with an algorithm (see nn_conv_algo.h). */
kiln_status nn_conv_algo_launch(const nn_launch *ctx, const graph_node *n, int algo)
{
    switch (algo) {
    case NN_CONV_ALGO_TILED:
        return nn_launch_conv_tiled(ctx, n);
    case NN_CONV_ALGO_WINO2:
        return nn_launch_conv_winograd(ctx, n, 2);
    case NN_CONV_ALGO_WINO4:
        return nn_launch_conv_winograd(ctx, n, 4);
    case NN_CONV_ALGO_WINO4F:
        return nn_launch_conv_wino_fused(ctx, n);
    case NN_CONV_ALGO_GEMM:
        return nn_launch_conv_gemm(ctx, n);
    case NN_CONV_ALGO_NARROW:
        return nn_launch_conv_narrow(ctx, n);
    default:
        return nn_launch_conv_direct(ctx, n);
    }
}

/* Enqueues Conv node n on the algorithm its weights were laid out for
 * (ctx->conv_algo; none: direct). */
kiln_status nn_launch_conv(const nn_launch *ctx, const graph_node *n)
{
    size_t index = (size_t)(n - ctx->g->nodes);
    int algo = NN_CONV_ALGO_DIRECT;

    if (ctx->conv_algo && index < ctx->g->nnodes)
        algo = ctx->conv_algo[index];
    return nn_conv_algo_launch(ctx, n, algo);
}
