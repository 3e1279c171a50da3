/* Soak: many small images through the stages in one process.  Pool peak,
 * device buffer creations and process RSS must stop growing after the
 * warm-up (RSS growth under 1 MB).
 *   test_soak          1000 images through resize and composite
 *   test_soak refine   200 refinements (trimap, closed-form alpha,
 *                      foreground estimation, cut-out, composite)
 *   test_soak segment  1000 images through segmentation (pre-processing,
 *                      a small U-Net-like network, post-processing,
 *                      cut-out), resize and composite */
#include <malloc.h>
#include <stdint.h>

#include "batch.h"
#include "job.h"
#include "rss.h"
#include "onnx_build.h"
#include "testutil.h"

/* The run's size: items in all and items of warm-up. */
static int soak_items = 1000;
static int soak_warmup = 100;
#define SOAK_TAIL 10   /* items at the end whose RSS is not followed */

/* Figures taken after the warm-up and at the end. */
typedef struct soak_figures {
    pool_ledger warm;
    size_t warm_rss;
    kiln_host_stats warm_host;
    pool_ledger end;
    size_t end_rss;
    kiln_host_stats end_host;
    size_t max_rss_after_warmup;
} soak_figures;

/* The per-item hook: snapshots after warm-up, tracks RSS afterwards. */
static void on_item(void *user, kiln_device *dev, size_t done)
{
    soak_figures *f = user;
    size_t rss = rss_current_bytes();
    if (done == (size_t)soak_warmup) {
        pool_ledger_get(dev->pool, &f->warm);
        kiln_host_alloc_stats(&f->warm_host);
        f->warm_rss = rss;
    }
    /* the last items' hooks run while the batch winds down (the
       prefetcher stops reading ahead, the lanes drain, the worker closes),
       a one-time step that is not per-item growth: RSS is followed up to
       SOAK_TAIL items before the end */
    if (done >= (size_t)soak_warmup && done + SOAK_TAIL <= (size_t)soak_items &&
        rss > f->max_rss_after_warmup)
        f->max_rss_after_warmup = rss;
    if (done == (size_t)soak_items) {
        pool_ledger_get(dev->pool, &f->end);
        kiln_host_alloc_stats(&f->end_host);
        f->end_rss = rss;
    }
}

/* Writes the inputs with the image generator: three kinds of odd sizes,
 * interleaved in sorted order so that the warm-up sees every kind; for
 * refinement, synthetic photos (scene8) of two sizes with their hard
 * masks (disc8). */
static int make_inputs(const char *dir, int refine)
{
    char cmd[16384];
    const char *env = getenv("TOP_BUILDDIR");
    char gen[1024];
    snprintf(gen, sizeof(gen), "%s", env ? env : ".");
    if (refine) {
        /* two sizes, alternating; each size the same photo, so that the
         * warm-up has seen every buffer and kernel shape the run needs */
        snprintf(cmd, sizeof(cmd),
                 "set -e; b=%s/../base; m=%s/../masks; mkdir -p $b $m; "
                 "%s/tests/make_images $b 1 64 48 scene8 a && %s/tests/make_images $b 1 57 61 scene8 b && "
                 "%s/tests/make_images $b 1 64 48 disc8 ma && %s/tests/make_images $b 1 57 61 disc8 mb; "
                 "i=0; while [ $i -lt %d ]; do n=$(printf %%05d $i); s=a; [ $((i %% 2)) = 0 ] || s=b; "
                 "cp $b/${s}00000.png %s/i$n.png; cp $b/m${s}00000.png $m/i$n.png; i=$((i + 1)); done",
                 dir, dir, gen, gen, gen, gen, soak_items, dir);
        return system(cmd);
    }
    snprintf(cmd, sizeof(cmd),
             "%s/tests/make_images %s %d 37 29 rgba8 i 0 3 && %s/tests/make_images %s %d 40 24 rgb8 i 1 3 && "
             "%s/tests/make_images %s %d 31 31 gray8 i 2 3",
             gen, dir, (soak_items + 2) / 3, gen, dir, (soak_items + 1) / 3, gen, dir, soak_items / 3);
    return system(cmd);
}

/* Runs the soak batch and checks flatness. */
int main(int argc, char **argv)
{
    int refine = argc > 1 && strcmp(argv[1], "refine") == 0;
    int segment = argc > 1 && strcmp(argv[1], "segment") == 0;
    const char *mode = refine ? " (refine)" : segment ? " (segment)" : "";
    char in_dir[1024], out_dir[1024], rm[4096];
    const char *tmp;

#if defined(__GLIBC__)
    /* A fixed mmap threshold: glibc otherwise raises it the first time a
       large mmapped block is freed, so that from some random item on the
       same blocks come from the heap instead, and RSS steps up once (with
       the finisher thread of two items in flight, at a random item after
       the warm-up).  A fixed threshold keeps RSS a measure of growth. */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif
    job_config job;
    batch_options options = { NULL, NULL, 0, 1, on_item, NULL, 0 };
    batch_result result;
    soak_figures f;

    if (refine) {
        soak_items = 200;
        soak_warmup = 20;
    }
    tmp = test_tmpdir(refine ? "soak_refine" : segment ? "soak_segment" : "soak");
    memset(&f, 0, sizeof(f));
    options.hook_user = &f;
    snprintf(in_dir, sizeof(in_dir), "%s/in", tmp);
    snprintf(out_dir, sizeof(out_dir), "%s/out", tmp);
    snprintf(rm, sizeof(rm), "rm -rf %s %s %s/masks %s/base && mkdir -p %s", in_dir, out_dir, tmp, tmp, in_dir);
    if (system(rm) != 0 || make_inputs(in_dir, refine) != 0) {
        fprintf(stderr, "cannot prepare the soak inputs\n");
        return 1;
    }
    job_defaults(&job, "soak.ini");
    snprintf(job.inputs, sizeof(job.inputs), "%s", in_dir);
    snprintf(job.output_dir, sizeof(job.output_dir), "%s", out_dir);
    job.resize.enabled = 1;
    job.resize.width = 24;
    job.resize.filter = 2; /* lanczos3 */
    job.composite.enabled = 1;
    job.in_flight = 2;   /* the overlapped path, whatever the device */
    if (refine) {
        job.refine.enabled = 1;
        job.refine.erode_size = 2;
        snprintf(job.refine.masks, sizeof(job.refine.masks), "%s/masks", tmp);
        job.resize.width = 32;
    }
    if (segment) {
        /* a small U-Net-like network (Conv+BN+Relu, MaxPool, Resize, Concat,
           Conv+Sigmoid) at an 8x8 input: the whole segment path per item */
        onnx_build *b = onnx_build_new(11);
        job.segment.enabled = 1;
        job.segment.input_size = 8;
        snprintf(job.segment.model, sizeof(job.segment.model), "%s/mini_unet.onnx", tmp);
        onnx_build_mini_unet(b);
        onnx_build_write(b, job.segment.model);
        onnx_build_free(b);
    }
    snprintf(job.device.select, sizeof(job.device.select), "%s", getenv("KILN_DEVICE") ? getenv("KILN_DEVICE") : "auto");

    CHECK_OK(batch_run(&job, &options, &result));
    CHECK(result.succeeded == (size_t)soak_items && result.failed == 0);
    printf("soak%s: %d items; after %d: pool peak %zu B, creations %llu, RSS %.2f MB; "
           "at the end: pool peak %zu B, creations %llu, RSS %.2f MB (max after warm-up %.2f MB); "
           "pool hits %llu, misses %llu\n",
           mode, soak_items, soak_warmup, f.warm.peak_bytes, (unsigned long long)f.warm.creations,
           f.warm_rss / 1e6, f.end.peak_bytes, (unsigned long long)f.end.creations, f.end_rss / 1e6,
           f.max_rss_after_warmup / 1e6, (unsigned long long)f.end.hits, (unsigned long long)f.end.misses);
    CHECK(f.warm.creations > 0);
    CHECK(f.end.creations == f.warm.creations);
    CHECK(f.end.peak_bytes == f.warm.peak_bytes);
    {
        /* growth per item after the warm-up: kiln's own host bytes (the
           allocator's exact count) under 100 B an item, the process's RSS
           (pages, the C library's arenas, the driver) under 1 KB an item */
        double items = (double)(soak_items - soak_warmup);
        double rss_items = (double)(soak_items - SOAK_TAIL - soak_warmup);
        double host_per_item = ((double)f.end_host.live_bytes - (double)f.warm_host.live_bytes) / items;
        double rss_per_item = ((double)f.max_rss_after_warmup - (double)f.warm_rss) / rss_items;
        printf("soak%s: growth per item after the warm-up: kiln host bytes %.1f B (live %zu -> "
               "%zu), RSS %.1f B (bars: 100 B and 1024 B)\n", mode, host_per_item,
               f.warm_host.live_bytes, f.end_host.live_bytes, rss_per_item);
        CHECK(host_per_item < 100.0);
#if defined(__SANITIZE_ADDRESS__)
        /* ASan keeps freed memory in its quarantine (up to 256 MB): RSS
           grows by design; the exact host-byte count above still holds */
        printf("soak%s: RSS bar not applied under AddressSanitizer\n", mode);
#else
        CHECK(rss_per_item < 1024.0);
#endif
    }
    /* only the model cache's weights and arena (segment) stay live once
       the last item is written (at the warm-up item the next item may be
       in flight: [job] in_flight = 2) */
    CHECK(f.end.live_objects == (segment ? 2u : 0u));
    return test_summary(refine ? "test_soak refine" : segment ? "test_soak segment" : "test_soak");
}
