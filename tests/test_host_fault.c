/* The host memory fault walk, as SQLite's malloc tests do it: a whole
 * small job (load the job from --set overrides, list the inputs, open the
 * device, decode two 16x12 RGB images, segment each with a tiny U-Net-like
 * network, refine the mask into an alpha matte, encode the results, write
 * the report) runs in-process once per fault point N = 1, 2, 3, ... with
 * kiln_host_alloc_fail_at(N) armed, until a run completes without the
 * fault firing.  For every N:
 *   - no crash (and, under --enable-sanitizers, no memory error);
 *   - the job succeeds, or fails cleanly: batch_run returns
 *     KILN_E_HOSTMEM with a message naming memory, or the item fails and
 *     the report lists it with KILN_E_HOSTMEM and such a message; never
 *     KILN_E_LEAK (a device closed with live pool buffers) or another
 *     status;
 *   - a one-shot fault fails at most one item: the other item recovers
 *     (the device's caches of programs and models stay usable after a
 *     failure);
 *   - an output exists only for an item that succeeded, and then decodes
 *     as a complete 16x12 image; no temporary file is left;
 *   - kiln's live host bytes are back to their value before the run.
 *
 * The walk is done twice: with one-shot faults (the Nth allocation fails,
 * later ones succeed: one item fails at most, and the other recovers), then
 * with persistent ones (every allocation from the Nth on fails, as a
 * system that stays out of memory: error paths that allocate while
 * unwinding fail too; any number of items may fail, still cleanly).
 *
 * Every fault point is walked by default (about 540 points, 30 s on two
 * cores; the persistent runs are short; under AddressSanitizer the
 * persistent walk takes every 4th point).  KILN_FAULT_WALK_STRIDE=S and
 * KILN_FAULT_WALK_PERSIST_STRIDE=S visit only every Sth point of each walk,
 * for a quick look on a slow machine. */
#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch.h"
#include "host_alloc.h"
#include "job.h"
#include "onnx_build.h"
#include "png_io.h"
#include "testutil.h"

#define IMAGE_W 16
#define IMAGE_H 12
#define WALK_MAX 100000
#define NSETS 8
#define NITEMS 2

/* The persistent walk's default stride: every point, but under
 * AddressSanitizer (three times slower) every 4th, keeping the test near a
 * minute there; the one-shot walk visits every point in both builds. */
#if defined(__SANITIZE_ADDRESS__)
#define PERSIST_STRIDE 4
#else
#define PERSIST_STRIDE 1
#endif

/* The test's files. */
static char in_dir[2048], out_dir[2048], model_path[2048], report_path[2048];
static char output_png[NITEMS][2400];
static const char *const item_names[NITEMS] = { "img_a.png", "img_b.png" };

/* What one run did. */
typedef struct walk_run {
    kiln_status st;
    char message[1024];
    batch_result result;
    int fired;                  /* the armed fault failed an allocation */
    uint64_t allocations;       /* allocations the run made */
    size_t live_before;
    size_t live_after;
} walk_run;

static void empty_dir(const char *dir);

/* Writes the input images (colour gradients with a bright square, so that
 * the network's mask and the trimap are not uniform) and the model. */
static void make_inputs(const char *tmp)
{
    char path[2400];
    host_image img;
    onnx_build *b;

    snprintf(in_dir, sizeof(in_dir), "%s/in", tmp);
    snprintf(out_dir, sizeof(out_dir), "%s/out", tmp);
    snprintf(model_path, sizeof(model_path), "%s/mini_unet.onnx", tmp);
    snprintf(report_path, sizeof(report_path), "%s/report.json", tmp);
    if (mkdir(in_dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "cannot create %s\n", in_dir);
        exit(1);
    }
    empty_dir(in_dir);
    for (int i = 0; i < NITEMS; i++) {
        snprintf(output_png[i], sizeof(output_png[i]), "%s/%s", out_dir, item_names[i]);
        if (host_image_alloc(&img, IMAGE_W, IMAGE_H, 3, 8) != KILN_OK) {
            fprintf(stderr, "%s\n", kiln_last_error());
            exit(1);
        }
        for (uint32_t y = 0; y < IMAGE_H; y++) {
            for (uint32_t x = 0; x < IMAGE_W; x++) {
                uint8_t *p = (uint8_t *)img.pixels + 3 * ((size_t)y * IMAGE_W + x);
                int inside = x >= 4 && x < 12 && y >= 3 && y < 9;
                p[0] = (uint8_t)(inside ? 240 : 16 * x + 5 * i);
                p[1] = (uint8_t)(inside ? 230 : 20 * y);
                p[2] = (uint8_t)(inside ? 220 : 60 + 40 * i);
            }
        }
        snprintf(path, sizeof(path), "%s/%s", in_dir, item_names[i]);
        if (png_write_file(path, &img) != KILN_OK) {
            fprintf(stderr, "%s\n", kiln_last_error());
            exit(1);
        }
        host_image_free(&img);
    }
    b = onnx_build_new(11);
    onnx_build_mini_unet(b);
    onnx_build_write(b, model_path);
    onnx_build_free(b);
}

/* Removes the files of directory `dir` (not recursively). */
static void empty_dir(const char *dir)
{
    DIR *d = opendir(dir);
    const struct dirent *e;
    char path[4400];

    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
}

/* Removes the outputs and the report, so that every run starts alike (an
 * existing output would be skipped). */
static void clean_outputs(void)
{
    empty_dir(out_dir);
    unlink(report_path);
}

/* Counts the output directory's entries other than the outputs. */
static int stray_files(void)
{
    DIR *d = opendir(out_dir);
    const struct dirent *e;
    int n = 0;

    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL) {
        int known = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
        for (int i = 0; i < NITEMS; i++)
            known |= strcmp(e->d_name, item_names[i]) == 0;
        if (!known) {
            fprintf(stderr, "stray file in the output directory: %s\n", e->d_name);
            n++;
        }
    }
    closedir(d);
    return n;
}

/* Loads the job from --set overrides and runs it; with `nth` > 0 the nth
 * host allocation from the job's load on fails. */
static void run_job(uint64_t nth, walk_run *run)
{
    char sets_text[NSETS][2400];
    const char *sets[NSETS];
    job_config *job = test_xmalloc(1, sizeof(*job));
    batch_options options = { NULL, report_path, 0, 1, NULL, NULL, 0 };
    kiln_host_stats before, after;

    snprintf(sets_text[0], sizeof(sets_text[0]), "job.inputs=%s", in_dir);
    snprintf(sets_text[1], sizeof(sets_text[1]), "job.output_dir=%s", out_dir);
    snprintf(sets_text[2], sizeof(sets_text[2]), "segment.enabled=yes");
    snprintf(sets_text[3], sizeof(sets_text[3]), "segment.model=%s", model_path);
    snprintf(sets_text[4], sizeof(sets_text[4]), "segment.input_size=8");
    snprintf(sets_text[5], sizeof(sets_text[5]), "refine.enabled=yes");
    /* the untrained network's mask reaches 255 in the middle: a lower
       threshold and a small erosion give the trimap foreground, background
       and unknown pixels, so that closed-form matting really runs */
    snprintf(sets_text[6], sizeof(sets_text[6]), "refine.foreground_threshold=200");
    snprintf(sets_text[7], sizeof(sets_text[7]), "refine.erode_size=1");
    for (size_t i = 0; i < NSETS; i++)
        sets[i] = sets_text[i];
    memset(run, 0, sizeof(*run));
    clean_outputs();
    kiln_clear_error();
    kiln_host_alloc_stats(&before);
    kiln_host_alloc_fail_at(nth);
    run->st = job_load(NULL, sets, NSETS, job);
    if (run->st == KILN_OK)
        run->st = batch_run(job, &options, &run->result);
    kiln_host_alloc_fail_at(0);
    kiln_host_alloc_stats(&after);
    snprintf(run->message, sizeof(run->message), "%s", kiln_last_error());
    run->fired = after.failures != before.failures;
    run->allocations = after.allocations - before.allocations;
    run->live_before = before.live_bytes;
    run->live_after = after.live_bytes;
    free(job);
}

/* Whether a message says that host memory ran out. */
static int names_host_memory(const char *message)
{
    return strstr(message, "memory") != NULL;
}

/* Checks that the report lists the `failed` failures, each KILN_E_HOSTMEM
 * with a message naming memory.  With persistent faults a failure may go
 * unlisted (keeping its message needs memory too) but is still counted. */
static void check_report_failures(uint64_t nth, size_t failed, int persist)
{
    json_object *root = json_object_from_file(report_path), *failures = NULL;

    CHECK(root != NULL);
    if (!root)
        return;
    CHECK(json_object_object_get_ex(root, "failures", &failures));
    CHECK(failures && (persist ? json_object_array_length(failures) <= failed
                                : json_object_array_length(failures) == failed));
    for (size_t i = 0; failures && i < json_object_array_length(failures); i++) {
        json_object *f = json_object_array_get_idx(failures, i), *status = NULL, *message = NULL;
        const char *st, *msg;
        json_object_object_get_ex(f, "status", &status);
        json_object_object_get_ex(f, "message", &message);
        st = status ? json_object_get_string(status) : "";
        msg = message ? json_object_get_string(message) : "";
        CHECK(strcmp(st, "KILN_E_HOSTMEM") == 0 && names_host_memory(msg));
        if (strcmp(st, "KILN_E_HOSTMEM") != 0 || !names_host_memory(msg))
            fprintf(stderr, "fault %llu: the item failed with %s: %s\n",
                    (unsigned long long)nth, st, msg);
    }
    json_object_put(root);
}

/* Checks one run (see the file's comment); returns 1 when it is clean. */
static int check_run(uint64_t nth, const walk_run *run, int persist)
{
    int failures_before = test_failures;
    size_t outputs = 0;

    CHECK(run->st == KILN_OK || (run->st == KILN_E_HOSTMEM && names_host_memory(run->message)));
    if (run->st != KILN_OK && (run->st != KILN_E_HOSTMEM || !names_host_memory(run->message)))
        fprintf(stderr, "fault %llu: the job returned %s: %s\n", (unsigned long long)nth,
                kiln_status_name(run->st), run->message);
    if (!run->fired) {
        CHECK(run->st == KILN_OK && run->result.succeeded == NITEMS);
    }
    if (run->st == KILN_OK) {
        CHECK(run->result.listed == NITEMS && run->result.succeeded + run->result.failed == NITEMS);
        CHECK(persist || run->result.failed <= 1);
        if (run->result.failed > 0)
            check_report_failures(nth, run->result.failed, persist);
    }
    for (int i = 0; i < NITEMS; i++) {
        host_image img = { 0 };
        if (access(output_png[i], F_OK) != 0)
            continue;
        outputs++;
        CHECK_OK(png_read_file(output_png[i], 0, &img));
        CHECK(img.width == IMAGE_W && img.height == IMAGE_H);
        host_image_free(&img);
    }
    CHECK(outputs == (run->st == KILN_OK ? run->result.succeeded : 0));
    CHECK(stray_files() == 0);
    CHECK(run->live_after == run->live_before);
    if (run->live_after != run->live_before)
        fprintf(stderr, "fault %llu: %zd host bytes leaked (%s: %s)\n", (unsigned long long)nth,
                (ssize_t)(run->live_after - run->live_before), kiln_status_name(run->st),
                run->message);
    if (test_failures != failures_before)
        fprintf(stderr, "fault %llu: the run above was not clean\n", (unsigned long long)nth);
    return test_failures == failures_before;
}

/* Walks the fault points 1, 1 + stride, ... until a run passes its armed
 * point, checking every run; one-shot or persistent faults. */
static void walk(int persist, uint64_t stride)
{
    uint64_t walked = 0, job_failed = 0, item_failed = 0, absorbed = 0, nth;
    double t0 = test_now_ms();
    walk_run run;

    kiln_host_alloc_fail_persist(persist);
    for (nth = 1; nth < WALK_MAX; nth += stride) {
        run_job(nth, &run);
        walked++;
        check_run(nth, &run, persist);
        if (!run.fired)
            break;
        if (run.st != KILN_OK)
            job_failed++;
        else if (run.result.failed)
            item_failed++;
        else
            absorbed++;
    }
    kiln_host_alloc_fail_persist(0);
    CHECK(nth < WALK_MAX);
    printf("%s fault walk: %llu fault points walked (stride %llu) in %.1f s, until a run of "
           "%llu allocations passed the armed point: the job failed cleanly %llu times, "
           "items %llu times; %llu faults were absorbed (the job succeeded)\n",
           persist ? "persistent" : "one-shot", (unsigned long long)(walked - 1),
           (unsigned long long)stride, (test_now_ms() - t0) / 1e3,
           (unsigned long long)run.allocations, (unsigned long long)job_failed,
           (unsigned long long)item_failed, (unsigned long long)absorbed);
}

/* Reads a stride from the environment (default `fallback`, at least 1). */
static uint64_t stride_from_env(const char *name, uint64_t fallback)
{
    const char *text = getenv(name);
    uint64_t v = text && *text ? strtoull(text, NULL, 10) : fallback;
    return v ? v : 1;
}

/* Runs the job cleanly, then once per fault point: one-shot faults at
 * every point, then persistent ones. */
int main(void)
{
    const char *tmp = test_tmpdir("host_fault");
    kiln_host_stats stats;
    walk_run run;
    double t0;

    make_inputs(tmp);
    /* two clean runs first: the first compiles (or loads) the programs, so
       that every later run finds them in the caches; the second counts the
       allocations of a warm job, which the walk must reach */
    for (int i = 0; i < 2; i++) {
        t0 = test_now_ms();
        run_job(0, &run);
        if (run.st == KILN_E_NODEV) {
            fprintf(stderr, "no OpenCL device: skipping\n");
            return 77;
        }
        CHECK_OK(run.st);
        CHECK(run.result.succeeded == NITEMS);
        check_run(0, &run, 0);
        kiln_host_alloc_stats(&stats);
        printf("clean run %d: %llu host allocations, %.0f ms; peak live host bytes %zu\n", i + 1,
               (unsigned long long)run.allocations, test_now_ms() - t0, stats.peak_bytes);
    }
    if (test_failures)
        return test_summary("test_host_fault");
    walk(0, stride_from_env("KILN_FAULT_WALK_STRIDE", 1));
    walk(1, stride_from_env("KILN_FAULT_WALK_PERSIST_STRIDE", PERSIST_STRIDE));
    return test_summary("test_host_fault");
}
