/* The fused Winograd convolution (see nn_conv_wino_fused.h). */
#include <stdio.h>

#include "nn_conv_algo.h"
#include "nn_conv_wino_fused.h"
#include "nn_conv_winograd.h"
#include "nn_kernel.h"
#include "status.h"

#define WINO_SOURCE "nn_conv_winograd.cl"
#define WINO_M 4   /* F(4,3) */

/* Output channels of one work-group at most: its V and M (36 x 32 x 16
 * and 36 x 96 x 16 floats, 294 KiB) stay within a core's L2. */
#define FUSED_OCB_MAX 96

/* The blocking (see nn_conv_wino_fused.h): 8 tiles a vector (one AVX2
 * register) x 2 tile rows, 6 output channels x 2 vectors in registers
 * (12 accumulators of the 16 registers), chunks of 32 input channels,
 * and the output channels (rounded up to 6) in as few work-groups of
 * equal size as keep each at most FUSED_OCB_MAX, so that the input
 * transform runs once for the 64 output channels of most U^2-Net convs.
 * Measured under POCL on the 2-core EPYC with kiln tune --model (noisy,
 * shared machine; fused time / tiled time): the register blocking beat
 * 8x2 tiles with 4 channels, 16x1 with 6 and 8x1 with 12 on 128 -> 64 at
 * 160x160, 512 -> 512 at 32x32 and 64 -> 16 at 160x160; 48 output
 * channels a work-group gave 0.27-0.28 / 0.14-0.21 / 0.19-0.25 on 128 ->
 * 64 at 160, 512 -> 512 at 32 and 32 -> 64 at 160, at most 96 (as
 * here) 0.21 / 0.16-0.25 / 0.18-0.23, at most 192 within the noise of
 * 96 with twice the memory. */
nn_wino_fused_block nn_conv_wino_fused_block(int64_t oc)
{
    nn_wino_fused_block k = { 8, 2, 6, 32, FUSED_OCB_MAX };
    int64_t ocpad, groups, per;

    if (oc < 1)
        return k;
    ocpad = (oc + k.toc - 1) / k.toc * k.toc;
    groups = (ocpad + FUSED_OCB_MAX - 1) / FUSED_OCB_MAX;
    per = (ocpad + groups - 1) / groups;
    k.ocb = (int)((per + k.toc - 1) / k.toc * k.toc);
    return k;
}

/* Checks the conv and its optional residual (see nn_conv_wino_fused.h). */
int nn_conv_wino_fused_fits(const kiln_graph *g, const graph_node *n)
{
    const graph_window *win;

    if (!nn_conv_tiled_fits(g, n))
        return 0;
    win = &n->attr.conv.win;
    if (win->kernel[0] != 3 || win->kernel[1] != 3 || win->strides[0] != 1 ||
        win->strides[1] != 1 || win->dilations[0] != win->dilations[1] ||
        win->dilations[0] > NN_WINO_FUSED_MAX_DIL)
        return 0;
    return nn_conv_residual_fits(g, n);
}

/* Transformed weight floats (see nn_conv_wino_fused.h). */
size_t nn_conv_wino_fused_packed_elements(const kiln_graph *g, const graph_node *n)
{
    const graph_tensor *w = &g->tensors[n->inputs[1]];
    nn_wino_fused_block k = nn_conv_wino_fused_block(w->dims[0]);
    size_t toc = (size_t)k.toc, a = WINO_M + 2;
    size_t ocpad = ((size_t)w->dims[0] + toc - 1) / toc * toc;

    return a * a * ocpad * (size_t)w->dims[1];
}

/* Packs the weights (see nn_conv_wino_fused.h). */
void nn_conv_wino_fused_pack(const kiln_graph *g, const graph_node *n, float *dst)
{
    const graph_tensor *w = &g->tensors[n->inputs[1]];
    nn_wino_fused_block k = nn_conv_wino_fused_block(w->dims[0]);

    nn_conv_winograd_pack_toc(g, n, WINO_M, k.toc, dst);
}

/* Enqueues node n, one launch per batch image (see nn_conv_wino_fused.h). */
kiln_status nn_launch_conv_wino_fused(const nn_launch *ctx, const graph_node *n)
{
    const int m = WINO_M;
    const kiln_graph *g = ctx->g;
    const graph_tensor *x, *w, *y;
    nn_place px, pw, py, pb, pres;
    nn_wino_fused_block k;
    char label[NN_LABEL_MAX], tile[160], buf[256];
    const char *options;
    int dil;
    uint64_t in_plane, out_plane;
    kiln_status st;

    graph_node_label(n, label, sizeof(label));
    if (!nn_conv_wino_fused_fits(g, n))
        return kiln_fail(KILN_E_INVAL, "%s: not a conv the fused Winograd F(4,3) kernel runs",
                         label);
    x = &g->tensors[n->inputs[0]];
    w = &g->tensors[n->inputs[1]];
    y = &g->tensors[n->outputs[0]];
    st = nn_conv_places_of(ctx, n, label, 1, &px, &pw, &py, &pb, &pres);
    if (st != KILN_OK)
        return st;
    in_plane = (uint64_t)x->dims[1] * (uint64_t)x->dims[2] * (uint64_t)x->dims[3];
    out_plane = (uint64_t)y->dims[1] * (uint64_t)y->dims[2] * (uint64_t)y->dims[3];
    if (px.offset + in_plane * (uint64_t)x->dims[0] > UINT32_MAX ||
        py.offset + out_plane * (uint64_t)x->dims[0] > UINT32_MAX ||
        pres.offset + out_plane * (uint64_t)x->dims[0] > UINT32_MAX)
        return kiln_fail(KILN_E_LIMIT, "%s: tensor offsets past 2^32 floats", label);
    k = nn_conv_wino_fused_block(w->dims[0]);
    dil = (int)n->attr.conv.win.dilations[0];
    snprintf(tile, sizeof(tile),
             "-D WM=%d -D NT=%d -D FNV=%d -D FTOC=%d -D FCK=%d -D FOCB=%d -D DIL=%d", m, k.nt,
             k.nv, k.toc, k.ck, k.ocb, dil);
    options = nn_build_options(ctx, nn_conv_half_mask(g, n), tile, buf, sizeof(buf));
    {
        /* tiles of the largest phase (the whole output when dil is 1) */
        const size_t d = (size_t)dil;
        const size_t tiles_x = (((size_t)y->dims[3] + d - 1) / d + (size_t)m - 1) / (size_t)m;
        const size_t tiles_y = (((size_t)y->dims[2] + d - 1) / d + (size_t)m - 1) / (size_t)m;
        const size_t toc = (size_t)k.toc;
        size_t global[3] = { (tiles_x + (size_t)k.nt - 1) / (size_t)k.nt,
                             (tiles_y + (size_t)k.nv - 1) / (size_t)k.nv,
                             ((size_t)w->dims[0] + (size_t)k.ocb - 1) / (size_t)k.ocb * d * d };
        const size_t local[3] = { 1, 1, 1 };
        cl_int ci = (cl_int)x->dims[1], hi = (cl_int)x->dims[2], wi = (cl_int)x->dims[3];
        cl_int pyi = (cl_int)n->attr.conv.win.pads[0], pxi = (cl_int)n->attr.conv.win.pads[1];
        cl_int oci = (cl_int)w->dims[0], ocp = (cl_int)(((size_t)oci + toc - 1) / toc * toc);
        cl_int ohi = (cl_int)y->dims[2], owi = (cl_int)y->dims[3];
        cl_int acti = nn_act_code(n->attr.conv.activation);
        cl_int halfi = y->dtype == GRAPH_DT_FLOAT16;
        cl_int has_bias = pb.mem != NULL, has_res = pres.mem != NULL;
        cl_mem bmem = pb.mem ? pb.mem : pw.mem;

        for (int64_t bi = 0; bi < x->dims[0] && st == KILN_OK; bi++) {
            cl_uint xo = (cl_uint)(px.offset + in_plane * (uint64_t)bi);
            cl_uint yo = (cl_uint)(py.offset + out_plane * (uint64_t)bi);
            cl_uint ro = pres.mem ? (cl_uint)(pres.offset + out_plane * (uint64_t)bi) : 0;
            cl_mem rmem = pres.mem ? pres.mem : py.mem;
            const dev_kernel_arg args[] = {
                DEV_ARG(px.mem), DEV_ARG(xo), DEV_ARG(pw.mem), DEV_ARG(pw.offset),
                DEV_ARG(bmem), DEV_ARG(pb.offset), DEV_ARG(has_bias), DEV_ARG(rmem),
                DEV_ARG(ro), DEV_ARG(has_res), DEV_ARG(py.mem), DEV_ARG(yo), DEV_ARG(ci),
                DEV_ARG(hi), DEV_ARG(wi), DEV_ARG(pyi), DEV_ARG(pxi), DEV_ARG(oci),
                DEV_ARG(ocp), DEV_ARG(ohi), DEV_ARG(owi), DEV_ARG(acti), DEV_ARG(halfi)
            };
            st = dev_kernel_launch(ctx->dev, WINO_SOURCE, options, "wino_fused", args,
                                   DEV_NARGS(args), 3, global, local);
        }
    }
    if (st != KILN_OK)
        return kiln_fail_context(st, "%s", label);
    return KILN_OK;
}
