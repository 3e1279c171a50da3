/* The bounded LRU cache of decoded images (see image_cache.h).
 *
 * Entries live in a hash table of fixed size (chained by path) and, once
 * read, in a recency list (most recent first).  An entry being read is in
 * the table only, so that other gets of its path wait for it; it is
 * charged to the cap when its read completes.  One mutex guards the table,
 * the list and the figures; reading and freeing images happen outside
 * it. */
#include <assert.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include "host_alloc.h"
#include "image_cache.h"
#include "image_read.h"
#include "status.h"

#define IMAGE_CACHE_BUCKETS 256

/* One cached path.  The image is the first member, so the pointer handed
 * out is the entry's. */
typedef struct cache_entry {
    host_image image;
    char *path;
    size_t bytes;                /* the image's pixel bytes, once read */
    unsigned pins;
    int reading;                 /* a get is reading the file */
    struct cache_entry *chain;   /* next in the bucket */
    struct cache_entry *newer;   /* recency list: towards the head */
    struct cache_entry *older;   /* recency list: towards the tail */
} cache_entry;

struct image_cache {
    size_t max_bytes;
    uint64_t max_pixels;
    cache_entry *buckets[IMAGE_CACHE_BUCKETS];
    cache_entry *newest;         /* recency list head */
    cache_entry *oldest;         /* recency list tail */
    size_t bytes;                /* pixel bytes of the entries read */
    size_t images;               /* entries read */
    uint64_t hits;
    uint64_t misses;
    pthread_mutex_t lock;
    pthread_cond_t read_done;    /* a read completed or failed */
};

/* The bucket of `path`: FNV-1a over its bytes. */
static size_t path_bucket(const char *path)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);

    for (const unsigned char *p = (const unsigned char *)path; *p; p++)
        h = (h ^ *p) * UINT64_C(0x100000001b3);
    return (size_t)(h % IMAGE_CACHE_BUCKETS);
}

/* With the lock held: the entry of `path`, or NULL. */
static cache_entry *entry_find(const image_cache *c, const char *path)
{
    for (cache_entry *e = c->buckets[path_bucket(path)]; e; e = e->chain)
        if (strcmp(e->path, path) == 0)
            return e;
    return NULL;
}

/* With the lock held: removes an entry from its bucket. */
static void entry_unhash(image_cache *c, const cache_entry *e)
{
    cache_entry **link = &c->buckets[path_bucket(e->path)];

    while (*link != e)
        link = &(*link)->chain;
    *link = e->chain;
}

/* With the lock held: puts an entry at the head of the recency list. */
static void recency_push(image_cache *c, cache_entry *e)
{
    e->older = c->newest;
    e->newer = NULL;
    if (c->newest)
        c->newest->newer = e;
    c->newest = e;
    if (!c->oldest)
        c->oldest = e;
}

/* With the lock held: takes an entry out of the recency list. */
static void recency_unlink(image_cache *c, cache_entry *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        c->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        c->oldest = e->newer;
    e->newer = e->older = NULL;
}

/* Frees an entry that no list or table holds any more. */
static void entry_free(cache_entry *e)
{
    host_image_free(&e->image);
    kiln_free(e->path);
    kiln_free(e);
}

/* With the lock held: while the cache is over its cap, takes the least
 * recently used unpinned entries out of the table and the list, chaining
 * them on *evicted (through `chain`) for the caller to free unlocked. */
static void cache_trim(image_cache *c, cache_entry **evicted)
{
    cache_entry *e = c->oldest;

    while (e && c->bytes > c->max_bytes) {
        cache_entry *newer = e->newer;

        if (e->pins == 0) {
            recency_unlink(c, e);
            entry_unhash(c, e);
            c->bytes -= e->bytes;
            c->images--;
            e->chain = *evicted;
            *evicted = e;
        }
        e = newer;
    }
}

/* Frees a chain of evicted entries (without the lock). */
static void evicted_free(cache_entry *evicted)
{
    while (evicted) {
        cache_entry *next = evicted->chain;

        entry_free(evicted);
        evicted = next;
    }
}

/* Allocates the cache and its lock and condition. */
kiln_status image_cache_init(image_cache **out, size_t max_bytes, uint64_t max_pixels)
{
    image_cache *c;

    if (!out)
        return kiln_fail(KILN_E_INVAL, "image_cache_init: NULL output");
    *out = NULL;
    c = kiln_calloc(1, sizeof(*c));
    if (!c)
        return kiln_fail(KILN_E_HOSTMEM, "image_cache_init: out of host memory");
    if (pthread_mutex_init(&c->lock, NULL) != 0)
        goto free_cache;
    if (pthread_cond_init(&c->read_done, NULL) != 0)
        goto destroy_lock;
    c->max_bytes = max_bytes;
    c->max_pixels = max_pixels;
    *out = c;
    return KILN_OK;

destroy_lock:
    pthread_mutex_destroy(&c->lock);
free_cache:
    kiln_free(c);
    return kiln_fail(KILN_E_HOSTMEM, "image_cache_init: cannot create a lock");
}

/* With the lock held: adds a new entry for `path`, pinned and marked as
 * being read.  NULL when memory runs out (message set). */
static cache_entry *entry_add_reading(image_cache *c, const char *path)
{
    cache_entry *e = kiln_calloc(1, sizeof(*e));

    if (!e) {
        kiln_fail(KILN_E_HOSTMEM, "image cache: %s: out of host memory", path);
        return NULL;
    }
    e->path = kiln_strdup(path);
    if (!e->path) {
        kiln_free(e);
        kiln_fail(KILN_E_HOSTMEM, "image cache: %s: out of host memory", path);
        return NULL;
    }
    e->pins = 1;
    e->reading = 1;
    size_t b = path_bucket(path);
    e->chain = c->buckets[b];
    c->buckets[b] = e;
    return e;
}

/* Finds or reads the image: waits for another get's read of the same
 * path, pins a hit and makes it the most recent, or reads a miss outside
 * the lock and then trims the cache to its cap. */
kiln_status image_cache_get(image_cache *c, const char *path, const host_image **out)
{
    cache_entry *e;
    cache_entry *evicted = NULL;
    kiln_status st;

    if (out)
        *out = NULL;
    if (!c || !path || !out)
        return kiln_fail(KILN_E_INVAL, "image_cache_get: NULL argument");
    pthread_mutex_lock(&c->lock);
    for (;;) {
        e = entry_find(c, path);
        if (!e || !e->reading)
            break;
        pthread_cond_wait(&c->read_done, &c->lock);
    }
    if (e) {
        e->pins++;
        c->hits++;
        recency_unlink(c, e);
        recency_push(c, e);
        pthread_mutex_unlock(&c->lock);
        *out = &e->image;
        return KILN_OK;
    }
    c->misses++;
    e = entry_add_reading(c, path);
    pthread_mutex_unlock(&c->lock);
    if (!e)
        return KILN_E_HOSTMEM;

    st = image_read_file(path, c->max_pixels, &e->image);

    pthread_mutex_lock(&c->lock);
    e->reading = 0;
    if (st == KILN_OK) {
        e->bytes = host_image_bytes(&e->image);
        c->bytes += e->bytes;
        c->images++;
        recency_push(c, e);
        cache_trim(c, &evicted);
    } else {
        entry_unhash(c, e);
    }
    pthread_cond_broadcast(&c->read_done);
    pthread_mutex_unlock(&c->lock);
    evicted_free(evicted);
    if (st != KILN_OK) {
        entry_free(e);
        return st;   /* image_read_file's message names the file */
    }
    *out = &e->image;
    return KILN_OK;
}

/* Drops one pin; trims the cache when that leaves it over its cap. */
void image_cache_unpin(image_cache *c, const host_image *img)
{
    cache_entry *e;
    cache_entry *evicted = NULL;

    if (!c || !img)
        return;
    e = (cache_entry *)((char *)img - offsetof(cache_entry, image));
    pthread_mutex_lock(&c->lock);
    assert(e->pins > 0);
    if (e->pins > 0)
        e->pins--;
    if (e->pins == 0)
        cache_trim(c, &evicted);
    pthread_mutex_unlock(&c->lock);
    evicted_free(evicted);
}

/* Copies the figures under the lock. */
void image_cache_stats(const image_cache *c, size_t *bytes, size_t *images, uint64_t *hits,
                       uint64_t *misses)
{
    image_cache *m = (image_cache *)c;   /* the lock only */

    if (!c)
        return;
    pthread_mutex_lock(&m->lock);
    if (bytes)
        *bytes = c->bytes;
    if (images)
        *images = c->images;
    if (hits)
        *hits = c->hits;
    if (misses)
        *misses = c->misses;
    pthread_mutex_unlock(&m->lock);
}

/* Frees every entry (asserting none is pinned), then the cache. */
void image_cache_free(image_cache *c)
{
    if (!c)
        return;
    for (size_t b = 0; b < IMAGE_CACHE_BUCKETS; b++) {
        cache_entry *e = c->buckets[b];

        while (e) {
            cache_entry *next = e->chain;

            assert(e->pins == 0 && !e->reading);
            entry_free(e);
            e = next;
        }
    }
    pthread_cond_destroy(&c->read_done);
    pthread_mutex_destroy(&c->lock);
    kiln_free(c);
}
