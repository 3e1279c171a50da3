/* The data-movement launchers (cl/nn_eltwise.cl's nn_copy_strided, or a
 * buffer copy where the data moves contiguously): Concat, Transpose and
 * Slice.  Each describes its copy as a walk over the output's dims with
 * an input stride and an output stride per axis, merged as far as the
 * strides allow. */
#include <string.h>

#include "nn_kernel.h"
#include "status.h"

#define ELTWISE_SOURCE "nn_eltwise.cl"

/* Row-major strides of a dims array. */
static void dense_strides(int rank, const int64_t *dims, int64_t *stride)
{
    int64_t acc = 1;

    for (int i = rank - 1; i >= 0; i--) {
        stride[i] = acc;
        acc *= dims[i];
    }
}

/* Enqueues a copy of the walk `dims` (rank axes) from src (element src +
 * ibase + sum coord * strides[0]) to dst (element dst + sum coord *
 * strides[1]): a buffer copy when both move contiguously, else the
 * strided kernel. */
static kiln_status strided_copy(const nn_launch *ctx, int tin, nn_place src, int64_t ibase,
                                int tout, nn_place dst, int rank, int64_t *dims,
                                int64_t (*strides)[GRAPH_MAX_RANK])
{
    cl_int crank, base;
    cl_int8 dims_v, istr, ostr;
    cl_uint count = 1;
    size_t global;
    unsigned mask = nn_half_bit(ctx->g, tin, NN_R_X) | nn_half_bit(ctx->g, tout, NN_R_Y);

    for (int i = 0; i < rank; i++)
        count *= (cl_uint)dims[i];
    if (count == 0)
        return KILN_OK;
    crank = nn_collapse(rank, dims, 2, strides);
    /* a buffer copy moves elements of one storage; float32 <-> half
       converts in the kernel */
    if (crank == 1 && (strides[0][0] == 1 || count == 1) && (strides[1][0] == 1 || count == 1) &&
        nn_half_stored(ctx->g, tin) == nn_half_stored(ctx->g, tout)) {
        src.offset += (cl_uint)ibase;
        return nn_copy(ctx->dev, src, dst, count,
                       graph_tensor_storage_size(&ctx->g->tensors[tout]));
    }
    base = (cl_int)ibase;
    dims_v = nn_int8(dims, crank, 1);
    istr = nn_int8(strides[0], crank, 0);
    ostr = nn_int8(strides[1], crank, 0);
    {
        const dev_kernel_arg args[] = {
            DEV_ARG(src.mem), DEV_ARG(src.offset), DEV_ARG(base), DEV_ARG(dst.mem),
            DEV_ARG(dst.offset), DEV_ARG(count), DEV_ARG(crank), DEV_ARG(dims_v),
            DEV_ARG(istr), DEV_ARG(ostr)
        };
        char options[96];
        global = count;
        return dev_kernel_launch(ctx->dev, ELTWISE_SOURCE,
                                 nn_build_options(ctx, mask, NULL, options, sizeof(options)),
                                 "nn_copy_strided", args,
                                 DEV_NARGS(args), 1, &global, nn_local);
    }
}

/* Enqueues Concat node n: each input's blocks into its slice of the
 * output along the axis.  An input already in place (when every dim
 * before the axis is 1, its place is its slice of the output: the
 * planner had its producer write there) is not copied.  Does not
 * wait. */
kiln_status nn_launch_concat(const nn_launch *ctx, const graph_node *n)
{
    const graph_tensor *y = &ctx->g->tensors[n->outputs[0]];
    int axis = (int)n->attr.axis;
    int64_t outer = 1, inner = 1, at = 0;
    char label[NN_LABEL_MAX];
    nn_place py;
    kiln_status st;

    graph_node_label(n, label, sizeof(label));
    if (axis < 0 || axis >= y->rank)
        return kiln_fail(KILN_E_INVAL, "%s: axis %d of a rank-%d output", label, axis, y->rank);
    st = nn_place_of(ctx, n->outputs[0], label, &py);
    if (st != KILN_OK)
        return st;
    for (int i = 0; i < axis; i++)
        outer *= y->dims[i];
    for (int i = axis + 1; i < y->rank; i++)
        inner *= y->dims[i];
    for (size_t k = 0; k < n->ninputs; k++) {
        const graph_tensor *t = &ctx->g->tensors[n->inputs[k]];
        int64_t block = t->dims[axis] * inner;
        int64_t dims[2] = { outer, block };
        int64_t strides[2][GRAPH_MAX_RANK] = { { block, 1 }, { y->dims[axis] * inner, 1 } };
        nn_place px, dst = py;
        if (block == 0 || outer == 0)
            continue;
        st = nn_place_of(ctx, n->inputs[k], label, &px);
        if (st != KILN_OK)
            return st;
        dst.offset += (cl_uint)at;
        if (outer == 1 && px.mem == dst.mem && px.offset == dst.offset &&
            t->half_stored == y->half_stored) {
            at += block;
            continue;
        }
        st = strided_copy(ctx, n->inputs[k], px, 0, n->outputs[0], dst, 2, dims, strides);
        if (st != KILN_OK)
            return kiln_fail_context(st, "%s: input %zu", label, k);
        at += block;
    }
    return KILN_OK;
}

/* Enqueues Transpose node n: output axis i reads input axis perm[i]
 * (reversed dims when the node has no perm).  Does not wait. */
kiln_status nn_launch_transpose(const nn_launch *ctx, const graph_node *n)
{
    const graph_tensor *x = &ctx->g->tensors[n->inputs[0]];
    const graph_tensor *y = &ctx->g->tensors[n->outputs[0]];
    int64_t dims[GRAPH_MAX_RANK], in_stride[GRAPH_MAX_RANK], strides[2][GRAPH_MAX_RANK];
    char label[NN_LABEL_MAX];
    nn_place px, py;
    int rank = y->rank;
    kiln_status st;

    graph_node_label(n, label, sizeof(label));
    if (x->rank != rank || (n->attr.transpose.nperm != 0 && n->attr.transpose.nperm != rank))
        return kiln_fail(KILN_E_INVAL, "%s: a perm of %d axes for rank %d", label,
                         n->attr.transpose.nperm, rank);
    st = nn_place_of(ctx, n->inputs[0], label, &px);
    if (st == KILN_OK)
        st = nn_place_of(ctx, n->outputs[0], label, &py);
    if (st != KILN_OK)
        return st;
    memcpy(dims, y->dims, sizeof(dims));
    dense_strides(rank, x->dims, in_stride);
    dense_strides(rank, y->dims, strides[1]);
    for (int i = 0; i < rank; i++) {
        int64_t p = n->attr.transpose.nperm ? n->attr.transpose.perm[i] : rank - 1 - i;
        if (p < 0 || p >= rank)
            return kiln_fail(KILN_E_INVAL, "%s: perm[%d] = %lld is out of range", label, i,
                             (long long)p);
        strides[0][i] = in_stride[p];
    }
    st = strided_copy(ctx, n->inputs[0], px, 0, n->outputs[0], py, rank, dims, strides);
    if (st != KILN_OK)
        return kiln_fail_context(st, "%s", label);
    return KILN_OK;
}

/* Enqueues Slice node n: output coordinate k on axis d reads input
 * coordinate start[d] + k * step[d] (steps may be negative).  Does not
 * wait. */
kiln_status nn_launch_slice(const nn_launch *ctx, const graph_node *n)
{
    const graph_tensor *x = &ctx->g->tensors[n->inputs[0]];
    const graph_tensor *y = &ctx->g->tensors[n->outputs[0]];
    int64_t dims[GRAPH_MAX_RANK], in_stride[GRAPH_MAX_RANK], strides[2][GRAPH_MAX_RANK];
    int64_t base = 0;
    char label[NN_LABEL_MAX];
    nn_place px, py;
    int rank = y->rank;
    kiln_status st;

    graph_node_label(n, label, sizeof(label));
    if (x->rank != rank)
        return kiln_fail(KILN_E_INVAL, "%s: slicing rank %d into rank %d", label, x->rank, rank);
    st = nn_place_of(ctx, n->inputs[0], label, &px);
    if (st == KILN_OK)
        st = nn_place_of(ctx, n->outputs[0], label, &py);
    if (st != KILN_OK)
        return st;
    memcpy(dims, y->dims, sizeof(dims));
    dense_strides(rank, x->dims, in_stride);
    dense_strides(rank, y->dims, strides[1]);
    for (int i = 0; i < rank; i++) {
        strides[0][i] = in_stride[i] * n->attr.slice.step[i];
        base += in_stride[i] * n->attr.slice.start[i];
    }
    st = strided_copy(ctx, n->inputs[0], px, base, n->outputs[0], py, rank, dims, strides);
    if (st != KILN_OK)
        return kiln_fail_context(st, "%s", label);
    return KILN_OK;
}
