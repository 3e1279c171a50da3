/* Tests of the guided filter (engine/guided_filter.c) against a host
 * reference written here in double precision from He, Sun and Tang's
 * definition: box means over (2r+1)^2 windows clipped at the border and
 * divided by the number of pixels inside (summed directly, not slid),
 * var and cov from the raw moments, the 3x3 system of a colour guide
 * inverted through its cofactors.
 *
 * Bar: max |q - q_ref| <= 1e-5 over every pixel, for gray and colour
 * guides, radii 1, 4, 16 and one larger than the image, eps 1e-2 down
 * to 1e-6, on random images, smooth images (small variances, where the
 * raw moments cancel), a smooth guide with a random source (large a and
 * b of opposite sign) and nearly dependent colour channels; a flat guide
 * and the smallest eps accepted (1e-10); plus 1x1, one-row and
 * one-column images.  Bad arguments must fail with
 * KILN_E_INVAL and acquire nothing; a pool too small or a failed buffer
 * creation with KILN_E_NOMEM and nothing leaked.  Timings are printed,
 * never asserted.  On a device with fp64 the accuracy tests run twice:
 * with the double kernels and, through KILN_NO_FP64, with the
 * float-float ones that devices without fp64 use. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "matting.h"
#include "testutil.h"

#define GF_TOL 1e-5

/* ---- host reference in double ---- */

/* Box mean of a w x h plane: for each pixel the mean over the pixels
 * within r in x and y (window clipped at the border), summed directly
 * (horizontal, then vertical). */
static void ref_box_mean(const double *in, uint32_t w, uint32_t h, uint32_t r, double *out)
{
    double *tmp = test_xmalloc((size_t)w * h, sizeof(double));

    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            uint32_t lo = x > r ? x - r : 0;
            uint32_t hi = (uint64_t)x + r < w ? x + r : w - 1;
            double s = 0.0;
            for (uint32_t k = lo; k <= hi; k++)
                s += in[(size_t)y * w + k];
            tmp[(size_t)y * w + x] = s / (hi - lo + 1);
        }
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            uint32_t lo = y > r ? y - r : 0;
            uint32_t hi = (uint64_t)y + r < h ? y + r : h - 1;
            double s = 0.0;
            for (uint32_t k = lo; k <= hi; k++)
                s += tmp[(size_t)k * w + x];
            out[(size_t)y * w + x] = s / (hi - lo + 1);
        }
    free(tmp);
}

/* The guided filter in double: guide of `ch` planes (1 or 3), source p,
 * output q (one plane). */
static void ref_guided(const float *guide, uint32_t ch, const float *src, uint32_t w,
                       uint32_t h, uint32_t r, double eps, double *q)
{
    size_t n = (size_t)w * h;
    /* mean I (ch), mean p, E[I_c I_d] (6), E[I_c p] (ch), a (ch), b */
    double *buf = test_xmalloc(n * 32, sizeof(double));
    double *tmp = test_xmalloc(n, sizeof(double));
    double *mI = buf, *mp = buf + 3 * n, *mII = buf + 4 * n, *mIp = buf + 10 * n;
    double *a = buf + 13 * n, *b = buf + 16 * n, *ma = buf + 17 * n, *mb = buf + 20 * n;
    int pair[3][3], k = 0;

    for (uint32_t c = 0; c < ch; c++)
        for (uint32_t d = c; d < ch; d++)
            pair[c][d] = pair[d][c] = k++;
    for (uint32_t c = 0; c < ch; c++) {
        for (size_t i = 0; i < n; i++)
            tmp[i] = guide[c * n + i];
        ref_box_mean(tmp, w, h, r, mI + c * n);
        for (size_t i = 0; i < n; i++)
            tmp[i] = (double)guide[c * n + i] * src[i];
        ref_box_mean(tmp, w, h, r, mIp + c * n);
        for (uint32_t d = c; d < ch; d++) {
            for (size_t i = 0; i < n; i++)
                tmp[i] = (double)guide[c * n + i] * guide[d * n + i];
            ref_box_mean(tmp, w, h, r, mII + (size_t)pair[c][d] * n);
        }
    }
    for (size_t i = 0; i < n; i++)
        tmp[i] = src[i];
    ref_box_mean(tmp, w, h, r, mp);
    for (size_t i = 0; i < n; i++) {
        double s[3][3] = { { 0 } }, v[3] = { 0, 0, 0 }, cof[3][3], dot = 0.0;
        for (uint32_t c = 0; c < ch; c++) {
            v[c] = mIp[c * n + i] - mI[c * n + i] * mp[i];
            for (uint32_t d = 0; d < ch; d++)
                s[c][d] = mII[(size_t)pair[c][d] * n + i] - mI[c * n + i] * mI[d * n + i] +
                          (c == d ? eps : 0.0);
        }
        if (ch == 1) {
            a[i] = v[0] / s[0][0];
        } else {
            double det;

            cof[0][0] = s[1][1] * s[2][2] - s[1][2] * s[2][1];
            cof[0][1] = s[0][2] * s[2][1] - s[0][1] * s[2][2];
            cof[0][2] = s[0][1] * s[1][2] - s[0][2] * s[1][1];
            cof[1][1] = s[0][0] * s[2][2] - s[0][2] * s[2][0];
            cof[1][2] = s[0][2] * s[1][0] - s[0][0] * s[1][2];
            cof[2][2] = s[0][0] * s[1][1] - s[0][1] * s[1][0];
            cof[1][0] = cof[0][1];
            cof[2][0] = cof[0][2];
            cof[2][1] = cof[1][2];
            det = s[0][0] * cof[0][0] + s[0][1] * cof[0][1] + s[0][2] * cof[0][2];
            for (int c = 0; c < 3; c++)
                a[c * n + i] = (cof[c][0] * v[0] + cof[c][1] * v[1] + cof[c][2] * v[2]) / det;
        }
        for (uint32_t c = 0; c < ch; c++)
            dot += a[c * n + i] * mI[c * n + i];
        b[i] = mp[i] - dot;
    }
    for (uint32_t c = 0; c < ch; c++)
        ref_box_mean(a + c * n, w, h, r, ma + c * n);
    ref_box_mean(b, w, h, r, mb);
    for (size_t i = 0; i < n; i++) {
        q[i] = mb[i];
        for (uint32_t c = 0; c < ch; c++)
            q[i] += ma[c * n + i] * guide[c * n + i];
    }
    free(tmp);
    free(buf);
}

/* Returns the larger of two differences, NaN when either is NaN (a
 * failed case reports NaN). */
static double worse(double a, double b)
{
    return isnan(a) || isnan(b) ? NAN : a > b ? a : b;
}

/* ---- cases ---- */

enum { IMG_RANDOM, IMG_SMOOTH, IMG_SMOOTH_GUIDE, IMG_DEPENDENT, IMG_FLAT };

/* Fills a guide of `ch` planes and a source for the image kind:
 * random (both uniform), smooth (both slow waves: small variances),
 * smooth guide with a random source (large a and b), dependent (colour
 * channels nearly proportional, source a smooth function plus noise),
 * flat (a constant guide: Sigma = 0, random source). */
static void fill_case(int kind, uint32_t w, uint32_t h, uint32_t ch, float *guide,
                      float *src)
{
    size_t n = (size_t)w * h;

    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            double base = 0.5 + 0.3 * sin(0.021 * x + 0.013 * y);
            for (uint32_t c = 0; c < ch; c++) {
                if (kind == IMG_RANDOM)
                    guide[c * n + i] = test_rng_unit();
                else if (kind == IMG_FLAT)
                    guide[c * n + i] = 0.25f + 0.25f * (float)c;
                else if (kind == IMG_DEPENDENT)
                    guide[c * n + i] = (float)(base * (0.9 + 0.05 * c)) + 1e-3f * test_rng_unit();
                else
                    guide[c * n + i] = (float)(0.5 + 0.3 * sin(0.021 * x + 0.013 * y + c) +
                                               0.1 * cos(0.017 * y - 0.007 * x * c));
            }
            if (kind == IMG_RANDOM || kind == IMG_SMOOTH_GUIDE || kind == IMG_FLAT)
                src[i] = test_rng_unit();
            else if (kind == IMG_DEPENDENT)
                src[i] = (float)(0.2 + 0.6 * base) + 0.01f * test_rng_unit();
            else
                src[i] = (float)(0.4 + 0.35 * cos(0.015 * x - 0.02 * y));
        }
}

static const char *const kind_names[] = { "random", "smooth", "smooth guide", "dependent",
                                          "flat" };

/* Runs one case on the device and against the reference; returns the
 * largest |difference| and counts a failure above GF_TOL. */
static double gf_case(kiln_device *dev, int kind, uint32_t w, uint32_t h, uint32_t ch,
                      uint32_t r, float eps)
{
    size_t n = (size_t)w * h;
    float *guide = test_xmalloc(n * ch, sizeof(float)), *src = test_xmalloc(n, sizeof(float));
    float *got = test_xmalloc(n, sizeof(float));
    double *want = test_xmalloc(n, sizeof(double)), worst = NAN;
    dev_image g, s, out;

    fill_case(kind, w, h, ch, guide, src);
    CHECK_OK(test_put_floats(dev, w, h, ch, guide, &g));
    CHECK_OK(test_put_floats(dev, w, h, 1, src, &s));
    CHECK_OK(op_guided_filter(dev, &g, &s, r, eps, &out));
    CHECK(out.buf && out.width == w && out.height == h && out.channels == 1);
    if (out.buf) {
        CHECK_OK(test_get_floats(dev, &out, got));
        ref_guided(guide, ch, src, w, h, r, eps, want);
        worst = 0.0;
        for (size_t i = 0; i < n; i++) {
            double d = fabs(got[i] - want[i]);
            if (d > worst || isnan(d))
                worst = d;
        }
        test_checks++;
        if (!(worst <= GF_TOL)) {
            test_failures++;
            fprintf(stderr, "guided filter %s %ux%u guide %u r %u eps %g: max |d| %.3g\n",
                    kind_names[kind], (unsigned)w, (unsigned)h, (unsigned)ch, (unsigned)r,
                    (double)eps, worst);
        }
    }
    dev_image_release(dev, &out);
    dev_image_release(dev, &s);
    dev_image_release(dev, &g);
    free(guide);
    free(src);
    free(got);
    free(want);
    return worst;
}

/* Every kind, both guides, radii 1, 4, 16 and past the image, eps 1e-2
 * to 1e-6, and the degenerate sizes; prints the largest difference per
 * guide and kind. */
static void test_accuracy(kiln_device *dev)
{
    static const uint32_t radii[] = { 1, 4, 16, 300 };
    static const float epss[] = { 1e-2f, 1e-4f, 1e-6f };
    static const uint32_t sizes[][2] = { { 1, 1 }, { 1, 57 }, { 61, 1 }, { 2, 3 } };

    for (uint32_t ch = 1; ch <= 3; ch += 2) {
        for (int kind = IMG_RANDOM; kind <= IMG_DEPENDENT; kind++) {
            double worst = 0.0;
            for (size_t ri = 0; ri < sizeof(radii) / sizeof(radii[0]); ri++)
                for (size_t ei = 0; ei < sizeof(epss) / sizeof(epss[0]); ei++) {
                    uint32_t w = radii[ri] == 16 ? 150 : 83, h = radii[ri] == 16 ? 97 : 59;
                    worst = worse(worst, gf_case(dev, kind, w, h, ch, radii[ri], epss[ei]));
                }
            printf("guide %u, %-12s radii 1/4/16/300, eps 1e-2..1e-6: max |d| %.2e\n",
                   (unsigned)ch, kind_names[kind], worst);
        }
        for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
            double worst = 0.0;
            for (size_t ri = 0; ri < sizeof(radii) / sizeof(radii[0]); ri++)
                worst = worse(worst, gf_case(dev, IMG_RANDOM, sizes[si][0], sizes[si][1], ch,
                                            radii[ri], 1e-4f));
            printf("guide %u, %ux%u, radii 1/4/16/300: max |d| %.2e\n", (unsigned)ch,
                   (unsigned)sizes[si][0], (unsigned)sizes[si][1], worst);
        }
        gf_case(dev, IMG_RANDOM, 40, 30, ch, 0, 1e-3f);
        gf_case(dev, IMG_SMOOTH, 40, 30, ch, UINT32_MAX, 1e-3f);
        /* The smallest eps, where a window of a flat guide leaves only
         * eps on the diagonal. */
        printf("guide %u, flat/dependent, eps 1e-10: max |d| %.2e\n", (unsigned)ch,
               worse(gf_case(dev, IMG_FLAT, 45, 31, ch, 3, 1e-10f),
                     gf_case(dev, IMG_DEPENDENT, 45, 31, ch, 3, 1e-10f)));
    }
}

/* Times 1024x1024 with gray and colour guides at radius 8 (printed). */
static void test_timing(kiln_device *dev)
{
    const uint32_t w = 1024, h = 1024;
    size_t n = (size_t)w * h;
    float *guide = test_xmalloc(3 * n, sizeof(float)), *src = test_xmalloc(n, sizeof(float));

    fill_case(IMG_SMOOTH_GUIDE, w, h, 3, guide, src);
    for (uint32_t ch = 1; ch <= 3; ch += 2) {
        dev_image g, s, out;
        double best = 1e30;

        CHECK_OK(test_put_floats(dev, w, h, ch, guide, &g));
        CHECK_OK(test_put_floats(dev, w, h, 1, src, &s));
        for (int run = 0; run < 4; run++) {
            double t0 = test_now_ms();
            CHECK_OK(op_guided_filter(dev, &g, &s, 8, 1e-4f, &out));
            CHECK_OK(device_finish(dev));
            if (run > 0)
                best = fmin(best, test_now_ms() - t0);
            dev_image_release(dev, &out);
        }
        printf("guided filter 1024x1024, guide %u, radius 8: %.2f ms\n", (unsigned)ch, best);
        dev_image_release(dev, &s);
        dev_image_release(dev, &g);
    }
    free(guide);
    free(src);
}

/* Checks that a failed op left its output empty. */
#define CHECK_EMPTY(img) CHECK((img).buf == NULL && (img).width == 0 && (img).channels == 0)

/* Bad arguments: KILN_E_INVAL, output empty, the ledger unchanged. */
static void test_errors(kiln_device *dev)
{
    float *data = test_xmalloc(30 * 20 * 3, sizeof(float));
    dev_image g1, g2, g3, s, s3, s_small, empty, out;
    pool_ledger before, after;

    for (size_t i = 0; i < 30 * 20 * 3; i++)
        data[i] = test_rng_unit();
    memset(&empty, 0, sizeof(empty));
    CHECK_OK(test_put_floats(dev, 30, 20, 1, data, &g1));
    CHECK_OK(test_put_floats(dev, 30, 20, 2, data, &g2));
    CHECK_OK(test_put_floats(dev, 30, 20, 3, data, &g3));
    CHECK_OK(test_put_floats(dev, 30, 20, 1, data, &s));
    CHECK_OK(test_put_floats(dev, 30, 20, 3, data, &s3));
    CHECK_OK(test_put_floats(dev, 30, 19, 1, data, &s_small));
    pool_ledger_get(dev->pool, &before);

    CHECK_STATUS(op_guided_filter(dev, &g2, &s, 2, 1e-3f, &out), KILN_E_INVAL);
    CHECK_MSG("need 1 or 3");
    CHECK_EMPTY(out);
    CHECK_STATUS(op_guided_filter(dev, &g3, &s3, 2, 1e-3f, &out), KILN_E_INVAL);
    CHECK_MSG("source has 3 channels");
    CHECK_STATUS(op_guided_filter(dev, &g3, &s_small, 2, 1e-3f, &out), KILN_E_INVAL);
    CHECK_MSG("differ in size");
    CHECK_STATUS(op_guided_filter(dev, &g1, &empty, 2, 1e-3f, &out), KILN_E_INVAL);
    CHECK_MSG("empty image");
    CHECK_STATUS(op_guided_filter(dev, NULL, &s, 2, 1e-3f, &out), KILN_E_INVAL);
    CHECK_STATUS(op_guided_filter(dev, &g1, &s, 2, 0.0f, &out), KILN_E_INVAL);
    CHECK_MSG("eps");
    CHECK_STATUS(op_guided_filter(dev, &g3, &s, 2, 1e-11f, &out), KILN_E_INVAL);
    CHECK_STATUS(op_guided_filter(dev, &g1, &s, 2, -1e-3f, &out), KILN_E_INVAL);
    CHECK_STATUS(op_guided_filter(dev, &g1, &s, 2, NAN, &out), KILN_E_INVAL);
    CHECK_STATUS(op_guided_filter(dev, &g1, &s, 2, INFINITY, &out), KILN_E_INVAL);
    CHECK_EMPTY(out);
    CHECK_STATUS(op_guided_filter(dev, &g1, &s, 2, 1e-3f, NULL), KILN_E_INVAL);
    CHECK_STATUS(op_guided_filter(NULL, &g1, &s, 2, 1e-3f, &out), KILN_E_INVAL);
    CHECK_MSG("NULL device");
    CHECK_EMPTY(out);
    out = s;
    CHECK_STATUS(op_guided_filter(dev, &g1, &out, 2, 1e-3f, &out), KILN_E_INVAL);
    CHECK_MSG("must not be an input");
    CHECK(out.buf == s.buf);
    memset(&out, 0, sizeof(out));

    pool_ledger_get(dev->pool, &after);
    CHECK(after.live_objects == before.live_objects);
    CHECK(after.live_bytes == before.live_bytes);
    dev_image_release(dev, &s_small);
    dev_image_release(dev, &s3);
    dev_image_release(dev, &s);
    dev_image_release(dev, &g3);
    dev_image_release(dev, &g2);
    dev_image_release(dev, &g1);
    free(data);
}

/* A pool too small for the temporaries, then every buffer creation of
 * the op failing in turn: KILN_E_NOMEM, output empty, only the inputs
 * live afterwards. */
static void test_memory(void)
{
    const uint32_t w = 128, h = 96;
    size_t n = (size_t)w * h;
    float *guide = test_xmalloc(3 * n, sizeof(float)), *src = test_xmalloc(n, sizeof(float));
    int done = 0, failed = 0;

    fill_case(IMG_RANDOM, w, h, 3, guide, src);
    {
        /* Inputs 144 + 48 KiB; output 48 KiB; the colour sums need
         * 1.2 MiB. */
        kiln_device *dev = test_device_open(1024 * 1024);
        dev_image g, s, out;
        pool_ledger ledger;

        CHECK_OK(test_put_floats(dev, w, h, 3, guide, &g));
        CHECK_OK(test_put_floats(dev, w, h, 1, src, &s));
        CHECK_STATUS(op_guided_filter(dev, &g, &s, 4, 1e-3f, &out), KILN_E_NOMEM);
        CHECK_MSG("guided filter");
        CHECK_EMPTY(out);
        pool_ledger_get(dev->pool, &ledger);
        CHECK(ledger.live_objects == 2);
        dev_image_release(dev, &s);
        dev_image_release(dev, &g);
        test_device_close(dev);
    }
    for (uint64_t nth = 1; nth <= 8 && !done; nth++) {
        kiln_device *dev = test_device_open(0);
        dev_image g, s, out;
        pool_ledger ledger;
        kiln_status st;

        CHECK_OK(test_put_floats(dev, w, h, 3, guide, &g));
        CHECK_OK(test_put_floats(dev, w, h, 1, src, &s));
        pool_fail_nth_creation(dev->pool, nth);
        st = op_guided_filter(dev, &g, &s, 4, 1e-3f, &out);
        if (st == KILN_OK) {
            done = 1;
            dev_image_release(dev, &out);
        } else {
            CHECK_STATUS(st, KILN_E_NOMEM);
            CHECK_EMPTY(out);
            failed++;
        }
        pool_ledger_get(dev->pool, &ledger);
        CHECK(ledger.live_objects == 2);
        dev_image_release(dev, &s);
        dev_image_release(dev, &g);
        test_device_close(dev);
    }
    CHECK(done);
    printf("fault injection: %d failed creations unwound cleanly\n", failed);
    free(guide);
    free(src);
}

/* Runs the accuracy, timing and error tests on the test device, then the
 * memory tests on devices of their own. */
int main(void)
{
    kiln_device *dev = test_device_open(0);

    test_rng_seed(0x1B873593u);

    printf("arithmetic: %s\n", dev->info.fp64 ? "double (device has fp64)" : "float-float");
    test_accuracy(dev);
    test_timing(dev);
    test_errors(dev);
    if (dev->info.fp64) {
        /* The float-float kernels, used on devices without fp64. */
        setenv("KILN_NO_FP64", "1", 1);
        printf("arithmetic: float-float (KILN_NO_FP64)\n");
        test_accuracy(dev);
        test_timing(dev);
        unsetenv("KILN_NO_FP64");
    }
    test_device_close(dev);
    test_memory();
    return test_summary("test_guided_filter");
}
