/* The per-device resident cache: objects that live on a device across
 * items and jobs (network weights and arenas now, splat scenes later),
 * shared by key and reference counted.  The device core knows nothing of
 * what they are: each entry is a key, an object and the function that
 * frees it.
 *
 * resident_acquire returns the object for a key, building it on a miss,
 * and counts a reference; resident_release gives it back.  An object
 * nobody holds stays cached for the next acquire.  When a build fails
 * with KILN_E_NOMEM (the pool could not serve), objects nobody holds are
 * freed least recently used first and the build is retried, until it
 * succeeds or nothing more can be evicted; held objects are never
 * evicted.  The cache is freed by device_close, before the pool; an
 * object still held then is KILN_E_LEAK naming its key.
 *
 * One worker uses a device at a time: not thread-safe. */
#ifndef KILN_RESIDENT_H
#define KILN_RESIDENT_H

#include <stddef.h>

#include "kiln.h"

typedef struct kiln_device kiln_device;
typedef struct resident_cache resident_cache;

/* Builds the object of a key on `dev` into *object; `user` is the
 * acquire call's.  Returns KILN_OK, KILN_E_NOMEM when device memory ran
 * out (the cache then evicts and retries), or another error (returned as
 * is).  On error nothing may stay allocated. */
typedef kiln_status (*resident_build_fn)(kiln_device *dev, void *user, void **object);

/* Frees an object the cache built. */
typedef void (*resident_free_fn)(void *object);

/* Creates an empty cache.  KILN_E_HOSTMEM on failure. */
kiln_status resident_cache_init(resident_cache **out);

/* Returns in *out the object cached under `key` (at most
 * RESIDENT_KEY_MAX - 1 bytes) or the one `build` makes, with one more
 * reference.  `free_fn` is kept with a new entry.  On error *out is NULL
 * and the message is the build's. */
kiln_status resident_acquire(kiln_device *dev, const char *key, resident_build_fn build,
                             resident_free_fn free_fn, void *user, void **out);

#define RESIDENT_KEY_MAX 4352

/* Gives back one reference to `object` (acquired from dev's cache); the
 * object stays cached.  NULL is a no-op. */
void resident_release(kiln_device *dev, const void *object);

/* Frees the least recently used object nobody holds.  Returns 1 when one
 * was freed, 0 when every object is held (or the cache is empty). */
int resident_evict_one(kiln_device *dev);

/* Number of cached objects and, in *held, of those with references. */
size_t resident_count(const kiln_device *dev, size_t *held);

/* Frees every object and the cache.  Returns KILN_E_LEAK naming the first
 * object still held (with its reference count), after freeing all of
 * them anyway; KILN_OK otherwise.  NULL is a no-op. */
kiln_status resident_cache_free(resident_cache *cache);

#endif
