/* Shape inference per operator (see graph_infer.h).  The formulas follow
 * the ONNX operator specs: Conv and pool output sizes with dilations,
 * auto_pad SAME_UPPER/SAME_LOWER/VALID and ceil_mode (a window that would
 * start in the right padding is dropped), Resize's floor(in * scale) or
 * explicit sizes with keep_aspect_ratio_policy, Slice's clamping,
 * numpy-style broadcasting. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "graph_infer.h"
#include "status.h"

#define LABEL_MAX 256

/* The node being inferred, with its label for messages. */
typedef struct infer_ctx {
    kiln_graph *g;
    graph_node *n;
    char label[LABEL_MAX];
} infer_ctx;

/* Input k's tensor, or NULL when absent. */
static graph_tensor *in_tensor(const infer_ctx *c, size_t k)
{
    if (k >= c->n->ninputs || c->n->inputs[k] < 0)
        return NULL;
    return &c->g->tensors[c->n->inputs[k]];
}

/* Output k's tensor. */
static graph_tensor *out_tensor(const infer_ctx *c, size_t k)
{
    return &c->g->tensors[c->n->outputs[k]];
}

/* A required input, or an error. */
static kiln_status in_required(const infer_ctx *c, size_t k, graph_tensor **t)
{
    *t = in_tensor(c, k);
    if (!*t)
        return kiln_fail(KILN_E_FORMAT, "%s: required input #%zu is absent", c->label, k);
    if ((*t)->rank < 0)
        return kiln_fail(KILN_E_FORMAT, "%s: input '%.200s' has no known shape", c->label,
                         (*t)->name);
    return KILN_OK;
}

/* Requires input t to hold constant data. */
static kiln_status in_constant(const infer_ctx *c, const graph_tensor *t, const char *role)
{
    if (graph_tensor_is_const(t))
        return KILN_OK;
    return kiln_fail(KILN_E_FORMAT, "%s: %s '%.200s' must be constant for the fixed input "
                     "shape, but it depends on runtime data", c->label, role, t->name);
}

/* Reads a constant 1-D (or scalar) integer list of at most `max` values. */
static kiln_status in_int_list(const infer_ctx *c, const graph_tensor *t, const char *role,
                               int64_t *out, int max, int *count)
{
    kiln_status st = in_constant(c, t, role);

    if (st != KILN_OK)
        return st;
    if (graph_dtype_is_float(t->dtype) || t->dtype == GRAPH_DT_BOOL)
        return kiln_fail(KILN_E_FORMAT, "%s: %s '%.200s' must be an integer tensor", c->label,
                         role, t->name);
    if (t->rank > 1)
        return kiln_fail(KILN_E_FORMAT, "%s: %s '%.200s' must be 1-D", c->label, role, t->name);
    int64_t n = graph_tensor_elements(t);
    if (n > max)
        return kiln_fail(KILN_E_FORMAT, "%s: %s '%.200s' has %lld values (at most %d)",
                         c->label, role, t->name, (long long)n, max);
    for (int64_t i = 0; i < n; i++)
        out[i] = t->i64[i];
    *count = (int)n;
    return KILN_OK;
}

/* Sets output k's type and shape after checking it. */
static kiln_status out_set(const infer_ctx *c, size_t k, graph_dtype dtype, int rank,
                           const int64_t *dims)
{
    graph_tensor *t = out_tensor(c, k);
    char what[LABEL_MAX + 128];

    snprintf(what, sizeof(what), "%s: output '%.100s'", c->label, t->name);
    kiln_status st = graph_shape_check(rank, dims, what);
    if (st != KILN_OK)
        return st;
    t->dtype = dtype;
    t->rank = rank;
    for (int i = 0; i < rank; i++)
        t->dims[i] = dims[i];
    return KILN_OK;
}

/* Output 0 gets input t's type and shape. */
static kiln_status out_like(const infer_ctx *c, const graph_tensor *t)
{
    return out_set(c, 0, t->dtype, t->rank, t->dims);
}

/* Normalizes an axis in [-rank, rank-1] (or [-rank, rank] when `inclusive`). */
static kiln_status axis_normalize(const infer_ctx *c, int64_t axis, int rank, int inclusive,
                                  int *out)
{
    int64_t hi = inclusive ? rank : rank - 1;

    if (axis < -(int64_t)rank || axis > hi)
        return kiln_fail(KILN_E_FORMAT, "%s: axis %lld is out of range for rank %d", c->label,
                         (long long)axis, rank);
    *out = (int)(axis < 0 ? axis + rank : axis);
    return KILN_OK;
}

/* Requires two inputs of one element type. */
static kiln_status types_match(const infer_ctx *c, const graph_tensor *a, const graph_tensor *b)
{
    if (a->dtype == b->dtype)
        return KILN_OK;
    return kiln_fail(KILN_E_FORMAT, "%s: inputs '%.100s' (%s) and '%.100s' (%s) differ in "
                     "type", c->label, a->name, graph_dtype_name(a->dtype), b->name,
                     graph_dtype_name(b->dtype));
}

/* Broadcasts shape b into (rank, dims) numpy-style. */
static kiln_status broadcast_into(const infer_ctx *c, int *rank, int64_t *dims, int brank,
                                  const int64_t *bdims)
{
    int r = *rank > brank ? *rank : brank;
    int64_t outd[GRAPH_MAX_RANK] = { 0 };

    for (int i = 0; i < r; i++) {
        int ia = i - (r - *rank), ib = i - (r - brank);
        int64_t da = ia >= 0 ? dims[ia] : 1, db = ib >= 0 ? bdims[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return kiln_fail(KILN_E_FORMAT, "%s: shapes cannot broadcast (%lld and %lld at "
                             "axis %d)", c->label, (long long)da, (long long)db, i);
        outd[i] = da == 1 ? db : da;
    }
    *rank = r;
    memcpy(dims, outd, (size_t)r * sizeof(*dims));
    return KILN_OK;
}

/* Floor division by a positive divisor. */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* Ceiling division by a positive divisor. */
static int64_t ceil_div(int64_t a, int64_t b)
{
    return -floor_div(-a, b);
}

/* Resolves a sliding window over input dims `in` (nspatial of them):
 * defaults, auto_pad into explicit pads, and the output sizes. */
static kiln_status window_resolve(const infer_ctx *c, graph_window *w, const int64_t *in,
                                  int ceil_mode, int64_t *out)
{
    for (int i = 0; i < w->nspatial; i++) {
        if (!w->has_strides)
            w->strides[i] = 1;
        if (!w->has_dilations)
            w->dilations[i] = 1;
        if (!w->has_pads || w->auto_pad != GRAPH_PAD_NOTSET) {
            w->pads[i] = 0;
            w->pads[i + w->nspatial] = 0;
        }
    }
    for (int i = 0; i < w->nspatial; i++) {
        int64_t k = w->kernel[i], s = w->strides[i], d = w->dilations[i];
        int64_t ek = (k - 1) * d + 1;
        if (w->auto_pad == GRAPH_PAD_SAME_UPPER || w->auto_pad == GRAPH_PAD_SAME_LOWER) {
            int64_t o = ceil_div(in[i], s);
            int64_t total = (o - 1) * s + ek - in[i];
            if (total < 0)
                total = 0;
            int64_t small = total / 2, large = total - total / 2;
            w->pads[i] = w->auto_pad == GRAPH_PAD_SAME_UPPER ? small : large;
            w->pads[i + w->nspatial] = w->auto_pad == GRAPH_PAD_SAME_UPPER ? large : small;
            out[i] = o;
        } else {
            int64_t span = in[i] + w->pads[i] + w->pads[i + w->nspatial] - ek;
            if (span < 0)
                return kiln_fail(KILN_E_FORMAT, "%s: the window (%lld with dilation %lld) is "
                                 "larger than the padded input (%lld) at spatial axis %d",
                                 c->label, (long long)k, (long long)d,
                                 (long long)(in[i] + w->pads[i] + w->pads[i + w->nspatial]), i);
            int64_t o = (ceil_mode ? ceil_div(span, s) : floor_div(span, s)) + 1;
            /* a window that would start in the right padding is dropped */
            if (ceil_mode && (o - 1) * s >= in[i] + w->pads[i])
                o--;
            out[i] = o;
        }
        if (out[i] < 1)
            return kiln_fail(KILN_E_FORMAT, "%s: the output would be empty at spatial axis %d",
                             c->label, i);
    }
    w->auto_pad = GRAPH_PAD_NOTSET;
    w->has_strides = w->has_dilations = w->has_pads = 1;
    return KILN_OK;
}

/* Checks the window's spatial count against an input of rank r. */
static kiln_status window_rank(const infer_ctx *c, graph_window *w, int r)
{
    if (r < 3 || r - 2 > GRAPH_MAX_SPATIAL)
        return kiln_fail(KILN_E_FORMAT, "%s: input has rank %d; kiln supports 1 to %d spatial "
                         "dims (rank 3 to %d)", c->label, r, GRAPH_MAX_SPATIAL,
                         GRAPH_MAX_SPATIAL + 2);
    if (w->nspatial != 0 && w->nspatial != r - 2)
        return kiln_fail(KILN_E_FORMAT, "%s: window attributes have %d spatial dims but the "
                         "input has %d", c->label, w->nspatial, r - 2);
    w->nspatial = r - 2;
    return KILN_OK;
}

/* Conv: X [N, C, spatial...], W [M, C/group, kernel...], B [M]. */
static kiln_status infer_conv(const infer_ctx *c)
{
    graph_conv_attr *a = &c->n->attr.conv;
    graph_tensor *x, *w, *b = in_tensor(c, 2);
    int64_t dims[GRAPH_MAX_RANK];
    kiln_status st = in_required(c, 0, &x);

    if (st == KILN_OK)
        st = in_required(c, 1, &w);
    if (st == KILN_OK)
        st = window_rank(c, &a->win, x->rank);
    if (st != KILN_OK)
        return st;
    if (!graph_dtype_is_float(x->dtype))
        return kiln_fail(KILN_E_FORMAT, "%s: input type %s is not supported (float only)",
                         c->label, graph_dtype_name(x->dtype));
    st = types_match(c, x, w);
    if (st != KILN_OK)
        return st;
    if (w->rank != x->rank)
        return kiln_fail(KILN_E_FORMAT, "%s: weights '%.100s' have rank %d, input has %d",
                         c->label, w->name, w->rank, x->rank);
    if (x->dims[1] != w->dims[1] * a->group || w->dims[0] % a->group != 0)
        return kiln_fail(KILN_E_FORMAT, "%s: %lld input channels do not fit weights %lldx%lld "
                         "with group %lld", c->label, (long long)x->dims[1],
                         (long long)w->dims[0], (long long)w->dims[1], (long long)a->group);
    for (int i = 0; i < a->win.nspatial; i++) {
        if (a->win.has_kernel && a->win.kernel[i] != w->dims[i + 2])
            return kiln_fail(KILN_E_FORMAT, "%s: kernel_shape disagrees with the weights at "
                             "spatial axis %d", c->label, i);
        a->win.kernel[i] = w->dims[i + 2];
        if (a->win.kernel[i] < 1)
            return kiln_fail(KILN_E_FORMAT, "%s: empty kernel", c->label);
    }
    a->win.has_kernel = 1;
    if (b && (b->rank != 1 || b->dims[0] != w->dims[0]))
        return kiln_fail(KILN_E_FORMAT, "%s: bias '%.100s' must be 1-D with %lld values",
                         c->label, b->name, (long long)w->dims[0]);
    if (b && (st = types_match(c, x, b)) != KILN_OK)
        return st;
    dims[0] = x->dims[0];
    dims[1] = w->dims[0];
    st = window_resolve(c, &a->win, x->dims + 2, 0, dims + 2);
    if (st != KILN_OK)
        return st;
    return out_set(c, 0, x->dtype, x->rank, dims);
}

/* MaxPool and AveragePool. */
static kiln_status infer_pool(const infer_ctx *c)
{
    graph_pool_attr *a = &c->n->attr.pool;
    graph_tensor *x;
    int64_t dims[GRAPH_MAX_RANK];
    kiln_status st = in_required(c, 0, &x);

    if (st == KILN_OK)
        st = window_rank(c, &a->win, x->rank);
    if (st != KILN_OK)
        return st;
    if (c->n->op == GRAPH_OP_AVERAGEPOOL && !graph_dtype_is_float(x->dtype))
        return kiln_fail(KILN_E_FORMAT, "%s: input type %s is not supported (float only)",
                         c->label, graph_dtype_name(x->dtype));
    dims[0] = x->dims[0];
    dims[1] = x->dims[1];
    st = window_resolve(c, &a->win, x->dims + 2, a->ceil_mode, dims + 2);
    if (st != KILN_OK)
        return st;
    for (int i = 0; i < a->win.nspatial; i++)
        if (a->win.pads[i] >= (a->win.kernel[i] - 1) * a->win.dilations[i] + 1 ||
            a->win.pads[i + a->win.nspatial] >= (a->win.kernel[i] - 1) * a->win.dilations[i] + 1)
            return kiln_fail(KILN_E_FORMAT, "%s: a pad is as large as the window at spatial "
                             "axis %d", c->label, i);
    return out_set(c, 0, x->dtype, x->rank, dims);
}

/* Reads Resize's roi for tf_crop_and_resize into per-dim starts/ends. */
static kiln_status resize_roi(const infer_ctx *c, graph_resize_attr *a, int r,
                              const int *axes, int naxes)
{
    graph_tensor *roi = in_tensor(c, 1);

    for (int i = 0; i < r; i++) {
        a->roi[i] = 0.0f;
        a->roi[i + r] = 1.0f;
    }
    if (a->coord != GRAPH_COORD_TF_CROP_AND_RESIZE)
        return KILN_OK;
    if (!roi || graph_tensor_elements(roi) == 0)
        return kiln_fail(KILN_E_FORMAT, "%s: tf_crop_and_resize needs the roi input", c->label);
    kiln_status st = in_constant(c, roi, "roi");
    if (st != KILN_OK)
        return st;
    if (roi->rank != 1 || roi->dims[0] != 2 * naxes)
        return kiln_fail(KILN_E_FORMAT, "%s: roi must hold %d values", c->label, 2 * naxes);
    for (int i = 0; i < naxes; i++) {
        a->roi[axes[i]] = (float)graph_tensor_get(roi, i);
        a->roi[axes[i] + r] = (float)graph_tensor_get(roi, i + naxes);
    }
    return KILN_OK;
}

/* Resize: scales (from an input or Upsample's attribute) or sizes, over
 * all axes or the `axes` attribute; sets per-dim scales and roi. */
static kiln_status infer_resize(const infer_ctx *c)
{
    graph_resize_attr *a = &c->n->attr.resize;
    graph_tensor *x, *scales = in_tensor(c, 2), *sizes = in_tensor(c, 3);
    int axes[GRAPH_MAX_RANK], naxes, r;
    int64_t dims[GRAPH_MAX_RANK];
    double want[GRAPH_MAX_RANK];
    kiln_status st = in_required(c, 0, &x);

    if (st != KILN_OK)
        return st;
    r = x->rank;
    a->sized = 0;
    if (r < 1)
        return kiln_fail(KILN_E_FORMAT, "%s: cannot resize a scalar", c->label);
    naxes = a->naxes ? a->naxes : r;
    for (int i = 0; i < naxes; i++) {
        if (!a->naxes) {
            axes[i] = i;
            continue;
        }
        st = axis_normalize(c, a->axes[i], r, 0, &axes[i]);
        if (st != KILN_OK)
            return st;
        for (int j = 0; j < i; j++)
            if (axes[j] == axes[i])
                return kiln_fail(KILN_E_FORMAT, "%s: axis %d repeats", c->label, axes[i]);
    }
    if (scales && graph_tensor_elements(scales) == 0)
        scales = NULL;
    if (sizes && graph_tensor_elements(sizes) == 0)
        sizes = NULL;
    if (scales && sizes)
        return kiln_fail(KILN_E_FORMAT, "%s: both scales and sizes are given", c->label);
    if (!scales && !sizes && a->nattr_scales == 0)
        return kiln_fail(KILN_E_FORMAT, "%s: neither scales nor sizes is given", c->label);
    st = resize_roi(c, a, r, axes, naxes);
    if (st != KILN_OK)
        return st;
    for (int i = 0; i < r; i++) {
        dims[i] = x->dims[i];
        a->scales[i] = 1.0f;
    }
    if (sizes) {
        int64_t v[GRAPH_MAX_RANK];
        int n;
        double pick = 0.0;
        st = in_int_list(c, sizes, "sizes", v, GRAPH_MAX_RANK, &n);
        if (st != KILN_OK)
            return st;
        if (n != naxes)
            return kiln_fail(KILN_E_FORMAT, "%s: sizes has %d values for %d axes", c->label, n,
                             naxes);
        for (int i = 0; i < naxes; i++) {
            if (v[i] < 1 || x->dims[axes[i]] < 1 || v[i] > GRAPH_MAX_ELEMENTS)
                return kiln_fail(KILN_E_FORMAT, "%s: cannot resize axis %d from %lld to %lld",
                                 c->label, axes[i], (long long)x->dims[axes[i]], (long long)v[i]);
            want[i] = (double)v[i] / (double)x->dims[axes[i]];
            if (i == 0 || (a->aspect == GRAPH_ASPECT_NOT_LARGER && want[i] < pick) ||
                (a->aspect == GRAPH_ASPECT_NOT_SMALLER && want[i] > pick))
                pick = want[i];
        }
        for (int i = 0; i < naxes; i++) {
            int d = axes[i];
            if (a->aspect == GRAPH_ASPECT_STRETCH) {
                dims[d] = v[i];
                a->scales[d] = (float)want[i];
                a->sized = 1;
            } else {
                double o = pick * (double)x->dims[d] + 0.5;   /* round half up */
                if (o > (double)GRAPH_MAX_ELEMENTS)
                    return kiln_fail(KILN_E_LIMIT, "%s: output too large", c->label);
                dims[d] = (int64_t)o;
                a->scales[d] = (float)pick;
            }
        }
    } else {
        float s[GRAPH_MAX_RANK];
        int n = a->nattr_scales;
        if (scales) {
            st = in_constant(c, scales, "scales");
            if (st != KILN_OK)
                return st;
            if (!graph_dtype_is_float(scales->dtype) || scales->rank != 1)
                return kiln_fail(KILN_E_FORMAT, "%s: scales must be a 1-D float tensor",
                                 c->label);
            n = (int)(scales->dims[0] > GRAPH_MAX_RANK ? GRAPH_MAX_RANK + 1 : scales->dims[0]);
            for (int i = 0; i < n && i < GRAPH_MAX_RANK; i++)
                s[i] = scales->f32[i];
        } else {
            memcpy(s, a->attr_scales, sizeof(s));
        }
        if (n != naxes)
            return kiln_fail(KILN_E_FORMAT, "%s: scales has %d values for %d axes", c->label, n,
                             naxes);
        for (int i = 0; i < naxes; i++) {
            int d = axes[i];
            double o = (double)x->dims[d] * (double)(a->roi[d + r] - a->roi[d]) * (double)s[i];
            if (!(s[i] > 0.0f) || !isfinite(s[i]))
                return kiln_fail(KILN_E_FORMAT, "%s: scale %g is invalid", c->label, (double)s[i]);
            if (!(o >= 0.0) || o > (double)GRAPH_MAX_ELEMENTS)
                return kiln_fail(KILN_E_LIMIT, "%s: output too large at axis %d", c->label, d);
            dims[d] = (int64_t)floor(o);
            a->scales[d] = s[i];
        }
    }
    a->naxes = 0;
    return out_set(c, 0, x->dtype, r, dims);
}

/* Concat along an axis. */
static kiln_status infer_concat(const infer_ctx *c)
{
    graph_tensor *first;
    int64_t dims[GRAPH_MAX_RANK];
    int axis = 0;
    kiln_status st = in_required(c, 0, &first);

    if (st != KILN_OK)
        return st;
    if (first->rank < 1)
        return kiln_fail(KILN_E_FORMAT, "%s: cannot concatenate scalars", c->label);
    st = axis_normalize(c, c->n->attr.axis, first->rank, 0, &axis);
    if (st != KILN_OK)
        return st;
    c->n->attr.axis = axis;
    memcpy(dims, first->dims, sizeof(dims));
    dims[axis] = 0;
    for (size_t k = 0; k < c->n->ninputs; k++) {
        graph_tensor *t;
        st = in_required(c, k, &t);
        if (st == KILN_OK)
            st = types_match(c, first, t);
        if (st != KILN_OK)
            return st;
        if (t->rank != first->rank)
            return kiln_fail(KILN_E_FORMAT, "%s: inputs differ in rank", c->label);
        for (int i = 0; i < t->rank; i++)
            if (i != axis && t->dims[i] != first->dims[i])
                return kiln_fail(KILN_E_FORMAT, "%s: input '%.100s' differs at axis %d (%lld, "
                                 "not %lld)", c->label, t->name, i, (long long)t->dims[i],
                                 (long long)first->dims[i]);
        dims[axis] += t->dims[axis];
        if (dims[axis] > GRAPH_MAX_ELEMENTS)
            return kiln_fail(KILN_E_LIMIT, "%s: output too large", c->label);
    }
    return out_set(c, 0, first->dtype, first->rank, dims);
}

/* Add, Sub, Mul, Div, Equal: two-way broadcasting. */
static kiln_status infer_binary(const infer_ctx *c)
{
    graph_tensor *a, *b;
    int64_t dims[GRAPH_MAX_RANK];
    int rank;
    kiln_status st = in_required(c, 0, &a);

    if (st == KILN_OK)
        st = in_required(c, 1, &b);
    if (st == KILN_OK)
        st = types_match(c, a, b);
    if (st != KILN_OK)
        return st;
    rank = a->rank;
    memcpy(dims, a->dims, sizeof(dims));
    st = broadcast_into(c, &rank, dims, b->rank, b->dims);
    if (st != KILN_OK)
        return st;
    return out_set(c, 0, c->n->op == GRAPH_OP_EQUAL ? GRAPH_DT_BOOL : a->dtype, rank, dims);
}

/* Where: three-way broadcasting; the type of X and Y. */
static kiln_status infer_where(const infer_ctx *c)
{
    graph_tensor *cond, *x, *y;
    int64_t dims[GRAPH_MAX_RANK];
    int rank;
    kiln_status st = in_required(c, 0, &cond);

    if (st == KILN_OK)
        st = in_required(c, 1, &x);
    if (st == KILN_OK)
        st = in_required(c, 2, &y);
    if (st == KILN_OK)
        st = types_match(c, x, y);
    if (st != KILN_OK)
        return st;
    if (cond->dtype != GRAPH_DT_BOOL)
        return kiln_fail(KILN_E_FORMAT, "%s: condition must be BOOL", c->label);
    rank = cond->rank;
    memcpy(dims, cond->dims, sizeof(dims));
    st = broadcast_into(c, &rank, dims, x->rank, x->dims);
    if (st == KILN_OK)
        st = broadcast_into(c, &rank, dims, y->rank, y->dims);
    if (st != KILN_OK)
        return st;
    return out_set(c, 0, x->dtype, rank, dims);
}

/* Relu, Sigmoid, Floor, Ceil, Identity: same type and shape. */
static kiln_status infer_unary(const infer_ctx *c, int float_only)
{
    graph_tensor *x;
    kiln_status st = in_required(c, 0, &x);

    if (st != KILN_OK)
        return st;
    if (float_only && !graph_dtype_is_float(x->dtype))
        return kiln_fail(KILN_E_FORMAT, "%s: input type %s is not supported (float only)",
                         c->label, graph_dtype_name(x->dtype));
    return out_like(c, x);
}

/* Sigmoid: a float input's type and shape. */
static kiln_status infer_unary_float(const infer_ctx *c)
{
    return infer_unary(c, 1);
}

/* Relu, Floor, Ceil, Identity: any input's type and shape. */
static kiln_status infer_unary_any(const infer_ctx *c)
{
    return infer_unary(c, 0);
}

/* Reads a scalar bound of Clip from input k when present. */
static kiln_status clip_bound(const infer_ctx *c, size_t k, double *value, int *has)
{
    graph_tensor *t = in_tensor(c, k);

    if (!t || graph_tensor_elements(t) == 0)
        return KILN_OK;
    kiln_status st = in_constant(c, t, k == 1 ? "min" : "max");
    if (st != KILN_OK)
        return st;
    if (graph_tensor_elements(t) != 1)
        return kiln_fail(KILN_E_FORMAT, "%s: %s must be a scalar", c->label, k == 1 ? "min" : "max");
    *value = graph_tensor_get(t, 0);
    *has = 1;
    return KILN_OK;
}

/* Clip: bounds from attributes or constant inputs. */
static kiln_status infer_clip(const infer_ctx *c)
{
    graph_clip_attr *a = &c->n->attr.clip;
    graph_tensor *x;
    kiln_status st = in_required(c, 0, &x);

    if (st == KILN_OK)
        st = clip_bound(c, 1, &a->min, &a->has_min);
    if (st == KILN_OK)
        st = clip_bound(c, 2, &a->max, &a->has_max);
    if (st != KILN_OK)
        return st;
    if (!a->has_min)
        a->min = -INFINITY;
    if (!a->has_max)
        a->max = INFINITY;
    return out_like(c, x);
}

/* Cast: same shape, the target type. */
static kiln_status infer_cast(const infer_ctx *c)
{
    graph_tensor *x;
    kiln_status st = in_required(c, 0, &x);

    if (st != KILN_OK)
        return st;
    return out_set(c, 0, c->n->attr.cast_to, x->rank, x->dims);
}

/* Reshape: 0 copies a dim (unless allowzero), -1 takes the rest. */
static kiln_status infer_reshape(const infer_ctx *c)
{
    graph_tensor *x, *shape;
    int64_t v[GRAPH_MAX_RANK], known = 1;
    int n, infer_at = -1;
    kiln_status st = in_required(c, 0, &x);

    if (st == KILN_OK)
        st = in_required(c, 1, &shape);
    if (st == KILN_OK)
        st = in_int_list(c, shape, "shape", v, GRAPH_MAX_RANK, &n);
    if (st != KILN_OK)
        return st;
    for (int i = 0; i < n; i++) {
        if (v[i] == 0 && !c->n->attr.allowzero) {
            if (i >= x->rank)
                return kiln_fail(KILN_E_FORMAT, "%s: shape copies axis %d of a rank-%d input",
                                 c->label, i, x->rank);
            v[i] = x->dims[i];
        }
        if (v[i] == -1) {
            if (infer_at >= 0)
                return kiln_fail(KILN_E_FORMAT, "%s: shape has two -1 dims", c->label);
            infer_at = i;
            continue;
        }
        if (v[i] < 0)
            return kiln_fail(KILN_E_FORMAT, "%s: shape has a negative dim %lld", c->label,
                             (long long)v[i]);
        if (v[i] > GRAPH_MAX_ELEMENTS || (v[i] && known > GRAPH_MAX_ELEMENTS / v[i]))
            return kiln_fail(KILN_E_LIMIT, "%s: shape too large", c->label);
        known *= v[i];
    }
    int64_t total = graph_tensor_elements(x);
    if (infer_at >= 0) {
        if (known == 0 || total % known != 0)
            return kiln_fail(KILN_E_FORMAT, "%s: cannot infer the -1 dim (%lld elements into "
                             "%lld)", c->label, (long long)total, (long long)known);
        v[infer_at] = total / known;
        known = total;
    }
    if (known != total)
        return kiln_fail(KILN_E_FORMAT, "%s: cannot reshape %lld elements into %lld", c->label,
                         (long long)total, (long long)known);
    return out_set(c, 0, x->dtype, n, v);
}

/* Transpose: a permutation of the dims (default: reversed). */
static kiln_status infer_transpose(const infer_ctx *c)
{
    graph_tensor *x;
    int64_t dims[GRAPH_MAX_RANK];
    int seen[GRAPH_MAX_RANK] = { 0 };
    kiln_status st = in_required(c, 0, &x);

    if (st != KILN_OK)
        return st;
    if (c->n->attr.transpose.nperm == 0) {
        c->n->attr.transpose.nperm = x->rank;
        for (int i = 0; i < x->rank; i++)
            c->n->attr.transpose.perm[i] = x->rank - 1 - i;
    }
    if (c->n->attr.transpose.nperm != x->rank)
        return kiln_fail(KILN_E_FORMAT, "%s: perm has %d values for rank %d", c->label,
                         c->n->attr.transpose.nperm, x->rank);
    for (int i = 0; i < x->rank; i++) {
        int64_t p = c->n->attr.transpose.perm[i];
        if (p < 0 || p >= x->rank || seen[p])
            return kiln_fail(KILN_E_FORMAT, "%s: perm is not a permutation", c->label);
        seen[p] = 1;
        dims[i] = x->dims[p];
    }
    return out_set(c, 0, x->dtype, x->rank, dims);
}

/* Reads Slice's lists from attributes or inputs 1..4. */
static kiln_status slice_lists(const infer_ctx *c, int rank, int64_t *starts, int64_t *ends,
                               int64_t *axes, int64_t *steps, int *count)
{
    graph_slice_attr *a = &c->n->attr.slice;
    int n, ne, na, ns;
    kiln_status st;

    if (a->from_attrs) {
        n = a->nattr;
        memcpy(starts, a->attr_starts, sizeof(a->attr_starts));
        memcpy(ends, a->attr_ends, sizeof(a->attr_ends));
        for (int i = 0; i < n; i++) {
            axes[i] = a->has_attr_axes ? a->attr_axes[i] : i;
            steps[i] = 1;
        }
        *count = n;
        return KILN_OK;
    }
    graph_tensor *ts, *te, *ta = in_tensor(c, 3), *tp = in_tensor(c, 4);
    st = in_required(c, 1, &ts);
    if (st == KILN_OK)
        st = in_required(c, 2, &te);
    if (st == KILN_OK)
        st = in_int_list(c, ts, "starts", starts, GRAPH_MAX_RANK, &n);
    if (st == KILN_OK)
        st = in_int_list(c, te, "ends", ends, GRAPH_MAX_RANK, &ne);
    if (st != KILN_OK)
        return st;
    na = ns = n;
    if (ta && (st = in_int_list(c, ta, "axes", axes, GRAPH_MAX_RANK, &na)) != KILN_OK)
        return st;
    if (tp && (st = in_int_list(c, tp, "steps", steps, GRAPH_MAX_RANK, &ns)) != KILN_OK)
        return st;
    if (ne != n || na != n || ns != n)
        return kiln_fail(KILN_E_FORMAT, "%s: starts, ends, axes and steps differ in length",
                         c->label);
    for (int i = 0; i < n; i++) {
        if (!ta)
            axes[i] = i;
        if (!tp)
            steps[i] = 1;
    }
    (void)rank;
    *count = n;
    return KILN_OK;
}

/* Clamps a Slice bound as the spec says. */
static int64_t slice_clamp(int64_t v, int64_t dim, int64_t lo, int64_t hi)
{
    if (v < 0)
        v = v < -dim ? lo - 1 : v + dim;
    if (v < lo)
        v = lo;
    if (v > hi)
        v = hi;
    return v;
}

/* Slice: resolves start and step per dim and the output dims. */
static kiln_status infer_slice(const infer_ctx *c)
{
    graph_slice_attr *a = &c->n->attr.slice;
    graph_tensor *x;
    int64_t starts[GRAPH_MAX_RANK], ends[GRAPH_MAX_RANK], axes[GRAPH_MAX_RANK];
    int64_t steps[GRAPH_MAX_RANK], dims[GRAPH_MAX_RANK];
    int n = 0, seen[GRAPH_MAX_RANK] = { 0 };
    kiln_status st = in_required(c, 0, &x);

    if (st == KILN_OK)
        st = slice_lists(c, x->rank, starts, ends, axes, steps, &n);
    if (st != KILN_OK)
        return st;
    for (int d = 0; d < x->rank; d++) {
        a->start[d] = 0;
        a->step[d] = 1;
        dims[d] = x->dims[d];
    }
    for (int i = 0; i < n; i++) {
        int d = 0;
        st = axis_normalize(c, axes[i], x->rank, 0, &d);
        if (st != KILN_OK)
            return st;
        if (seen[d]++)
            return kiln_fail(KILN_E_FORMAT, "%s: axis %d repeats", c->label, d);
        int64_t dim = x->dims[d], step = steps[i], s, e, count;
        if (step == 0 || step == INT64_MIN)
            return kiln_fail(KILN_E_FORMAT, "%s: invalid step %lld", c->label, (long long)step);
        if (step > 0) {
            s = slice_clamp(starts[i], dim, 0, dim);
            e = slice_clamp(ends[i], dim, 0, dim);
            count = e > s ? (e - s - 1) / step + 1 : 0;
        } else {
            s = slice_clamp(starts[i], dim, 0, dim - 1);
            e = slice_clamp(ends[i], dim, -1, dim - 1);
            count = s > e ? (s - e - 1) / (-step) + 1 : 0;
        }
        a->start[d] = count ? s : 0;
        a->step[d] = step;
        dims[d] = count;
    }
    return out_set(c, 0, x->dtype, x->rank, dims);
}

/* BatchNormalization: X [N, C, ...] with four [C] parameters. */
static kiln_status infer_batchnorm(const infer_ctx *c)
{
    graph_tensor *x, *p;
    kiln_status st = in_required(c, 0, &x);

    if (st != KILN_OK)
        return st;
    if (x->rank < 2 || !graph_dtype_is_float(x->dtype))
        return kiln_fail(KILN_E_FORMAT, "%s: input must be float of rank >= 2", c->label);
    for (size_t k = 1; k < 5; k++) {
        st = in_required(c, k, &p);
        if (st != KILN_OK)
            return st;
        if (p->rank != 1 || p->dims[0] != x->dims[1] || !graph_dtype_is_float(p->dtype))
            return kiln_fail(KILN_E_FORMAT, "%s: parameter '%.100s' must be 1-D float with %lld "
                             "values", c->label, p->name, (long long)x->dims[1]);
    }
    return out_like(c, x);
}

/* Resolves Squeeze/Unsqueeze axes from the attribute or input 1. */
static kiln_status axes_read(const infer_ctx *c)
{
    graph_axes_attr *a = &c->n->attr.axes;
    graph_tensor *t = in_tensor(c, 1);

    if (!t)
        return KILN_OK;
    kiln_status st = in_int_list(c, t, "axes", a->axes, GRAPH_MAX_RANK, &a->naxes);
    if (st == KILN_OK)
        a->has_axes = 1;
    return st;
}

/* Squeeze: drops the listed dims of size 1 (all of them by default). */
static kiln_status infer_squeeze(const infer_ctx *c)
{
    graph_axes_attr *a = &c->n->attr.axes;
    graph_tensor *x;
    int drop[GRAPH_MAX_RANK] = { 0 }, rank = 0;
    int64_t dims[GRAPH_MAX_RANK];
    kiln_status st = in_required(c, 0, &x);

    if (st == KILN_OK)
        st = axes_read(c);
    if (st != KILN_OK)
        return st;
    if (!a->has_axes) {
        for (int i = 0; i < x->rank; i++)
            drop[i] = x->dims[i] == 1;
    }
    for (int i = 0; a->has_axes && i < a->naxes; i++) {
        int d = 0;
        st = axis_normalize(c, a->axes[i], x->rank, 0, &d);
        if (st != KILN_OK)
            return st;
        if (x->dims[d] != 1)
            return kiln_fail(KILN_E_FORMAT, "%s: axis %d has size %lld, not 1", c->label, d,
                             (long long)x->dims[d]);
        drop[d] = 1;
    }
    for (int i = 0; i < x->rank; i++)
        if (!drop[i])
            dims[rank++] = x->dims[i];
    return out_set(c, 0, x->dtype, rank, dims);
}

/* Unsqueeze: inserts dims of size 1 at the axes of the output. */
static kiln_status infer_unsqueeze(const infer_ctx *c)
{
    graph_axes_attr *a = &c->n->attr.axes;
    graph_tensor *x;
    int add[GRAPH_MAX_RANK] = { 0 }, rank, k = 0;
    int64_t dims[GRAPH_MAX_RANK];
    kiln_status st = in_required(c, 0, &x);

    if (st == KILN_OK)
        st = axes_read(c);
    if (st != KILN_OK)
        return st;
    if (!a->has_axes)
        return kiln_fail(KILN_E_FORMAT, "%s: axes are required", c->label);
    rank = x->rank + a->naxes;
    if (rank > GRAPH_MAX_RANK)
        return kiln_fail(KILN_E_LIMIT, "%s: output rank %d exceeds %d", c->label, rank,
                         GRAPH_MAX_RANK);
    for (int i = 0; i < a->naxes; i++) {
        int d = 0;
        st = axis_normalize(c, a->axes[i], rank, 0, &d);
        if (st != KILN_OK)
            return st;
        if (add[d]++)
            return kiln_fail(KILN_E_FORMAT, "%s: axis %d repeats", c->label, d);
    }
    for (int i = 0; i < rank; i++)
        dims[i] = add[i] ? 1 : x->dims[k++];
    return out_set(c, 0, x->dtype, rank, dims);
}

/* Flatten: [prod(dims[:axis]), prod(dims[axis:])]. */
static kiln_status infer_flatten(const infer_ctx *c)
{
    graph_tensor *x;
    int64_t dims[2] = { 1, 1 };
    int axis = 0;
    kiln_status st = in_required(c, 0, &x);

    if (st == KILN_OK)
        st = axis_normalize(c, c->n->attr.axis, x->rank, 1, &axis);
    if (st != KILN_OK)
        return st;
    c->n->attr.axis = axis;
    for (int i = 0; i < x->rank; i++)
        dims[i < axis ? 0 : 1] *= x->dims[i];
    return out_set(c, 0, x->dtype, 2, dims);
}

/* Shape: the (start..end) slice of the input's dims, as INT64. */
static kiln_status infer_shape(const infer_ctx *c)
{
    graph_shape_attr *a = &c->n->attr.shape;
    graph_tensor *x;
    kiln_status st = in_required(c, 0, &x);

    if (st != KILN_OK)
        return st;
    int64_t r = x->rank;
    int64_t s = a->start < 0 ? a->start + r : a->start;
    int64_t e = a->has_end ? (a->end < 0 ? a->end + r : a->end) : r;
    s = s < 0 ? 0 : (s > r ? r : s);
    e = e < 0 ? 0 : (e > r ? r : e);
    a->start = s;
    a->end = e > s ? e : s;
    a->has_end = 1;
    int64_t len = a->end - a->start;
    return out_set(c, 0, GRAPH_DT_INT64, 1, &len);
}

/* Gather: data[:axis] + indices.shape + data[axis+1:]. */
static kiln_status infer_gather(const infer_ctx *c)
{
    graph_tensor *data, *idx;
    int64_t dims[GRAPH_MAX_RANK];
    int axis = 0, rank = 0;
    kiln_status st = in_required(c, 0, &data);

    if (st == KILN_OK)
        st = in_required(c, 1, &idx);
    if (st != KILN_OK)
        return st;
    if (data->rank < 1)
        return kiln_fail(KILN_E_FORMAT, "%s: cannot gather from a scalar", c->label);
    if (graph_dtype_is_float(idx->dtype) || idx->dtype == GRAPH_DT_BOOL)
        return kiln_fail(KILN_E_FORMAT, "%s: indices must be integers", c->label);
    st = axis_normalize(c, c->n->attr.axis, data->rank, 0, &axis);
    if (st != KILN_OK)
        return st;
    c->n->attr.axis = axis;
    if (data->rank - 1 + idx->rank > GRAPH_MAX_RANK)
        return kiln_fail(KILN_E_LIMIT, "%s: output rank exceeds %d", c->label, GRAPH_MAX_RANK);
    for (int i = 0; i < axis; i++)
        dims[rank++] = data->dims[i];
    for (int i = 0; i < idx->rank; i++)
        dims[rank++] = idx->dims[i];
    for (int i = axis + 1; i < data->rank; i++)
        dims[rank++] = data->dims[i];
    return out_set(c, 0, data->dtype, rank, dims);
}

/* ConstantOfShape: the shape is the (constant) input's values. */
static kiln_status infer_constant_of_shape(const infer_ctx *c)
{
    graph_tensor *shape;
    int64_t dims[GRAPH_MAX_RANK];
    int n;
    kiln_status st = in_required(c, 0, &shape);

    if (st == KILN_OK)
        st = in_int_list(c, shape, "shape", dims, GRAPH_MAX_RANK, &n);
    if (st != KILN_OK)
        return st;
    return out_set(c, 0, c->n->attr.fill.dtype, n, dims);
}

/* Range: max(ceil((limit - start) / delta), 0) values. */
static kiln_status infer_range(const infer_ctx *c)
{
    graph_tensor *t[3];
    double v[3];
    static const char *const roles[3] = { "start", "limit", "delta" };

    for (int k = 0; k < 3; k++) {
        kiln_status st = in_required(c, (size_t)k, &t[k]);
        if (st == KILN_OK)
            st = in_constant(c, t[k], roles[k]);
        if (st != KILN_OK)
            return st;
        if (graph_tensor_elements(t[k]) != 1 || t[k]->rank > 1)
            return kiln_fail(KILN_E_FORMAT, "%s: %s must be a scalar", c->label, roles[k]);
        if (k && (st = types_match(c, t[0], t[k])) != KILN_OK)
            return st;
        v[k] = graph_tensor_get(t[k], 0);
    }
    if (v[2] == 0.0 || !isfinite(v[0]) || !isfinite(v[1]) || !isfinite(v[2]))
        return kiln_fail(KILN_E_FORMAT, "%s: invalid range", c->label);
    double n = ceil((v[1] - v[0]) / v[2]);
    if (n > (double)GRAPH_MAX_ELEMENTS)
        return kiln_fail(KILN_E_LIMIT, "%s: range of %g values is too large", c->label, n);
    int64_t count = n > 0 ? (int64_t)n : 0;
    return out_set(c, 0, t[0]->dtype, 1, &count);
}

/* Expand: bidirectional broadcast of the input with a constant shape. */
static kiln_status infer_expand(const infer_ctx *c)
{
    graph_tensor *x, *shape;
    int64_t v[GRAPH_MAX_RANK], dims[GRAPH_MAX_RANK];
    int n, rank;
    kiln_status st = in_required(c, 0, &x);

    if (st == KILN_OK)
        st = in_required(c, 1, &shape);
    if (st == KILN_OK)
        st = in_int_list(c, shape, "shape", v, GRAPH_MAX_RANK, &n);
    if (st != KILN_OK)
        return st;
    for (int i = 0; i < n; i++)
        if (v[i] < 0)
            return kiln_fail(KILN_E_FORMAT, "%s: shape has a negative dim", c->label);
    rank = x->rank;
    memcpy(dims, x->dims, sizeof(dims));
    st = broadcast_into(c, &rank, dims, n, v);
    if (st != KILN_OK)
        return st;
    return out_set(c, 0, x->dtype, rank, dims);
}

/* Sets the output shapes and types of one node (an infer_ctx). */
typedef kiln_status (*infer_fn)(const infer_ctx *c);

/* The shape inference of each operator, one row per graph_op (NULL: none,
 * for GRAPH_OP_NONE). */
static const infer_fn infer_ops[] = {
    [GRAPH_OP_NONE] = NULL,
    [GRAPH_OP_CONV] = infer_conv,
    [GRAPH_OP_MAXPOOL] = infer_pool,
    [GRAPH_OP_AVERAGEPOOL] = infer_pool,
    [GRAPH_OP_RESIZE] = infer_resize,
    [GRAPH_OP_CONCAT] = infer_concat,
    [GRAPH_OP_ADD] = infer_binary,
    [GRAPH_OP_SUB] = infer_binary,
    [GRAPH_OP_MUL] = infer_binary,
    [GRAPH_OP_DIV] = infer_binary,
    [GRAPH_OP_RELU] = infer_unary_any,
    [GRAPH_OP_SIGMOID] = infer_unary_float,
    [GRAPH_OP_CLIP] = infer_clip,
    [GRAPH_OP_CAST] = infer_cast,
    [GRAPH_OP_RESHAPE] = infer_reshape,
    [GRAPH_OP_TRANSPOSE] = infer_transpose,
    [GRAPH_OP_SLICE] = infer_slice,
    [GRAPH_OP_IDENTITY] = infer_unary_any,
    [GRAPH_OP_BATCHNORM] = infer_batchnorm,
    [GRAPH_OP_SQUEEZE] = infer_squeeze,
    [GRAPH_OP_UNSQUEEZE] = infer_unsqueeze,
    [GRAPH_OP_FLATTEN] = infer_flatten,
    [GRAPH_OP_SHAPE] = infer_shape,
    [GRAPH_OP_GATHER] = infer_gather,
    [GRAPH_OP_CONSTANT_OF_SHAPE] = infer_constant_of_shape,
    [GRAPH_OP_RANGE] = infer_range,
    [GRAPH_OP_EQUAL] = infer_binary,
    [GRAPH_OP_WHERE] = infer_where,
    [GRAPH_OP_EXPAND] = infer_expand,
    [GRAPH_OP_FLOOR] = infer_unary_any,
    [GRAPH_OP_CEIL] = infer_unary_any,
};
_Static_assert(sizeof(infer_ops) / sizeof(infer_ops[0]) == GRAPH_OP_COUNT,
               "graph_infer.c: one shape inference row per graph_op");

/* Runs the operator's row. */
kiln_status graph_infer_node(kiln_graph *g, int node)
{
    infer_ctx c;

    c.g = g;
    c.n = &g->nodes[node];
    graph_node_label(c.n, c.label, sizeof(c.label));
    if ((int)c.n->op < 0 || c.n->op >= GRAPH_OP_COUNT || !infer_ops[c.n->op])
        return kiln_fail(KILN_E_FORMAT, "%s: no shape inference for this operator", c.label);
    return infer_ops[c.n->op](&c);
}
