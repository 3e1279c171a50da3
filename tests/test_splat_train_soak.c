/* Training soak: 10,000 iterations at a constant Gaussian count
 * (densification off) on 8 views of a small seeded scene.  After a
 * 500-iteration warm-up the device pool's peak, its buffer creations and
 * kiln's live host bytes do not change, and the process RSS stays within
 * 1 % (not under AddressSanitizer, whose quarantine keeps freed memory);
 * the ledger is empty at the end. */
#include "rss.h"
#include "splat_synth.h"
#include "splat_train.h"
#include "testutil.h"

#define ITERATIONS 10000
#define WARMUP 500
#define VIEWS 8
#define SIDE 32

int main(void)
{
    kiln_device *dev = test_device_open(0);
    splat_synth_options so = { 300, 12, 1, 1 };
    splat_scene gt, init;
    splat_scene_dev *gtd = NULL;
    splat_renderer *r = NULL;
    splat_camera cams[VIEWS];
    dev_image targets[VIEWS];
    splat_train_options opt;
    splat_trainer *t = NULL;
    pool_ledger warm = { 0 }, end;
    kiln_host_stats warm_host = { 0 }, end_host;
    size_t warm_rss = 0, end_rss;
    kiln_status st = KILN_OK;

    memset(targets, 0, sizeof(targets));
    CHECK(splat_synth_scene(&so, &gt) == 0);
    for (size_t i = 0; i < gt.count * 3; i++)
        gt.scales[i] += 2.0f;   /* visible blobs at this size */
    for (uint32_t k = 0; k < VIEWS; k++) {
        splat_orbit o = { VIEWS, { 0, 0, 0 }, { 0, -1, 0 }, 3.0, 20.0, 60.0, SIDE, SIDE };
        CHECK_OK(splat_orbit_camera(&o, k, &cams[k]));
    }
    CHECK_OK(splat_scene_dev_upload(dev, &gt, 0, &gtd));
    CHECK_OK(splat_renderer_init(dev, &r));
    for (int k = 0; gtd && r && k < VIEWS; k++) {
        splat_render_options o;
        splat_render_stats rs;
        memset(&o, 0, sizeof(o));
        o.output = SPLAT_OUT_RGB;
        o.max_instances = 1u << 20;
        o.blend_rows = -1;
        o.profile_section = -1;
        CHECK_OK(splat_render(r, gtd, &cams[k], &o, &targets[k], &rs));
    }
    splat_renderer_free(r);
    splat_scene_dev_free(gtd);
    /* start from the ground truth moved a little: a constant count */
    CHECK_OK(splat_scene_alloc(&init, gt.count, gt.sh_degree));
    memcpy(init.means, gt.means, gt.count * 3 * sizeof(float));
    memcpy(init.rotations, gt.rotations, gt.count * 4 * sizeof(float));
    memcpy(init.scales, gt.scales, gt.count * 3 * sizeof(float));
    memcpy(init.opacity, gt.opacity, gt.count * sizeof(float));
    memcpy(init.sh, gt.sh, gt.count * gt.sh_coeffs * 3 * sizeof(float));
    for (size_t i = 0; i < init.count * 3; i++)
        init.means[i] += 0.05f;
    splat_train_options_default(&opt);
    opt.iterations = ITERATIONS;
    opt.densify = 0;
    opt.sh_degree = gt.sh_degree;
    opt.sh_interval = 1000;
    CHECK_OK(splat_trainer_init(dev, &init, 3.3, &opt, &t));
    for (int it = 1; t && it <= ITERATIONS && st == KILN_OK; it++) {
        splat_step_result res;
        st = splat_trainer_step(t, &cams[it % VIEWS], &targets[it % VIEWS], NULL, &res);
        if (it == WARMUP) {
            pool_ledger_get(dev->pool, &warm);
            kiln_host_alloc_stats(&warm_host);
            warm_rss = rss_current_bytes();
        }
        if (it % 2000 == 0)
            printf("soak %5d: loss %.5f, PSNR %.2f dB, %zu Gaussians\n", it, res.loss, res.psnr,
                   res.count);
    }
    CHECK_OK(st);
    pool_ledger_get(dev->pool, &end);
    kiln_host_alloc_stats(&end_host);
    end_rss = rss_current_bytes();
    printf("train soak: after %d: pool peak %zu, %llu creations, host live %zu, RSS %.2f MB; after "
           "%d: pool peak %zu, %llu creations, host live %zu, RSS %.2f MB\n", WARMUP,
           warm.peak_bytes, (unsigned long long)warm.creations, warm_host.live_bytes,
           warm_rss / 1e6, ITERATIONS, end.peak_bytes, (unsigned long long)end.creations,
           end_host.live_bytes, end_rss / 1e6);
    CHECK(end.peak_bytes == warm.peak_bytes);
    CHECK(end.creations == warm.creations);
    CHECK(end_host.live_bytes == warm_host.live_bytes);
#if defined(__SANITIZE_ADDRESS__)
    printf("train soak: RSS bar not applied under AddressSanitizer\n");
#else
    CHECK((double)end_rss <= 1.01 * (double)warm_rss);
#endif
    splat_trainer_free(t);
    for (int k = 0; k < VIEWS; k++)
        dev_image_release(dev, &targets[k]);
    splat_scene_free(&init);
    splat_scene_free(&gt);
    test_device_close(dev);
    return test_summary("test_splat_train_soak");
}
