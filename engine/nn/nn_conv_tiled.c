/* The register-tiled direct convolution (see nn_conv_tiled.h). */
#include <stdio.h>
#include <string.h>

#include "nn_conv_algo.h"
#include "nn_conv_tiled.h"
#include "nn_kernel.h"
#include "status.h"

#define TILED_SOURCE "nn_conv_tiled.cl"
#define TILED_KERNEL "conv_tiled"

/* Fills *t with per-device-type defaults: on CPUs 16 channels x 16 pixels
 * (16 accumulators of AVX-512; 1 x 64 for single-output convs), work-groups of 4 tiles of a row, output-channel
 * blocks first (what nn_tune_run picked under POCL on a 2-core AVX-512
 * AMD EPYC); on GPUs one pixel x 8 channels per work-item, pixels first
 * in 16 x 8 work-groups. */
void nn_conv_tuning_default(const device_info *info, nn_conv_tuning *t)
{
    int gpu = info && (info->type & CL_DEVICE_TYPE_GPU);

    memset(t, 0, sizeof(*t));
    t->origin = NN_TUNING_DEFAULT;
    if (gpu) {
        t->oc_first = 0;
        for (int c = 0; c < NN_CONV_CLASSES; c++) {
            t->cls[c].toc = c == NN_CONV_CLASS_NARROW ? 1 : 8;
            t->cls[c].nv = 1;
            t->cls[c].vw = 1;
            t->cls[c].lx = 16;
            t->cls[c].ly = 8;
        }
        return;
    }
    t->oc_first = 1;
    t->cls[NN_CONV_CLASS_WIDE] = (nn_conv_tile){ 16, 1, 16, 1, 4 };
    t->cls[NN_CONV_CLASS_THIN_IN] = (nn_conv_tile){ 16, 1, 16, 1, 4 };
    t->cls[NN_CONV_CLASS_NARROW] = (nn_conv_tile){ 1, 4, 16, 1, 4 };
}

/* Whether every field of a tuning is within the kernel's limits. */
int nn_conv_tuning_valid(const nn_conv_tuning *t)
{
    if (!t || (t->oc_first != 0 && t->oc_first != 1))
        return 0;
    for (int c = 0; c < NN_CONV_CLASSES; c++) {
        const nn_conv_tile *k = &t->cls[c];
        if (k->toc < 1 || k->toc > 32 || k->nv < 1 || k->nv > 8)
            return 0;
        if (k->vw != 1 && k->vw != 2 && k->vw != 4 && k->vw != 8 && k->vw != 16)
            return 0;
        if (k->lx < 1 || k->ly < 1 || k->lx * k->ly > 1024)
            return 0;
    }
    if (t->nchoices < 0 || t->nchoices > NN_CONV_CHOICES_MAX)
        return 0;
    for (int i = 0; i < t->nchoices; i++)
        if (t->choice[i].algo < 0 || t->choice[i].algo >= NN_CONV_ALGOS)
            return 0;
    return 1;
}

/* Whether two shapes key the same record (act and half_out aside). */
static int shape_same(const nn_conv_shape *a, const nn_conv_shape *b)
{
    nn_conv_shape x = *a, y = *b;

    x.act = y.act = x.half_out = y.half_out = 0;
    return memcmp(&x, &y, sizeof(x)) == 0;
}

/* Finds a shape's record (see nn_conv_tiled.h). */
int nn_conv_tuning_lookup(const nn_conv_tuning *t, const nn_conv_shape *s)
{
    for (int i = 0; t && i < t->nchoices && i < NN_CONV_CHOICES_MAX; i++)
        if (shape_same(&t->choice[i].s, s))
            return t->choice[i].algo;
    return -1;
}

/* Adds or replaces a shape's record (see nn_conv_tiled.h). */
int nn_conv_tuning_record(nn_conv_tuning *t, const nn_conv_shape *s, int algo)
{
    int i = 0;

    while (i < t->nchoices && !shape_same(&t->choice[i].s, s))
        i++;
    if (i == NN_CONV_CHOICES_MAX)
        return 0;
    t->choice[i].s = *s;
    t->choice[i].s.act = t->choice[i].s.half_out = 0;
    t->choice[i].algo = algo;
    if (i == t->nchoices)
        t->nchoices++;
    return 1;
}

/* Classifies a conv by its channel counts. */
int nn_conv_tiled_class(int64_t in_channels, int64_t out_channels)
{
    if (out_channels <= 4)
        return NN_CONV_CLASS_NARROW;
    if (in_channels <= 8)
        return NN_CONV_CLASS_THIN_IN;
    return NN_CONV_CLASS_WIDE;
}

/* The tile for a conv of C -> OC (see nn_conv_tiled.h). */
nn_conv_tile nn_conv_tiled_tile(const nn_conv_tuning *t, int64_t c, int64_t oc)
{
    nn_conv_tuning def;
    nn_conv_tile k;

    if (!t || !nn_conv_tuning_valid(t)) {
        nn_conv_tuning_default(NULL, &def);
        t = &def;
    }
    k = t->cls[nn_conv_tiled_class(c, oc)];
    if (oc >= 1 && k.toc > oc)
        k.toc = (int)oc;
    return k;
}

/* Caps toc at OC and narrows the vectors for rows narrower than the tile
 * (see nn_conv_tiled.h). */
void nn_conv_tile_fit(nn_conv_tile *k, int64_t out_channels, int64_t out_width)
{
    if (out_channels >= 1 && k->toc > out_channels)
        k->toc = (int)out_channels;
    while (k->nv > 1 && k->nv * k->vw > out_width)
        k->nv--;
    while (k->vw > 1 && k->vw > out_width)
        k->vw /= 2;
}

/* Whether a tensor index names a shaped float tensor of rank 4. */
static int float4d(const kiln_graph *g, int index)
{
    const graph_tensor *t;

    if (index < 0 || (size_t)index >= g->ntensors)
        return 0;
    t = &g->tensors[index];
    return graph_dtype_is_float(t->dtype) && t->rank == 4;
}

/* Checks node shape and attributes (see nn_conv_tiled.h). */
int nn_conv_tiled_fits(const kiln_graph *g, const graph_node *n)
{
    const graph_conv_attr *a;
    const graph_tensor *x, *w, *y;
    const int64_t lim = INT32_MAX / 2;

    if (!g || !n || n->op != GRAPH_OP_CONV || n->ninputs < 2 || n->noutputs < 1)
        return 0;
    a = &n->attr.conv;
    if (a->group != 1 || a->win.nspatial != 2 || a->win.auto_pad != GRAPH_PAD_NOTSET)
        return 0;
    if (!float4d(g, n->inputs[0]) || !float4d(g, n->inputs[1]) || !float4d(g, n->outputs[0]))
        return 0;
    x = &g->tensors[n->inputs[0]];
    w = &g->tensors[n->inputs[1]];
    y = &g->tensors[n->outputs[0]];
    if (w->kind != GRAPH_TENSOR_CONSTANT)   /* data may be dropped after upload */
        return 0;
    if (n->ninputs > 2 && n->inputs[2] >= 0) {
        const graph_tensor *b;
        if ((size_t)n->inputs[2] >= g->ntensors)
            return 0;
        b = &g->tensors[n->inputs[2]];
        if (!graph_dtype_is_float(b->dtype) || graph_tensor_elements(b) != w->dims[0])
            return 0;
    }
    if (x->dims[0] < 1 || y->dims[0] != x->dims[0] || w->dims[1] != x->dims[1] ||
        y->dims[1] != w->dims[0])
        return 0;
    for (int i = 1; i < 4; i++)
        if (x->dims[i] < 1 || y->dims[i] < 1 || w->dims[i - 1] < 1 || x->dims[i] > lim ||
            y->dims[i] > lim)
            return 0;
    for (int i = 0; i < 2; i++) {
        if (a->win.kernel[i] != w->dims[2 + i] || a->win.strides[i] < 1 ||
            a->win.dilations[i] < 1 || a->win.pads[i] < 0 || a->win.pads[i] > lim ||
            a->win.strides[i] > lim || a->win.dilations[i] > lim)
            return 0;
        /* the last output's first tap must stay in int range */
        if ((y->dims[2 + i] - 1) * a->win.strides[i] + (w->dims[2 + i] - 1) * a->win.dilations[i] >
            lim)
            return 0;
    }
    /* every tensor (and the packed weights) indexed within 31 bits */
    if (x->dims[1] * x->dims[2] * x->dims[3] > lim || y->dims[1] * y->dims[2] * y->dims[3] > lim ||
        (w->dims[0] + 32) * w->dims[1] * w->dims[2] * w->dims[3] > lim)
        return 0;
    return 1;
}

/* Packed weight floats of node n (see nn_conv_tiled.h). */
size_t nn_conv_tiled_packed_elements(const kiln_graph *g, const graph_node *n,
                                      const nn_conv_tuning *t)
{
    const graph_tensor *w = &g->tensors[n->inputs[1]];
    nn_conv_tile k = nn_conv_tiled_tile(t, w->dims[1], w->dims[0]);
    size_t ocp = ((size_t)w->dims[0] + (size_t)k.toc - 1) / (size_t)k.toc * (size_t)k.toc;

    return ocp * (size_t)w->dims[1] * (size_t)w->dims[2] * (size_t)w->dims[3];
}

/* Packs OIHW into [OC/toc][KH][KW][C][toc] (see nn_conv_tiled.h). */
void nn_conv_tiled_pack(const kiln_graph *g, const graph_node *n, const nn_conv_tuning *t,
                        float *dst)
{
    const graph_tensor *w = &g->tensors[n->inputs[1]];
    const size_t oc_n = (size_t)w->dims[0], c_n = (size_t)w->dims[1];
    const size_t kh = (size_t)w->dims[2], kw = (size_t)w->dims[3];
    nn_conv_tile k = nn_conv_tiled_tile(t, w->dims[1], w->dims[0]);
    const size_t toc = (size_t)k.toc, nblocks = (oc_n + toc - 1) / toc;
    size_t at = 0;

    for (size_t ob = 0; ob < nblocks; ob++)
        for (size_t ky = 0; ky < kh; ky++)
            for (size_t kx = 0; kx < kw; kx++)
                for (size_t c = 0; c < c_n; c++)
                    for (size_t j = 0; j < toc; j++, at++) {
                        size_t oc = ob * toc + j;
                        dst[at] = oc < oc_n ? w->f32[((oc * c_n + c) * kh + ky) * kw + kx] : 0.0f;
                    }
}

/* Enqueues the kernel for explicit shapes, float32 tensors (see
 * nn_conv_tiled.h). */
kiln_status nn_conv_tiled_enqueue(kiln_device *dev, const nn_conv_shape *s,
                                  const nn_conv_tile *tile, int oc_first, nn_place x,
                                  nn_place w, nn_place b, nn_place y, nn_place r)
{
    return nn_conv_tiled_enqueue_stored(dev, s, tile, oc_first, NULL, x, w, b, y, r);
}

/* Enqueues the kernel with storage options (see nn_conv_tiled.h). */
kiln_status nn_conv_tiled_enqueue_stored(kiln_device *dev, const nn_conv_shape *s,
                                         const nn_conv_tile *tile, int oc_first,
                                         const char *storage, nn_place x, nn_place w,
                                         nn_place b, nn_place y, nn_place r)
{
    char options[224];
    int sx_spec = s->sx == 1 || s->sx == 2 ? s->sx : 0;
    cl_int has_bias = b.mem != NULL;
    cl_mem bmem = b.mem ? b.mem : w.mem;
    cl_uint boff = b.mem ? b.offset : 0;
    cl_int has_res = r.mem != NULL;
    cl_mem rmem = r.mem ? r.mem : x.mem;
    cl_uint roff = r.mem ? r.offset : 0;
    cl_int ci = s->c, hi = s->h, wi = s->w, oci = s->oc, ohi = s->oh, owi = s->ow;
    cl_int khi = s->kh, kwi = s->kw, syi = s->sy, sxi = s->sx, dyi = s->dy, dxi = s->dx;
    cl_int pyi = s->py, pxi = s->px, acti = s->act, halfi = s->half_out;
    size_t tpx = (size_t)tile->nv * (size_t)tile->vw;
    size_t ntx = ((size_t)s->ow + tpx - 1) / tpx;
    size_t nocb = ((size_t)s->oc + (size_t)tile->toc - 1) / (size_t)tile->toc;
    size_t global[3], local[3] = { (size_t)tile->lx, (size_t)tile->ly, 1 };
    const dev_kernel_arg args[] = {
        DEV_ARG(x.mem), DEV_ARG(x.offset), DEV_ARG(w.mem), DEV_ARG(w.offset),
        DEV_ARG(bmem), DEV_ARG(boff), DEV_ARG(has_bias), DEV_ARG(y.mem), DEV_ARG(y.offset),
        DEV_ARG(rmem), DEV_ARG(roff), DEV_ARG(has_res), DEV_ARG(ci), DEV_ARG(hi), DEV_ARG(wi), DEV_ARG(oci), DEV_ARG(ohi), DEV_ARG(owi),
        DEV_ARG(khi), DEV_ARG(kwi), DEV_ARG(syi), DEV_ARG(sxi), DEV_ARG(dyi), DEV_ARG(dxi),
        DEV_ARG(pyi), DEV_ARG(pxi), DEV_ARG(acti), DEV_ARG(halfi)
    };

    /* a tuning never asks for more than the device allows */
    while (local[0] * local[1] > dev->info.max_work_group && local[0] * local[1] > 1) {
        if (local[1] > 1)
            local[1] /= 2;
        else
            local[0] /= 2;
    }
    snprintf(options, sizeof(options), "%s%s-D TOC=%d -D NV=%d -D VW=%d -D SX=%d -D OC_FIRST=%d",
             storage ? storage : "", storage ? " " : "", tile->toc, tile->nv, tile->vw, sx_spec,
             oc_first ? 1 : 0);
    if (oc_first) {
        global[0] = nocb;
        global[1] = ntx;
        global[2] = (size_t)s->oh;
    } else {
        global[0] = ntx;
        global[1] = (size_t)s->oh;
        global[2] = nocb;
    }
    return dev_kernel_launch(dev, TILED_SOURCE, options, TILED_KERNEL, args, DEV_NARGS(args), 3,
                             global, local);
}

/* Enqueues one Conv node, one launch per batch image (see
 * nn_conv_tiled.h). */
kiln_status nn_launch_conv_tiled(const nn_launch *ctx, const graph_node *n)
{
    const kiln_graph *g = ctx->g;
    const graph_tensor *x, *w, *y;
    const graph_conv_attr *a = &n->attr.conv;
    nn_conv_tuning def;
    const nn_conv_tuning *t = ctx->conv_tuning;
    nn_conv_tile tile;
    nn_conv_shape s;
    nn_place px, pw, pb = { NULL, 0 }, py, pr = { NULL, 0 };
    int has_res = n->ninputs > 3 && n->inputs[3] >= 0;
    char label[160], options[96];
    const char *storage;
    uint64_t in_plane, out_plane;

    if (!nn_conv_tiled_fits(g, n))
        return kiln_fail(KILN_E_INVAL, "%s: not a conv the tiled kernel runs",
                         graph_node_label(n, label, sizeof(label)));
    if (!t || !nn_conv_tuning_valid(t)) {
        nn_conv_tuning_default(&ctx->dev->info, &def);
        t = &def;
    }
    x = &g->tensors[n->inputs[0]];
    w = &g->tensors[n->inputs[1]];
    y = &g->tensors[n->outputs[0]];
    tile = nn_conv_tiled_tile(t, w->dims[1], w->dims[0]);
    nn_conv_tile_fit(&tile, y->dims[1], y->dims[3]);
    s = (nn_conv_shape){
        (int)x->dims[1], (int)x->dims[2], (int)x->dims[3], (int)y->dims[1], (int)y->dims[2],
        (int)y->dims[3], (int)w->dims[2], (int)w->dims[3], (int)a->win.strides[0],
        (int)a->win.strides[1], (int)a->win.dilations[0], (int)a->win.dilations[1],
        (int)a->win.pads[0], (int)a->win.pads[1],
        nn_act_code(a->activation),
        y->dtype == GRAPH_DT_FLOAT16
    };
    storage = nn_build_options(ctx, nn_conv_half_mask(g, n), NULL, options, sizeof(options));
    px = ctx->places[n->inputs[0]];
    pw = ctx->places[n->inputs[1]];
    py = ctx->places[n->outputs[0]];
    if (n->ninputs > 2 && n->inputs[2] >= 0)
        pb = ctx->places[n->inputs[2]];
    if (has_res)
        pr = ctx->places[n->inputs[3]];
    if (!px.mem || !pw.mem || !py.mem || (n->ninputs > 2 && n->inputs[2] >= 0 && !pb.mem) ||
        (has_res && !pr.mem))
        return kiln_fail(KILN_E_INVAL, "%s: a tensor has no device place",
                         graph_node_label(n, label, sizeof(label)));
    in_plane = (uint64_t)s.c * (uint64_t)s.h * (uint64_t)s.w;
    out_plane = (uint64_t)s.oc * (uint64_t)s.oh * (uint64_t)s.ow;
    if (px.offset + in_plane * (uint64_t)x->dims[0] > UINT32_MAX ||
        py.offset + out_plane * (uint64_t)x->dims[0] > UINT32_MAX ||
        pr.offset + out_plane * (uint64_t)x->dims[0] > UINT32_MAX)
        return kiln_fail(KILN_E_LIMIT, "%s: tensor offsets past 2^32 floats",
                         graph_node_label(n, label, sizeof(label)));
    for (int64_t bi = 0; bi < x->dims[0]; bi++) {
        nn_place xb = { px.mem, (cl_uint)(px.offset + in_plane * (uint64_t)bi) };
        nn_place yb = { py.mem, (cl_uint)(py.offset + out_plane * (uint64_t)bi) };
        nn_place rb = { pr.mem, (cl_uint)(pr.offset + out_plane * (uint64_t)bi) };
        kiln_status st = nn_conv_tiled_enqueue_stored(ctx->dev, &s, &tile, t->oc_first, storage,
                                                      xb, pw, pb, yb, rb);
        if (st != KILN_OK)
            return kiln_fail_context(st, "%s", graph_node_label(n, label, sizeof(label)));
    }
    return KILN_OK;
}
