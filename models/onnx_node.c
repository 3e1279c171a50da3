/* ONNX NodeProto -> operator, typed attributes and input slots (see
 * onnx_node.h).  Every operator has a table entry with its input and
 * output counts and the attributes it knows; an attribute not in the list
 * is refused before any is read. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "onnx_node.h"
#include "onnx_tensor.h"
#include "status.h"

#define LABEL_MAX 256
#define ANY (-1)

/* One operator kiln loads. */
typedef struct op_spec {
    const char *onnx;               /* ONNX op_type */
    graph_op op;
    int min_inputs, max_inputs;     /* ANY: variadic */
    int max_outputs;
    const char *const *attrs;       /* known attribute names, NULL-terminated */
} op_spec;

static const char *const no_attrs[] = { NULL };
static const char *const conv_attrs[] = {
    "auto_pad", "dilations", "group", "kernel_shape", "pads", "strides", NULL };
static const char *const maxpool_attrs[] = {
    "auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order",
    "strides", NULL };
static const char *const avgpool_attrs[] = {
    "auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads",
    "strides", NULL };
static const char *const resize_attrs[] = {
    "antialias", "axes", "coordinate_transformation_mode", "cubic_coeff_a",
    "exclude_outside", "extrapolation_value", "keep_aspect_ratio_policy", "mode",
    "nearest_mode", NULL };
static const char *const mode_attrs[] = { "mode", NULL };
static const char *const upsample_attrs[] = { "mode", "scales", NULL };
static const char *const axis_attrs[] = { "axis", NULL };
static const char *const clip_attrs[] = { "min", "max", NULL };
static const char *const cast_attrs[] = { "to", "saturate", NULL };
static const char *const reshape_attrs[] = { "allowzero", NULL };
static const char *const perm_attrs[] = { "perm", NULL };
static const char *const slice_attrs[] = { "starts", "ends", "axes", NULL };
static const char *const bn_attrs[] = {
    "epsilon", "momentum", "spatial", "training_mode", NULL };
static const char *const axes_attrs[] = { "axes", NULL };
static const char *const shape_attrs[] = { "start", "end", NULL };
static const char *const value_attrs[] = { "value", NULL };

/* Input counts are for the newest opset; parse_node adjusts the older
 * attribute forms (Clip < 11, Slice < 10, Squeeze/Unsqueeze < 13, Resize
 * 10, Upsample < 9). */
static const op_spec op_specs[] = {
    { "Conv", GRAPH_OP_CONV, 2, 3, 1, conv_attrs },
    { "MaxPool", GRAPH_OP_MAXPOOL, 1, 1, 1, maxpool_attrs },
    { "AveragePool", GRAPH_OP_AVERAGEPOOL, 1, 1, 1, avgpool_attrs },
    { "Resize", GRAPH_OP_RESIZE, 1, 4, 1, resize_attrs },
    { "Upsample", GRAPH_OP_RESIZE, 1, 2, 1, upsample_attrs },
    { "Concat", GRAPH_OP_CONCAT, 1, ANY, 1, axis_attrs },
    { "Add", GRAPH_OP_ADD, 2, 2, 1, no_attrs },
    { "Sub", GRAPH_OP_SUB, 2, 2, 1, no_attrs },
    { "Mul", GRAPH_OP_MUL, 2, 2, 1, no_attrs },
    { "Div", GRAPH_OP_DIV, 2, 2, 1, no_attrs },
    { "Relu", GRAPH_OP_RELU, 1, 1, 1, no_attrs },
    { "Sigmoid", GRAPH_OP_SIGMOID, 1, 1, 1, no_attrs },
    { "Clip", GRAPH_OP_CLIP, 1, 3, 1, clip_attrs },
    { "Cast", GRAPH_OP_CAST, 1, 1, 1, cast_attrs },
    { "Reshape", GRAPH_OP_RESHAPE, 2, 2, 1, reshape_attrs },
    { "Transpose", GRAPH_OP_TRANSPOSE, 1, 1, 1, perm_attrs },
    { "Slice", GRAPH_OP_SLICE, 1, 5, 1, slice_attrs },
    { "Identity", GRAPH_OP_IDENTITY, 1, 1, 1, no_attrs },
    { "BatchNormalization", GRAPH_OP_BATCHNORM, 5, 5, 1, bn_attrs },
    { "Squeeze", GRAPH_OP_SQUEEZE, 1, 2, 1, axes_attrs },
    { "Unsqueeze", GRAPH_OP_UNSQUEEZE, 1, 2, 1, axes_attrs },
    { "Flatten", GRAPH_OP_FLATTEN, 1, 1, 1, axis_attrs },
    { "Shape", GRAPH_OP_SHAPE, 1, 1, 1, shape_attrs },
    { "Gather", GRAPH_OP_GATHER, 2, 2, 1, axis_attrs },
    { "ConstantOfShape", GRAPH_OP_CONSTANT_OF_SHAPE, 1, 1, 1, value_attrs },
    { "Range", GRAPH_OP_RANGE, 3, 3, 1, no_attrs },
    { "Equal", GRAPH_OP_EQUAL, 2, 2, 1, no_attrs },
    { "Where", GRAPH_OP_WHERE, 3, 3, 1, no_attrs },
    { "Expand", GRAPH_OP_EXPAND, 2, 2, 1, no_attrs },
    { "Floor", GRAPH_OP_FLOOR, 1, 1, 1, no_attrs },
    { "Ceil", GRAPH_OP_CEIL, 1, 1, 1, no_attrs },
};

/* Reads the attributes of one node, naming it in every message. */
typedef struct attr_reader {
    const Onnx__NodeProto *np;
    char label[LABEL_MAX];
} attr_reader;

/* A string or "" for NULL. */
static const char *str_or_empty(const char *s)
{
    return s ? s : "";
}

/* Formats the label of an ONNX node: "node 'NAME' (#I, OP)". */
static void label_format(const Onnx__NodeProto *np, size_t index, char *buf, size_t size)
{
    const char *op = np->op_type ? np->op_type : "?";

    if (np->name && np->name[0])
        snprintf(buf, size, "node '%.100s' (#%zu, %.60s)", np->name, index, op);
    else
        snprintf(buf, size, "node #%zu (%.60s)", index, op);
}

/* Whether `name` is in the NULL-terminated list. */
static int name_listed(const char *const *list, const char *name)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], name) == 0)
            return 1;
    return 0;
}

/* Refuses unknown and repeated attributes. */
static kiln_status attrs_check_known(const attr_reader *r, const char *const *known)
{
    const Onnx__NodeProto *np = r->np;

    for (size_t i = 0; i < np->n_attribute; i++) {
        const char *name = str_or_empty(np->attribute[i]->name);
        if (!name_listed(known, name))
            return kiln_fail(KILN_E_FORMAT, "%s: unsupported attribute '%.100s'", r->label, name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(str_or_empty(np->attribute[j]->name), name) == 0)
                return kiln_fail(KILN_E_FORMAT, "%s: attribute '%.100s' appears twice",
                                 r->label, name);
    }
    return KILN_OK;
}

/* The attribute named `name`, or NULL. */
static const Onnx__AttributeProto *attr_find(const attr_reader *r, const char *name)
{
    for (size_t i = 0; i < r->np->n_attribute; i++)
        if (strcmp(str_or_empty(r->np->attribute[i]->name), name) == 0)
            return r->np->attribute[i];
    return NULL;
}

/* Checks an attribute's declared type (models without the type field are
 * judged by the field that is set). */
static kiln_status attr_check_type(const attr_reader *r, const Onnx__AttributeProto *a,
                                   Onnx__AttributeProto__AttributeType want, int field_set)
{
    static const char *const type_names[] = {
        "UNDEFINED", "FLOAT", "INT", "STRING", "TENSOR", "GRAPH", "FLOATS", "INTS",
        "STRINGS", "TENSORS", "GRAPHS", "SPARSE_TENSOR", "SPARSE_TENSORS", "TYPE_PROTO",
        "TYPE_PROTOS" };
    int ok = a->has_type ? a->type == want : field_set;

    if (ok)
        return KILN_OK;
    int t = a->has_type ? (int)a->type : 0;
    return kiln_fail(KILN_E_FORMAT, "%s: attribute '%.100s' has type %s, expected %s", r->label,
                     str_or_empty(a->name),
                     t >= 0 && t <= 14 ? type_names[t] : "unknown", type_names[want]);
}

/* An INT attribute, or `def` when absent. */
static kiln_status attr_int(const attr_reader *r, const char *name, int64_t def, int64_t *out)
{
    const Onnx__AttributeProto *a = attr_find(r, name);

    *out = def;
    if (!a)
        return KILN_OK;
    kiln_status st = attr_check_type(r, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT, a->has_i);
    if (st == KILN_OK)
        *out = a->i;
    return st;
}

/* A FLOAT attribute, or `def` when absent. */
static kiln_status attr_float(const attr_reader *r, const char *name, float def, float *out)
{
    const Onnx__AttributeProto *a = attr_find(r, name);

    *out = def;
    if (!a)
        return KILN_OK;
    kiln_status st = attr_check_type(r, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT, a->has_f);
    if (st == KILN_OK)
        *out = a->f;
    return st;
}

/* An INTS attribute of at most `max` values into out[]; *count is -1 when
 * absent. */
static kiln_status attr_ints(const attr_reader *r, const char *name, int64_t *out, int max,
                             int *count)
{
    const Onnx__AttributeProto *a = attr_find(r, name);

    *count = -1;
    if (!a)
        return KILN_OK;
    kiln_status st = attr_check_type(r, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS, 1);
    if (st != KILN_OK)
        return st;
    if (a->n_ints > (size_t)max)
        return kiln_fail(KILN_E_FORMAT, "%s: attribute '%s' has %zu values (kiln supports at "
                         "most %d)", r->label, name, a->n_ints, max);
    for (size_t i = 0; i < a->n_ints; i++)
        out[i] = a->ints[i];
    *count = (int)a->n_ints;
    return KILN_OK;
}

/* A FLOATS attribute of at most `max` values; *count -1 when absent. */
static kiln_status attr_floats(const attr_reader *r, const char *name, float *out, int max,
                               int *count)
{
    const Onnx__AttributeProto *a = attr_find(r, name);

    *count = -1;
    if (!a)
        return KILN_OK;
    kiln_status st = attr_check_type(r, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS, 1);
    if (st != KILN_OK)
        return st;
    if (a->n_floats > (size_t)max)
        return kiln_fail(KILN_E_FORMAT, "%s: attribute '%s' has %zu values (kiln supports at "
                         "most %d)", r->label, name, a->n_floats, max);
    for (size_t i = 0; i < a->n_floats; i++)
        out[i] = a->floats[i];
    *count = (int)a->n_floats;
    return KILN_OK;
}

/* A STRING attribute matched against `choices` (NULL-terminated); *out is
 * the index of the match, `def` when absent. */
static kiln_status attr_choice(const attr_reader *r, const char *name,
                               const char *const *choices, int def, int *out)
{
    const Onnx__AttributeProto *a = attr_find(r, name);

    *out = def;
    if (!a)
        return KILN_OK;
    kiln_status st = attr_check_type(r, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING,
                                     a->has_s);
    if (st != KILN_OK)
        return st;
    for (int i = 0; choices[i]; i++) {
        size_t len = strlen(choices[i]);
        if (a->s.len == len && memcmp(a->s.data, choices[i], len) == 0) {
            *out = i;
            return KILN_OK;
        }
    }
    return kiln_fail(KILN_E_FORMAT, "%s: attribute '%s' has unsupported value '%.*s'",
                     r->label, name, (int)(a->s.len > 64 ? 64 : a->s.len),
                     a->s.data ? (const char *)a->s.data : "");
}

/* A refusal of an attribute value kiln does not implement. */
static kiln_status attr_unsupported(const attr_reader *r, const char *name, long long value)
{
    return kiln_fail(KILN_E_FORMAT, "%s: attribute '%s' = %lld is not supported", r->label,
                     name, value);
}

/* Reads a window attribute list that must hold positive (or, for pads,
 * non-negative) values. */
static kiln_status window_list(const attr_reader *r, const char *name, int64_t *out, int max,
                               int64_t min_value, int *count)
{
    kiln_status st = attr_ints(r, name, out, max, count);

    if (st != KILN_OK)
        return st;
    for (int i = 0; i < *count; i++)
        if (out[i] < min_value || out[i] > INT32_MAX)
            return kiln_fail(KILN_E_FORMAT, "%s: attribute '%s' has an invalid value %lld",
                             r->label, name, (long long)out[i]);
    return KILN_OK;
}

/* The attributes Conv and the pools share. */
static kiln_status parse_window(const attr_reader *r, graph_window *w, int has_dilations)
{
    static const char *const pads[] = { "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID", NULL };
    int nk, ns, nd = -1, np, mode;
    kiln_status st;

    memset(w, 0, sizeof(*w));
    st = attr_choice(r, "auto_pad", pads, 0, &mode);
    if (st == KILN_OK)
        st = window_list(r, "kernel_shape", w->kernel, GRAPH_MAX_SPATIAL, 1, &nk);
    if (st == KILN_OK)
        st = window_list(r, "strides", w->strides, GRAPH_MAX_SPATIAL, 1, &ns);
    if (st == KILN_OK && has_dilations)
        st = window_list(r, "dilations", w->dilations, GRAPH_MAX_SPATIAL, 1, &nd);
    if (st == KILN_OK)
        st = window_list(r, "pads", w->pads, 2 * GRAPH_MAX_SPATIAL, 0, &np);
    if (st != KILN_OK)
        return st;
    w->auto_pad = (graph_auto_pad)mode;
    w->has_kernel = nk >= 0;
    w->has_strides = ns >= 0;
    w->has_dilations = nd >= 0;
    w->has_pads = np >= 0;
    if (w->has_kernel)
        w->nspatial = nk;
    /* every list given must agree on the number of spatial dims */
    int lens[4] = { nk, ns, nd, np >= 0 ? np / 2 : -1 };
    if (np >= 0 && np % 2)
        return kiln_fail(KILN_E_FORMAT, "%s: attribute 'pads' has an odd count (%d)", r->label, np);
    for (int i = 0; i < 4; i++) {
        if (lens[i] < 0)
            continue;
        if (lens[i] == 0)
            return kiln_fail(KILN_E_FORMAT, "%s: an empty window attribute", r->label);
        if (w->nspatial == 0)
            w->nspatial = lens[i];
        else if (lens[i] != w->nspatial)
            return kiln_fail(KILN_E_FORMAT, "%s: window attributes disagree on the number of "
                             "spatial dims (%d and %d)", r->label, w->nspatial, lens[i]);
    }
    return KILN_OK;
}

/* Conv: the window and group. */
static kiln_status parse_conv(const attr_reader *r, graph_attrs *a)
{
    kiln_status st = parse_window(r, &a->conv.win, 1);

    if (st == KILN_OK)
        st = attr_int(r, "group", 1, &a->conv.group);
    if (st == KILN_OK && (a->conv.group < 1 || a->conv.group > INT32_MAX))
        return kiln_fail(KILN_E_FORMAT, "%s: attribute 'group' has an invalid value %lld",
                         r->label, (long long)a->conv.group);
    a->conv.activation = GRAPH_ACT_NONE;
    return st;
}

/* MaxPool and AveragePool. */
static kiln_status parse_pool(const attr_reader *r, graph_op op, int64_t opset, graph_attrs *a)
{
    int64_t ceil_mode = 0, include = 0, order = 0;
    /* AveragePool gained dilations in opset 19 */
    kiln_status st = parse_window(r, &a->pool.win, op == GRAPH_OP_MAXPOOL || opset >= 19);

    if (st == KILN_OK && !a->pool.win.has_kernel)
        return kiln_fail(KILN_E_FORMAT, "%s: attribute 'kernel_shape' is required", r->label);
    if (st == KILN_OK)
        st = attr_int(r, "ceil_mode", 0, &ceil_mode);
    if (st == KILN_OK && op == GRAPH_OP_AVERAGEPOOL)
        st = attr_int(r, "count_include_pad", 0, &include);
    if (st == KILN_OK && op == GRAPH_OP_MAXPOOL)
        st = attr_int(r, "storage_order", 0, &order);
    if (st != KILN_OK)
        return st;
    if (!a->pool.win.has_dilations && attr_find(r, "dilations"))
        return kiln_fail(KILN_E_FORMAT, "%s: unsupported attribute 'dilations' before opset 19",
                         r->label);
    if (ceil_mode != 0 && ceil_mode != 1)
        return attr_unsupported(r, "ceil_mode", (long long)ceil_mode);
    if (include != 0 && include != 1)
        return attr_unsupported(r, "count_include_pad", (long long)include);
    if (order != 0 && order != 1)
        return attr_unsupported(r, "storage_order", (long long)order);
    a->pool.ceil_mode = (int)ceil_mode;
    a->pool.count_include_pad = (int)include;
    return KILN_OK;
}

/* Resize at opset >= 11 (opset 10 only has mode). */
static kiln_status parse_resize(const attr_reader *r, int64_t opset, graph_attrs *a)
{
    static const char *const modes[] = { "nearest", "linear", "cubic", NULL };
    static const char *const coords[] = {
        "half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
        "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize", NULL };
    static const char *const nearest[] = {
        "round_prefer_floor", "round_prefer_ceil", "floor", "ceil", NULL };
    static const char *const aspect[] = { "stretch", "not_larger", "not_smaller", NULL };
    graph_resize_attr *ra = &a->resize;
    int mode, coord = 0, nmode = 0, policy = 0, naxes = -1;
    int64_t exclude = 0, antialias = 0;
    kiln_status st;

    memset(ra, 0, sizeof(*ra));
    ra->cubic_coeff_a = -0.75f;
    st = attr_choice(r, "mode", modes, 0, &mode);
    if (st != KILN_OK)
        return st;
    if (opset < 11) {
        if (mode == GRAPH_RESIZE_CUBIC)
            return kiln_fail(KILN_E_FORMAT, "%s: attribute 'mode' = cubic needs opset 11",
                             r->label);
        ra->mode = (graph_resize_mode)mode;
        ra->coord = GRAPH_COORD_ASYMMETRIC;
        ra->nearest = GRAPH_NEAREST_FLOOR;
        return KILN_OK;
    }
    st = attr_choice(r, "coordinate_transformation_mode", coords, 0, &coord);
    if (st == KILN_OK)
        st = attr_choice(r, "nearest_mode", nearest, 0, &nmode);
    if (st == KILN_OK)
        st = attr_choice(r, "keep_aspect_ratio_policy", aspect, 0, &policy);
    if (st == KILN_OK)
        st = attr_float(r, "cubic_coeff_a", -0.75f, &ra->cubic_coeff_a);
    if (st == KILN_OK)
        st = attr_float(r, "extrapolation_value", 0.0f, &ra->extrapolation_value);
    if (st == KILN_OK)
        st = attr_int(r, "exclude_outside", 0, &exclude);
    if (st == KILN_OK)
        st = attr_int(r, "antialias", 0, &antialias);
    if (st == KILN_OK)
        st = attr_ints(r, "axes", ra->axes, GRAPH_MAX_RANK, &naxes);
    if (st != KILN_OK)
        return st;
    if (antialias != 0)
        return attr_unsupported(r, "antialias", (long long)antialias);
    if (exclude != 0 && exclude != 1)
        return attr_unsupported(r, "exclude_outside", (long long)exclude);
    if (coord == GRAPH_COORD_HALF_PIXEL_SYMMETRIC && opset < 19)
        return kiln_fail(KILN_E_FORMAT, "%s: attribute 'coordinate_transformation_mode' = "
                         "half_pixel_symmetric needs opset 19", r->label);
    if (!isfinite(ra->cubic_coeff_a) || !isfinite(ra->extrapolation_value))
        return kiln_fail(KILN_E_FORMAT, "%s: a Resize attribute is not finite", r->label);
    ra->mode = (graph_resize_mode)mode;
    ra->coord = (graph_coord_mode)coord;
    ra->nearest = (graph_nearest_mode)nmode;
    ra->aspect = (graph_aspect_policy)policy;
    ra->exclude_outside = (int)exclude;
    ra->naxes = naxes < 0 ? 0 : naxes;
    if (naxes == 0)
        return kiln_fail(KILN_E_FORMAT, "%s: attribute 'axes' is empty", r->label);
    return KILN_OK;
}

/* Upsample: nearest or linear, asymmetric coordinates; scales from the
 * attribute (opset 7, 8) or input 1. */
static kiln_status parse_upsample(const attr_reader *r, graph_attrs *a)
{
    static const char *const modes[] = { "nearest", "linear", "bilinear", NULL };
    graph_resize_attr *ra = &a->resize;
    int mode, n = -1;
    kiln_status st;

    memset(ra, 0, sizeof(*ra));
    st = attr_choice(r, "mode", modes, 0, &mode);
    if (st == KILN_OK)
        st = attr_floats(r, "scales", ra->attr_scales, GRAPH_MAX_RANK, &n);
    if (st != KILN_OK)
        return st;
    ra->mode = mode == 0 ? GRAPH_RESIZE_NEAREST : GRAPH_RESIZE_LINEAR;
    ra->coord = GRAPH_COORD_ASYMMETRIC;
    ra->nearest = GRAPH_NEAREST_FLOOR;
    ra->cubic_coeff_a = -0.75f;
    ra->nattr_scales = n < 0 ? 0 : n;
    for (int i = 0; i < ra->nattr_scales; i++)
        if (!(ra->attr_scales[i] > 0.0f) || !isfinite(ra->attr_scales[i]))
            return kiln_fail(KILN_E_FORMAT, "%s: attribute 'scales' has an invalid value %g",
                             r->label, (double)ra->attr_scales[i]);
    return KILN_OK;
}

/* Clip before opset 11: min and max attributes. */
static kiln_status parse_clip(const attr_reader *r, graph_attrs *a)
{
    float lo = -INFINITY, hi = INFINITY;
    kiln_status st = attr_float(r, "min", -INFINITY, &lo);

    if (st == KILN_OK)
        st = attr_float(r, "max", INFINITY, &hi);
    a->clip.min = lo;
    a->clip.max = hi;
    a->clip.has_min = attr_find(r, "min") != NULL;
    a->clip.has_max = attr_find(r, "max") != NULL;
    return st;
}

/* Cast: the target type. */
static kiln_status parse_cast(const attr_reader *r, graph_attrs *a)
{
    int64_t to;
    kiln_status st;

    if (!attr_find(r, "to"))
        return kiln_fail(KILN_E_FORMAT, "%s: attribute 'to' is required", r->label);
    st = attr_int(r, "to", 0, &to);
    if (st != KILN_OK)
        return st;
    if (to < INT32_MIN || to > INT32_MAX)
        return attr_unsupported(r, "to", (long long)to);
    st = onnx_dtype_map((int32_t)to, "attribute 'to'", &a->cast_to);
    if (st != KILN_OK)
        return kiln_fail_context(st, "%s", r->label);
    return KILN_OK;
}

/* Transpose: an optional permutation. */
static kiln_status parse_transpose(const attr_reader *r, graph_attrs *a)
{
    int n;
    kiln_status st = attr_ints(r, "perm", a->transpose.perm, GRAPH_MAX_RANK, &n);

    a->transpose.nperm = n < 0 ? 0 : n;
    return st;
}

/* Slice before opset 10: starts, ends and axes attributes. */
static kiln_status parse_slice_attrs(const attr_reader *r, graph_attrs *a)
{
    graph_slice_attr *s = &a->slice;
    int ns, ne, na;
    kiln_status st;

    memset(s, 0, sizeof(*s));
    st = attr_ints(r, "starts", s->attr_starts, GRAPH_MAX_RANK, &ns);
    if (st == KILN_OK)
        st = attr_ints(r, "ends", s->attr_ends, GRAPH_MAX_RANK, &ne);
    if (st == KILN_OK)
        st = attr_ints(r, "axes", s->attr_axes, GRAPH_MAX_RANK, &na);
    if (st != KILN_OK)
        return st;
    if (ns < 0 || ne < 0)
        return kiln_fail(KILN_E_FORMAT, "%s: attributes 'starts' and 'ends' are required",
                         r->label);
    if (ns != ne || (na >= 0 && na != ns))
        return kiln_fail(KILN_E_FORMAT, "%s: attributes 'starts', 'ends' and 'axes' differ in "
                         "length", r->label);
    s->from_attrs = 1;
    s->nattr = ns;
    s->has_attr_axes = na >= 0;
    return KILN_OK;
}

/* BatchNormalization in inference mode. */
static kiln_status parse_batchnorm(const attr_reader *r, graph_attrs *a)
{
    float momentum;
    int64_t spatial, training;
    kiln_status st = attr_float(r, "epsilon", 1e-5f, &a->epsilon);

    if (st == KILN_OK)
        st = attr_float(r, "momentum", 0.9f, &momentum);
    if (st == KILN_OK)
        st = attr_int(r, "spatial", 1, &spatial);
    if (st == KILN_OK)
        st = attr_int(r, "training_mode", 0, &training);
    if (st != KILN_OK)
        return st;
    if (spatial != 1)
        return attr_unsupported(r, "spatial", (long long)spatial);
    if (training != 0)
        return attr_unsupported(r, "training_mode", (long long)training);
    if (!(a->epsilon >= 0.0f) || !isfinite(a->epsilon))
        return kiln_fail(KILN_E_FORMAT, "%s: attribute 'epsilon' is invalid", r->label);
    return KILN_OK;
}

/* Squeeze and Unsqueeze axes as an attribute (opset < 13). */
static kiln_status parse_axes(const attr_reader *r, graph_attrs *a)
{
    int n;
    kiln_status st = attr_ints(r, "axes", a->axes.axes, GRAPH_MAX_RANK, &n);

    a->axes.naxes = n < 0 ? 0 : n;
    a->axes.has_axes = n >= 0;
    return st;
}

/* Shape: start and optional end (opset 15). */
static kiln_status parse_shape(const attr_reader *r, graph_attrs *a)
{
    kiln_status st = attr_int(r, "start", 0, &a->shape.start);

    if (st == KILN_OK)
        st = attr_int(r, "end", 0, &a->shape.end);
    a->shape.has_end = attr_find(r, "end") != NULL;
    return st;
}

/* ConstantOfShape: a one-element tensor value (default float 0). */
static kiln_status parse_fill(const attr_reader *r, graph_attrs *a)
{
    const Onnx__AttributeProto *v = attr_find(r, "value");
    graph_tensor t;
    kiln_status st;

    a->fill.dtype = GRAPH_DT_FLOAT32;
    a->fill.value = 0.0;
    if (!v)
        return KILN_OK;
    st = attr_check_type(r, v, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR, v->t != NULL);
    if (st != KILN_OK)
        return st;
    if (!v->t)
        return kiln_fail(KILN_E_FORMAT, "%s: attribute 'value' holds no tensor", r->label);
    memset(&t, 0, sizeof(t));
    st = onnx_tensor_decode(v->t, "attribute 'value'", &t);
    if (st == KILN_OK && graph_tensor_elements(&t) != 1)
        st = kiln_fail(KILN_E_FORMAT, "attribute 'value' must hold one element");
    if (st == KILN_OK) {
        a->fill.dtype = t.dtype;
        a->fill.value = graph_tensor_get(&t, 0);
    }
    graph_tensor_clear(&t);
    if (st != KILN_OK)
        return kiln_fail_context(st, "%s", r->label);
    return KILN_OK;
}

/* An axis attribute with a default. */
static kiln_status parse_axis(const attr_reader *r, int64_t def, int required, graph_attrs *a)
{
    if (required && !attr_find(r, "axis"))
        return kiln_fail(KILN_E_FORMAT, "%s: attribute 'axis' is required", r->label);
    return attr_int(r, "axis", def, &a->axis);
}

/* Sets the input slots: the identity for up to nslots inputs. */
static void slots_identity(onnx_node_info *info, size_t nslots)
{
    info->nslots = nslots;
    for (int i = 0; i < ONNX_NODE_MAX_SLOTS; i++)
        info->slot[i] = i < (int)nslots ? i : -1;
}

/* Finds the spec of an ONNX op type. */
static const op_spec *spec_find(const char *op_type)
{
    for (size_t i = 0; i < sizeof(op_specs) / sizeof(op_specs[0]); i++)
        if (strcmp(op_specs[i].onnx, op_type) == 0)
            return &op_specs[i];
    return NULL;
}

/* Whether an ONNX domain is the default one. */
static int domain_is_default(const char *domain)
{
    return !domain || !domain[0] || strcmp(domain, "ai.onnx") == 0;
}

/* Whether the node is a default-domain Constant. */
int onnx_node_is_constant(const Onnx__NodeProto *np)
{
    return np->op_type && strcmp(np->op_type, "Constant") == 0 && domain_is_default(np->domain);
}

/* The input counts and attribute list for this opset: older forms carry
 * in attributes what newer ones take as inputs. */
static void spec_for_opset(const op_spec *spec, int64_t opset, int *min_in, int *max_in,
                           const char *const **attrs)
{
    *min_in = spec->min_inputs;
    *max_in = spec->max_inputs;
    *attrs = spec->attrs;
    switch (spec->op) {
    case GRAPH_OP_CLIP:
        if (opset < 11)
            *max_in = 1;
        else
            *attrs = no_attrs;
        break;
    case GRAPH_OP_SLICE:
        if (opset < 10)
            *max_in = 1;
        else {
            *min_in = 3;
            *attrs = no_attrs;
        }
        break;
    case GRAPH_OP_SQUEEZE:
    case GRAPH_OP_UNSQUEEZE:
        if (opset < 13)
            *max_in = 1;
        else {
            *attrs = no_attrs;
            if (spec->op == GRAPH_OP_UNSQUEEZE)
                *min_in = 2;
        }
        break;
    case GRAPH_OP_RESIZE:
        if (strcmp(spec->onnx, "Upsample") == 0) {
            if (opset < 9) {
                *max_in = 1;
            } else {
                *min_in = 2;
                *attrs = mode_attrs;
            }
        } else if (opset < 11) {
            *min_in = *max_in = 2;
            *attrs = mode_attrs;
        }
        break;
    default:
        break;
    }
}

/* Reads the op's attributes into info->attr and sets the input slots. */
static kiln_status parse_attrs(const attr_reader *r, const op_spec *spec, int64_t opset,
                               size_t ninputs, onnx_node_info *info)
{
    graph_attrs *a = &info->attr;
    kiln_status st = KILN_OK;

    slots_identity(info, ninputs);
    switch (spec->op) {
    case GRAPH_OP_CONV:
        st = parse_conv(r, a);
        slots_identity(info, 3);
        break;
    case GRAPH_OP_MAXPOOL:
    case GRAPH_OP_AVERAGEPOOL:
        st = parse_pool(r, spec->op, opset, a);
        break;
    case GRAPH_OP_RESIZE:
        /* graph node inputs are always [X, roi, scales, sizes] */
        slots_identity(info, 4);
        if (strcmp(spec->onnx, "Upsample") == 0) {
            st = parse_upsample(r, a);
            if (st == KILN_OK && opset < 9 && a->resize.nattr_scales == 0)
                return kiln_fail(KILN_E_FORMAT, "%s: attribute 'scales' is required",
                                 r->label);
            info->slot[1] = 2;
        } else {
            st = parse_resize(r, opset, a);
            if (opset < 11)
                info->slot[1] = 2;
        }
        break;
    case GRAPH_OP_CONCAT:
        st = parse_axis(r, 0, 1, a);
        break;
    case GRAPH_OP_CLIP:
        slots_identity(info, 3);
        if (opset < 11)
            st = parse_clip(r, a);
        else
            memset(&a->clip, 0, sizeof(a->clip));
        break;
    case GRAPH_OP_CAST:
        st = parse_cast(r, a);
        break;
    case GRAPH_OP_RESHAPE: {
        int64_t allowzero;
        st = attr_int(r, "allowzero", 0, &allowzero);
        if (st == KILN_OK && allowzero != 0 && allowzero != 1)
            return attr_unsupported(r, "allowzero", (long long)allowzero);
        a->allowzero = (int)allowzero;
        break;
    }
    case GRAPH_OP_TRANSPOSE:
        st = parse_transpose(r, a);
        break;
    case GRAPH_OP_SLICE:
        slots_identity(info, 5);
        if (opset < 10)
            st = parse_slice_attrs(r, a);
        else
            memset(&a->slice, 0, sizeof(a->slice));
        break;
    case GRAPH_OP_BATCHNORM:
        st = parse_batchnorm(r, a);
        break;
    case GRAPH_OP_SQUEEZE:
    case GRAPH_OP_UNSQUEEZE:
        slots_identity(info, 2);
        memset(&a->axes, 0, sizeof(a->axes));
        if (opset < 13)
            st = parse_axes(r, a);
        if (st == KILN_OK && opset < 13 && spec->op == GRAPH_OP_UNSQUEEZE && !a->axes.has_axes)
            return kiln_fail(KILN_E_FORMAT, "%s: attribute 'axes' is required", r->label);
        break;
    case GRAPH_OP_FLATTEN:
        st = parse_axis(r, 1, 0, a);
        break;
    case GRAPH_OP_GATHER:
        st = parse_axis(r, 0, 0, a);
        break;
    case GRAPH_OP_SHAPE:
        st = parse_shape(r, a);
        break;
    case GRAPH_OP_CONSTANT_OF_SHAPE:
        st = parse_fill(r, a);
        break;
    default:
        break;
    }
    return st;
}

/* Checks domain, op, counts and attributes, then reads them. */
kiln_status onnx_node_parse(const Onnx__NodeProto *np, size_t index, int64_t opset,
                            onnx_node_info *info)
{
    attr_reader r;
    const op_spec *spec;
    const char *const *attrs;
    int min_in, max_in;
    size_t ninputs = np->n_input, noutputs = np->n_output;
    kiln_status st;

    memset(info, 0, sizeof(*info));
    r.np = np;
    label_format(np, index, r.label, sizeof(r.label));
    if (!domain_is_default(np->domain))
        return kiln_fail(KILN_E_FORMAT, "%s: operator domain '%.100s' is not supported",
                         r.label, np->domain);
    if (!np->op_type || !np->op_type[0])
        return kiln_fail(KILN_E_FORMAT, "%s: the node has no operator", r.label);
    spec = spec_find(np->op_type);
    if (!spec)
        return kiln_fail(KILN_E_FORMAT, "%s: unsupported operator '%.60s'", r.label,
                         np->op_type);
    spec_for_opset(spec, opset, &min_in, &max_in, &attrs);

    /* trailing empty names are omitted optional inputs and outputs */
    while (ninputs > 0 && !str_or_empty(np->input[ninputs - 1])[0])
        ninputs--;
    while (noutputs > 0 && !str_or_empty(np->output[noutputs - 1])[0])
        noutputs--;
    if ((int64_t)ninputs < min_in || (max_in != ANY && (int64_t)ninputs > max_in)) {
        char most[16] = "any number";
        if (max_in != ANY)
            snprintf(most, sizeof(most), "%d", max_in);
        return kiln_fail(KILN_E_FORMAT, "%s: has %zu inputs; %s takes %d to %s at opset %lld",
                         r.label, ninputs, spec->onnx, min_in, most, (long long)opset);
    }
    if (noutputs == 0)
        return kiln_fail(KILN_E_FORMAT, "%s: has no output", r.label);
    if (noutputs > (size_t)spec->max_outputs)
        return kiln_fail(KILN_E_FORMAT, "%s: output #%d ('%.100s') is not supported (kiln "
                         "computes only the first output of %s)", r.label, spec->max_outputs,
                         str_or_empty(np->output[spec->max_outputs]), spec->onnx);
    for (size_t i = 0; i < noutputs; i++)
        if (!str_or_empty(np->output[i])[0])
            return kiln_fail(KILN_E_FORMAT, "%s: output #%zu has no name", r.label, i);
    st = attrs_check_known(&r, attrs);
    if (st != KILN_OK)
        return st;
    st = parse_attrs(&r, spec, opset, ninputs, info);
    if (st != KILN_OK)
        return st;
    info->op = spec->op;
    info->noutputs = noutputs;
    if (spec->op == GRAPH_OP_CONCAT) {
        info->nslots = ninputs;
        for (int i = 0; i < ONNX_NODE_MAX_SLOTS; i++)
            info->slot[i] = -1;
    }
    return KILN_OK;
}

/* Builds the tensor of a Constant from whichever value attribute it has. */
kiln_status onnx_constant_value(const Onnx__NodeProto *np, size_t index, graph_tensor *t)
{
    static const char *const known[] = {
        "value", "value_float", "value_floats", "value_int", "value_ints", NULL };
    attr_reader r;
    const Onnx__AttributeProto *a;
    kiln_status st;

    r.np = np;
    label_format(np, index, r.label, sizeof(r.label));
    if (np->n_input != 0 || np->n_output != 1 || !str_or_empty(np->output[0])[0])
        return kiln_fail(KILN_E_FORMAT, "%s: a Constant takes no input and has one output",
                         r.label);
    st = attrs_check_known(&r, known);
    if (st != KILN_OK)
        return st;
    if (np->n_attribute != 1)
        return kiln_fail(KILN_E_FORMAT, "%s: a Constant needs exactly one value attribute",
                         r.label);
    a = np->attribute[0];
    const char *name = str_or_empty(a->name);
    graph_tensor_drop_data(t);
    if (strcmp(name, "value") == 0) {
        st = attr_check_type(&r, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR, a->t != NULL);
        if (st == KILN_OK && !a->t)
            st = kiln_fail(KILN_E_FORMAT, "%s: attribute 'value' holds no tensor", r.label);
        if (st == KILN_OK) {
            st = onnx_tensor_decode(a->t, "attribute 'value'", t);
            if (st != KILN_OK)
                return kiln_fail_context(st, "%s", r.label);
        }
        return st;
    }
    int is_float = strncmp(name, "value_float", 11) == 0;
    int is_list = name[strlen(name) - 1] == 's';
    size_t n = 1;
    if (is_float)
        st = attr_check_type(&r, a, is_list ? ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS :
                             ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT,
                             is_list ? 1 : a->has_f);
    else
        st = attr_check_type(&r, a, is_list ? ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS :
                             ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT,
                             is_list ? 1 : a->has_i);
    if (st != KILN_OK)
        return st;
    if (is_list)
        n = is_float ? a->n_floats : a->n_ints;
    if (n > (size_t)GRAPH_MAX_ELEMENTS)
        return kiln_fail(KILN_E_LIMIT, "%s: too many values", r.label);
    t->dtype = is_float ? GRAPH_DT_FLOAT32 : GRAPH_DT_INT64;
    t->rank = is_list ? 1 : 0;
    t->dims[0] = (int64_t)n;
    st = graph_tensor_alloc_data(t);
    if (st != KILN_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        if (is_float)
            t->f32[i] = is_list ? a->floats[i] : a->f;
        else
            t->i64[i] = is_list ? a->ints[i] : a->i;
    }
    return KILN_OK;
}
