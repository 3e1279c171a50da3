/* The prefetch queue: list order, item and byte bounds (and the single
 * oversize item), failures that stay with their item, early stops that
 * free everything, several consumers each getting every index once, and
 * the RSS probes.  Run under ASan or valgrind to prove nothing leaks. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "png_io.h"
#include "prefetch.h"
#include "rss.h"
#include "testutil.h"

#define NFILES 12

static char file_paths[NFILES][4096];
static const char *files[NFILES];   /* image i: (8+3i) x (6+i) RGB, first byte i */
static size_t largest_bytes;
static char bad_paths[3][4096];      /* truncated, missing, not a PNG */

/* Sleeps for `ms` milliseconds. */
static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Writes the NFILES test images and the bad inputs into the scratch
 * directory. */
static void make_inputs(const char *dir)
{
    FILE *fp;

    for (int i = 0; i < NFILES; i++) {
        host_image img;

        snprintf(file_paths[i], sizeof(file_paths[i]), "%s/in%02d.png", dir, i);
        files[i] = file_paths[i];
        CHECK_OK(host_image_alloc(&img, 8 + 3u * (uint32_t)i, 6 + (uint32_t)i, 3, 8));
        if (!img.pixels)
            continue;
        ((uint8_t *)img.pixels)[0] = (uint8_t)i;
        CHECK_OK(png_write_file(files[i], &img));
        if (host_image_bytes(&img) > largest_bytes)
            largest_bytes = host_image_bytes(&img);
        host_image_free(&img);
    }
    snprintf(bad_paths[0], sizeof(bad_paths[0]), "%s/truncated.png", dir);
    snprintf(bad_paths[1], sizeof(bad_paths[1]), "%s/missing.png", dir);
    snprintf(bad_paths[2], sizeof(bad_paths[2]), "%s/text.png", dir);
    /* the first 40 bytes of a valid file: a good header, no image data */
    fp = fopen(bad_paths[0], "wb");
    CHECK(fp != NULL);
    if (fp) {
        FILE *src = fopen(files[3], "rb");
        unsigned char buf[40];
        size_t n = src ? fread(buf, 1, sizeof(buf), src) : 0;

        CHECK(n == sizeof(buf) && fwrite(buf, 1, n, fp) == n);
        if (src)
            fclose(src);
        fclose(fp);
    }
    fp = fopen(bad_paths[2], "wb");
    CHECK(fp != NULL);
    if (fp) {
        fputs("plain text\n", fp);
        fclose(fp);
    }
}

/* Checks that item came from files[file] at list position index. */
static void check_good_item(const prefetch_item *item, size_t index, int file)
{
    CHECK(item->index == index);
    CHECK(item->status == KILN_OK && item->message[0] == '\0');
    CHECK(item->decode_ms >= 0.0);
    CHECK(item->path == files[file]);
    CHECK(item->image.pixels != NULL &&
          item->image.width == 8 + 3u * (uint32_t)file &&
          item->image.height == 6 + (uint32_t)file && item->image.channels == 3);
    if (item->image.pixels)
        CHECK(((const uint8_t *)item->image.pixels)[0] == (uint8_t)file);
}

/* One consumer sees every file in list order, then NULL (twice). */
static void test_order(void)
{
    prefetch_queue *q;
    size_t peak_items, peak_bytes;

    CHECK_OK(prefetch_start(&q, files, NFILES, 3, 0, 0));
    for (size_t i = 0; i < NFILES; i++) {
        prefetch_item *item = prefetch_pop(q);
        CHECK(item != NULL);
        if (!item)
            break;
        check_good_item(item, i, (int)i);
        prefetch_item_free(q, item);
    }
    CHECK(prefetch_pop(q) == NULL);
    CHECK(prefetch_pop(q) == NULL);
    prefetch_stats(q, &peak_items, &peak_bytes);
    CHECK(peak_items >= 1 && peak_items <= 3);
    CHECK(peak_bytes > 0);
    prefetch_free(q);
}

/* A slow consumer lets the producer fill up: the peaks reach but never
 * pass max_items and max_bytes. */
static void test_bounds(void)
{
    enum { N = 48 };
    const char *list[N];
    prefetch_queue *q;
    size_t peak_items, peak_bytes, max_bytes = 3 * largest_bytes;
    size_t got = 0;
    prefetch_item *item;

    for (int i = 0; i < N; i++)
        list[i] = files[i % NFILES];
    CHECK_OK(prefetch_start(&q, list, N, 5, max_bytes, 0));
    while ((item = prefetch_pop(q)) != NULL) {
        CHECK(item->index == got);
        check_good_item(item, got, (int)(got % NFILES));
        got++;
        sleep_ms(1);
        prefetch_item_free(q, item);
    }
    CHECK(got == N);
    prefetch_stats(q, &peak_items, &peak_bytes);
    CHECK(peak_items <= 5);
    CHECK(peak_bytes <= max_bytes);
    CHECK(peak_bytes >= largest_bytes);
    prefetch_free(q);

    /* bounded by items only */
    CHECK_OK(prefetch_start(&q, list, N, 2, 0, 0));
    got = 0;
    while ((item = prefetch_pop(q)) != NULL) {
        got++;
        sleep_ms(1);
        prefetch_item_free(q, item);
    }
    CHECK(got == N);
    prefetch_stats(q, &peak_items, NULL);
    CHECK(peak_items >= 1 && peak_items <= 2);
    prefetch_free(q);
}

/* With max_bytes below every image, each still goes through, alone. */
static void test_oversize(void)
{
    prefetch_queue *q;
    prefetch_item *item;
    size_t peak_items, peak_bytes, got = 0;

    CHECK_OK(prefetch_start(&q, files, NFILES, 4, 16, 0));
    while ((item = prefetch_pop(q)) != NULL) {
        check_good_item(item, got, (int)got);
        got++;
        sleep_ms(1);
        prefetch_item_free(q, item);
    }
    CHECK(got == NFILES);
    prefetch_stats(q, &peak_items, &peak_bytes);
    CHECK(peak_items == 1);
    CHECK(peak_bytes == largest_bytes);
    prefetch_free(q);
}

/* Bad inputs in the middle fail alone, with a message naming them; a
 * pixel limit fails the large files only. */
static void test_bad_inputs(void)
{
    const char *list[7] = { files[0], bad_paths[0], files[1], bad_paths[1],
                            bad_paths[2], files[2], files[3] };
    const kiln_status want[7] = { KILN_OK, KILN_E_FORMAT, KILN_OK, KILN_E_IO,
                                  KILN_E_FORMAT, KILN_OK, KILN_OK };
    prefetch_queue *q;
    prefetch_item *item;
    size_t got = 0;

    CHECK_OK(prefetch_start(&q, list, 7, 2, 0, 0));
    while ((item = prefetch_pop(q)) != NULL) {
        CHECK(got < 7 && item->index == got && item->path == list[got]);
        if (got < 7 && item->index == got) {
            CHECK_STATUS(item->status, want[got]);
            if (want[got] == KILN_OK) {
                CHECK(item->image.pixels != NULL);
            } else {
                CHECK(item->image.pixels == NULL && item->image.width == 0);
                CHECK(strstr(item->message, list[got]) != NULL);
            }
        }
        got++;
        prefetch_item_free(q, item);
    }
    CHECK(got == 7);
    prefetch_free(q);

    /* files 0..3 are 48, 77, 112 and 153 pixels: a limit of 100 */
    CHECK_OK(prefetch_start(&q, files, 4, 2, 0, 100));
    got = 0;
    while ((item = prefetch_pop(q)) != NULL) {
        CHECK_STATUS(item->status, got < 2 ? KILN_OK : KILN_E_LIMIT);
        if (got >= 2)
            CHECK(strstr(item->message, files[got]) && strstr(item->message, "max_pixels"));
        got++;
        prefetch_item_free(q, item);
    }
    CHECK(got == 4);
    prefetch_free(q);
}

/* Stopping early with items queued, one held and one not given back:
 * pops return NULL, the held item stays usable, and prefetch_free frees
 * the rest (ASan/valgrind prove it). */
static void test_stop(void)
{
    enum { N = 60 };
    const char *list[N];
    prefetch_queue *q;
    prefetch_item *first, *held, *forgotten;
    size_t peak_items = 0;

    for (int i = 0; i < N; i++)
        list[i] = files[i % NFILES];
    CHECK_OK(prefetch_start(&q, list, N, 5, 0, 0));
    first = prefetch_pop(q);
    held = prefetch_pop(q);
    CHECK(first && held);
    prefetch_item_free(q, first);
    for (int tries = 0; tries < 2000 && peak_items < 5; tries++) {
        sleep_ms(1);
        prefetch_stats(q, &peak_items, NULL);
    }
    CHECK(peak_items == 5);
    prefetch_stop(q);
    CHECK(prefetch_pop(q) == NULL);
    prefetch_stop(q);
    if (held) {
        check_good_item(held, 1, 1);
        prefetch_item_free(q, held);
    }
    prefetch_free(q);

    /* no pop at all, no stop: prefetch_free alone */
    CHECK_OK(prefetch_start(&q, list, N, 3, 0, 0));
    sleep_ms(5);
    prefetch_free(q);

    /* a consumer that never gives its item back */
    CHECK_OK(prefetch_start(&q, list, N, 3, 0, 0));
    forgotten = prefetch_pop(q);
    CHECK(forgotten != NULL);
    prefetch_free(q);
}

/* Arguments for the blocked-consumer thread. */
typedef struct blocked_arg {
    prefetch_queue *q;
    prefetch_item *result;
} blocked_arg;

/* Thread body: one pop, which blocks until the queue stops. */
static void *blocked_pop(void *p)
{
    blocked_arg *arg = p;

    arg->result = prefetch_pop(arg->q);
    return NULL;
}

/* A consumer blocked in pop (the only slot is held) wakes up with NULL
 * when the queue is stopped. */
static void test_stop_wakes_consumer(void)
{
    prefetch_queue *q;
    prefetch_item *held;
    blocked_arg arg;
    pthread_t thread;

    CHECK_OK(prefetch_start(&q, files, NFILES, 1, 0, 0));
    held = prefetch_pop(q);
    CHECK(held != NULL);
    arg.q = q;
    arg.result = held;   /* overwritten by the thread */
    CHECK(pthread_create(&thread, NULL, blocked_pop, &arg) == 0);
    sleep_ms(20);
    prefetch_stop(q);
    pthread_join(thread, NULL);
    CHECK(arg.result == NULL);
    prefetch_item_free(q, held);
    prefetch_free(q);
}

#define MC_ITEMS 300
#define MC_THREADS 4

/* Shared state of the multi-consumer test. */
typedef struct consumer_state {
    prefetch_queue *q;
    pthread_mutex_t lock;
    int seen[MC_ITEMS];
    int out_of_order;
    int bad_items;
} consumer_state;

/* Thread body: pops until NULL, counting each index and checking that
 * this thread's indices increase and each item's content is right. */
static void *consume_all(void *p)
{
    consumer_state *s = p;
    prefetch_item *item;
    size_t last = 0;
    int any = 0;

    while ((item = prefetch_pop(s->q)) != NULL) {
        int file = (int)(item->index % NFILES);
        int good = item->status == KILN_OK && item->image.pixels &&
                   ((const uint8_t *)item->image.pixels)[0] == (uint8_t)file &&
                   item->image.width == 8 + 3u * (uint32_t)file;

        pthread_mutex_lock(&s->lock);
        if (item->index < MC_ITEMS)
            s->seen[item->index]++;
        if (any && item->index <= last)
            s->out_of_order++;
        if (!good)
            s->bad_items++;
        pthread_mutex_unlock(&s->lock);
        last = item->index;
        any = 1;
        prefetch_item_free(s->q, item);
    }
    return NULL;
}

/* Several consumer threads together get every index exactly once. */
static void test_many_consumers(void)
{
    static const char *list[MC_ITEMS];
    static consumer_state s;
    pthread_t threads[MC_THREADS];
    int once = 1;
    size_t peak_items;

    for (int i = 0; i < MC_ITEMS; i++)
        list[i] = files[i % NFILES];
    memset(&s, 0, sizeof(s));
    pthread_mutex_init(&s.lock, NULL);
    CHECK_OK(prefetch_start(&s.q, list, MC_ITEMS, 4, 4 * largest_bytes, 0));
    for (int t = 0; t < MC_THREADS; t++)
        CHECK(pthread_create(&threads[t], NULL, consume_all, &s) == 0);
    for (int t = 0; t < MC_THREADS; t++)
        pthread_join(threads[t], NULL);
    for (int i = 0; i < MC_ITEMS; i++)
        if (s.seen[i] != 1)
            once = 0;
    CHECK(once);
    CHECK(s.out_of_order == 0);
    CHECK(s.bad_items == 0);
    prefetch_stats(s.q, &peak_items, NULL);
    CHECK(peak_items <= 4);
    prefetch_free(s.q);
    pthread_mutex_destroy(&s.lock);
}

/* A long list with a small bound never has more than max_items decoded;
 * an empty list ends at once; bad arguments are refused. */
static void test_lazy_and_edges(void)
{
    enum { N = 2000 };
    static const char *list[N];
    prefetch_queue *q;
    prefetch_item *item;
    size_t peak_items, got = 0;

    for (int i = 0; i < N; i++)
        list[i] = files[i % NFILES];
    CHECK_OK(prefetch_start(&q, list, N, 2, 0, 0));
    while ((item = prefetch_pop(q)) != NULL) {
        got++;
        prefetch_item_free(q, item);
    }
    CHECK(got == N);
    prefetch_stats(q, &peak_items, NULL);
    CHECK(peak_items <= 2);
    prefetch_free(q);

    CHECK_OK(prefetch_start(&q, NULL, 0, 8, 0, 0));
    CHECK(prefetch_pop(q) == NULL);
    prefetch_free(q);

    q = (prefetch_queue *)&got;
    CHECK_STATUS(prefetch_start(&q, files, NFILES, 0, 0, 0), KILN_E_INVAL);
    CHECK(q == NULL);
    CHECK_MSG("max_items");
    CHECK_STATUS(prefetch_start(NULL, files, NFILES, 1, 0, 0), KILN_E_INVAL);
    CHECK_STATUS(prefetch_start(&q, NULL, 3, 1, 0, 0), KILN_E_INVAL);
    prefetch_free(NULL);
    prefetch_stop(NULL);
    CHECK(prefetch_pop(NULL) == NULL);
}

/* The RSS probes return plausible numbers: some memory is resident, the
 * peak is at least the current size, and touching 32 MiB shows. */
static void test_rss(void)
{
    size_t before = rss_current_bytes();
    size_t bytes = (size_t)32 << 20;
    unsigned char *block;

    CHECK(before > 0);
    CHECK(rss_peak_bytes() >= before);
    block = malloc(bytes);
    CHECK(block != NULL);
    if (block) {
        size_t after;

        memset(block, 1, bytes);
        after = rss_current_bytes();
        CHECK(after >= before + bytes / 2);
        CHECK(rss_peak_bytes() >= after);
        CHECK(block[bytes - 1] == 1);
    }
    free(block);
}

/* Runs every prefetch test on inputs written to a scratch directory. */
int main(void)
{
    make_inputs(test_tmpdir("prefetch"));
    test_order();
    test_bounds();
    test_oversize();
    test_bad_inputs();
    test_stop();
    test_stop_wakes_consumer();
    test_many_consumers();
    test_lazy_and_edges();
    test_rss();
    return test_summary("test_prefetch");
}
