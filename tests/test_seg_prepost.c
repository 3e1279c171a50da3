/* Tests of rembg's pre/post-processing on the device (engine/seg_prepost.c)
 * against host references written here from the libraries rembg calls:
 *
 * - PIL's Image.resize(LANCZOS) on 8-bit images (Pillow's Resample.c):
 *   coefficients in double, normalised, converted to 22-bit fixed point
 *   (round half away from zero); horizontal pass then vertical, each
 *   accumulating from 1 << 21 and clipping acc >> 22 to 0..255; a pass
 *   whose size does not change is skipped.
 * - numpy: max over the resized image, x / max(m, 1e-6), (x - mean) / std
 *   in double, then float32; (pred - mi) / (ma - mi) and * 255 in float32
 *   and astype(uint8) truncation.
 * - OpenCV: erode/dilate by the 3x3 cross with the border ignored, the
 *   bit-exact 8-bit GaussianBlur 5x5 sigma 2 (taps 39 57 64 57 39 / 256,
 *   reflect-101, rounded (acc + 2^15) >> 16), threshold 127.
 *
 * 8-bit values must match exactly (no tolerance); the float network input
 * of seg_preprocess within 2e-6 (numpy computes it in double and rounds
 * once, the device in float); the largest difference is printed.  Every
 * run ends with device_close == KILN_OK (the pool ledger empty). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev_image.h"
#include "image.h"
#include "model_registry.h"
#include "nn_ops.h"
#include "seg_prepost.h"
#include "testutil.h"

#define PRE_TOL 2e-6

/* ---- host references ---- */

/* PIL's Lanczos-3 kernel: sinc(x) sinc(x / 3) on [-3, 3). */
static double ref_lanczos(double x)
{
    double a, b;
    if (!(x >= -3.0 && x < 3.0))
        return 0.0;
    a = x == 0.0 ? 1.0 : sin(M_PI * x) / (M_PI * x);
    b = x == 0.0 ? 1.0 : sin(M_PI * x / 3) / (M_PI * x / 3);
    return a * b;
}

/* One resampling axis of PIL: window starts, tap counts and fixed-point
 * taps (ksize per output coordinate). */
typedef struct ref_axis {
    int ksize;
    int *first;
    int *count;
    int32_t *taps;
    double *dtaps;     /* the same taps before fixed point */
} ref_axis;

/* Computes PIL's coefficients for in -> out samples. */
static void ref_axis_init(ref_axis *a, int in, int out)
{
    double scale = (double)in / out;
    double fs = scale < 1.0 ? 1.0 : scale;
    double support = 3.0 * fs;

    a->ksize = (int)ceil(support) * 2 + 1;
    a->first = test_xmalloc((size_t)out, sizeof(int));
    a->count = test_xmalloc((size_t)out, sizeof(int));
    a->taps = test_xmalloc((size_t)out * a->ksize, sizeof(int32_t));
    a->dtaps = test_xmalloc((size_t)out * a->ksize, sizeof(double));
    for (int o = 0; o < out; o++) {
        double centre = (o + 0.5) * scale, sum = 0.0;
        int lo = (int)(centre - support + 0.5), hi = (int)(centre + support + 0.5);
        double *w = a->dtaps + (size_t)o * a->ksize;
        if (lo < 0)
            lo = 0;
        if (hi > in)
            hi = in;
        a->first[o] = lo;
        a->count[o] = hi - lo;
        for (int i = lo; i < hi; i++) {
            w[i - lo] = ref_lanczos((i - centre + 0.5) / fs);
            sum += w[i - lo];
        }
        for (int i = 0; i < hi - lo; i++) {
            if (sum != 0.0)
                w[i] /= sum;
            a->taps[(size_t)o * a->ksize + i] =
                (int32_t)(w[i] < 0 ? w[i] * 4194304.0 - 0.5 : w[i] * 4194304.0 + 0.5);
        }
    }
}

static void ref_axis_free(ref_axis *a)
{
    free(a->first);
    free(a->count);
    free(a->taps);
    free(a->dtaps);
}

/* PIL's clip8 of a fixed-point sum. */
static uint8_t ref_clip8(int64_t acc)
{
    int64_t v = acc >> 22;
    if (acc < 0)
        return 0;
    return (uint8_t)(v > 255 ? 255 : v);
}

/* PIL's 8-bit Lanczos resize of `c` planes w x h to ow x oh (planar). */
static void ref_pil_resize(const uint8_t *src, int w, int h, int c, int ow, int oh,
                           uint8_t *dst)
{
    uint8_t *mid = test_xmalloc((size_t)ow * h * c, 1);
    ref_axis ax, ay;

    if (ow != w) {
        ref_axis_init(&ax, w, ow);
        for (int r = 0; r < h * c; r++)
            for (int o = 0; o < ow; o++) {
                int64_t acc = 1 << 21;
                for (int k = 0; k < ax.count[o]; k++)
                    acc += (int64_t)src[(size_t)r * w + ax.first[o] + k] *
                           ax.taps[(size_t)o * ax.ksize + k];
                mid[(size_t)r * ow + o] = ref_clip8(acc);
            }
        ref_axis_free(&ax);
    } else {
        memcpy(mid, src, (size_t)w * h * c);
    }
    if (oh != h) {
        ref_axis_init(&ay, h, oh);
        for (int ch = 0; ch < c; ch++)
            for (int o = 0; o < oh; o++)
                for (int x = 0; x < ow; x++) {
                    int64_t acc = 1 << 21;
                    for (int k = 0; k < ay.count[o]; k++)
                        acc += (int64_t)mid[((size_t)ch * h + ay.first[o] + k) * ow + x] *
                               ay.taps[(size_t)o * ay.ksize + k];
                    dst[((size_t)ch * oh + o) * ow + x] = ref_clip8(acc);
                }
        ref_axis_free(&ay);
    } else {
        memcpy(dst, mid, (size_t)ow * h * c);
    }
    free(mid);
}

/* numpy's float32 (pred - mi) / (ma - mi) * 255 -> uint8 (NaN-free input). */
static void ref_quantise_pred(const float *pred, size_t n, uint8_t *q)
{
    float mi = pred[0], ma = pred[0];
    for (size_t i = 1; i < n; i++) {
        mi = pred[i] < mi ? pred[i] : mi;
        ma = pred[i] > ma ? pred[i] : ma;
    }
    for (size_t i = 0; i < n; i++) {
        volatile float d = pred[i] - mi, r, t;
        if (!(ma > mi)) {
            q[i] = 0;
            continue;
        }
        r = d / (ma - mi);
        t = r * 255.0f;
        q[i] = (uint8_t)t;
    }
}

/* OpenCV's reflect-101 index. */
static int ref_reflect(int p, int n)
{
    if (n == 1)
        return 0;
    while (p < 0 || p >= n)
        p = p < 0 ? -p : 2 * n - 2 - p;
    return p;
}

/* OpenCV's erode (dilate = 0) / dilate by the 3x3 cross, border ignored. */
static void ref_morph(const uint8_t *src, int w, int h, int dilate, uint8_t *dst)
{
    static const int dx[5] = { 0, -1, 1, 0, 0 }, dy[5] = { 0, 0, 0, -1, 1 };
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int v = src[y * w + x];
            for (int k = 1; k < 5; k++) {
                int xx = x + dx[k], yy = y + dy[k];
                if (xx < 0 || yy < 0 || xx >= w || yy >= h)
                    continue;
                int s = src[yy * w + xx];
                v = dilate ? (s > v ? s : v) : (s < v ? s : v);
            }
            dst[y * w + x] = (uint8_t)v;
        }
}

/* The Gaussian taps by the textbook formula, rounded to /256 (an
 * independent check of seg_gaussian_taps). */
static void ref_gauss_taps(int taps[5])
{
    double g[5], sum = 0.0;
    for (int i = 0; i < 5; i++) {
        g[i] = exp(-(double)((i - 2) * (i - 2)) / (2.0 * 2.0 * 2.0));
        sum += g[i];
    }
    for (int i = 0; i < 5; i++)
        taps[i] = (int)lrint(g[i] / sum * 256.0);
}

/* rembg's post_process on an 8-bit mask, in place. */
static void ref_post_process(uint8_t *m, int w, int h)
{
    uint8_t *t = test_xmalloc((size_t)w * h, 1);
    uint32_t *rows = test_xmalloc((size_t)w * h, sizeof(uint32_t));
    int taps[5];

    ref_gauss_taps(taps);
    ref_morph(m, w, h, 0, t);
    ref_morph(t, w, h, 1, m);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint32_t acc = 0;
            for (int j = 0; j < 5; j++)
                acc += (uint32_t)taps[j] * m[y * w + ref_reflect(x + j - 2, w)];
            rows[y * w + x] = acc;
        }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint32_t acc = 0, v;
            for (int j = 0; j < 5; j++)
                acc += (uint32_t)taps[j] * rows[ref_reflect(y + j - 2, h) * w + x];
            v = (acc + 32768u) >> 16;
            m[y * w + x] = v < 127 ? 0 : 255;
        }
    free(rows);
    free(t);
}

/* ---- helpers ---- */

/* Counts and prints mismatches of two byte arrays under `label`; one check. */
static void compare_u8(const uint8_t *got, const uint8_t *want, size_t n, const char *label)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (got[i] != want[i]) {
            if (bad < 5)
                fprintf(stderr, "%s: [%zu] got %u want %u\n", label, i, got[i], want[i]);
            bad++;
        }
    }
    test_checks++;
    if (bad) {
        test_failures++;
        fprintf(stderr, "%s: %zu of %zu 8-bit values differ\n", label, bad, n);
    }
}

/* Reads a 1-channel mask image into 8-bit values round(v * 255). */
static void read_mask(kiln_device *dev, const dev_image *mask, uint8_t *out)
{
    size_t n = (size_t)mask->width * mask->height;
    float *f = test_xmalloc(n, sizeof(float));
    CHECK_OK(test_get_floats(dev, mask, f));
    for (size_t i = 0; i < n; i++) {
        float v = f[i] * 255.0f;
        out[i] = (uint8_t)(v <= 0.0f ? 0 : v >= 255.0f ? 255 : lrintf(v));
    }
    free(f);
}

/* ---- preprocess ---- */

/* Runs seg_preprocess on a random (or scaled: values up to `top`) w x h
 * RGB image for `spec`, compares with the reference, returns the largest
 * float difference. */
static double check_preprocess(kiln_device *dev, int w, int h, const model_spec *spec,
                               int top, const char *label)
{
    int s = (int)spec->input_size;
    size_t npix = (size_t)w * h, snpix = (size_t)s * s;
    uint8_t *inter = test_xmalloc(npix * 3, 1);
    uint8_t *planar = test_xmalloc(npix * 3, 1);
    uint8_t *want = test_xmalloc(snpix * 3, 1);
    float *got = test_xmalloc(snpix * 3 + 7, sizeof(float));
    const cl_uint offset = 7;
    host_image host = { (uint32_t)w, (uint32_t)h, 3, 8, inter };
    dev_image rgb;
    pool_buffer *dst = NULL;
    double worst = 0.0;
    size_t bad8 = 0, badf = 0;
    int m = 0;

    for (size_t i = 0; i < npix * 3; i++)
        inter[i] = (uint8_t)(top ? test_rng_next() % (uint32_t)(top + 1) : 0);
    for (size_t p = 0; p < npix; p++)
        for (int c = 0; c < 3; c++)
            planar[c * npix + p] = inter[p * 3 + c];
    ref_pil_resize(planar, w, h, 3, s, s, want);
    for (size_t i = 0; i < snpix * 3; i++)
        m = want[i] > m ? want[i] : m;

    CHECK_OK(dev_image_upload(dev, &host, NULL, NULL, &rgb));
    CHECK_OK(pool_acquire(dev->pool, (snpix * 3 + offset) * sizeof(float), "test.dst", &dst));
    if (rgb.buf && dst) {
        nn_place place = { dst->mem, offset };
        CHECK_OK(seg_preprocess(dev, &rgb, spec, place));
        CHECK_OK(device_finish(dev));
        CHECK(clEnqueueReadBuffer(dev->queue, dst->mem, CL_TRUE, 0,
                                  (snpix * 3 + offset) * sizeof(float), got, 0, NULL,
                                  NULL) == CL_SUCCESS);
        for (int c = 0; c < 3; c++)
            for (size_t p = 0; p < snpix; p++) {
                size_t i = c * snpix + p;
                double mf = m > 0 ? (double)m : 1e-6;
                float ref = (float)(((double)want[i] / mf - (double)spec->mean[c]) /
                                    (double)spec->std[c]);
                float x = got[offset + i];
                long k = lround(((double)x * spec->std[c] + spec->mean[c]) * mf);
                double d = fabs((double)x - (double)ref);
                if (m > 0 && k != want[i])
                    bad8++;
                if (!(d <= PRE_TOL)) {
                    if (badf < 5)
                        fprintf(stderr, "%s: [%d][%zu] got %.9g want %.9g\n", label, c, p,
                                (double)x, (double)ref);
                    badf++;
                }
                if (d > worst || isnan(d))
                    worst = d;
            }
    }
    test_checks += 2;
    if (bad8) {
        test_failures++;
        fprintf(stderr, "%s: %zu resized 8-bit values differ\n", label, bad8);
    }
    if (badf) {
        test_failures++;
        fprintf(stderr, "%s: %zu input values beyond %g\n", label, badf, PRE_TOL);
    }
    printf("%s: %dx%d -> %dx%d, max %d, largest input difference %.3g\n", label, w, h, s, s,
           m, worst);
    if (dst)
        pool_release(dev->pool, dst);
    dev_image_release(dev, &rgb);
    free(got);
    free(want);
    free(planar);
    free(inter);
    return worst;
}

static void test_preprocess(kiln_device *dev)
{
    model_spec small = { "small", 16, { 0.485f, 0.456f, 0.406f }, { 0.229f, 0.224f, 0.225f },
                         "test", NULL };
    model_spec up = { "up", 32, { 0.5f, 0.5f, 0.5f }, { 1.0f, 1.0f, 1.0f }, "test", NULL };

    check_preprocess(dev, 37, 23, &small, 255, "pre 37x23");
    check_preprocess(dev, 16, 16, &small, 255, "pre identity");
    check_preprocess(dev, 16, 9, &small, 255, "pre width only");
    check_preprocess(dev, 10, 7, &up, 255, "pre upscale");
    check_preprocess(dev, 23, 37, &small, 90, "pre dim");
    check_preprocess(dev, 40, 30, &small, 0, "pre black");
    check_preprocess(dev, 400, 300, model_registry_find("u2net"), 255, "pre u2net");
    check_preprocess(dev, 300, 200, model_registry_find("isnet-general-use"), 255, "pre isnet");
}

/* ---- postprocess ---- */

/* Runs seg_postprocess on pred (pw x ph floats, placed at an offset after
 * `lead` garbage floats) to ow x oh and compares with the reference. */
static void check_postprocess(kiln_device *dev, const float *pred, int pw, int ph, int ow,
                              int oh, int post, const char *label)
{
    const uint32_t lead = 5;
    size_t n = (size_t)pw * ph, on = (size_t)ow * oh;
    float *buf = test_xmalloc(n + lead, sizeof(float));
    uint8_t *q = test_xmalloc(n, 1), *want = test_xmalloc(on, 1), *got = test_xmalloc(on, 1);
    dev_image holder, mask;

    memset(&mask, 0, sizeof(mask));
    for (uint32_t i = 0; i < lead; i++)
        buf[i] = i % 2 ? 1e30f : -1e30f;   /* must not reach the min/max */
    memcpy(buf + lead, pred, n * sizeof(float));
    ref_quantise_pred(pred, n, q);
    ref_pil_resize(q, pw, ph, 1, ow, oh, want);
    if (post)
        ref_post_process(want, ow, oh);

    CHECK_OK(test_put_floats(dev, (uint32_t)(n + lead), 1, 1, buf, &holder));
    if (holder.buf) {
        nn_place place = { holder.buf->mem, lead };
        CHECK_OK(seg_postprocess(dev, place, (uint32_t)pw, (uint32_t)ph, (uint32_t)ow,
                                 (uint32_t)oh, post, &mask));
        CHECK_OK(device_finish(dev));
        CHECK(mask.buf && mask.width == (uint32_t)ow && mask.height == (uint32_t)oh &&
              mask.channels == 1);
        if (mask.buf) {
            read_mask(dev, &mask, got);
            compare_u8(got, want, on, label);
            if (post) {
                size_t other = 0, fg = 0;
                for (size_t i = 0; i < on; i++) {
                    other += got[i] != 0 && got[i] != 255;
                    fg += got[i] == 255;
                }
                CHECK(other == 0);
                printf("%s: %zu of %zu pixels foreground\n", label, fg, on);
            }
        }
    }
    dev_image_release(dev, &mask);
    dev_image_release(dev, &holder);
    free(got);
    free(want);
    free(q);
    free(buf);
}

/* Fills n random floats in [lo, hi). */
static float *rand_pred(size_t n, float lo, float hi)
{
    float *p = test_xmalloc(n, sizeof(float));
    for (size_t i = 0; i < n; i++)
        p[i] = lo + (hi - lo) * test_rng_unit();
    return p;
}

/* A smooth blob with noise and a few isolated speckles (which the opening
 * removes). */
static float *blob_pred(int w, int h)
{
    float *p = test_xmalloc((size_t)w * h, sizeof(float));
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float dx = (float)x - 0.45f * w, dy = (float)y - 0.5f * h;
            float r2 = (dx * dx) / (0.06f * w * w) + (dy * dy) / (0.08f * h * h);
            p[y * w + x] = 6.0f * expf(-r2) - 3.0f + 0.6f * (test_rng_unit() - 0.5f);
        }
    p[3 * w + 3] = 3.5f;
    p[(h - 4) * w + w - 5] = 3.5f;
    p[h / 2 * w + 1] = 2.0f;
    return p;
}

static void test_postprocess(kiln_device *dev)
{
    float *p16 = rand_pred(16 * 16, -4.0f, 6.0f);
    float *p37 = rand_pred(37 * 23, -1.0f, 1.0f);
    float *p320 = rand_pred(320 * 320, -8.0f, 3.0f);
    float *p6 = rand_pred(6 * 4, 0.0f, 1.0f);
    float *blob = blob_pred(64, 48);
    float *flat = test_xmalloc(20 * 20, sizeof(float));
    int taps[5], ref_taps[5];

    seg_gaussian_taps(taps);
    ref_gauss_taps(ref_taps);
    CHECK(taps[0] == 39 && taps[1] == 57 && taps[2] == 64 && taps[3] == 57 && taps[4] == 39);
    CHECK(memcmp(taps, ref_taps, sizeof(taps)) == 0);

    check_postprocess(dev, p16, 16, 16, 37, 23, 0, "post 16x16 -> 37x23");
    check_postprocess(dev, p37, 37, 23, 16, 16, 0, "post 37x23 -> 16x16");
    check_postprocess(dev, p16, 16, 16, 16, 16, 0, "post identity");
    check_postprocess(dev, p320, 320, 320, 400, 300, 0, "post 320 -> 400x300");
    check_postprocess(dev, p320, 320, 320, 400, 300, 1, "post 320 -> 400x300 processed");
    check_postprocess(dev, blob, 64, 48, 80, 60, 1, "post blob processed");
    check_postprocess(dev, blob, 64, 48, 64, 48, 1, "post blob same size processed");
    check_postprocess(dev, p6, 6, 4, 1, 3, 1, "post 6x4 -> 1x3 processed");
    check_postprocess(dev, p6, 6, 4, 2, 2, 1, "post 6x4 -> 2x2 processed");
    check_postprocess(dev, p6, 6, 4, 3, 1, 0, "post 6x4 -> 3x1");

    /* max == min: defined as an empty mask. */
    for (int i = 0; i < 20 * 20; i++)
        flat[i] = 0.75f;
    check_postprocess(dev, flat, 20, 20, 30, 10, 0, "post constant");
    check_postprocess(dev, flat, 20, 20, 30, 10, 1, "post constant processed");

    free(flat);
    free(blob);
    free(p6);
    free(p320);
    free(p37);
    free(p16);
}

/* ---- argument errors and pool failures ---- */

static void test_errors(kiln_device *dev)
{
    model_spec small = { "small", 16, { 0.5f, 0.5f, 0.5f }, { 1.0f, 1.0f, 1.0f }, "test", NULL };
    float data[64];
    dev_image gray, rgb, mask;
    nn_place place;

    for (int i = 0; i < 64; i++)
        data[i] = (float)(i % 7) / 7.0f;
    CHECK_OK(test_put_floats(dev, 8, 8, 1, data, &gray));
    CHECK_OK(test_put_floats(dev, 4, 4, 3, data, &rgb));
    if (!gray.buf || !rgb.buf)
        return;
    place.mem = gray.buf->mem;
    place.offset = 0;
    CHECK_STATUS(seg_preprocess(dev, &gray, &small, place), KILN_E_INVAL);
    CHECK_MSG("need 3");
    CHECK_STATUS(seg_preprocess(dev, &rgb, NULL, place), KILN_E_INVAL);
    CHECK_STATUS(seg_preprocess(dev, &rgb, &small, place), KILN_E_INVAL);
    CHECK_MSG("do not fit");
    small.std[1] = 0.0f;
    place.mem = NULL;
    CHECK_STATUS(seg_preprocess(dev, &rgb, &small, place), KILN_E_INVAL);

    place.mem = gray.buf->mem;
    mask.buf = gray.buf;    /* must come back empty */
    CHECK_STATUS(seg_postprocess(dev, place, 8, 8, 0, 5, 0, &mask), KILN_E_INVAL);
    CHECK(mask.buf == NULL);
    CHECK_STATUS(seg_postprocess(dev, place, 9, 8, 4, 4, 0, &mask), KILN_E_INVAL);
    CHECK_MSG("do not fit");
    CHECK(mask.buf == NULL);
    place.offset = 1;
    CHECK_STATUS(seg_postprocess(dev, place, 8, 8, 4, 4, 0, &mask), KILN_E_INVAL);
    place.offset = 0;
    CHECK_STATUS(seg_postprocess(dev, place, 8, 8, 4, 4, 0, NULL), KILN_E_INVAL);

    /* Pool creation failures at every step: an error leaves nothing live
     * (the final ledger check), success gives a mask. */
    for (uint64_t nth = 1; nth <= 8; nth++) {
        kiln_status st;
        pool_fail_creations(dev->pool, nth, 2);
        st = seg_postprocess(dev, place, 8, 8, 61 + (uint32_t)nth, 47, 1, &mask);
        CHECK(st == KILN_OK || st == KILN_E_NOMEM);
        CHECK((st == KILN_OK) == (mask.buf != NULL));
        dev_image_release(dev, &mask);
        pool_fail_creations(dev->pool, nth, 2);
        {
            pool_buffer *dst = NULL;
            if (pool_acquire(dev->pool, 3 * 16 * 16 * sizeof(float) + 4096 * nth, "test.dst",
                             &dst) == KILN_OK) {
                nn_place d = { dst->mem, 0 };
                small.std[1] = 1.0f;
                st = seg_preprocess(dev, &rgb, &small, d);
                CHECK(st == KILN_OK || st == KILN_E_NOMEM);
                pool_release(dev->pool, dst);
            }
        }
        pool_fail_creations(dev->pool, 0, 0);
    }
    CHECK_OK(device_finish(dev));
    dev_image_release(dev, &rgb);
    dev_image_release(dev, &gray);
}

int main(void)
{
    kiln_device *dev = test_device_open(0);

    test_rng_seed(20240611u);
    test_preprocess(dev);
    test_postprocess(dev);
    test_errors(dev);
    CHECK_OK(device_finish(dev));
    test_device_close(dev);
    return test_summary("test_seg_prepost");
}
