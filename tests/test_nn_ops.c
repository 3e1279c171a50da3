/* The network operator launchers (engine/nn_ops.h) against the host
 * reference, one small ONNX model per case (tests/nn_case.h).
 *
 * Cases: Conv 1-D, 2-D and 3-D, strides, groups and depthwise, dilations
 * 1 to 8 with pad = dilation, bias absent and present, fused Relu and
 * Sigmoid; MaxPool and AveragePool with ceil_mode, pads and
 * count_include_pad; Resize nearest (every rounding mode), linear and
 * cubic under every coordinate mode, by scales and by sizes, and
 * Upsample 7 and 9; broadcast arithmetic with constants and two runtime
 * operands; Concat with and without in-place inputs; Transpose; Slice
 * with negative steps; Relu, Sigmoid, Clip, Cast float -> float16 ->
 * float, FLOAT16 arithmetic, Identity, Reshape; random sweeps of Conv,
 * the pools, Resize and broadcasting; the refusals of nn_op_supported;
 * and the engine's operator table against the graph's (a launcher for
 * exactly the operators graph_fold leaves to the device). */
#include "graph_fold.h"
#include "nn_case.h"
#include "nn_ops.h"
#include "onnx.pb-c.h"
#include "onnx_build.h"
#include "onnx_load.h"
#include "testutil.h"

#define FLOAT_T ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT
#define MSG_LEN 512

/* ---- Conv ---- */

typedef struct conv_spec {
    const char *what;
    int nsp;
    int64_t x[5];
    int64_t cout, group;
    int64_t k[3], s[3], d[3], pads[6];
    int bias;
    const char *act;            /* NULL, "Relu" or "Sigmoid" (fused) */
} conv_spec;

/* Builds and runs one Conv (with its fused activation). */
static void conv_case(kiln_device *dev, const conv_spec *c)
{
    onnx_build *b = onnx_build_new(13);
    int rank = 2 + c->nsp;
    int64_t wd[5] = { c->cout, c->x[1] / c->group, 1, 1, 1 };
    const char *conv_out = c->act ? "c" : "y";
    nn_case_opts o = { 0, 0, 1 };
    Onnx__NodeProto *n;

    for (int i = 0; i < c->nsp; i++)
        wd[2 + i] = c->k[i];
    nn_case_input(b, "x", rank, c->x);
    nn_case_random_init(b, "w", rank, wd);
    if (c->bias) {
        int64_t bd[1] = { c->cout };
        nn_case_random_init(b, "b", 1, bd);
    }
    n = onnx_build_node(b, "Conv", "conv",
                        c->bias ? (const char *[]){ "x", "w", "b", NULL }
                                : (const char *[]){ "x", "w", NULL },
                        (const char *[]){ conv_out, NULL });
    onnx_build_attr_ints(b, n, "kernel_shape", (size_t)c->nsp, c->k);
    onnx_build_attr_ints(b, n, "strides", (size_t)c->nsp, c->s);
    onnx_build_attr_ints(b, n, "dilations", (size_t)c->nsp, c->d);
    onnx_build_attr_ints(b, n, "pads", 2 * (size_t)c->nsp, c->pads);
    onnx_build_attr_int(b, n, "group", c->group);
    if (c->act)
        onnx_build_node(b, c->act, "act", (const char *[]){ "c", NULL },
                        (const char *[]){ "y", NULL });
    onnx_build_output(b, "y");
    nn_case_run(dev, b, c->what, &o);
}

static void test_conv(kiln_device *dev)
{
    static const conv_spec cases[] = {
        { "conv 1d", 1, { 1, 3, 29 }, 5, 1, { 3 }, { 1 }, { 1 }, { 1, 1 }, 1, NULL },
        { "conv 1d stride 2 dil 2", 1, { 2, 4, 31 }, 8, 2, { 5 }, { 2 }, { 2 }, { 3, 2 }, 0,
          "Relu" },
        { "conv 2d 3x3", 2, { 1, 3, 17, 19 }, 8, 1, { 3, 3 }, { 1, 1 }, { 1, 1 },
          { 1, 1, 1, 1 }, 1, NULL },
        { "conv 2d no bias relu", 2, { 1, 5, 12, 9 }, 6, 1, { 3, 3 }, { 1, 1 }, { 1, 1 },
          { 1, 1, 1, 1 }, 0, "Relu" },
        { "conv 2d sigmoid", 2, { 1, 4, 10, 11 }, 3, 1, { 1, 1 }, { 1, 1 }, { 1, 1 },
          { 0, 0, 0, 0 }, 1, "Sigmoid" },
        { "conv 2d stride 2 odd", 2, { 1, 3, 15, 17 }, 7, 1, { 3, 3 }, { 2, 2 }, { 1, 1 },
          { 1, 1, 1, 1 }, 1, NULL },
        { "conv 2d stride 2 asym pads", 2, { 2, 4, 14, 13 }, 4, 1, { 4, 3 }, { 2, 1 }, { 1, 1 },
          { 0, 2, 1, 0 }, 1, NULL },
        { "conv groups 2", 2, { 1, 6, 11, 12 }, 12, 2, { 3, 3 }, { 1, 1 }, { 1, 1 },
          { 1, 1, 1, 1 }, 1, NULL },
        { "conv groups 2 partial block", 2, { 1, 4, 9, 8 }, 10, 2, { 3, 3 }, { 1, 1 },
          { 1, 1 }, { 1, 1, 1, 1 }, 1, "Relu" },
        { "conv groups 2 narrow", 2, { 1, 4, 9, 8 }, 6, 2, { 3, 3 }, { 1, 1 },
          { 1, 1 }, { 1, 1, 1, 1 }, 0, NULL },
        { "conv depthwise", 2, { 1, 8, 13, 14 }, 8, 8, { 3, 3 }, { 1, 1 }, { 1, 1 },
          { 1, 1, 1, 1 }, 1, NULL },
        { "conv depthwise stride 2", 2, { 1, 6, 13, 14 }, 6, 6, { 3, 3 }, { 2, 2 }, { 1, 1 },
          { 1, 1, 1, 1 }, 0, "Relu" },
        { "conv dilation 2", 2, { 1, 4, 20, 23 }, 8, 1, { 3, 3 }, { 1, 1 }, { 2, 2 },
          { 2, 2, 2, 2 }, 1, "Relu" },
        { "conv dilation 4", 2, { 1, 4, 20, 23 }, 8, 1, { 3, 3 }, { 1, 1 }, { 4, 4 },
          { 4, 4, 4, 4 }, 1, "Relu" },
        { "conv dilation 8", 2, { 1, 4, 20, 23 }, 8, 1, { 3, 3 }, { 1, 1 }, { 8, 8 },
          { 8, 8, 8, 8 }, 1, "Relu" },
        { "conv dilation 4 partial block", 2, { 1, 4, 37, 29 }, 5, 1, { 3, 3 }, { 1, 1 },
          { 4, 4 }, { 4, 4, 4, 4 }, 1, NULL },
        { "conv dilation 8 partial block", 2, { 1, 4, 37, 29 }, 5, 1, { 3, 3 }, { 1, 1 },
          { 8, 8 }, { 8, 8, 8, 8 }, 1, NULL },
        { "conv dilation 8 small input", 2, { 1, 3, 6, 7 }, 5, 1, { 3, 3 }, { 1, 1 },
          { 8, 8 }, { 8, 8, 8, 8 }, 1, NULL },
        { "conv 3d", 3, { 1, 2, 5, 6, 7 }, 4, 1, { 3, 3, 3 }, { 1, 2, 1 }, { 1, 1, 2 },
          { 1, 1, 2, 1, 0, 2 }, 1, NULL },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        conv_case(dev, &cases[i]);
}

/* ---- pools ---- */

typedef struct pool_spec {
    const char *what;
    const char *op;
    int nsp;
    int64_t x[5];
    int64_t k[3], s[3], pads[6], d[3];
    int ceil, include, dil;
} pool_spec;

/* Builds and runs one pool. */
static void pool_case(kiln_device *dev, const pool_spec *p)
{
    onnx_build *b = onnx_build_new(13);
    nn_case_opts o = { 0, 0, 1 };
    Onnx__NodeProto *n;

    nn_case_input(b, "x", 2 + p->nsp, p->x);
    n = onnx_build_node(b, p->op, "pool", (const char *[]){ "x", NULL },
                        (const char *[]){ "y", NULL });
    onnx_build_attr_ints(b, n, "kernel_shape", (size_t)p->nsp, p->k);
    onnx_build_attr_ints(b, n, "strides", (size_t)p->nsp, p->s);
    onnx_build_attr_ints(b, n, "pads", 2 * (size_t)p->nsp, p->pads);
    onnx_build_attr_int(b, n, "ceil_mode", p->ceil);
    if (strcmp(p->op, "AveragePool") == 0)
        onnx_build_attr_int(b, n, "count_include_pad", p->include);
    if (p->dil)
        onnx_build_attr_ints(b, n, "dilations", (size_t)p->nsp, p->d);
    onnx_build_output(b, "y");
    nn_case_run(dev, b, p->what, &o);
}

static void test_pool(kiln_device *dev)
{
    static const pool_spec cases[] = {
        { "maxpool 2x2 s2 ceil 15x17", "MaxPool", 2, { 1, 3, 15, 17 }, { 2, 2 }, { 2, 2 },
          { 0, 0, 0, 0 }, { 1, 1 }, 1, 0, 0 },
        { "maxpool 2x2 s2 floor 15x17", "MaxPool", 2, { 2, 3, 15, 17 }, { 2, 2 }, { 2, 2 },
          { 0, 0, 0, 0 }, { 1, 1 }, 0, 0, 0 },
        { "maxpool 3x3 s2 pads ceil", "MaxPool", 2, { 1, 4, 14, 11 }, { 3, 3 }, { 2, 2 },
          { 1, 1, 1, 1 }, { 1, 1 }, 1, 0, 0 },
        { "maxpool 3x3 s1 pads dil 2", "MaxPool", 2, { 1, 2, 10, 9 }, { 3, 3 }, { 1, 1 },
          { 2, 1, 2, 1 }, { 2, 2 }, 0, 0, 1 },
        { "maxpool 1d", "MaxPool", 1, { 1, 3, 21 }, { 3 }, { 2 }, { 1, 0 }, { 1 }, 1, 0, 0 },
        { "avgpool 3x3 s2 pads exclude", "AveragePool", 2, { 1, 3, 15, 17 }, { 3, 3 },
          { 2, 2 }, { 1, 1, 1, 1 }, { 1, 1 }, 0, 0, 0 },
        { "avgpool 3x3 s2 pads include", "AveragePool", 2, { 1, 3, 15, 17 }, { 3, 3 },
          { 2, 2 }, { 1, 1, 1, 1 }, { 1, 1 }, 0, 1, 0 },
        { "avgpool ceil include overhang", "AveragePool", 2, { 1, 2, 14, 11 }, { 3, 3 },
          { 2, 2 }, { 1, 0, 1, 0 }, { 1, 1 }, 1, 1, 0 },
        { "avgpool ceil exclude overhang", "AveragePool", 2, { 1, 2, 14, 11 }, { 3, 3 },
          { 2, 2 }, { 1, 0, 1, 0 }, { 1, 1 }, 1, 0, 0 },
        { "avgpool 3d", "AveragePool", 3, { 1, 2, 5, 6, 7 }, { 2, 2, 2 }, { 2, 2, 2 },
          { 0, 0, 0, 0, 0, 0 }, { 1, 1, 1 }, 1, 0, 0 },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        pool_case(dev, &cases[i]);
}

/* ---- Resize ---- */

typedef struct resize_spec {
    const char *what;
    const char *mode;
    const char *coord;          /* NULL: the default (half_pixel) */
    const char *nearest;        /* NULL: the default */
    int64_t x[4];
    float scales[4];            /* used when sizes[0] is 0 */
    int64_t sizes[4];
    int exclude;
    float roi[8];               /* tf_crop_and_resize when roi[4] != 0 */
} resize_spec;

/* Builds and runs one Resize (opset 19). */
static void resize_case(kiln_device *dev, const resize_spec *r)
{
    onnx_build *b = onnx_build_new(19);
    nn_case_opts o = { 0, 0, 1 };
    int crop = r->roi[4] != 0.0f;
    Onnx__NodeProto *n;

    nn_case_input(b, "x", 4, r->x);
    if (crop)
        nn_case_floats(b, "roi", 8, r->roi);
    if (r->sizes[0]) {
        nn_case_ints(b, "sizes", 4, r->sizes);
        n = onnx_build_node(b, "Resize", "resize",
                            (const char *[]){ "x", crop ? "roi" : "", "", "sizes", NULL },
                            (const char *[]){ "y", NULL });
    } else {
        nn_case_floats(b, "scales", 4, r->scales);
        n = onnx_build_node(b, "Resize", "resize",
                            (const char *[]){ "x", crop ? "roi" : "", "scales", NULL },
                            (const char *[]){ "y", NULL });
    }
    onnx_build_attr_string(b, n, "mode", r->mode);
    if (r->coord)
        onnx_build_attr_string(b, n, "coordinate_transformation_mode", r->coord);
    if (r->nearest)
        onnx_build_attr_string(b, n, "nearest_mode", r->nearest);
    if (r->exclude)
        onnx_build_attr_int(b, n, "exclude_outside", 1);
    if (crop)
        onnx_build_attr_float(b, n, "extrapolation_value", -3.25f);
    onnx_build_output(b, "y");
    nn_case_run(dev, b, r->what, &o);
}

/* Upsample at opset 7 (scales attribute) or 9 (scales input). */
static void upsample_case(kiln_device *dev, int opset, const char *mode, const char *what)
{
    static const int64_t xd[4] = { 1, 3, 5, 7 };
    static const float scales[4] = { 1.0f, 1.0f, 2.0f, 3.0f };
    onnx_build *b = onnx_build_new(opset);
    nn_case_opts o = { 0, 0, 1 };
    Onnx__NodeProto *n;

    nn_case_input(b, "x", 4, xd);
    if (opset >= 9) {
        nn_case_floats(b, "scales", 4, scales);
        n = onnx_build_node(b, "Upsample", "up", (const char *[]){ "x", "scales", NULL },
                            (const char *[]){ "y", NULL });
    } else {
        n = onnx_build_node(b, "Upsample", "up", (const char *[]){ "x", NULL },
                            (const char *[]){ "y", NULL });
        onnx_build_attr_floats(b, n, "scales", 4, scales);
    }
    onnx_build_attr_string(b, n, "mode", mode);
    onnx_build_output(b, "y");
    nn_case_run(dev, b, what, &o);
}

static void test_resize(kiln_device *dev)
{
    static const resize_spec cases[] = {
        { "linear half_pixel x2", "linear", "half_pixel", NULL, { 1, 3, 6, 7 },
          { 1, 1, 2, 2 }, { 0 }, 0, { 0 } },
        { "linear half_pixel down", "linear", "half_pixel", NULL, { 1, 2, 12, 9 },
          { 1, 1, 0.5f, 0.75f }, { 0 }, 0, { 0 } },
        { "linear pytorch_half_pixel", "linear", "pytorch_half_pixel", NULL, { 1, 3, 6, 1 },
          { 1, 1, 2.5f, 1.0f }, { 0 }, 0, { 0 } },
        { "linear align_corners scales", "linear", "align_corners", NULL, { 1, 2, 5, 7 },
          { 1, 1, 2.0f, 1.5f }, { 0 }, 0, { 0 } },
        { "linear asymmetric", "linear", "asymmetric", NULL, { 1, 2, 5, 7 },
          { 1, 1, 2.0f, 3.0f }, { 0 }, 0, { 0 } },
        { "linear half_pixel sizes 7x9 to 20x13", "linear", "half_pixel", NULL,
          { 1, 3, 7, 9 }, { 0 }, { 1, 3, 20, 13 }, 0, { 0 } },
        { "linear align_corners sizes", "linear", "align_corners", NULL, { 1, 2, 7, 9 },
          { 0 }, { 1, 2, 20, 13 }, 0, { 0 } },
        { "linear pytorch sizes to 1", "linear", "pytorch_half_pixel", NULL, { 1, 2, 7, 9 },
          { 0 }, { 1, 2, 1, 13 }, 0, { 0 } },
        { "linear half_pixel_symmetric", "linear", "half_pixel_symmetric", NULL,
          { 1, 2, 7, 9 }, { 0 }, { 1, 2, 11, 5 }, 0, { 0 } },
        { "linear over channels too", "linear", "half_pixel", NULL, { 1, 3, 4, 5 },
          { 1, 2.0f, 1.5f, 2.0f }, { 0 }, 0, { 0 } },
        { "linear tf_crop_and_resize", "linear", "tf_crop_and_resize", NULL, { 1, 2, 8, 9 },
          { 1, 1, 1.5f, 1.25f }, { 0 }, 0, { 0, 0, -0.2f, 0.1f, 1, 1, 0.9f, 1.3f } },
        { "nearest round_prefer_floor", "nearest", "half_pixel", "round_prefer_floor",
          { 1, 2, 5, 7 }, { 1, 1, 2.0f, 1.5f }, { 0 }, 0, { 0 } },
        { "nearest round_prefer_ceil", "nearest", "half_pixel", "round_prefer_ceil",
          { 1, 2, 5, 7 }, { 1, 1, 2.0f, 1.5f }, { 0 }, 0, { 0 } },
        { "nearest floor asymmetric", "nearest", "asymmetric", "floor", { 1, 2, 5, 7 },
          { 1, 1, 2.0f, 3.0f }, { 0 }, 0, { 0 } },
        { "nearest ceil", "nearest", "half_pixel", "ceil", { 1, 2, 5, 7 },
          { 1, 1, 1.75f, 0.6f }, { 0 }, 0, { 0 } },
        { "nearest tf_half_pixel_for_nn sizes", "nearest", "tf_half_pixel_for_nn", NULL,
          { 1, 2, 7, 9 }, { 0 }, { 1, 2, 20, 13 }, 0, { 0 } },
        { "nearest align_corners", "nearest", "align_corners", "round_prefer_ceil",
          { 1, 2, 7, 9 }, { 0 }, { 1, 2, 20, 4 }, 0, { 0 } },
        { "cubic half_pixel", "cubic", "half_pixel", NULL, { 1, 2, 6, 7 }, { 1, 1, 2.0f, 1.5f },
          { 0 }, 0, { 0 } },
        { "cubic exclude_outside", "cubic", "half_pixel", NULL, { 1, 2, 6, 7 },
          { 1, 1, 2.0f, 0.5f }, { 0 }, 1, { 0 } },
        { "cubic align_corners sizes", "cubic", "align_corners", NULL, { 1, 2, 7, 9 }, { 0 },
          { 1, 2, 20, 13 }, 0, { 0 } },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        resize_case(dev, &cases[i]);
    upsample_case(dev, 7, "nearest", "upsample 7 nearest");
    upsample_case(dev, 7, "linear", "upsample 7 linear");
    upsample_case(dev, 9, "nearest", "upsample 9 nearest");
    upsample_case(dev, 9, "linear", "upsample 9 linear");
}

/* ---- elementwise ---- */

/* op(x, c) or op(c, x) with a constant c of dims cd (rank cr); or, with
 * cr < 0, op(x, x2) with a second runtime input of dims cd (rank -cr). */
static void binary_case(kiln_device *dev, const char *op, int const_first, const int64_t *xd,
                        int xr, const int64_t *cd, int cr, const char *what)
{
    onnx_build *b = onnx_build_new(13);
    nn_case_opts o = { 0, 0, 1 };

    nn_case_input(b, "x", xr, xd);
    if (cr < 0)
        nn_case_input(b, "c", -cr, cd);
    else
        nn_case_random_init(b, "c", cr, cd);
    onnx_build_node(b, op, "bin",
                    const_first ? (const char *[]){ "c", "x", NULL }
                                : (const char *[]){ "x", "c", NULL },
                    (const char *[]){ "y", NULL });
    onnx_build_output(b, "y");
    nn_case_run(dev, b, what, &o);
}

static void test_binary(kiln_device *dev)
{
    static const int64_t x4[4] = { 1, 5, 6, 7 }, c3[3] = { 5, 1, 1 }, one[1] = { 1 };
    static const int64_t w1[1] = { 7 }, r4[4] = { 1, 5, 1, 7 }, x3[3] = { 5, 6, 7 };
    static const int64_t b4[4] = { 2, 1, 6, 1 }, s0[1] = { 1 };

    binary_case(dev, "Add", 0, x4, 4, c3, 3, "add [1,C,H,W] + [C,1,1]");
    binary_case(dev, "Mul", 0, x4, 4, c3, 3, "mul [1,C,H,W] * [C,1,1]");
    binary_case(dev, "Mul", 0, x4, 4, one, 1, "mul by [1]");
    binary_case(dev, "Add", 0, x4, 4, w1, 1, "add [W]");
    binary_case(dev, "Sub", 1, x4, 4, c3, 3, "sub [C,1,1] - x");
    binary_case(dev, "Div", 0, x4, 4, c3, 3, "div x / [C,1,1]");
    binary_case(dev, "Div", 1, x4, 4, one, 1, "div [1] / x");
    binary_case(dev, "Add", 0, x4, 4, x4, -4, "add runtime + runtime");
    binary_case(dev, "Mul", 0, x4, 4, r4, -4, "mul runtime [1,C,1,W]");
    binary_case(dev, "Sub", 0, x3, 3, b4, -4, "sub both broadcast");
    binary_case(dev, "Add", 0, x4, 4, s0, 0, "add scalar");
}

/* A one-node model of op on a runtime input of dims xd, with optional
 * scalar float constants as inputs 1 and 2 (Clip's bounds). */
static void unary_case(kiln_device *dev, int opset, const char *op, const int64_t *xd, int xr,
                       const float *lo, const float *hi, const char *what)
{
    onnx_build *b = onnx_build_new(opset);
    nn_case_opts o = { 0, 0, 1 };

    nn_case_input(b, "x", xr, xd);
    if (lo)
        onnx_build_init_f32(b, "lo", 0, NULL, lo);
    if (hi)
        onnx_build_init_f32(b, "hi", 0, NULL, hi);
    if (lo || hi)
        onnx_build_node(b, op, "un",
                        (const char *[]){ "x", lo ? "lo" : "", hi ? "hi" : "", NULL },
                        (const char *[]){ "y", NULL });
    else
        onnx_build_node(b, op, "un", (const char *[]){ "x", NULL },
                        (const char *[]){ "y", NULL });
    onnx_build_output(b, "y");
    nn_case_run(dev, b, what, &o);
}

/* Cast float -> float16 -> float, on values of every magnitude. */
static void cast_case(kiln_device *dev)
{
    static const int64_t xd[2] = { 37, 129 };
    onnx_build *b = onnx_build_new(13);
    nn_case_opts o = { 0, 1, 2 };
    Onnx__NodeProto *n;

    nn_case_input(b, "x", 2, xd);
    n = onnx_build_node(b, "Cast", "to_half", (const char *[]){ "x", NULL },
                        (const char *[]){ "h", NULL });
    onnx_build_attr_int(b, n, "to", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16);
    n = onnx_build_node(b, "Cast", "to_float", (const char *[]){ "h", NULL },
                        (const char *[]){ "y", NULL });
    onnx_build_attr_int(b, n, "to", FLOAT_T);
    onnx_build_output(b, "y");
    nn_case_run(dev, b, "cast float -> float16 -> float", &o);
}

/* Arithmetic on FLOAT16 tensors rounds every result to half: Cast both
 * inputs to FLOAT16, Add, Relu, Cast back. */
static void half_chain_case(kiln_device *dev)
{
    static const int64_t xd[3] = { 3, 17, 19 };
    onnx_build *b = onnx_build_new(13);
    nn_case_opts o = { 0, 0, 5 };
    Onnx__NodeProto *n;

    nn_case_input(b, "x", 3, xd);
    nn_case_input(b, "x2", 3, xd);
    n = onnx_build_node(b, "Cast", "h1", (const char *[]){ "x", NULL },
                        (const char *[]){ "h1", NULL });
    onnx_build_attr_int(b, n, "to", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16);
    n = onnx_build_node(b, "Cast", "h2", (const char *[]){ "x2", NULL },
                        (const char *[]){ "h2", NULL });
    onnx_build_attr_int(b, n, "to", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16);
    onnx_build_node(b, "Add", "sum", (const char *[]){ "h1", "h2", NULL },
                    (const char *[]){ "s", NULL });
    onnx_build_node(b, "Relu", "relu", (const char *[]){ "s", NULL },
                    (const char *[]){ "r", NULL });
    n = onnx_build_node(b, "Cast", "back", (const char *[]){ "r", NULL },
                        (const char *[]){ "y", NULL });
    onnx_build_attr_int(b, n, "to", FLOAT_T);
    onnx_build_output(b, "y");
    nn_case_run(dev, b, "float16 add and relu", &o);
}

/* Clip with attribute bounds (opset 7). */
static void clip_attr_case(kiln_device *dev)
{
    static const int64_t xd[3] = { 3, 10, 11 };
    onnx_build *b = onnx_build_new(7);
    nn_case_opts o = { 0, 0, 1 };
    Onnx__NodeProto *n;

    nn_case_input(b, "x", 3, xd);
    n = onnx_build_node(b, "Clip", "clip", (const char *[]){ "x", NULL },
                        (const char *[]){ "y", NULL });
    onnx_build_attr_float(b, n, "min", -0.3f);
    onnx_build_attr_float(b, n, "max", 0.45f);
    onnx_build_output(b, "y");
    nn_case_run(dev, b, "clip attributes", &o);
}

/* Reshape to another shape, and Identity (a graph output: kept). */
static void copy_cases(kiln_device *dev)
{
    static const int64_t xd[4] = { 1, 4, 6, 5 }, shape[3] = { 4, 30, 1 };
    onnx_build *b = onnx_build_new(13);
    nn_case_opts o = { 0, 0, 1 };

    nn_case_input(b, "x", 4, xd);
    nn_case_ints(b, "shape", 3, shape);
    onnx_build_node(b, "Reshape", "reshape", (const char *[]){ "x", "shape", NULL },
                    (const char *[]){ "y", NULL });
    onnx_build_output(b, "y");
    nn_case_run(dev, b, "reshape", &o);

    b = onnx_build_new(13);
    nn_case_input(b, "x", 4, xd);
    onnx_build_node(b, "Identity", "id", (const char *[]){ "x", NULL },
                    (const char *[]){ "y", NULL });
    onnx_build_output(b, "y");
    nn_case_run(dev, b, "identity", &o);
}

static void test_unary(kiln_device *dev)
{
    static const int64_t xd[4] = { 1, 3, 9, 10 };
    static const float lo = -0.25f, hi = 0.5f;

    unary_case(dev, 13, "Relu", xd, 4, NULL, NULL, "relu");
    unary_case(dev, 13, "Sigmoid", xd, 4, NULL, NULL, "sigmoid");
    unary_case(dev, 13, "Clip", xd, 4, &lo, &hi, "clip min max");
    unary_case(dev, 13, "Clip", xd, 4, &lo, NULL, "clip min only");
    unary_case(dev, 13, "Clip", xd, 4, NULL, &hi, "clip max only");
    clip_attr_case(dev);
    cast_case(dev);
    half_chain_case(dev);
    copy_cases(dev);
}

/* ---- layout ---- */

/* Concat of three runtime inputs (and, with with_const, a constant) along
 * `axis`. */
static void concat_case(kiln_device *dev, int axis, int inplace, int with_const,
                        const char *what)
{
    int64_t a[4] = { 1, 3, 5, 6 }, bd[4] = { 1, 3, 5, 6 }, c[4] = { 1, 3, 5, 6 };
    onnx_build *b = onnx_build_new(13);
    nn_case_opts o = { inplace, 0, 1 };
    Onnx__NodeProto *n;

    a[axis] = 2;
    bd[axis] = 4;
    c[axis] = 1;
    nn_case_input(b, "a", 4, a);
    nn_case_input(b, "b", 4, bd);
    nn_case_input(b, "c", 4, c);
    if (with_const)
        nn_case_random_init(b, "k", 4, bd);
    n = onnx_build_node(b, "Concat", "concat",
                        with_const ? (const char *[]){ "a", "b", "k", "c", NULL }
                                   : (const char *[]){ "a", "b", "c", NULL },
                        (const char *[]){ "y", NULL });
    onnx_build_attr_int(b, n, "axis", axis);
    onnx_build_output(b, "y");
    nn_case_run(dev, b, what, &o);
}

/* Transpose with a perm (NULL: reversed dims). */
static void transpose_case(kiln_device *dev, const int64_t *perm, const char *what)
{
    static const int64_t xd[4] = { 2, 3, 5, 7 };
    onnx_build *b = onnx_build_new(13);
    nn_case_opts o = { 0, 0, 1 };
    Onnx__NodeProto *n;

    nn_case_input(b, "x", 4, xd);
    n = onnx_build_node(b, "Transpose", "transpose", (const char *[]){ "x", NULL },
                        (const char *[]){ "y", NULL });
    if (perm)
        onnx_build_attr_ints(b, n, "perm", 4, perm);
    onnx_build_output(b, "y");
    nn_case_run(dev, b, what, &o);
}

/* Slice with starts, ends, axes and steps inputs (opset 13). */
static void slice_case(kiln_device *dev, const int64_t *starts, const int64_t *ends,
                       const int64_t *axes, const int64_t *steps, int64_t n, const char *what)
{
    static const int64_t xd[4] = { 1, 4, 9, 11 };
    onnx_build *b = onnx_build_new(13);
    nn_case_opts o = { 0, 0, 1 };

    nn_case_input(b, "x", 4, xd);
    nn_case_ints(b, "starts", n, starts);
    nn_case_ints(b, "ends", n, ends);
    nn_case_ints(b, "axes", n, axes);
    nn_case_ints(b, "steps", n, steps);
    onnx_build_node(b, "Slice", "slice",
                    (const char *[]){ "x", "starts", "ends", "axes", "steps", NULL },
                    (const char *[]){ "y", NULL });
    onnx_build_output(b, "y");
    nn_case_run(dev, b, what, &o);
}

static void test_layout(kiln_device *dev)
{
    static const int64_t perm[4] = { 0, 2, 3, 1 }, perm2[4] = { 1, 0, 3, 2 };
    static const int64_t st1[2] = { -1, 8 }, en1[2] = { -12, 1 }, ax1[2] = { 3, 2 };
    static const int64_t sp1[2] = { -1, -2 };
    static const int64_t st2[2] = { 1, 2 }, en2[2] = { 3, 10 }, ax2[2] = { 1, 3 };
    static const int64_t sp2[2] = { 1, 3 };
    static const int64_t st3[1] = { 0 }, en3[1] = { 5 }, ax3[1] = { 2 }, sp3[1] = { 1 };

    concat_case(dev, 1, 0, 0, "concat axis 1");
    concat_case(dev, 1, 1, 0, "concat axis 1 in place");
    concat_case(dev, 1, 1, 1, "concat axis 1 in place with a constant");
    concat_case(dev, 2, 0, 0, "concat axis 2");
    concat_case(dev, 3, 0, 1, "concat axis 3 with a constant");
    transpose_case(dev, perm, "transpose 0231");
    transpose_case(dev, perm2, "transpose 1032");
    transpose_case(dev, NULL, "transpose reversed");
    slice_case(dev, st1, en1, ax1, sp1, 2, "slice negative steps");
    slice_case(dev, st2, en2, ax2, sp2, 2, "slice steps 1 and 3");
    slice_case(dev, st3, en3, ax3, sp3, 1, "slice contiguous rows");
}

/* ---- random sweeps ---- */

/* A uniform integer in [lo, hi]. */
static int64_t rnd(int64_t lo, int64_t hi)
{
    return lo + (int64_t)(test_rng_next() % (uint32_t)(hi - lo + 1));
}

/* Random Convs: 1 to 3 spatial dims, kernels, strides, dilations, pads,
 * groups, bias and activation. */
static void random_convs(kiln_device *dev, int count)
{
    static const char *const acts[3] = { NULL, "Relu", "Sigmoid" };
    char what[256];

    for (int i = 0; i < count; i++) {
        conv_spec c;
        int64_t cg, mg, max_in;
        memset(&c, 0, sizeof(c));
        c.nsp = (int)rnd(1, 3);
        max_in = c.nsp == 3 ? 6 : c.nsp == 2 ? 13 : 24;
        c.group = rnd(1, 3);
        cg = rnd(1, 3);
        mg = rnd(1, 9);
        c.x[0] = rnd(1, 2);
        c.x[1] = c.group * cg;
        c.cout = c.group * mg;
        for (int d = 0; d < c.nsp; d++) {
            int64_t span;
            c.k[d] = rnd(1, c.nsp == 3 ? 3 : 5);
            c.s[d] = rnd(1, 3);
            c.d[d] = rnd(1, 3);
            c.pads[d] = rnd(0, c.d[d] * (c.k[d] - 1));
            c.pads[d + c.nsp] = rnd(0, c.d[d] * (c.k[d] - 1));
            c.x[2 + d] = rnd(1, max_in);
            span = c.d[d] * (c.k[d] - 1) + 1 - c.pads[d] - c.pads[d + c.nsp];
            if (c.x[2 + d] < span)
                c.x[2 + d] = span;
        }
        c.bias = (int)rnd(0, 1);
        c.act = acts[rnd(0, 2)];
        snprintf(what, sizeof(what), "random conv %d: %dd x %lldx%lld k %lld s %lld d %lld "
                 "group %lld cout %lld", i, c.nsp, (long long)c.x[0], (long long)c.x[1],
                 (long long)c.k[0], (long long)c.s[0], (long long)c.d[0], (long long)c.group,
                 (long long)c.cout);
        c.what = what;
        conv_case(dev, &c);
    }
}

/* Random MaxPools and AveragePools with ceil_mode, pads (smaller than
 * the window), strides, dilations (MaxPool) and count_include_pad. */
static void random_pools(kiln_device *dev, int count)
{
    char what[256];

    for (int i = 0; i < count; i++) {
        pool_spec p;
        memset(&p, 0, sizeof(p));
        p.op = rnd(0, 1) ? "MaxPool" : "AveragePool";
        p.nsp = (int)rnd(1, 3);
        p.x[0] = rnd(1, 2);
        p.x[1] = rnd(1, 3);
        p.dil = strcmp(p.op, "MaxPool") == 0 && rnd(0, 1);
        for (int d = 0; d < p.nsp; d++) {
            int64_t ek;
            p.k[d] = rnd(1, 4);
            p.s[d] = rnd(1, 3);
            p.d[d] = p.dil ? rnd(1, 2) : 1;
            ek = p.d[d] * (p.k[d] - 1) + 1;
            p.pads[d] = rnd(0, ek - 1);
            p.pads[d + p.nsp] = rnd(0, ek - 1);
            p.x[2 + d] = rnd(ek, p.nsp == 3 ? 7 : 17);
        }
        p.ceil = (int)rnd(0, 1);
        p.include = (int)rnd(0, 1);
        snprintf(what, sizeof(what), "random pool %d: %s %dd k %lld s %lld pads %lld,%lld "
                 "ceil %d include %d", i, p.op, p.nsp, (long long)p.k[0], (long long)p.s[0],
                 (long long)p.pads[0], (long long)p.pads[p.nsp], p.ceil, p.include);
        p.what = what;
        pool_case(dev, &p);
    }
}

/* Random Resizes: every mode, coordinate mode and rounding mode, by
 * scales or by sizes, on the two inner axes or all four. */
static void random_resizes(kiln_device *dev, int count)
{
    static const char *const modes[3] = { "nearest", "linear", "cubic" };
    static const char *const coords[7] = {
        "half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
        "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize" };
    static const char *const nearests[4] = { "round_prefer_floor", "round_prefer_ceil",
                                             "floor", "ceil" };
    static const float scale_set[7] = { 0.5f, 0.75f, 1.0f, 1.5f, 2.0f, 2.5f, 3.0f };
    char what[256];

    for (int i = 0; i < count; i++) {
        resize_spec r;
        int all_axes = rnd(0, 3) == 0;
        memset(&r, 0, sizeof(r));
        r.mode = modes[rnd(0, 2)];
        r.coord = coords[rnd(0, 6)];
        if (strcmp(r.mode, "linear") != 0 && strcmp(r.coord, "tf_half_pixel_for_nn") == 0 &&
            rnd(0, 1))
            r.coord = "half_pixel";
        r.nearest = nearests[rnd(0, 3)];
        r.x[0] = rnd(1, 2);
        r.x[1] = rnd(1, 3);
        r.x[2] = rnd(2, 9);
        r.x[3] = rnd(2, 9);
        for (int d = 0; d < 4; d++) {
            int resized = all_axes || d >= 2;
            r.scales[d] = resized ? scale_set[rnd(0, 6)] : 1.0f;
            if (r.x[d] * r.scales[d] < 1.0f)
                r.scales[d] = 1.0f;
        }
        if (rnd(0, 1))
            for (int d = 0; d < 4; d++)
                r.sizes[d] = (all_axes || d >= 2) ? rnd(1, 19) : r.x[d];
        r.exclude = strcmp(r.mode, "cubic") == 0 && rnd(0, 1);
        if (strcmp(r.coord, "tf_crop_and_resize") == 0) {
            for (int d = 0; d < 4; d++) {
                r.roi[d] = (float)rnd(-3, 3) / 10.0f;
                r.roi[d + 4] = (float)rnd(7, 13) / 10.0f;
            }
            if (r.sizes[0] == 0)
                for (int d = 0; d < 4; d++)
                    r.scales[d] = 1.0f + (float)rnd(0, 4) / 4.0f;
        }
        snprintf(what, sizeof(what), "random resize %d: %s %s %s %lldx%lldx%lldx%lld %s",
                 i, r.mode, r.coord, r.nearest, (long long)r.x[0], (long long)r.x[1],
                 (long long)r.x[2], (long long)r.x[3], r.sizes[0] ? "sizes" : "scales");
        r.what = what;
        resize_case(dev, &r);
    }
}

/* Random broadcasts of two runtime operands of ranks 1 to 4. */
static void random_binaries(kiln_device *dev, int count)
{
    static const char *const ops[4] = { "Add", "Sub", "Mul", "Div" };
    char what[128];

    for (int i = 0; i < count; i++) {
        int64_t full[4], a[4], b[4];
        int ra = (int)rnd(1, 4), rb = (int)rnd(1, 4), r = ra > rb ? ra : rb;
        for (int d = 0; d < 4; d++)
            full[d] = rnd(1, 6);
        for (int d = 0; d < ra; d++)
            a[d] = rnd(0, 2) ? full[4 - ra + d] : 1;
        for (int d = 0; d < rb; d++)
            b[d] = rnd(0, 2) ? full[4 - rb + d] : 1;
        snprintf(what, sizeof(what), "random binary %d: rank %d and %d (output %d)", i, ra, rb,
                 r);
        binary_case(dev, ops[rnd(0, 3)], 0, a, ra, b, -rb, what);
    }
}

/* ---- refusals ---- */

/* A Cast to INT64 on runtime data is refused, naming node and type. */
static void test_refusals(void)
{
    static const int64_t xd[2] = { 2, 3 };
    onnx_build *b = onnx_build_new(13);
    kiln_graph *g = NULL;
    graph_fold_options fo;
    size_t size;
    uint8_t *bytes;
    Onnx__NodeProto *n;

    nn_case_input(b, "x", 2, xd);
    n = onnx_build_node(b, "Cast", "cast_int", (const char *[]){ "x", NULL },
                        (const char *[]){ "y", NULL });
    onnx_build_attr_int(b, n, "to", ONNX__TENSOR_PROTO__DATA_TYPE__INT64);
    onnx_build_output(b, "y");
    bytes = onnx_build_pack(b, &size);
    onnx_build_free(b);
    CHECK_OK(onnx_load_buffer(bytes, size, NULL, &g));
    free(bytes);
    if (!g)
        return;
    memset(&fo, 0, sizeof(fo));
    fo.runtime_only = 1;
    CHECK_OK(graph_fold(g, &fo, NULL));
    CHECK(g->nnodes == 1);
    if (g->nnodes == 1) {
        char msg[MSG_LEN] = "";
        CHECK(!nn_op_supported(g, &g->nodes[0], msg, sizeof(msg)));
        CHECK(strstr(msg, "cast_int") != NULL);
        CHECK(strstr(msg, "Cast") != NULL);
        CHECK(strstr(msg, "INT64") != NULL);
    }
    graph_free(g);
}

/* The engine has a row for every operator and a launcher for exactly
 * those the graph calls runtime operators. */
static void test_op_table(void)
{
    for (int op = 0; op < GRAPH_OP_COUNT; op++) {
        const nn_op_def *def = nn_op_def_of((graph_op)op);
        int runtime = graph_op_is_runtime((graph_op)op) != 0;
        CHECK(def && (def->launch != NULL) == runtime);
    }
    CHECK(nn_op_def_of(GRAPH_OP_COUNT) == NULL);
}

/* A launch with a tensor that has no place, or of a node that does not
 * exist, fails naming the node. */
static void test_launch_errors(kiln_device *dev)
{
    static const int64_t xd[2] = { 2, 3 };
    onnx_build *b = onnx_build_new(13);
    kiln_graph *g = NULL;
    graph_fold_options fo;
    nn_place *places;
    nn_launch ctx;
    size_t size;
    uint8_t *bytes;

    nn_case_input(b, "x", 2, xd);
    onnx_build_node(b, "Relu", "lonely_relu", (const char *[]){ "x", NULL },
                    (const char *[]){ "y", NULL });
    onnx_build_output(b, "y");
    bytes = onnx_build_pack(b, &size);
    onnx_build_free(b);
    CHECK_OK(onnx_load_buffer(bytes, size, NULL, &g));
    free(bytes);
    if (!g)
        return;
    memset(&fo, 0, sizeof(fo));
    fo.runtime_only = 1;
    CHECK_OK(graph_fold(g, &fo, NULL));
    places = test_xmalloc(g->ntensors, sizeof(*places));
    memset(places, 0, g->ntensors * sizeof(*places));
    memset(&ctx, 0, sizeof(ctx));
    ctx.dev = dev;
    ctx.g = g;
    ctx.places = places;
    CHECK_STATUS(nn_op_launch(&ctx, 0), KILN_E_INVAL);
    CHECK_MSG("lonely_relu");
    CHECK_MSG("no place");
    CHECK_STATUS(nn_op_launch(&ctx, 5), KILN_E_INVAL);
    CHECK_MSG("out of range");
    free(places);
    graph_free(g);
}

int main(void)
{
    kiln_device *dev = test_device_open(0);
    double t0 = test_now_ms();

    test_rng_seed(0x9E3779B9u);
    test_conv(dev);
    test_pool(dev);
    test_resize(dev);
    test_binary(dev);
    test_unary(dev);
    test_layout(dev);
    random_convs(dev, 40);
    random_pools(dev, 40);
    random_resizes(dev, 60);
    random_binaries(dev, 30);
    test_launch_errors(dev);
    test_device_close(dev);
    test_refusals();
    test_op_table();
    printf("test_nn_ops: %d cases compared in %.0f ms\n", nn_case_compared(), test_now_ms() - t0);
    return test_summary("test_nn_ops");
}
