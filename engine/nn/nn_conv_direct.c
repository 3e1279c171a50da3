/* The direct Conv launcher (cl/nn_conv_direct.cl): any Conv the folded
 * graph allows (1 to 3 spatial dims, strides, pads, dilations, groups,
 * optional bias, fused activation, optional residual) with plain OIHW
 * float32 weights. */
#include <string.h>

#include "nn_kernel.h"
#include "status.h"

#define CONV_SOURCE "nn_conv_direct.cl"

/* A Conv's geometry as the kernel takes it: three spatial dims, the
 * missing leading ones of size 1. */
typedef struct conv_geom {
    cl_int4 in, out, k, s, d, pb;
    cl_int cin, cout, cg, mg, groups, batch;
} conv_geom;

/* Lays out a Conv's window over three dims; KILN_E_INVAL naming the node
 * when its shapes do not fit the window. */
static kiln_status conv_geom_init(const kiln_graph *g, const graph_node *n, const char *label,
                                  conv_geom *cg)
{
    const graph_window *w = &n->attr.conv.win;
    const graph_tensor *x = &g->tensors[n->inputs[0]], *y = &g->tensors[n->outputs[0]];
    int off = 3 - w->nspatial;

    if (w->nspatial < 1 || w->nspatial > GRAPH_MAX_SPATIAL || x->rank != 2 + w->nspatial ||
        y->rank != x->rank || n->attr.conv.group < 1 ||
        x->dims[1] % n->attr.conv.group != 0 || y->dims[1] % n->attr.conv.group != 0)
        return kiln_fail(KILN_E_INVAL, "%s: a Conv of %d spatial dims over rank %d with %lld "
                         "groups does not fit the direct kernel", label, w->nspatial, x->rank,
                         (long long)n->attr.conv.group);
    for (int i = 0; i < 4; i++) {
        cg->in.s[i] = cg->out.s[i] = cg->k.s[i] = cg->s.s[i] = cg->d.s[i] = 1;
        cg->pb.s[i] = 0;
    }
    for (int i = 0; i < w->nspatial; i++) {
        cg->in.s[off + i] = (cl_int)x->dims[2 + i];
        cg->out.s[off + i] = (cl_int)y->dims[2 + i];
        cg->k.s[off + i] = (cl_int)w->kernel[i];
        cg->s.s[off + i] = (cl_int)w->strides[i];
        cg->d.s[off + i] = (cl_int)w->dilations[i];
        cg->pb.s[off + i] = (cl_int)w->pads[i];
    }
    cg->batch = (cl_int)x->dims[0];
    cg->cin = (cl_int)x->dims[1];
    cg->cout = (cl_int)y->dims[1];
    cg->groups = (cl_int)n->attr.conv.group;
    cg->cg = cg->cin / cg->groups;
    cg->mg = cg->cout / cg->groups;
    return KILN_OK;
}

/* The build options of the kernel computing `block` output channels per
 * work-item. */
static const char *block_options(cl_int block)
{
    switch (block) {
    case 8: return "-DNN_CO_BLOCK=8";
    case 4: return "-DNN_CO_BLOCK=4";
    default: return "-DNN_CO_BLOCK=1";
    }
}

/* Enqueues the direct convolution of node n: NN_CO_BLOCK output channels
 * per work-item, 8 when they divide a group's channels, else 4 when a
 * group has at least 4 (its last block partial), else 1 (depthwise and
 * narrow groups).  Does not wait. */
kiln_status nn_launch_conv_direct(const nn_launch *ctx, const graph_node *n)
{
    char label[NN_LABEL_MAX];
    nn_place px, pw, pb, py, pr;
    conv_geom geo;
    cl_int has_bias, has_res, act, half_out, block, blocks;
    size_t global[2];
    kiln_status st;

    graph_node_label(n, label, sizeof(label));
    memset(&pb, 0, sizeof(pb));
    memset(&pr, 0, sizeof(pr));
    st = conv_geom_init(ctx->g, n, label, &geo);
    if (st == KILN_OK)
        st = nn_place_of(ctx, n->inputs[0], label, &px);
    if (st == KILN_OK)
        st = nn_place_of(ctx, n->inputs[1], label, &pw);
    if (st == KILN_OK)
        st = nn_place_of(ctx, n->outputs[0], label, &py);
    has_bias = n->ninputs > 2 && n->inputs[2] >= 0;
    if (st == KILN_OK && has_bias)
        st = nn_place_of(ctx, n->inputs[2], label, &pb);
    has_res = n->ninputs > 3 && n->inputs[3] >= 0;
    if (st == KILN_OK && has_res)
        st = nn_place_of(ctx, n->inputs[3], label, &pr);
    if (st != KILN_OK)
        return st;
    if (!has_bias)
        pb = pw;
    if (!has_res)
        pr = px;
    act = nn_act_code(n->attr.conv.activation);
    half_out = nn_half_out(ctx->g, n->outputs[0]);
    block = geo.mg % 8 == 0 ? 8 : geo.mg >= 4 ? 4 : 1;
    blocks = (geo.mg + block - 1) / block;
    global[0] = (size_t)geo.out.s[0] * (size_t)geo.out.s[1] * (size_t)geo.out.s[2];
    global[1] = (size_t)geo.batch * (size_t)geo.groups * (size_t)blocks;
    {
        const dev_kernel_arg args[] = {
            DEV_ARG(px.mem), DEV_ARG(px.offset), DEV_ARG(pw.mem), DEV_ARG(pw.offset),
            DEV_ARG(pb.mem), DEV_ARG(pb.offset), DEV_ARG(has_bias), DEV_ARG(py.mem),
            DEV_ARG(py.offset), DEV_ARG(pr.mem), DEV_ARG(pr.offset), DEV_ARG(has_res),
            DEV_ARG(geo.in), DEV_ARG(geo.out), DEV_ARG(geo.k),
            DEV_ARG(geo.s), DEV_ARG(geo.d), DEV_ARG(geo.pb), DEV_ARG(geo.cin),
            DEV_ARG(geo.cout), DEV_ARG(geo.cg), DEV_ARG(geo.mg), DEV_ARG(blocks),
            DEV_ARG(geo.groups), DEV_ARG(geo.batch), DEV_ARG(act), DEV_ARG(half_out)
        };
        char options[128];
        st = dev_kernel_launch(ctx->dev, CONV_SOURCE,
                               nn_build_options(ctx, nn_conv_half_mask(ctx->g, n),
                                                block_options(block), options, sizeof(options)),
                               "nn_conv_direct", args, DEV_NARGS(args), 2, global, nn_local);
    }
    if (st != KILN_OK)
        return kiln_fail_context(st, "%s", label);
    return KILN_OK;
}
