/* The few-output-channel convolution (see nn_conv_narrow.h). */
#include <stdio.h>

#include "nn_conv_narrow.h"
#include "nn_conv_tiled.h"
#include "nn_kernel.h"
#include "status.h"

#define NARROW_SOURCE "nn_conv_narrow.cl"
#define NARROW_KERNEL "conv_narrow"

/* Checks the node (see nn_conv_narrow.h). */
int nn_conv_narrow_fits(const kiln_graph *g, const graph_node *n)
{
    if (!nn_conv_tiled_fits(g, n))
        return 0;
    const graph_tensor *y = &g->tensors[n->outputs[0]];
    return y->dims[1] <= NN_CONV_NARROW_MAX_OC && y->dims[3] <= NN_CONV_NARROW_MAX_WIDTH;
}

/* The launch shape of a conv with `oc` outputs and rows `out_width`
 * wide: vector width and rows per work-item, and work-items per
 * work-group.  CPUs: a 16-wide vector over 8 rows for one output
 * channel, 4 rows for two, 2 for three or four (the accumulators stay in
 * registers), one work-item per work-group (the
 * fastest of a sweep under POCL on a 2-core EPYC); GPUs: 4-wide over 2
 * rows, 64 work-items per group. */
static void narrow_tile(const kiln_device *dev, int oc, int out_width, int *vw, int *ry,
                        size_t *lx)
{
    int gpu = (dev->info.type & CL_DEVICE_TYPE_GPU) != 0;

    *vw = gpu ? 4 : 16;
    *ry = gpu ? 2 : oc == 1 ? 8 : oc == 2 ? 4 : 2;
    *lx = gpu ? 64 : 1;
    while (*vw > 4 && *vw > out_width)
        *vw /= 2;
}

/* The places of node n's tensors; KILN_E_INVAL naming it when one is
 * missing.  Absent bias and residual get { NULL, 0 }. */
static kiln_status narrow_places(const nn_launch *ctx, const graph_node *n, const char *label,
                                 nn_place p[5])
{
    kiln_status st = nn_place_of(ctx, n->inputs[0], label, &p[0]);

    p[3] = p[4] = (nn_place){ NULL, 0 };
    if (st == KILN_OK)
        st = nn_place_of(ctx, n->inputs[1], label, &p[1]);
    if (st == KILN_OK)
        st = nn_place_of(ctx, n->outputs[0], label, &p[2]);
    if (st == KILN_OK && n->ninputs > 2 && n->inputs[2] >= 0)
        st = nn_place_of(ctx, n->inputs[2], label, &p[3]);
    if (st == KILN_OK && n->ninputs > 3 && n->inputs[3] >= 0)
        st = nn_place_of(ctx, n->inputs[3], label, &p[4]);
    return st;
}

/* Enqueues node n, one launch per batch image (see nn_conv_narrow.h). */
kiln_status nn_launch_conv_narrow(const nn_launch *ctx, const graph_node *n)
{
    const kiln_graph *g = ctx->g;
    const graph_conv_attr *a = &n->attr.conv;
    char label[NN_LABEL_MAX], tile[96], options[160];
    nn_place p[5];   /* x, w, y, bias, residual */
    int vw, ry;
    kiln_status st;

    graph_node_label(n, label, sizeof(label));
    if (!nn_conv_narrow_fits(g, n))
        return kiln_fail(KILN_E_INVAL, "%s: not a conv the few-output-channel kernel runs",
                         label);
    st = narrow_places(ctx, n, label, p);
    if (st != KILN_OK)
        return st;
    const graph_tensor *x = &g->tensors[n->inputs[0]], *y = &g->tensors[n->outputs[0]];
    cl_int c = (cl_int)x->dims[1], h = (cl_int)x->dims[2], w = (cl_int)x->dims[3];
    cl_int oh = (cl_int)y->dims[2], ow = (cl_int)y->dims[3];
    cl_int kh = (cl_int)a->win.kernel[0], kw = (cl_int)a->win.kernel[1];
    cl_int sy = (cl_int)a->win.strides[0], sx = (cl_int)a->win.strides[1];
    cl_int dy = (cl_int)a->win.dilations[0], dx = (cl_int)a->win.dilations[1];
    cl_int py = (cl_int)a->win.pads[0], px = (cl_int)a->win.pads[1];
    cl_int act = nn_act_code(a->activation), half_out = nn_half_out(g, n->outputs[0]);
    cl_int has_bias = p[3].mem != NULL, has_res = p[4].mem != NULL;
    cl_mem bmem = has_bias ? p[3].mem : p[1].mem, rmem = has_res ? p[4].mem : p[0].mem;
    size_t in_plane = (size_t)c * (size_t)h * (size_t)w;
    size_t out_plane = (size_t)y->dims[1] * (size_t)oh * (size_t)ow;
    size_t global[2], local[2] = { 4, 1 };

    narrow_tile(ctx->dev, (int)y->dims[1], ow, &vw, &ry, &local[0]);
    snprintf(tile, sizeof(tile), "-D OCN=%d -D RY=%d -D VW=%d -D SX1=%d",
             (int)y->dims[1], ry, vw, sx == 1 ? 1 : 0);
    const char *opts = nn_build_options(ctx, nn_conv_half_mask(g, n), tile, options,
                                        sizeof(options));
    global[0] = ((size_t)ow + (size_t)vw - 1) / (size_t)vw;
    global[1] = ((size_t)oh + (size_t)ry - 1) / (size_t)ry;
    for (int64_t bi = 0; bi < x->dims[0]; bi++) {
        cl_uint xo = (cl_uint)(p[0].offset + in_plane * (size_t)bi);
        cl_uint yo = (cl_uint)(p[2].offset + out_plane * (size_t)bi);
        cl_uint ro = has_res ? (cl_uint)(p[4].offset + out_plane * (size_t)bi) : 0;
        cl_uint bo = has_bias ? p[3].offset : 0;
        const dev_kernel_arg args[] = {
            DEV_ARG(p[0].mem), DEV_ARG(xo), DEV_ARG(p[1].mem), DEV_ARG(p[1].offset),
            DEV_ARG(bmem), DEV_ARG(bo), DEV_ARG(has_bias), DEV_ARG(p[2].mem), DEV_ARG(yo),
            DEV_ARG(rmem), DEV_ARG(ro), DEV_ARG(has_res), DEV_ARG(c), DEV_ARG(h), DEV_ARG(w),
            DEV_ARG(oh), DEV_ARG(ow), DEV_ARG(kh), DEV_ARG(kw), DEV_ARG(sy), DEV_ARG(sx),
            DEV_ARG(dy), DEV_ARG(dx), DEV_ARG(py), DEV_ARG(px), DEV_ARG(act), DEV_ARG(half_out)
        };
        st = dev_kernel_launch(ctx->dev, NARROW_SOURCE, opts, NARROW_KERNEL, args,
                               DEV_NARGS(args), 2, global, local);
        if (st != KILN_OK)
            return kiln_fail_context(st, "%s", label);
    }
    return KILN_OK;
}
