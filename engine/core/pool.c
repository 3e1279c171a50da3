/* The device buffer pool: size classes, a cache of released buffers (one
 * free list per class plus one global LRU list), a hard byte cap, fault
 * injection, and the ledger.  The only code that calls clCreateBuffer and
 * clReleaseMemObject.  See pool.h for the contract.
 *
 * Every buffer is a pool_entry (its pool_buffer first, so that a caller's
 * pool_buffer * converts back).  A live entry is on the pool's live list
 * (pool_buffer.next/prev); a cached entry is on its class's free list
 * (pool_buffer.next/prev, most recently released first) and on the LRU
 * list (lru_newer/lru_older).  Each operation costs O(1), plus O(tags)
 * for a tag lookup and O(1) per buffer trimmed. */
#include <assert.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_status.h"
#include "host_alloc.h"
#include "pool.h"
#include "status.h"

#define POOL_SMALL_MAX ((size_t)4096)          /* largest "small" class */
#define POOL_SMALL_LOG2 12                      /* log2(POOL_SMALL_MAX) */
#define POOL_SMALL_STEP ((size_t)256)           /* small classes' step */
#define POOL_SMALL_CLASSES 16                   /* 256, 512, ... 4096 */
#define POOL_STEPS_PER_OCTAVE 4
#define POOL_SIZE_BITS ((int)(sizeof(size_t) * CHAR_BIT))
/* The largest class ends at 2^(bits-1), so capacities never overflow. */
#define POOL_MAX_CLASS ((size_t)1 << (POOL_SIZE_BITS - 1))
/* Octaves (2^k, 2^(k+1)] for k = 12 .. bits-2, four classes each. */
#define POOL_CLASS_COUNT \
    (POOL_SMALL_CLASSES + (POOL_SIZE_BITS - POOL_SMALL_LOG2 - 1) * POOL_STEPS_PER_OCTAVE)
#define POOL_OTHER_SLOT (POOL_TAG_MAX - 1)
#define POOL_LEDGER_TEXT 2048
#define POOL_ENV_FAULT "KILN_FAULT_POOL_CREATE"
#define POOL_FAIL_WITH_RETRY 2   /* an attempt and its retry: the acquire fails */

enum entry_state { ENTRY_LIVE = 1, ENTRY_CACHED = 2 };

typedef struct pool_entry {
    pool_buffer buf;              /* first: (pool_entry *)buffer is valid */
    struct pool_entry *lru_newer; /* towards the most recently released */
    struct pool_entry *lru_older; /* towards the least recently released */
    const kiln_pool *owner;
    int size_class;
    int state;
} pool_entry;

struct kiln_pool {
    pthread_mutex_t lock;
    cl_context context;           /* retained by the pool */
    cl_command_queue queue;       /* retained by the pool */
    size_t limit;                 /* min(budget, device max allocation) */
    size_t max_alloc;             /* CL_DEVICE_MAX_MEM_ALLOC_SIZE */
    uint64_t clock;               /* LRU clock, ticks on every release */
    uint64_t fault_skip;          /* attempts to let through before failing */
    uint64_t fault_count;         /* attempts still to fail */
    pool_buffer *live;            /* live list head */
    pool_buffer *cache[POOL_CLASS_COUNT]; /* per-class free lists */
    pool_entry *lru_newest;
    pool_entry *lru_oldest;
    pool_ledger ledger;
};

/* Returns the entry that holds `buffer` (its first member). */
static pool_entry *entry_of(pool_buffer *buffer)
{
    return (pool_entry *)(void *)buffer;
}

/* Returns floor(log2(x)) for x > 0. */
static int floor_log2(size_t x)
{
    int k = 0;
    while (x >>= 1)
        k++;
    return k;
}

/* Maps 0 < bytes <= POOL_MAX_CLASS to its class index and writes the
 * class capacity to *capacity. */
static int size_class(size_t bytes, size_t *capacity)
{
    size_t base, step, index;
    int k;

    assert(bytes > 0 && bytes <= POOL_MAX_CLASS);
    if (bytes <= POOL_SMALL_MAX) {
        index = (bytes + POOL_SMALL_STEP - 1) / POOL_SMALL_STEP;
        *capacity = index * POOL_SMALL_STEP;
        return (int)index - 1;
    }
    k = floor_log2(bytes - 1);
    base = (size_t)1 << k;
    step = base / POOL_STEPS_PER_OCTAVE;
    index = (bytes - 1 - base) / step;
    *capacity = base + (index + 1) * step;
    return POOL_SMALL_CLASSES + (k - POOL_SMALL_LOG2) * POOL_STEPS_PER_OCTAVE + (int)index;
}

/* Returns the class capacity for `bytes`, or 0 when there is none. */
size_t pool_class_capacity(size_t bytes)
{
    size_t capacity = 0;
    if (bytes == 0 || bytes > POOL_MAX_CLASS)
        return 0;
    (void)size_class(bytes, &capacity);
    return capacity;
}

/* Appends printf-formatted text at *pos in buf (len bytes), keeping buf
 * NUL-terminated and *pos within it; excess text is dropped. */
__attribute__((format(printf, 4, 5)))
static void text_append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (*pos + 1 >= len)
        return;
    va_start(ap, fmt);
    n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    *pos += (size_t)n;
    if (*pos >= len)
        *pos = len - 1;
}

/* Writes a short human-readable size ("512 B", "4.0 KiB", "1.5 GiB") into
 * out (size len). */
static void bytes_format(size_t bytes, char *out, size_t len)
{
    static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    double value = (double)bytes;
    size_t unit = 0;

    if (bytes < 1024) {
        snprintf(out, len, "%zu B", bytes);
        return;
    }
    value /= 1024.0;
    while (value >= 1024.0 && unit + 1 < sizeof(units) / sizeof(units[0])) {
        value /= 1024.0;
        unit++;
    }
    snprintf(out, len, "%.1f %s", value, units[unit]);
}

/* Writes the one-line ledger summary: live totals and per-tag live
 * objects first, then cache, budget, peaks and counters. */
void pool_ledger_format(const pool_ledger *ledger, char *buf, size_t len)
{
    char a[32], b[32];
    size_t pos = 0, i, shown = 0;

    if (!buf || len == 0)
        return;
    buf[0] = '\0';
    if (!ledger)
        return;
    bytes_format(ledger->live_bytes, a, sizeof(a));
    text_append(buf, len, &pos, "live %zu (%s)", ledger->live_objects, a);
    for (i = 0; i < ledger->ntags && i < POOL_TAG_MAX; i++) {
        const pool_tag_stats *t = &ledger->tags[i];
        if (t->live_objects == 0)
            continue;
        bytes_format(t->live_bytes, a, sizeof(a));
        text_append(buf, len, &pos, "%s%s x%zu (%s)", shown ? ", " : " [",
                    t->tag, t->live_objects, a);
        shown++;
    }
    if (shown)
        text_append(buf, len, &pos, "]");
    bytes_format(ledger->cached_bytes, a, sizeof(a));
    bytes_format(ledger->budget, b, sizeof(b));
    text_append(buf, len, &pos, "; cached %zu (%s); budget %s", ledger->cached_objects, a, b);
    bytes_format(ledger->peak_bytes, a, sizeof(a));
    bytes_format(ledger->peak_live_bytes, b, sizeof(b));
    text_append(buf, len, &pos, "; peak %s (live %s)", a, b);
    text_append(buf, len, &pos,
                "; hits %llu, misses %llu, creations %llu, releases %llu, trims %llu,"
                " retries %llu, failures %llu",
                (unsigned long long)ledger->hits, (unsigned long long)ledger->misses,
                (unsigned long long)ledger->creations, (unsigned long long)ledger->releases,
                (unsigned long long)ledger->trims, (unsigned long long)ledger->retries,
                (unsigned long long)ledger->failures);
}

/* Checks the pool's own accounting invariants (assertions; the caller
 * holds the lock). */
static void pool_check(const kiln_pool *pool)
{
    const pool_ledger *l = &pool->ledger;
    (void)l;
    assert(l->live_bytes <= l->budget);
    assert(l->cached_bytes <= l->budget - l->live_bytes);
    assert(l->peak_bytes <= l->budget);
    assert((l->cached_objects == 0) == (pool->lru_oldest == NULL));
    assert((l->cached_objects == 0) == (l->cached_bytes == 0));
    assert((l->live_objects == 0) == (pool->live == NULL));
    assert(l->creations - l->releases == (uint64_t)(l->live_objects + l->cached_objects));
}

/* Returns the ledger slot for `tag` (truncated to POOL_TAG_LEN - 1),
 * adding it when there is room, else the shared "other" slot. */
static int tag_slot(kiln_pool *pool, const char *tag)
{
    pool_ledger *l = &pool->ledger;
    char key[POOL_TAG_LEN];
    size_t i;

    snprintf(key, sizeof(key), "%s", tag);
    for (i = 0; i < l->ntags && i < POOL_OTHER_SLOT; i++)
        if (strcmp(l->tags[i].tag, key) == 0)
            return (int)i;
    if (l->ntags < POOL_OTHER_SLOT) {
        memcpy(l->tags[l->ntags].tag, key, sizeof(key));
        return (int)l->ntags++;
    }
    if (l->ntags == POOL_OTHER_SLOT) {
        snprintf(l->tags[POOL_OTHER_SLOT].tag, POOL_TAG_LEN, "other");
        l->ntags = POOL_TAG_MAX;
    }
    return POOL_OTHER_SLOT;
}

/* Puts a new or cached entry on the live list under `tag_index` and
 * accounts it (the caller has already removed it from the cache). */
static void live_add(kiln_pool *pool, pool_entry *entry, size_t bytes, int tag_index)
{
    pool_ledger *l = &pool->ledger;
    pool_tag_stats *t = &l->tags[tag_index];
    size_t capacity = entry->buf.capacity;

    entry->state = ENTRY_LIVE;
    entry->buf.bytes = bytes;
    entry->buf.tag_index = tag_index;
    entry->buf.prev = NULL;
    entry->buf.next = pool->live;
    if (pool->live)
        pool->live->prev = &entry->buf;
    pool->live = &entry->buf;

    l->live_objects++;
    l->live_bytes += capacity;
    t->live_objects++;
    t->live_bytes += capacity;
    if (t->live_bytes > t->peak_bytes)
        t->peak_bytes = t->live_bytes;
    if (l->live_bytes > l->peak_live_bytes)
        l->peak_live_bytes = l->live_bytes;
    if (l->live_bytes + l->cached_bytes > l->peak_bytes)
        l->peak_bytes = l->live_bytes + l->cached_bytes;
}

/* Takes a live entry off the live list and out of the live accounting. */
static void live_remove(kiln_pool *pool, pool_entry *entry)
{
    pool_ledger *l = &pool->ledger;
    pool_tag_stats *t = &l->tags[entry->buf.tag_index];
    size_t capacity = entry->buf.capacity;

    assert(entry->state == ENTRY_LIVE);
    if (entry->buf.prev)
        entry->buf.prev->next = entry->buf.next;
    else
        pool->live = entry->buf.next;
    if (entry->buf.next)
        entry->buf.next->prev = entry->buf.prev;
    entry->buf.next = entry->buf.prev = NULL;

    assert(l->live_objects > 0 && l->live_bytes >= capacity);
    assert(t->live_objects > 0 && t->live_bytes >= capacity);
    l->live_objects--;
    l->live_bytes -= capacity;
    t->live_objects--;
    t->live_bytes -= capacity;
    entry->state = 0;
}

/* Puts an entry (no longer live) at the head of its class list and the
 * newest end of the LRU list, stamped with the next clock tick. */
static void cache_put(kiln_pool *pool, pool_entry *entry)
{
    pool_buffer **head = &pool->cache[entry->size_class];

    entry->state = ENTRY_CACHED;
    entry->buf.last_use = ++pool->clock;
    entry->buf.prev = NULL;
    entry->buf.next = *head;
    if (*head)
        (*head)->prev = &entry->buf;
    *head = &entry->buf;

    entry->lru_older = pool->lru_newest;
    entry->lru_newer = NULL;
    if (pool->lru_newest)
        pool->lru_newest->lru_newer = entry;
    else
        pool->lru_oldest = entry;
    pool->lru_newest = entry;

    pool->ledger.cached_objects++;
    pool->ledger.cached_bytes += entry->buf.capacity;
}

/* Takes a cached entry off its class list and the LRU list, and out of
 * the cached accounting. */
static void cache_unlink(kiln_pool *pool, pool_entry *entry)
{
    assert(entry->state == ENTRY_CACHED);
    if (entry->buf.prev)
        entry->buf.prev->next = entry->buf.next;
    else
        pool->cache[entry->size_class] = entry->buf.next;
    if (entry->buf.next)
        entry->buf.next->prev = entry->buf.prev;
    entry->buf.next = entry->buf.prev = NULL;

    if (entry->lru_newer)
        entry->lru_newer->lru_older = entry->lru_older;
    else
        pool->lru_newest = entry->lru_older;
    if (entry->lru_older)
        entry->lru_older->lru_newer = entry->lru_newer;
    else
        pool->lru_oldest = entry->lru_newer;
    entry->lru_newer = entry->lru_older = NULL;

    assert(pool->ledger.cached_objects > 0);
    assert(pool->ledger.cached_bytes >= entry->buf.capacity);
    pool->ledger.cached_objects--;
    pool->ledger.cached_bytes -= entry->buf.capacity;
    entry->state = 0;
}

/* Releases an entry that is on no list: its cl_mem and its memory.  The
 * one release path of every buffer the pool created. */
static void entry_destroy(kiln_pool *pool, pool_entry *entry)
{
    (void)clReleaseMemObject(entry->buf.mem);
    pool->ledger.releases++;
    kiln_free(entry);
}

/* Releases the least recently released cached buffer (the cache must not
 * be empty), counting a trim. */
static void cache_trim_oldest(kiln_pool *pool)
{
    pool_entry *victim = pool->lru_oldest;

    assert(victim != NULL);
    cache_unlink(pool, victim);
    entry_destroy(pool, victim);
    pool->ledger.trims++;
}

/* Releases every cached buffer, oldest first, counting trims. */
static void cache_release_all(kiln_pool *pool)
{
    while (pool->lru_oldest)
        cache_trim_oldest(pool);
}

/* Decides whether this creation attempt is an injected failure, advancing
 * the fault-injection counters. */
static int fault_fires(kiln_pool *pool)
{
    if (pool->fault_count == 0)
        return 0;
    if (pool->fault_skip > 0) {
        pool->fault_skip--;
        return 0;
    }
    pool->fault_count--;
    return 1;
}

/* One creation attempt: creates a buffer of `capacity` bytes and touches
 * it (a one-byte fill, then clFinish).  Returns CL_SUCCESS and *mem, or
 * the OpenCL error with nothing left allocated; *injected tells whether
 * the failure was injected. */
static cl_int buffer_create(kiln_pool *pool, size_t capacity, cl_mem *mem, int *injected)
{
    static const cl_uchar zero = 0;
    cl_mem created;
    cl_int err;

    *mem = NULL;
    *injected = fault_fires(pool);
    if (*injected)
        return CL_MEM_OBJECT_ALLOCATION_FAILURE;
    created = clCreateBuffer(pool->context, CL_MEM_READ_WRITE, capacity, NULL, &err);
    if (err != CL_SUCCESS)
        return err;
    if (!created)
        return CL_MEM_OBJECT_ALLOCATION_FAILURE;
    pool->ledger.creations++;
    err = clEnqueueFillBuffer(pool->queue, created, &zero, sizeof(zero), 0, sizeof(zero),
                              0, NULL, NULL);
    if (err == CL_SUCCESS)
        err = clFinish(pool->queue);
    if (err != CL_SUCCESS)
        goto out_release_created;
    *mem = created;
    return CL_SUCCESS;

out_release_created:
    (void)clReleaseMemObject(created);
    pool->ledger.releases++;
    return err;
}

/* Tells whether an OpenCL error means "out of memory" (KILN_E_NOMEM). */
static int cl_error_is_memory(cl_int err)
{
    return err == CL_MEM_OBJECT_ALLOCATION_FAILURE || err == CL_OUT_OF_RESOURCES ||
           err == CL_OUT_OF_HOST_MEMORY || err == CL_INVALID_BUFFER_SIZE;
}

/* Sets the "cannot serve" message: request, tag, reason and the ledger.
 * Returns `status`. */
static kiln_status fail_request(const kiln_pool *pool, kiln_status status, size_t bytes,
                                const char *tag, const char *reason)
{
    char ledger_text[POOL_LEDGER_TEXT];
    char size_text[32];

    pool_ledger_format(&pool->ledger, ledger_text, sizeof(ledger_text));
    bytes_format(bytes, size_text, sizeof(size_text));
    return kiln_fail(status, "pool: cannot serve %zu bytes (%s) for \"%s\": %s; ledger: %s",
                     bytes, size_text, tag, reason, ledger_text);
}

/* Serves a miss: makes room under the cap (trimming LRU-first), then
 * creates and touches a new buffer, freeing the cache and retrying once on
 * failure.  Returns KILN_OK and *out (on no list), or an error with the
 * message set. */
static kiln_status entry_create(kiln_pool *pool, size_t bytes, size_t capacity, int cls,
                                const char *tag, pool_entry **out)
{
    pool_ledger *l = &pool->ledger;
    char reason[512], a[32], b[32], c[32];
    pool_entry *entry;
    cl_mem mem = NULL;
    cl_int err;
    int injected = 0;
    kiln_status status;

    if (capacity > l->budget - l->live_bytes) {
        bytes_format(capacity, a, sizeof(a));
        bytes_format(l->live_bytes, b, sizeof(b));
        bytes_format(l->budget, c, sizeof(c));
        snprintf(reason, sizeof(reason),
                 "a new %s buffer and the %s live would exceed the budget of %s", a, b, c);
        return fail_request(pool, KILN_E_NOMEM, bytes, tag, reason);
    }
    while (l->cached_bytes > l->budget - l->live_bytes - capacity)
        cache_trim_oldest(pool);

    entry = kiln_calloc(1, sizeof(*entry));
    if (!entry)
        return fail_request(pool, KILN_E_HOSTMEM, bytes, tag, "out of host memory");

    err = buffer_create(pool, capacity, &mem, &injected);
    if (err != CL_SUCCESS) {
        cache_release_all(pool);
        l->retries++;
        err = buffer_create(pool, capacity, &mem, &injected);
    }
    if (err != CL_SUCCESS) {
        bytes_format(capacity, a, sizeof(a));
        snprintf(reason, sizeof(reason),
                 "creating a %s buffer failed: %s (%d)%s, again after freeing the cache",
                 a, kiln_cl_error_name(err), (int)err, injected ? " [injected fault]" : "");
        status = fail_request(pool, cl_error_is_memory(err) ? KILN_E_NOMEM : KILN_E_CL,
                              bytes, tag, reason);
        goto out_free_entry;
    }

    entry->buf.mem = mem;
    entry->buf.capacity = capacity;
    entry->owner = pool;
    entry->size_class = cls;
    *out = entry;
    return KILN_OK;

out_free_entry:
    kiln_free(entry);
    return status;
}

/* pool_acquire with the lock held and the arguments checked. */
static kiln_status acquire_locked(kiln_pool *pool, size_t bytes, const char *tag,
                                  pool_buffer **out)
{
    pool_buffer *head;
    pool_entry *entry = NULL;
    size_t capacity;
    int cls;

    if (bytes == 0)
        return kiln_fail(KILN_E_INVAL, "pool: zero-byte request for \"%s\"", tag);
    if (bytes > pool->limit) {
        char reason[256], a[32];
        if (bytes > pool->ledger.budget) {
            bytes_format(pool->ledger.budget, a, sizeof(a));
            snprintf(reason, sizeof(reason), "larger than the whole budget of %s", a);
        } else {
            bytes_format(pool->max_alloc, a, sizeof(a));
            snprintf(reason, sizeof(reason),
                     "larger than the device's maximum allocation of %s", a);
        }
        return fail_request(pool, KILN_E_NOMEM, bytes, tag, reason);
    }
    cls = size_class(bytes, &capacity);
    if (capacity > pool->limit)
        capacity = pool->limit;

    head = pool->cache[cls];
    if (head) {
        entry = entry_of(head);
        assert(entry->buf.capacity >= bytes);
        cache_unlink(pool, entry);
        pool->ledger.hits++;
    } else {
        kiln_status status;
        pool->ledger.misses++;
        status = entry_create(pool, bytes, capacity, cls, tag, &entry);
        if (status != KILN_OK)
            return status;
    }
    live_add(pool, entry, bytes, tag_slot(pool, tag));
    *out = &entry->buf;
    return KILN_OK;
}

/* Serves a buffer of at least `bytes` under `tag` (see pool.h). */
kiln_status pool_acquire(kiln_pool *pool, size_t bytes, const char *tag, pool_buffer **out)
{
    kiln_status status;

    if (out)
        *out = NULL;
    if (!pool || !out)
        return kiln_fail(KILN_E_INVAL, "pool_acquire: NULL %s", pool ? "out" : "pool");
    if (!tag || !*tag)
        tag = "untagged";
    pthread_mutex_lock(&pool->lock);
    status = acquire_locked(pool, bytes, tag, out);
    if (status != KILN_OK)
        pool->ledger.failures++;
    pool_check(pool);
    pthread_mutex_unlock(&pool->lock);
    return status;
}

/* Gives a live buffer back to the cache (see pool.h). */
void pool_release(kiln_pool *pool, pool_buffer *buffer)
{
    pool_entry *entry;

    if (!pool || !buffer)
        return;
    entry = entry_of(buffer);
    pthread_mutex_lock(&pool->lock);
    assert(entry->owner == pool);
    live_remove(pool, entry);
    cache_put(pool, entry);
    pool_check(pool);
    pthread_mutex_unlock(&pool->lock);
}

/* Copies the ledger out under the lock. */
void pool_ledger_get(kiln_pool *pool, pool_ledger *out)
{
    if (!pool || !out)
        return;
    pthread_mutex_lock(&pool->lock);
    *out = pool->ledger;
    pthread_mutex_unlock(&pool->lock);
}

/* Arms fault injection for creation attempts nth .. nth + count - 1. */
void pool_fail_creations(kiln_pool *pool, uint64_t nth, uint64_t count)
{
    if (!pool)
        return;
    pthread_mutex_lock(&pool->lock);
    if (nth == 0 || count == 0) {
        pool->fault_skip = 0;
        pool->fault_count = 0;
    } else {
        pool->fault_skip = nth - 1;
        pool->fault_count = count;
    }
    pthread_mutex_unlock(&pool->lock);
}

/* Fails the nth creation attempt from now and its retry. */
void pool_fail_nth_creation(kiln_pool *pool, uint64_t nth)
{
    pool_fail_creations(pool, nth, POOL_FAIL_WITH_RETRY);
}

/* Parses a decimal uint64 from [*p, ...) up to a non-digit, advancing *p.
 * Returns 0 on success, -1 when there is no digit or it overflows. */
static int parse_u64(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t value = 0;

    if (*s < '0' || *s > '9')
        return -1;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned digit = (unsigned)(*s - '0');
        if (value > (UINT64_MAX - digit) / 10)
            return -1;
        value = value * 10 + digit;
    }
    *p = s;
    *out = value;
    return 0;
}

/* Parses a fault specification "N" or "N,COUNT" into *nth and *count
 * (COUNT defaults to POOL_FAIL_WITH_RETRY, as pool_fail_nth_creation).
 * Returns 0, or -1 on anything else. */
static int fault_spec_parse(const char *text, uint64_t *nth, uint64_t *count)
{
    const char *p = text;

    *count = POOL_FAIL_WITH_RETRY;
    if (parse_u64(&p, nth) != 0)
        return -1;
    if (*p == ',') {
        p++;
        if (parse_u64(&p, count) != 0)
            return -1;
    }
    return *p == '\0' ? 0 : -1;
}

/* Arms fault injection from KILN_FAULT_POOL_CREATE ("N" or "N,COUNT", as
 * pool_fail_nth_creation or pool_fail_creations); unset or empty leaves
 * it off, as do N 0 or COUNT 0.  Returns
 * KILN_E_CONFIG on a malformed value. */
static kiln_status fault_from_env(kiln_pool *pool)
{
    const char *text = getenv(POOL_ENV_FAULT);
    uint64_t nth = 0, count = 0;

    if (!text || !*text)
        return KILN_OK;
    if (fault_spec_parse(text, &nth, &count) != 0)
        return kiln_fail(KILN_E_CONFIG, "%s=\"%s\": expected N or N,COUNT (decimal)",
                         POOL_ENV_FAULT, text);
    if (nth > 0 && count > 0) {
        pool->fault_skip = nth - 1;
        pool->fault_count = count;
    }
    return KILN_OK;
}

/* Creates a pool over context/queue with a hard cap (see pool.h). */
kiln_status pool_init(kiln_pool **out, cl_context context, cl_command_queue queue,
                      size_t budget)
{
    kiln_pool *pool;
    cl_context queue_context = NULL;
    cl_device_id device = NULL;
    cl_ulong max_alloc = 0;
    cl_int err;
    kiln_status status;

    if (!out)
        return kiln_fail(KILN_E_INVAL, "pool_init: NULL out");
    *out = NULL;
    if (!context || !queue || budget == 0)
        return kiln_fail(KILN_E_INVAL, "pool_init: %s",
                         budget == 0 ? "zero budget" : "NULL context or queue");
    err = clGetCommandQueueInfo(queue, CL_QUEUE_CONTEXT, sizeof(queue_context),
                                &queue_context, NULL);
    if (err != CL_SUCCESS)
        return kiln_fail_cl(err, "pool_init: clGetCommandQueueInfo(CL_QUEUE_CONTEXT)");
    if (queue_context != context)
        return kiln_fail(KILN_E_INVAL, "pool_init: the queue belongs to another context");
    err = clGetCommandQueueInfo(queue, CL_QUEUE_DEVICE, sizeof(device), &device, NULL);
    if (err != CL_SUCCESS)
        return kiln_fail_cl(err, "pool_init: clGetCommandQueueInfo(CL_QUEUE_DEVICE)");
    err = clGetDeviceInfo(device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof(max_alloc),
                          &max_alloc, NULL);
    if (err != CL_SUCCESS)
        return kiln_fail_cl(err, "pool_init: clGetDeviceInfo(CL_DEVICE_MAX_MEM_ALLOC_SIZE)");

    pool = kiln_calloc(1, sizeof(*pool));
    if (!pool)
        return kiln_fail(KILN_E_HOSTMEM, "pool_init: out of host memory");
    status = fault_from_env(pool);
    if (status != KILN_OK)
        goto out_free_pool;
    if (pthread_mutex_init(&pool->lock, NULL) != 0) {
        status = kiln_fail(KILN_E_HOSTMEM, "pool_init: cannot create the mutex");
        goto out_free_pool;
    }
    err = clRetainContext(context);
    if (err != CL_SUCCESS) {
        status = kiln_fail_cl(err, "pool_init: clRetainContext");
        goto out_destroy_lock;
    }
    err = clRetainCommandQueue(queue);
    if (err != CL_SUCCESS) {
        status = kiln_fail_cl(err, "pool_init: clRetainCommandQueue");
        goto out_release_context;
    }
    pool->context = context;
    pool->queue = queue;
    pool->max_alloc = max_alloc > (cl_ulong)SIZE_MAX ? SIZE_MAX : (size_t)max_alloc;
    pool->limit = budget;
    if (pool->limit > pool->max_alloc)
        pool->limit = pool->max_alloc;
    if (pool->limit > POOL_MAX_CLASS)
        pool->limit = POOL_MAX_CLASS;
    pool->ledger.budget = budget;
    *out = pool;
    return KILN_OK;

out_release_context:
    (void)clReleaseContext(context);
out_destroy_lock:
    pthread_mutex_destroy(&pool->lock);
out_free_pool:
    kiln_free(pool);
    return status;
}

/* Sets the KILN_E_LEAK message naming every live tag with its count and
 * bytes; the caller holds the lock.  Returns KILN_E_LEAK. */
static kiln_status fail_leak(const kiln_pool *pool)
{
    const pool_ledger *l = &pool->ledger;
    char text[POOL_LEDGER_TEXT];
    size_t pos = 0, i, shown = 0;

    text[0] = '\0';
    for (i = 0; i < l->ntags && i < POOL_TAG_MAX; i++) {
        const pool_tag_stats *t = &l->tags[i];
        if (t->live_objects == 0)
            continue;
        text_append(text, sizeof(text), &pos, "%s%s x%zu (%zu bytes)", shown ? ", " : "",
                    t->tag, t->live_objects, t->live_bytes);
        shown++;
    }
    return kiln_fail(KILN_E_LEAK, "pool closed with %zu live buffer%s: %s", l->live_objects,
                     l->live_objects == 1 ? "" : "s", text);
}

/* Releases the cache, then any live buffer (reporting it), then the pool
 * (see pool.h). */
kiln_status pool_free(kiln_pool *pool)
{
    kiln_status status = KILN_OK;

    if (!pool)
        return KILN_OK;
    pthread_mutex_lock(&pool->lock);
    cache_release_all(pool);
    if (pool->ledger.live_objects > 0) {
        status = fail_leak(pool);
        while (pool->live) {
            pool_entry *entry = entry_of(pool->live);
            live_remove(pool, entry);
            entry_destroy(pool, entry);
        }
    }
    pool_check(pool);
    pthread_mutex_unlock(&pool->lock);
    pthread_mutex_destroy(&pool->lock);
    (void)clReleaseCommandQueue(pool->queue);
    (void)clReleaseContext(pool->context);
    kiln_free(pool);
    return status;
}
