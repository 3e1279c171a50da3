/* The MaxPool and AveragePool launcher (cl/nn_pool.cl). */
#include <string.h>

#include "nn_kernel.h"
#include "nn_opcodes.h"
#include "status.h"

#define POOL_SOURCE "nn_pool.cl"

/* Enqueues the pool of node n (its row's code, NN_POOL_MAX or
 * NN_POOL_AVG) over 1 to 3 spatial dims (the missing leading ones of size
 * 1); U2-Net's 2x2 stride-2 MaxPool takes a dedicated kernel.  Does not
 * wait. */
kiln_status nn_launch_pool(const nn_launch *ctx, const graph_node *n)
{
    const nn_op_def *def = nn_op_def_of(n->op);
    const graph_window *w = &n->attr.pool.win;
    const graph_tensor *x = &ctx->g->tensors[n->inputs[0]];
    const graph_tensor *y = &ctx->g->tensors[n->outputs[0]];
    char label[NN_LABEL_MAX];
    cl_int4 in, out, k, s, d, pb, pe;
    cl_int op, include = n->attr.pool.count_include_pad;
    cl_int half_out = nn_half_out(ctx->g, n->outputs[0]);
    cl_uint planes;
    nn_place px, py;
    size_t global[2];
    int off = 3 - w->nspatial;
    unsigned mask = nn_half_bit(ctx->g, n->inputs[0], NN_R_X) |
                    nn_half_bit(ctx->g, n->outputs[0], NN_R_Y);
    char options[96];
    const char *opts = nn_build_options(ctx, mask, NULL, options, sizeof(options));
    kiln_status st;

    graph_node_label(n, label, sizeof(label));
    if (!def || def->launch != nn_launch_pool)
        return kiln_fail(KILN_E_INVAL, "%s: not a pool", label);
    op = (cl_int)def->code;
    if (w->nspatial < 1 || w->nspatial > GRAPH_MAX_SPATIAL || x->rank != 2 + w->nspatial ||
        y->rank != x->rank)
        return kiln_fail(KILN_E_INVAL, "%s: a pool of %d spatial dims over rank %d does not "
                         "fit the kernel", label, w->nspatial, x->rank);
    st = nn_place_of(ctx, n->inputs[0], label, &px);
    if (st == KILN_OK)
        st = nn_place_of(ctx, n->outputs[0], label, &py);
    if (st != KILN_OK)
        return st;
    for (int i = 0; i < 4; i++) {
        in.s[i] = out.s[i] = k.s[i] = s.s[i] = d.s[i] = 1;
        pb.s[i] = pe.s[i] = 0;
    }
    for (int i = 0; i < w->nspatial; i++) {
        in.s[off + i] = (cl_int)x->dims[2 + i];
        out.s[off + i] = (cl_int)y->dims[2 + i];
        k.s[off + i] = (cl_int)w->kernel[i];
        s.s[off + i] = (cl_int)w->strides[i];
        d.s[off + i] = (cl_int)w->dilations[i];
        pb.s[off + i] = (cl_int)w->pads[i];
        pe.s[off + i] = (cl_int)w->pads[i + w->nspatial];
    }
    planes = (cl_uint)(x->dims[0] * x->dims[1]);
    if (op == NN_POOL_MAX && w->nspatial == 2 && k.s[1] == 2 && k.s[2] == 2 && s.s[1] == 2 && s.s[2] == 2 &&
        d.s[1] == 1 && d.s[2] == 1 && pb.s[1] == 0 && pb.s[2] == 0 && pe.s[1] == 0 &&
        pe.s[2] == 0) {
        cl_int ih = in.s[1], iw = in.s[2], oh = out.s[1], ow = out.s[2], np = (cl_int)planes;
        const dev_kernel_arg args[] = {
            DEV_ARG(px.mem), DEV_ARG(px.offset), DEV_ARG(py.mem), DEV_ARG(py.offset),
            DEV_ARG(ih), DEV_ARG(iw), DEV_ARG(oh), DEV_ARG(ow), DEV_ARG(np), DEV_ARG(half_out)
        };
        size_t global3[3] = { (size_t)ow, (size_t)oh, (size_t)planes };
        st = dev_kernel_launch(ctx->dev, POOL_SOURCE, opts, "nn_maxpool_2x2", args, DEV_NARGS(args),
                               3, global3, nn_local);
        return st == KILN_OK ? KILN_OK : kiln_fail_context(st, "%s", label);
    }
    global[0] = (size_t)out.s[0] * (size_t)out.s[1] * (size_t)out.s[2];
    global[1] = planes;
    {
        const dev_kernel_arg args[] = {
            DEV_ARG(px.mem), DEV_ARG(px.offset), DEV_ARG(py.mem), DEV_ARG(py.offset),
            DEV_ARG(planes), DEV_ARG(in), DEV_ARG(out), DEV_ARG(k), DEV_ARG(s), DEV_ARG(d),
            DEV_ARG(pb), DEV_ARG(pe), DEV_ARG(op), DEV_ARG(include), DEV_ARG(half_out)
        };
        st = dev_kernel_launch(ctx->dev, POOL_SOURCE, opts, "nn_pool", args, DEV_NARGS(args), 2,
                               global, nn_local);
    }
    if (st != KILN_OK)
        return kiln_fail_context(st, "%s", label);
    return KILN_OK;
}
