/* The device buffer pool: the only code that creates or releases cl_mem.
 *
 * Buffers are served by size class: up to 4 KiB, multiples of 256 bytes
 * (16 classes); above 4 KiB, each power-of-two range (2^k, 2^(k+1)] is
 * split into four steps of 2^k / 4, so waste is at most 25%.  A buffer's
 * capacity is its class size, clamped to the largest request the pool can
 * serve at all (min(budget, the device's CL_DEVICE_MAX_MEM_ALLOC_SIZE)):
 * every request of a class fits every cached buffer of that class.
 * Released buffers stay cached for reuse (a hit serves the most recently
 * released buffer of the class); live + cached bytes never exceed the
 * budget: a request that would cross it first trims cached buffers, least
 * recently used first.  New buffers are touched (a one-byte fill and a
 * clFinish) at acquire so that drivers that allocate lazily fail here
 * rather than at a later enqueue.  On a creation failure the pool frees
 * its whole cache and retries once, then returns KILN_E_NOMEM with the
 * ledger in the message.
 *
 * A pool is used by one worker thread at a time; it takes a mutex so that
 * reports may read the ledger from another thread. */
#ifndef KILN_POOL_H
#define KILN_POOL_H

#include <stddef.h>
#include <stdint.h>
#include <CL/cl.h>

#include "kiln.h"

#define POOL_TAG_MAX 32     /* tag slots per pool: the first 31 distinct
                               tags, then one "other" for every later one */
#define POOL_TAG_LEN 48     /* longest tag name kept */

typedef struct kiln_pool kiln_pool;

/* A buffer handed out by the pool.  `mem` holds at least `bytes` bytes
 * (its real size is `capacity`).  Owned by whoever acquired it until it is
 * given back with pool_release. */
typedef struct pool_buffer {
    cl_mem mem;
    size_t bytes;
    size_t capacity;
    int tag_index;           /* index into the ledger's tag table */
    uint64_t last_use;       /* LRU clock when cached */
    struct pool_buffer *next; /* cache / live list link (pool-private) */
    struct pool_buffer *prev;
} pool_buffer;

/* Live objects and bytes for one tag. */
typedef struct pool_tag_stats {
    char tag[POOL_TAG_LEN];
    size_t live_objects;
    size_t live_bytes;
    size_t peak_bytes;
} pool_tag_stats;

/* The pool's accounting, copied out by pool_ledger_get. */
typedef struct pool_ledger {
    size_t budget;           /* hard cap: live + cached <= budget */
    size_t live_objects;
    size_t live_bytes;       /* capacity bytes handed out */
    size_t peak_bytes;       /* highest live + cached */
    size_t peak_live_bytes;
    size_t cached_objects;
    size_t cached_bytes;
    uint64_t hits;           /* acquires served from the cache */
    uint64_t misses;         /* acquires that needed a new buffer */
    uint64_t creations;      /* buffers created on the device */
    uint64_t releases;       /* device buffers released */
    uint64_t trims;          /* cached buffers released to respect the cap,
                                or to free the cache before a retry */
    uint64_t retries;        /* creations retried after freeing the cache */
    uint64_t failures;       /* acquires that returned an error */
    size_t ntags;
    pool_tag_stats tags[POOL_TAG_MAX];
} pool_ledger;

/* Creates a pool over `context`, touching new buffers through `queue`,
 * with a hard cap of `budget` bytes (> 0).  Returns KILN_OK and *out, or an
 * error with nothing allocated. */
kiln_status pool_init(kiln_pool **out, cl_context context,
                      cl_command_queue queue, size_t budget);

/* Serves a buffer of at least `bytes` (> 0) bytes, accounted under `tag`
 * (a short name such as "image.rgba8", copied, truncated to POOL_TAG_LEN - 1
 * characters; NULL or "" means "untagged").  Returns KILN_OK and *out,
 * KILN_E_NOMEM when the cap or the device cannot serve it (the message
 * carries the request size, the tag and the ledger), KILN_E_INVAL for a
 * zero size, KILN_E_HOSTMEM when host memory runs out, KILN_E_CL when
 * creating or touching the buffer fails twice with an OpenCL error that
 * is not about memory.  On error *out is NULL and the ledger counts a
 * failure.  Holds the pool's mutex through the creation and its touch. */
kiln_status pool_acquire(kiln_pool *pool, size_t bytes, const char *tag,
                         pool_buffer **out);

/* Gives a buffer back; it is cached for reuse under the global LRU order.
 * Caching never crosses the cap: live + cached bytes do not change.  The
 * buffer must be live and from this pool.  NULL is ignored. */
void pool_release(kiln_pool *pool, pool_buffer *buffer);

/* Copies the ledger out (thread-safe). */
void pool_ledger_get(kiln_pool *pool, pool_ledger *out);

/* Fault injection, for tests.  Creation attempts are counted from this
 * call on: every attempt to create a new buffer (a cache miss that fits
 * the cap) is one, and so is the retry after a failed attempt.  Hits and
 * requests refused by the cap are not attempts.  Attempts nth .. nth +
 * count - 1 (nth 1-based) fail as CL_MEM_OBJECT_ALLOCATION_FAILURE
 * without asking the driver, and are handled as real failures: the
 * cache is freed and the pool retries once (ledger.retries + 1).  As no
 * attempt fails before the nth, attempt nth is the first attempt of the
 * nth acquire that needs a new buffer.  count 1 fails that attempt only:
 * its retry (attempt nth + 1) succeeds and so does the acquire.  count 2
 * fails the retry too: that acquire returns KILN_E_NOMEM (ledger.failures
 * + 1), and later attempts succeed.  A larger count keeps failing later
 * attempts.  nth 0 or count 0 turns injection off; a call replaces the
 * previous setting. */
void pool_fail_creations(kiln_pool *pool, uint64_t nth, uint64_t count);

/* Makes the nth buffer creation from now fail, retry included, so that
 * the acquire that needs it returns KILN_E_NOMEM: the same as
 * pool_fail_creations(pool, nth, 2).  0 turns injection off.  The
 * environment variable KILN_FAULT_POOL_CREATE, read by pool_init, does
 * the same for command-line tests: "N" is pool_fail_nth_creation(pool, N),
 * "N,COUNT" is pool_fail_creations(pool, N, COUNT); a malformed value
 * makes pool_init fail with KILN_E_CONFIG. */
void pool_fail_nth_creation(kiln_pool *pool, uint64_t nth);

/* Returns the capacity of the size class serving `bytes` (before the
 * clamp to the pool's limit), or 0 for 0 or for a size above the largest
 * class (half the address space). */
size_t pool_class_capacity(size_t bytes);

/* Writes a one-line summary of the ledger (live objects per tag first)
 * into buf. */
void pool_ledger_format(const pool_ledger *ledger, char *buf, size_t len);

/* Releases every cached buffer and frees the pool.  Returns KILN_OK, or
 * KILN_E_LEAK when live buffers remain, with a message naming each live
 * tag and its count ("pool closed with 3 live buffers: image.rgba8 x2
 * (8192 bytes), weights x1 (4096 bytes)"); the live buffers are then
 * released too so that the device is left clean (the callers' pool_buffer
 * pointers become invalid). NULL is a no-op returning KILN_OK. */
kiln_status pool_free(kiln_pool *pool);

#endif
