/* Adam for splat training (engine/splat/splat_adam.c) against a host
 * Adam in double precision (torch.optim.Adam's formula): a seeded scene,
 * three steps of random gradients, every parameter group with its own
 * rate and the SH DC and rest rates apart; fp16 SH refused; the ledger
 * empty at the end. */
#include <math.h>

#include "splat_adam.h"
#include "splat_synth.h"
#include "testutil.h"

#define STEPS 3

/* One host Adam step on n doubles with per-element rates lr(e). */
static void host_adam(double *p, const double *g, double *m, double *v, size_t n, size_t period,
                      size_t first, double lr_first, double lr_rest, int t)
{
    double bc1 = 1.0 - pow(0.9, t), bc2 = 1.0 - pow(0.999, t);
    for (size_t e = 0; e < n; e++) {
        double lr = e % period < first ? lr_first : lr_rest;
        m[e] = 0.9 * m[e] + 0.1 * g[e];
        v[e] = 0.999 * v[e] + 0.001 * g[e] * g[e];
        p[e] -= lr * (m[e] / bc1) / (sqrt(v[e] / bc2) + 1e-15);
    }
}

/* A parameter group on both sides. */
typedef struct group {
    const char *name;
    float *scene_array;     /* the host scene's array (initial values) */
    pool_buffer **param;    /* the device scene's buffer */
    pool_buffer **grad;
    size_t n, period, first;
    double lr_first, lr_rest;
} group;

int main(void)
{
    kiln_device *dev = test_device_open(0);
    splat_synth_options so = { 64, 5, 3, 1 };
    splat_scene scene;
    splat_scene_dev *d = NULL, *half = NULL;
    splat_grads grads = { 0 };
    splat_adam adam = { 0 };
    splat_adam_rates rates = { 1.6e-4f, 5e-3f, 1e-3f, 2.5e-2f, 2.5e-3f, 2.5e-3f / 20.0f };

    CHECK(splat_synth_scene(&so, &scene) == 0);
    CHECK_OK(splat_scene_dev_upload(dev, &scene, 0, &d));
    CHECK_OK(splat_grads_acquire(dev, scene.count, scene.sh_coeffs, &grads));
    CHECK_OK(splat_adam_init(dev, scene.count, scene.sh_coeffs, &adam));
    if (d && grads.sh && adam.v.sh) {
        size_t n = scene.count;
        group groups[] = {
            { "means", scene.means, &d->means, &grads.means, n * 3, 1, 1, rates.means, rates.means },
            { "scales", scene.scales, &d->scales, &grads.scales, n * 3, 1, 1, rates.scales,
              rates.scales },
            { "rotations", scene.rotations, &d->rotations, &grads.rotations, n * 4, 1, 1,
              rates.rotations, rates.rotations },
            { "opacity", scene.opacity, &d->opacity, &grads.opacity, n, 1, 1, rates.opacity,
              rates.opacity },
            { "sh", scene.sh, &d->sh, &grads.sh, n * scene.sh_coeffs * 3, scene.sh_coeffs * 3, 3,
              rates.sh_dc, rates.sh_rest },
        };
        size_t ngroups = sizeof(groups) / sizeof(groups[0]);
        double *hp[5], *hm[5], *hv[5];
        test_rng_seed(17);
        for (size_t k = 0; k < ngroups; k++) {
            hp[k] = test_xmalloc(groups[k].n, sizeof(double));
            hm[k] = calloc(groups[k].n, sizeof(double));
            hv[k] = calloc(groups[k].n, sizeof(double));
            for (size_t e = 0; e < groups[k].n; e++)
                hp[k][e] = groups[k].scene_array[e];
        }
        for (int t = 1; t <= STEPS; t++) {
            for (size_t k = 0; k < ngroups; k++) {
                float *gf = test_xmalloc(groups[k].n, sizeof(float));
                double *gd = test_xmalloc(groups[k].n, sizeof(double));
                for (size_t e = 0; e < groups[k].n; e++) {
                    gf[e] = (2.0f * test_rng_unit() - 1.0f) * (float)(k + 1);
                    gd[e] = gf[e];
                }
                CHECK_OK(dev_buffer_write(dev, (*groups[k].grad)->mem, 0,
                                          groups[k].n * sizeof(float), gf, "gradients"));
                host_adam(hp[k], gd, hm[k], hv[k], groups[k].n, groups[k].period,
                          groups[k].first, groups[k].lr_first, groups[k].lr_rest, t);
                free(gf);
                free(gd);
            }
            CHECK_OK(splat_adam_step(dev, d, &grads, &rates, &adam));
        }
        CHECK(adam.step == STEPS);
        for (size_t k = 0; k < ngroups; k++) {
            float *got = test_xmalloc(groups[k].n, sizeof(float));
            double worst = 0.0, moved = 0.0;
            CHECK_OK(dev_buffer_read(dev, (*groups[k].param)->mem, 0, groups[k].n * sizeof(float),
                                     got, "parameters"));
            for (size_t e = 0; e < groups[k].n; e++) {
                double step = fabs(hp[k][e] - groups[k].scene_array[e]);
                worst = fmax(worst, fabs(got[e] - hp[k][e]) / fmax(step, 1e-12));
                moved = fmax(moved, step);
            }
            printf("adam %-9s: %zu values, largest move %.3g, worst error / move %.2g\n",
                   groups[k].name, groups[k].n, moved, worst);
            /* float parameters: the error is float rounding of p, far below the move */
            CHECK(worst < 2e-2);
            CHECK(moved > 0.0);
            free(got);
            free(hp[k]);
            free(hm[k]);
            free(hv[k]);
        }
        /* fp16 SH is refused */
        CHECK_OK(splat_scene_dev_upload(dev, &scene, 1, &half));
        if (half)
            CHECK_STATUS(splat_adam_step(dev, half, &grads, &rates, &adam), KILN_E_INVAL);
    }
    splat_scene_dev_free(half);
    splat_adam_free(dev, &adam);
    splat_grads_release(dev, &grads);
    splat_scene_dev_free(d);
    splat_scene_free(&scene);
    test_device_close(dev);
    return test_summary("test_splat_adam");
}
