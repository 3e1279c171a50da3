/* The Resize launcher (cl/nn_resize.cl): a per-axis tap table built on
 * the device in a temporary pool buffer, then one work-item per output
 * element (per output pixel and block of planes when only the last two
 * axes are resized). */
#include <string.h>

#include "nn_kernel.h"
#include "nn_opcodes.h"
#include "status.h"

#define RESIZE_SOURCE "nn_resize.cl"

/* The kernel reads the graph's mode, coordinate and rounding enums as
 * they are: their values are the codes of cl/nn_opcodes.h. */
_Static_assert(GRAPH_RESIZE_NEAREST == NN_RESIZE_NEAREST &&
               GRAPH_RESIZE_LINEAR == NN_RESIZE_LINEAR &&
               GRAPH_RESIZE_CUBIC == NN_RESIZE_CUBIC,
               "graph_resize_mode values are nn_opcodes.h's NN_RESIZE_*");
_Static_assert(GRAPH_COORD_HALF_PIXEL == NN_COORD_HALF_PIXEL &&
               GRAPH_COORD_HALF_PIXEL_SYMMETRIC == NN_COORD_HALF_PIXEL_SYMMETRIC &&
               GRAPH_COORD_PYTORCH_HALF_PIXEL == NN_COORD_PYTORCH_HALF_PIXEL &&
               GRAPH_COORD_ALIGN_CORNERS == NN_COORD_ALIGN_CORNERS &&
               GRAPH_COORD_ASYMMETRIC == NN_COORD_ASYMMETRIC &&
               GRAPH_COORD_TF_HALF_PIXEL_FOR_NN == NN_COORD_TF_HALF_PIXEL_FOR_NN &&
               GRAPH_COORD_TF_CROP_AND_RESIZE == NN_COORD_TF_CROP_AND_RESIZE,
               "graph_coord_mode values are nn_opcodes.h's NN_COORD_*");
_Static_assert(GRAPH_NEAREST_ROUND_PREFER_FLOOR == NN_NEAREST_ROUND_PREFER_FLOOR &&
               GRAPH_NEAREST_ROUND_PREFER_CEIL == NN_NEAREST_ROUND_PREFER_CEIL &&
               GRAPH_NEAREST_FLOOR == NN_NEAREST_FLOOR &&
               GRAPH_NEAREST_CEIL == NN_NEAREST_CEIL,
               "graph_nearest_mode values are nn_opcodes.h's NN_NEAREST_*");
#define TABLE_TAG "nn.resize.table"

/* Ints per table entry (count, outside, 4 indices) and floats (4
 * weights). */
#define TABLE_INTS 6
#define TABLE_FLOATS 4

/* Planes per work-item of nn_resize_planes: the pixel's taps, read once,
 * serve them all. */
#define RESIZE_PLANE_STEP 8

/* Whether only the last two axes of node n are resized: every leading
 * axis keeps its size at scale 1 under a coordinate mode that then maps
 * each index to itself, and nothing is extrapolated (nn_resize_planes). */
static int planes_only(const graph_node *n, const graph_tensor *x, const graph_tensor *y)
{
    const graph_resize_attr *a = &n->attr.resize;

    if (x->rank < 2 || a->coord == GRAPH_COORD_TF_CROP_AND_RESIZE ||
        a->coord == GRAPH_COORD_TF_HALF_PIXEL_FOR_NN)
        return 0;
    for (int i = 0; i < x->rank - 2; i++)
        if (x->dims[i] != y->dims[i] || a->scales[i] != 1.0f)
            return 0;
    return 1;
}

/* Enqueues Resize node n: the tap table, then the resize.  The table's
 * buffer goes back to the pool once both are enqueued (the queue is in
 * order).  Does not wait. */
kiln_status nn_launch_resize(const nn_launch *ctx, const graph_node *n)
{
    const graph_resize_attr *a = &n->attr.resize;
    const graph_tensor *x = &ctx->g->tensors[n->inputs[0]];
    const graph_tensor *y = &ctx->g->tensors[n->outputs[0]];
    int rank = x->rank;
    int64_t bases[GRAPH_MAX_RANK];
    float roi0[GRAPH_MAX_RANK], roi1[GRAPH_MAX_RANK];
    char label[NN_LABEL_MAX];
    pool_buffer *table = NULL;
    nn_place px, py;
    cl_int8 in_dims, out_dims, base_v;
    cl_float8 scales, r0, r1;
    cl_int crank = rank, mode = (cl_int)a->mode, coord = (cl_int)a->coord;
    cl_int nearest = (cl_int)a->nearest, exclude = a->exclude_outside, sized = a->sized;
    cl_int half_out = nn_half_out(ctx->g, n->outputs[0]);
    cl_float cubic_a = a->cubic_coeff_a, extrapolation = a->extrapolation_value;
    cl_uint total = 0, wtab_off, count;
    size_t global;
    unsigned mask = nn_half_bit(ctx->g, n->inputs[0], NN_R_X) |
                    nn_half_bit(ctx->g, n->outputs[0], NN_R_Y);
    char options[96];
    kiln_status st;

    graph_node_label(n, label, sizeof(label));
    if (rank < 1 || rank > GRAPH_MAX_RANK || y->rank != rank)
        return kiln_fail(KILN_E_INVAL, "%s: cannot resize rank %d to rank %d", label, rank,
                         y->rank);
    st = nn_place_of(ctx, n->inputs[0], label, &px);
    if (st == KILN_OK)
        st = nn_place_of(ctx, n->outputs[0], label, &py);
    if (st != KILN_OK)
        return st;
    count = (cl_uint)graph_tensor_elements(y);
    if (count == 0)
        return KILN_OK;
    for (int i = 0; i < rank; i++) {
        bases[i] = total;
        total += (cl_uint)y->dims[i];
        roi0[i] = a->roi[i];
        roi1[i] = a->roi[i + rank];
    }
    in_dims = nn_int8(x->dims, rank, 1);
    out_dims = nn_int8(y->dims, rank, 1);
    base_v = nn_int8(bases, rank, (cl_int)total);
    scales = nn_float8(a->scales, rank, 1.0f);
    r0 = nn_float8(roi0, rank, 0.0f);
    r1 = nn_float8(roi1, rank, 1.0f);
    wtab_off = total * TABLE_INTS;
    st = pool_acquire(ctx->dev->pool, (size_t)total * (TABLE_INTS + TABLE_FLOATS) * sizeof(float),
                      TABLE_TAG, &table);
    if (st != KILN_OK)
        return kiln_fail_context(st, "%s: tap table of %u entries", label, (unsigned)total);
    {
        const dev_kernel_arg args[] = {
            DEV_ARG(table->mem), DEV_ARG(table->mem), DEV_ARG(wtab_off), DEV_ARG(total),
            DEV_ARG(crank), DEV_ARG(in_dims), DEV_ARG(out_dims), DEV_ARG(base_v),
            DEV_ARG(scales), DEV_ARG(r0), DEV_ARG(r1), DEV_ARG(mode), DEV_ARG(coord),
            DEV_ARG(nearest), DEV_ARG(cubic_a), DEV_ARG(exclude), DEV_ARG(sized)
        };
        global = total;
        st = dev_kernel_launch(ctx->dev, RESIZE_SOURCE, NULL, "nn_resize_table", args,
                               DEV_NARGS(args), 1, &global, nn_local);
    }
    if (st != KILN_OK)
        goto out_release_table;
    if (planes_only(n, x, y)) {
        cl_int ih = (cl_int)x->dims[rank - 2], iw = (cl_int)x->dims[rank - 1];
        cl_int oh = (cl_int)y->dims[rank - 2], ow = (cl_int)y->dims[rank - 1];
        cl_int ybase = (cl_int)bases[rank - 2], xbase = (cl_int)bases[rank - 1];
        cl_int planes = (cl_int)(count / ((cl_uint)oh * (cl_uint)ow));
        cl_int pstep = RESIZE_PLANE_STEP;
        const dev_kernel_arg args[] = {
            DEV_ARG(px.mem), DEV_ARG(px.offset), DEV_ARG(py.mem), DEV_ARG(py.offset),
            DEV_ARG(table->mem), DEV_ARG(table->mem), DEV_ARG(wtab_off), DEV_ARG(ih),
            DEV_ARG(iw), DEV_ARG(oh), DEV_ARG(ow), DEV_ARG(ybase), DEV_ARG(xbase),
            DEV_ARG(planes), DEV_ARG(pstep), DEV_ARG(half_out)
        };
        size_t global3[3] = { (size_t)ow, (size_t)oh,
                              ((size_t)planes + (size_t)pstep - 1) / (size_t)pstep };
        st = dev_kernel_launch(ctx->dev, RESIZE_SOURCE,
                               nn_build_options(ctx, mask, a->mode == GRAPH_RESIZE_CUBIC
                                                               ? "-DRESIZE_TAPS=4"
                                                               : "-DRESIZE_TAPS=2",
                                                options, sizeof(options)),
                               "nn_resize_planes", args,
                               DEV_NARGS(args), 3, global3, nn_local);
    } else {
        const dev_kernel_arg args[] = {
            DEV_ARG(px.mem), DEV_ARG(px.offset), DEV_ARG(py.mem), DEV_ARG(py.offset),
            DEV_ARG(table->mem), DEV_ARG(table->mem), DEV_ARG(wtab_off), DEV_ARG(count),
            DEV_ARG(crank), DEV_ARG(in_dims), DEV_ARG(out_dims), DEV_ARG(base_v),
            DEV_ARG(extrapolation), DEV_ARG(half_out)
        };
        global = count;
        st = dev_kernel_launch(ctx->dev, RESIZE_SOURCE,
                               nn_build_options(ctx, mask, NULL, options, sizeof(options)),
                               "nn_resize", args, DEV_NARGS(args), 1, &global, nn_local);
    }

out_release_table:
    /* In-order queue: a later user of the buffer runs after the resize. */
    pool_release(ctx->dev->pool, table);
    if (st != KILN_OK)
        return kiln_fail_context(st, "%s", label);
    return KILN_OK;
}
