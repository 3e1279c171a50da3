/* Streaming training images: the view order (a permutation per epoch,
 * deterministic for a seed, peeks that match what comes, a saved state
 * that continues the same sequence), then train_images over 60 and 600
 * small PNGs, two epochs each in view order with a cache of 8 images:
 * every image's content checked, kiln's live host bytes bounded by the
 * cap, the read-ahead and a small overhead, and the peak the same for 60
 * and 600 images within 5 %; a missing and a corrupt file failing only
 * their gets, with the file named; live bytes back to the start and the
 * scratch files removed at the end.
 *
 * Each streaming run happens in a child process, so that its peak of live
 * bytes (kiln_host_alloc_stats keeps one peak per process) is its own. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host_alloc.h"
#include "png_io.h"
#include "testutil.h"
#include "train_images.h"
#include "view_order.h"

#define W 64
#define H 48
#define MAX_VIEWS 600
#define CACHE_IMAGES 8
#define AHEAD TRAIN_IMAGES_DEFAULT_AHEAD
/* Beyond the cap and the read-ahead images: the cache and train_images
 * structs, cache entries and paths, and libpng's and zlib's decoder state
 * during the one read in progress (about 23 KB in all here). */
#define OVERHEAD_BYTES (48u * 1024u)

static char dir[4096];
static char paths[MAX_VIEWS][4200];
static const char *path_list[MAX_VIEWS];
static size_t img_bytes;

/* The sample of view v at (x, y, channel c): pixel (0, 0) holds the index
 * (low byte, high byte, 0x5a), the rest a pattern of v. */
static uint8_t sample_of(size_t v, uint32_t x, uint32_t y, uint32_t c)
{
    if (x == 0 && y == 0)
        return c == 0 ? (uint8_t)(v & 0xff) : c == 1 ? (uint8_t)(v >> 8) : 0x5a;
    return (uint8_t)(v * 7 + x * 3 + y * 5 + c * 11);
}

/* Whether img is view v's image, every sample. */
static int image_is(const host_image *img, size_t v)
{
    const uint8_t *p;

    if (!img || img->width != W || img->height != H || img->channels != 3 ||
        img->bit_depth != 8)
        return 0;
    p = img->pixels;
    for (uint32_t y = 0; y < H; y++)
        for (uint32_t x = 0; x < W; x++)
            for (uint32_t c = 0; c < 3; c++)
                if (p[(y * W + x) * 3 + c] != sample_of(v, x, y, c))
                    return 0;
    return 1;
}

/* Writes views 0..n-1 as PNGs named v%03zu.png in dir. */
static void views_write(size_t n)
{
    host_image img;

    CHECK_OK(host_image_alloc(&img, W, H, 3, 8));
    if (!img.pixels)
        return;
    img_bytes = host_image_bytes(&img);
    for (size_t v = 0; v < n; v++) {
        uint8_t *p = img.pixels;

        for (uint32_t y = 0; y < H; y++)
            for (uint32_t x = 0; x < W; x++)
                for (uint32_t c = 0; c < 3; c++)
                    p[(y * W + x) * 3 + c] = sample_of(v, x, y, c);
        snprintf(paths[v], sizeof(paths[v]), "%s/v%03zu.png", dir, v);
        path_list[v] = paths[v];
        CHECK_OK(png_write_file(paths[v], &img));
    }
    host_image_free(&img);
}

/* Whether a[0..n) is a permutation of 0..n-1. */
static int is_permutation(const size_t *a, size_t n)
{
    unsigned char seen[64] = { 0 };

    for (size_t i = 0; i < n; i++) {
        if (a[i] >= n || seen[a[i]])
            return 0;
        seen[a[i]] = 1;
    }
    return 1;
}

/* View order: permutations per epoch, reshuffled, deterministic for a
 * seed, peeks equal to what comes, save/restore continuing the sequence,
 * bad arguments refused. */
static void test_view_order(void)
{
    enum { N = 10, EPOCHS = 6 };
    view_order a, b;
    view_order_state saved, at_end;
    size_t seq_a[N * EPOCHS], seq_b[N * EPOCHS], peeked[N];
    int reshuffled = 0, differs = 0;

    CHECK_OK(view_order_init(&a, N, 42));
    CHECK_OK(view_order_init(&b, N, 42));
    for (size_t i = 0; i < N * EPOCHS; i++) {
        seq_a[i] = view_order_next(&a);
        seq_b[i] = view_order_next(&b);
    }
    CHECK(memcmp(seq_a, seq_b, sizeof(seq_a)) == 0);
    for (size_t e = 0; e < EPOCHS; e++) {
        CHECK(is_permutation(seq_a + e * N, N));
        if (e > 0 && memcmp(seq_a + e * N, seq_a + (e - 1) * N, N * sizeof(size_t)) != 0)
            reshuffled = 1;
    }
    CHECK(reshuffled);
    view_order_free(&b);
    CHECK_OK(view_order_init(&b, N, 43));
    for (size_t i = 0; i < N; i++)
        differs |= view_order_next(&b) != seq_a[i];
    CHECK(differs);
    view_order_free(&b);
    view_order_free(&a);

    /* Peeks: from every position, k = 0..N-1 equals the next N taken. */
    CHECK_OK(view_order_init(&a, N, 7));
    for (size_t step = 0; step < 3 * N; step++) {
        for (size_t k = 0; k < N; k++)
            peeked[k] = view_order_peek(&a, k);
        CHECK(view_order_peek(&a, N) == VIEW_ORDER_NONE);
        CHECK_OK(view_order_init(&b, N, 7));
        for (size_t i = 0; i < step; i++)
            view_order_next(&b);
        for (size_t k = 0; k < N; k++) {
            size_t got = view_order_next(&b);

            CHECK(got == peeked[k]);
        }
        view_order_free(&b);
        view_order_next(&a);
    }
    view_order_free(&a);

    /* Save and restore: mid-epoch (after peeking into the next epoch), and
     * at an epoch's end; a fresh order from another seed continues. */
    CHECK_OK(view_order_init(&a, N, 99));
    for (size_t i = 0; i < 13; i++)
        view_order_next(&a);
    view_order_peek(&a, N - 1);
    view_order_save(&a, &saved);
    for (size_t i = 0; i < 4 * N; i++)
        seq_a[i] = view_order_next(&a);
    view_order_save(&a, &at_end);      /* position 13 + 40 = 53: mid-epoch 5 */
    CHECK_OK(view_order_init(&b, N, 1));
    CHECK_OK(view_order_restore(&b, &saved));
    for (size_t i = 0; i < 4 * N; i++)
        CHECK(view_order_next(&b) == seq_a[i]);
    for (size_t i = 0; i < 7; i++)
        seq_a[i] = view_order_next(&a);
    view_order_save(&a, &at_end);      /* position 60: the end of epoch 5 */
    CHECK(at_end.position == N);
    for (size_t i = 0; i < 2 * N; i++)
        seq_a[i] = view_order_next(&a);
    CHECK_OK(view_order_restore(&b, &at_end));
    for (size_t i = 0; i < 2 * N; i++)
        CHECK(view_order_next(&b) == seq_a[i]);
    saved.position = N + 1;
    CHECK_STATUS(view_order_restore(&b, &saved), KILN_E_INVAL);
    memset(&saved, 0, sizeof(saved));
    CHECK_STATUS(view_order_restore(&b, &saved), KILN_E_INVAL);
    view_order_free(&b);
    view_order_free(&a);
    CHECK_STATUS(view_order_init(&a, 0, 1), KILN_E_INVAL);
}

/* What a streaming child reports to its parent. */
typedef struct stream_result {
    size_t base;        /* live bytes before train_images_init */
    size_t peak;        /* peak live bytes above base */
    size_t worst;       /* most live bytes above base seen between gets */
    size_t end;         /* live bytes above base after train_images_free */
    uint64_t hits, misses;
    int inherited_peak; /* the process peak was the parent's, not the run's */
    int failures, checks;
} stream_result;

/* In the child: streams two epochs over n views in view order through
 * train_images (cache of CACHE_IMAGES images, AHEAD read ahead), checking
 * each image, into *r. */
static void stream_views(size_t n, stream_result *r)
{
    view_order order;
    train_images *ti = NULL;
    train_images_config cfg = { CACHE_IMAGES * img_bytes, 0, AHEAD };
    kiln_host_stats s;
    size_t inherited;

    CHECK_OK(view_order_init(&order, n, 2024));
    kiln_host_alloc_stats(&s);
    r->base = s.live_bytes;
    inherited = s.peak_bytes;
    CHECK_OK(train_images_init(&ti, path_list, n, &order, &cfg));
    for (size_t i = 0; ti && i < 2 * n; i++) {
        size_t v = view_order_next(&order);
        const host_image *img = NULL;

        CHECK_OK(train_images_get(ti, v, &img));
        CHECK(image_is(img, v));
        kiln_host_alloc_stats(&s);
        if (s.live_bytes - r->base > r->worst)
            r->worst = s.live_bytes - r->base;
        train_images_release(ti, img);
    }
    train_images_stats(ti, NULL, NULL, &r->hits, &r->misses);
    train_images_free(ti);
    kiln_host_alloc_stats(&s);
    r->end = s.live_bytes - r->base;
    r->peak = s.peak_bytes - r->base;
    r->inherited_peak = s.peak_bytes <= inherited;
    view_order_free(&order);
}

/* Runs stream_views for n views in a child process; adds its checks to
 * ours and returns its figures. */
static stream_result stream_in_child(size_t n)
{
    stream_result r;
    int fds[2];
    pid_t pid;
    int status = 0;

    memset(&r, 0, sizeof(r));
    if (pipe(fds) != 0) {
        CHECK(!"pipe");
        return r;
    }
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        close(fds[0]);
        test_failures = test_checks = 0;
        stream_views(n, &r);
        r.failures = test_failures;
        r.checks = test_checks;
        _exit(write(fds[1], &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 1);
    }
    close(fds[1]);
    CHECK(pid > 0);
    CHECK(pid > 0 && read(fds[0], &r, sizeof(r)) == (ssize_t)sizeof(r));
    close(fds[0]);
    if (pid > 0)
        waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    test_failures += r.failures;
    test_checks += r.checks;
    return r;
}

/* Streams 60 and 600 views: bounded and equal peaks, every byte back. */
static void test_stream_flat(void)
{
    size_t bound = (CACHE_IMAGES + AHEAD) * img_bytes + OVERHEAD_BYTES;
    stream_result r60 = stream_in_child(60);
    stream_result r600 = stream_in_child(600);
    const stream_result *rs[2] = { &r60, &r600 };
    double ratio;

    for (int i = 0; i < 2; i++) {
        const stream_result *r = rs[i];

        printf("  %zu views: live bytes peak %zu (%.2f images), worst between gets %zu, "
               "at the end %zu; cache %llu hits, %llu misses\n", i ? (size_t)600 : (size_t)60,
               r->peak, (double)r->peak / (double)img_bytes, r->worst, r->end,
               (unsigned long long)r->hits, (unsigned long long)r->misses);
        CHECK(!r->inherited_peak);
        CHECK(r->peak <= bound);
        CHECK(r->worst <= bound);
        CHECK(r->end == 0);
    }
    /* Every get served once; decoded at most once per get, plus up to
     * AHEAD views of the third epoch read ahead (a view repeated across an
     * epoch boundary is read ahead twice, the second time a hit). */
    CHECK(r60.hits + r60.misses >= 120 && r60.misses <= 120 + AHEAD);
    CHECK(r600.hits + r600.misses >= 1200 && r600.misses <= 1200 + AHEAD);
    ratio = (double)r600.peak / (double)(r60.peak ? r60.peak : 1);
    printf("  peak 600 / peak 60 = %.4f (bound %zu bytes)\n", ratio, bound);
    CHECK(ratio > 0.95 && ratio < 1.05);
}

/* A missing (view 3) and a corrupt (view 7) file among 12 views: their
 * gets fail naming the file, the others keep coming, in both epochs;
 * likewise without read-ahead and without an order. */
static void test_stream_errors(void)
{
    enum { N = 12 };
    char missing[4200], corrupt[4200];
    const char *list[N];
    view_order order;
    train_images *ti = NULL;
    size_t aheads[3] = { AHEAD, 0, 5 };

    snprintf(missing, sizeof(missing), "%s/missing.png", dir);
    snprintf(corrupt, sizeof(corrupt), "%s/corrupt.png", dir);
    test_write_text(corrupt, "\x89PNG\r\n\x1a\n truncated\n");
    for (size_t v = 0; v < N; v++)
        list[v] = v == 3 ? missing : v == 7 ? corrupt : paths[v];
    for (int a = 0; a < 3; a++) {
        train_images_config cfg = { 3 * img_bytes, 0, aheads[a] };
        int bad = 0, failed = 0;

        CHECK_OK(view_order_init(&order, N, 5));
        CHECK_OK(train_images_init(&ti, list, N, a == 2 ? NULL : &order, &cfg));
        for (size_t i = 0; ti && i < 2 * N; i++) {
            size_t v = view_order_next(&order);
            const host_image *img = NULL;
            kiln_status st = train_images_get(ti, v, &img);

            if (v == 3 || v == 7) {
                failed++;
                CHECK(st == (v == 3 ? KILN_E_IO : KILN_E_FORMAT));
                CHECK_MSG(v == 3 ? missing : corrupt);
                CHECK(img == NULL);
            } else if (st != KILN_OK || !image_is(img, v)) {
                bad++;
            }
            train_images_release(ti, img);
        }
        CHECK(bad == 0);
        CHECK(failed == 4);
        {
            const host_image *img = (const host_image *)1;
            CHECK_STATUS(train_images_get(ti, N, &img), KILN_E_INVAL);
            CHECK(img == NULL);
        }
        train_images_free(ti);
        view_order_free(&order);
    }
    CHECK(unlink(corrupt) == 0);
}

/* Writes the views in a child process, so that the encoder's memory does
 * not raise this process's peak of live bytes (the streaming children
 * inherit it). */
static void views_write_in_child(size_t n)
{
    pid_t pid;
    int status = 0;

    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        test_failures = 0;
        views_write(n);
        _exit(test_failures == 0 ? 0 : 1);
    }
    CHECK(pid > 0);
    if (pid > 0)
        waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    for (size_t v = 0; v < n; v++) {
        snprintf(paths[v], sizeof(paths[v]), "%s/v%03zu.png", dir, v);
        path_list[v] = paths[v];
    }
    img_bytes = (size_t)W * H * 3;
}

/* Runs every case, then removes the scratch files. */
int main(void)
{
    kiln_host_stats start, end;

    snprintf(dir, sizeof(dir), "%s", test_tmpdir("train_images"));
    kiln_host_alloc_stats(&start);
    test_view_order();
    views_write_in_child(MAX_VIEWS);
    test_stream_flat();
    test_stream_errors();
    kiln_host_alloc_stats(&end);
    CHECK(end.live_bytes == start.live_bytes);
    for (size_t v = 0; v < MAX_VIEWS; v++)
        CHECK(unlink(paths[v]) == 0);
    CHECK(rmdir(dir) == 0);
    return test_summary("test_train_images");
}
