/* The bounded cache of decoded images: least recently used images, keyed
 * by path, under a byte cap (the pixels of the images it holds).
 *
 * An image is handed out pinned: it stays valid, and is never evicted,
 * until its holder gives it back with image_cache_unpin.  A get that
 * misses reads the file (image_read_file: PNG or JPEG) outside the lock,
 * then evicts the least recently used unpinned images until the cache is
 * within its cap again; only pinned images can keep it above the cap.
 * One image larger than the cap on its own is still returned (the cache
 * then holds only it while it is pinned) and evicted at its unpin.  A cap
 * of 0 keeps nothing unpinned: a get of an image nobody holds reads it,
 * and the last unpin frees it.  Several
 * threads getting the same path while it is read wait for that read
 * instead of reading it again.  Every function is thread-safe. */
#ifndef KILN_IMAGE_CACHE_H
#define KILN_IMAGE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "image.h"
#include "kiln.h"

typedef struct image_cache image_cache;

/* Creates a cache holding at most max_bytes of pixels (0: none kept),
 * reading images of at most max_pixels pixels (0: the readers' default).
 * Returns KILN_E_INVAL or KILN_E_HOSTMEM; *out is NULL on error. */
kiln_status image_cache_init(image_cache **out, size_t max_bytes, uint64_t max_pixels);

/* Returns in *out the decoded image of `path`, pinned: the caller must
 * give it back with image_cache_unpin.  A miss reads the file; a failed
 * read returns its status with a message naming the file (and caches
 * nothing, so a later get reads again).  *out is NULL on error. */
kiln_status image_cache_get(image_cache *c, const char *path, const host_image **out);

/* Gives back one pin of an image from image_cache_get; an image no longer
 * pinned may be evicted (at once when the cache is over its cap).  NULL
 * is a no-op. */
void image_cache_unpin(image_cache *c, const host_image *img);

/* The pixel bytes and images held now (pinned ones included), and the
 * gets that found their image (or waited for another thread's read of
 * it) and those that read it.  Any pointer may be NULL. */
void image_cache_stats(const image_cache *c, size_t *bytes, size_t *images, uint64_t *hits,
                       uint64_t *misses);

/* Frees every image and the cache.  A pinned image at this point is a
 * programming error (an assertion in debug builds); it is freed anyway.
 * NULL is a no-op. */
void image_cache_free(image_cache *c);

#endif
