/* Training converges (engine/splat/splat_train.c): a seeded ground-truth
 * scene of 2,000 Gaussians is rendered by kiln's renderer from 24 orbit
 * views; every 8th view is held out for testing.  Training starts from a
 * perturbed half of its points (splat_scene_from_points, as the
 * reference trainer's create_from_pcd) and must reach a mean test-view
 * PSNR of at least 30 dB; densification must grow the count, never past
 * the max_gaussians cap.  The curve is printed.  Also the training
 * memory per Gaussian, and the ledger empty at the end. */
#include <math.h>

#include "splat_init.h"
#include "splat_loss.h"
#include "splat_train.h"
#include "testutil.h"

#define GT_COUNT 2000
#define VIEWS 24
#define TEST_EVERY 8
#define SIDE 64
#define ITERATIONS 1500
#define CAP 2600

/* The ground truth: soft blobs on a torus-like shell, SH degree 1. */
static void ground_truth(splat_scene *s)
{
    CHECK_OK(splat_scene_alloc(s, GT_COUNT, 1));
    test_rng_seed(2024);
    for (size_t i = 0; i < s->count; i++) {
        double u = 6.283185307179586 * test_rng_unit(), v = 6.283185307179586 * test_rng_unit();
        double r = 0.6 + 0.25 * cos(v);
        s->means[i * 3] = (float)(r * cos(u));
        s->means[i * 3 + 1] = (float)(0.25 * sin(v));
        s->means[i * 3 + 2] = (float)(r * sin(u));
        for (int k = 0; k < 3; k++)
            s->scales[i * 3 + k] = (float)log(0.03 + 0.05 * test_rng_unit());
        for (int k = 0; k < 4; k++)
            s->rotations[i * 4 + k] = 2.0f * test_rng_unit() - 1.0f;
        double o = 0.4 + 0.55 * test_rng_unit();
        s->opacity[i] = (float)log(o / (1.0 - o));
        for (int c = 0; c < 3; c++) {
            double col = 0.5 + 0.4 * cos(u + 2.0943951 * c);
            s->sh[(i * s->sh_coeffs) * 3 + c] = (float)((col - 0.5) / 0.28209479177387814);
            for (uint32_t k = 1; k < s->sh_coeffs; k++)
                s->sh[(i * s->sh_coeffs + k) * 3 + c] = 0.1f * (test_rng_unit() - 0.5f);
        }
    }
}

/* The 24 views: an orbit of radius 2.2 at alternating elevations. */
static void views(splat_camera *cams)
{
    for (uint32_t k = 0; k < VIEWS; k++) {
        splat_orbit o = { VIEWS, { 0, 0, 0 }, { 0, -1, 0 }, 2.2, k % 2 ? 25.0 : -15.0, 60.0,
                          SIDE, SIDE };
        CHECK_OK(splat_orbit_camera(&o, k, &cams[k]));
    }
}

/* The initial scene: every second ground-truth point, moved by up to
 * 0.03, coloured by its degree-0 colour. */
static void initial_scene(const splat_scene *gt, splat_scene *init)
{
    size_t n = gt->count / 2;
    float *pts = test_xmalloc(n * 3, sizeof(float));
    uint8_t *rgb = test_xmalloc(n * 3, sizeof(uint8_t));
    for (size_t i = 0; i < n; i++) {
        size_t g = 2 * i;
        for (int k = 0; k < 3; k++) {
            double c = 0.5 + 0.28209479177387814 * gt->sh[(g * gt->sh_coeffs) * 3 + k];
            pts[i * 3 + k] = gt->means[g * 3 + k] + 0.06f * (test_rng_unit() - 0.5f);
            rgb[i * 3 + k] = (uint8_t)lrint(fmin(1.0, fmax(0.0, c)) * 255.0);
        }
    }
    CHECK_OK(splat_scene_from_points(pts, rgb, n, 1, init));
    free(pts);
    free(rgb);
}

int main(void)
{
    kiln_device *dev = test_device_open(0);
    splat_scene gt, init;
    splat_scene_dev *gtd = NULL;
    splat_renderer *r = NULL;
    splat_camera cams[VIEWS];
    dev_image targets[VIEWS];
    splat_train_options opt;
    splat_trainer *t = NULL;
    size_t parts[5], per;
    double mean_psnr = 0.0;
    int grew = 0;

    memset(targets, 0, sizeof(targets));
    ground_truth(&gt);
    views(cams);
    CHECK_OK(splat_scene_dev_upload(dev, &gt, 0, &gtd));
    CHECK_OK(splat_renderer_init(dev, &r));
    for (int k = 0; gtd && r && k < VIEWS; k++) {
        splat_render_options o;
        splat_render_stats rs;
        memset(&o, 0, sizeof(o));
        o.output = SPLAT_OUT_RGB;
        o.max_instances = 1u << 22;
        o.blend_rows = -1;
        o.profile_section = -1;
        CHECK_OK(splat_render(r, gtd, &cams[k], &o, &targets[k], &rs));
    }
    splat_renderer_free(r);
    splat_scene_dev_free(gtd);
    initial_scene(&gt, &init);

    splat_train_options_default(&opt);
    opt.iterations = ITERATIONS;
    opt.sh_degree = 1;
    opt.densify_from = 200;
    opt.densify_until = 1000;
    opt.densify_interval = 100;
    opt.sh_interval = 300;
    opt.max_gaussians = CAP;
    opt.position_lr_max_steps = ITERATIONS;
    opt.seed = 5;
    CHECK_OK(splat_trainer_init(dev, &init, 1.1 * 2.2, &opt, &t));
    for (uint64_t it = 1; t && it <= ITERATIONS; it++) {
        splat_step_result res;
        int v = (int)(test_rng_next() % VIEWS);
        kiln_status st;
        while (v % TEST_EVERY == 0)
            v = (int)(test_rng_next() % VIEWS);
        st = splat_trainer_step(t, &cams[v], &targets[v], NULL, &res);
        CHECK_OK(st);
        if (st != KILN_OK)
            break;
        grew |= res.count > init.count;
        CHECK(res.count <= CAP);
        if (it % 250 == 0 || it == 1)
            printf("train %5llu: loss %.5f, L1 %.5f, SSIM %.4f, %zu Gaussians%s\n",
                   (unsigned long long)it, res.loss, res.l1, res.ssim, res.count,
                   res.densified ? " (densified)" : "");
    }
    if (t) {
        /* a camera that sees nothing (turned away): the step runs, the
         * gradients are zero, nothing changes size or turns non-finite */
        splat_camera away = cams[1];
        splat_step_result res;
        /* turned half round its own y axis: rows 0 and 2 of R and t negated
         * (the centre -R^T t stays) */
        for (int k = 0; k < 3; k++) {
            away.rotation[k] = -away.rotation[k];
            away.rotation[6 + k] = -away.rotation[6 + k];
        }
        away.translation[0] = -away.translation[0];
        away.translation[2] = -away.translation[2];
        CHECK_OK(splat_trainer_step(t, &away, &targets[1], NULL, &res));
        CHECK(isfinite(res.loss) && res.count == splat_trainer_scene(t)->count);
        printf("a view that sees nothing: loss %.4f, %zu Gaussians\n", res.loss, res.count);
    }
    for (int k = 0; t && k < VIEWS; k += TEST_EVERY) {
        dev_image img = { 0 };
        double psnr = 0.0;
        CHECK_OK(splat_trainer_render(t, &cams[k], &img));
        if (img.buf)
            CHECK_OK(splat_psnr(dev, &img, &targets[k], &psnr));
        printf("test view %d: PSNR %.2f dB\n", k, psnr);
        mean_psnr += psnr / (VIEWS / TEST_EVERY);
        dev_image_release(dev, &img);
    }
    per = splat_train_bytes_per_gaussian(3, parts);
    printf("test PSNR %.2f dB after %d iterations; %zu -> %zu Gaussians (cap %d)\n", mean_psnr,
           ITERATIONS, init.count, t ? splat_trainer_scene(t)->count : 0, CAP);
    printf("training bytes a Gaussian at SH 3: %zu (parameters %zu, Adam %zu, gradients %zu, "
           "densification %zu, frame %zu)\n", per, parts[0], parts[1], parts[2], parts[3],
           parts[4]);
    CHECK(mean_psnr >= 30.0);
    CHECK(grew);
    CHECK(per <= 1100);
    splat_trainer_free(t);
    for (int k = 0; k < VIEWS; k++)
        dev_image_release(dev, &targets[k]);
    splat_scene_free(&init);
    splat_scene_free(&gt);
    test_device_close(dev);
    return test_summary("test_splat_train");
}
