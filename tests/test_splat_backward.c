/* The device backward pass (engine/splat/splat_backward.c) against the
 * host reference backward (tests/splat_oracle_grad.c, double precision,
 * itself checked against finite differences by test_splat_grad): seeded
 * scenes at SH degrees 0..3, a camera with cx != W/2, a background, a
 * random dL/dRGB, both modes.  Every parameter group (means, log scales,
 * quaternions, opacity logits, SH) must agree on at least 99 % of its
 * components within 1e-3 relative (plus 1e-4 of the group's largest
 * magnitude, for components near 0).  Also: the backward refuses a frame
 * rendered without keep_state, and the ledger is empty at the end. */
#include <math.h>

#include "splat_backward.h"
#include "splat_oracle.h"
#include "splat_oracle_grad.h"
#include "splat_synth.h"
#include "testutil.h"

/* Reads a pool buffer of n floats into a new host array. */
static float *read_floats(kiln_device *dev, const pool_buffer *b, size_t n)
{
    float *out = test_xmalloc(n ? n : 1, sizeof(float));
    CHECK_OK(dev_buffer_read(dev, b->mem, 0, n * sizeof(float), out, "reading gradients"));
    return out;
}

/* Compares one group; returns 1 when it passes, printing the figures. */
static int group_agrees(const char *what, const float *dev, const double *host, size_t n)
{
    double big = 0.0, worst = 0.0;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        big = fmax(big, fmax(fabs(host[i]), fabs((double)dev[i])));
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)dev[i] - host[i]);
        double tol = 1e-3 * fmax(fabs(host[i]), fabs((double)dev[i])) + 1e-4 * big;
        if (!(d <= tol))
            bad++;
        if (big > 0)
            worst = fmax(worst, d / big);
    }
    printf("  %-9s %6zu components, largest |g| %.3g, worst |diff| / largest %.2g, %zu outside "
           "(%.2f %%)\n", what, n, big, worst, bad, n ? 100.0 * (double)bad / (double)n : 0.0);
    return bad * 100 <= n;
}

/* One case: scene, camera and mode, device against host; deterministic:
 * with the fixed-order sums, run twice and compared bit for bit. */
static void backward_case(kiln_device *dev, splat_renderer *r, size_t count, uint32_t sh,
                          splat_mode mode, uint64_t seed, int deterministic)
{
    splat_synth_options so = { count, seed, sh, 1 };
    splat_scene scene;
    splat_scene_dev *d = NULL;
    splat_camera cam;
    splat_render_options o;
    splat_render_stats stats;
    splat_grads grads = { 0 };
    splat_oracle_grad hg;
    splat_oracle_options oo;
    dev_image img = { 0 }, dl = { 0 };
    size_t pixels, n;
    float *dl_planar;
    double *dl_host;

    if (splat_synth_scene(&so, &scene) != 0) {
        CHECK(0);
        return;
    }
    splat_synth_camera(&so, 48, 40, 60.0, 3.25, &cam);
    pixels = (size_t)cam.width * cam.height;
    n = scene.count;
    memset(&o, 0, sizeof(o));
    o.mode = mode;
    o.output = SPLAT_OUT_RGB;
    o.background[0] = 0.1f;
    o.background[1] = 0.2f;
    o.background[2] = 0.3f;
    o.max_instances = 1u << 22;
    o.blend_rows = -1;
    o.keep_state = 1;
    o.deterministic = deterministic;
    o.profile_section = -1;
    memset(&oo, 0, sizeof(oo));
    oo.mode = mode == SPLAT_MODE_INRIA ? SPLAT_ORACLE_INRIA : SPLAT_ORACLE_GSPLAT;
    for (int k = 0; k < 3; k++)
        oo.background[k] = o.background[k];

    test_rng_seed((uint32_t)seed);
    dl_planar = test_xmalloc(pixels * 3, sizeof(float));
    dl_host = test_xmalloc(pixels * 3, sizeof(double));
    for (size_t p = 0; p < pixels; p++)
        for (int c = 0; c < 3; c++) {
            float v = 2.0f * test_rng_unit() - 1.0f;
            dl_planar[c * pixels + p] = v;
            dl_host[p * 3 + c] = v;
        }
    hg.means = test_xmalloc(n * 3, sizeof(double));
    hg.scales = test_xmalloc(n * 3, sizeof(double));
    hg.rotations = test_xmalloc(n * 4, sizeof(double));
    hg.opacity = test_xmalloc(n, sizeof(double));
    hg.sh = test_xmalloc(n * scene.sh_coeffs * 3, sizeof(double));
    CHECK(splat_oracle_backward(&scene, &cam, &oo, dl_host, &hg) == 0);

    CHECK_OK(splat_scene_dev_upload(dev, &scene, 0, &d));
    CHECK_OK(test_put_floats(dev, cam.width, cam.height, 3, dl_planar, &dl));
    CHECK_OK(splat_grads_acquire(dev, n, scene.sh_coeffs, &grads));
    if (d && dl.buf && grads.sh) {
        CHECK_OK(splat_render(r, d, &cam, &o, &img, &stats));
        CHECK_OK(splat_render_backward(r, d, &cam, &o, &dl, &grads));
        float *gm = read_floats(dev, grads.means, n * 3);
        float *gs = read_floats(dev, grads.scales, n * 3);
        float *gr = read_floats(dev, grads.rotations, n * 4);
        float *go = read_floats(dev, grads.opacity, n);
        float *gsh = read_floats(dev, grads.sh, n * scene.sh_coeffs * 3);
        printf("backward %s%s, %zu Gaussians, SH %u, %ux%u, %llu instances:\n",
               mode == SPLAT_MODE_INRIA ? "inria" : "gsplat",
               deterministic ? " (deterministic)" : "", n, sh, cam.width, cam.height,
               (unsigned long long)stats.instances);
        CHECK(group_agrees("means", gm, hg.means, n * 3));
        CHECK(group_agrees("scales", gs, hg.scales, n * 3));
        CHECK(group_agrees("rotations", gr, hg.rotations, n * 4));
        CHECK(group_agrees("opacity", go, hg.opacity, n));
        CHECK(group_agrees("sh", gsh, hg.sh, n * scene.sh_coeffs * 3));
        if (deterministic) {
            /* again: the same bits */
            dev_image_release(dev, &img);
            CHECK_OK(splat_render(r, d, &cam, &o, &img, &stats));
            CHECK_OK(splat_render_backward(r, d, &cam, &o, &dl, &grads));
            float *gm2 = read_floats(dev, grads.means, n * 3);
            float *gsh2 = read_floats(dev, grads.sh, n * scene.sh_coeffs * 3);
            CHECK(memcmp(gm, gm2, n * 3 * sizeof(float)) == 0);
            CHECK(memcmp(gsh, gsh2, n * scene.sh_coeffs * 3 * sizeof(float)) == 0);
            printf("  deterministic: a second run gives the same bits: %s\n",
                   memcmp(gm, gm2, n * 3 * sizeof(float)) == 0 ? "yes" : "no");
            free(gm2);
            free(gsh2);
        }
        free(gm);
        free(gs);
        free(gr);
        free(go);
        free(gsh);
        /* a frame without keep_state cannot be replayed */
        dev_image_release(dev, &img);
        o.keep_state = 0;
        CHECK_OK(splat_render(r, d, &cam, &o, &img, &stats));
        CHECK_STATUS(splat_render_backward(r, d, &cam, &o, &dl, &grads), KILN_E_INVAL);
        CHECK_MSG("keep_state");
    }
    dev_image_release(dev, &img);
    dev_image_release(dev, &dl);
    splat_grads_release(dev, &grads);
    splat_scene_dev_free(d);
    free(hg.means);
    free(hg.scales);
    free(hg.rotations);
    free(hg.opacity);
    free(hg.sh);
    free(dl_planar);
    free(dl_host);
    splat_scene_free(&scene);
}

int main(void)
{
    kiln_device *dev = test_device_open(0);
    splat_renderer *r = NULL;

    CHECK_OK(splat_renderer_init(dev, &r));
    for (uint32_t sh = 0; r && sh <= 3; sh++)
        backward_case(dev, r, 150 + 50 * sh, sh, sh % 2 ? SPLAT_MODE_GSPLAT : SPLAT_MODE_INRIA,
                      900 + sh, 0);
    if (r)
        backward_case(dev, r, 400, 3, SPLAT_MODE_GSPLAT, 77, 0);
    if (r)
        backward_case(dev, r, 400, 3, SPLAT_MODE_INRIA, 78, 1);
    splat_renderer_free(r);
    test_device_close(dev);
    return test_summary("test_splat_backward");
}
