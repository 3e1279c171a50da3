/* The prefetch queue: list order, item and byte bounds (and the single
 * oversize item), failures that stay with their item, early stops that
 * free everything, several consumers each getting every index once; the
 * loaders: an image (PNG or JPEG), an image with its mask (both in the
 * byte bound, a bad mask failing its item alone), a custom loader whose
 * payload is released exactly once per item; and the RSS probes.  Run
 * under ASan or valgrind to prove nothing leaks. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <turbojpeg.h>

#include "png_io.h"
#include "prefetch.h"
#include "prefetch_loaders.h"
#include "rss.h"
#include "testutil.h"

#define NFILES 12

static char file_paths[NFILES][4096];
static const char *files[NFILES];   /* image i: (8+3i) x (6+i) RGB, first byte i */
static size_t largest_bytes;
static char bad_paths[3][4096];      /* truncated, missing, not a PNG */
static char jpeg_path[4096];         /* a 20x10 RGB JPEG */
static char mask_dir[4096];          /* masks of files[i]: in%02d_mask.png */
static prefetch_loader plain;        /* images, default pixel limit */
static prefetch_loader limited;      /* images of at most 100 pixels */

/* Sleeps for `ms` milliseconds. */
static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Writes a JPEG input and the masks of files[]: gray, the size of their
 * image, value 10+i; none for file 2, plain text for file 4. */
static void make_jpeg_and_masks(const char *dir)
{
    host_image img;
    char path[4200];

    snprintf(jpeg_path, sizeof(jpeg_path), "%s/photo.jpg", dir);
    CHECK_OK(host_image_alloc(&img, 20, 10, 3, 8));
    if (img.pixels)
        CHECK(test_write_jpeg(jpeg_path, &img, 90, TJSAMP_420) == 0);
    host_image_free(&img);
    snprintf(mask_dir, sizeof(mask_dir), "%s/masks", dir);
    mkdir(mask_dir, 0755);
    for (int i = 0; i < NFILES; i++) {
        snprintf(path, sizeof(path), "%s/in%02d_mask.png", mask_dir, i);
        if (i == 2)
            continue;
        if (i == 4) {
            test_write_text(path, "not a mask\n");
            continue;
        }
        CHECK_OK(host_image_alloc(&img, 8 + 3u * (uint32_t)i, 6 + (uint32_t)i, 1, 8));
        if (!img.pixels)
            continue;
        memset(img.pixels, 10 + i, host_image_bytes(&img));
        CHECK_OK(png_write_file(path, &img));
        host_image_free(&img);
    }
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
    make_jpeg_and_masks(dir);
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

    CHECK_OK(prefetch_start(&q, files, NFILES, &plain, 3, 0));
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
    CHECK_OK(prefetch_start(&q, list, N, &plain, 5, max_bytes));
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
    CHECK_OK(prefetch_start(&q, list, N, &plain, 2, 0));
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

    CHECK_OK(prefetch_start(&q, files, NFILES, &plain, 4, 16));
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

    CHECK_OK(prefetch_start(&q, list, 7, &plain, 2, 0));
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
    CHECK_OK(prefetch_start(&q, files, 4, &limited, 2, 0));
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
    CHECK_OK(prefetch_start(&q, list, N, &plain, 5, 0));
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
    CHECK_OK(prefetch_start(&q, list, N, &plain, 3, 0));
    sleep_ms(5);
    prefetch_free(q);

    /* a consumer that never gives its item back */
    CHECK_OK(prefetch_start(&q, list, N, &plain, 3, 0));
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

    CHECK_OK(prefetch_start(&q, files, NFILES, &plain, 1, 0));
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
    CHECK_OK(prefetch_start(&s.q, list, MC_ITEMS, &plain, 4, 4 * largest_bytes));
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
    CHECK_OK(prefetch_start(&q, list, N, &plain, 2, 0));
    while ((item = prefetch_pop(q)) != NULL) {
        got++;
        prefetch_item_free(q, item);
    }
    CHECK(got == N);
    prefetch_stats(q, &peak_items, NULL);
    CHECK(peak_items <= 2);
    prefetch_free(q);

    CHECK_OK(prefetch_start(&q, NULL, 0, &plain, 8, 0));
    CHECK(prefetch_pop(q) == NULL);
    prefetch_free(q);

    q = (prefetch_queue *)&got;
    CHECK_STATUS(prefetch_start(&q, files, NFILES, &plain, 0, 0), KILN_E_INVAL);
    CHECK(q == NULL);
    CHECK_MSG("max_items");
    CHECK_STATUS(prefetch_start(NULL, files, NFILES, &plain, 1, 0), KILN_E_INVAL);
    CHECK_STATUS(prefetch_start(&q, NULL, 3, &plain, 1, 0), KILN_E_INVAL);
    prefetch_free(NULL);
    prefetch_stop(NULL);
    CHECK(prefetch_pop(NULL) == NULL);
}

/* The image loader reads a JPEG among PNGs (by its signature) as RGB. */
static void test_jpeg_input(void)
{
    const char *list[3] = { files[0], jpeg_path, files[1] };
    prefetch_queue *q;
    prefetch_item *item;
    size_t got = 0;

    CHECK_OK(prefetch_start(&q, list, 3, &plain, 2, 0));
    while ((item = prefetch_pop(q)) != NULL) {
        CHECK_STATUS(item->status, KILN_OK);
        if (got == 1)
            CHECK(item->image.width == 20 && item->image.height == 10 &&
                  item->image.channels == 3 && item->image.bit_depth == 8);
        else
            check_good_item(item, got, (int)(got / 2));
        CHECK(item->mask.pixels == NULL && item->payload == NULL);
        got++;
        prefetch_item_free(q, item);
    }
    CHECK(got == 3);
    prefetch_free(q);
}

/* The mask file of input "DIR/inNN.png" (mask_user: the mask directory):
 * MASKDIR/inNN_mask.png; inputs named in06 have none (a failure). */
static kiln_status test_mask_path(const void *mask_user, const char *input, char *buf,
                                  size_t len)
{
    const char *base = strrchr(input, '/');

    base = base ? base + 1 : input;
    if (strncmp(base, "in06", 4) == 0)
        return kiln_fail(KILN_E_CONFIG, "%s: no mask is known for it", input);
    snprintf(buf, len, "%s/%.4s_mask.png", (const char *)mask_user, base);
    return KILN_OK;
}

/* The image+mask loader: each item carries its mask; both count in the
 * byte bound, so a bound that would let two images in lets only one image
 * with its mask in. */
static void test_image_mask(void)
{
    enum { N = 8 };
    const char *list[N];
    prefetch_loader loader = prefetch_loader_image_mask(0, test_mask_path, mask_dir);
    size_t image_bytes = 23u * 11u * 3u, mask_bytes = 23u * 11u;  /* file 5 */
    size_t peak_items, peak_bytes, got = 0;
    prefetch_queue *q;
    prefetch_item *item;

    for (int i = 0; i < N; i++)
        list[i] = files[5];
    CHECK_OK(prefetch_start(&q, list, N, &loader, 4, 2 * image_bytes + mask_bytes));
    while ((item = prefetch_pop(q)) != NULL) {
        CHECK_STATUS(item->status, KILN_OK);
        check_good_item(item, got, 5);
        CHECK(item->mask.pixels && item->mask.width == 23 && item->mask.height == 11 &&
              item->mask.channels == 1);
        if (item->mask.pixels)
            CHECK(((const uint8_t *)item->mask.pixels)[0] == 15);
        got++;
        sleep_ms(2);
        prefetch_item_free(q, item);
    }
    CHECK(got == N);
    prefetch_stats(q, &peak_items, &peak_bytes);
    CHECK(peak_items == 1);
    CHECK(peak_bytes == image_bytes + mask_bytes);
    prefetch_free(q);
}

/* A missing mask, a mask that is not an image and a mask path that
 * cannot be made each fail their item alone, naming the mask file; the
 * other items keep their masks.  The noun of the messages can change. */
static void test_image_mask_failures(void)
{
    const char *list[5] = { files[1], files[2], files[3], files[4], files[6] };
    const kiln_status want[5] = { KILN_OK, KILN_E_IO, KILN_OK, KILN_E_FORMAT, KILN_E_CONFIG };
    prefetch_loader loader = prefetch_loader_image_mask(0, test_mask_path, mask_dir);
    char mask[4200];
    prefetch_queue *q;
    prefetch_item *item;

    for (int pass = 0; pass < 2; pass++) {
        const char *noun = pass == 0 ? "mask file" : "trimap file";
        size_t got = 0;

        if (pass == 1)
            loader.images.mask_noun = "trimap";
        CHECK_OK(prefetch_start(&q, list, 5, &loader, 2, 0));
        while ((item = prefetch_pop(q)) != NULL) {
            CHECK(got < 5 && item->index == got);
            if (got >= 5)
                break;
            CHECK_STATUS(item->status, want[got]);
            if (want[got] == KILN_OK) {
                CHECK(item->image.pixels && item->mask.pixels);
            } else {
                CHECK(item->image.pixels == NULL && item->mask.pixels == NULL);
                CHECK(strncmp(item->message, noun, strlen(noun)) == 0);
                if (want[got] != KILN_E_CONFIG) {
                    snprintf(mask, sizeof(mask), "%s/in%02d_mask.png", mask_dir,
                             got == 1 ? 2 : 4);
                    CHECK(strstr(item->message, mask) != NULL);
                } else {
                    CHECK(strstr(item->message, "no mask is known") != NULL);
                }
                if (strncmp(item->message, noun, strlen(noun)) != 0)
                    fprintf(stderr, "  message: %s\n", item->message);
            }
            got++;
            prefetch_item_free(q, item);
        }
        CHECK(got == 5);
        prefetch_free(q);
    }
}

#define PAYLOAD_ITEMS 40

/* A custom loader's book-keeping: how often each index was measured,
 * loaded and released. */
typedef struct payload_counts {
    pthread_mutex_t lock;
    int measured[PAYLOAD_ITEMS];
    int loaded[PAYLOAD_ITEMS];
    int released[PAYLOAD_ITEMS];
    int bad_release;            /* release saw a foreign or NULL payload */
} payload_counts;

/* The payload of the custom loader (it declares 64 + index bytes). */
typedef struct payload {
    size_t index;
} payload;

/* measure of the custom loader: 64 + index bytes; index 3 fails here. */
static kiln_status payload_measure(const prefetch_loader *loader, size_t index,
                                   const char *path, size_t *bytes)
{
    payload_counts *c = loader->user;

    pthread_mutex_lock(&c->lock);
    c->measured[index]++;
    pthread_mutex_unlock(&c->lock);
    *bytes = 64 + index;
    if (index == 3)
        return kiln_fail(KILN_E_FORMAT, "%s: measure refuses index 3", path);
    return KILN_OK;
}

/* load of the custom loader: a payload of 64 + index bytes; index 5 fails
 * after making its payload (release must still free it). */
static kiln_status payload_load(const prefetch_loader *loader, size_t index, const char *path,
                                prefetch_item *item)
{
    payload_counts *c = loader->user;
    payload *p = malloc(sizeof(*p));

    pthread_mutex_lock(&c->lock);
    c->loaded[index]++;
    pthread_mutex_unlock(&c->lock);
    if (!p)
        return kiln_fail(KILN_E_HOSTMEM, "%s: out of memory", path);
    p->index = index;
    item->payload = p;
    item->payload_bytes = 64 + index;
    if (index == 5)
        return kiln_fail(KILN_E_FORMAT, "%s: load refuses index 5", path);
    return KILN_OK;
}

/* release of the custom loader: counts and frees the payload. */
static void payload_release(const prefetch_loader *loader, prefetch_item *item)
{
    payload_counts *c = loader->user;
    const payload *p = item->payload;

    pthread_mutex_lock(&c->lock);
    if (!p || p->index != item->index || item->index >= PAYLOAD_ITEMS)
        c->bad_release++;
    else
        c->released[item->index]++;
    pthread_mutex_unlock(&c->lock);
    free(item->payload);
}

/* Checks the counts after a queue was freed: every index measured at most
 * once, loaded only after a good measure, and released exactly as often
 * as loaded; returns how many were loaded. */
static int check_payload_counts(payload_counts *c)
{
    int loaded = 0;

    CHECK(c->bad_release == 0);
    for (int i = 0; i < PAYLOAD_ITEMS; i++) {
        CHECK(c->measured[i] <= 1);
        CHECK(c->loaded[i] <= (i == 3 ? 0 : c->measured[i]));
        CHECK(c->released[i] == c->loaded[i]);
        if (c->released[i] != c->loaded[i])
            fprintf(stderr, "  index %d: loaded %d, released %d\n", i, c->loaded[i],
                    c->released[i]);
        loaded += c->loaded[i];
    }
    return loaded;
}

/* A custom loader with a payload: items carry it, the bound counts its
 * bytes, failures in measure or load fail their item alone (a failed
 * load's payload released at once), and release runs exactly once per
 * loaded item: given back, dropped by prefetch_stop, or never given back
 * and freed by prefetch_free. */
static void test_payload_loader(void)
{
    static const char *list[PAYLOAD_ITEMS];
    static payload_counts counts;
    prefetch_loader loader;
    prefetch_queue *q;
    prefetch_item *item, *held, *forgotten;
    size_t got = 0, peak_items = 0, peak_bytes = 0;

    for (int i = 0; i < PAYLOAD_ITEMS; i++)
        list[i] = "payload";
    memset(&loader, 0, sizeof(loader));
    loader.measure = payload_measure;
    loader.load = payload_load;
    loader.release = payload_release;
    loader.user = &counts;

    /* every item through, one at a time */
    memset(&counts, 0, sizeof(counts));
    pthread_mutex_init(&counts.lock, NULL);
    CHECK_OK(prefetch_start(&q, list, PAYLOAD_ITEMS, &loader, 1, 0));
    while ((item = prefetch_pop(q)) != NULL) {
        CHECK(item->index == got);
        if (got == 3 || got == 5) {
            CHECK(item->status == KILN_E_FORMAT && item->payload == NULL &&
                  item->payload_bytes == 0 && strstr(item->message, "refuses index"));
        } else {
            const payload *p = item->payload;

            CHECK_STATUS(item->status, KILN_OK);
            CHECK(p && p->index == got && item->payload_bytes == 64 + got);
            CHECK(item->image.pixels == NULL && item->mask.pixels == NULL);
        }
        got++;
        prefetch_item_free(q, item);
    }
    CHECK(got == PAYLOAD_ITEMS);
    prefetch_stats(q, &peak_items, &peak_bytes);
    CHECK(peak_items == 1 && peak_bytes == 64 + PAYLOAD_ITEMS - 1);
    prefetch_free(q);
    CHECK(check_payload_counts(&counts) == PAYLOAD_ITEMS - 1);
    pthread_mutex_destroy(&counts.lock);

    /* a stop with items queued and one held, then one never given back */
    memset(&counts, 0, sizeof(counts));
    pthread_mutex_init(&counts.lock, NULL);
    CHECK_OK(prefetch_start(&q, list, PAYLOAD_ITEMS, &loader, 4, 0));
    held = prefetch_pop(q);
    forgotten = prefetch_pop(q);
    CHECK(held && forgotten);
    peak_items = 0;
    for (int tries = 0; tries < 2000 && peak_items < 4; tries++) {
        sleep_ms(1);
        prefetch_stats(q, &peak_items, NULL);
    }
    CHECK(peak_items == 4);
    prefetch_stop(q);
    CHECK(prefetch_pop(q) == NULL);
    if (held) {
        CHECK(held->payload != NULL);
        prefetch_item_free(q, held);
    }
    prefetch_free(q);
    CHECK(check_payload_counts(&counts) >= 3);   /* 0, 1, 2 (3 fails in measure) */
    pthread_mutex_destroy(&counts.lock);
}

/* prefetch_start refuses a missing loader or one without measure or
 * load. */
static void test_bad_loaders(void)
{
    prefetch_loader loader = prefetch_loader_image(0);
    prefetch_queue *q = NULL;

    CHECK_STATUS(prefetch_start(&q, files, NFILES, NULL, 1, 0), KILN_E_INVAL);
    CHECK(q == NULL);
    loader.load = NULL;
    CHECK_STATUS(prefetch_start(&q, files, NFILES, &loader, 1, 0), KILN_E_INVAL);
    CHECK_MSG("measure and load");
    loader = prefetch_loader_image(0);
    loader.measure = NULL;
    CHECK_STATUS(prefetch_start(&q, files, NFILES, &loader, 1, 0), KILN_E_INVAL);
    CHECK(q == NULL);
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
    plain = prefetch_loader_image(0);
    limited = prefetch_loader_image(100);
    make_inputs(test_tmpdir("prefetch"));
    test_order();
    test_bounds();
    test_oversize();
    test_bad_inputs();
    test_stop();
    test_stop_wakes_consumer();
    test_many_consumers();
    test_lazy_and_edges();
    test_jpeg_input();
    test_image_mask();
    test_image_mask_failures();
    test_payload_loader();
    test_bad_loaders();
    test_rss();
    return test_summary("test_prefetch");
}
