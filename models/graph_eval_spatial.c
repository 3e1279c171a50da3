/* Host Conv, pools and Resize (see graph_eval_spatial.h).  Conv and the
 * pools work on up to three spatial dims by treating the missing leading
 * ones as size 1; Resize builds, per axis, the neighbours and weights of
 * every output coordinate and sums their products. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "float16.h"
#include "graph_eval_spatial.h"
#include "host_alloc.h"
#include "status.h"

/* A window over three spatial dims (unused leading dims have size 1). */
typedef struct space3 {
    int64_t in[3], out[3], k[3], s[3], d[3], pb[3], pe[3];
} space3;

/* Rounds a result to the output's float precision. */
static float float_store(const graph_tensor *out, double v)
{
    return out->dtype == GRAPH_DT_FLOAT16 ? float16_round((float)v) : (float)v;
}

/* Lays a resolved window onto three dims. */
static void space3_init(const graph_window *w, const graph_tensor *x, const graph_tensor *out,
                        space3 *sp)
{
    int off = 3 - w->nspatial;

    for (int i = 0; i < 3; i++) {
        sp->in[i] = sp->out[i] = sp->k[i] = sp->s[i] = sp->d[i] = 1;
        sp->pb[i] = sp->pe[i] = 0;
    }
    for (int i = 0; i < w->nspatial; i++) {
        sp->in[off + i] = x->dims[2 + i];
        sp->out[off + i] = out->dims[2 + i];
        sp->k[off + i] = w->kernel[i];
        sp->s[off + i] = w->strides[i];
        sp->d[off + i] = w->dilations[i];
        sp->pb[off + i] = w->pads[i];
        sp->pe[off + i] = w->pads[i + w->nspatial];
    }
}

/* Input coordinate of output o, kernel tap k on axis a. */
static int64_t tap(const space3 *sp, int a, int64_t o, int64_t k)
{
    return o * sp->s[a] - sp->pb[a] + k * sp->d[a];
}

/* Direct convolution, one output element at a time. */
void graph_eval_conv(const graph_node *n, const graph_tensor *x, const graph_tensor *w,
                     const graph_tensor *b, const graph_tensor *r, graph_tensor *out)
{
    space3 sp;
    int64_t nb = x->dims[0], ch = x->dims[1], m_all = out->dims[1];
    int64_t group = n->attr.conv.group, cg = ch / group, mg = m_all / group;
    int64_t plane_in = 1, plane_out = 1, ksize = 1, at = 0;

    space3_init(&n->attr.conv.win, x, out, &sp);
    for (int i = 0; i < 3; i++) {
        plane_in *= sp.in[i];
        plane_out *= sp.out[i];
        ksize *= sp.k[i];
    }
    for (int64_t bi = 0; bi < nb; bi++)
        for (int64_t m = 0; m < m_all; m++)
            for (int64_t o = 0; o < plane_out; o++, at++) {
                int64_t o0 = o / (sp.out[1] * sp.out[2]), o1 = (o / sp.out[2]) % sp.out[1];
                int64_t o2 = o % sp.out[2];
                double acc = b ? b->f32[m] : 0.0;
                int64_t gi = m / mg;
                for (int64_t c = 0; c < cg; c++) {
                    const float *xp = x->f32 + (bi * ch + gi * cg + c) * plane_in;
                    const float *wp = w->f32 + (m * cg + c) * ksize;
                    for (int64_t k0 = 0; k0 < sp.k[0]; k0++) {
                        int64_t i0 = tap(&sp, 0, o0, k0);
                        if (i0 < 0 || i0 >= sp.in[0])
                            continue;
                        for (int64_t k1 = 0; k1 < sp.k[1]; k1++) {
                            int64_t i1 = tap(&sp, 1, o1, k1);
                            if (i1 < 0 || i1 >= sp.in[1])
                                continue;
                            for (int64_t k2 = 0; k2 < sp.k[2]; k2++) {
                                int64_t i2 = tap(&sp, 2, o2, k2);
                                if (i2 < 0 || i2 >= sp.in[2])
                                    continue;
                                acc += (double)wp[(k0 * sp.k[1] + k1) * sp.k[2] + k2] *
                                       xp[(i0 * sp.in[1] + i1) * sp.in[2] + i2];
                            }
                        }
                    }
                }
                if (n->attr.conv.activation == GRAPH_ACT_RELU && acc < 0.0)
                    acc = 0.0;
                else if (n->attr.conv.activation == GRAPH_ACT_SIGMOID)
                    acc = 1.0 / (1.0 + exp(-acc));
                if (r)
                    acc += (double)r->f32[at];
                out->f32[at] = float_store(out, acc);
            }
}

/* Max or average over each window. */
void graph_eval_pool(const graph_node *n, const graph_tensor *x, graph_tensor *out)
{
    space3 sp;
    int is_max = n->op == GRAPH_OP_MAXPOOL, include = n->attr.pool.count_include_pad;
    int64_t planes = x->dims[0] * x->dims[1], plane_in = 1, plane_out = 1, at = 0;

    space3_init(&n->attr.pool.win, x, out, &sp);
    for (int i = 0; i < 3; i++) {
        plane_in *= sp.in[i];
        plane_out *= sp.out[i];
    }
    for (int64_t p = 0; p < planes; p++)
        for (int64_t o = 0; o < plane_out; o++, at++) {
            int64_t oc[3] = { o / (sp.out[1] * sp.out[2]), (o / sp.out[2]) % sp.out[1],
                              o % sp.out[2] };
            double sum = 0.0, best = -INFINITY;
            int64_t count = 0, ibest = INT64_MIN;
            for (int64_t k0 = 0; k0 < sp.k[0]; k0++)
                for (int64_t k1 = 0; k1 < sp.k[1]; k1++)
                    for (int64_t k2 = 0; k2 < sp.k[2]; k2++) {
                        const int64_t ic[3] = { tap(&sp, 0, oc[0], k0), tap(&sp, 1, oc[1], k1),
                                                tap(&sp, 2, oc[2], k2) };
                        int inside = 1, padded = 1;
                        for (int a = 0; a < 3; a++) {
                            inside &= ic[a] >= 0 && ic[a] < sp.in[a];
                            padded &= ic[a] >= -sp.pb[a] && ic[a] < sp.in[a] + sp.pe[a];
                        }
                        count += include ? padded : inside;
                        if (!inside)
                            continue;
                        int64_t e = p * plane_in + (ic[0] * sp.in[1] + ic[1]) * sp.in[2] + ic[2];
                        if (x->f32) {
                            sum += x->f32[e];
                            if (x->f32[e] > best)
                                best = x->f32[e];
                        } else if (x->i64[e] > ibest) {
                            ibest = x->i64[e];
                        }
                    }
            if (out->i64)
                out->i64[at] = count ? ibest : 0;
            else if (is_max)
                out->f32[at] = float_store(out, best);
            else
                out->f32[at] = float_store(out, count ? sum / (double)count : 0.0);
        }
}

/* Neighbours and weights of every output coordinate on one axis. */
typedef struct axis_map {
    int64_t out;
    int *count;                     /* entries per output coordinate */
    int64_t *idx;                   /* 4 per output coordinate, clamped */
    double *w;
    unsigned char *outside;         /* tf_crop_and_resize: extrapolate */
} axis_map;

/* Maps output coordinate o to an input coordinate (ONNX reference). */
static double resize_coord(const graph_resize_attr *a, int axis, int rank, int64_t in,
                           int64_t out, double o)
{
    double scale = a->scales[axis];
    double length = a->sized ? (double)out : scale * (double)in;
    double r0 = a->roi[axis], r1 = a->roi[axis + rank];

    switch (a->coord) {
    case GRAPH_COORD_ALIGN_CORNERS:
        return length == 1.0 ? 0.0 : o * (double)(in - 1) / (length - 1.0);
    case GRAPH_COORD_ASYMMETRIC:
        return o / scale;
    case GRAPH_COORD_TF_CROP_AND_RESIZE:
        return (length == 1.0 ? (r1 - r0) * (double)(in - 1) / 2.0
                              : o * (r1 - r0) * (double)(in - 1) / (length - 1.0)) +
               r0 * (double)(in - 1);
    case GRAPH_COORD_PYTORCH_HALF_PIXEL:
        return length == 1.0 ? -0.5 : (o + 0.5) / scale - 0.5;
    case GRAPH_COORD_HALF_PIXEL_SYMMETRIC: {
        double adjust = (double)out / length;
        double offset = (double)in / 2.0 * (1.0 - adjust);
        return offset + (o + 0.5) / scale - 0.5;
    }
    case GRAPH_COORD_TF_HALF_PIXEL_FOR_NN:
        return (o + 0.5) / scale;
    default:
        return (o + 0.5) / scale - 0.5;
    }
}

/* The interpolation weights for fraction `ratio` in (0, 1]; returns how
 * many (2 or 4). */
static int resize_coeffs(const graph_resize_attr *a, double ratio, double *c)
{
    if (a->mode == GRAPH_RESIZE_CUBIC) {
        double A = a->cubic_coeff_a, r = ratio, q = 1.0 - ratio;
        c[0] = ((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A;
        c[1] = ((A + 2) * r - (A + 3)) * r * r + 1;
        c[2] = ((A + 2) * q - (A + 3)) * q * q + 1;
        c[3] = ((A * (q + 1) - 5 * A) * (q + 1) + 8 * A) * (q + 1) - 4 * A;
        return 4;
    }
    if (a->mode == GRAPH_RESIZE_LINEAR) {
        c[0] = 1.0 - ratio;
        c[1] = ratio;
        return 2;
    }
    int up;
    if (ratio == 1.0) {
        up = 1;
    } else {
        switch (a->nearest) {
        case GRAPH_NEAREST_ROUND_PREFER_CEIL: up = ratio >= 0.5; break;
        case GRAPH_NEAREST_FLOOR: up = 0; break;
        case GRAPH_NEAREST_CEIL: up = 1; break;
        default: up = ratio > 0.5; break;
        }
    }
    c[0] = up ? 0.0 : 1.0;
    c[1] = up ? 1.0 : 0.0;
    return 2;
}

/* Fills one axis's map. */
static void axis_map_fill(const graph_resize_attr *a, int axis, int rank, int64_t in,
                          axis_map *m)
{
    for (int64_t o = 0; o < m->out; o++) {
        double x = resize_coord(a, axis, rank, in, m->out, (double)o);
        double c[4], fl = floor(x), ratio = x == fl ? 1.0 : x - fl, sum = 0.0;
        int n = resize_coeffs(a, ratio, c), k = 0;
        /* the n nearest neighbours, preferring the lower ones */
        int64_t base = (int64_t)fl - (n == 4 ? 1 : 0) - (ratio == 1.0 ? 1 : 0);
        m->outside[o] = a->coord == GRAPH_COORD_TF_CROP_AND_RESIZE &&
                        (x < 0.0 || x > (double)(in - 1));
        for (int j = 0; j < n; j++) {
            int64_t i = base + j;
            if (a->exclude_outside && (i < 0 || i >= in))
                c[j] = 0.0;
            sum += c[j];
        }
        for (int j = 0; j < n; j++) {
            int64_t i = base + j;
            double wj = a->exclude_outside && sum != 0.0 ? c[j] / sum : c[j];
            if (wj == 0.0)
                continue;
            m->idx[o * 4 + k] = i < 0 ? 0 : (i >= in ? in - 1 : i);
            m->w[o * 4 + k] = wj;
            k++;
        }
        if (k == 0) {               /* every weight zero: a zero sum */
            m->idx[o * 4] = 0;
            m->w[o * 4] = 0.0;
            k = 1;
        }
        m->count[o] = k;
    }
}

/* Sums the weighted neighbours of output element `coord` over all axes. */
static double resize_point(const graph_tensor *x, const axis_map *maps, const int64_t *coord,
                           const int64_t *stride)
{
    int rank = x->rank, pos[GRAPH_MAX_RANK] = { 0 };
    double total = 0.0;

    for (;;) {
        double w = 1.0;
        int64_t off = 0;
        for (int a = 0; a < rank; a++) {
            int64_t e = coord[a] * 4 + pos[a];
            w *= maps[a].w[e];
            off += maps[a].idx[e] * stride[a];
        }
        total += w * graph_tensor_get(x, off);
        int a = rank - 1;
        while (a >= 0 && ++pos[a] == maps[a].count[coord[a]]) {
            pos[a] = 0;
            a--;
        }
        if (a < 0)
            return total;
    }
}

/* Builds the per-axis maps, then walks the output. */
kiln_status graph_eval_resize(const graph_node *n, const graph_tensor *x, graph_tensor *out)
{
    const graph_resize_attr *a = &n->attr.resize;
    axis_map maps[GRAPH_MAX_RANK];
    int64_t stride[GRAPH_MAX_RANK], coord[GRAPH_MAX_RANK] = { 0 }, acc = 1;
    int rank = x->rank;
    kiln_status st = KILN_OK;

    memset(maps, 0, sizeof(maps));
    for (int d = rank - 1; d >= 0; d--) {
        stride[d] = acc;
        acc *= x->dims[d];
    }
    for (int d = 0; d < rank; d++) {
        size_t no = (size_t)(out->dims[d] ? out->dims[d] : 1);
        maps[d].out = out->dims[d];
        maps[d].count = kiln_malloc(no * sizeof(*maps[d].count));
        maps[d].idx = kiln_malloc(4 * no * sizeof(*maps[d].idx));
        maps[d].w = kiln_malloc(4 * no * sizeof(*maps[d].w));
        maps[d].outside = kiln_malloc(no * sizeof(*maps[d].outside));
        if (!maps[d].count || !maps[d].idx || !maps[d].w || !maps[d].outside) {
            st = kiln_fail(KILN_E_HOSTMEM, "out of host memory resizing on the host");
            goto out_free_maps;
        }
        axis_map_fill(a, d, rank, x->dims[d], &maps[d]);
    }
    int64_t total = graph_tensor_elements(out);
    for (int64_t i = 0; i < total; i++) {
        int outside = 0;
        for (int d = 0; d < rank; d++)
            outside |= maps[d].outside[coord[d]];
        double v = outside ? a->extrapolation_value : resize_point(x, maps, coord, stride);
        if (out->f32)
            out->f32[i] = float_store(out, v);
        else
            out->i64[i] = graph_dtype_wrap(out->dtype, v > -9.2e18 && v < 9.2e18 ? (int64_t)v : 0);
        for (int d = rank - 1; d >= 0; d--) {
            if (++coord[d] < out->dims[d])
                break;
            coord[d] = 0;
        }
    }
out_free_maps:
    for (int d = 0; d < rank; d++) {
        kiln_free(maps[d].count);
        kiln_free(maps[d].idx);
        kiln_free(maps[d].w);
        kiln_free(maps[d].outside);
    }
    return st;
}
