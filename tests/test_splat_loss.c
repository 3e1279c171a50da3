/* Tests of the splatting loss (engine/splat/splat_loss.c) against a host
 * reference written here in double from the reference trainer's
 * definition (utils/loss_utils.py): an 11 x 11 Gaussian window (sigma
 * 1.5, normalised) applied as a direct 2D convolution with zero padding,
 * the SSIM map from the raw moments, means over every value (or weighted
 * by the mask, divided by 3 * its sum).
 *
 * Bars: loss, l1 and ssim within 1e-5 relative of the reference on
 * random images of several sizes (odd ones, ones smaller than the
 * window, 1x1); identical images give l1 0 and ssim 1; the device
 * gradient within 1e-3 of the host's analytic gradient and of central
 * finite differences of the host loss on 99% of the components, the
 * error of a component measured as |g - ref| / (|ref| + 1e-2 rms(ref));
 * the host analytic gradient within 1e-5 of the finite differences on
 * every component; the mask variant likewise; PSNR within 1e-5 relative.
 * Bad arguments fail with KILN_E_INVAL and acquire nothing; failed
 * buffer creations unwind with nothing leaked; the pool ledger is empty
 * at the end. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "splat_loss.h"
#include "testutil.h"

#define REF_RADIUS 5
#define REF_TAPS (2 * REF_RADIUS + 1)
#define VALUE_TOL 1e-5
#define GRAD_TOL 1e-3
#define GRAD_SHARE 0.99

/* The reference's result. */
typedef struct ref_result {
    double loss, l1, ssim;
} ref_result;

/* ---- host reference in double ---- */

/* The 2D window: the outer product of the normalised 1D Gaussian. */
static void ref_window(double win[REF_TAPS][REF_TAPS])
{
    double g[REF_TAPS], sum = 0.0;

    for (int k = 0; k < REF_TAPS; k++) {
        double x = (double)(k - REF_RADIUS);
        g[k] = exp(-x * x / (2.0 * 1.5 * 1.5));
        sum += g[k];
    }
    for (int i = 0; i < REF_TAPS; i++)
        for (int j = 0; j < REF_TAPS; j++)
            win[i][j] = g[i] / sum * (g[j] / sum);
}

/* The loss of r against t (3 x h x w planar doubles), weighted by m (NULL
 * or h x w), into *out; when grad is not NULL, dL/dr into it.  The SSIM
 * part of the gradient is scattered through the window (the transposed
 * convolution written out). */
static void ref_loss(const double *r, const double *t, const double *m, uint32_t w,
                     uint32_t h, double lambda, ref_result *out, double *grad)
{
    const double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
    size_t npix = (size_t)w * h;
    double win[REF_TAPS][REF_TAPS], weight = 0.0, sum_l1 = 0.0, sum_s = 0.0;
    double *gs = test_xmalloc(3 * npix, sizeof(double));

    memset(gs, 0, 3 * npix * sizeof(double));
    ref_window(win);
    for (size_t p = 0; p < npix; p++)
        weight += m ? m[p] : 1.0;
    weight *= 3.0;
    for (uint32_t c = 0; c < 3; c++) {
        const double *x = r + c * npix, *y = t + c * npix;
        for (uint32_t py = 0; py < h; py++)
            for (uint32_t px = 0; px < w; px++) {
                size_t p = (size_t)py * w + px;
                double mu1 = 0, mu2 = 0, exx = 0, eyy = 0, exy = 0;
                double s1, s2, s12, a1, a2, b1, b2, l, cs, s, mp = m ? m[p] : 1.0;
                for (int i = 0; i < REF_TAPS; i++)
                    for (int j = 0; j < REF_TAPS; j++) {
                        long sy = (long)py + i - REF_RADIUS, sx = (long)px + j - REF_RADIUS;
                        size_t q;
                        if (sy < 0 || sy >= (long)h || sx < 0 || sx >= (long)w)
                            continue;
                        q = (size_t)sy * w + (size_t)sx;
                        mu1 += win[i][j] * x[q];
                        mu2 += win[i][j] * y[q];
                        exx += win[i][j] * x[q] * x[q];
                        eyy += win[i][j] * y[q] * y[q];
                        exy += win[i][j] * x[q] * y[q];
                    }
                s1 = exx - mu1 * mu1;
                s2 = eyy - mu2 * mu2;
                s12 = exy - mu1 * mu2;
                a1 = 2 * mu1 * mu2 + c1;
                a2 = 2 * s12 + c2;
                b1 = mu1 * mu1 + mu2 * mu2 + c1;
                b2 = s1 + s2 + c2;
                l = a1 / b1;
                cs = a2 / b2;
                s = l * cs;
                sum_l1 += mp * fabs(x[p] - y[p]);
                sum_s += mp * s;
                if (!grad)
                    continue;
                {
                    /* d(mp S)/d(mu1, E[x^2], E[xy]), scattered to the
                     * pixels each moment reads. */
                    double gmu = mp * (2 * cs * (mu2 - mu1 * l) / b1
                                       + 2 * (mu1 * s - mu2 * l) / b2);
                    double gxx = mp * (-s / b2), gxy = mp * (2 * l / b2);
                    for (int i = 0; i < REF_TAPS; i++)
                        for (int j = 0; j < REF_TAPS; j++) {
                            long sy = (long)py + i - REF_RADIUS, sx = (long)px + j - REF_RADIUS;
                            size_t q;
                            if (sy < 0 || sy >= (long)h || sx < 0 || sx >= (long)w)
                                continue;
                            q = (size_t)sy * w + (size_t)sx;
                            gs[c * npix + q] += win[i][j]
                                * (gmu + 2 * x[q] * gxx + y[q] * gxy);
                        }
                }
            }
    }
    out->l1 = sum_l1 / weight;
    out->ssim = sum_s / weight;
    out->loss = (1 - lambda) * out->l1 + lambda * (1 - out->ssim);
    if (grad)
        for (size_t k = 0; k < 3 * npix; k++) {
            double d = r[k] - t[k], mp = m ? m[k % npix] : 1.0;
            double sg = d > 0 ? 1.0 : d < 0 ? -1.0 : 0.0;
            grad[k] = (1 - lambda) * mp * sg / weight - lambda * gs[k] / weight;
        }
    free(gs);
}

/* Central finite differences of the reference loss with respect to each
 * value of r (step 1e-6), into grad. */
static void ref_grad_fd(const double *r, const double *t, const double *m, uint32_t w,
                        uint32_t h, double lambda, double *grad)
{
    size_t n = (size_t)3 * w * h;
    double *rr = test_xmalloc(n, sizeof(double));
    const double step = 1e-6;

    memcpy(rr, r, n * sizeof(double));
    for (size_t k = 0; k < n; k++) {
        ref_result plus, minus;
        rr[k] = r[k] + step;
        ref_loss(rr, t, m, w, h, lambda, &plus, NULL);
        rr[k] = r[k] - step;
        ref_loss(rr, t, m, w, h, lambda, &minus, NULL);
        rr[k] = r[k];
        grad[k] = (plus.loss - minus.loss) / (2 * step);
    }
    free(rr);
}

/* ---- comparisons ---- */

/* Compares n components of `got` with `ref`: the error of a component is
 * |got - ref| / (|ref| + 1e-2 rms(ref)).  Checks that a share `share` of
 * the components are within `tol`; prints the largest error and the
 * share's quantile under `label`. */
static void grad_compare(const char *label, const double *got, const double *ref, size_t n,
                         double tol, double share)
{
    double *err = test_xmalloc(n, sizeof(double)), rms = 0.0, worst = 0.0, quant;
    size_t within = 0, at;

    for (size_t k = 0; k < n; k++)
        rms += ref[k] * ref[k];
    rms = sqrt(rms / (double)n);
    for (size_t k = 0; k < n; k++) {
        err[k] = fabs(got[k] - ref[k]) / (fabs(ref[k]) + 1e-2 * rms);
        if (err[k] <= tol)
            within++;
        if (err[k] > worst)
            worst = err[k];
    }
    /* the share's quantile: sort a copy (n is small) */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && err[j - 1] > err[j]; j--) {
            double e = err[j];
            err[j] = err[j - 1];
            err[j - 1] = e;
        }
    at = (size_t)ceil(share * (double)n);
    quant = err[at > 0 ? at - 1 : 0];
    printf("%s: %zu components, max err %.3g, %.0f%% quantile %.3g, %zu within %g\n", label,
           n, worst, share * 100.0, quant, within, tol);
    CHECK((double)within >= share * (double)n);
    free(err);
}

/* Checks a value against its reference within VALUE_TOL relative (with a
 * floor of 1e-12 for a zero reference). */
static double value_check(const char *label, double got, double ref)
{
    double rel = fabs(got - ref) / fmax(fabs(ref), 1e-12);
    if (!(rel <= VALUE_TOL))
        fprintf(stderr, "%s: got %.9g, reference %.9g (relative %.3g)\n", label, got, ref, rel);
    CHECK(rel <= VALUE_TOL);
    return rel;
}

/* ---- test images ---- */

/* Fills a training-like pair: t uniform in [0, 1), r = t plus noise of
 * amplitude `noise`, clamped to [0, 1]; noise 0 with `independent` set
 * draws r independently. */
static void fill_pair(float *r, float *t, size_t n, float noise, int independent)
{
    for (size_t k = 0; k < n; k++) {
        t[k] = test_rng_unit();
        if (independent) {
            r[k] = test_rng_unit();
        } else {
            float v = t[k] + noise * (test_rng_unit() - 0.5f);
            r[k] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
        }
    }
}

/* Copies n floats into new doubles. */
static double *to_double(const float *f, size_t n)
{
    double *d = test_xmalloc(n, sizeof(double));
    for (size_t k = 0; k < n; k++)
        d[k] = f[k];
    return d;
}

/* Runs the device loss (and gradient, when dgrad is not NULL, into it as
 * doubles) of host images r, t, m (NULL: no mask). */
static kiln_status device_loss(kiln_device *dev, const float *r, const float *t, const float *m,
                               uint32_t w, uint32_t h, float lambda, splat_loss_result *res,
                               double *dgrad)
{
    size_t n = (size_t)3 * w * h;
    dev_image dr, dt, dm = { 0 }, g = { 0 };
    kiln_status st;

    CHECK_OK(test_put_floats(dev, w, h, 3, r, &dr));
    CHECK_OK(test_put_floats(dev, w, h, 3, t, &dt));
    if (m)
        CHECK_OK(test_put_floats(dev, w, h, 1, m, &dm));
    st = splat_loss(dev, &dr, &dt, m ? &dm : NULL, lambda, res, dgrad ? &g : NULL);
    if (st == KILN_OK && dgrad) {
        float *gf = test_xmalloc(n, sizeof(float));
        CHECK(g.width == w && g.height == h && g.channels == 3);
        CHECK_OK(test_get_floats(dev, &g, gf));
        for (size_t k = 0; k < n; k++)
            dgrad[k] = gf[k];
        free(gf);
        dev_image_release(dev, &g);
    }
    dev_image_release(dev, &dm);
    dev_image_release(dev, &dt);
    dev_image_release(dev, &dr);
    return st;
}

/* ---- tests ---- */

/* Values against the reference on random pairs of several sizes, value
 * only and with the gradient, and on identical images. */
static void test_values(kiln_device *dev)
{
    static const uint32_t sizes[][2] = { { 64, 48 }, { 37, 23 }, { 7, 5 }, { 1, 1 },
                                         { 2, 13 }, { 16, 1 } };
    double worst = 0.0;

    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
        for (int independent = 0; independent < 2; independent++) {
            uint32_t w = sizes[s][0], h = sizes[s][1];
            size_t n = (size_t)3 * w * h;
            float *r = test_xmalloc(n, sizeof(float)), *t = test_xmalloc(n, sizeof(float));
            double *rd, *td;
            splat_loss_result got, got_g;
            ref_result ref;
            double *g = test_xmalloc(n, sizeof(double));
            char label[64];

            fill_pair(r, t, n, 0.3f, independent);
            rd = to_double(r, n);
            td = to_double(t, n);
            ref_loss(rd, td, NULL, w, h, 0.2, &ref, NULL);
            CHECK_OK(device_loss(dev, r, t, NULL, w, h, SPLAT_LOSS_LAMBDA, &got, NULL));
            CHECK_OK(device_loss(dev, r, t, NULL, w, h, SPLAT_LOSS_LAMBDA, &got_g, g));
            snprintf(label, sizeof(label), "%ux%u%s", (unsigned)w, (unsigned)h,
                     independent ? " independent" : "");
            worst = fmax(worst, value_check(label, got.loss, ref.loss));
            worst = fmax(worst, value_check(label, got.l1, ref.l1));
            worst = fmax(worst, value_check(label, got.ssim, ref.ssim));
            CHECK(got.loss == got_g.loss && got.l1 == got_g.l1 && got.ssim == got_g.ssim);
            printf("%s: loss %.7f l1 %.7f ssim %.7f (reference %.7f %.7f %.7f)\n", label,
                   got.loss, got.l1, got.ssim, ref.loss, ref.l1, ref.ssim);
            free(g);
            free(td);
            free(rd);
            free(t);
            free(r);
        }
    printf("values: largest relative error %.3g (bar %g)\n", worst, VALUE_TOL);

    {
        /* identical images: l1 0, ssim 1, loss 0 */
        const uint32_t w = 37, h = 23;
        size_t n = (size_t)3 * w * h;
        float *r = test_xmalloc(n, sizeof(float)), *t = test_xmalloc(n, sizeof(float));
        splat_loss_result got;

        fill_pair(r, t, n, 0.0f, 0);
        memcpy(r, t, n * sizeof(float));
        CHECK_OK(device_loss(dev, r, t, NULL, w, h, SPLAT_LOSS_LAMBDA, &got, NULL));
        printf("identical: loss %.3g l1 %.3g ssim - 1 %.3g\n", got.loss, got.l1, got.ssim - 1.0);
        CHECK(got.l1 == 0.0);
        CHECK(fabs(got.ssim - 1.0) <= 1e-6);
        CHECK(fabs(got.loss) <= 1e-6);
        free(t);
        free(r);
    }
}

/* The gradient against the analytic host gradient and finite
 * differences, without and with a mask, on a small image; against the
 * analytic host gradient on a larger odd one. */
static void test_gradient(kiln_device *dev)
{
    static const uint32_t sizes[][2] = { { 9, 8 }, { 37, 23 } };

    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
        for (int masked = 0; masked < 2; masked++) {
            uint32_t w = sizes[s][0], h = sizes[s][1];
            size_t npix = (size_t)w * h, n = 3 * npix;
            float *r = test_xmalloc(n, sizeof(float)), *t = test_xmalloc(n, sizeof(float));
            float *m = masked ? test_xmalloc(npix, sizeof(float)) : NULL;
            double *rd, *td, *md = NULL;
            double *gdev = test_xmalloc(n, sizeof(double)), *gref = test_xmalloc(n, sizeof(double));
            splat_loss_result got;
            ref_result ref;
            char label[96];

            fill_pair(r, t, n, 0.3f, 0);
            if (m) {
                /* a quarter of the pixels masked out, the rest in (0, 1] */
                for (size_t p = 0; p < npix; p++)
                    m[p] = test_rng_unit() < 0.25f ? 0.0f : 1.0f - test_rng_unit();
                md = to_double(m, npix);
            }
            rd = to_double(r, n);
            td = to_double(t, n);
            ref_loss(rd, td, md, w, h, 0.2, &ref, gref);
            CHECK_OK(device_loss(dev, r, t, m, w, h, SPLAT_LOSS_LAMBDA, &got, gdev));
            snprintf(label, sizeof(label), "%ux%u%s", (unsigned)w, (unsigned)h,
                     masked ? " masked" : "");
            value_check(label, got.loss, ref.loss);
            value_check(label, got.l1, ref.l1);
            value_check(label, got.ssim, ref.ssim);
            snprintf(label, sizeof(label), "gradient %ux%u%s, device vs host analytic",
                     (unsigned)w, (unsigned)h, masked ? " masked" : "");
            grad_compare(label, gdev, gref, n, GRAD_TOL, GRAD_SHARE);
            if (w * h <= 100) {
                double *gfd = test_xmalloc(n, sizeof(double));
                ref_grad_fd(rd, td, md, w, h, 0.2, gfd);
                snprintf(label, sizeof(label), "gradient %ux%u%s, host analytic vs finite "
                         "differences", (unsigned)w, (unsigned)h, masked ? " masked" : "");
                grad_compare(label, gref, gfd, n, 1e-5, 1.0);
                snprintf(label, sizeof(label), "gradient %ux%u%s, device vs finite differences",
                         (unsigned)w, (unsigned)h, masked ? " masked" : "");
                grad_compare(label, gdev, gfd, n, GRAD_TOL, GRAD_SHARE);
                free(gfd);
            }
            free(gref);
            free(gdev);
            free(td);
            free(rd);
            free(md);
            free(m);
            free(t);
            free(r);
        }
}

/* The mask: all ones equals no mask; the loss ignores what masked-out
 * pixels hold in their own terms. */
static void test_mask(kiln_device *dev)
{
    const uint32_t w = 20, h = 17;
    size_t npix = (size_t)w * h, n = 3 * npix;
    float *r = test_xmalloc(n, sizeof(float)), *t = test_xmalloc(n, sizeof(float));
    float *m = test_xmalloc(npix, sizeof(float));
    splat_loss_result plain, ones, half;

    fill_pair(r, t, n, 0.3f, 0);
    for (size_t p = 0; p < npix; p++)
        m[p] = 1.0f;
    CHECK_OK(device_loss(dev, r, t, NULL, w, h, 0.2f, &plain, NULL));
    CHECK_OK(device_loss(dev, r, t, m, w, h, 0.2f, &ones, NULL));
    CHECK(fabs(plain.loss - ones.loss) <= 1e-6 * plain.loss);
    CHECK(fabs(plain.ssim - ones.ssim) <= 1e-6);
    /* a uniform mask of 0.5 weighs every term alike: the same means */
    for (size_t p = 0; p < npix; p++)
        m[p] = 0.5f;
    CHECK_OK(device_loss(dev, r, t, m, w, h, 0.2f, &half, NULL));
    CHECK(fabs(plain.loss - half.loss) <= 1e-6 * plain.loss);
    printf("mask: none %.7f, ones %.7f, halves %.7f\n", plain.loss, ones.loss, half.loss);
    free(m);
    free(t);
    free(r);
}

/* PSNR against the host value; +infinity for equal images. */
static void test_psnr(kiln_device *dev)
{
    static const uint32_t shapes[][3] = { { 37, 23, 3 }, { 1, 1, 3 }, { 64, 48, 1 } };

    for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
        uint32_t w = shapes[s][0], h = shapes[s][1], c = shapes[s][2];
        size_t n = (size_t)w * h * c;
        float *a = test_xmalloc(n, sizeof(float)), *b = test_xmalloc(n, sizeof(float));
        dev_image da, db;
        double psnr = 0.0, mse = 0.0, ref;
        char label[64];

        fill_pair(a, b, n, 0.1f, 0);
        for (size_t k = 0; k < n; k++)
            mse += ((double)a[k] - b[k]) * ((double)a[k] - b[k]);
        mse /= (double)n;
        ref = 10.0 * log10(1.0 / mse);
        CHECK_OK(test_put_floats(dev, w, h, c, a, &da));
        CHECK_OK(test_put_floats(dev, w, h, c, b, &db));
        CHECK_OK(splat_psnr(dev, &da, &db, &psnr));
        snprintf(label, sizeof(label), "psnr %ux%ux%u", (unsigned)w, (unsigned)h, (unsigned)c);
        value_check(label, psnr, ref);
        printf("%s: %.6f dB (reference %.6f)\n", label, psnr, ref);
        CHECK_OK(splat_psnr(dev, &da, &da, &psnr));
        CHECK(isinf(psnr) && psnr > 0);
        dev_image_release(dev, &db);
        dev_image_release(dev, &da);
        free(b);
        free(a);
    }
}

#define CHECK_EMPTY(img) CHECK((img).buf == NULL && (img).width == 0 && (img).channels == 0)

/* Bad arguments: KILN_E_INVAL naming what is wrong, nothing acquired. */
static void test_errors(kiln_device *dev)
{
    const uint32_t w = 8, h = 6;
    float *data = test_xmalloc((size_t)4 * w * h, sizeof(float));
    dev_image r, t, t4, small, m, m3, zero, g;
    splat_loss_result res;
    pool_ledger before, after;
    double psnr;

    for (size_t k = 0; k < (size_t)4 * w * h; k++)
        data[k] = 0.0f;
    CHECK_OK(test_put_floats(dev, w, h, 3, data, &r));
    CHECK_OK(test_put_floats(dev, w, h, 3, data, &t));
    CHECK_OK(test_put_floats(dev, w, h, 4, data, &t4));
    CHECK_OK(test_put_floats(dev, w, h - 1, 3, data, &small));
    CHECK_OK(test_put_floats(dev, w, h, 3, data, &m3));
    CHECK_OK(test_put_floats(dev, w, h, 1, data, &zero));
    memset(&m, 0, sizeof(m));
    pool_ledger_get(dev->pool, &before);

    CHECK_STATUS(splat_loss(dev, &r, &t4, NULL, 0.2f, &res, &g), KILN_E_INVAL);
    CHECK_MSG("target: 4 channels");
    CHECK_EMPTY(g);
    CHECK_STATUS(splat_loss(dev, &t4, &t, NULL, 0.2f, &res, &g), KILN_E_INVAL);
    CHECK_MSG("render: 4 channels");
    CHECK_STATUS(splat_loss(dev, &r, &small, NULL, 0.2f, &res, &g), KILN_E_INVAL);
    CHECK_MSG("target: 8x5");
    CHECK_STATUS(splat_loss(dev, &r, &t, &m3, 0.2f, &res, &g), KILN_E_INVAL);
    CHECK_MSG("mask: 3 channels");
    CHECK_STATUS(splat_loss(dev, &r, &t, &m, 0.2f, &res, &g), KILN_E_INVAL);
    CHECK_MSG("mask");
    CHECK_STATUS(splat_loss(dev, &r, &t, &zero, 0.2f, &res, &g), KILN_E_INVAL);
    CHECK_MSG("positive sum");
    CHECK_EMPTY(g);
    CHECK_STATUS(splat_loss(dev, &r, &t, NULL, -0.1f, &res, &g), KILN_E_INVAL);
    CHECK_MSG("lambda");
    CHECK_STATUS(splat_loss(dev, &r, &t, NULL, NAN, &res, NULL), KILN_E_INVAL);
    CHECK_MSG("lambda");
    CHECK_STATUS(splat_loss(dev, &r, &t, NULL, 0.2f, NULL, NULL), KILN_E_INVAL);
    CHECK_STATUS(splat_loss(dev, &r, &t, NULL, 0.2f, &res, &r), KILN_E_INVAL);
    CHECK_MSG("gradient");
    CHECK(r.buf != NULL && r.channels == 3);
    CHECK_STATUS(splat_loss(dev, NULL, &t, NULL, 0.2f, &res, NULL), KILN_E_INVAL);
    CHECK_MSG("render");
    CHECK_STATUS(splat_psnr(dev, &r, &t4, &psnr), KILN_E_INVAL);
    CHECK_MSG("second image: 4 channels");
    CHECK_STATUS(splat_psnr(dev, &r, &small, &psnr), KILN_E_INVAL);
    CHECK_MSG("second image: 8x5");
    pool_ledger_get(dev->pool, &after);
    CHECK(after.live_objects == before.live_objects && after.live_bytes == before.live_bytes);

    dev_image_release(dev, &zero);
    dev_image_release(dev, &m3);
    dev_image_release(dev, &small);
    dev_image_release(dev, &t4);
    dev_image_release(dev, &t);
    dev_image_release(dev, &r);
    free(data);
}

/* Failed buffer creations (each in turn, on a device of its own) return
 * KILN_E_NOMEM with the gradient empty and only the inputs live. */
static void test_memory(void)
{
    const uint32_t w = 24, h = 16;
    size_t npix = (size_t)w * h, n = 3 * npix;
    float *r = test_xmalloc(n, sizeof(float)), *t = test_xmalloc(n, sizeof(float));
    float *m = test_xmalloc(npix, sizeof(float));
    int done = 0, failed = 0;

    fill_pair(r, t, n, 0.3f, 0);
    for (size_t p = 0; p < npix; p++)
        m[p] = 1.0f;
    for (uint64_t nth = 1; nth <= 10 && !done; nth++) {
        kiln_device *dev = test_device_open(0);
        dev_image dr, dt, dm, g;
        splat_loss_result res;
        pool_ledger ledger;
        kiln_status st;

        CHECK_OK(test_put_floats(dev, w, h, 3, r, &dr));
        CHECK_OK(test_put_floats(dev, w, h, 3, t, &dt));
        CHECK_OK(test_put_floats(dev, w, h, 1, m, &dm));
        pool_fail_nth_creation(dev->pool, nth);
        st = splat_loss(dev, &dr, &dt, &dm, 0.2f, &res, &g);
        if (st == KILN_OK) {
            done = 1;
            dev_image_release(dev, &g);
        } else {
            CHECK_STATUS(st, KILN_E_NOMEM);
            CHECK_MSG("splat loss");
            CHECK_EMPTY(g);
            failed++;
        }
        pool_ledger_get(dev->pool, &ledger);
        CHECK(ledger.live_objects == 3);
        dev_image_release(dev, &dm);
        dev_image_release(dev, &dt);
        dev_image_release(dev, &dr);
        test_device_close(dev);
    }
    CHECK(done);
    printf("fault injection: %d failed creations unwound cleanly\n", failed);
    free(m);
    free(t);
    free(r);
}

/* Runs the tests on the test device, then the memory tests on devices of
 * their own. */
int main(void)
{
    kiln_device *dev = test_device_open(0);

    test_rng_seed(0x2545F491u);
    test_values(dev);
    test_gradient(dev);
    test_mask(dev);
    test_psnr(dev);
    test_errors(dev);
    test_device_close(dev);
    test_memory();
    return test_summary("test_splat_loss");
}
