/* Convolution as a CLBlast GEMM (see nn_conv_gemm.h). */
#include <clblast_c.h>
#include <stdio.h>

#include "nn_conv_algo.h"
#include "nn_conv_gemm.h"
#include "nn_kernel.h"
#include "nn_opcodes.h"
#include "pool.h"
#include "status.h"

#define GEMM_SOURCE "nn_conv_gemm.cl"

/* Checks the conv and its residual (see nn_conv_gemm.h). */
int nn_conv_gemm_fits(const kiln_graph *g, const graph_node *n)
{
    return nn_conv_tiled_fits(g, n) && nn_conv_residual_fits(g, n);
}

/* Whether node n (which fits) is a plain 1x1: its input is the GEMM's B. */
static int gemm_plain(const graph_node *n)
{
    const graph_window *w = &n->attr.conv.win;

    return w->kernel[0] == 1 && w->kernel[1] == 1 && w->strides[0] == 1 && w->strides[1] == 1 &&
           w->pads[0] == 0 && w->pads[1] == 0 && w->pads[2] == 0 && w->pads[3] == 0;
}

/* Scratch floats (see nn_conv_gemm.h). */
size_t nn_conv_gemm_scratch_floats(const kiln_graph *g, const graph_node *n)
{
    const graph_tensor *w = &g->tensors[n->inputs[1]], *y = &g->tensors[n->outputs[0]];

    if (gemm_plain(n))
        return 0;
    return (size_t)w->dims[1] * (size_t)w->dims[2] * (size_t)w->dims[3] * (size_t)y->dims[2] *
           (size_t)y->dims[3];
}

/* The GEMM of one image: Y[OC][npix] = W[OC][ck] x B[ck][npix], with
 * CLBlast's temporary buffer from the pool for the call. */
static kiln_status gemm_run(kiln_device *dev, size_t oc, size_t npix, size_t ck, nn_place w,
                            nn_place b, nn_place y)
{
    cl_command_queue queue = dev->queue;
    size_t temp_bytes = 0;
    pool_buffer *temp = NULL;
    CLBlastStatusCode code;
    kiln_status st;

    dev->used_clblast = 1;
    code = CLBlastSGemmTempBufferSize(CLBlastLayoutRowMajor, CLBlastTransposeNo,
                                      CLBlastTransposeNo, oc, npix, ck, w.offset, ck, b.offset,
                                      npix, y.offset, npix, &queue, &temp_bytes);
    if (code != CLBlastSuccess)
        return kiln_fail(KILN_E_CL, "CLBlastSGemmTempBufferSize failed with status %d",
                         (int)code);
    st = pool_acquire(dev->pool, temp_bytes ? temp_bytes : sizeof(float), "conv.gemm_temp",
                      &temp);
    if (st != KILN_OK)
        return st;
    code = CLBlastSgemmWithTempBuffer(CLBlastLayoutRowMajor, CLBlastTransposeNo,
                                      CLBlastTransposeNo, oc, npix, ck, 1.0f, w.mem, w.offset, ck,
                                      b.mem, b.offset, npix, 0.0f, y.mem, y.offset, npix, &queue,
                                      NULL, temp->mem);
    /* the queue is in order: a later user of the buffer runs after the GEMM */
    pool_release(dev->pool, temp);
    if (code != CLBlastSuccess)
        return kiln_fail(KILN_E_CL, "CLBlastSgemmWithTempBuffer failed with status %d",
                         (int)code);
    return KILN_OK;
}

/* im2col of one image into col (build options `opts`: the storage). */
static kiln_status gemm_im2col(kiln_device *dev, const char *opts, const graph_node *n,
                               const graph_tensor *x, const graph_tensor *y, nn_place px,
                               nn_place col)
{
    const graph_window *wn = &n->attr.conv.win;
    cl_int ci = (cl_int)x->dims[1], hi = (cl_int)x->dims[2], wi = (cl_int)x->dims[3];
    cl_int ohi = (cl_int)y->dims[2], owi = (cl_int)y->dims[3];
    cl_int khi = (cl_int)wn->kernel[0], kwi = (cl_int)wn->kernel[1];
    cl_int syi = (cl_int)wn->strides[0], sxi = (cl_int)wn->strides[1];
    cl_int dyi = (cl_int)wn->dilations[0], dxi = (cl_int)wn->dilations[1];
    cl_int pyi = (cl_int)wn->pads[0], pxi = (cl_int)wn->pads[1];
    const dev_kernel_arg args[] = {
        DEV_ARG(px.mem), DEV_ARG(px.offset), DEV_ARG(col.mem), DEV_ARG(col.offset), DEV_ARG(ci),
        DEV_ARG(hi), DEV_ARG(wi), DEV_ARG(ohi), DEV_ARG(owi), DEV_ARG(khi), DEV_ARG(kwi),
        DEV_ARG(syi), DEV_ARG(sxi), DEV_ARG(dyi), DEV_ARG(dxi), DEV_ARG(pyi), DEV_ARG(pxi)
    };
    size_t npix = (size_t)ohi * (size_t)owi, ck = (size_t)ci * (size_t)khi * (size_t)kwi;
    size_t global[2] = { (npix + NN_LOCAL_SIZE - 1) / NN_LOCAL_SIZE * NN_LOCAL_SIZE, ck };

    return dev_kernel_launch(dev, GEMM_SOURCE, opts, "conv_gemm_im2col", args, DEV_NARGS(args), 2,
                             global, nn_local);
}

/* The bias / activation / residual epilogue of one image, in place
 * (build options `opts`: the storage). */
static kiln_status gemm_epilogue(kiln_device *dev, const char *opts, const graph_node *n,
                                 size_t oc, size_t npix, int half_out, nn_place pb,
                                 nn_place pres, nn_place py)
{
    cl_int has_bias = pb.mem != NULL, has_res = pres.mem != NULL;
    cl_mem bmem = pb.mem ? pb.mem : py.mem, rmem = pres.mem ? pres.mem : py.mem;
    cl_int npi = (cl_int)npix, oci = (cl_int)oc, halfi = half_out;
    cl_int acti = nn_act_code(n->attr.conv.activation);
    const dev_kernel_arg args[] = {
        DEV_ARG(py.mem), DEV_ARG(py.offset), DEV_ARG(bmem), DEV_ARG(pb.offset),
        DEV_ARG(has_bias), DEV_ARG(rmem), DEV_ARG(pres.offset), DEV_ARG(has_res), DEV_ARG(npi),
        DEV_ARG(oci), DEV_ARG(acti), DEV_ARG(halfi)
    };
    size_t global[2] = { (npix + NN_LOCAL_SIZE - 1) / NN_LOCAL_SIZE * NN_LOCAL_SIZE, oc };

    if (!has_bias && !has_res && !half_out && acti == NN_ACT_NONE)
        return KILN_OK;
    return dev_kernel_launch(dev, GEMM_SOURCE, opts, "conv_gemm_epilogue", args,
                             DEV_NARGS(args), 2, global, nn_local);
}

/* Enqueues node n, one GEMM per batch image (see nn_conv_gemm.h). */
kiln_status nn_launch_conv_gemm(const nn_launch *ctx, const graph_node *n)
{
    const kiln_graph *g = ctx->g;
    const graph_tensor *x, *w, *y;
    nn_place px, pw, py, pb, pres;
    char label[NN_LABEL_MAX];
    size_t oc, npix, ck, need;
    uint64_t in_plane, out_plane;
    char options[96];
    const char *opts;
    kiln_status st;

    graph_node_label(n, label, sizeof(label));
    if (!nn_conv_gemm_fits(g, n))
        return kiln_fail(KILN_E_INVAL, "%s: not a conv the GEMM path runs", label);
    x = &g->tensors[n->inputs[0]];
    w = &g->tensors[n->inputs[1]];
    y = &g->tensors[n->outputs[0]];
    need = nn_conv_gemm_scratch_floats(g, n);
    if (need && (!ctx->scratch.mem || ctx->scratch_floats < need))
        return kiln_fail(KILN_E_INVAL, "%s: the im2col scratch holds %zu floats, not %zu", label,
                         ctx->scratch.mem ? ctx->scratch_floats : 0, need);
    if (need && (uint64_t)ctx->scratch.offset + need > UINT32_MAX)
        return kiln_fail(KILN_E_LIMIT, "%s: the im2col scratch ends past 2^32 floats", label);
    st = nn_conv_places_of(ctx, n, label, 0, &px, &pw, &py, &pb, &pres);
    if (st != KILN_OK)
        return st;
    /* the GEMM reads x and w and writes y as float32 (nn_precision keeps
       them so); the bias and residual may be half */
    if (nn_half_stored(g, n->inputs[0]) || nn_half_stored(g, n->inputs[1]) ||
        nn_half_stored(g, n->outputs[0]))
        return kiln_fail(KILN_E_INVAL, "%s: the GEMM path needs float32 input, weights and "
                         "output", label);
    opts = nn_build_options(ctx, nn_conv_half_mask(g, n), NULL, options, sizeof(options));
    oc = (size_t)w->dims[0];
    ck = (size_t)w->dims[1] * (size_t)w->dims[2] * (size_t)w->dims[3];
    npix = (size_t)y->dims[2] * (size_t)y->dims[3];
    in_plane = (uint64_t)x->dims[1] * (uint64_t)x->dims[2] * (uint64_t)x->dims[3];
    out_plane = (uint64_t)oc * npix;
    for (int64_t bi = 0; bi < x->dims[0] && st == KILN_OK; bi++) {
        nn_place xb = { px.mem, (cl_uint)(px.offset + in_plane * (uint64_t)bi) };
        nn_place yb = { py.mem, (cl_uint)(py.offset + out_plane * (uint64_t)bi) };
        nn_place rb = { pres.mem, pres.mem ? (cl_uint)(pres.offset + out_plane * (uint64_t)bi)
                                           : 0 };
        nn_place bmat = need ? ctx->scratch : xb;
        if (need)
            st = gemm_im2col(ctx->dev, opts, n, x, y, xb, bmat);
        if (st == KILN_OK)
            st = gemm_run(ctx->dev, oc, npix, ck, pw, bmat, yb);
        if (st == KILN_OK)
            st = gemm_epilogue(ctx->dev, opts, n, oc, npix, y->dtype == GRAPH_DT_FLOAT16, pb, rb,
                               yb);
    }
    if (st != KILN_OK)
        return kiln_fail_context(st, "%s", label);
    return KILN_OK;
}
