/* Tests of the device image ops (engine/dev_image.c, engine/ops_image.c)
 * against host reference implementations written here as plain float
 * loops, on random images (fixed seed) of odd sizes.
 *
 * Tolerances: |got - want| <= atol + rtol * |want| with atol = rtol = 1e-5
 * for every op except Lanczos-3 resize, which allows atol = 1e-4 (the
 * device's sinpi and its divisions are not correctly rounded, and up to
 * ~35 taps accumulate).  8- and 16-bit downloads and upload/download round
 * trips must be exact.  The resize references follow PIL's
 * precompute_coeffs (Pillow's src/libImaging/Resample.c) for area (BOX)
 * and Lanczos-3, and OpenCV's INTER_LINEAR coordinate rule for bilinear;
 * a few hand-computed values pin those conventions independently.
 *
 * Every device opened here is closed through test_device_close, which
 * fails the test when the pool still holds a live buffer. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev_image.h"
#include "ops_image.h"
#include "testutil.h"

#define TOL_ABS 1e-5f
#define TOL_REL 1e-5f
#define TOL_LANCZOS_ABS 1e-4f

/* Returns a uniform float in [lo, hi). */
static float rng_float(float lo, float hi)
{
    return lo + (hi - lo) * (float)(test_rng_next() >> 8) / 16777216.0f;
}

/* Mallocs n floats uniform in [lo, hi); exits on host OOM. */
static float *rand_floats(size_t n, float lo, float hi)
{
    float *p = malloc(n * sizeof(*p));
    if (!p) {
        fprintf(stderr, "out of host memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++)
        p[i] = rng_float(lo, hi);
    return p;
}

/* Mallocs n floats (uninitialised); exits on host OOM. */
static float *alloc_floats(size_t n)
{
    float *p = malloc(n * sizeof(*p));
    if (!p) {
        fprintf(stderr, "out of host memory\n");
        exit(1);
    }
    return p;
}

/* Compares n floats with |got - want| <= atol + rtol |want| (two NaNs
 * match), prints the first mismatches under `label`, counts one check,
 * and returns the largest absolute difference. */
static float compare(const float *got, const float *want, size_t n, float atol,
                     float rtol, const char *label)
{
    size_t bad = 0;
    float worst = 0.0f;

    for (size_t i = 0; i < n; i++) {
        float d = fabsf(got[i] - want[i]);
        if (isnan(got[i]) && isnan(want[i]))
            continue;
        if (!(d <= atol + rtol * fabsf(want[i]))) {
            if (bad < 5)
                fprintf(stderr, "%s: [%zu] got %.9g want %.9g\n", label, i,
                        (double)got[i], (double)want[i]);
            bad++;
        }
        if (d > worst || isnan(d))
            worst = d;
    }
    test_checks++;
    if (bad) {
        test_failures++;
        fprintf(stderr, "%s: %zu of %zu values out of tolerance\n", label, bad, n);
    }
    return worst;
}

/* ---- host references ---- */

/* Reference upload: planar (sample / maxval - mean[c]) / std[c]. */
static void ref_upload(const host_image *h, const float *mean, const float *std, float *out)
{
    size_t npix = (size_t)h->width * h->height;
    float maxval = h->bit_depth == 8 ? 255.0f : 65535.0f;

    for (size_t p = 0; p < npix; p++) {
        for (uint32_t c = 0; c < h->channels; c++) {
            size_t i = p * h->channels + c;
            float x = h->bit_depth == 8 ? (float)((const uint8_t *)h->pixels)[i]
                                        : (float)((const uint16_t *)h->pixels)[i];
            float m = mean ? mean[c] : 0.0f, s = std ? std[c] : 1.0f;
            out[c * npix + p] = (x / maxval - m) / s;
        }
    }
}

/* Reference quantisation of one sample: round(v * maxval) to nearest even,
 * saturated; NaN gives 0. */
static uint32_t ref_quantise(float v, float maxval)
{
    float x = v * maxval;
    if (isnan(x) || x <= 0.0f)
        return 0;
    if (x >= maxval)
        return (uint32_t)maxval;
    return (uint32_t)nearbyintf(x);
}

/* Filter support and window rounding as PIL's precompute_coeffs, in
 * double precision as Pillow computes them (a box window edge can fall
 * exactly on the filter's boundary: 37 -> 20 does). */
typedef struct ref_axis {
    double scale, support, filterscale;
    int ksize;
} ref_axis;

/* Fills *a for in -> out with `filter` (as ops_image.c documents). */
static void ref_axis_init(ref_axis *a, uint32_t in, uint32_t out, int filter)
{
    double scale = (double)in / (double)out;
    double fs = scale < 1.0 ? 1.0 : scale;
    double base = filter == RESIZE_LANCZOS3 ? 3.0 : 0.5;

    a->scale = scale;
    a->support = base * fs;
    a->filterscale = fs;
    a->ksize = 2 * (int)ceil(a->support) + 1;
}

/* sin(pi x) / (pi x) in double. */
static double ref_sinc(double x)
{
    if (x == 0.0)
        return 1.0;
    return sin(M_PI * x) / (M_PI * x);
}

/* PIL's box and Lanczos-3 filters, in double. */
static double ref_filter(int filter, double x)
{
    if (filter == RESIZE_AREA)
        return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0;
    if (x > -3.0 && x < 3.0)
        return ref_sinc(x) * ref_sinc(x / 3.0);
    return 0.0;
}

/* Computes output coordinate o's window (*first, *count) and normalised
 * weights w[0..count-1]. */
static void ref_window(const ref_axis *a, uint32_t in, uint32_t o, int filter,
                       int *first, int *count, float *w)
{
    double centre = ((double)o + 0.5) * a->scale;
    int lo = (int)(centre - a->support + 0.5);
    int hi = (int)(centre + a->support + 0.5);
    double sum = 0.0, wd[1024];

    if (lo < 0)
        lo = 0;
    if (hi > (int)in)
        hi = (int)in;
    *first = lo;
    *count = hi - lo;
    for (int k = 0; k < *count && k < 1024; k++) {
        wd[k] = ref_filter(filter, ((double)(k + lo) - centre + 0.5) / a->filterscale);
        sum += wd[k];
    }
    for (int k = 0; k < *count && k < 1024; k++)
        w[k] = (float)(sum != 0.0 ? wd[k] / sum : wd[k]);
}

/* OpenCV INTER_LINEAR taps of output coordinate o. */
static void ref_linear(uint32_t in, uint32_t out, uint32_t o, int *i0, int *i1, float *f)
{
    float scale = (float)((double)in / (double)out);
    float s = ((float)o + 0.5f) * scale - 0.5f;
    float fl = floorf(s);
    int x0 = (int)fl;
    float frac = s - fl;

    if (x0 < 0) {
        x0 = 0;
        frac = 0.0f;
    }
    if (x0 >= (int)in - 1) {
        x0 = (int)in - 1;
        frac = 0.0f;
    }
    *i0 = x0;
    *i1 = x0 + 1 < (int)in ? x0 + 1 : x0;
    *f = frac;
}

/* Resamples `n` lines of `in` samples (sample k of line j at
 * src[j * line + k * step]) to `out` samples into dst with the same
 * layout convention (dst_line, step). */
static void ref_resample(const float *src, float *dst, size_t n, size_t src_line,
                         size_t dst_line, size_t step, uint32_t in, uint32_t out, int filter)
{
    ref_axis a;
    float *w;

    ref_axis_init(&a, in, out, filter);
    w = alloc_floats((size_t)a.ksize + 2 * in + 8);
    for (uint32_t o = 0; o < out; o++) {
        int first = 0, count = 0, i0 = 0, i1 = 0;
        float f = 0.0f;
        if (filter == RESIZE_BILINEAR)
            ref_linear(in, out, o, &i0, &i1, &f);
        else
            ref_window(&a, in, o, filter, &first, &count, w);
        for (size_t j = 0; j < n; j++) {
            const float *s = src + j * src_line;
            float acc = 0.0f;
            if (filter == RESIZE_BILINEAR) {
                acc = s[(size_t)i0 * step] * (1.0f - f) + s[(size_t)i1 * step] * f;
            } else {
                for (int k = 0; k < count; k++)
                    acc += w[k] * s[(size_t)(first + k) * step];
            }
            dst[j * dst_line + (size_t)o * step] = acc;
        }
    }
    free(w);
}

/* Reference resize of a planar c x h x w image to ow x oh: horizontal
 * then vertical, skipping an axis whose size does not change. */
static void ref_resize(const float *src, uint32_t w, uint32_t h, uint32_t c,
                       uint32_t ow, uint32_t oh, int filter, float *dst)
{
    float *tmp = alloc_floats((size_t)ow * h * c);

    if (ow != w)
        ref_resample(src, tmp, (size_t)h * c, w, ow, 1, w, ow, filter);
    else
        memcpy(tmp, src, (size_t)w * h * c * sizeof(*tmp));
    if (oh != h) {
        for (uint32_t ch = 0; ch < c; ch++)
            for (uint32_t x = 0; x < ow; x++)
                ref_resample(tmp + (size_t)ch * h * ow + x, dst + (size_t)ch * oh * ow + x,
                             1, 0, 0, ow, h, oh, filter);
    } else {
        memcpy(dst, tmp, (size_t)ow * h * c * sizeof(*dst));
    }
    free(tmp);
}

/* Reference channel-layout conversion (see op_convert_channels). */
static void ref_convert(const float *src, size_t npix, uint32_t cin, uint32_t cout, float *dst)
{
    for (size_t p = 0; p < npix; p++) {
        float r, g, b, gray, a;
        if (cin <= 2) {
            gray = src[p];
            r = g = b = gray;
        } else {
            r = src[p];
            g = src[npix + p];
            b = src[2 * npix + p];
            gray = 0.299f * r + 0.587f * g + 0.114f * b;
        }
        a = cin == 2 ? src[npix + p] : cin == 4 ? src[3 * npix + p] : 1.0f;
        if (cout <= 2) {
            dst[p] = gray;
            if (cout == 2)
                dst[npix + p] = a;
        } else {
            dst[p] = r;
            dst[npix + p] = g;
            dst[2 * npix + p] = b;
            if (cout == 4)
                dst[3 * npix + p] = a;
        }
    }
}

/* Reference "over": fg over bg with alpha clamped to [0,1]. */
static float ref_over(float fg, float bg, float alpha, int premultiplied)
{
    float a = alpha < 0.0f ? 0.0f : alpha > 1.0f ? 1.0f : alpha;
    float front = premultiplied ? fg : fg * a;
    return front + bg * (1.0f - a);
}

/* ---- tests ---- */

/* Fills a host image with random samples (full range). */
static void fill_host(host_image *h)
{
    size_t n = (size_t)h->width * h->height * h->channels;
    for (size_t i = 0; i < n; i++) {
        if (h->bit_depth == 8)
            ((uint8_t *)h->pixels)[i] = (uint8_t)(test_rng_next() >> 24);
        else
            ((uint16_t *)h->pixels)[i] = (uint16_t)(test_rng_next() >> 16);
    }
    if (n >= 2 && h->bit_depth == 8) {
        ((uint8_t *)h->pixels)[0] = 0;
        ((uint8_t *)h->pixels)[1] = 255;
    } else if (n >= 2) {
        ((uint16_t *)h->pixels)[0] = 0;
        ((uint16_t *)h->pixels)[1] = 65535;
    }
}

/* Upload then download must give back the same samples at 8 and 16 bits;
 * upload with mean/std must match the reference. */
static void test_roundtrip(kiln_device *dev)
{
    static const uint32_t sizes[][2] = { { 37, 23 }, { 1, 1 }, { 640, 3 } };
    static const float mean[4] = { 0.485f, 0.456f, 0.406f, 0.5f };
    static const float std[4] = { 0.229f, 0.224f, 0.225f, 0.25f };

    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        for (uint32_t c = 1; c <= 4; c++) {
            for (uint32_t bd = 8; bd <= 16; bd += 8) {
                host_image h, back;
                dev_image img, norm;
                size_t n = (size_t)sizes[s][0] * sizes[s][1] * c;
                float *got = alloc_floats(n), *want = alloc_floats(n);
                char label[96];

                snprintf(label, sizeof(label), "upload %ux%ux%u %u-bit",
                         (unsigned)sizes[s][0], (unsigned)sizes[s][1], (unsigned)c,
                         (unsigned)bd);
                CHECK_OK(host_image_alloc(&h, sizes[s][0], sizes[s][1], c, bd));
                fill_host(&h);
                CHECK_OK(dev_image_upload(dev, &h, NULL, NULL, &img));
                CHECK(img.width == sizes[s][0] && img.height == sizes[s][1] && img.channels == c);
                CHECK_OK(test_get_floats(dev, &img, got));
                ref_upload(&h, NULL, NULL, want);
                compare(got, want, n, TOL_ABS, TOL_REL, label);
                CHECK_OK(dev_image_download(dev, &img, bd, &back));
                CHECK(back.width == h.width && back.height == h.height &&
                      back.channels == c && back.bit_depth == bd);
                CHECK(back.pixels && memcmp(back.pixels, h.pixels, host_image_bytes(&h)) == 0);

                CHECK_OK(dev_image_upload(dev, &h, mean, std, &norm));
                CHECK_OK(test_get_floats(dev, &norm, got));
                ref_upload(&h, mean, std, want);
                compare(got, want, n, TOL_ABS, TOL_REL, label);

                dev_image_release(dev, &norm);
                dev_image_release(dev, &img);
                host_image_free(&back);
                host_image_free(&h);
                free(got);
                free(want);
            }
        }
    }
}

/* Downloads of arbitrary floats (out of range, NaN, infinities, halves)
 * must round to nearest even and saturate exactly as the reference. */
static void test_download_rounding(kiln_device *dev)
{
    const uint32_t w = 29, h = 7, c = 3;
    size_t n = (size_t)w * h * c, npix = (size_t)w * h;
    float *data = rand_floats(n, -0.25f, 1.25f);
    dev_image img;

    data[0] = NAN;
    data[1] = INFINITY;
    data[2] = -INFINITY;
    data[3] = 0.5f / 255.0f;
    data[4] = 1.5f / 255.0f;
    data[5] = 1.0f;
    data[6] = 0.0f;
    data[7] = -0.0f;
    data[8] = 0.5f / 65535.0f;
    data[9] = 2.5f / 65535.0f;
    CHECK_OK(test_put_floats(dev, w, h, c, data, &img));
    for (uint32_t bd = 8; bd <= 16; bd += 8) {
        host_image out;
        size_t bad = 0;
        float maxval = bd == 8 ? 255.0f : 65535.0f;

        CHECK_OK(dev_image_download(dev, &img, bd, &out));
        if (!out.pixels)
            continue;
        for (size_t p = 0; p < npix; p++) {
            for (uint32_t ch = 0; ch < c; ch++) {
                uint32_t want = ref_quantise(data[ch * npix + p], maxval);
                size_t i = p * c + ch;
                uint32_t got = bd == 8 ? ((uint8_t *)out.pixels)[i]
                                       : ((uint16_t *)out.pixels)[i];
                if (got != want && bad++ < 5)
                    fprintf(stderr, "download %u-bit: sample %zu (%.9g): got %u want %u\n",
                            (unsigned)bd, i, (double)data[ch * npix + p],
                            (unsigned)got, (unsigned)want);
            }
        }
        CHECK(bad == 0);
        host_image_free(&out);
    }
    dev_image_release(dev, &img);
    free(data);
}

/* Each filter on a set of shapes against the reference; prints the
 * largest difference per filter. */
static void test_resize(kiln_device *dev)
{
    static const uint32_t cases[][5] = {
        /* w, h, channels, out w, out h */
        { 37, 23, 3, 37, 23 },
        { 37, 23, 3, 20, 11 },
        { 640, 480, 3, 123, 77 },
        { 20, 10, 3, 64, 45 },
        { 1, 1, 3, 5, 3 },
        { 37, 23, 1, 1, 1 },
        { 37, 23, 4, 37, 50 },
        { 37, 23, 2, 80, 23 },
        { 3, 5, 1, 2, 7 },
        { 101, 1, 3, 7, 1 },
    };
    static const char *names[] = { "bilinear", "area", "lanczos3" };

    for (int filter = RESIZE_BILINEAR; filter <= RESIZE_LANCZOS3; filter++) {
        float worst = 0.0f;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            const uint32_t *k = cases[i];
            size_t n_in = (size_t)k[0] * k[1] * k[2], n_out = (size_t)k[3] * k[4] * k[2];
            float *src = rand_floats(n_in, 0.0f, 1.0f);
            float *got = alloc_floats(n_out), *want = alloc_floats(n_out);
            dev_image in, out;
            char label[96];

            snprintf(label, sizeof(label), "resize %s %ux%ux%u -> %ux%u", names[filter],
                     (unsigned)k[0], (unsigned)k[1], (unsigned)k[2], (unsigned)k[3],
                     (unsigned)k[4]);
            CHECK_OK(test_put_floats(dev, k[0], k[1], k[2], src, &in));
            CHECK_OK(op_resize(dev, &in, k[3], k[4], (resize_filter)filter, &out));
            CHECK(out.width == k[3] && out.height == k[4] && out.channels == k[2]);
            if (out.buf) {
                CHECK_OK(test_get_floats(dev, &out, got));
                ref_resize(src, k[0], k[1], k[2], k[3], k[4], filter, want);
                float d = compare(got, want, n_out,
                                  filter == RESIZE_LANCZOS3 ? TOL_LANCZOS_ABS : TOL_ABS,
                                  TOL_REL, label);
                if (d > worst)
                    worst = d;
            }
            dev_image_release(dev, &out);
            dev_image_release(dev, &in);
            free(src);
            free(got);
            free(want);
        }
        printf("resize %s: largest difference from the reference %.3g\n", names[filter],
               (double)worst);
    }
}

/* Runs op_resize on a small host image and reads the result into got
 * (ow * oh * c floats). */
static void resize_small(kiln_device *dev, const float *src, uint32_t w, uint32_t h,
                         uint32_t c, uint32_t ow, uint32_t oh, resize_filter filter,
                         float *got)
{
    dev_image in, out;

    memset(got, 0, (size_t)ow * oh * c * sizeof(*got));
    CHECK_OK(test_put_floats(dev, w, h, c, src, &in));
    CHECK_OK(op_resize(dev, &in, ow, oh, filter, &out));
    if (out.buf)
        CHECK_OK(test_get_floats(dev, &out, got));
    dev_image_release(dev, &out);
    dev_image_release(dev, &in);
}

/* Hand-computed values that pin the conventions independently of the
 * reference: PIL/OpenCV bilinear upscale of [0, 1] to 4 samples is
 * [0, .25, .75, 1]; a 2x area or bilinear downscale averages pairs; every
 * filter keeps a constant image constant. */
static void test_resize_known(kiln_device *dev)
{
    static const float ramp[2] = { 0.0f, 1.0f };
    static const float up[4] = { 0.0f, 0.25f, 0.75f, 1.0f };
    static const float row[4] = { 0.1f, 0.3f, 0.6f, 1.0f };
    static const float pairs[2] = { 0.2f, 0.8f };
    float got[64], want[64], *flat;

    resize_small(dev, ramp, 2, 1, 1, 4, 1, RESIZE_BILINEAR, got);
    compare(got, up, 4, 1e-6f, 0.0f, "bilinear 2 -> 4");
    resize_small(dev, ramp, 1, 2, 1, 1, 4, RESIZE_BILINEAR, got);
    compare(got, up, 4, 1e-6f, 0.0f, "bilinear vertical 2 -> 4");
    resize_small(dev, row, 4, 1, 1, 2, 1, RESIZE_AREA, got);
    compare(got, pairs, 2, 1e-6f, 0.0f, "area 4 -> 2");
    resize_small(dev, row, 4, 1, 1, 2, 1, RESIZE_BILINEAR, got);
    compare(got, pairs, 2, 1e-6f, 0.0f, "bilinear 4 -> 2");

    flat = alloc_floats(13 * 9 * 2);
    for (size_t i = 0; i < 13 * 9 * 2; i++)
        flat[i] = i < 13 * 9 ? 0.375f : 0.8125f;
    for (int filter = RESIZE_BILINEAR; filter <= RESIZE_LANCZOS3; filter++) {
        resize_small(dev, flat, 13, 9, 2, 4, 5, (resize_filter)filter, got);
        for (size_t i = 0; i < 4 * 5 * 2; i++)
            want[i] = i < 4 * 5 ? 0.375f : 0.8125f;
        compare(got, want, 4 * 5 * 2, 2e-6f, 0.0f, "constant stays constant (down)");
        resize_small(dev, flat, 13, 9, 2, 5, 6, (resize_filter)filter, got);
        for (size_t i = 0; i < 5 * 6 * 2; i++)
            want[i] = i < 5 * 6 ? 0.375f : 0.8125f;
        compare(got, want, 5 * 6 * 2, 2e-6f, 0.0f, "constant stays constant (mixed)");
    }
    free(flat);
}

/* op_normalize against the reference, 1 to 4 channels. */
static void test_normalize(kiln_device *dev)
{
    static const float mean[4] = { 0.485f, 0.456f, 0.406f, -0.25f };
    static const float std[4] = { 0.229f, 0.224f, 0.225f, 2.0f };
    const uint32_t w = 37, h = 23;
    size_t npix = (size_t)w * h;

    for (uint32_t c = 1; c <= 4; c++) {
        float *src = rand_floats(npix * c, -0.5f, 1.5f);
        float *got = alloc_floats(npix * c), *want = alloc_floats(npix * c);
        dev_image in, out;

        for (uint32_t ch = 0; ch < c; ch++)
            for (size_t p = 0; p < npix; p++)
                want[ch * npix + p] = (src[ch * npix + p] - mean[ch]) / std[ch];
        CHECK_OK(test_put_floats(dev, w, h, c, src, &in));
        CHECK_OK(op_normalize(dev, &in, mean, std, &out));
        CHECK(out.channels == c && out.width == w && out.height == h);
        if (out.buf) {
            CHECK_OK(test_get_floats(dev, &out, got));
            compare(got, want, npix * c, TOL_ABS, TOL_REL, "normalize");
        }
        dev_image_release(dev, &out);
        dev_image_release(dev, &in);
        free(src);
        free(got);
        free(want);
    }
}

/* op_convert_channels for every pair of layouts, including a 1x1 image. */
static void test_convert_channels(kiln_device *dev)
{
    static const uint32_t sizes[][2] = { { 37, 23 }, { 1, 1 } };

    for (size_t s = 0; s < 2; s++) {
        size_t npix = (size_t)sizes[s][0] * sizes[s][1];
        for (uint32_t cin = 1; cin <= 4; cin++) {
            for (uint32_t cout = 1; cout <= 4; cout++) {
                float *src = rand_floats(npix * cin, 0.0f, 1.0f);
                float *got = alloc_floats(npix * cout), *want = alloc_floats(npix * cout);
                dev_image in, out;
                char label[64];

                snprintf(label, sizeof(label), "convert %u -> %u channels",
                         (unsigned)cin, (unsigned)cout);
                ref_convert(src, npix, cin, cout, want);
                CHECK_OK(test_put_floats(dev, sizes[s][0], sizes[s][1], cin, src, &in));
                CHECK_OK(op_convert_channels(dev, &in, cout, &out));
                CHECK(out.channels == cout);
                if (out.buf) {
                    CHECK_OK(test_get_floats(dev, &out, got));
                    compare(got, want, npix * cout, TOL_ABS, TOL_REL, label);
                }
                dev_image_release(dev, &out);
                dev_image_release(dev, &in);
                free(src);
                free(got);
                free(want);
            }
        }
    }
}

/* op_attach_alpha: RGB planes then the alpha plane. */
static void test_attach_alpha(kiln_device *dev)
{
    const uint32_t w = 37, h = 23;
    size_t npix = (size_t)w * h;
    float *rgb = rand_floats(npix * 3, 0.0f, 1.0f), *alpha = rand_floats(npix, 0.0f, 1.0f);
    float *got = alloc_floats(npix * 4), *want = alloc_floats(npix * 4);
    dev_image in_rgb, in_alpha, out;

    memcpy(want, rgb, npix * 3 * sizeof(*want));
    memcpy(want + npix * 3, alpha, npix * sizeof(*want));
    CHECK_OK(test_put_floats(dev, w, h, 3, rgb, &in_rgb));
    CHECK_OK(test_put_floats(dev, w, h, 1, alpha, &in_alpha));
    CHECK_OK(op_attach_alpha(dev, &in_rgb, &in_alpha, &out));
    CHECK(out.channels == 4);
    if (out.buf) {
        CHECK_OK(test_get_floats(dev, &out, got));
        compare(got, want, npix * 4, 0.0f, 0.0f, "attach alpha");
    }
    dev_image_release(dev, &out);
    dev_image_release(dev, &in_alpha);
    dev_image_release(dev, &in_rgb);
    free(rgb);
    free(alpha);
    free(got);
    free(want);
}

/* Composite over a colour and over 3- and 4-channel backgrounds, straight
 * and premultiplied, with alphas slightly outside [0,1] (clamped). */
static void test_composite(kiln_device *dev)
{
    static const float colour[3] = { 0.25f, 0.5f, 1.0f };
    const uint32_t w = 37, h = 23;
    size_t npix = (size_t)w * h;
    float *fg = rand_floats(npix * 4, 0.0f, 1.0f);
    float *bg = rand_floats(npix * 4, 0.0f, 1.0f);
    float *got = alloc_floats(npix * 3), *want = alloc_floats(npix * 3);
    dev_image in_fg, in_bg3, in_bg4, out;

    for (size_t p = 0; p < npix; p++)
        fg[3 * npix + p] = rng_float(-0.1f, 1.1f);
    fg[3 * npix] = 0.0f;
    fg[3 * npix + 1] = 1.0f;
    CHECK_OK(test_put_floats(dev, w, h, 4, fg, &in_fg));
    CHECK_OK(test_put_floats(dev, w, h, 3, bg, &in_bg3));
    CHECK_OK(test_put_floats(dev, w, h, 4, bg, &in_bg4));
    for (int premul = 0; premul <= 1; premul++) {
        for (uint32_t c = 0; c < 3; c++)
            for (size_t p = 0; p < npix; p++)
                want[c * npix + p] = ref_over(fg[c * npix + p], colour[c],
                                              fg[3 * npix + p], premul);
        CHECK_OK(op_composite_colour(dev, &in_fg, colour, premul, &out));
        CHECK(out.channels == 3);
        if (out.buf) {
            CHECK_OK(test_get_floats(dev, &out, got));
            compare(got, want, npix * 3, TOL_ABS, TOL_REL, "composite over colour");
        }
        dev_image_release(dev, &out);

        for (uint32_t c = 0; c < 3; c++)
            for (size_t p = 0; p < npix; p++)
                want[c * npix + p] = ref_over(fg[c * npix + p], bg[c * npix + p],
                                              fg[3 * npix + p], premul);
        for (int bgc = 3; bgc <= 4; bgc++) {
            CHECK_OK(op_composite_image(dev, &in_fg, bgc == 3 ? &in_bg3 : &in_bg4,
                                        premul, &out));
            CHECK(out.channels == 3);
            if (out.buf) {
                CHECK_OK(test_get_floats(dev, &out, got));
                compare(got, want, npix * 3, TOL_ABS, TOL_REL, "composite over image");
            }
            dev_image_release(dev, &out);
        }
    }
    dev_image_release(dev, &in_bg4);
    dev_image_release(dev, &in_bg3);
    dev_image_release(dev, &in_fg);
    free(fg);
    free(bg);
    free(got);
    free(want);
}

/* Premultiply and unpremultiply, 4 and 2 channels, alpha including 0. */
static void test_premultiply(kiln_device *dev)
{
    const uint32_t w = 37, h = 23;
    size_t npix = (size_t)w * h;

    for (uint32_t c = 2; c <= 4; c += 2) {
        float *src = rand_floats(npix * c, 0.0f, 1.0f);
        float *got = alloc_floats(npix * c), *want = alloc_floats(npix * c);
        float *alpha = src + (size_t)(c - 1) * npix;
        dev_image in, out;

        alpha[0] = 0.0f;
        alpha[1] = 1.0f;
        alpha[2] = 1e-3f;
        CHECK_OK(test_put_floats(dev, w, h, c, src, &in));
        for (int mode = 0; mode <= 1; mode++) {
            for (uint32_t ch = 0; ch + 1 < c; ch++)
                for (size_t p = 0; p < npix; p++) {
                    float v = src[ch * npix + p], a = alpha[p];
                    want[ch * npix + p] = mode ? v * a : a > 0.0f ? v / a : 0.0f;
                }
            memcpy(want + (size_t)(c - 1) * npix, alpha, npix * sizeof(*want));
            CHECK_OK(op_premultiply(dev, &in, mode, &out));
            CHECK(out.channels == c);
            if (out.buf) {
                CHECK_OK(test_get_floats(dev, &out, got));
                compare(got, want, npix * c, TOL_ABS, TOL_REL,
                        mode ? "premultiply" : "unpremultiply");
            }
            dev_image_release(dev, &out);
        }
        dev_image_release(dev, &in);
        free(src);
        free(got);
        free(want);
    }
}

/* Checks that a failed op left its output empty. */
#define CHECK_EMPTY(img) CHECK((img).buf == NULL && (img).width == 0 && (img).channels == 0)

/* Bad arguments: every op refuses them with KILN_E_INVAL and a clear
 * message, leaves its output empty and acquires nothing. */
static void test_errors(kiln_device *dev)
{
    static const float mean[4] = { 0, 0, 0, 0 }, std1[4] = { 1, 1, 1, 1 };
    static const float std0[4] = { 1, 0, 1, 1 };
    static const float colour_ok[3] = { 0, 0, 0 }, colour_bad[3] = { 0, 1.5f, 0 };
    float *data = rand_floats(37 * 23 * 4, 0.0f, 1.0f);
    dev_image g1, rgb, rgba, rgba_small, five, empty, out;
    host_image h, back;
    pool_ledger before, after;
    float std_nan[4] = { 1, 1, 1, 1 };

    std_nan[0] = NAN;
    memset(&empty, 0, sizeof(empty));
    CHECK_OK(test_put_floats(dev, 37, 23, 1, data, &g1));
    CHECK_OK(test_put_floats(dev, 37, 23, 3, data, &rgb));
    CHECK_OK(test_put_floats(dev, 37, 23, 4, data, &rgba));
    CHECK_OK(test_put_floats(dev, 36, 23, 4, data, &rgba_small));
    CHECK_OK(test_put_floats(dev, 5, 5, 5, data, &five));
    pool_ledger_get(dev->pool, &before);

    CHECK(resize_filter_parse("bilinear") == RESIZE_BILINEAR);
    CHECK(resize_filter_parse("area") == RESIZE_AREA);
    CHECK(resize_filter_parse("lanczos3") == RESIZE_LANCZOS3);
    CHECK(resize_filter_parse("lanczos") == -1);
    CHECK(resize_filter_parse("") == -1);
    CHECK(resize_filter_parse(NULL) == -1);

    CHECK_STATUS(op_resize(dev, &rgb, 0, 10, RESIZE_AREA, &out), KILN_E_INVAL);
    CHECK_MSG("nonzero");
    CHECK_EMPTY(out);
    CHECK_STATUS(op_resize(dev, &rgb, 10, 10, (resize_filter)7, &out), KILN_E_INVAL);
    CHECK_MSG("unknown filter");
    CHECK_EMPTY(out);
    CHECK_STATUS(op_resize(dev, &empty, 10, 10, RESIZE_AREA, &out), KILN_E_INVAL);
    CHECK_MSG("empty image");
    CHECK_EMPTY(out);
    CHECK_STATUS(op_resize(dev, NULL, 10, 10, RESIZE_AREA, &out), KILN_E_INVAL);
    CHECK_STATUS(op_resize(dev, &rgb, 10, 10, RESIZE_AREA, NULL), KILN_E_INVAL);
    out = rgb;
    CHECK_STATUS(op_resize(dev, &out, 10, 10, RESIZE_AREA, &out), KILN_E_INVAL);
    CHECK_MSG("must not be an input");
    CHECK(out.buf == rgb.buf);
    memset(&out, 0, sizeof(out));

    CHECK_STATUS(op_normalize(dev, &rgb, mean, std0, &out), KILN_E_INVAL);
    CHECK_MSG("std[1]");
    CHECK_EMPTY(out);
    CHECK_STATUS(op_normalize(dev, &rgb, mean, std_nan, &out), KILN_E_INVAL);
    CHECK_EMPTY(out);
    CHECK_STATUS(op_normalize(dev, &rgb, NULL, std1, &out), KILN_E_INVAL);
    CHECK_STATUS(op_normalize(dev, &five, mean, std1, &out), KILN_E_INVAL);
    CHECK_MSG("5 channels");

    CHECK_STATUS(op_composite_colour(dev, &rgb, colour_ok, 0, &out), KILN_E_INVAL);
    CHECK_MSG("3 channels, need 4");
    CHECK_EMPTY(out);
    CHECK_STATUS(op_composite_colour(dev, &rgba, colour_bad, 0, &out), KILN_E_INVAL);
    CHECK_MSG("colour[1]");
    CHECK_STATUS(op_composite_colour(dev, &rgba, NULL, 0, &out), KILN_E_INVAL);
    CHECK_STATUS(op_composite_image(dev, &rgba_small, &rgb, 0, &out), KILN_E_INVAL);
    CHECK_MSG("sizes differ");
    CHECK_EMPTY(out);
    CHECK_STATUS(op_composite_image(dev, &rgba, &g1, 0, &out), KILN_E_INVAL);
    CHECK_MSG("background");
    CHECK_STATUS(op_composite_image(dev, &rgba, &rgba, 0, &rgba), KILN_E_INVAL);
    CHECK(rgba.buf != NULL);

    CHECK_STATUS(op_premultiply(dev, &rgb, 1, &out), KILN_E_INVAL);
    CHECK_MSG("need 4 (RGBA) or 2");
    CHECK_EMPTY(out);
    CHECK_STATUS(op_premultiply(dev, &g1, 0, &out), KILN_E_INVAL);
    CHECK_MSG("unpremultiply");

    CHECK_STATUS(op_convert_channels(dev, &rgb, 0, &out), KILN_E_INVAL);
    CHECK_MSG("target of 0 channels");
    CHECK_STATUS(op_convert_channels(dev, &rgb, 5, &out), KILN_E_INVAL);
    CHECK_STATUS(op_convert_channels(dev, &five, 3, &out), KILN_E_INVAL);
    CHECK_EMPTY(out);

    CHECK_STATUS(op_attach_alpha(dev, &rgba, &g1, &out), KILN_E_INVAL);
    CHECK_MSG("attach alpha: colour");
    CHECK_STATUS(op_attach_alpha(dev, &rgb, &rgb, &out), KILN_E_INVAL);
    CHECK_MSG("attach alpha: alpha");
    CHECK_STATUS(op_attach_alpha(dev, &rgb, &empty, &out), KILN_E_INVAL);
    CHECK_EMPTY(out);

    CHECK_STATUS(dev_image_download(dev, &rgb, 12, &back), KILN_E_INVAL);
    CHECK_MSG("bit depth 12");
    CHECK(back.pixels == NULL);
    CHECK_STATUS(dev_image_download(dev, &five, 8, &back), KILN_E_INVAL);
    CHECK(back.pixels == NULL);
    CHECK_STATUS(dev_image_download(dev, &empty, 8, &back), KILN_E_INVAL);

    CHECK_OK(host_image_alloc(&h, 4, 4, 3, 8));
    h.bit_depth = 10;
    CHECK_STATUS(dev_image_upload(dev, &h, NULL, NULL, &out), KILN_E_INVAL);
    CHECK_MSG("bit depth 10");
    CHECK_EMPTY(out);
    h.bit_depth = 8;
    h.channels = 5;
    CHECK_STATUS(dev_image_upload(dev, &h, NULL, NULL, &out), KILN_E_INVAL);
    CHECK_MSG("5 channels");
    h.channels = 3;
    CHECK_STATUS(dev_image_upload(dev, &h, mean, std0, &out), KILN_E_INVAL);
    CHECK_MSG("std[1]");
    CHECK_EMPTY(out);
    h.width = 0;
    CHECK_STATUS(dev_image_upload(dev, &h, NULL, NULL, &out), KILN_E_INVAL);
    h.width = 4;
    host_image_free(&h);

    CHECK_STATUS(dev_image_acquire(dev, 0, 5, 1, "test.bad", &out), KILN_E_INVAL);
    CHECK_STATUS(dev_image_acquire(dev, 70000, 70000, 1, "test.bad", &out), KILN_E_INVAL);
    CHECK_MSG("exceeds");
    CHECK_EMPTY(out);

    pool_ledger_get(dev->pool, &after);
    CHECK(after.live_objects == before.live_objects);
    CHECK(after.live_bytes == before.live_bytes);
    dev_image_release(dev, &five);
    dev_image_release(dev, &rgba_small);
    dev_image_release(dev, &rgba);
    dev_image_release(dev, &rgb);
    dev_image_release(dev, &g1);
    dev_image_release(dev, &empty);
    free(data);
}

/* Under a budget too small for the temporary image, resize fails with
 * KILN_E_NOMEM, leaves its output empty and holds no buffer afterwards. */
static void test_small_budget(void)
{
    /* 128 KiB: the 64x64x3 input (48 KiB) and the 32x160x3 output (60 KiB,
     * a 64 KiB size class) fit, the 32x64x3 temporary (24 KiB) does not. */
    kiln_device *dev = test_device_open(128 * 1024);
    float *src = rand_floats(64 * 64 * 3, 0.0f, 1.0f);
    dev_image in, out;
    pool_ledger ledger;

    CHECK_OK(test_put_floats(dev, 64, 64, 3, src, &in));
    CHECK_STATUS(op_resize(dev, &in, 32, 160, RESIZE_LANCZOS3, &out), KILN_E_NOMEM);
    CHECK_MSG("image.resize.tmp");
    CHECK_EMPTY(out);
    pool_ledger_get(dev->pool, &ledger);
    CHECK(ledger.live_objects == 1);
    CHECK_STATUS(op_resize(dev, &in, 400, 400, RESIZE_BILINEAR, &out), KILN_E_NOMEM);
    CHECK_MSG("image.resize");
    CHECK_EMPTY(out);
    pool_ledger_get(dev->pool, &ledger);
    CHECK(ledger.live_objects == 1);
    /* What fits still works after the failures. */
    CHECK_OK(op_resize(dev, &in, 32, 32, RESIZE_AREA, &out));
    dev_image_release(dev, &out);
    dev_image_release(dev, &in);
    free(src);
    test_device_close(dev);
}

/* Fails the Nth buffer creation of an upload + resize + download
 * sequence, for every N until the sequence succeeds: each failure must be
 * KILN_E_NOMEM with every output empty and nothing left live. */
static void test_fault_injection(void)
{
    host_image h, back;
    int done = 0, failed = 0;

    CHECK_OK(host_image_alloc(&h, 37, 23, 3, 8));
    fill_host(&h);
    for (uint64_t nth = 1; nth <= 16 && !done; nth++) {
        kiln_device *dev = test_device_open(0);
        dev_image in, out;
        pool_ledger ledger;
        kiln_status st;

        memset(&back, 0, sizeof(back));
        memset(&out, 0, sizeof(out));
        pool_fail_nth_creation(dev->pool, nth);
        st = dev_image_upload(dev, &h, NULL, NULL, &in);
        if (st == KILN_OK) {
            st = op_resize(dev, &in, 20, 11, RESIZE_LANCZOS3, &out);
            if (st != KILN_OK)
                CHECK_EMPTY(out);
            if (st == KILN_OK) {
                st = dev_image_download(dev, &out, 8, &back);
                if (st != KILN_OK)
                    CHECK(back.pixels == NULL);
            }
        } else {
            CHECK_EMPTY(in);
        }
        if (st == KILN_OK) {
            pool_ledger_get(dev->pool, &ledger);
            CHECK(ledger.failures == 0);
            done = 1;
        } else {
            CHECK_STATUS(st, KILN_E_NOMEM);
            failed++;
        }
        host_image_free(&back);
        dev_image_release(dev, &out);
        dev_image_release(dev, &in);
        pool_ledger_get(dev->pool, &ledger);
        CHECK(ledger.live_objects == 0);
        test_device_close(dev);
    }
    CHECK(done);
    printf("fault injection: %d failed creations unwound cleanly\n", failed);
    host_image_free(&h);
}

/* Runs every test on the default test device, then the memory tests on
 * devices of their own. */
int main(void)
{
    kiln_device *dev = test_device_open(0);

    test_rng_seed(0x2545F491u);

    test_roundtrip(dev);
    test_download_rounding(dev);
    test_resize(dev);
    test_resize_known(dev);
    test_normalize(dev);
    test_convert_channels(dev);
    test_attach_alpha(dev);
    test_composite(dev);
    test_premultiply(dev);
    test_errors(dev);
    test_device_close(dev);

    test_small_budget();
    test_fault_injection();
    return test_summary("test_ops_image");
}
