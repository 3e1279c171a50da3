/* The device rasterizer (engine/splat) against its references:
 *   - parity: brush's golden renders (gsplat 1.5.3 classic) in gsplat
 *     mode and the float64 Inria renders in inria mode, from the PLY
 *     files, with brush's tolerance |a - b| < 1e-5 + 1e-2 |b| on every
 *     value, alpha included; both blend kernels, and in bands;
 *   - the host oracle (tests/splat_oracle.c, double precision) on seeded
 *     scenes of 10^3, 10^4 and 10^5 Gaussians at several sizes with
 *     cx != W/2, SH degrees 0..3, the alpha clamp, early termination,
 *     near-plane culling and the Jacobian clamp: PSNR >= 60 dB and at
 *     most 0.1 % of values outside the tolerance;
 *   - bad input: NaN and zero-scale Gaussians, a camera inside the
 *     scene, nothing in front, 1x1 and 16384x16384 views, a scene over
 *     the budget;
 *   - every output kind; the pool ledger empty at the end. */
#include <math.h>

#include "splat_oracle.h"
#include "splat_render.h"
#include "splat_synth.h"
#include "testutil.h"

#define TOL_ABS 1e-5
#define TOL_REL 1e-2

/* Default options: a mode and the premultiplied RGBA output. */
static splat_render_options options_for(splat_mode mode)
{
    splat_render_options o;
    memset(&o, 0, sizeof(o));
    o.mode = mode;
    o.output = SPLAT_OUT_RGBA_PREMUL;
    o.depth_scale = 1.0f;
    o.max_instances = (uint64_t)1 << 24;
    o.blend_rows = -1;
    o.profile_section = -1;
    return o;
}

/* Renders and reads the image back (planar floats, caller frees);
 * NULL on error (the status counted as a failure). */
static float *render_host(kiln_device *dev, splat_renderer *r, const splat_scene_dev *s,
                          const splat_camera *cam, const splat_render_options *o,
                          splat_render_stats *stats)
{
    dev_image img;
    splat_render_stats local;
    float *out = NULL;
    kiln_status st = splat_render(r, s, cam, o, &img, stats ? stats : &local);
    CHECK_OK(st);
    if (st != KILN_OK)
        return NULL;
    out = test_xmalloc(dev_image_elements(&img), sizeof(float));
    CHECK_OK(test_get_floats(dev, &img, out));
    dev_image_release(dev, &img);
    return out;
}

/* Comparison figures of a planar device image against interleaved
 * references (`channels` of them a pixel). */
typedef struct compare_result {
    size_t values, fails;
    double max_diff, psnr;
} compare_result;

/* Compares planar `got` with interleaved `want` (float or double through
 * the accessor). */
static compare_result compare_planar(const float *got, const double *want, size_t pixels,
                                     unsigned channels)
{
    compare_result c = { 0, 0, 0.0, 0.0 };
    double se = 0.0;
    for (size_t p = 0; p < pixels; p++)
        for (unsigned ch = 0; ch < channels; ch++) {
            double a = got[ch * pixels + p], b = want[p * channels + ch], d = fabs(a - b);
            if (!(d < TOL_ABS + TOL_REL * fabs(b)))
                c.fails++;
            if (!(d <= c.max_diff))
                c.max_diff = isnan(d) ? INFINITY : d;
            se += d * d;
            c.values++;
        }
    c.psnr = se > 0 ? 10.0 * log10((double)c.values / se) : 200.0;
    return c;
}

/* Reads a .f32 reference (F32I header, H, W, C, floats) as doubles. */
static double *read_f32(const char *path, uint32_t *h, uint32_t *w, uint32_t *c)
{
    size_t len = 0;
    unsigned char *data = test_read_whole(path, &len);
    double *out = NULL;
    if (!data || len < 16 || memcmp(data, "F32I", 4) != 0) {
        free(data);
        return NULL;
    }
    memcpy(h, data + 4, 4);
    memcpy(w, data + 8, 4);
    memcpy(c, data + 12, 4);
    if (len != 16 + (size_t)*h * *w * *c * 4) {
        free(data);
        return NULL;
    }
    out = test_xmalloc((size_t)*h * *w * *c, sizeof(double));
    for (size_t i = 0; i < (size_t)*h * *w * *c; i++) {
        float f;
        memcpy(&f, data + 16 + 4 * i, 4);
        out[i] = f;
    }
    free(data);
    return out;
}

/* The golden camera of ../shared/refdata/splat/brush_camera.json. */
static splat_camera golden_camera(void)
{
    splat_camera cam;
    memset(&cam, 0, sizeof(cam));
    cam.rotation[0] = cam.rotation[4] = cam.rotation[8] = 1.0;
    cam.translation[0] = -0.123f;
    cam.translation[1] = -0.456f;
    cam.translation[2] = 8.0f;
    cam.fx = cam.fy = 61.5;
    cam.cx = 61.5;
    cam.cy = 41.0;
    cam.width = 123;
    cam.height = 82;
    snprintf(cam.name, sizeof(cam.name), "golden");
    return cam;
}

/* Parity of one scene in both modes against its references, with both
 * blend kernels and in bands of one tile row. */
static void test_parity(kiln_device *dev, splat_renderer *r, const char *scene_name)
{
    char dir[1024], path[1200];
    splat_scene scene;
    splat_scene_dev *d = NULL;
    splat_camera cam = golden_camera();
    static const char *const refs[2] = { "oracle_inria", "golden" };

    test_refdata_dir("splat", dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/%s.ply", dir, scene_name);
    CHECK_OK(splat_scene_read(path, NULL, &scene, NULL));
    if (scene.count == 0)
        return;
    CHECK_OK(splat_scene_dev_upload(dev, &scene, 0, &d));
    for (int mode = 0; mode < 2 && d; mode++) {
        uint32_t h, w, c;
        double *want;
        snprintf(path, sizeof(path), "%s/%s_%s.f32", dir, scene_name, refs[mode]);
        want = read_f32(path, &h, &w, &c);
        CHECK(want && h == 82 && w == 123 && c == 4);
        if (!want)
            continue;
        for (int variant = 0; variant < 3; variant++) {
            splat_render_options o = options_for((splat_mode)mode);
            splat_render_stats stats;
            float *got;
            o.blend_rows = variant == 1;
            if (variant == 2)
                o.max_instances = 40;   /* several bands */
            got = render_host(dev, r, d, &cam, &o, &stats);
            if (got) {
                compare_result cr = compare_planar(got, want, (size_t)w * h, 4);
                printf("parity %s %s (%s%s): max |diff| %.3g, PSNR %.1f dB, %zu / %zu fail, "
                       "%llu instances in %u band%s\n", scene_name, mode ? "gsplat" : "inria",
                       variant == 1 ? "row kernel" : "group kernel",
                       variant == 2 ? ", banded" : "", cr.max_diff, cr.psnr, cr.fails, cr.values,
                       (unsigned long long)stats.instances, stats.bands,
                       stats.bands == 1 ? "" : "s");
                CHECK(cr.fails == 0);
                CHECK(variant != 2 || stats.bands > 1);
            }
            free(got);
        }
        free(want);
    }
    splat_scene_dev_free(d);
    splat_scene_free(&scene);
}

/* The device against the oracle on one scene and camera; returns the
 * comparison of RGBA (premultiplied over `background`) and checks depth
 * too. */
static compare_result against_oracle(kiln_device *dev, splat_renderer *r, const splat_scene *scene,
                                     const splat_camera *cam, splat_mode mode, int antialiased,
                                     const float *background, const char *what)
{
    splat_scene_dev *d = NULL;
    size_t pixels = (size_t)cam->width * cam->height;
    double *want = test_xmalloc(pixels * 4, sizeof(double));
    double *want_depth = test_xmalloc(pixels, sizeof(double));
    splat_oracle_options oo = { mode == SPLAT_MODE_INRIA ? SPLAT_ORACLE_INRIA : SPLAT_ORACLE_GSPLAT,
                                antialiased, { 0, 0, 0 }, 0 };
    splat_render_options o = options_for(mode);
    compare_result cr = { 0, 0, 0, 0 };
    float *got;

    o.antialiased = antialiased;
    for (int k = 0; k < 3 && background; k++) {
        oo.background[k] = background[k];
        o.background[k] = background[k];
    }
    CHECK(splat_oracle_render(scene, cam, &oo, want, want_depth) == 0);
    CHECK_OK(splat_scene_dev_upload(dev, scene, 0, &d));
    if (!d)
        goto out;
    got = render_host(dev, r, d, cam, &o, NULL);
    if (got) {
        compare_result cd;
        float *depth;
        cr = compare_planar(got, want, pixels, 4);
        o.output = SPLAT_OUT_DEPTH;
        depth = render_host(dev, r, d, cam, &o, NULL);
        cd = depth ? compare_planar(depth, want_depth, pixels, 1) : cr;
        printf("oracle %-34s %s: %zu Gaussians %ux%u: max |diff| %.3g, PSNR %.1f dB, %zu / %zu "
               "fail (%.4f %%); depth %zu fail\n", what, mode ? "gsplat" : "inria ",
               scene->count, cam->width, cam->height, cr.max_diff, cr.psnr, cr.fails, cr.values,
               100.0 * (double)cr.fails / (double)cr.values, cd.fails);
        CHECK(cr.psnr >= 60.0);
        CHECK(cr.fails * 1000 <= cr.values);
        CHECK(cd.fails * 1000 <= cd.values);
        free(depth);
    }
    free(got);
    splat_scene_dev_free(d);
out:
    free(want);
    free(want_depth);
    return cr;
}

/* Seeded synthetic scenes against the oracle: three sizes, several
 * resolutions, cx != W/2, SH degrees 0..3, both modes. */
static void test_oracle_synthetic(kiln_device *dev, splat_renderer *r)
{
    static const struct {
        size_t count;
        uint32_t sh, w, h;
        double fov, cx_offset;
    } cases[] = {
        { 1000, 0, 64, 48, 60.0, 5.5 },
        { 10000, 1, 200, 120, 70.0, -17.25 },
        { 10000, 2, 123, 82, 50.0, 9.0 },
        { 100000, 3, 320, 200, 60.0, 23.5 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        for (int mode = 0; mode < 2; mode++) {
            splat_synth_options so = { cases[i].count, 1234 + i, cases[i].sh, 1 };
            splat_scene scene;
            splat_camera cam;
            char what[64];
            if (splat_synth_scene(&so, &scene) != 0) {
                CHECK(0);
                continue;
            }
            splat_synth_camera(&so, cases[i].w, cases[i].h, cases[i].fov, cases[i].cx_offset, &cam);
            snprintf(what, sizeof(what), "seeded, SH %u, cx %+.2f", cases[i].sh, cases[i].cx_offset);
            against_oracle(dev, r, &scene, &cam, (splat_mode)mode, 0, NULL, what);
            splat_scene_free(&scene);
        }
}

/* Sets Gaussian i of a scene: position, isotropic log scale, logit
 * opacity, identity rotation, degree-0 colour. */
static void gaussian_set(splat_scene *s, size_t i, double x, double y, double z, double log_scale,
                         double logit, double dc)
{
    s->means[i * 3] = (float)x;
    s->means[i * 3 + 1] = (float)y;
    s->means[i * 3 + 2] = (float)z;
    for (int k = 0; k < 3; k++) {
        s->scales[i * 3 + k] = (float)log_scale;
        s->sh[(i * s->sh_coeffs) * 3 + k] = (float)(dc + 0.1 * k);
    }
    s->opacity[i] = (float)logit;
    s->rotations[i * 4] = 1.0f;
}

/* Hand-made scenes for the rules the goldens do not test: the alpha
 * clamp and early termination (stacked opaque Gaussians), the near
 * plane, the Jacobian clamp (large Gaussians far outside the view),
 * the antialiased mode and a background colour. */
static void test_oracle_rules(kiln_device *dev, splat_renderer *r)
{
    splat_scene s;
    splat_camera cam;
    splat_synth_options so = { 1, 7, 0, 1 };
    static const float bg[3] = { 0.2f, 0.4f, 0.6f };

    CHECK_OK(splat_scene_alloc(&s, 60, 1));
    /* 30 opaque Gaussians stacked in front of the camera: clamp + stop */
    for (size_t i = 0; i < 30; i++)
        gaussian_set(&s, i, 0.02 * (double)i - 0.3, 0.01 * (double)i, 2.0 + 0.05 * (double)i,
                     log(0.4), 9.0, 0.3);
    /* near the camera: z 0.1 .. 0.3 (culled by inria, kept by gsplat) */
    for (size_t i = 30; i < 40; i++)
        gaussian_set(&s, i, 0.05 * (double)(i - 35), 0.02, 0.1 + 0.02 * (double)(i - 30),
                     log(0.02), 1.0, -0.5);
    /* far outside the view but large: the Jacobian clamp */
    for (size_t i = 40; i < 60; i++)
        gaussian_set(&s, i, (i % 2 ? 1.0 : -1.0) * (3.0 + 0.1 * (double)(i - 40)),
                     0.3 * (double)(i % 3) - 0.3, 1.5 + 0.1 * (double)(i - 40), log(0.9), 0.5, 0.1);
    splat_synth_camera(&so, 96, 64, 70.0, 7.25, &cam);
    memset(cam.rotation, 0, sizeof(cam.rotation));
    cam.rotation[0] = cam.rotation[4] = cam.rotation[8] = 1.0;
    memset(cam.translation, 0, sizeof(cam.translation));
    for (int mode = 0; mode < 2; mode++) {
        against_oracle(dev, r, &s, &cam, (splat_mode)mode, 0, NULL, "clamp, stop, near, Jacobian");
        against_oracle(dev, r, &s, &cam, (splat_mode)mode, 1, bg, "antialiased, background");
    }
    splat_scene_free(&s);
}

/* Every output kind agrees with the premultiplied render. */
static void test_outputs(kiln_device *dev, splat_renderer *r)
{
    splat_synth_options so = { 2000, 99, 2, 1 };
    splat_scene scene;
    splat_scene_dev *d = NULL;
    splat_camera cam;
    static const float bg[3] = { 0.5f, 0.25f, 1.0f };

    if (splat_synth_scene(&so, &scene) != 0) {
        CHECK(0);
        return;
    }
    splat_synth_camera(&so, 70, 50, 60.0, 0.0, &cam);
    CHECK_OK(splat_scene_dev_upload(dev, &scene, 0, &d));
    if (d) {
        splat_render_options o = options_for(SPLAT_MODE_INRIA);
        size_t n = (size_t)cam.width * cam.height, bad = 0;
        float *pre, *rgb, *rgba, *alpha, *depth;
        memcpy(o.background, bg, sizeof(bg));
        pre = render_host(dev, r, d, &cam, &o, NULL);
        o.output = SPLAT_OUT_RGB;
        rgb = render_host(dev, r, d, &cam, &o, NULL);
        o.output = SPLAT_OUT_RGBA;
        rgba = render_host(dev, r, d, &cam, &o, NULL);
        o.output = SPLAT_OUT_ALPHA;
        alpha = render_host(dev, r, d, &cam, &o, NULL);
        o.output = SPLAT_OUT_DEPTH;
        o.depth_scale = 1000.0f;
        depth = render_host(dev, r, d, &cam, &o, NULL);
        for (size_t p = 0; pre && rgb && rgba && alpha && depth && p < n; p++) {
            float a = pre[3 * n + p];
            for (int c = 0; c < 3; c++) {
                float premul = pre[c * n + p] - (1.0f - a) * bg[c];
                bad += fabsf(rgb[c * n + p] - pre[c * n + p]) > 1e-6f;
                bad += a > 1e-3f && fabsf(rgba[c * n + p] * a - premul) > 1e-4f;
            }
            bad += rgba[3 * n + p] != a || alpha[p] != a;
            bad += a == 0.0f ? depth[p] != 0.0f : !(depth[p] > 0.0f);
        }
        CHECK(bad == 0);
        free(pre);
        free(rgb);
        free(rgba);
        free(alpha);
        free(depth);
    }
    splat_scene_dev_free(d);
    splat_scene_free(&scene);
}

/* Bad scenes and views: no crash, no huge instance count, clear errors. */
static void test_bad_input(kiln_device *dev, splat_renderer *r)
{
    splat_synth_options so = { 500, 5, 3, 1 };
    splat_scene scene;
    splat_scene_dev *d = NULL;
    splat_camera cam;
    splat_render_options o = options_for(SPLAT_MODE_GSPLAT);
    splat_render_stats stats;
    dev_image img;

    if (splat_synth_scene(&so, &scene) != 0) {
        CHECK(0);
        return;
    }
    /* NaN, Inf and zero-size Gaussians: culled or drawn, never counted wild */
    for (size_t i = 0; i < 100; i++) {
        float nan = NAN, inf = INFINITY;
        switch (i % 5) {
        case 0: scene.means[i * 3] = nan; break;
        case 1: scene.rotations[i * 4 + 1] = inf; break;
        case 2: scene.scales[i * 3] = -INFINITY; scene.scales[i * 3 + 1] = -INFINITY;
                scene.scales[i * 3 + 2] = -INFINITY; break;   /* zero size */
        case 3: scene.opacity[i] = nan; break;
        default: scene.scales[i * 3 + 2] = 80.0f; break;      /* exp overflows */
        }
    }
    splat_synth_camera(&so, 64, 64, 60.0, 0.0, &cam);
    CHECK_OK(splat_scene_dev_upload(dev, &scene, 0, &d));
    for (int mode = 0; d && mode < 2; mode++) {
        o.mode = (splat_mode)mode;
        CHECK_OK(splat_render(r, d, &cam, &o, &img, &stats));
        CHECK(stats.instances < (uint64_t)500 * 16);
        dev_image_release(dev, &img);
    }
    if (d) {
        /* camera inside the scene, and looking away from it */
        splat_camera inside = cam, away = cam;
        inside.translation[2] = 0.0;
        away.rotation[0] = -1.0;   /* turned about y, the centre kept */
        away.rotation[8] = -1.0;
        away.translation[2] = -cam.translation[2];
        CHECK_OK(splat_render(r, d, &inside, &o, &img, &stats));
        dev_image_release(dev, &img);
        CHECK_OK(splat_render(r, d, &away, &o, &img, &stats));
        CHECK(stats.instances == 0);
        if (img.buf) {
            float *px = test_xmalloc(dev_image_elements(&img), sizeof(float));
            size_t nonzero = 0;
            CHECK_OK(test_get_floats(dev, &img, px));
            for (size_t i = 0; i < dev_image_elements(&img); i++)
                nonzero += px[i] != 0.0f;
            CHECK(nonzero == 0);
            free(px);
        }
        dev_image_release(dev, &img);
        /* 1x1 */
        inside = cam;
        inside.width = inside.height = 1;
        inside.cx = inside.cy = 0.5;
        CHECK_OK(splat_render(r, d, &inside, &o, &img, &stats));
        CHECK(img.width == 1 && img.height == 1);
        dev_image_release(dev, &img);
        /* 16384 x 16384 RGB: over the device's largest allocation on a CPU
         * device: refused cleanly (or rendered within the budget) */
        inside = cam;
        inside.width = inside.height = 16384;
        inside.cx = inside.cy = 8192;
        o.output = SPLAT_OUT_RGB;
        {
            kiln_status st = splat_render(r, d, &inside, &o, &img, &stats);
            CHECK(st == KILN_OK || st == KILN_E_NOMEM);
            if (st != KILN_OK)
                CHECK_MSG("view");
            dev_image_release(dev, &img);
        }
        inside.width = 16385;
        CHECK_STATUS(splat_render(r, d, &inside, &o, &img, &stats), KILN_E_LIMIT);
        CHECK_MSG("16384");
        /* a non-finite pose */
        inside = cam;
        inside.translation[1] = NAN;
        CHECK_STATUS(splat_render(r, d, &inside, &o, &img, &stats), KILN_E_INVAL);
        CHECK(img.buf == NULL);
    }
    splat_scene_dev_free(d);
    splat_scene_free(&scene);
}

/* A scene over the pool's budget is KILN_E_NOMEM before any buffer,
 * naming the needed and the free bytes. */
static void test_budget(void)
{
    kiln_device *small = test_device_open(1 << 20);
    splat_synth_options so = { 10000, 3, 3, 1 };
    splat_scene scene;
    splat_scene_dev *d = NULL;
    pool_ledger ledger;

    if (splat_synth_scene(&so, &scene) != 0) {
        CHECK(0);
        test_device_close(small);
        return;
    }
    CHECK_STATUS(splat_scene_dev_upload(small, &scene, 0, &d), KILN_E_NOMEM);
    CHECK_MSG("needs 2360000 bytes");
    CHECK_MSG("device_budget");
    pool_ledger_get(small->pool, &ledger);
    CHECK(ledger.creations == 0 && ledger.failures == 0);
    CHECK(splat_scene_dev_bytes(1, 3, 0) == 236);
    CHECK(splat_scene_dev_bytes(1, 3, 1) == 140);
    splat_scene_free(&scene);
    test_device_close(small);
}

/* A view whose instances the budget cannot hold at once renders in bands
 * on a small pool, equal to the unbanded render of a large one. */
static void test_budget_bands(kiln_device *dev, splat_renderer *r)
{
    kiln_device *small = test_device_open(3 << 20);
    splat_renderer *rs = NULL;
    splat_synth_options so = { 4000, 21, 0, 1 };
    splat_scene scene;
    splat_scene_dev *d = NULL, *ds = NULL;
    splat_camera cam;

    if (splat_synth_scene(&so, &scene) != 0) {
        CHECK(0);
        test_device_close(small);
        return;
    }
    for (size_t i = 0; i < scene.count * 3; i++)
        scene.scales[i] += 2.5f;    /* large splats: many tiles each */
    splat_synth_camera(&so, 256, 192, 60.0, 0.0, &cam);
    CHECK_OK(splat_renderer_init(small, &rs));
    CHECK_OK(splat_scene_dev_upload(dev, &scene, 0, &d));
    CHECK_OK(splat_scene_dev_upload(small, &scene, 0, &ds));
    if (rs && d && ds) {
        splat_render_options o = options_for(SPLAT_MODE_INRIA);
        splat_render_stats big, banded;
        float *a = render_host(dev, r, d, &cam, &o, &big);
        float *b = render_host(small, rs, ds, &cam, &o, &banded);
        size_t differ = 0;
        for (size_t i = 0; a && b && i < (size_t)cam.width * cam.height * 4; i++)
            differ += a[i] != b[i];
        printf("budget bands: %llu instances, %u band(s) on the large pool, %u on a 3 MiB one; "
               "%zu values differ\n", (unsigned long long)big.instances, big.bands, banded.bands,
               differ);
        CHECK(big.instances * 24 > (3u << 20));
        CHECK(banded.bands > 1);
        CHECK(a && b && differ == 0);
        free(a);
        free(b);
    }
    splat_scene_dev_free(ds);
    splat_scene_dev_free(d);
    splat_renderer_free(rs);
    splat_scene_free(&scene);
    test_device_close(small);
}

/* fp16 SH storage stays within half-float rounding of fp32. */
static void test_sh_half(kiln_device *dev, splat_renderer *r)
{
    splat_synth_options so = { 3000, 11, 3, 1 };
    splat_scene scene;
    splat_scene_dev *d32 = NULL, *d16 = NULL;
    splat_camera cam;

    if (splat_synth_scene(&so, &scene) != 0) {
        CHECK(0);
        return;
    }
    splat_synth_camera(&so, 80, 60, 60.0, 3.0, &cam);
    CHECK_OK(splat_scene_dev_upload(dev, &scene, 0, &d32));
    CHECK_OK(splat_scene_dev_upload(dev, &scene, 1, &d16));
    if (d32 && d16) {
        splat_render_options o = options_for(SPLAT_MODE_INRIA);
        float *a = render_host(dev, r, d32, &cam, &o, NULL);
        float *b = render_host(dev, r, d16, &cam, &o, NULL);
        double maxd = 0.0;
        for (size_t i = 0; a && b && i < (size_t)cam.width * cam.height * 4; i++)
            maxd = fmax(maxd, fabs((double)a[i] - b[i]));
        printf("fp16 SH against fp32: max |diff| %.3g\n", maxd);
        CHECK(a && b && maxd < 5e-3);
        free(a);
        free(b);
    }
    splat_scene_dev_free(d32);
    splat_scene_dev_free(d16);
    splat_scene_free(&scene);
}

int main(void)
{
    kiln_device *dev = test_device_open(0);
    splat_renderer *r = NULL;

    CHECK_OK(splat_renderer_init(dev, &r));
    if (r) {
        test_parity(dev, r, "brush_tiny");
        test_parity(dev, r, "brush_basic");
        test_oracle_rules(dev, r);
        test_outputs(dev, r);
        test_bad_input(dev, r);
        test_sh_half(dev, r);
        test_budget_bands(dev, r);
        test_oracle_synthetic(dev, r);
    }
    splat_renderer_free(r);
    test_device_close(dev);
    test_budget();
    return test_summary("test_splat_render");
}
