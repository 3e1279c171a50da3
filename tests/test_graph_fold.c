/* Folding, fusion and shape inference on hand-made models: BatchNorm
 * folded into Conv checked numerically against Conv then BN computed in
 * double; BN lowered to Mul and Add; Conv+Relu and Conv+Sigmoid fusion;
 * unneeded outputs pruned; the U-Net shape chain folded; output sizes the
 * node tests do not cover (MaxPool ceil_mode with odd sizes, dilations 4
 * and 8, Resize to explicit sizes); the older attribute forms.  No device
 * is needed. */
#include <math.h>

#include "graph_fold.h"
#include "graph_info.h"
#include "onnx.pb-c.h"
#include "onnx_build.h"
#include "onnx_load.h"
#include "testutil.h"

/* A 2-D convolution's geometry for the host reference. */
typedef struct conv_geom {
    int64_t n, c, h, w;             /* input */
    int64_t m, kh, kw, group;
    int64_t sh, sw, dh, dw, ph, pw; /* strides, dilations, begin pads */
    int64_t oh, ow;
} conv_geom;

/* Fills v with uniform values in [lo, hi) from a fixed LCG. */
static void random_fill(float *v, size_t n, unsigned *seed, float lo, float hi)
{
    for (size_t i = 0; i < n; i++) {
        *seed = *seed * 1664525u + 1013904223u;
        v[i] = lo + (hi - lo) * (float)(*seed >> 8) / 16777216.0f;
    }
}

/* Conv in double: out[n][m][y][x] = b[m] + sum w * x. */
static void conv_ref(const conv_geom *g, const float *x, const float *w, const float *b,
                     double *out)
{
    int64_t cg = g->c / g->group, mg = g->m / g->group;

    for (int64_t n = 0; n < g->n; n++)
        for (int64_t m = 0; m < g->m; m++)
            for (int64_t oy = 0; oy < g->oh; oy++)
                for (int64_t ox = 0; ox < g->ow; ox++) {
                    double acc = b ? b[m] : 0.0;
                    int64_t grp = m / mg;
                    for (int64_t c = 0; c < cg; c++)
                        for (int64_t ky = 0; ky < g->kh; ky++)
                            for (int64_t kx = 0; kx < g->kw; kx++) {
                                int64_t iy = oy * g->sh + ky * g->dh - g->ph;
                                int64_t ix = ox * g->sw + kx * g->dw - g->pw;
                                if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w)
                                    continue;
                                acc += (double)w[((m * cg + c) * g->kh + ky) * g->kw + kx] *
                                       x[((n * g->c + grp * cg + c) * g->h + iy) * g->w + ix];
                            }
                    out[((n * g->m + m) * g->oh + oy) * g->ow + ox] = acc;
                }
}

/* Loads a builder's model from memory and folds it with `opt`. */
static kiln_graph *build_and_fold(onnx_build *b, const graph_fold_options *opt,
                                  graph_fold_stats *stats)
{
    kiln_graph *g = NULL;
    size_t size;
    uint8_t *bytes = onnx_build_pack(b, &size);
    kiln_status st = onnx_load_buffer(bytes, size, NULL, &g);

    free(bytes);
    CHECK_OK(st);
    if (st != KILN_OK)
        return NULL;
    st = graph_fold(g, opt, stats);
    CHECK_OK(st);
    if (st != KILN_OK) {
        graph_free(g);
        return NULL;
    }
    return g;
}

/* Counts live nodes of an operator. */
static size_t op_count(const kiln_graph *g, graph_op op)
{
    size_t n = 0;

    for (size_t i = 0; i < g->nnodes; i++)
        n += g->nodes[i].op == op;
    return n;
}

/* Conv (+ bias) -> BN folded: equal to Conv then BN in double. */
static void bn_fold_case(int64_t c, int64_t m, int64_t group, int with_bias, int relu)
{
    conv_geom geo = { 1, c, 9, 11, m, 3, 3, group, 2, 1, 2, 2, 1, 2, 0, 0 };
    int64_t x_dims[] = { 1, c, 9, 11 }, w_dims[] = { m, c / group, 3, 3 }, m_dims[] = { m };
    size_t nw = (size_t)(m * (c / group) * 9), nx = (size_t)(c * 9 * 11);
    float *w = malloc(nw * sizeof(*w)), *x = malloc(nx * sizeof(*x));
    float bias[64], s[64], beta[64], mean[64], var[64];
    unsigned seed = (unsigned)(c * 131 + m * 7 + group + with_bias * 3 + relu);
    onnx_build *b = onnx_build_new(13);

    random_fill(w, nw, &seed, -1.0f, 1.0f);
    random_fill(x, nx, &seed, -1.0f, 1.0f);
    random_fill(bias, (size_t)m, &seed, -0.5f, 0.5f);
    random_fill(s, (size_t)m, &seed, 0.5f, 2.0f);
    random_fill(beta, (size_t)m, &seed, -1.0f, 1.0f);
    random_fill(mean, (size_t)m, &seed, -0.5f, 0.5f);
    random_fill(var, (size_t)m, &seed, 0.1f, 3.0f);
    geo.oh = (9 + 2 - 2 * 2 - 1) / 2 + 1;
    geo.ow = (11 + 4 - 2 * 2 - 1) / 1 + 1;
    onnx_build_input(b, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 4, x_dims);
    onnx_build_init_f32(b, "w", 4, w_dims, w);
    onnx_build_init_f32(b, "bias", 1, m_dims, bias);
    onnx_build_init_f32(b, "s", 1, m_dims, s);
    onnx_build_init_f32(b, "beta", 1, m_dims, beta);
    onnx_build_init_f32(b, "mean", 1, m_dims, mean);
    onnx_build_init_f32(b, "var", 1, m_dims, var);
    Onnx__NodeProto *n = onnx_build_node(b, "Conv", "conv",
                                         with_bias ? (const char *[]){ "x", "w", "bias", NULL }
                                                   : (const char *[]){ "x", "w", NULL },
                                         (const char *[]){ "c", NULL });
    onnx_build_attr_ints(b, n, "strides", 2, (const int64_t[]){ 2, 1 });
    onnx_build_attr_ints(b, n, "dilations", 2, (const int64_t[]){ 2, 2 });
    onnx_build_attr_ints(b, n, "pads", 4, (const int64_t[]){ 1, 2, 1, 2 });
    onnx_build_attr_int(b, n, "group", group);
    n = onnx_build_node(b, "BatchNormalization", "bn",
                        (const char *[]){ "c", "s", "beta", "mean", "var", NULL },
                        (const char *[]){ relu ? "n" : "y", NULL });
    onnx_build_attr_float(b, n, "epsilon", 1e-3f);
    if (relu)
        onnx_build_node(b, "Relu", "relu", (const char *[]){ "n", NULL },
                        (const char *[]){ "y", NULL });
    onnx_build_output(b, "y");

    graph_fold_stats stats;
    kiln_graph *g = build_and_fold(b, NULL, &stats);
    if (g) {
        CHECK(g->nnodes == 1 && g->nodes[0].op == GRAPH_OP_CONV);
        CHECK(stats.bn_folded == 1);
        CHECK(g->nodes[0].attr.conv.activation == (relu ? GRAPH_ACT_RELU : GRAPH_ACT_NONE));
        const graph_tensor *wf = &g->tensors[g->nodes[0].inputs[1]];
        const graph_tensor *bf = &g->tensors[g->nodes[0].inputs[2]];
        const graph_tensor *y = &g->tensors[g->outputs[0]];
        CHECK(y->dims[2] == geo.oh && y->dims[3] == geo.ow);
        size_t ny = (size_t)(m * geo.oh * geo.ow);
        double *want = malloc(ny * sizeof(*want)), *got = malloc(ny * sizeof(*got));
        conv_ref(&geo, x, w, with_bias ? bias : NULL, want);
        conv_ref(&geo, x, wf->f32, bf->f32, got);
        double worst = 0.0;
        for (size_t i = 0; i < ny; i++) {
            int64_t k = (int64_t)(i / (size_t)(geo.oh * geo.ow));
            double ref = (want[i] - mean[k]) / sqrt((double)var[k] + 1e-3) * s[k] + beta[k];
            double folded = got[i];
            if (relu) {
                ref = ref > 0.0 ? ref : 0.0;
                folded = folded > 0.0 ? folded : 0.0;
            }
            if (fabs(ref - folded) > worst)
                worst = fabs(ref - folded);
        }
        CHECK(worst <= 1e-5);
        printf("BN fold: C=%lld M=%lld group %lld%s%s: max |d| = %.2e over %zu outputs\n",
               (long long)c, (long long)m, (long long)group, with_bias ? ", bias" : "",
               relu ? ", +Relu" : "", worst, ny);
        free(want);
        free(got);
        graph_free(g);
    }
    onnx_build_free(b);
    free(w);
    free(x);
}

/* A BN with no Conv before it becomes Mul and Add with equal results. */
static void test_bn_lowered(void)
{
    onnx_build *b = onnx_build_new(9);
    const int64_t x_dims[] = { 1, 3, 2, 2 }, c3[] = { 3 };
    const float s[] = { 1.5f, -2.0f, 0.25f }, beta[] = { 0.1f, 0.2f, -0.3f };
    const float mean[] = { 0.5f, -1.0f, 2.0f }, var[] = { 4.0f, 0.25f, 1.0f };

    onnx_build_input(b, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 4, x_dims);
    onnx_build_init_f32(b, "s", 1, c3, s);
    onnx_build_init_f32(b, "beta", 1, c3, beta);
    onnx_build_init_f32(b, "mean", 1, c3, mean);
    onnx_build_init_f32(b, "var", 1, c3, var);
    onnx_build_node(b, "BatchNormalization", "bn",
                    (const char *[]){ "x", "s", "beta", "mean", "var", NULL },
                    (const char *[]){ "y", NULL });
    onnx_build_output(b, "y");
    kiln_graph *g = build_and_fold(b, NULL, NULL);
    if (g) {
        CHECK(g->nnodes == 2 && g->nodes[0].op == GRAPH_OP_MUL && g->nodes[1].op == GRAPH_OP_ADD);
        const graph_tensor *k = &g->tensors[g->nodes[0].inputs[1]];
        const graph_tensor *t = &g->tensors[g->nodes[1].inputs[1]];
        CHECK(k->rank == 3 && k->dims[0] == 3 && k->dims[1] == 1 && k->dims[2] == 1);
        for (int c = 0; c < 3; c++) {
            double sc = s[c] / sqrt(var[c] + 1e-5);
            CHECK(fabs(k->f32[c] - sc) < 1e-6);
            CHECK(fabs(t->f32[c] - (beta[c] - mean[c] * sc)) < 1e-6);
        }
        CHECK(g->nodes[1].outputs[0] == g->outputs[0]);
        graph_free(g);
    }
    onnx_build_free(b);
}

/* The mini U-Net: the shape chain folds, BN folds, Relu and Sigmoid fuse,
 * the second output is pruned by default; then the facts. */
static void test_mini_unet(void)
{
    onnx_build *b = onnx_build_new(11);
    graph_fold_stats stats;
    graph_fold_options opt;

    onnx_build_mini_unet(b);
    kiln_graph *g = build_and_fold(b, NULL, &stats);
    if (g) {
        CHECK(g->nnodes == 5);
        CHECK(op_count(g, GRAPH_OP_CONV) == 2 && op_count(g, GRAPH_OP_MAXPOOL) == 1 &&
              op_count(g, GRAPH_OP_RESIZE) == 1 && op_count(g, GRAPH_OP_CONCAT) == 1);
        CHECK(stats.folded == 4);       /* Shape, Gather, Cast, Concat of sizes */
        CHECK(stats.bn_folded == 1 && stats.fused == 2);
        CHECK(g->noutputs == 1);
        CHECK(g->nodes[0].attr.conv.activation == GRAPH_ACT_RELU);
        CHECK(g->nodes[4].attr.conv.activation == GRAPH_ACT_SIGMOID);
        const graph_node *rs = &g->nodes[2];
        CHECK(rs->op == GRAPH_OP_RESIZE && rs->attr.resize.scales[2] == 2.0f &&
              rs->attr.resize.scales[3] == 2.0f);
        CHECK(rs->inputs[3] >= 0 && g->tensors[rs->inputs[3]].i64 &&
              g->tensors[rs->inputs[3]].i64[2] == 8);
        const graph_node *mp = &g->nodes[1];
        CHECK(mp->attr.pool.win.strides[0] == 2 && mp->attr.pool.win.pads[3] == 0);
        graph_info info;
        CHECK_OK(graph_info_compute(g, &info));
        CHECK(info.macs == 256 * 27 + 128 * 8);
        CHECK(info.parameters == 108 + 4 + 16);
        CHECK(info.activation_bytes == (192 + 256 + 64 + 256 + 512 + 128) * sizeof(float));
        char path[4096];
        snprintf(path, sizeof(path), "%s/info.txt", test_tmpdir("test_graph_fold"));
        FILE *fp = fopen(path, "w+");
        if (fp) {
            char text[2048];
            CHECK_OK(graph_print_info(fp, g));
            rewind(fp);
            size_t len = fread(text, 1, sizeof(text) - 1, fp);
            text[len] = '\0';
            fclose(fp);
            CHECK(strstr(text, "MACs:        7.94K") != NULL);
            CHECK(strstr(text, "Conv 2") != NULL);
            CHECK(strstr(text, "input:       x FLOAT 1x3x8x8") != NULL);
            printf("%s", text);
        }
        graph_free(g);
    }

    /* both outputs by name, in a new order */
    const char *names[] = { "pooled", "y" };
    memset(&opt, 0, sizeof(opt));
    opt.outputs = names;
    opt.noutputs = 2;
    opt.runtime_only = 1;
    g = build_and_fold(b, &opt, &stats);
    if (g) {
        CHECK(g->noutputs == 2 && strcmp(g->tensors[g->outputs[0]].name, "pooled") == 0);
        graph_free(g);
    }
    const char *bad[] = { "nope" };
    opt.outputs = bad;
    opt.noutputs = 1;
    size_t size;
    uint8_t *bytes = onnx_build_pack(b, &size);
    CHECK_OK(onnx_load_buffer(bytes, size, NULL, &g));
    CHECK_STATUS(graph_fold(g, &opt, NULL), KILN_E_INVAL);
    CHECK_MSG("no output named 'nope' (its outputs: 'y', 'pooled')");
    graph_free(g);
    free(bytes);
    onnx_build_free(b);
}

/* One pool or conv node on an input of `h` x `w`; returns output dims
 * [oh, ow] (or -1 on failure). */
static void window_case(const char *op, int64_t h, int64_t w, int64_t k, int64_t stride,
                        int64_t pad, int64_t dil, int ceil_mode, const char *auto_pad,
                        int64_t *oh, int64_t *ow)
{
    onnx_build *b = onnx_build_new(13);
    const int64_t x_dims[] = { 1, 2, h, w }, w_dims[] = { 3, 2, k, k };
    float *wt = calloc((size_t)(3 * 2 * k * k), sizeof(*wt));

    *oh = *ow = -1;
    onnx_build_input(b, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 4, x_dims);
    Onnx__NodeProto *n;
    if (strcmp(op, "Conv") == 0) {
        onnx_build_init_f32(b, "w", 4, w_dims, wt);
        n = onnx_build_node(b, op, "n", (const char *[]){ "x", "w", NULL },
                            (const char *[]){ "y", NULL });
    } else {
        n = onnx_build_node(b, op, "n", (const char *[]){ "x", NULL }, (const char *[]){ "y", NULL });
        onnx_build_attr_ints(b, n, "kernel_shape", 2, (const int64_t[]){ k, k });
        onnx_build_attr_int(b, n, "ceil_mode", ceil_mode);
    }
    onnx_build_attr_ints(b, n, "strides", 2, (const int64_t[]){ stride, stride });
    if (dil != 1)
        onnx_build_attr_ints(b, n, "dilations", 2, (const int64_t[]){ dil, dil });
    if (auto_pad)
        onnx_build_attr_string(b, n, "auto_pad", auto_pad);
    else
        onnx_build_attr_ints(b, n, "pads", 4, (const int64_t[]){ pad, pad, pad, pad });
    onnx_build_output(b, "y");
    kiln_graph *g = build_and_fold(b, NULL, NULL);
    if (g) {
        *oh = g->tensors[g->outputs[0]].dims[2];
        *ow = g->tensors[g->outputs[0]].dims[3];
        graph_free(g);
    }
    onnx_build_free(b);
    free(wt);
}

/* Output sizes worked out by hand from the ONNX and PyTorch formulas. */
static void test_window_sizes(void)
{
    int64_t oh, ow;

    /* ceil_mode: ceil((7 - 3) / 2) + 1 = 3; ceil((8 - 3) / 2) + 1 = 4 */
    window_case("MaxPool", 7, 8, 3, 2, 0, 1, 1, NULL, &oh, &ow);
    CHECK(oh == 3 && ow == 4);
    /* floor: (7 - 3) / 2 + 1 = 3; (8 - 3) / 2 + 1 = 3 */
    window_case("MaxPool", 7, 8, 3, 2, 0, 1, 0, NULL, &oh, &ow);
    CHECK(oh == 3 && ow == 3);
    /* a last window starting in the right padding is dropped: 5 wide, k 2,
     * s 2, pad 1: ceil(5 / 2) + 1 = 4, but (4 - 1) * 2 = 6 >= 5 + 1, so 3 */
    window_case("MaxPool", 5, 5, 2, 2, 1, 1, 1, NULL, &oh, &ow);
    CHECK(oh == 3 && ow == 3);
    /* U-Net's pools: 2x2, stride 2, ceil_mode, odd sizes 3 -> 2, 5 -> 3 */
    window_case("MaxPool", 3, 3, 2, 2, 0, 1, 1, NULL, &oh, &ow);
    CHECK(oh == 2 && ow == 2);
    window_case("MaxPool", 5, 5, 2, 2, 0, 1, 1, NULL, &oh, &ow);
    CHECK(oh == 3 && ow == 3);
    window_case("AveragePool", 7, 7, 3, 2, 1, 1, 1, NULL, &oh, &ow);
    CHECK(oh == 4 && ow == 4);
    /* dilated convs keep the size with pad = dilation (3x3 kernel) */
    window_case("Conv", 20, 23, 3, 1, 4, 4, 0, NULL, &oh, &ow);
    CHECK(oh == 20 && ow == 23);
    window_case("Conv", 20, 23, 3, 1, 8, 8, 0, NULL, &oh, &ow);
    CHECK(oh == 20 && ow == 23);
    /* dilation 8 without padding: 20 - (3 - 1) * 8 = 4 */
    window_case("Conv", 20, 23, 3, 1, 0, 8, 0, NULL, &oh, &ow);
    CHECK(oh == 4 && ow == 7);
    /* SAME_UPPER with stride 2: ceil(9 / 2) = 5 */
    window_case("Conv", 9, 10, 3, 2, 0, 1, 0, "SAME_UPPER", &oh, &ow);
    CHECK(oh == 5 && ow == 5);
    window_case("MaxPool", 9, 10, 3, 2, 0, 1, 0, "SAME_LOWER", &oh, &ow);
    CHECK(oh == 5 && ow == 5);
}

/* Resize to explicit sizes (linear, half_pixel) and by scales with
 * rounding down; Upsample-7's scales attribute. */
static void test_resize_sizes(void)
{
    const int64_t x_dims[] = { 1, 3, 7, 5 }, four[] = { 4 };
    onnx_build *b = onnx_build_new(13);

    onnx_build_input(b, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 4, x_dims);
    onnx_build_init_i64(b, "sizes", 1, four, (const int64_t[]){ 1, 3, 20, 11 });
    onnx_build_init_f32(b, "scales", 1, four, (const float[]){ 1.0f, 1.0f, 0.5f, 2.7f });
    Onnx__NodeProto *n = onnx_build_node(b, "Resize", "r1", (const char *[]){ "x", "", "", "sizes", NULL },
                                         (const char *[]){ "y", NULL });
    onnx_build_attr_string(b, n, "mode", "linear");
    onnx_build_attr_string(b, n, "coordinate_transformation_mode", "half_pixel");
    n = onnx_build_node(b, "Resize", "r2", (const char *[]){ "x", "", "scales", NULL },
                        (const char *[]){ "z", NULL });
    onnx_build_attr_string(b, n, "mode", "nearest");
    onnx_build_output(b, "y");
    onnx_build_output(b, "z");
    graph_fold_options opt;
    memset(&opt, 0, sizeof(opt));
    opt.all_outputs = 1;
    kiln_graph *g = build_and_fold(b, &opt, NULL);
    if (g) {
        const graph_tensor *y = &g->tensors[g->outputs[0]], *z = &g->tensors[g->outputs[1]];
        CHECK(y->dims[2] == 20 && y->dims[3] == 11);
        CHECK(g->nodes[0].attr.resize.scales[2] == (float)(20.0 / 7.0));
        CHECK(g->nodes[0].attr.resize.coord == GRAPH_COORD_HALF_PIXEL);
        CHECK(z->dims[2] == 3 && z->dims[3] == 13);     /* floor(3.5), floor(13.5) */
        graph_free(g);
    }
    onnx_build_free(b);

    b = onnx_build_new(7);
    onnx_build_input(b, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 4, x_dims);
    n = onnx_build_node(b, "Upsample", "up", (const char *[]){ "x", NULL },
                        (const char *[]){ "y", NULL });
    onnx_build_attr_string(b, n, "mode", "nearest");
    Onnx__AttributeProto *a = NULL;
    onnx_build_attr_int(b, n, "scales", 0);     /* retyped to FLOATS below */
    a = n->attribute[1];
    float sc[] = { 1.0f, 1.0f, 2.0f, 3.0f };
    a->has_i = 0;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
    a->n_floats = 4;
    a->floats = sc;
    onnx_build_output(b, "y");
    g = build_and_fold(b, NULL, NULL);
    if (g) {
        CHECK(g->tensors[g->outputs[0]].dims[2] == 14 && g->tensors[g->outputs[0]].dims[3] == 15);
        CHECK(g->nodes[0].attr.resize.coord == GRAPH_COORD_ASYMMETRIC &&
              g->nodes[0].attr.resize.nearest == GRAPH_NEAREST_FLOOR);
        graph_free(g);
    }
    a->n_floats = 0;
    a->floats = NULL;
    onnx_build_free(b);
}

/* Opset < 11 Clip, < 10 Slice and < 13 Squeeze/Unsqueeze attributes. */
static void test_old_forms(void)
{
    const int64_t x_dims[] = { 1, 6, 5 };
    onnx_build *b = onnx_build_new(9);

    onnx_build_input(b, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 3, x_dims);
    Onnx__NodeProto *n = onnx_build_node(b, "Clip", "clip", (const char *[]){ "x", NULL },
                                         (const char *[]){ "c", NULL });
    onnx_build_attr_float(b, n, "min", 0.0f);
    onnx_build_attr_float(b, n, "max", 6.0f);
    n = onnx_build_node(b, "Slice", "slice", (const char *[]){ "c", NULL },
                        (const char *[]){ "s", NULL });
    onnx_build_attr_ints(b, n, "starts", 2, (const int64_t[]){ 1, -4 });
    onnx_build_attr_ints(b, n, "ends", 2, (const int64_t[]){ INT64_MAX, -1 });
    onnx_build_attr_ints(b, n, "axes", 2, (const int64_t[]){ 1, 2 });
    n = onnx_build_node(b, "Squeeze", "sq", (const char *[]){ "s", NULL },
                        (const char *[]){ "q", NULL });
    onnx_build_attr_ints(b, n, "axes", 1, (const int64_t[]){ 0 });
    n = onnx_build_node(b, "Unsqueeze", "unsq", (const char *[]){ "q", NULL },
                        (const char *[]){ "y", NULL });
    onnx_build_attr_ints(b, n, "axes", 2, (const int64_t[]){ 0, 3 });
    onnx_build_output(b, "y");
    kiln_graph *g = build_and_fold(b, NULL, NULL);
    if (g) {
        const graph_tensor *y = &g->tensors[g->outputs[0]];
        CHECK(y->rank == 4 && y->dims[0] == 1 && y->dims[1] == 5 && y->dims[2] == 3 &&
              y->dims[3] == 1);
        CHECK(g->nnodes == 4 && g->nodes[0].op == GRAPH_OP_CLIP && g->nodes[0].attr.clip.max == 6.0);
        CHECK(g->nodes[1].op == GRAPH_OP_SLICE && g->nodes[1].attr.slice.start[2] == 1);
        CHECK(g->nodes[2].op == GRAPH_OP_RESHAPE && g->nodes[3].op == GRAPH_OP_RESHAPE);
        graph_free(g);
    }
    onnx_build_free(b);
}

/* A Gather on runtime data stays a node; runtime_only refuses it. */
static void test_runtime_only(void)
{
    const int64_t x_dims[] = { 4, 3 }, one[] = { 1 };
    onnx_build *b = onnx_build_new(13);
    graph_fold_options opt;
    kiln_graph *g = NULL;
    size_t size;

    onnx_build_input(b, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, x_dims);
    onnx_build_init_i64(b, "i", 1, one, (const int64_t[]){ 2 });
    onnx_build_node(b, "Gather", "pick", (const char *[]){ "x", "i", NULL },
                    (const char *[]){ "y", NULL });
    onnx_build_output(b, "y");
    uint8_t *bytes = onnx_build_pack(b, &size);
    CHECK_OK(onnx_load_buffer(bytes, size, NULL, &g));
    memset(&opt, 0, sizeof(opt));
    opt.runtime_only = 1;
    CHECK_STATUS(graph_fold(g, &opt, NULL), KILN_E_FORMAT);
    CHECK_MSG("node 'pick' (#0, Gather): kiln runs Gather only on values that are constant");
    graph_free(g);
    free(bytes);
    onnx_build_free(b);
}

/* The scales chain PyTorch's opset-9 export builds for
 * F.interpolate(x, size=tar.shape[2:], mode='bilinear'): Shape, Gather of
 * a scalar index, Cast to float, Div, Unsqueeze, Concat with a Constant,
 * then Upsample.  All of it folds into one Resize with scales 1, 1, 2, 2. */
static void test_torch_upsample_chain(void)
{
    const int64_t x_dims[] = { 1, 4, 5, 5 }, t_dims[] = { 1, 4, 10, 10 }, scalar[] = { 0 };
    onnx_build *b = onnx_build_new(9);
    graph_fold_options opt;

    onnx_build_input(b, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 4, x_dims);
    onnx_build_input(b, "tar", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 4, t_dims);
    onnx_build_init_i64(b, "two", 0, scalar, (const int64_t[]){ 2 });
    onnx_build_node(b, "Shape", NULL, (const char *[]){ "tar", NULL }, (const char *[]){ "st", NULL });
    onnx_build_node(b, "Shape", NULL, (const char *[]){ "x", NULL }, (const char *[]){ "sx", NULL });
    onnx_build_node(b, "Gather", NULL, (const char *[]){ "st", "two", NULL },
                    (const char *[]){ "ht", NULL });
    onnx_build_node(b, "Gather", NULL, (const char *[]){ "sx", "two", NULL },
                    (const char *[]){ "hx", NULL });
    Onnx__NodeProto *n = onnx_build_node(b, "Cast", NULL, (const char *[]){ "ht", NULL },
                                         (const char *[]){ "htf", NULL });
    onnx_build_attr_int(b, n, "to", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT);
    n = onnx_build_node(b, "Cast", NULL, (const char *[]){ "hx", NULL },
                        (const char *[]){ "hxf", NULL });
    onnx_build_attr_int(b, n, "to", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT);
    onnx_build_node(b, "Div", NULL, (const char *[]){ "htf", "hxf", NULL },
                    (const char *[]){ "r", NULL });
    n = onnx_build_node(b, "Unsqueeze", NULL, (const char *[]){ "r", NULL },
                        (const char *[]){ "ru", NULL });
    onnx_build_attr_ints(b, n, "axes", 1, (const int64_t[]){ 0 });
    n = onnx_build_node(b, "Constant", NULL, NULL, (const char *[]){ "ones", NULL });
    onnx_build_attr_floats(b, n, "value_floats", 2, (const float[]){ 1.0f, 1.0f });
    n = onnx_build_node(b, "Concat", NULL, (const char *[]){ "ones", "ru", "ru", NULL },
                        (const char *[]){ "scales", NULL });
    onnx_build_attr_int(b, n, "axis", 0);
    n = onnx_build_node(b, "Upsample", "up", (const char *[]){ "x", "scales", NULL },
                        (const char *[]){ "y", NULL });
    onnx_build_attr_string(b, n, "mode", "linear");
    onnx_build_output(b, "y");
    memset(&opt, 0, sizeof(opt));
    opt.runtime_only = 1;
    graph_fold_stats stats;
    kiln_graph *g = build_and_fold(b, &opt, &stats);
    if (g) {
        CHECK(g->nnodes == 1 && g->nodes[0].op == GRAPH_OP_RESIZE);
        CHECK(stats.folded == 9);
        const graph_resize_attr *a = &g->nodes[0].attr.resize;
        CHECK(a->scales[0] == 1.0f && a->scales[1] == 1.0f && a->scales[2] == 2.0f &&
              a->scales[3] == 2.0f);
        CHECK(a->mode == GRAPH_RESIZE_LINEAR && a->coord == GRAPH_COORD_ASYMMETRIC);
        const graph_tensor *y = &g->tensors[g->outputs[0]];
        CHECK(y->dims[2] == 10 && y->dims[3] == 10);
        graph_free(g);
    }
    onnx_build_free(b);
}

/* Folds a one-node model whose data input "x" is a constant and returns
 * the folded output (NULL on failure); the graph goes to *gp. */
static const graph_tensor *fold_single(onnx_build *b, kiln_graph **gp)
{
    kiln_graph *g = build_and_fold(b, NULL, NULL);

    *gp = g;
    if (!g)
        return NULL;
    CHECK(g->nnodes == 0);
    const graph_tensor *y = &g->tensors[g->outputs[0]];
    CHECK(y->f32 != NULL);
    return y->f32 ? y : NULL;
}

/* Dilated convs (4 and 8) folded on the host against conv_ref. */
static void test_numeric_dilated_conv(void)
{
    for (int64_t dil = 4; dil <= 8; dil *= 2) {
        conv_geom geo = { 1, 2, 20, 23, 3, 3, 3, 1, 1, 1, dil, dil, dil, dil, 20, 23 };
        const int64_t x_dims[] = { 1, 2, 20, 23 }, w_dims[] = { 3, 2, 3, 3 };
        float x[2 * 20 * 23], w[54];
        unsigned seed = (unsigned)dil;
        onnx_build *b = onnx_build_new(13);
        kiln_graph *g;

        random_fill(x, 2 * 20 * 23, &seed, -1.0f, 1.0f);
        random_fill(w, 54, &seed, -1.0f, 1.0f);
        onnx_build_init_f32(b, "x", 4, x_dims, x);
        onnx_build_init_f32(b, "w", 4, w_dims, w);
        Onnx__NodeProto *n = onnx_build_node(b, "Conv", "conv", (const char *[]){ "x", "w", NULL },
                                             (const char *[]){ "y", NULL });
        onnx_build_attr_ints(b, n, "dilations", 2, (const int64_t[]){ dil, dil });
        onnx_build_attr_ints(b, n, "pads", 4, (const int64_t[]){ dil, dil, dil, dil });
        onnx_build_output(b, "y");
        const graph_tensor *y = fold_single(b, &g);
        if (y) {
            double worst = 0.0, want[3 * 20 * 23];
            conv_ref(&geo, x, w, NULL, want);
            for (int i = 0; i < 3 * 20 * 23; i++)
                worst = fmax(worst, fabs(want[i] - y->f32[i]));
            CHECK(y->dims[2] == 20 && y->dims[3] == 23);
            CHECK(worst <= 1e-5);
        }
        graph_free(g);
        onnx_build_free(b);
    }
}

/* Linear Resize to explicit sizes with half_pixel against PyTorch's
 * bilinear formula (align_corners=False), written independently. */
static void test_numeric_resize_half_pixel(void)
{
    static const char *const modes[] = { "half_pixel", "pytorch_half_pixel" };
    const int64_t x_dims[] = { 1, 2, 5, 7 }, four[] = { 4 }, out_h = 12, out_w = 4;
    float x[70];
    unsigned seed = 99;

    random_fill(x, 70, &seed, -2.0f, 2.0f);
    for (int m = 0; m < 2; m++) {
        onnx_build *b = onnx_build_new(13);
        kiln_graph *g;
        onnx_build_init_f32(b, "x", 4, x_dims, x);
        onnx_build_init_i64(b, "sizes", 1, four, (const int64_t[]){ 1, 2, out_h, out_w });
        Onnx__NodeProto *n = onnx_build_node(b, "Resize", "up",
                                             (const char *[]){ "x", "", "", "sizes", NULL },
                                             (const char *[]){ "y", NULL });
        onnx_build_attr_string(b, n, "mode", "linear");
        onnx_build_attr_string(b, n, "coordinate_transformation_mode", modes[m]);
        onnx_build_output(b, "y");
        const graph_tensor *y = fold_single(b, &g);
        double worst = 0.0;
        for (int64_t c = 0; y && c < 2; c++)
            for (int64_t oy = 0; oy < out_h; oy++)
                for (int64_t ox = 0; ox < out_w; ox++) {
                    double sy = fmax(0.0, (oy + 0.5) * 5.0 / out_h - 0.5);
                    double sx = fmax(0.0, (ox + 0.5) * 7.0 / out_w - 0.5);
                    int64_t y0 = (int64_t)sy, x0 = (int64_t)sx;
                    int64_t y1 = y0 + 1 < 5 ? y0 + 1 : 4, x1 = x0 + 1 < 7 ? x0 + 1 : 6;
                    double ly = sy - (double)y0, lx = sx - (double)x0;
                    const float *p = x + c * 35;
                    double v = (1 - ly) * ((1 - lx) * p[y0 * 7 + x0] + lx * p[y0 * 7 + x1]) +
                               ly * ((1 - lx) * p[y1 * 7 + x0] + lx * p[y1 * 7 + x1]);
                    worst = fmax(worst, fabs(v - y->f32[(c * out_h + oy) * out_w + ox]));
                }
        CHECK(y && worst <= 1e-5);
        graph_free(g);
        onnx_build_free(b);
    }
}

/* MaxPool with ceil_mode on odd sizes against a brute-force window max
 * (windows clipped at the input's edge). */
static void test_numeric_maxpool_ceil(void)
{
    static const int64_t cases[][5] = {   /* h, w, kernel, stride, pad */
        { 7, 9, 2, 2, 0 }, { 5, 5, 2, 2, 0 }, { 7, 7, 3, 2, 1 }, { 5, 11, 3, 3, 1 } };

    for (size_t t = 0; t < sizeof(cases) / sizeof(cases[0]); t++) {
        int64_t h = cases[t][0], w = cases[t][1], k = cases[t][2], s = cases[t][3];
        int64_t p = cases[t][4], x_dims[] = { 1, 1, h, w };
        float x[121];
        unsigned seed = (unsigned)t + 7;
        onnx_build *b = onnx_build_new(13);
        kiln_graph *g;

        random_fill(x, (size_t)(h * w), &seed, -1.0f, 1.0f);
        onnx_build_init_f32(b, "x", 4, x_dims, x);
        Onnx__NodeProto *n = onnx_build_node(b, "MaxPool", "pool", (const char *[]){ "x", NULL },
                                             (const char *[]){ "y", NULL });
        onnx_build_attr_ints(b, n, "kernel_shape", 2, (const int64_t[]){ k, k });
        onnx_build_attr_ints(b, n, "strides", 2, (const int64_t[]){ s, s });
        onnx_build_attr_ints(b, n, "pads", 4, (const int64_t[]){ p, p, p, p });
        onnx_build_attr_int(b, n, "ceil_mode", 1);
        onnx_build_output(b, "y");
        const graph_tensor *y = fold_single(b, &g);
        int64_t oh = (h + 2 * p - k + s - 1) / s + 1, ow = (w + 2 * p - k + s - 1) / s + 1;
        if ((oh - 1) * s >= h + p)
            oh--;
        if ((ow - 1) * s >= w + p)
            ow--;
        int bad = !y || y->dims[2] != oh || y->dims[3] != ow;
        for (int64_t i = 0; !bad && i < oh; i++)
            for (int64_t j = 0; j < ow; j++) {
                float best = -INFINITY;
                for (int64_t a = i * s - p; a < i * s - p + k; a++)
                    for (int64_t c = j * s - p; c < j * s - p + k; c++)
                        if (a >= 0 && a < h && c >= 0 && c < w && x[a * w + c] > best)
                            best = x[a * w + c];
                bad |= y->f32[i * ow + j] != best;
            }
        CHECK(!bad);
        graph_free(g);
        onnx_build_free(b);
    }
}

/* Every folding, fusion and shape case, then the numeric ones. */
/* Two Convs share one weight, each followed by its own BN: folding the
 * first must leave the shared weight alone (a new constant), the second
 * may then scale it in place; each Conv ends with w * s_k / sqrt(v_k + e)
 * and the bias the BN gives.  (One output, the sum: folding keeps only
 * the first graph output.) */
static void test_bn_shared_weight(void)
{
    static const int64_t x_dims[] = { 1, 2, 4, 4 }, w_dims[] = { 3, 2, 1, 1 }, m_dims[] = { 3 };
    const float w[6] = { 1.0f, -2.0f, 0.5f, 4.0f, -1.5f, 3.0f };
    const float s[2][3] = { { 2.0f, 0.5f, 1.0f }, { -1.0f, 3.0f, 0.25f } };
    const float beta[3] = { 0.1f, 0.2f, 0.3f }, mean[3] = { 0.5f, -0.5f, 0.0f };
    const float var[3] = { 1.0f, 4.0f, 0.25f };
    onnx_build *b = onnx_build_new(13);

    onnx_build_input(b, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 4, x_dims);
    onnx_build_init_f32(b, "w", 4, w_dims, w);
    onnx_build_init_f32(b, "s0", 1, m_dims, s[0]);
    onnx_build_init_f32(b, "s1", 1, m_dims, s[1]);
    onnx_build_init_f32(b, "beta", 1, m_dims, beta);
    onnx_build_init_f32(b, "mean", 1, m_dims, mean);
    onnx_build_init_f32(b, "var", 1, m_dims, var);
    for (int k = 0; k < 2; k++) {
        char c[8], y[8], sk[8];
        snprintf(c, sizeof(c), "c%d", k);
        snprintf(y, sizeof(y), "y%d", k);
        snprintf(sk, sizeof(sk), "s%d", k);
        onnx_build_node(b, "Conv", c, (const char *[]){ "x", "w", NULL }, (const char *[]){ c, NULL });
        Onnx__NodeProto *n = onnx_build_node(b, "BatchNormalization", y,
                                             (const char *[]){ c, sk, "beta", "mean", "var", NULL },
                                             (const char *[]){ y, NULL });
        onnx_build_attr_float(b, n, "epsilon", 0.0f);
    }
    /* Mul, not Add: an Add of two single-use Conv outputs would be fused
       into the second Conv as its residual (graph_fuse_residual) */
    onnx_build_node(b, "Mul", "prod", (const char *[]){ "y0", "y1", NULL },
                    (const char *[]){ "y", NULL });
    onnx_build_output(b, "y");
    graph_fold_stats stats;
    kiln_graph *g = build_and_fold(b, NULL, &stats);
    onnx_build_free(b);
    if (!g)
        return;
    CHECK(stats.bn_folded == 2 && g->nnodes == 3);
    if (g->nnodes == 3) {
        CHECK(g->nodes[0].inputs[1] != g->nodes[1].inputs[1]);
        for (int k = 0; k < 2; k++) {
            const graph_tensor *wf = &g->tensors[g->nodes[k].inputs[1]];
            const graph_tensor *bf = &g->tensors[g->nodes[k].inputs[2]];
            for (int o = 0; o < 3; o++) {
                double scale = s[k][o] / sqrt((double)var[o]);
                for (int e = 0; e < 2; e++)
                    CHECK(fabs(wf->f32[o * 2 + e] - w[o * 2 + e] * scale) < 1e-5);
                CHECK(fabs(bf->f32[o] - (beta[o] - mean[o] * scale)) < 1e-5);
            }
        }
    }
    graph_free(g);
}

int main(void)
{
    bn_fold_case(3, 5, 1, 1, 0);
    bn_fold_case(4, 6, 2, 0, 1);
    bn_fold_case(8, 8, 8, 1, 1);
    test_bn_shared_weight();
    test_bn_lowered();
    test_mini_unet();
    test_window_sizes();
    test_resize_sizes();
    test_old_forms();
    test_runtime_only();
    test_torch_upsample_chain();
    test_numeric_dilated_conv();
    test_numeric_resize_half_pixel();
    test_numeric_maxpool_ceil();
    return test_summary("test_graph_fold");
}
