/* Tests of multi-level foreground estimation (engine/matting_fg.c):
 *
 * - parity with pymatting 1.1.15's estimate_foreground_ml on the lemur
 *   and astronaut reference data (refdata/matting/README.md says how they
 *   were made), measured as the alpha-weighted mean absolute difference
 *   sum(alpha |F - F_ref|) / (3 sum(alpha)); the bar is 0.02, the test
 *   asserts 1e-3 (the device keeps pymatting's sweep order, so the
 *   difference is at the level of the references' 16-bit quantisation);
 * - synthetic images, a 1024x1024 one included, against a host port of
 *   pymatting's numba loop written here in double (same levels, resizes,
 *   initial colours and in-place raster sweeps), within 1e-3;
 * - alpha all 0 and all 1, a 1x1 image, one-row and one-column images,
 *   the background output optional;
 * - bad arguments (KILN_E_INVAL, outputs empty, nothing acquired), a pool
 *   too small and failed buffer creations (KILN_E_NOMEM, nothing leaked).
 *
 * The reference data directory is $REFDATA_DIR, or
 * $TOP_SRCDIR/../shared/refdata/matting.  When it is missing every other
 * test still runs and the program exits 77 (skip) if they passed.
 * Timings are printed, never asserted. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "matting.h"
#include "ops_image.h"
#include "png_io.h"
#include "testutil.h"

#define SYNTH_TOL 1e-3
#define PARITY_ASSERT 1e-3

/* ---- host port of pymatting's _estimate_fb_ml, in double ---- */

/* Nearest-neighbour resize of `depth` planes, as pymatting's
 * _resize_nearest: source index min(x * w_src / w_dst, w_src - 1). */
static void ref_resize_nearest(const double *src, uint32_t ws, uint32_t hs, double *dst,
                               uint32_t wd, uint32_t hd, uint32_t depth)
{
    for (uint32_t c = 0; c < depth; c++)
        for (uint32_t y = 0; y < hd; y++)
            for (uint32_t x = 0; x < wd; x++) {
                uint64_t xs = (uint64_t)x * ws / wd, ys = (uint64_t)y * hs / hd;
                if (xs > ws - 1)
                    xs = ws - 1;
                if (ys > hs - 1)
                    ys = hs - 1;
                dst[((size_t)c * hd + y) * wd + x] = src[((size_t)c * hs + ys) * ws + xs];
            }
}

/* pymatting's estimate_foreground_ml on planar image (3 planes) and
 * alpha of w0 x h0, written as its numba loop: initial 1x1 colours, levels
 * round(side^(l/n)), nearest resizes, in-place raster sweeps solving the
 * 2x2 system through its inverse.  F and B get 3 planes each.  A 1x1
 * input (where pymatting divides by zero) runs one 1x1 level. */
static void ref_foreground(const float *image, const float *alpha, uint32_t w0,
                           uint32_t h0, const fg_params *p, double *F_out, double *B_out)
{
    static const int dx[4] = { -1, 1, 0, 0 }, dy[4] = { 0, 0, -1, 1 };
    size_t n0 = (size_t)w0 * h0;
    double *img0 = test_xmalloc(3 * n0, sizeof(double)), *alp0 = test_xmalloc(n0, sizeof(double));
    double *Fp = test_xmalloc(3, sizeof(double)), *Bp = test_xmalloc(3, sizeof(double));
    double fsum[3] = { 0, 0, 0 }, bsum[3] = { 0, 0, 0 }, fcount = 0, bcount = 0;
    uint32_t wp = 1, hp = 1, side = w0 > h0 ? w0 : h0, levels = 0;

    for (size_t i = 0; i < 3 * n0; i++)
        img0[i] = image[i];
    for (size_t i = 0; i < n0; i++) {
        alp0[i] = alpha[i];
        for (int c = 0; c < 3; c++) {
            if (alpha[i] > 0.9f)
                fsum[c] += image[c * n0 + i];
            if (alpha[i] < 0.1f)
                bsum[c] += image[c * n0 + i];
        }
        fcount += alpha[i] > 0.9f;
        bcount += alpha[i] < 0.1f;
    }
    for (int c = 0; c < 3; c++) {
        Fp[c] = fsum[c] / (fcount + 1e-5);
        Bp[c] = bsum[c] / (bcount + 1e-5);
    }
    while (((uint64_t)1 << levels) < side)
        levels++;
    for (uint32_t l = 0; l <= levels; l++) {
        uint32_t w = levels ? (uint32_t)nearbyint(pow(w0, (double)l / levels)) : w0;
        uint32_t h = levels ? (uint32_t)nearbyint(pow(h0, (double)l / levels)) : h0;
        size_t n = (size_t)w * h;
        double *I = test_xmalloc(3 * n, sizeof(double)), *A = test_xmalloc(n, sizeof(double));
        double *F = test_xmalloc(3 * n, sizeof(double)), *B = test_xmalloc(3 * n, sizeof(double));
        uint32_t iters = (w <= p->small_size && h <= p->small_size) ? p->small_iterations
                                                                   : p->big_iterations;

        ref_resize_nearest(img0, w0, h0, I, w, h, 3);
        ref_resize_nearest(alp0, w0, h0, A, w, h, 1);
        ref_resize_nearest(Fp, wp, hp, F, w, h, 3);
        ref_resize_nearest(Bp, wp, hp, B, w, h, 3);
        for (uint32_t t = 0; t < iters; t++) {
            for (uint32_t y = 0; y < h; y++) {
                for (uint32_t x = 0; x < w; x++) {
                    size_t i = (size_t)y * w + x;
                    double a0 = A[i], a1 = 1.0 - a0;
                    double a00 = a0 * a0, a01 = a0 * a1, a11 = a1 * a1;
                    double b0[3], b1[3], inv_det, c00, c01, c11;

                    for (int c = 0; c < 3; c++) {
                        b0[c] = a0 * I[c * n + i];
                        b1[c] = a1 * I[c * n + i];
                    }
                    for (int d = 0; d < 4; d++) {
                        int x2 = (int)x + dx[d], y2 = (int)y + dy[d];
                        size_t j;
                        double da;
                        x2 = x2 < 0 ? 0 : x2 > (int)w - 1 ? (int)w - 1 : x2;
                        y2 = y2 < 0 ? 0 : y2 > (int)h - 1 ? (int)h - 1 : y2;
                        j = (size_t)y2 * w + (size_t)x2;
                        da = p->regularization + p->gradient_weight * fabs(a0 - A[j]);
                        a00 += da;
                        a11 += da;
                        for (int c = 0; c < 3; c++) {
                            b0[c] += da * F[c * n + j];
                            b1[c] += da * B[c * n + j];
                        }
                    }
                    inv_det = 1.0 / (a00 * a11 - a01 * a01);
                    c00 = inv_det * a11;
                    c01 = inv_det * -a01;
                    c11 = inv_det * a00;
                    for (int c = 0; c < 3; c++) {
                        double f = c00 * b0[c] + c01 * b1[c];
                        double b = c01 * b0[c] + c11 * b1[c];
                        F[c * n + i] = f < 0.0 ? 0.0 : f > 1.0 ? 1.0 : f;
                        B[c * n + i] = b < 0.0 ? 0.0 : b > 1.0 ? 1.0 : b;
                    }
                }
            }
        }
        free(I);
        free(A);
        free(Fp);
        free(Bp);
        Fp = F;
        Bp = B;
        wp = w;
        hp = h;
    }
    memcpy(F_out, Fp, 3 * n0 * sizeof(double));
    memcpy(B_out, Bp, 3 * n0 * sizeof(double));
    free(Fp);
    free(Bp);
    free(img0);
    free(alp0);
}

/* ---- synthetic inputs ---- */

/* Fills a w x h planar colour image (smooth gradients plus noise) and an
 * alpha with a soft-edged disc, a few fully transparent and opaque areas
 * and some noisy strands; `kind` 0 as described, 1 alpha all 0, 2 alpha
 * all 1, 3 alpha uniform random. */
static void synth_fill(uint32_t w, uint32_t h, int kind, float *image, float *alpha)
{
    size_t n = (size_t)w * h;
    double cx = 0.45 * w, cy = 0.55 * h, rad = 0.3 * (w < h ? w : h) + 1.0;
    double soft = 0.08 * (w < h ? w : h) + 1.0;

    for (uint32_t y = 0; y < h; y++) {
        for (uint32_t x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            double r = hypot(x - cx, y - cy), a;
            image[i] = (float)(0.5 + 0.4 * sin(0.05 * x + 0.02 * y)) + 0.05f * test_rng_unit();
            image[n + i] = (float)(0.5 + 0.4 * cos(0.03 * x - 0.04 * y)) + 0.05f * test_rng_unit();
            image[2 * n + i] = (float)(0.3 + 0.6 * (double)y / h) * 0.95f + 0.05f * test_rng_unit();
            a = 0.5 - (r - rad) / soft;
            a = a < 0.0 ? 0.0 : a > 1.0 ? 1.0 : a;
            if (a > 0.0 && a < 1.0 && (test_rng_next() & 7) == 0)
                a = test_rng_unit();
            if (kind == 1)
                a = 0.0;
            else if (kind == 2)
                a = 1.0;
            else if (kind == 3)
                a = test_rng_unit();
            alpha[i] = (float)a;
        }
    }
}

/* Runs op_foreground_ml on a synthetic w x h case of `kind` with
 * `params`, compares F and B with the host port (max |d| <= SYNTH_TOL),
 * and returns the device time in ms of the last of `runs` runs (0 when
 * the op failed).  `label` names the case in messages. */
static double synth_case(kiln_device *dev, uint32_t w, uint32_t h, int kind,
                         const fg_params *params, int runs, const char *label)
{
    size_t n = (size_t)w * h;
    float *image = test_xmalloc(3 * n, sizeof(float)), *alpha = test_xmalloc(n, sizeof(float));
    float *gotf = test_xmalloc(3 * n, sizeof(float)), *gotb = test_xmalloc(3 * n, sizeof(float));
    double *wantf = test_xmalloc(3 * n, sizeof(double)), *wantb = test_xmalloc(3 * n, sizeof(double));
    double worst_f = 0.0, worst_b = 0.0, ms = 0.0;
    dev_image img, alp, fg, bg, fg_only;

    synth_fill(w, h, kind, image, alpha);
    CHECK_OK(test_put_floats(dev, w, h, 3, image, &img));
    CHECK_OK(test_put_floats(dev, w, h, 1, alpha, &alp));
    memset(&fg, 0, sizeof(fg));
    memset(&bg, 0, sizeof(bg));
    for (int r = 0; r < runs; r++) {
        double t0 = test_now_ms();
        dev_image_release(dev, &fg);
        dev_image_release(dev, &bg);
        CHECK_OK(op_foreground_ml(dev, &img, &alp, params, &fg, &bg));
        CHECK_OK(device_finish(dev));
        ms = test_now_ms() - t0;
    }
    CHECK(fg.buf && fg.width == w && fg.height == h && fg.channels == 3);
    CHECK(bg.buf && bg.width == w && bg.height == h && bg.channels == 3);
    if (fg.buf && bg.buf) {
        CHECK_OK(test_get_floats(dev, &fg, gotf));
        CHECK_OK(test_get_floats(dev, &bg, gotb));
        ref_foreground(image, alpha, w, h, params, wantf, wantb);
        for (size_t i = 0; i < 3 * n; i++) {
            double df = fabs(gotf[i] - wantf[i]), db = fabs(gotb[i] - wantb[i]);
            worst_f = df > worst_f || isnan(df) ? df : worst_f;
            worst_b = db > worst_b || isnan(db) ? db : worst_b;
        }
        CHECK(worst_f <= SYNTH_TOL);
        CHECK(worst_b <= SYNTH_TOL);
        /* Without the background output the foreground is the same. */
        CHECK_OK(op_foreground_ml(dev, &img, &alp, params, &fg_only, NULL));
        if (fg_only.buf) {
            float *again = test_xmalloc(3 * n, sizeof(float));
            CHECK_OK(test_get_floats(dev, &fg_only, again));
            CHECK(memcmp(again, gotf, 3 * n * sizeof(float)) == 0);
            free(again);
        }
        dev_image_release(dev, &fg_only);
    }
    printf("%-28s %5ux%-5u max |dF| %.2e  max |dB| %.2e  %8.2f ms\n", label,
           (unsigned)w, (unsigned)h, worst_f, worst_b, ms);
    if (kind == 1 && fg.buf) {
        /* No foreground anywhere: F stays at its initial 0, B is I. */
        double bmax = 0.0;
        int fzero = 1;
        for (size_t i = 0; i < 3 * n; i++) {
            fzero &= gotf[i] == 0.0f;
            bmax = fmax(bmax, fabs(gotb[i] - image[i]));
        }
        CHECK(fzero);
        CHECK(bmax <= 1e-4);
    }
    if (kind == 2 && fg.buf) {
        /* All foreground: B stays 0, F is I. */
        double fmax_d = 0.0;
        int bzero = 1;
        for (size_t i = 0; i < 3 * n; i++) {
            bzero &= gotb[i] == 0.0f;
            fmax_d = fmax(fmax_d, fabs(gotf[i] - image[i]));
        }
        CHECK(bzero);
        CHECK(fmax_d <= 1e-4);
    }
    dev_image_release(dev, &bg);
    dev_image_release(dev, &fg);
    dev_image_release(dev, &alp);
    dev_image_release(dev, &img);
    free(image);
    free(alpha);
    free(gotf);
    free(gotb);
    free(wantf);
    free(wantb);
    return ms;
}

/* Synthetic cases: sizes that exercise single-tile levels, wavefront
 * levels (with several sweeps in flight), one-row and one-column images,
 * a 1x1 image, the alpha edge cases and non-default parameters. */
static void test_synthetic(kiln_device *dev)
{
    fg_params def, odd;

    fg_params_default(&def);
    CHECK(def.regularization == 1e-5f && def.small_iterations == 10 &&
          def.big_iterations == 2 && def.small_size == 32 && def.gradient_weight == 1.0f);
    odd = def;
    odd.regularization = 1e-3f;
    odd.small_iterations = 3;
    odd.big_iterations = 5;
    odd.small_size = 12;
    odd.gradient_weight = 0.5f;

    synth_case(dev, 7, 5, 0, &def, 1, "tiny");
    synth_case(dev, 1, 1, 0, &def, 1, "1x1");
    synth_case(dev, 2, 2, 3, &def, 1, "2x2 random alpha");
    synth_case(dev, 97, 1, 0, &def, 1, "one row");
    synth_case(dev, 1, 75, 0, &def, 1, "one column");
    synth_case(dev, 70, 45, 0, &def, 1, "two tiles wide");
    synth_case(dev, 131, 77, 0, &def, 1, "wavefront");
    synth_case(dev, 131, 77, 3, &def, 1, "wavefront random alpha");
    synth_case(dev, 150, 101, 0, &odd, 1, "other parameters");
    synth_case(dev, 64, 40, 1, &def, 1, "alpha all 0");
    synth_case(dev, 64, 40, 2, &def, 1, "alpha all 1");
    synth_case(dev, 300, 13, 0, &def, 1, "wide strip");
    synth_case(dev, 1024, 1024, 0, &def, 3, "1024x1024");
}

/* ---- reference data ---- */

/* Loads refdata file `name` of `dir` into *img.  Returns 0, or -1 when
 * it cannot be read. */
static int load_png(const char *dir, const char *name, host_image *img)
{
    char path[4096];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (png_read_file(path, 0, img) != KILN_OK) {
        memset(img, 0, sizeof(*img));
        return -1;
    }
    return 0;
}

/* Parity on one reference case: estimates the foreground of <name>.png
 * with <name>_alpha_cf.png and compares with <name>_foreground_ml.png.
 * Returns 0, or -1 when the files are missing. */
static int parity_case(kiln_device *dev, const char *dir, const char *name)
{
    char file[256];
    host_image him, hal, href;
    dev_image up, img, alp, fg;
    fg_params params;
    double ms = 0.0;
    float *got, *alpha;
    size_t n;

    snprintf(file, sizeof(file), "%s.png", name);
    if (load_png(dir, file, &him) != 0)
        return -1;
    snprintf(file, sizeof(file), "%s_alpha_cf.png", name);
    if (load_png(dir, file, &hal) != 0) {
        host_image_free(&him);
        return -1;
    }
    snprintf(file, sizeof(file), "%s_foreground_ml.png", name);
    if (load_png(dir, file, &href) != 0) {
        host_image_free(&hal);
        host_image_free(&him);
        return -1;
    }
    CHECK(hal.width == him.width && hal.height == him.height && hal.channels == 1);
    CHECK(href.width == him.width && href.height == him.height && href.channels == 3 &&
          href.bit_depth == 16);
    n = (size_t)him.width * him.height;
    got = test_xmalloc(3 * n, sizeof(float));
    alpha = test_xmalloc(n, sizeof(float));
    fg_params_default(&params);
    memset(&img, 0, sizeof(img));
    memset(&fg, 0, sizeof(fg));
    CHECK_OK(dev_image_upload(dev, &him, NULL, NULL, &up));
    /* pymatting loads the image as RGB: an alpha channel is dropped. */
    if (up.buf && up.channels != 3)
        CHECK_OK(op_convert_channels(dev, &up, 3, &img));
    else
        img = up, memset(&up, 0, sizeof(up));
    CHECK_OK(dev_image_upload(dev, &hal, NULL, NULL, &alp));
    for (int r = 0; r < 3 && img.buf && alp.buf; r++) {
        double t0 = test_now_ms();
        dev_image_release(dev, &fg);
        CHECK_OK(op_foreground_ml(dev, &img, &alp, &params, &fg, NULL));
        CHECK_OK(device_finish(dev));
        ms = test_now_ms() - t0;
    }
    if (fg.buf && href.width == him.width && href.height == him.height) {
        const uint16_t *ref = href.pixels;
        double num = 0.0, den = 0.0;
        CHECK_OK(test_get_floats(dev, &fg, got));
        CHECK_OK(test_get_floats(dev, &alp, alpha));
        for (size_t i = 0; i < n; i++) {
            den += 3.0 * alpha[i];
            for (int c = 0; c < 3; c++)
                num += alpha[i] * fabs(got[c * n + i] - ref[3 * i + c] / 65535.0);
        }
        printf("parity %-10s %ux%u: alpha-weighted MAD %.3g (bar 0.02)  %.2f ms\n", name,
               (unsigned)him.width, (unsigned)him.height, num / den, ms);
        CHECK(den > 0.0 && num / den <= PARITY_ASSERT);
    }
    dev_image_release(dev, &fg);
    dev_image_release(dev, &alp);
    dev_image_release(dev, &img);
    dev_image_release(dev, &up);
    host_image_free(&href);
    host_image_free(&hal);
    host_image_free(&him);
    free(got);
    free(alpha);
    return 0;
}

/* ---- errors and memory ---- */

/* Checks that a failed op left its output empty. */
#define CHECK_EMPTY(img) CHECK((img).buf == NULL && (img).width == 0 && (img).channels == 0)

/* Bad arguments: KILN_E_INVAL with a message, outputs empty, the ledger
 * unchanged. */
static void test_errors(kiln_device *dev)
{
    float *data = test_xmalloc(40 * 30 * 3, sizeof(float));
    dev_image rgb, gray, gray_small, rgba, empty, fg, bg;
    fg_params p, bad;
    pool_ledger before, after;

    for (size_t i = 0; i < 40 * 30 * 3; i++)
        data[i] = test_rng_unit();
    memset(&empty, 0, sizeof(empty));
    fg_params_default(&p);
    CHECK_OK(test_put_floats(dev, 40, 30, 3, data, &rgb));
    CHECK_OK(test_put_floats(dev, 40, 30, 1, data, &gray));
    CHECK_OK(test_put_floats(dev, 39, 30, 1, data, &gray_small));
    CHECK_OK(test_put_floats(dev, 20, 30, 4, data, &rgba));
    pool_ledger_get(dev->pool, &before);

    CHECK_STATUS(op_foreground_ml(dev, &gray, &gray, &p, &fg, &bg), KILN_E_INVAL);
    CHECK_MSG("need 3");
    CHECK_EMPTY(fg);
    CHECK_EMPTY(bg);
    CHECK_STATUS(op_foreground_ml(dev, &rgba, &gray, &p, &fg, NULL), KILN_E_INVAL);
    CHECK_STATUS(op_foreground_ml(dev, &rgb, &rgb, &p, &fg, NULL), KILN_E_INVAL);
    CHECK_MSG("need 1");
    CHECK_STATUS(op_foreground_ml(dev, &rgb, &gray_small, &p, &fg, NULL), KILN_E_INVAL);
    CHECK_MSG("differ in size");
    CHECK_EMPTY(fg);
    CHECK_STATUS(op_foreground_ml(dev, &rgb, &empty, &p, &fg, NULL), KILN_E_INVAL);
    CHECK_MSG("empty image");
    CHECK_STATUS(op_foreground_ml(dev, NULL, &gray, &p, &fg, NULL), KILN_E_INVAL);
    CHECK_STATUS(op_foreground_ml(dev, &rgb, &gray, &p, NULL, NULL), KILN_E_INVAL);
    CHECK_STATUS(op_foreground_ml(dev, &rgb, &gray, NULL, &fg, NULL), KILN_E_INVAL);
    CHECK_MSG("NULL parameters");
    CHECK_STATUS(op_foreground_ml(NULL, &rgb, &gray, &p, &fg, NULL), KILN_E_INVAL);
    CHECK_EMPTY(fg);
    CHECK_STATUS(op_foreground_ml(dev, &rgb, &gray, &p, &fg, &fg), KILN_E_INVAL);
    CHECK_MSG("distinct");
    fg = rgb;
    CHECK_STATUS(op_foreground_ml(dev, &fg, &gray, &p, &fg, NULL), KILN_E_INVAL);
    CHECK(fg.buf == rgb.buf);
    bg = gray;
    CHECK_STATUS(op_foreground_ml(dev, &rgb, &bg, &p, &fg, &bg), KILN_E_INVAL);
    CHECK(bg.buf == gray.buf);
    memset(&fg, 0, sizeof(fg));
    memset(&bg, 0, sizeof(bg));

    bad = p;
    bad.regularization = 0.0f;
    CHECK_STATUS(op_foreground_ml(dev, &rgb, &gray, &bad, &fg, NULL), KILN_E_INVAL);
    CHECK_MSG("regularization");
    bad.regularization = NAN;
    CHECK_STATUS(op_foreground_ml(dev, &rgb, &gray, &bad, &fg, NULL), KILN_E_INVAL);
    bad.regularization = 1e-40f;
    CHECK_STATUS(op_foreground_ml(dev, &rgb, &gray, &bad, &fg, NULL), KILN_E_INVAL);
    bad.regularization = -1e-5f;
    CHECK_STATUS(op_foreground_ml(dev, &rgb, &gray, &bad, &fg, NULL), KILN_E_INVAL);
    bad = p;
    bad.gradient_weight = -1.0f;
    CHECK_STATUS(op_foreground_ml(dev, &rgb, &gray, &bad, &fg, NULL), KILN_E_INVAL);
    CHECK_MSG("gradient_weight");
    bad.gradient_weight = INFINITY;
    CHECK_STATUS(op_foreground_ml(dev, &rgb, &gray, &bad, &fg, NULL), KILN_E_INVAL);
    bad = p;
    bad.big_iterations = 1000000;
    CHECK_STATUS(op_foreground_ml(dev, &rgb, &gray, &bad, &fg, NULL), KILN_E_INVAL);
    CHECK_MSG("iterations");
    CHECK_EMPTY(fg);

    pool_ledger_get(dev->pool, &after);
    CHECK(after.live_objects == before.live_objects);
    CHECK(after.live_bytes == before.live_bytes);
    /* Zero iterations are allowed: F and B stay at the initial colours. */
    bad = p;
    bad.small_iterations = 0;
    bad.big_iterations = 0;
    CHECK_OK(op_foreground_ml(dev, &rgb, &gray, &bad, &fg, &bg));
    dev_image_release(dev, &bg);
    dev_image_release(dev, &fg);
    dev_image_release(dev, &rgba);
    dev_image_release(dev, &gray_small);
    dev_image_release(dev, &gray);
    dev_image_release(dev, &rgb);
    free(data);
}

/* A pool too small for the working buffers: KILN_E_NOMEM, outputs empty,
 * only the inputs live afterwards; then every buffer creation of the op
 * fails in turn and each failure unwinds cleanly. */
static void test_memory(void)
{
    const uint32_t w = 200, h = 150;
    size_t n = (size_t)w * h;
    float *image = test_xmalloc(3 * n, sizeof(float)), *alpha = test_xmalloc(n, sizeof(float));
    fg_params p;
    int done = 0, failed = 0;

    fg_params_default(&p);
    synth_fill(w, h, 0, image, alpha);
    {
        /* The inputs take 360 + 120 KiB (size classes of 384 + 128
         * KiB) and the foreground output 384 KiB: a background output
         * does not fit, nor, without it, the 960 KiB of top-level
         * records. */
        kiln_device *dev = test_device_open(1200 * 1024);
        dev_image img, alp, fg, bg;
        pool_ledger ledger;

        CHECK_OK(test_put_floats(dev, w, h, 3, image, &img));
        CHECK_OK(test_put_floats(dev, w, h, 1, alpha, &alp));
        CHECK_STATUS(op_foreground_ml(dev, &img, &alp, &p, &fg, &bg), KILN_E_NOMEM);
        CHECK_MSG("foreground");
        CHECK_EMPTY(fg);
        CHECK_EMPTY(bg);
        pool_ledger_get(dev->pool, &ledger);
        CHECK(ledger.live_objects == 2);
        CHECK_STATUS(op_foreground_ml(dev, &img, &alp, &p, &fg, NULL), KILN_E_NOMEM);
        CHECK_EMPTY(fg);
        pool_ledger_get(dev->pool, &ledger);
        CHECK(ledger.live_objects == 2);
        dev_image_release(dev, &alp);
        dev_image_release(dev, &img);
        test_device_close(dev);
    }
    for (uint64_t nth = 1; nth <= 32 && !done; nth++) {
        kiln_device *dev = test_device_open(0);
        dev_image img, alp, fg, bg;
        pool_ledger ledger;
        kiln_status st;

        CHECK_OK(test_put_floats(dev, w, h, 3, image, &img));
        CHECK_OK(test_put_floats(dev, w, h, 1, alpha, &alp));
        pool_fail_nth_creation(dev->pool, nth);
        st = op_foreground_ml(dev, &img, &alp, &p, &fg, nth % 2 ? &bg : NULL);
        if (st == KILN_OK) {
            done = 1;
            dev_image_release(dev, &bg);
            dev_image_release(dev, &fg);
        } else {
            CHECK_STATUS(st, KILN_E_NOMEM);
            CHECK_EMPTY(fg);
            if (nth % 2)
                CHECK_EMPTY(bg);
            failed++;
        }
        pool_ledger_get(dev->pool, &ledger);
        CHECK(ledger.live_objects == 2);
        dev_image_release(dev, &alp);
        dev_image_release(dev, &img);
        test_device_close(dev);
    }
    CHECK(done);
    printf("fault injection: %d failed creations unwound cleanly\n", failed);
    free(image);
    free(alpha);
}

/* Runs the synthetic, error and memory tests, then the parity tests when
 * the reference data is there (exit 77 after the rest when it is not). */
int main(void)
{
    kiln_device *dev = test_device_open(0);
    char dir[4096];
    int missing = 0;

    test_rng_seed(0x9E3779B9u);

    test_synthetic(dev);
    test_errors(dev);
    test_refdata_dir("matting", dir, sizeof(dir));
    if (parity_case(dev, dir, "lemur") != 0 || parity_case(dev, dir, "astronaut") != 0)
        missing = 1;
    test_device_close(dev);
    test_memory();
    if (missing) {
        fprintf(stderr, "matting reference data not found in %s (set REFDATA_DIR): "
                "parity skipped\n", dir);
        if (test_failures == 0) {
            test_summary("test_matting_fg");
            return 77;
        }
    }
    return test_summary("test_matting_fg");
}
