/* Tests of the trimap ops (engine/matting_trimap.c) and of closed-form
 * alpha matting (engine/matting_cf.c).
 *
 * - rembg's trimap of astronaut_mask.png must equal
 *   astronaut_trimap_rembg.png at every pixel, and random masks must match
 *   a host reference of scipy's binary_erosion for several square sizes;
 * - op_trimap_counts must match counts done here;
 * - parity with pymatting 1.1.15 (refdata/matting, see its README): over
 *   the trimap's unknown pixels SAD/1000 <= 0.25 and MSE <= 2e-4 for lemur
 *   and astronaut (figures, iterations and times are printed);
 * - small synthetic images against pymatting's exact system built here in
 *   double and solved densely (Cholesky): every pixel within 1e-3, for
 *   radius 1, 2 and 3, with a gray patch, a foreground/background contact
 *   without unknown pixels between them, and unknown pixels on the border;
 *   tiny images (a single window, a single tile) and a trimap without
 *   foreground likewise;
 * - a trimap without unknown pixels comes back unchanged;
 * - a small pool budget, and each failing buffer creation in turn, make
 *   op_alpha_cf return KILN_E_NOMEM with nothing leaked;
 * - bad arguments return KILN_E_INVAL.
 * Every device is closed through test_device_close (the ledger must be
 * empty).  Reference data: $REFDATA_DIR, else
 * $TOP_SRCDIR/../shared/refdata/matting; the test skips (77) without it. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dev_image.h"
#include "matting.h"
#include "ops_image.h"
#include "png_io.h"
#include "testutil.h"

#define PARITY_SAD 0.25
#define PARITY_MSE 2e-4
#define SYNTH_TOL 1e-3

/* Mallocs `bytes` bytes; exits on host OOM. */
static void *xmalloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "out of host memory\n");
        exit(1);
    }
    return p;
}

/* Reads a device image's planar floats into a new array (exits on
 * failure). */
static float *get_floats(kiln_device *dev, const dev_image *img)
{
    float *data = xmalloc(dev_image_elements(img) * sizeof(float));
    cl_int err = clEnqueueReadBuffer(dev->queue, img->buf->mem, CL_TRUE, 0,
                                     dev_image_elements(img) * sizeof(float), data,
                                     0, NULL, NULL);
    if (err != CL_SUCCESS) {
        fprintf(stderr, "reading a device image failed: %d\n", (int)err);
        exit(1);
    }
    return data;
}

/* Returns the live pool objects of a device. */
static size_t live_objects(kiln_device *dev)
{
    pool_ledger ledger;
    pool_ledger_get(dev->pool, &ledger);
    return ledger.live_objects;
}

/* ---- trimaps ---- */

/* Host reference of rembg's trimap with scipy's binary_erosion: square
 * footprint offsets -size/2 .. size-1-size/2, outside the image not
 * foreground for the foreground and background for the background. */
static void ref_trimap(const uint8_t *mask, uint32_t w, uint32_t h, int fg_t, int bg_t,
                       uint32_t size, float *out)
{
    int lo = size ? -(int)(size / 2) : 0, hi = size ? (int)(size - 1 - size / 2) : 0;

    for (int y = 0; y < (int)h; y++) {
        for (int x = 0; x < (int)w; x++) {
            int fg = 1, bg = 1;
            for (int dy = lo; dy <= hi; dy++) {
                for (int dx = lo; dx <= hi; dx++) {
                    int xx = x + dx, yy = y + dy;
                    if (xx < 0 || yy < 0 || xx >= (int)w || yy >= (int)h) {
                        fg = 0;
                        continue;
                    }
                    if (!(mask[(size_t)yy * w + (size_t)xx] > fg_t))
                        fg = 0;
                    if (!(mask[(size_t)yy * w + (size_t)xx] < bg_t))
                        bg = 0;
                }
            }
            out[(size_t)y * w + (size_t)x] = bg ? 0.0f : fg ? 1.0f : 0.5f;
        }
    }
}

/* Random blobby 8-bit masks against the host reference, for several
 * erosion sizes (0 included) and thresholds. */
static void test_trimap_random(kiln_device *dev)
{
    static const uint32_t sizes[] = { 0, 1, 2, 3, 4, 7, 10 };
    const uint32_t w = 53, h = 41;
    host_image hm;
    dev_image mask, tri;
    float *want = xmalloc((size_t)w * h * sizeof(float));

    CHECK_OK(host_image_alloc(&hm, w, h, 1, 8));
    for (uint32_t y = 0; y < h; y++) {
        for (uint32_t x = 0; x < w; x++) {
            float d = hypotf((float)x - 20.0f, (float)y - 18.0f);
            int v = d < 12.0f ? 255 : d > 16.0f ? 0 : (int)(test_rng_next() % 256);
            if (test_rng_next() % 40 == 0)
                v = (int)(test_rng_next() % 256);
            ((uint8_t *)hm.pixels)[(size_t)y * w + x] = (uint8_t)v;
        }
    }
    /* Exact threshold values must compare as integers. */
    ((uint8_t *)hm.pixels)[0] = 240;
    ((uint8_t *)hm.pixels)[1] = 241;
    ((uint8_t *)hm.pixels)[2] = 10;
    ((uint8_t *)hm.pixels)[3] = 9;
    CHECK_OK(dev_image_upload(dev, &hm, NULL, NULL, &mask));
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        for (int th = 0; th < 2; th++) {
            int fg_t = th ? 200 : 240, bg_t = th ? 50 : 10;
            size_t bad = 0;
            float *got;
            CHECK_OK(op_trimap_from_mask(dev, &mask, (float)fg_t, (float)bg_t, sizes[k], &tri));
            if (!tri.buf)
                continue;
            got = get_floats(dev, &tri);
            ref_trimap(hm.pixels, w, h, fg_t, bg_t, sizes[k], want);
            for (size_t i = 0; i < (size_t)w * h; i++)
                bad += got[i] != want[i];
            if (bad)
                fprintf(stderr, "trimap erode %u thresholds %d/%d: %zu pixels differ\n",
                        (unsigned)sizes[k], fg_t, bg_t, bad);
            CHECK(bad == 0);
            free(got);
            dev_image_release(dev, &tri);
        }
    }
    dev_image_release(dev, &mask);
    host_image_free(&hm);
    free(want);
}

/* rembg's trimap of the astronaut mask equals the reference file; the
 * counts of op_trimap_counts equal counts of the file. */
static void test_trimap_rembg(kiln_device *dev, const char *dir)
{
    char path[8192];
    host_image hm, ht;
    dev_image mask, tri;
    size_t fg = 0, bg = 0, unk = 0, n;

    snprintf(path, sizeof(path), "%s/astronaut_mask.png", dir);
    CHECK_OK(png_read_file(path, 0, &hm));
    snprintf(path, sizeof(path), "%s/astronaut_trimap_rembg.png", dir);
    CHECK_OK(png_read_file(path, 0, &ht));
    if (!hm.pixels || !ht.pixels || hm.channels != 1 || ht.channels != 1) {
        CHECK(!"astronaut mask and trimap are 8-bit gray");
        host_image_free(&hm);
        host_image_free(&ht);
        return;
    }
    CHECK_OK(dev_image_upload(dev, &hm, NULL, NULL, &mask));
    CHECK_OK(op_trimap_from_mask(dev, &mask, 240.0f, 10.0f, 10, &tri));
    n = (size_t)ht.width * ht.height;
    if (tri.buf) {
        size_t want[3] = { 0, 0, 0 }, bad = 0;
        float *got = get_floats(dev, &tri);
        for (size_t i = 0; i < n; i++) {
            uint8_t v = ((const uint8_t *)ht.pixels)[i];
            float w = v == 0 ? 0.0f : v == 255 ? 1.0f : 0.5f;
            bad += got[i] != w;
            want[v == 255 ? 0 : v == 0 ? 1 : 2]++;
        }
        printf("astronaut rembg trimap: %zu of %zu pixels differ\n", bad, n);
        CHECK(bad == 0);
        CHECK_OK(op_trimap_counts(dev, &tri, &fg, &bg, &unk));
        CHECK(fg == want[0] && bg == want[1] && unk == want[2]);
        printf("counts: foreground %zu, background %zu, unknown %zu\n", fg, bg, unk);
        free(got);
    }
    dev_image_release(dev, &tri);
    dev_image_release(dev, &mask);
    host_image_free(&hm);
    host_image_free(&ht);
}

/* Counts of hand-made values around the thresholds (0.9 and 0.1). */
static void test_trimap_counts(kiln_device *dev)
{
    static const float values[] = { 0.0f, 0.1f, 0.10001f, 0.5f, 0.89999f, 0.9f, 1.0f,
                                    -1.0f, 2.0f, NAN, 0.0f, 1.0f };
    dev_image tri;
    size_t fg = 9, bg = 9, unk = 9;

    CHECK_OK(test_put_floats(dev, 4, 3, 1, values, &tri));
    CHECK_OK(op_trimap_counts(dev, &tri, &fg, &bg, &unk));
    CHECK(fg == 4 && bg == 4 && unk == 4);
    CHECK_OK(op_trimap_counts(dev, &tri, NULL, NULL, &unk));
    dev_image_release(dev, &tri);
}

/* ---- the host reference of pymatting's system ---- */

/* Builds pymatting's (1.1.15) system in double, dense n x n (n = w * h):
 * the matting Laplacian L as cf_laplacian, restricted to the unknown
 * pixels U with the known pixels K fixed at their labels,
 * L_UU x_U = -L_UK fg_K, written over all pixels as a[i][i] = 1,
 * b_i = fg_i for known i (their rows and columns otherwise zero). */
static void ref_system(const float *img, const float *tri, uint32_t w, uint32_t h, int r,
                       double eps, double *a, double *b)
{
    size_t n = (size_t)w * h, npix = n;
    int ws = 2 * r + 1, wn = ws * ws;
    double *c = xmalloc((size_t)wn * 3 * sizeof(double));
    size_t *idx = xmalloc((size_t)wn * sizeof(size_t));

    memset(a, 0, n * n * sizeof(*a));
    for (int y = r; y < (int)h - r; y++) {
        for (int x = r; x < (int)w - r; x++) {
            double mean[3] = { 0, 0, 0 }, m[9], cov[6], det;
            for (int k = 0; k < wn; k++) {
                idx[k] = (size_t)(y - r + k / ws) * w + (size_t)(x - r + k % ws);
                for (int ch = 0; ch < 3; ch++)
                    mean[ch] += img[(size_t)ch * npix + idx[k]];
            }
            for (int ch = 0; ch < 3; ch++)
                mean[ch] /= wn;
            cov[0] = cov[3] = cov[5] = eps;
            cov[1] = cov[2] = cov[4] = 0;
            for (int k = 0; k < wn; k++) {
                for (int ch = 0; ch < 3; ch++)
                    c[k * 3 + ch] = img[(size_t)ch * npix + idx[k]] - mean[ch];
                cov[0] += c[k * 3] * c[k * 3];
                cov[1] += c[k * 3] * c[k * 3 + 1];
                cov[2] += c[k * 3] * c[k * 3 + 2];
                cov[3] += c[k * 3 + 1] * c[k * 3 + 1];
                cov[4] += c[k * 3 + 1] * c[k * 3 + 2];
                cov[5] += c[k * 3 + 2] * c[k * 3 + 2];
            }
            for (int k = 0; k < 6; k++)
                cov[k] /= wn;
            /* Inverse of the symmetric [a00 a01 a02; a01 a11 a12; a02 a12 a22]. */
            det = cov[0] * (cov[3] * cov[5] - cov[4] * cov[4]) -
                  cov[1] * (cov[1] * cov[5] - cov[4] * cov[2]) +
                  cov[2] * (cov[1] * cov[4] - cov[3] * cov[2]);
            m[0] = (cov[3] * cov[5] - cov[4] * cov[4]) / det;
            m[1] = m[3] = (cov[2] * cov[4] - cov[1] * cov[5]) / det;
            m[2] = m[6] = (cov[1] * cov[4] - cov[2] * cov[3]) / det;
            m[4] = (cov[0] * cov[5] - cov[2] * cov[2]) / det;
            m[5] = m[7] = (cov[1] * cov[2] - cov[0] * cov[4]) / det;
            m[8] = (cov[0] * cov[3] - cov[1] * cov[1]) / det;
            for (int i = 0; i < wn; i++) {
                const double *ci = c + i * 3;
                double u[3];
                for (int q = 0; q < 3; q++)
                    u[q] = m[q * 3] * ci[0] + m[q * 3 + 1] * ci[1] + m[q * 3 + 2] * ci[2];
                for (int j = 0; j < wn; j++) {
                    const double *cj = c + j * 3;
                    double t = u[0] * cj[0] + u[1] * cj[1] + u[2] * cj[2];
                    a[idx[i] * n + idx[j]] += (i == j ? 1.0 : 0.0) - (1.0 + t) / wn;
                }
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        int known_i = tri[i] >= 0.9f || tri[i] <= 0.1f;
        b[i] = known_i ? (tri[i] >= 0.9f ? 1.0 : 0.0) : 0.0;
        for (size_t j = 0; j < n && !known_i; j++)
            if (tri[j] >= 0.9f)
                b[i] -= a[i * n + j];
    }
    for (size_t i = 0; i < n; i++) {
        if (!(tri[i] >= 0.9f || tri[i] <= 0.1f))
            continue;
        for (size_t j = 0; j < n; j++)
            a[i * n + j] = a[j * n + i] = 0.0;
        a[i * n + i] = 1.0;
    }
    free(c);
    free(idx);
}

/* Solves the dense SPD system a x = b in place (Cholesky; b becomes x).
 * Returns 0, or -1 when a pivot is not positive. */
static int ref_cholesky_solve(double *a, double *b, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        double d = a[j * n + j];
        for (size_t k = 0; k < j; k++)
            d -= a[j * n + k] * a[j * n + k];
        if (!(d > 0.0))
            return -1;
        d = sqrt(d);
        a[j * n + j] = d;
        for (size_t i = j + 1; i < n; i++) {
            double v = a[i * n + j];
            for (size_t k = 0; k < j; k++)
                v -= a[i * n + k] * a[j * n + k];
            a[i * n + j] = v / d;
        }
    }
    for (size_t i = 0; i < n; i++) {
        double v = b[i];
        for (size_t k = 0; k < i; k++)
            v -= a[i * n + k] * b[k];
        b[i] = v / a[i * n + i];
    }
    for (size_t i = n; i-- > 0;) {
        double v = b[i];
        for (size_t k = i + 1; k < n; k++)
            v -= a[k * n + i] * b[k];
        b[i] = v / a[i * n + i];
    }
    return 0;
}

/* Fills a synthetic w x h case: smooth colours with noise, an exactly
 * gray patch, a trimap with a foreground/background contact in the top
 * rows (no unknown pixel near it), an unknown band below, and an unknown
 * corner on the bottom-right border. */
static void synth_fill(uint32_t w, uint32_t h, float *img, float *tri)
{
    size_t npix = (size_t)w * h;

    for (uint32_t y = 0; y < h; y++) {
        for (uint32_t x = 0; x < w; x++) {
            size_t p = (size_t)y * w + x;
            float fx = (float)x / (float)w, fy = (float)y / (float)h;
            const float base[3] = { 0.2f + 0.6f * fx, 0.7f - 0.4f * fy, 0.3f + 0.3f * fx * fy };
            int gray = x >= w / 3 && x < w / 2 && y >= h / 2;
            float g = 0.4f + 0.3f * fy + 0.05f * test_rng_unit();
            for (int c = 0; c < 3; c++) {
                float v = gray ? g : base[c] + 0.08f * (test_rng_unit() - 0.5f);
                img[(size_t)c * npix + p] = (float)(int)(v * 255.0f + 0.5f) / 255.0f;
            }
            if (y < h / 3) {
                tri[p] = x < w / 2 ? 1.0f : 0.0f;
            } else if (y >= h - 4 && x >= w - 5) {
                tri[p] = 0.5f;
            } else {
                float band = (float)x / (float)w;
                tri[p] = band < 0.3f ? 1.0f : band > 0.7f ? 0.0f : 0.5f;
            }
        }
    }
}

/* One synthetic case: the device alpha against the dense double solve. */
static void synth_case(kiln_device *dev, uint32_t w, uint32_t h, uint32_t radius)
{
    size_t n = (size_t)w * h;
    float *img = xmalloc(3 * n * sizeof(float)), *tri = xmalloc(n * sizeof(float));
    double *a = xmalloc(n * n * sizeof(double)), *b = xmalloc(n * sizeof(double));
    dev_image dimg, dtri, alpha;
    cf_params params;
    cf_stats stats;

    synth_fill(w, h, img, tri);
    cf_params_default(&params);
    params.radius = radius;
    ref_system(img, tri, w, h, (int)radius, params.epsilon, a, b);
    CHECK(ref_cholesky_solve(a, b, n) == 0);
    CHECK_OK(test_put_floats(dev, w, h, 3, img, &dimg));
    CHECK_OK(test_put_floats(dev, w, h, 1, tri, &dtri));
    CHECK_OK(op_alpha_cf(dev, &dimg, &dtri, &params, &alpha, &stats));
    if (alpha.buf) {
        float *got = get_floats(dev, &alpha);
        double worst = 0.0;
        for (size_t i = 0; i < n; i++) {
            double want = b[i] < 0.0 ? 0.0 : b[i] > 1.0 ? 1.0 : b[i];
            double d = fabs((double)got[i] - want);
            if (d > worst || isnan(d))
                worst = d;
        }
        printf("synthetic %ux%u radius %u: max |alpha - exact| %.2e, %u iterations, "
               "residual %.2e, %zu unknown, %zu active\n", (unsigned)w, (unsigned)h,
               (unsigned)radius, worst, (unsigned)stats.iterations, (double)stats.residual,
               stats.unknown, stats.active);
        CHECK(worst <= SYNTH_TOL);
        CHECK(stats.active == stats.unknown && stats.unknown > 0);
        free(got);
    }
    dev_image_release(dev, &alpha);
    dev_image_release(dev, &dtri);
    dev_image_release(dev, &dimg);
    free(img);
    free(tri);
    free(a);
    free(b);
}

/* Tiny images (one level-1 tile, a 3x3 image with a single window) and
 * a trimap without foreground: the device alpha against the dense solve. */
static void test_tiny(kiln_device *dev)
{
    static const uint32_t sizes[][3] = { { 3, 3, 0 }, { 4, 5, 0 }, { 9, 3, 0 }, { 6, 7, 1 } };

    for (size_t c = 0; c < sizeof(sizes) / sizeof(sizes[0]); c++) {
        uint32_t w = sizes[c][0], h = sizes[c][1];
        size_t n = (size_t)w * h;
        float *img = xmalloc(3 * n * sizeof(float)), *tri = xmalloc(n * sizeof(float));
        double *a = xmalloc(n * n * sizeof(double)), *b = xmalloc(n * sizeof(double));
        dev_image dimg, dtri, alpha;
        cf_params params;
        cf_stats stats;

        for (size_t i = 0; i < 3 * n; i++)
            img[i] = test_rng_unit();
        for (size_t i = 0; i < n; i++) {
            uint32_t x = (uint32_t)(i % w);
            tri[i] = x == 0 ? (sizes[c][2] ? 0.0f : 1.0f) : x == w - 1 ? 0.0f : 0.5f;
        }
        cf_params_default(&params);
        ref_system(img, tri, w, h, 1, params.epsilon, a, b);
        CHECK(ref_cholesky_solve(a, b, n) == 0);
        CHECK_OK(test_put_floats(dev, w, h, 3, img, &dimg));
        CHECK_OK(test_put_floats(dev, w, h, 1, tri, &dtri));
        CHECK_OK(op_alpha_cf(dev, &dimg, &dtri, &params, &alpha, &stats));
        if (alpha.buf) {
            float *got = get_floats(dev, &alpha);
            double worst = 0.0;
            for (size_t i = 0; i < n; i++) {
                double want = b[i] < 0.0 ? 0.0 : b[i] > 1.0 ? 1.0 : b[i];
                double d = fabs((double)got[i] - want);
                if (d > worst || isnan(d))
                    worst = d;
            }
            if (worst > SYNTH_TOL)
                fprintf(stderr, "tiny %ux%u: max |alpha - exact| %.2e\n", (unsigned)w,
                        (unsigned)h, worst);
            CHECK(worst <= SYNTH_TOL);
            CHECK(stats.active == stats.unknown && stats.unknown > 0);
            free(got);
        }
        dev_image_release(dev, &alpha);
        dev_image_release(dev, &dtri);
        dev_image_release(dev, &dimg);
        free(img);
        free(tri);
        free(a);
        free(b);
    }
}

/* ---- parity with pymatting ---- */

/* Loads `name` from dir into *img; returns 0, or -1 (image zeroed). */
static int load_png(const char *dir, const char *name, host_image *img)
{
    char path[8192];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (png_read_file(path, 0, img) != KILN_OK) {
        memset(img, 0, sizeof(*img));
        return -1;
    }
    return 0;
}

/* Uploads a host image and converts it to `channels` channels. */
static kiln_status upload_as(kiln_device *dev, const host_image *h, uint32_t channels,
                             dev_image *out)
{
    dev_image raw;
    kiln_status st = dev_image_upload(dev, h, NULL, NULL, &raw);

    if (st != KILN_OK) {
        memset(out, 0, sizeof(*out));
        return st;
    }
    if (raw.channels == channels) {
        *out = raw;
        return KILN_OK;
    }
    st = op_convert_channels(dev, &raw, channels, out);
    dev_image_release(dev, &raw);
    return st;
}

/* Parity on <name>.png with trimap `trimap_file` against
 * <name>_alpha_cf.png (16-bit), over the trimap's unknown pixels (neither
 * 0 nor 255).  Runs twice: the first run includes kernel compilation, the
 * second is timed warm. */
static void parity_case(kiln_device *dev, const char *dir, const char *name,
                        const char *trimap_file)
{
    char file[256];
    host_image him, htri, href;
    dev_image img, tri, alpha;
    cf_stats stats;
    double ms = 0.0;

    snprintf(file, sizeof(file), "%s.png", name);
    CHECK(load_png(dir, file, &him) == 0);
    CHECK(load_png(dir, trimap_file, &htri) == 0);
    snprintf(file, sizeof(file), "%s_alpha_cf.png", name);
    CHECK(load_png(dir, file, &href) == 0);
    CHECK(href.channels == 1 && href.bit_depth == 16);
    CHECK(htri.bit_depth == 8);
    CHECK_OK(upload_as(dev, &him, 3, &img));
    CHECK_OK(upload_as(dev, &htri, 1, &tri));
    memset(&alpha, 0, sizeof(alpha));
    if (img.buf && tri.buf && href.channels == 1 && htri.bit_depth == 8) {
        for (int run = 0; run < 2; run++) {
            double t0;
            dev_image_release(dev, &alpha);
            t0 = test_now_ms();
            CHECK_OK(op_alpha_cf(dev, &img, &tri, NULL, &alpha, &stats));
            CHECK_OK(device_finish(dev));
            ms = test_now_ms() - t0;
        }
    }
    if (alpha.buf) {
        float *got = get_floats(dev, &alpha);
        size_t n = (size_t)href.width * href.height, unknown = 0;
        double sad = 0.0, sq = 0.0;
        for (size_t i = 0; i < n; i++) {
            uint8_t t = ((const uint8_t *)htri.pixels)[i * htri.channels];
            double d;
            if (t == 0 || t == 255)
                continue;
            d = (double)got[i] - ((const uint16_t *)href.pixels)[i] / 65535.0;
            sad += fabs(d);
            sq += d * d;
            unknown++;
        }
        printf("%s: SAD/1000 %.4f, MSE %.3g over %zu unknown pixels; %u iterations, "
               "residual %.2e, %zu active pixels, %.1f ms warm, peak %zu device bytes\n",
               name, sad / 1000.0, unknown ? sq / (double)unknown : 0.0, unknown,
               (unsigned)stats.iterations, (double)stats.residual, stats.active, ms,
               stats.device_bytes);
        CHECK(unknown == stats.unknown);
        CHECK(sad / 1000.0 <= PARITY_SAD);
        CHECK(unknown && sq / (double)unknown <= PARITY_MSE);
        free(got);
    }
    dev_image_release(dev, &alpha);
    dev_image_release(dev, &tri);
    dev_image_release(dev, &img);
    host_image_free(&him);
    host_image_free(&htri);
    host_image_free(&href);
}

/* ---- edge cases and failures ---- */

/* A trimap with only known pixels comes back as the alpha. */
static void test_no_unknown(kiln_device *dev)
{
    const uint32_t w = 19, h = 13;
    size_t n = (size_t)w * h;
    float *img = xmalloc(3 * n * sizeof(float)), *tri = xmalloc(n * sizeof(float));
    dev_image dimg, dtri, alpha;
    cf_stats stats;

    for (size_t i = 0; i < 3 * n; i++)
        img[i] = test_rng_unit();
    for (size_t i = 0; i < n; i++)
        tri[i] = (i % w) < w / 2 ? 1.0f : 0.0f;
    CHECK_OK(test_put_floats(dev, w, h, 3, img, &dimg));
    CHECK_OK(test_put_floats(dev, w, h, 1, tri, &dtri));
    CHECK_OK(op_alpha_cf(dev, &dimg, &dtri, NULL, &alpha, &stats));
    if (alpha.buf) {
        float *got = get_floats(dev, &alpha);
        CHECK(memcmp(got, tri, n * sizeof(float)) == 0);
        CHECK(stats.unknown == 0 && stats.iterations == 0);
        free(got);
    }
    dev_image_release(dev, &alpha);
    dev_image_release(dev, &dtri);
    dev_image_release(dev, &dimg);
    free(img);
    free(tri);
}

/* Fills a w x h case for the failure tests (random colours, an unknown
 * band in the middle). */
static void failure_inputs(kiln_device *dev, uint32_t w, uint32_t h, dev_image *img,
                           dev_image *tri)
{
    size_t n = (size_t)w * h;
    float *pi = xmalloc(3 * n * sizeof(float)), *pt = xmalloc(n * sizeof(float));

    for (size_t i = 0; i < 3 * n; i++)
        pi[i] = test_rng_unit();
    for (size_t i = 0; i < n; i++) {
        uint32_t x = (uint32_t)(i % w);
        pt[i] = x < w / 3 ? 1.0f : x >= 2 * w / 3 ? 0.0f : 0.5f;
    }
    CHECK_OK(test_put_floats(dev, w, h, 3, pi, img));
    CHECK_OK(test_put_floats(dev, w, h, 1, pt, tri));
    free(pi);
    free(pt);
}

/* A pool too small for the solve: KILN_E_NOMEM, output empty, nothing
 * left live but the inputs. */
static void test_small_budget(void)
{
    kiln_device *dev = test_device_open(96 * 1024);
    dev_image img, tri, alpha;
    size_t before;

    failure_inputs(dev, 64, 64, &img, &tri);
    before = live_objects(dev);
    CHECK_STATUS(op_alpha_cf(dev, &img, &tri, NULL, &alpha, NULL), KILN_E_NOMEM);
    CHECK(alpha.buf == NULL);
    CHECK(live_objects(dev) == before);
    dev_image_release(dev, &tri);
    dev_image_release(dev, &img);
    test_device_close(dev);
}

/* Fails each buffer creation of a cold solve in turn (fresh device each
 * time so that nothing is served from the cache): every run returns
 * KILN_E_NOMEM with nothing leaked; with no fault it succeeds. */
static void test_fault_injection(void)
{
    uint64_t creations = 0;

    for (uint64_t nth = 0;; nth++) {
        kiln_device *dev = test_device_open(0);
        dev_image img, tri, alpha;
        pool_ledger before, after;
        kiln_status st;

        failure_inputs(dev, 40, 30, &img, &tri);
        pool_ledger_get(dev->pool, &before);
        pool_fail_nth_creation(dev->pool, nth);
        st = op_alpha_cf(dev, &img, &tri, NULL, &alpha, NULL);
        pool_fail_nth_creation(dev->pool, 0);
        pool_ledger_get(dev->pool, &after);
        if (nth == 0) {
            CHECK_OK(st);
            creations = after.creations - before.creations;
            CHECK(creations > 0);
            dev_image_release(dev, &alpha);
        } else {
            CHECK_STATUS(st, KILN_E_NOMEM);
            CHECK(alpha.buf == NULL);
        }
        CHECK(after.live_objects == before.live_objects + (st == KILN_OK ? 1u : 0u));
        dev_image_release(dev, &tri);
        dev_image_release(dev, &img);
        test_device_close(dev);
        if (nth >= creations)
            break;
    }
    printf("fault injection: each of %u buffer creations failed in turn\n",
           (unsigned)creations);
}

/* Bad arguments: channel counts, sizes, parameters, aliasing. */
static void test_bad_arguments(kiln_device *dev)
{
    float data[3 * 16 * 16];
    dev_image img, gray, tri, small3, small1, other, out;
    cf_params p;
    size_t count;

    for (size_t i = 0; i < sizeof(data) / sizeof(data[0]); i++)
        data[i] = 0.5f;
    CHECK_OK(test_put_floats(dev, 16, 16, 3, data, &img));
    CHECK_OK(test_put_floats(dev, 16, 16, 1, data, &gray));
    CHECK_OK(test_put_floats(dev, 16, 16, 1, data, &tri));
    CHECK_OK(test_put_floats(dev, 2, 2, 3, data, &small3));
    CHECK_OK(test_put_floats(dev, 2, 2, 1, data, &small1));
    CHECK_OK(test_put_floats(dev, 16, 15, 1, data, &other));

    CHECK_STATUS(op_alpha_cf(dev, &gray, &tri, NULL, &out, NULL), KILN_E_INVAL);
    CHECK_MSG("channels");
    CHECK(out.buf == NULL);
    CHECK_STATUS(op_alpha_cf(dev, &img, &img, NULL, &out, NULL), KILN_E_INVAL);
    CHECK_STATUS(op_alpha_cf(dev, &img, &other, NULL, &out, NULL), KILN_E_INVAL);
    CHECK_MSG("size");
    CHECK_STATUS(op_alpha_cf(dev, &small3, &small1, NULL, &out, NULL), KILN_E_INVAL);
    CHECK_MSG("window");
    CHECK_STATUS(op_alpha_cf(dev, &img, &tri, NULL, NULL, NULL), KILN_E_INVAL);
    CHECK_STATUS(op_alpha_cf(NULL, &img, &tri, NULL, &out, NULL), KILN_E_INVAL);
    CHECK_STATUS(op_alpha_cf(dev, NULL, &tri, NULL, &out, NULL), KILN_E_INVAL);
    CHECK_STATUS(op_alpha_cf(dev, &img, &tri, NULL, &tri, NULL), KILN_E_INVAL);
    cf_params_default(&p);
    p.radius = 0;
    CHECK_STATUS(op_alpha_cf(dev, &img, &tri, &p, &out, NULL), KILN_E_INVAL);
    p.radius = 5;
    CHECK_STATUS(op_alpha_cf(dev, &img, &tri, &p, &out, NULL), KILN_E_INVAL);
    cf_params_default(&p);
    p.epsilon = 0.0f;
    CHECK_STATUS(op_alpha_cf(dev, &img, &tri, &p, &out, NULL), KILN_E_INVAL);
    cf_params_default(&p);
    p.epsilon = NAN;
    CHECK_STATUS(op_alpha_cf(dev, &img, &tri, &p, &out, NULL), KILN_E_INVAL);
    cf_params_default(&p);
    p.tolerance = 0.0f;
    CHECK_STATUS(op_alpha_cf(dev, &img, &tri, &p, &out, NULL), KILN_E_INVAL);
    cf_params_default(&p);
    p.max_iterations = 0;
    CHECK_STATUS(op_alpha_cf(dev, &img, &tri, &p, &out, NULL), KILN_E_INVAL);

    CHECK_STATUS(op_trimap_from_mask(dev, &img, 240.0f, 10.0f, 10, &out), KILN_E_INVAL);
    CHECK_MSG("channels");
    CHECK_STATUS(op_trimap_from_mask(dev, &gray, NAN, 10.0f, 10, &out), KILN_E_INVAL);
    CHECK_STATUS(op_trimap_from_mask(dev, &gray, 240.0f, 10.0f, 100000, &out), KILN_E_INVAL);
    CHECK_STATUS(op_trimap_from_mask(dev, &gray, 240.0f, 10.0f, 10, NULL), KILN_E_INVAL);
    CHECK_STATUS(op_trimap_from_mask(dev, &gray, 240.0f, 10.0f, 10, &gray), KILN_E_INVAL);
    CHECK_STATUS(op_trimap_from_mask(NULL, &gray, 240.0f, 10.0f, 10, &out), KILN_E_INVAL);
    CHECK(out.buf == NULL);
    CHECK_STATUS(op_trimap_counts(dev, &img, &count, &count, &count), KILN_E_INVAL);
    CHECK_STATUS(op_trimap_counts(NULL, &gray, &count, &count, &count), KILN_E_INVAL);

    dev_image_release(dev, &other);
    dev_image_release(dev, &small1);
    dev_image_release(dev, &small3);
    dev_image_release(dev, &tri);
    dev_image_release(dev, &gray);
    dev_image_release(dev, &img);
}

/* Runs every test; skips when the reference data is missing. */
int main(void)
{
    char dir[4096], probe[4200];
    const char *env = getenv("REFDATA_DIR"), *top = getenv("TOP_SRCDIR");
    host_image h;
    kiln_device *dev;

    test_rng_seed(0x9E3779B9u);

    if (env && *env)
        snprintf(dir, sizeof(dir), "%s", env);
    else
        snprintf(dir, sizeof(dir), "%s/../shared/refdata/matting", top && *top ? top : ".");
    snprintf(probe, sizeof(probe), "%s/astronaut_trimap_rembg.png", dir);
    if (png_read_header(probe, 0, &h) != KILN_OK) {
        fprintf(stderr, "matting reference data not found in %s: skipping\n", dir);
        return 77;
    }

    dev = test_device_open(0);
    test_trimap_random(dev);
    test_trimap_rembg(dev, dir);
    test_trimap_counts(dev);
    synth_case(dev, 24, 20, 1);
    synth_case(dev, 31, 22, 2);
    synth_case(dev, 36, 28, 3);
    test_tiny(dev);
    parity_case(dev, dir, "lemur", "lemur_trimap.png");
    parity_case(dev, dir, "astronaut", "astronaut_trimap_rembg.png");
    test_no_unknown(dev);
    test_bad_arguments(dev);
    test_device_close(dev);

    test_small_budget();
    test_fault_injection();
    return test_summary("test_matting_cf");
}
