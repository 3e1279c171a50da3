/* Training speed (not a test): iterations per second and device
 * milliseconds per kernel family from profiling events (the render's
 * steps, loss, backward, optimizer, densification) for
 *   - the convergence scene of test_splat_train (2,000 Gaussians, 64x64);
 *   - a 100k-Gaussian synthetic scene (tests/splat_synth.h) at 640x420,
 *     trained towards renders of itself moved a little.
 * Usage: splat_train_bench [ITERATIONS] (default 50 a case, after 5
 * warm-up iterations). */
#include <math.h>

#include "clock.h"
#include "splat_synth.h"
#include "splat_train.h"
#include "testutil.h"

/* Benchmarks one case. */
static void bench_case(kiln_device *dev, const char *name, const splat_scene *gt,
                       uint32_t w, uint32_t h, int iterations)
{
    splat_scene init;
    splat_scene_dev *gtd = NULL;
    splat_renderer *r = NULL;
    splat_camera cams[4];
    dev_image targets[4];
    splat_train_options opt;
    splat_trainer *t = NULL;
    double ms[SPLAT_TRAIN_SECTIONS] = { 0 }, t0 = 0.0;

    memset(targets, 0, sizeof(targets));
    for (uint32_t k = 0; k < 4; k++) {
        splat_orbit o = { 4, { 0, 0, 0 }, { 0, -1, 0 }, 2.6, 10.0, 60.0, w, h };
        CHECK_OK(splat_orbit_camera(&o, k, &cams[k]));
    }
    CHECK_OK(splat_scene_dev_upload(dev, gt, 0, &gtd));
    CHECK_OK(splat_renderer_init(dev, &r));
    for (int k = 0; gtd && r && k < 4; k++) {
        splat_render_options o;
        splat_render_stats rs;
        memset(&o, 0, sizeof(o));
        o.output = SPLAT_OUT_RGB;
        o.max_instances = 1u << 25;
        o.blend_rows = -1;
        o.profile_section = -1;
        CHECK_OK(splat_render(r, gtd, &cams[k], &o, &targets[k], &rs));
    }
    splat_renderer_free(r);
    splat_scene_dev_free(gtd);
    CHECK_OK(splat_scene_alloc(&init, gt->count, gt->sh_degree));
    memcpy(init.means, gt->means, gt->count * 3 * sizeof(float));
    memcpy(init.rotations, gt->rotations, gt->count * 4 * sizeof(float));
    memcpy(init.scales, gt->scales, gt->count * 3 * sizeof(float));
    memcpy(init.opacity, gt->opacity, gt->count * sizeof(float));
    memcpy(init.sh, gt->sh, gt->count * gt->sh_coeffs * 3 * sizeof(float));
    for (size_t i = 0; i < init.count * 3; i++)
        init.means[i] += 0.01f;
    splat_train_options_default(&opt);
    opt.sh_degree = gt->sh_degree;
    opt.densify = 0;
    CHECK_OK(splat_trainer_init(dev, &init, 2.9, &opt, &t));
    for (int it = 0; t && it < iterations + 5; it++) {
        splat_step_result res;
        if (it == 5) {
            splat_trainer_profile(t, 1);
            t0 = kiln_clock_ms();
        }
        CHECK_OK(splat_trainer_step(t, &cams[it % 4], &targets[it % 4], NULL, &res));
        for (int p = 0; it >= 5 && p < SPLAT_TRAIN_SECTIONS; p++)
            ms[p] += res.ms[p];
    }
    if (t) {
        double wall = kiln_clock_ms() - t0;
        printf("%-26s %8zu %5ux%-4u %8.2f it/s; device ms an iteration:", name, gt->count, w,
               h, iterations * 1000.0 / wall);
        for (int p = 0; p < SPLAT_TRAIN_SECTIONS; p++)
            printf(" %s %.2f", splat_train_section_name(p), ms[p] / iterations);
        printf("\n");
    }
    splat_trainer_free(t);
    for (int k = 0; k < 4; k++)
        dev_image_release(dev, &targets[k]);
    splat_scene_free(&init);
}

int main(int argc, char **argv)
{
    int iterations = argc > 1 ? atoi(argv[1]) : 50;
    kiln_device *dev = test_device_open(0);
    splat_synth_options small = { 2000, 2024, 1, 1 }, big = { 100000, 42, 3, 1 };
    splat_scene a, b;

    CHECK(splat_synth_scene(&small, &a) == 0);
    for (size_t i = 0; i < a.count * 3; i++)
        a.scales[i] += 1.5f;
    CHECK(splat_synth_scene(&big, &b) == 0);
    printf("%-28s %8s %10s\n", "case", "Gaussians", "size");
    bench_case(dev, "convergence-sized scene", &a, 64, 64, iterations);
    bench_case(dev, "synthetic 100k", &b, 640, 420, iterations);
    printf("device: %s; times from profiling events\n", dev->info.name);
    splat_scene_free(&a);
    splat_scene_free(&b);
    test_device_close(dev);
    return test_summary("splat_train_bench") ? 1 : 0;
}
