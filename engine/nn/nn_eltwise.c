/* The elementwise launchers (cl/nn_eltwise.cl): Add, Sub, Mul, Div with
 * numpy broadcasting, and the one-input operators Relu, Sigmoid, Clip,
 * Cast, Identity and Reshape. */
#include <math.h>
#include <string.h>

#include "nn_kernel.h"
#include "nn_opcodes.h"
#include "status.h"

#define ELTWISE_SOURCE "nn_eltwise.cl"

/* The strides of tensor t broadcast numpy-style onto an output of `rank`
 * dims: right-aligned, 0 on an axis it lacks or has of size 1. */
static void broadcast_strides(const graph_tensor *t, int rank, int64_t *stride)
{
    int64_t s = 1;

    for (int i = rank - 1; i >= 0; i--) {
        int j = i - (rank - t->rank);
        stride[i] = (j < 0 || t->dims[j] == 1) ? 0 : s;
        if (j >= 0)
            s *= t->dims[j];
    }
}

/* Enqueues Add, Sub, Mul or Div of node n (its row's code, an NN_BIN_*
 * op); either operand may be a runtime tensor or a constant in the
 * weight buffer.  Does not wait. */
kiln_status nn_launch_binary(const nn_launch *ctx, const graph_node *n)
{
    const nn_op_def *def = nn_op_def_of(n->op);
    const graph_tensor *y = &ctx->g->tensors[n->outputs[0]];
    int64_t dims[GRAPH_MAX_RANK], strides[2][GRAPH_MAX_RANK];
    char label[NN_LABEL_MAX];
    nn_place pa, pb, py;
    cl_int rank, op, half_out = nn_half_out(ctx->g, n->outputs[0]);
    cl_int8 dims_v, astr, bstr;
    cl_uint count;
    size_t global;
    kiln_status st;

    graph_node_label(n, label, sizeof(label));
    st = nn_place_of(ctx, n->inputs[0], label, &pa);
    if (st == KILN_OK)
        st = nn_place_of(ctx, n->inputs[1], label, &pb);
    if (st == KILN_OK)
        st = nn_place_of(ctx, n->outputs[0], label, &py);
    if (st != KILN_OK)
        return st;
    if (!def || def->launch != nn_launch_binary)
        return kiln_fail(KILN_E_INVAL, "%s: not a binary arithmetic operator", label);
    op = (cl_int)def->code;
    count = (cl_uint)graph_tensor_elements(y);
    memcpy(dims, y->dims, sizeof(dims));
    broadcast_strides(&ctx->g->tensors[n->inputs[0]], y->rank, strides[0]);
    broadcast_strides(&ctx->g->tensors[n->inputs[1]], y->rank, strides[1]);
    rank = nn_collapse(y->rank, dims, 2, strides);
    dims_v = nn_int8(dims, rank, 1);
    astr = nn_int8(strides[0], rank, 0);
    bstr = nn_int8(strides[1], rank, 0);
    {
        const dev_kernel_arg args[] = {
            DEV_ARG(pa.mem), DEV_ARG(pa.offset), DEV_ARG(pb.mem), DEV_ARG(pb.offset),
            DEV_ARG(py.mem), DEV_ARG(py.offset), DEV_ARG(count), DEV_ARG(rank),
            DEV_ARG(dims_v), DEV_ARG(astr), DEV_ARG(bstr), DEV_ARG(op), DEV_ARG(half_out)
        };
        unsigned mask = nn_half_bit(ctx->g, n->inputs[0], NN_R_X) |
                        nn_half_bit(ctx->g, n->inputs[1], NN_R_RES) |
                        nn_half_bit(ctx->g, n->outputs[0], NN_R_Y);
        char options[96];
        global = count;
        st = dev_kernel_launch(ctx->dev, ELTWISE_SOURCE,
                               nn_build_options(ctx, mask, NULL, options, sizeof(options)),
                               "nn_binary", args, DEV_NARGS(args), 1, &global, nn_local);
    }
    if (st != KILN_OK)
        return kiln_fail_context(st, "%s", label);
    return KILN_OK;
}

/* Enqueues a one-input operator of node n by its row's code, an NN_UN_*
 * op: Relu, Sigmoid and Clip by the kernel; a copy (Cast, Identity,
 * Reshape) by the kernel when it rounds to FLOAT16, else by a buffer
 * copy, skipped when input and output share their place.  Does not
 * wait. */
kiln_status nn_launch_unary(const nn_launch *ctx, const graph_node *n)
{
    const nn_op_def *def = nn_op_def_of(n->op);
    char label[NN_LABEL_MAX];
    nn_place px, py;
    cl_int op, half_out = nn_half_out(ctx->g, n->outputs[0]);
    cl_float lo = -INFINITY, hi = INFINITY;
    unsigned mask;
    cl_uint count;
    size_t global;
    kiln_status st;

    graph_node_label(n, label, sizeof(label));
    st = nn_place_of(ctx, n->inputs[0], label, &px);
    if (st == KILN_OK)
        st = nn_place_of(ctx, n->outputs[0], label, &py);
    if (st != KILN_OK)
        return st;
    if (!def || def->launch != nn_launch_unary)
        return kiln_fail(KILN_E_INVAL, "%s: not a one-input elementwise operator", label);
    count = (cl_uint)graph_tensor_elements(&ctx->g->tensors[n->outputs[0]]);
    op = (cl_int)def->code;
    if (op == NN_UN_CLIP) {
        if (n->attr.clip.has_min)
            lo = (cl_float)n->attr.clip.min;
        if (n->attr.clip.has_max)
            hi = (cl_float)n->attr.clip.max;
    }
    mask = nn_half_bit(ctx->g, n->inputs[0], NN_R_X) | nn_half_bit(ctx->g, n->outputs[0], NN_R_Y);
    /* a copy moves the bytes, unless a Cast to FLOAT16 rounds them or the
       storages differ (the kernel converts) */
    if (op == NN_UN_COPY && !(half_out && !nn_half_out(ctx->g, n->inputs[0])) &&
        nn_half_stored(ctx->g, n->inputs[0]) == nn_half_stored(ctx->g, n->outputs[0])) {
        st = nn_copy(ctx->dev, px, py, count,
                     graph_tensor_storage_size(&ctx->g->tensors[n->outputs[0]]));
        if (st != KILN_OK)
            return kiln_fail_context(st, "%s", label);
        return KILN_OK;
    }
    {
        const dev_kernel_arg args[] = {
            DEV_ARG(px.mem), DEV_ARG(px.offset), DEV_ARG(py.mem), DEV_ARG(py.offset),
            DEV_ARG(count), DEV_ARG(op), DEV_ARG(lo), DEV_ARG(hi), DEV_ARG(half_out)
        };
        char options[96];
        global = count;
        st = dev_kernel_launch(ctx->dev, ELTWISE_SOURCE,
                               nn_build_options(ctx, mask, NULL, options, sizeof(options)),
                               "nn_unary", args, DEV_NARGS(args), 1, &global, nn_local);
    }
    if (st != KILN_OK)
        return kiln_fail_context(st, "%s", label);
    return KILN_OK;
}
