/* Segment precision (engine/nn/nn_precision.c, [segment] precision): a
 * U^2-Net-shaped network (an RSU block: Convs with ReLU at 64x64 down
 * to 16x16 through ceil-mode MaxPools, a dilated Conv, bilinear Resize
 * up, Concats of skips, the residual Add; two side outputs, one resized
 * up, fused by a 1x1 Conv and a final Sigmoid) run at fp32 and at fp16,
 * as a float32 model and as its fp16 conversion (FLOAT16 initializers,
 * a Cast to FLOAT16 after the input and a Cast to FLOAT at the output,
 * as onnxconverter_common's float16 conversion with keep_io_types
 * writes), with the default Conv choice (tiled, Winograd F(4,3),
 * few-output-channel) and with each algorithm forced (direct, Winograd
 * F(2,3), CLBlast GEMM); and with the Conv products in half
 * (KILN_HALF_PRODUCTS=1: what a device with cl_khr_fp16 computes,
 * emulated on one without).
 *
 * Parity of each fp16 run against the fp32 run of the same model and
 * algorithm: the mask IoU at threshold 0.5 and the mean |difference| of
 * the sigmoid mask, bounded below (IOU_MIN, MEAN_MAX, set from measured
 * values with margin, see the printout).  The fp16 run must really be
 * fp16: the model reports fp16 with half-stored tensors, its arena is at
 * most 0.55 of the fp32 arena and its weights of fp32's (GEMM: smaller),
 * and its mask
 * differs from the fp32 mask.  auto resolves to fp16 only for the fp16
 * model on a device with cl_khr_fp16.  Every model is released and the
 * device closes with an empty pool. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "float16.h"
#include "nn_conv_algo.h"
#include "nn_kernel.h"
#include "nn_model.h"
#include "onnx_build.h"
#include "resident.h"
#include "testutil.h"

#define SIDE 64
/* Measured on POCL (half storage; float arithmetic, or emulated half
 * products), every algorithm: IoU 0.9992-1 (three pixels of 4096 at
 * most), mean |d| 4e-6 to 1.2e-4, max |d| <= 4.6e-4.  The bounds leave
 * about 10x. */
#define IOU_MIN 0.99
#define MEAN_MAX 1e-3
#define EXT_IOU_MIN 0.98
#define EXT_MEAN_MAX 5e-3

/* A deterministic pseudo-random value in [-1, 1). */
static float rng(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (float)(*s >> 8) / 8388608.0f - 1.0f;
}

/* Adds a FLOAT (or, with half, FLOAT16) initializer of pseudo-random
 * values scaled by `scale`. */
static void init(onnx_build *b, const char *name, int rank, const int64_t *dims, float scale,
                 uint32_t seed, int half)
{
    size_t n = 1;
    float *v;
    Onnx__TensorProto *t;

    for (int i = 0; i < rank; i++)
        n *= (size_t)dims[i];
    v = test_xmalloc(n, sizeof(*v));
    for (size_t i = 0; i < n; i++)
        v[i] = scale * rng(&seed);
    t = onnx_build_init_f32(b, name, rank, dims, v);
    if (half) {
        uint16_t *h = (uint16_t *)(void *)t->raw_data.data;
        t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16;
        for (size_t i = 0; i < n; i++)
            h[i] = float16_from_float(v[i]);
        t->raw_data.len = n * sizeof(*h);
    }
    free(v);
}

/* Adds Conv `name` (kernel k, pad p, dilation d) from `in` (c channels)
 * to `out` (oc channels) with bias and, with relu, a Relu after it. */
static void conv(onnx_build *b, const char *name, const char *in, const char *out, int c,
                 int oc, int k, int p, int d, int relu, int half)
{
    char w[64], bias[64], pre[64];
    int64_t wd[4] = { oc, c, k, k }, bd[1] = { oc };
    static uint32_t seed = 1;
    Onnx__NodeProto *n;

    snprintf(w, sizeof(w), "%s.w", name);
    snprintf(bias, sizeof(bias), "%s.b", name);
    snprintf(pre, sizeof(pre), "%s.pre", name);
    /* He-like scale keeps activations of order 1 through the block */
    init(b, w, 4, wd, 1.7f / sqrtf((float)(c * k * k)), seed++, half);
    init(b, bias, 1, bd, 0.1f, seed++, half);
    n = onnx_build_node(b, "Conv", name, (const char *[]){ in, w, bias, NULL },
                        (const char *[]){ relu ? pre : out, NULL });
    onnx_build_attr_ints(b, n, "pads", 4, (const int64_t[]){ p, p, p, p });
    onnx_build_attr_ints(b, n, "dilations", 2, (const int64_t[]){ d, d });
    onnx_build_attr_ints(b, n, "kernel_shape", 2, (const int64_t[]){ k, k });
    if (relu)
        onnx_build_node(b, "Relu", pre, (const char *[]){ pre, NULL },
                        (const char *[]){ out, NULL });
}

/* Adds a 2x2 stride-2 ceil-mode MaxPool. */
static void pool(onnx_build *b, const char *in, const char *out)
{
    Onnx__NodeProto *n = onnx_build_node(b, "MaxPool", out, (const char *[]){ in, NULL },
                                         (const char *[]){ out, NULL });
    onnx_build_attr_ints(b, n, "kernel_shape", 2, (const int64_t[]){ 2, 2 });
    onnx_build_attr_ints(b, n, "strides", 2, (const int64_t[]){ 2, 2 });
    onnx_build_attr_int(b, n, "ceil_mode", 1);
}

/* Adds a bilinear Resize by `factor` (scales input "sc<factor>"). */
static void up(onnx_build *b, const char *in, const char *out, int factor)
{
    char sc[16];
    Onnx__NodeProto *n;

    snprintf(sc, sizeof(sc), "sc%d", factor);
    n = onnx_build_node(b, "Resize", out, (const char *[]){ in, "roi", sc, NULL },
                        (const char *[]){ out, NULL });
    onnx_build_attr_string(b, n, "mode", "linear");
    onnx_build_attr_string(b, n, "coordinate_transformation_mode", "half_pixel");
}

/* Adds a channel Concat of two tensors. */
static void cat(onnx_build *b, const char *x, const char *y, const char *out)
{
    Onnx__NodeProto *n = onnx_build_node(b, "Concat", out, (const char *[]){ x, y, NULL },
                                         (const char *[]){ out, NULL });
    onnx_build_attr_int(b, n, "axis", 1);
}

/* Writes the U^2-Net-shaped model (see the file comment) to path; with
 * half, its fp16 conversion. */
static void write_model(const char *path, int half)
{
    onnx_build *b = onnx_build_new(11);
    const int64_t x_dims[] = { 1, 3, SIDE, SIDE }, four[] = { 4 }, zero[] = { 0 };
    const float s2[] = { 1, 1, 2, 2 }, s4[] = { 1, 1, 4, 4 };
    Onnx__NodeProto *n;

    onnx_build_input(b, "input", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 4, x_dims);
    onnx_build_init_f32(b, "roi", 1, zero, NULL);
    onnx_build_init_f32(b, "sc2", 1, four, s2);
    onnx_build_init_f32(b, "sc4", 1, four, s4);
    if (half) {
        n = onnx_build_node(b, "Cast", "input.cast", (const char *[]){ "input", NULL },
                            (const char *[]){ "x", NULL });
        onnx_build_attr_int(b, n, "to", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16);
    } else {
        onnx_build_node(b, "Identity", "input.id", (const char *[]){ "input", NULL },
                        (const char *[]){ "x", NULL });
    }
    conv(b, "in", "x", "hxin", 3, 32, 3, 1, 1, 1, half);
    conv(b, "c1", "hxin", "hx1", 32, 32, 3, 1, 1, 1, half);
    pool(b, "hx1", "p1");
    conv(b, "c2", "p1", "hx2", 32, 16, 3, 1, 1, 1, half);
    pool(b, "hx2", "p2");
    conv(b, "c3", "p2", "hx3", 16, 16, 3, 1, 1, 1, half);
    conv(b, "c4", "hx3", "hx4", 16, 16, 3, 2, 2, 1, half);
    cat(b, "hx4", "hx3", "cat3");
    conv(b, "c3d", "cat3", "hx3d", 32, 16, 3, 1, 1, 1, half);
    up(b, "hx3d", "up3", 2);
    cat(b, "up3", "hx2", "cat2");
    conv(b, "c2d", "cat2", "hx2d", 32, 16, 3, 1, 1, 1, half);
    up(b, "hx2d", "up2", 2);
    cat(b, "up2", "hx1", "cat1");
    conv(b, "c1d", "cat1", "hx1d", 48, 32, 3, 1, 1, 1, half);
    onnx_build_node(b, "Add", "res", (const char *[]){ "hx1d", "hxin", NULL },
                    (const char *[]){ "hx", NULL });
    conv(b, "side1", "hx", "d1", 32, 1, 3, 1, 1, 0, half);
    conv(b, "side2", "hx3d", "d2s", 16, 1, 3, 1, 1, 0, half);
    up(b, "d2s", "d2", 4);
    cat(b, "d1", "d2", "sides");
    conv(b, "fuse", "sides", "d0", 2, 1, 1, 0, 1, 0, half);
    onnx_build_node(b, "Sigmoid", "sig", (const char *[]){ "d0", NULL },
                    (const char *[]){ half ? "mask16" : "mask", NULL });
    if (half) {
        n = onnx_build_node(b, "Cast", "mask.cast", (const char *[]){ "mask16", NULL },
                            (const char *[]){ "mask", NULL });
        onnx_build_attr_int(b, n, "to", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT);
    }
    onnx_build_output(b, "mask");
    onnx_build_write(b, path);
    onnx_build_free(b);
}

/* Runs `path` (input 1x3xSxS, S = side) at `precision` on a smooth
 * input (a disc on a ripple); fills mask (S^2 floats: the first output's
 * first plane) and facts, and releases the model. */
static void run(kiln_device *dev, const char *path, int side, nn_precision precision,
                float *mask, nn_model_facts *facts)
{
    const onnx_input_shape shape = { NULL, 4, { 1, 3, side, side } };
    size_t plane = (size_t)side * (size_t)side;
    float *in = test_xmalloc(3 * plane, sizeof(*in));
    float c0 = 0.47f * (float)side, c1 = 0.53f * (float)side, r = 0.31f * (float)side;
    nn_model *m = NULL;

    for (int c = 0; c < 3; c++)
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++) {
                float dx = (float)x - c0, dy = (float)y - c1;
                in[((size_t)c * (size_t)side + (size_t)y) * (size_t)side + (size_t)x] =
                    (dx * dx + dy * dy < r * r ? 1.5f : -1.0f) +
                    0.3f * sinf(12.8f * (float)(x + c * y) / (float)side);
            }
    memset(facts, 0, sizeof(*facts));
    CHECK_OK(nn_model_acquire_at(dev, path, &shape, 1, precision, &m));
    if (m) {
        const kiln_graph *g = nn_model_graph(m);
        size_t nout = (size_t)graph_tensor_elements(&g->tensors[g->outputs[0]]);
        float *out = test_xmalloc(nout, sizeof(*out));
        nn_model_facts_get(m, facts);
        CHECK_OK(nn_model_write_input(m, 0, in, 3 * plane));
        CHECK_OK(nn_model_run(m));
        CHECK_OK(nn_model_read_output(m, 0, out, nout));
        CHECK(nout >= plane);
        memcpy(mask, out, (nout < plane ? nout : plane) * sizeof(*out));
        free(out);
        nn_model_release(m);
    }
    free(in);
}

/* IoU at 0.5, mean and max |difference| of two masks of n values. */
static void parity(const float *a, const float *b, size_t n, double *iou, double *mean,
                   double *worst)
{
    size_t inter = 0, uni = 0;
    double sum = 0;

    *worst = 0;
    for (size_t i = 0; i < n; i++) {
        int pa = a[i] >= 0.5f, pb = b[i] >= 0.5f;
        double d = fabs((double)a[i] - (double)b[i]);
        inter += (size_t)(pa && pb);
        uni += (size_t)(pa || pb);
        sum += d;
        if (d > *worst || isnan(d))
            *worst = d;
    }
    *iou = uni ? (double)inter / (double)uni : 1.0;
    *mean = n ? sum / (double)n : 0.0;
}

/* One model at fp32 and fp16 under the current KILN_CONV_ALGO, on a fresh
 * device (the model cache keys on precision, not on the forced algo). */
static void compare(const char *path, const char *what, const char *algo, int model_half,
                    int products)
{
    kiln_device *dev = test_device_open(0);
    static float m32[SIDE * SIDE], m16[SIDE * SIDE], mauto[SIDE * SIDE];
    nn_model_facts f32, f16, fauto;
    double iou, mean, worst;
    size_t fg = 0, held = 0;

    run(dev, path, SIDE, NN_PRECISION_FP32, m32, &f32);
    run(dev, path, SIDE, NN_PRECISION_FP16, m16, &f16);
    run(dev, path, SIDE, NN_PRECISION_AUTO, mauto, &fauto);
    parity(m32, m16, SIDE * SIDE, &iou, &mean, &worst);
    for (size_t i = 0; i < SIDE * SIDE; i++)
        fg += m32[i] >= 0.5f;
    printf("  %-14s %-9s %-13s fp16 vs fp32: IoU %.5f mean |d| %.2e max |d| %.2e (fg %zu "
           "px); arena %zu / %zu bytes, weights %zu / %zu bytes, %zu tensors half\n",
           what, algo, f16.half_products ? "half products" : "float math", iou, mean, worst, fg,
           f16.arena_bytes, f32.arena_bytes, f16.weight_bytes, f32.weight_bytes,
           f16.half_tensors);
    CHECK(f16.half_products == (products || dev->info.fp16));
    /* the mask has a foreground and a background to agree on */
    CHECK(fg > SIDE * SIDE / 20 && fg < SIDE * SIDE * 19 / 20);
    CHECK(iou >= IOU_MIN);
    CHECK(mean <= MEAN_MAX);
    /* fp16 really ran: half tensors, a smaller arena and weights, and a
       mask that is not bit-identical to fp32's */
    CHECK(f32.precision == NN_PRECISION_FP32 && f32.half_tensors == 0);
    CHECK(f32.arena_bytes == f32.arena_bytes_fp32);
    CHECK(f16.precision == NN_PRECISION_FP16 && f16.half_tensors > 0);
    CHECK(f16.arena_bytes_fp32 == f32.arena_bytes);
    /* every Conv forced to GEMM keeps its input and output float32: the
       arena shrinks only by what lies between (Resize, pool outputs) */
    if (strcmp(algo, "gemm") == 0) {
        CHECK(f16.arena_bytes < f32.arena_bytes);
        CHECK(f16.weight_bytes < f32.weight_bytes);
    } else {
        CHECK(f16.arena_bytes * 100 <= f32.arena_bytes * 55);
        CHECK(f16.weight_bytes * 100 <= f32.weight_bytes * 55);
    }
    CHECK(worst > 0.0);
    /* auto: fp16 only for a published fp16 model on a half device */
    CHECK(fauto.precision == (model_half && dev->info.fp16 ? NN_PRECISION_FP16
                                                            : NN_PRECISION_FP32));
    CHECK(memcmp(mauto, fauto.precision == NN_PRECISION_FP16 ? m16 : m32, sizeof(mauto)) == 0);
    resident_count(dev, &held);
    CHECK(held == 0);
    test_device_close(dev);
}

/* A published network ($KILN_PRECISION_MODEL at side
 * $KILN_PRECISION_SIZE, e.g. an exported U^2-Net-p): its first output
 * at fp16 against fp32, printed, the arena at most 0.75 of fp32's, and
 * the mask bounded by the
 * looser EXT_IOU_MIN / EXT_MEAN_MAX (a deep network sums more rounding,
 * and on a device with cl_khr_fp16 the Conv products are half). */
static void compare_external(const char *path, int side)
{
    kiln_device *dev = test_device_open(0);
    size_t plane = (size_t)side * (size_t)side;
    float *m32 = test_xmalloc(plane, sizeof(*m32)), *m16 = test_xmalloc(plane, sizeof(*m16));
    nn_model_facts f32, f16;
    double iou, mean, worst;

    run(dev, path, side, NN_PRECISION_FP32, m32, &f32);
    run(dev, path, side, NN_PRECISION_FP16, m16, &f16);
    parity(m32, m16, plane, &iou, &mean, &worst);
    printf("  %s at %d (%s): fp16 vs fp32: IoU %.5f mean |d| %.2e max |d| %.2e; arena %zu / "
           "%zu bytes, weights %zu / %zu bytes\n", path, side,
           f16.half_products ? "half storage, half Conv products" : "half storage, float arithmetic",
           iou, mean, worst,
           f16.arena_bytes, f32.arena_bytes, f16.weight_bytes, f32.weight_bytes);
    CHECK(iou >= EXT_IOU_MIN);
    CHECK(mean <= EXT_MEAN_MAX);
    /* the float32 input and output weigh more in a narrow network (the
       reduced-width IS-Net of model_parity.sh: 0.625) */
    CHECK(f16.precision == NN_PRECISION_FP16 && f16.arena_bytes * 100 <= f32.arena_bytes * 75);
    free(m32);
    free(m16);
    test_device_close(dev);
}

/* The build options that key the compiled programs: float32 kernels
 * keep their options (and so their cached programs); half storage and
 * half products add their own defines, so their programs are distinct. */
static void test_build_options(void)
{
    nn_launch ctx;
    char buf[128];
    const char *o;

    memset(&ctx, 0, sizeof(ctx));
    o = nn_build_options(&ctx, 0, "-D TOC=8", buf, sizeof(buf));
    CHECK(o && strcmp(o, "-D TOC=8") == 0 && o != buf);
    CHECK(nn_build_options(&ctx, 0, NULL, buf, sizeof(buf)) == NULL);
    o = nn_build_options(&ctx, 1u << NN_R_X | 1u << NN_R_Y, "-D TOC=8", buf, sizeof(buf));
    CHECK(o && strcmp(o, "-D NN_HALF=3 -D TOC=8") == 0);
    ctx.half_math = 1;
    o = nn_build_options(&ctx, 1u << NN_R_W, NULL, buf, sizeof(buf));
    CHECK(o && strcmp(o, "-D NN_HALF=4 -D NN_HALF_MATH=1") == 0);
}

/* The float32 model and its fp16 conversion, default and forced Convs;
 * or, when $KILN_PRECISION_MODEL is set, only that network. */
int main(void)
{
    const char *dir = test_tmpdir("test_precision");
    static const char *const algos[] = { "auto", "direct", "winograd2", "winograd4f", "gemm" };
    char f32[4096], f16[4096];

    test_build_options();
    snprintf(f32, sizeof(f32), "%s/rsu.onnx", dir);
    snprintf(f16, sizeof(f16), "%s/rsu-fp16.onnx", dir);
    if (getenv("KILN_PRECISION_MODEL") && *getenv("KILN_PRECISION_MODEL")) {
        const char *size = getenv("KILN_PRECISION_SIZE");
        compare_external(getenv("KILN_PRECISION_MODEL"), size ? atoi(size) : 320);
        return test_summary("test_precision");
    }
    write_model(f32, 0);
    write_model(f16, 1);
    for (size_t a = 0; a < sizeof(algos) / sizeof(algos[0]); a++) {
        int algo = NN_CONV_ALGO_AUTO;
        CHECK(nn_conv_algo_parse(algos[a], &algo));
        setenv("KILN_CONV_ALGO", algos[a], 1);
        compare(f32, "float32 model", algos[a], 0, 0);
        compare(f16, "fp16 model", algos[a], 1, 0);
    }
    /* the Conv products in half, as a device with cl_khr_fp16 takes them
       (emulated where it has none) */
    setenv("KILN_CONV_ALGO", "auto", 1);
    setenv("KILN_HALF_PRODUCTS", "1", 1);
    compare(f32, "float32 model", "auto", 0, 1);
    compare(f16, "fp16 model", "auto", 1, 1);
    unsetenv("KILN_HALF_PRODUCTS");
    unsetenv("KILN_CONV_ALGO");
    return test_summary("test_precision");
}
