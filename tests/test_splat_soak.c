/* Splat soak: 1,000 renders of one scene in one process, cycling through
 * 25 orbit views (so frames of different instance counts alternate), the
 * scene taken from the resident cache each time as a batch does.  After
 * the first 50 renders the pool's peak and its buffer creations stop
 * growing, kiln's live host bytes do not change, and the process RSS
 * grows by less than 1 MB (not under AddressSanitizer, whose quarantine
 * keeps freed memory by design); the ledger is empty at the end. */
#include "resident.h"
#include "rss.h"
#include "splat_render.h"
#include "splat_synth.h"
#include "testutil.h"

#define SOAK_RENDERS 1000
#define SOAK_WARMUP 50
#define SOAK_VIEWS 25

int main(void)
{
    kiln_device *dev = test_device_open(0);
    splat_synth_options so = { 3000, 77, 3, 1 };
    splat_scene scene;
    splat_renderer *r = NULL;
    splat_scene_load load;
    pool_ledger warm = { 0 }, end;
    size_t warm_rss = 0, end_rss = 0;
    kiln_host_stats warm_host = { 0 }, end_host;
    char path[1200];
    kiln_status st = KILN_OK;

    snprintf(path, sizeof(path), "%s/soak.ply", test_tmpdir("splat_soak"));
    CHECK(splat_synth_scene(&so, &scene) == 0);
    CHECK_OK(splat_scene_write_ply(path, &scene));
    splat_scene_free(&scene);
    memset(&load, 0, sizeof(load));
    CHECK_OK(splat_renderer_init(dev, &r));
    for (int i = 0; r && i < SOAK_RENDERS && st == KILN_OK; i++) {
        splat_orbit orbit = { SOAK_VIEWS, { 0, 0, 0 }, { 0, -1, 0 }, 3.0, 15.0, 60.0, 96, 64 };
        splat_render_options o;
        splat_render_stats stats;
        splat_scene_dev *d = NULL;
        splat_camera cam;
        dev_image img;

        memset(&o, 0, sizeof(o));
        o.mode = i % 2 ? SPLAT_MODE_GSPLAT : SPLAT_MODE_INRIA;
        o.output = SPLAT_OUT_RGB;
        o.max_instances = 1u << 22;
        o.blend_rows = -1;
        o.profile_section = -1;
        st = splat_scene_dev_acquire(dev, path, &load, &d);
        if (st == KILN_OK)
            st = splat_orbit_camera(&orbit, (uint32_t)(i % SOAK_VIEWS), &cam);
        if (st == KILN_OK)
            st = splat_render(r, d, &cam, &o, &img, &stats);
        if (st == KILN_OK) {
            st = device_finish(dev);
            dev_image_release(dev, &img);
        }
        resident_release(dev, d);
        if (i + 1 == SOAK_WARMUP) {
            pool_ledger_get(dev->pool, &warm);
            warm_rss = rss_current_bytes();
            kiln_host_alloc_stats(&warm_host);
        }
    }
    CHECK_OK(st);
    pool_ledger_get(dev->pool, &end);
    end_rss = rss_current_bytes();
    kiln_host_alloc_stats(&end_host);
    printf("splat soak: %d renders; after %d: pool peak %zu bytes, %llu creations, RSS %.2f MB; "
           "at the end: pool peak %zu bytes, %llu creations, RSS %.2f MB\n", SOAK_RENDERS,
           SOAK_WARMUP, warm.peak_bytes, (unsigned long long)warm.creations, warm_rss / 1e6,
           end.peak_bytes, (unsigned long long)end.creations, end_rss / 1e6);
    CHECK(end.peak_bytes == warm.peak_bytes);
    CHECK(end.creations == warm.creations);
    printf("splat soak: kiln live host bytes %zu after %d renders, %zu at the end\n",
           warm_host.live_bytes, SOAK_WARMUP, end_host.live_bytes);
    CHECK(end_host.live_bytes == warm_host.live_bytes);
#if defined(__SANITIZE_ADDRESS__)
    printf("splat soak: RSS bar not applied under AddressSanitizer\n");
#else
    CHECK(end_rss < warm_rss + 1000000);
#endif
    CHECK(resident_count(dev, NULL) == 1);
    splat_renderer_free(r);
    test_device_close(dev);
    return test_summary("test_splat_soak");
}
