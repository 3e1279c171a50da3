/* Winograd convolution F(m x m, 3 x 3) (see nn_conv_winograd.h). */
#include <stdio.h>
#include <string.h>

#include "nn_conv_algo.h"
#include "nn_conv_winograd.h"
#include "nn_kernel.h"
#include "status.h"

#define WINO_SOURCE "nn_conv_winograd.cl"

/* G of F(2,3) (4 x 3) and F(4,3) (6 x 3). */
static const double g2[4][3] = {
    { 1.0, 0.0, 0.0 }, { 0.5, 0.5, 0.5 }, { 0.5, -0.5, 0.5 }, { 0.0, 0.0, 1.0 }
};
static const double g4[6][3] = {
    { 1.0 / 4, 0.0, 0.0 },           { -1.0 / 6, -1.0 / 6, -1.0 / 6 },
    { -1.0 / 6, 1.0 / 6, -1.0 / 6 }, { 1.0 / 24, 1.0 / 12, 1.0 / 6 },
    { 1.0 / 24, -1.0 / 12, 1.0 / 6 }, { 0.0, 0.0, 1.0 }
};

/* Checks the conv and its optional residual (see nn_conv_winograd.h). */
int nn_conv_winograd_fits(const kiln_graph *g, const graph_node *n)
{
    const graph_conv_attr *a;

    if (!nn_conv_tiled_fits(g, n))
        return 0;
    a = &n->attr.conv;
    if (a->win.kernel[0] != 3 || a->win.kernel[1] != 3 || a->win.strides[0] != 1 ||
        a->win.strides[1] != 1 || a->win.dilations[0] != 1 || a->win.dilations[1] != 1)
        return 0;
    return nn_conv_residual_fits(g, n);
}

/* The product's tile (see nn_conv_winograd.h). */
nn_conv_tile nn_conv_winograd_tile(const nn_conv_tuning *t, int64_t c, int64_t oc)
{
    return nn_conv_tiled_tile(t, c, oc);
}

/* Tiles per work-item of the transforms (the kernel's NT): 4 of F(4,3)
 * (18 input floats a row), 8 of F(2,3) (18 too). */
static size_t wino_nt(int m)
{
    return m == 4 ? 4 : 8;
}

/* Floats of V and M one band of tile rows aims at: the transforms'
 * output stays in cache for the product, the product's for the output
 * transform. */
#define WINO_BAND_FLOATS ((size_t)1 << 20)

/* The geometry of one launch: tiles, the band of tile rows, padded
 * counts (ppad: the columns of V and M of one band). */
typedef struct wino_geom {
    size_t c, oc, ocpad, tiles_xp, tiles_y, band, ppad, a2, nt;
} wino_geom;

/* Greatest common divisor of two positive sizes. */
static size_t gcd(size_t a, size_t b)
{
    while (b) {
        size_t r = a % b;
        a = b;
        b = r;
    }
    return a;
}

/* Fills *gm for node n (which fits) with m and tile k: tile rows padded
 * to NT tiles, bands of as many tile rows as keep V and M of a band near
 * WINO_BAND_FLOATS (at least one), a band's tile count rounded up to a
 * multiple of NT and of the product's NV * VW. */
static void wino_geometry(const kiln_graph *g, const graph_node *n, int m, const nn_conv_tile *k,
                          wino_geom *gm)
{
    const graph_tensor *w = &g->tensors[n->inputs[1]], *y = &g->tensors[n->outputs[0]];
    size_t tp = (size_t)k->nv * (size_t)k->vw, toc = (size_t)k->toc, step;
    size_t tiles_x = ((size_t)y->dims[3] + (size_t)m - 1) / (size_t)m;

    gm->nt = wino_nt(m);
    gm->c = (size_t)w->dims[1];
    gm->oc = (size_t)w->dims[0];
    gm->ocpad = (gm->oc + toc - 1) / toc * toc;
    gm->tiles_xp = (tiles_x + gm->nt - 1) / gm->nt * gm->nt;
    gm->tiles_y = ((size_t)y->dims[2] + (size_t)m - 1) / (size_t)m;
    gm->a2 = (size_t)(m + 2) * (size_t)(m + 2);
    gm->band = WINO_BAND_FLOATS / (gm->a2 * (gm->c + gm->ocpad) * gm->tiles_xp);
    gm->band = gm->band < 1 ? 1 : gm->band > gm->tiles_y ? gm->tiles_y : gm->band;
    step = tp / gcd(tp, gm->nt) * gm->nt;
    gm->ppad = (gm->band * gm->tiles_xp + step - 1) / step * step;
}

/* Transformed weight floats (see nn_conv_winograd.h). */
size_t nn_conv_winograd_packed_elements(const kiln_graph *g, const graph_node *n, int m,
                                        const nn_conv_tuning *t)
{
    const graph_tensor *w = &g->tensors[n->inputs[1]];
    nn_conv_tile k = nn_conv_winograd_tile(t, w->dims[1], w->dims[0]);
    wino_geom gm;

    wino_geometry(g, n, m, &k, &gm);
    return gm.a2 * gm.ocpad * gm.c;
}

/* U = G g G^T per (oc, c), packed [a][OCpad/toc][C][toc] (see
 * nn_conv_winograd.h). */
void nn_conv_winograd_pack_toc(const kiln_graph *g, const graph_node *n, int m, int toc,
                               float *dst)
{
    const graph_tensor *w = &g->tensors[n->inputs[1]];
    const double (*gmat)[3] = m == 2 ? g2 : g4;
    const size_t alpha = (size_t)m + 2, tc = (size_t)toc, a2 = alpha * alpha;
    const size_t oc_n = (size_t)w->dims[0], c_n = (size_t)w->dims[1];
    const size_t ocpad = (oc_n + tc - 1) / tc * tc;

    memset(dst, 0, a2 * ocpad * c_n * sizeof(float));
    for (size_t o = 0; o < oc_n; o++)
        for (size_t c = 0; c < c_n; c++) {
            const float *f = w->f32 + (o * c_n + c) * 9;
            double tmp[6][3];
            for (size_t i = 0; i < alpha; i++)
                for (size_t j = 0; j < 3; j++)
                    tmp[i][j] = gmat[i][0] * f[j] + gmat[i][1] * f[3 + j] + gmat[i][2] * f[6 + j];
            for (size_t i = 0; i < alpha; i++)
                for (size_t j = 0; j < alpha; j++) {
                    double u = tmp[i][0] * gmat[j][0] + tmp[i][1] * gmat[j][1] +
                               tmp[i][2] * gmat[j][2];
                    size_t a = i * alpha + j;
                    size_t at = ((a * (ocpad / tc) + o / tc) * c_n + c) * tc + o % tc;
                    dst[at] = (float)u;
                }
        }
}

/* Packs for the product's toc of tuning t (see nn_conv_winograd.h). */
void nn_conv_winograd_pack(const kiln_graph *g, const graph_node *n, int m,
                           const nn_conv_tuning *t, float *dst)
{
    const graph_tensor *w = &g->tensors[n->inputs[1]];
    nn_conv_tile k = nn_conv_winograd_tile(t, w->dims[1], w->dims[0]);

    nn_conv_winograd_pack_toc(g, n, m, k.toc, dst);
}

/* Scratch floats (see nn_conv_winograd.h). */
size_t nn_conv_winograd_scratch_floats(const kiln_graph *g, const graph_node *n, int m,
                                       const nn_conv_tuning *t)
{
    const graph_tensor *w = &g->tensors[n->inputs[1]];
    nn_conv_tile k = nn_conv_winograd_tile(t, w->dims[1], w->dims[0]);
    wino_geom gm;

    wino_geometry(g, n, m, &k, &gm);
    return gm.a2 * gm.ppad * (gm.c + gm.ocpad);
}

/* The three kernels of one band of tile rows from ty0 of one image: x, y,
 * res at their places (storage half_mask, the kernels' NN_HALF); v and mm
 * in the scratch. */
static kiln_status wino_band(const nn_launch *ctx, unsigned half_mask, const wino_geom *gm,
                             const nn_conv_tile *k, int m, size_t ty0, const graph_tensor *x,
                             const graph_tensor *y, const int *pads, int act, int half_out,
                             nn_place px, nn_place pw, nn_place pb, nn_place pres, nn_place py,
                             nn_place v, nn_place mm)
{
    kiln_device *dev = ctx->dev;
    char tile[128], buf[192];
    const char *options;
    cl_int ci = (cl_int)gm->c, hi = (cl_int)x->dims[2], wi = (cl_int)x->dims[3];
    cl_int pyi = pads[0], pxi = pads[1], txp = (cl_int)gm->tiles_xp;
    cl_int ty0i = (cl_int)ty0, tyi = (cl_int)gm->tiles_y, ppi = (cl_int)gm->ppad, oci = (cl_int)gm->oc;
    cl_int ocp = (cl_int)gm->ocpad, ohi = (cl_int)y->dims[2], owi = (cl_int)y->dims[3];
    cl_int acti = act, halfi = half_out;
    cl_int has_bias = pb.mem != NULL, has_res = pres.mem != NULL;
    cl_mem bmem = pb.mem ? pb.mem : pw.mem, rmem = pres.mem ? pres.mem : py.mem;
    size_t tp = (size_t)k->nv * (size_t)k->vw, strips = gm->tiles_xp / gm->nt;
    kiln_status st;

    snprintf(tile, sizeof(tile), "-D WM=%d -D NT=%zu -D TOC=%d -D NV=%d -D VW=%d", m,
             gm->nt, k->toc, k->nv, k->vw);
    options = nn_build_options(ctx, half_mask, tile, buf, sizeof(buf));
    {
        const dev_kernel_arg args[] = {
            DEV_ARG(px.mem), DEV_ARG(px.offset), DEV_ARG(v.mem), DEV_ARG(v.offset), DEV_ARG(ci),
            DEV_ARG(hi), DEV_ARG(wi), DEV_ARG(pyi), DEV_ARG(pxi), DEV_ARG(txp), DEV_ARG(ty0i),
            DEV_ARG(ppi)
        };
        size_t global[3] = { strips, (gm->ppad + gm->tiles_xp - 1) / gm->tiles_xp, gm->c };
        size_t local[3] = { 1, 1, 4 };
        st = dev_kernel_launch(dev, WINO_SOURCE, options, "wino_input", args, DEV_NARGS(args), 3,
                               global, local);
    }
    if (st == KILN_OK) {
        const dev_kernel_arg args[] = {
            DEV_ARG(pw.mem), DEV_ARG(pw.offset), DEV_ARG(v.mem), DEV_ARG(v.offset),
            DEV_ARG(mm.mem), DEV_ARG(mm.offset), DEV_ARG(ci), DEV_ARG(ocp), DEV_ARG(ppi)
        };
        size_t global[3] = { gm->ocpad / (size_t)k->toc, gm->ppad / tp, gm->a2 };
        size_t local[3] = { (size_t)k->lx, (size_t)k->ly, 1 };
        while (local[0] * local[1] > dev->info.max_work_group && local[0] * local[1] > 1) {
            if (local[1] > 1)
                local[1] /= 2;
            else
                local[0] /= 2;
        }
        st = dev_kernel_launch(dev, WINO_SOURCE, options, "wino_gemm", args, DEV_NARGS(args), 3,
                               global, local);
    }
    if (st == KILN_OK) {
        const dev_kernel_arg args[] = {
            DEV_ARG(mm.mem), DEV_ARG(mm.offset), DEV_ARG(bmem), DEV_ARG(pb.offset),
            DEV_ARG(has_bias), DEV_ARG(rmem), DEV_ARG(pres.offset), DEV_ARG(has_res),
            DEV_ARG(py.mem), DEV_ARG(py.offset), DEV_ARG(oci), DEV_ARG(ocp), DEV_ARG(ohi),
            DEV_ARG(owi), DEV_ARG(txp), DEV_ARG(ty0i), DEV_ARG(tyi), DEV_ARG(ppi), DEV_ARG(acti),
            DEV_ARG(halfi)
        };
        size_t rows = gm->tiles_y - ty0 < gm->band ? gm->tiles_y - ty0 : gm->band;
        size_t global[3] = { strips, rows, gm->oc }, local[3] = { 1, 1, 4 };
        st = dev_kernel_launch(dev, WINO_SOURCE, options, "wino_output", args, DEV_NARGS(args), 3,
                               global, local);
    }
    return st;
}

/* Enqueues node n, one pass per batch image (see nn_conv_winograd.h). */
kiln_status nn_launch_conv_winograd(const nn_launch *ctx, const graph_node *n, int m)
{
    const kiln_graph *g = ctx->g;
    const graph_tensor *x, *w, *y;
    nn_place px, pw, py, pb, pres, v, mm;
    nn_conv_tile k;
    wino_geom gm;
    char label[NN_LABEL_MAX];
    int pads[2];
    uint64_t in_plane, out_plane;
    kiln_status st;

    graph_node_label(n, label, sizeof(label));
    if ((m != 2 && m != 4) || !nn_conv_winograd_fits(g, n))
        return kiln_fail(KILN_E_INVAL, "%s: not a conv the Winograd F(%d,3) path runs", label, m);
    x = &g->tensors[n->inputs[0]];
    w = &g->tensors[n->inputs[1]];
    y = &g->tensors[n->outputs[0]];
    k = nn_conv_winograd_tile(ctx->conv_tuning, w->dims[1], w->dims[0]);
    wino_geometry(g, n, m, &k, &gm);
    if (!ctx->scratch.mem || ctx->scratch_floats < gm.a2 * gm.ppad * (gm.c + gm.ocpad))
        return kiln_fail(KILN_E_INVAL, "%s: the Winograd scratch holds %zu floats, not %zu",
                         label, ctx->scratch.mem ? ctx->scratch_floats : 0,
                         gm.a2 * gm.ppad * (gm.c + gm.ocpad));
    if ((uint64_t)ctx->scratch.offset + gm.a2 * gm.ppad * (gm.c + gm.ocpad) > UINT32_MAX)
        return kiln_fail(KILN_E_LIMIT, "%s: the Winograd scratch ends past 2^32 floats", label);
    st = nn_conv_places_of(ctx, n, label, 1, &px, &pw, &py, &pb, &pres);
    if (st != KILN_OK)
        return st;
    v = ctx->scratch;
    mm = (nn_place){ ctx->scratch.mem, (cl_uint)(ctx->scratch.offset + gm.a2 * gm.ppad * gm.c) };
    pads[0] = (int)n->attr.conv.win.pads[0];
    pads[1] = (int)n->attr.conv.win.pads[1];
    in_plane = (uint64_t)x->dims[1] * (uint64_t)x->dims[2] * (uint64_t)x->dims[3];
    out_plane = (uint64_t)y->dims[1] * (uint64_t)y->dims[2] * (uint64_t)y->dims[3];
    for (int64_t bi = 0; bi < x->dims[0]; bi++) {
        nn_place xb = { px.mem, (cl_uint)(px.offset + in_plane * (uint64_t)bi) };
        nn_place yb = { py.mem, (cl_uint)(py.offset + out_plane * (uint64_t)bi) };
        nn_place rb = { pres.mem, pres.mem ? (cl_uint)(pres.offset + out_plane * (uint64_t)bi)
                                           : 0 };
        for (size_t ty0 = 0; ty0 < gm.tiles_y && st == KILN_OK; ty0 += gm.band)
            st = wino_band(ctx, nn_conv_half_mask(g, n), &gm, &k, m, ty0, x, y, pads,
                           nn_act_code(n->attr.conv.activation), y->dtype == GRAPH_DT_FLOAT16,
                           xb, pw, pb, rb, yb, v, mm);
        if (st != KILN_OK)
            return kiln_fail_context(st, "%s", label);
    }
    return KILN_OK;
}
