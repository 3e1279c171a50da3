/* The decoded-image cache: LRU order and the byte cap exactly (a cap of
 * 2.5 images holds 2), hits and misses, pinned images never evicted, an
 * image larger than the cap returned and evicted at unpin, a cap of 0
 * keeping nothing, missing and corrupt files failing their get with the
 * file named (and nothing cached), concurrent gets of the same paths, and
 * kiln's live host bytes back to the start at the end.  Scratch files are
 * removed. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "host_alloc.h"
#include "image_cache.h"
#include "png_io.h"
#include "testutil.h"

#define NIMG 5
#define W 64
#define H 48

static char paths[NIMG][4096];
static char missing_path[4096];
static char corrupt_path[4096];
static size_t img_bytes;

/* The sample of image `i` at (x, y, channel ch). */
static uint8_t sample_of(int i, uint32_t x, uint32_t y, uint32_t ch)
{
    return (uint8_t)(i * 37 + x * 3 + y * 5 + ch * 11);
}

/* Writes NIMG distinct 64x48 RGB PNGs, a corrupt one, and names a missing
 * one, in `dir`. */
static void inputs_write(const char *dir)
{
    for (int i = 0; i < NIMG; i++) {
        host_image img;
        uint8_t *p;

        snprintf(paths[i], sizeof(paths[i]), "%s/img%d.png", dir, i);
        CHECK_OK(host_image_alloc(&img, W, H, 3, 8));
        if (!img.pixels)
            continue;
        p = img.pixels;
        for (uint32_t y = 0; y < H; y++)
            for (uint32_t x = 0; x < W; x++)
                for (uint32_t c = 0; c < 3; c++)
                    p[(y * W + x) * 3 + c] = sample_of(i, x, y, c);
        img_bytes = host_image_bytes(&img);
        CHECK_OK(png_write_file(paths[i], &img));
        host_image_free(&img);
    }
    snprintf(missing_path, sizeof(missing_path), "%s/missing.png", dir);
    snprintf(corrupt_path, sizeof(corrupt_path), "%s/corrupt.png", dir);
    test_write_text(corrupt_path, "\x89PNG\r\n\x1a\n but not really\n");
}

/* Whether `img` is image i, every sample. */
static int image_is(const host_image *img, int i)
{
    const uint8_t *p;

    if (!img || img->width != W || img->height != H || img->channels != 3)
        return 0;
    p = img->pixels;
    for (uint32_t y = 0; y < H; y++)
        for (uint32_t x = 0; x < W; x++)
            for (uint32_t c = 0; c < 3; c++)
                if (p[(y * W + x) * 3 + c] != sample_of(i, x, y, c))
                    return 0;
    return 1;
}

/* Gets image i, checks its content, unpins it. */
static void get_unpin(image_cache *c, int i)
{
    const host_image *img = NULL;

    CHECK_OK(image_cache_get(c, paths[i], &img));
    CHECK(image_is(img, i));
    image_cache_unpin(c, img);
}

/* Checks the cache's figures. */
static void stats_are(image_cache *c, size_t images, uint64_t hits, uint64_t misses)
{
    size_t b = 0, n = 0;
    uint64_t h = 0, m = 0;

    image_cache_stats(c, &b, &n, &h, &m);
    CHECK(n == images);
    CHECK(b == images * img_bytes);
    CHECK(h == hits);
    CHECK(m == misses);
    if (n != images || h != hits || m != misses)
        fprintf(stderr, "  stats: %zu images, %llu hits, %llu misses; wanted %zu, %llu, %llu\n",
                n, (unsigned long long)h, (unsigned long long)m, images,
                (unsigned long long)hits, (unsigned long long)misses);
}

/* LRU order under a cap of 2.5 images: the cache holds 2, evicting the
 * least recently got. */
static void test_lru(void)
{
    image_cache *c = NULL;

    CHECK_OK(image_cache_init(&c, img_bytes * 5 / 2, 0));
    if (!c)
        return;
    get_unpin(c, 0);
    get_unpin(c, 1);
    stats_are(c, 2, 0, 2);
    get_unpin(c, 2);            /* evicts 0: recency 2 1 */
    stats_are(c, 2, 0, 3);
    get_unpin(c, 1);            /* hit: recency 1 2 */
    stats_are(c, 2, 1, 3);
    get_unpin(c, 0);            /* miss, evicts 2: recency 0 1 */
    stats_are(c, 2, 1, 4);
    get_unpin(c, 1);            /* hit: recency 1 0 */
    get_unpin(c, 0);            /* hit: recency 0 1 */
    stats_are(c, 2, 3, 4);
    get_unpin(c, 2);            /* miss, evicts 1: recency 2 0 */
    get_unpin(c, 0);            /* hit */
    stats_are(c, 2, 4, 5);
    get_unpin(c, 1);            /* miss: 1 was evicted */
    stats_are(c, 2, 4, 6);
    image_cache_free(c);
}

/* Pinned images stay whatever the cap: a cap of 1 image with 2 pinned
 * holds 3 while the third is pinned too, then trims as they go. */
static void test_pinned(void)
{
    image_cache *c = NULL;
    const host_image *a = NULL, *b = NULL, *x = NULL, *a2 = NULL;

    CHECK_OK(image_cache_init(&c, img_bytes, 0));
    if (!c)
        return;
    CHECK_OK(image_cache_get(c, paths[0], &a));
    CHECK_OK(image_cache_get(c, paths[1], &b));
    CHECK_OK(image_cache_get(c, paths[2], &x));
    stats_are(c, 3, 0, 3);
    CHECK_OK(image_cache_get(c, paths[0], &a2));   /* a second pin, same image */
    CHECK(a2 == a);
    stats_are(c, 3, 1, 3);
    image_cache_unpin(c, x);                       /* 2 is the only unpinned: evicted */
    stats_are(c, 2, 1, 3);
    CHECK(image_is(a, 0));
    CHECK(image_is(b, 1));
    image_cache_unpin(c, a);                       /* still pinned once */
    stats_are(c, 2, 1, 3);
    CHECK(image_is(a2, 0));
    image_cache_unpin(c, a2);                      /* 0 unpinned, over the cap: evicted */
    stats_are(c, 1, 1, 3);
    CHECK(image_is(b, 1));
    image_cache_unpin(c, b);                       /* within the cap: kept */
    stats_are(c, 1, 1, 3);
    get_unpin(c, 1);
    stats_are(c, 1, 2, 3);
    image_cache_free(c);
}

/* An image larger than the cap: returned, the only one held, evicted at
 * unpin; a cap of 0 keeps nothing. */
static void test_oversize_and_zero(void)
{
    image_cache *c = NULL;
    const host_image *img = NULL;

    CHECK_OK(image_cache_init(&c, img_bytes * 3 / 2, 0));
    if (c) {
        get_unpin(c, 0);
        stats_are(c, 1, 0, 1);
        image_cache_free(c);
    }
    CHECK_OK(image_cache_init(&c, img_bytes / 2, 0));
    if (c) {
        get_unpin(c, 0);
        CHECK_OK(image_cache_get(c, paths[1], &img));
        CHECK(image_is(img, 1));
        stats_are(c, 1, 0, 2);
        image_cache_unpin(c, img);
        stats_are(c, 0, 0, 2);
        image_cache_free(c);
    }
    CHECK_OK(image_cache_init(&c, 0, 0));
    if (c) {
        get_unpin(c, 0);
        stats_are(c, 0, 0, 1);
        get_unpin(c, 0);
        stats_are(c, 0, 0, 2);
        image_cache_free(c);
    }
}

/* A missing and a corrupt file fail their get with the file named, cache
 * nothing, and leave the cache working; a pixel limit is enforced. */
static void test_errors(void)
{
    image_cache *c = NULL;
    const host_image *img = (const host_image *)1;

    CHECK_OK(image_cache_init(&c, img_bytes * 4, 0));
    if (c) {
        CHECK_STATUS(image_cache_get(c, missing_path, &img), KILN_E_IO);
        CHECK_MSG(missing_path);
        CHECK(img == NULL);
        get_unpin(c, 0);
        CHECK_STATUS(image_cache_get(c, corrupt_path, &img), KILN_E_FORMAT);
        CHECK_MSG(corrupt_path);
        CHECK_STATUS(image_cache_get(c, missing_path, &img), KILN_E_IO);
        stats_are(c, 1, 0, 4);
        get_unpin(c, 0);
        stats_are(c, 1, 1, 4);
        CHECK_STATUS(image_cache_get(c, NULL, &img), KILN_E_INVAL);
        image_cache_free(c);
    }
    CHECK_OK(image_cache_init(&c, img_bytes * 4, 100));
    if (c) {
        CHECK_STATUS(image_cache_get(c, paths[0], &img), KILN_E_LIMIT);
        CHECK_MSG(paths[0]);
        image_cache_free(c);
    }
}

typedef struct getter {
    image_cache *cache;
    int seed;
    int bad;            /* gets that failed or gave the wrong image */
} getter;

/* A thread getting and unpinning images in its own order. */
static void *getter_main(void *arg)
{
    getter *g = arg;

    for (int k = 0; k < 200; k++) {
        int i = (k * 7 + g->seed * 3 + k / 5) % NIMG;
        const host_image *img = NULL;

        if (image_cache_get(g->cache, paths[i], &img) != KILN_OK || !image_is(img, i))
            g->bad++;
        image_cache_unpin(g->cache, img);
    }
    return NULL;
}

/* Four threads sharing a cache of 2 images: every get right, and the
 * cache within its cap once all are unpinned. */
static void test_threads(void)
{
    image_cache *c = NULL;
    getter g[4];
    pthread_t t[4];
    size_t bytes = 0;
    uint64_t hits = 0, misses = 0;

    CHECK_OK(image_cache_init(&c, img_bytes * 2, 0));
    if (!c)
        return;
    for (int i = 0; i < 4; i++) {
        g[i] = (getter){ c, i, 0 };
        CHECK(pthread_create(&t[i], NULL, getter_main, &g[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK(g[i].bad == 0);
    }
    image_cache_stats(c, &bytes, NULL, &hits, &misses);
    CHECK(bytes <= img_bytes * 2);
    CHECK(hits + misses == 800);
    image_cache_free(c);
}

/* Runs every case and checks that kiln's live host bytes come back. */
int main(void)
{
    const char *dir = test_tmpdir("image_cache");
    kiln_host_stats start, end;

    inputs_write(dir);
    kiln_host_alloc_stats(&start);
    test_lru();
    test_pinned();
    test_oversize_and_zero();
    test_errors();
    test_threads();
    kiln_host_alloc_stats(&end);
    CHECK(end.live_bytes == start.live_bytes);
    for (int i = 0; i < NIMG; i++)
        CHECK(unlink(paths[i]) == 0);
    CHECK(unlink(corrupt_path) == 0);
    CHECK(rmdir(dir) == 0);
    return test_summary("test_image_cache");
}
