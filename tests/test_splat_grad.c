/* The oracle's backward pass (splat_oracle_grad.h) against central finite
 * differences of its forward (splat_oracle.h), loss = sum dl_drgb * RGB
 * with a seeded random dl_drgb in [-1, 1):
 * - smooth variant: seeded scenes of 24 Gaussians a few pixels wide on a
 *   24 x 20 image, a rotated camera with fx != fy and cx != W/2, SH
 *   degrees 0..3, Inria and gsplat modes, antialiased, a background; every
 *   parameter group (means, log scales, raw quaternions, logits, SH) must
 *   agree on at least 99 % of its components within
 *   |a - b| <= 1e-3 max(|a|, |b|) + 1e-9 max|group|;
 * - hard (default) semantics on simple scenes where the forward is
 *   locally smooth (opacities <= 0.8, so no clamped alpha and no early
 *   termination; one Gaussian beyond the Jacobian clamp window), both
 *   modes: the same criterion;
 * - clamped alphas and early termination pass no gradient (exact zeros).
 * A step is about 1e-6 of the parameter's size, a power of two that moves
 * the float32 parameter by the same exact amount both ways. */
#include <float.h>
#include <math.h>

#include "splat_oracle_grad.h"
#include "testutil.h"

#define IMG_W 24
#define IMG_H 20
#define GROUPS 5

static const double SH_C0 = 0.28209479177387814;
static const char *const GROUP_NAMES[GROUPS] = {"means", "scales", "rotations", "opacity", "sh"};

/* Returns a normal draw (Box-Muller on two test_rng_unit draws). */
static double rng_normal(void)
{
    double u1 = 1.0 - test_rng_unit(), u2 = test_rng_unit();

    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Returns a uniform draw in [lo, hi). */
static double rng_range(double lo, double hi)
{
    return lo + (hi - lo) * test_rng_unit();
}

/* Sets *cam to the test camera: IMG_W x IMG_H, rotated about y then x,
 * fx 22, fy 20, principal point (10.3, 10.6) (off the image centre),
 * centre at (0.4, -0.3, -1.0). */
static void camera_make(splat_camera *cam)
{
    const double ay = 0.3, ax = -0.2, centre[3] = {0.4, -0.3, -1.0};
    const double ry[9] = {cos(ay), 0, sin(ay), 0, 1, 0, -sin(ay), 0, cos(ay)};
    const double rx[9] = {1, 0, 0, 0, cos(ax), -sin(ax), 0, sin(ax), cos(ax)};

    memset(cam, 0, sizeof(*cam));
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            cam->rotation[a * 3 + b] =
                rx[a * 3] * ry[b] + rx[a * 3 + 1] * ry[3 + b] + rx[a * 3 + 2] * ry[6 + b];
    for (int a = 0; a < 3; a++)
        cam->translation[a] = -(cam->rotation[a * 3] * centre[0] +
                                cam->rotation[a * 3 + 1] * centre[1] +
                                cam->rotation[a * 3 + 2] * centre[2]);
    cam->fx = 22.0, cam->fy = 20.0, cam->cx = 10.3, cam->cy = 10.6;
    cam->width = IMG_W, cam->height = IMG_H;
    snprintf(cam->name, sizeof(cam->name), "grad");
}

/* Writes Gaussian i of scene: camera-space mean (u, v) pixels at depth z,
 * pixel sigmas in [sig_lo, sig_hi), opacity logit in [-logit_max,
 * logit_max), a random unnormalised quaternion, colour in [0.2, 0.8) and
 * higher SH bands with sigma 0.1. */
static void gaussian_make(splat_scene *scene, const splat_camera *cam, size_t i, double u,
                          double v, double z, double sig_lo, double sig_hi, double logit_max)
{
    const double *r = cam->rotation, *t = cam->translation;
    const double pc[3] = {(u - cam->cx) / cam->fx * z, (v - cam->cy) / cam->fy * z, z};
    double q[4], qn = 0.0, qs = rng_range(0.7, 1.4);

    for (int a = 0; a < 3; a++) /* m = R^T (pc - t) */
        scene->means[i * 3 + a] = (float)(r[a] * (pc[0] - t[0]) + r[3 + a] * (pc[1] - t[1]) +
                                          r[6 + a] * (pc[2] - t[2]));
    for (int a = 0; a < 3; a++)
        scene->scales[i * 3 + a] = (float)log(rng_range(sig_lo, sig_hi) * z / cam->fx);
    for (int a = 0; a < 4; a++) {
        q[a] = rng_range(-1.0, 1.0);
        qn += q[a] * q[a];
    }
    for (int a = 0; a < 4; a++)
        scene->rotations[i * 4 + a] = (float)(q[a] / sqrt(qn) * qs);
    scene->opacity[i] = (float)rng_range(-logit_max, logit_max);
    for (uint32_t k = 0; k < scene->sh_coeffs; k++)
        for (int c = 0; c < 3; c++)
            scene->sh[(i * scene->sh_coeffs + k) * 3 + c] =
                (float)(k == 0 ? (rng_range(0.2, 0.8) - 0.5) / SH_C0 : 0.1 * rng_normal());
}

/* Allocates and fills a random scene of `count` Gaussians at SH `degree`
 * seen by cam, means over the image and a 2-pixel margin at depth 3..6. */
static void scene_random(splat_scene *scene, size_t count, uint32_t degree, uint32_t seed,
                         const splat_camera *cam)
{
    test_rng_seed(seed);
    if (splat_scene_alloc(scene, count, degree) != KILN_OK) {
        fprintf(stderr, "scene allocation failed\n");
        exit(1);
    }
    for (size_t i = 0; i < count; i++)
        gaussian_make(scene, cam, i, rng_range(-2.0, IMG_W + 2.0), rng_range(-2.0, IMG_H + 2.0),
                      rng_range(3.0, 6.0), 0.8, 3.5, 2.0);
}

/* Returns the loss sum dl * RGB of the oracle's render of scene. */
static double loss_eval(const splat_scene *scene, const splat_camera *cam,
                        const splat_oracle_options *opt, const double *dl, double *rgba)
{
    size_t pixels = (size_t)cam->width * cam->height;
    double loss = 0.0;

    if (splat_oracle_render(scene, cam, opt, rgba, NULL) != 0) {
        fprintf(stderr, "oracle render failed\n");
        exit(1);
    }
    for (size_t p = 0; p < pixels; p++)
        for (int c = 0; c < 3; c++)
            loss += dl[p * 3 + c] * rgba[p * 4 + c];
    return loss;
}

/* Returns the central difference of the loss w.r.t. *x, a power-of-two
 * step near 1e-6 max(|x|, size) that moves the float by the same exact
 * amount up and down; *x is restored. */
static double fd_component(const splat_scene *scene, const splat_camera *cam,
                           const splat_oracle_options *opt, const double *dl, double *rgba,
                           float *x, double size)
{
    float orig = *x, up, down;
    double ax = fabs((double)orig), h, ulp, lp, lm;

    ulp = (double)nextafterf((float)ax, FLT_MAX) - ax;
    h = exp2(ceil(log2(1e-6 * (ax > size ? ax : size))));
    while (h < 4.0 * ulp)
        h *= 2.0;
    for (;;) {
        up = (float)(orig + h);
        down = (float)(orig - h);
        if ((double)up - orig == orig - (double)down && (double)up - orig == h)
            break;
        h *= 2.0;
    }
    *x = up;
    lp = loss_eval(scene, cam, opt, dl, rgba);
    *x = down;
    lm = loss_eval(scene, cam, opt, dl, rgba);
    *x = orig;
    return (lp - lm) / (2.0 * h);
}

/* Compares the backward pass with finite differences on every parameter
 * of scene, prints the figures per group and checks that each group
 * agrees on at least 99 % of its components. */
static void grad_compare(const char *what, const splat_scene *scene, const splat_camera *cam,
                         const splat_oracle_options *opt, uint32_t seed)
{
    size_t pixels = (size_t)cam->width * cam->height, n = scene->count;
    size_t sizes[GROUPS] = {n * 3, n * 3, n * 4, n, n * scene->sh_coeffs * 3};
    float *params[GROUPS] = {scene->means, scene->scales, scene->rotations, scene->opacity,
                             scene->sh};
    const double steps[GROUPS] = {1.0, 1.0, 1.0, 1.0, 0.1};
    double *dl = test_xmalloc(pixels * 3, sizeof(double));
    double *rgba = test_xmalloc(pixels * 4, sizeof(double));
    splat_oracle_grad grad;
    double *analytic[GROUPS];

    grad.means = test_xmalloc(n * 3, sizeof(double));
    grad.scales = test_xmalloc(n * 3, sizeof(double));
    grad.rotations = test_xmalloc(n * 4, sizeof(double));
    grad.opacity = test_xmalloc(n, sizeof(double));
    grad.sh = test_xmalloc(sizes[4], sizeof(double));
    analytic[0] = grad.means, analytic[1] = grad.scales, analytic[2] = grad.rotations;
    analytic[3] = grad.opacity, analytic[4] = grad.sh;
    test_rng_seed(seed);
    for (size_t k = 0; k < pixels * 3; k++)
        dl[k] = 2.0 * test_rng_unit() - 1.0;
    CHECK(splat_oracle_backward(scene, cam, opt, dl, &grad) == 0);
    for (int g = 0; g < GROUPS; g++) {
        double scale = 0.0, worst = 0.0;
        size_t pass = 0;

        for (size_t k = 0; k < sizes[g]; k++)
            scale = fmax(scale, fabs(analytic[g][k]));
        for (size_t k = 0; k < sizes[g]; k++) {
            float *x = (float *)params[g] + k;
            double fd = fd_component(scene, cam, opt, dl, rgba, x, steps[g]);
            double a = analytic[g][k], err = fabs(a - fd);
            double big = fmax(fabs(a), fabs(fd));

            pass += err <= 1e-3 * big + 1e-9 * scale;
            if (big > 1e-6 * scale)
                worst = fmax(worst, err / big);
        }
        printf("%-28s %-9s %5zu comps, %6.2f %% within, max rel err %.2e (|g| > 1e-6 max), "
               "max |g| %.3g\n", what, GROUP_NAMES[g], sizes[g],
               100.0 * (double)pass / (double)sizes[g], worst, scale);
        CHECK(scale > 0.0);
        CHECK((double)pass >= 0.99 * (double)sizes[g]);
    }
    free(grad.means);
    free(grad.scales);
    free(grad.rotations);
    free(grad.opacity);
    free(grad.sh);
    free(dl);
    free(rgba);
}

/* The smooth variant on random scenes: degrees 0..3 in Inria mode, one
 * antialiased, one in gsplat mode with a background. */
static void test_smooth(void)
{
    splat_camera cam;
    char what[64];

    camera_make(&cam);
    for (uint32_t deg = 0; deg <= 3; deg++) {
        splat_scene scene;
        splat_oracle_options opt = {SPLAT_ORACLE_INRIA, 0, {0.0, 0.0, 0.0}, 1};

        scene_random(&scene, 24, deg, 100 + deg, &cam);
        snprintf(what, sizeof(what), "smooth inria deg %u", deg);
        grad_compare(what, &scene, &cam, &opt, 7 + deg);
        splat_scene_free(&scene);
    }
    {
        splat_scene scene;
        splat_oracle_options opt = {SPLAT_ORACLE_INRIA, 1, {0.0, 0.0, 0.0}, 1};

        scene_random(&scene, 24, 1, 200, &cam);
        grad_compare("smooth inria antialiased", &scene, &cam, &opt, 21);
        splat_scene_free(&scene);
    }
    {
        splat_scene scene;
        splat_oracle_options opt = {SPLAT_ORACLE_GSPLAT, 0, {0.2, 0.5, 0.7}, 1};

        scene_random(&scene, 24, 2, 300, &cam);
        grad_compare("smooth gsplat background", &scene, &cam, &opt, 31);
        splat_scene_free(&scene);
    }
}

/* Hard semantics where the forward is locally smooth: 6 Gaussians of
 * opacity <= 0.73 (no clamped alpha, T stays well above 1e-4), one of
 * them beyond the Jacobian clamp window on x (mean2d.x = -16, large
 * enough to reach into the image). */
static void test_hard(void)
{
    splat_camera cam;
    splat_scene scene;

    camera_make(&cam);
    for (int mode = 0; mode < 2; mode++) {
        splat_oracle_options opt = {(splat_oracle_mode)mode, mode, {0.1, 0.0, 0.3}, 0};
        splat_oracle_frame frame;
        splat_oracle_hit *hits;
        size_t clamped = 0, blended = 0;

        test_rng_seed(400 + (uint32_t)mode);
        if (splat_scene_alloc(&scene, 6, 3) != KILN_OK)
            exit(1);
        for (size_t i = 0; i < 5; i++)
            gaussian_make(&scene, &cam, i, rng_range(3.0, IMG_W - 3.0),
                          rng_range(3.0, IMG_H - 3.0), rng_range(3.0, 6.0), 1.5, 3.0, 1.0);
        gaussian_make(&scene, &cam, 5, -16.0, 9.0, 4.0, 9.0, 10.0, 1.0);
        /* the premise: nothing clamped, something blended from the
         * clamped-Jacobian Gaussian */
        CHECK(splat_oracle_frame_build(&scene, &cam, &opt, &frame) == 0);
        hits = test_xmalloc(frame.count ? frame.count : 1, sizeof(*hits));
        for (uint32_t i = 0; i < cam.height; i++)
            for (uint32_t j = 0; j < cam.width; j++) {
                double t;
                size_t n = splat_oracle_pixel_hits(&frame, i, j, hits, &t);

                for (size_t k = 0; k < n; k++) {
                    clamped += (size_t)hits[k].clamped;
                    blended += frame.splats[hits[k].splat].index == 5;
                }
            }
        CHECK(clamped == 0);
        CHECK(blended > 0);
        free(hits);
        splat_oracle_frame_free(&frame);
        grad_compare(mode ? "hard gsplat antialiased" : "hard inria", &scene, &cam, &opt,
                     41 + (uint32_t)mode);
        splat_scene_free(&scene);
    }
}

/* Where the hard semantics clamp: three opaque Gaussians (opacity
 * 0.9999) on the ray through pixel (10, 10)'s centre, SH degree 0, dL/dRGB
 * only at that pixel.  The first blends with the clamped alpha 0.99f; the
 * second would leave T = (1 - 0.99f)^2 < 1e-4f and ends the pixel
 * unblended: every gradient is exactly zero except the first one's SH. */
static void test_clamped(void)
{
    splat_camera cam;
    splat_scene scene;
    splat_oracle_options opt = {SPLAT_ORACLE_INRIA, 0, {0.0, 0.0, 0.0}, 0};
    size_t pixels = IMG_W * IMG_H, zeros = 0, sh_set = 0;
    double *dl = calloc(pixels * 3, sizeof(double));
    double g_means[9], g_scales[9], g_rot[12], g_op[3], g_sh[9];
    splat_oracle_grad grad = {g_means, g_scales, g_rot, g_op, g_sh};

    camera_make(&cam);
    test_rng_seed(500);
    if (!dl || splat_scene_alloc(&scene, 3, 0) != KILN_OK)
        exit(1);
    for (size_t i = 0; i < 3; i++) {
        gaussian_make(&scene, &cam, i, 10.5, 10.5, 4.0 + 0.5 * (double)i, 2.0, 3.0, 1.0);
        scene.opacity[i] = (float)log(0.9999 / 0.0001);
    }
    for (int c = 0; c < 3; c++)
        dl[(10 * IMG_W + 10) * 3 + c] = 1.0 + c;
    CHECK(splat_oracle_backward(&scene, &cam, &opt, dl, &grad) == 0);
    for (int k = 0; k < 9; k++)
        zeros += (g_means[k] == 0.0) + (g_scales[k] == 0.0);
    for (int k = 0; k < 12; k++)
        zeros += g_rot[k] == 0.0;
    for (int k = 0; k < 3; k++)
        zeros += (g_op[k] == 0.0) + (g_sh[3 + k] == 0.0) + (g_sh[6 + k] == 0.0);
    for (int k = 0; k < 3; k++)
        sh_set += g_sh[k] != 0.0;
    printf("clamped alpha and termination: %zu / 39 gradients zero, %zu / 3 SH set\n", zeros,
           sh_set);
    CHECK(zeros == 39);
    CHECK(sh_set == 3);
    splat_scene_free(&scene);
    free(dl);
}

/* Runs the checks. */
int main(void)
{
    double t0 = test_now_ms();

    test_smooth();
    test_hard();
    test_clamped();
    printf("test_splat_grad: %.1f s\n", (test_now_ms() - t0) / 1000.0);
    return test_summary("test_splat_grad");
}
