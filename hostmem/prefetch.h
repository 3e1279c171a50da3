/* The bounded, lazily loading input queue.
 *
 * One producer thread walks a list of paths in order.  For each it asks
 * the item loader to measure the item (headers only: the bytes the loaded
 * item will hold), waits until that fits the bounds, then asks the loader
 * to load it and queues the item.  Any number of consumer threads pop
 * items in list order; a single consumer sees indices 0, 1, 2, ...
 *
 * Loaders.  What an item is belongs to the loader, a method table the
 * caller builds (prefetch_loaders.h has an image and an image with its
 * mask; later kinds add scenes and views): measure, load, and an optional
 * release for what load keeps beyond the two images (the payload).
 *
 * Bounds.  The queue counts every item it loaded that has not been given
 * back with prefetch_item_free: those waiting in the queue and those held
 * by consumers.  At most max_items such items exist, holding at most
 * max_bytes bytes: everything measure reports (image, mask, payload); once
 * loaded, an item is charged its real size (image + mask + payload_bytes).
 * An item larger than max_bytes on its own is still loaded when no other
 * item is out, so a big image never deadlocks the queue.  Loading happens
 * only in the producer and only when there is room, so a list of 100000
 * paths never holds more than max_items loaded items.  Because held items
 * count, a consumer that keeps k items while it pops the next one needs
 * max_items > k.
 *
 * Failures.  An input whose measure or load fails becomes an item whose
 * `status` is not KILN_OK, with the message in `message` and empty images
 * (the queue frees whatever a failed load left); the other items are
 * unaffected.
 *
 * Threads.  prefetch_pop, prefetch_item_free, prefetch_stop and
 * prefetch_stats may be called from any thread; prefetch_start and
 * prefetch_free from the owning thread.  measure and load run on the
 * producer thread, release on the thread that frees the item; none runs
 * under the queue's lock. */
#ifndef KILN_PREFETCH_H
#define KILN_PREFETCH_H

#include <stddef.h>
#include <stdint.h>

#include "image.h"
#include "kiln.h"

#define PREFETCH_MESSAGE_MAX 1024

/* One input, loaded or failed.  Owned by the consumer that popped it
 * until prefetch_item_free; the queue owns it before and after. */
typedef struct prefetch_item {
    size_t index;                        /* position in the path list */
    const char *path;                    /* borrowed from the path list */
    host_image image;                    /* pixels when status == KILN_OK, else zeroed */
    host_image mask;                     /* the loader's second image (a mask);
                                          * zeroed when it loads none */
    void *payload;                       /* anything else the loader keeps (a scene,
                                          * a view): owned by the loader's release */
    size_t payload_bytes;                /* bytes the payload holds, set by load;
                                          * charged against max_bytes */
    kiln_status status;                  /* KILN_OK or why this input failed */
    char message[PREFETCH_MESSAGE_MAX];  /* the error message; "" when OK */
    double decode_ms;                    /* measure + load, milliseconds */
} prefetch_item;

typedef struct prefetch_loader prefetch_loader;

/* The file of an input's mask: writes its path into buf (len bytes) for
 * the input at input_path.  Returns KILN_OK, or a status and message when
 * there is none (the item then fails with it). */
typedef kiln_status (*prefetch_mask_path_fn)(const void *mask_user, const char *input_path,
                                             char *buf, size_t len);

/* An item loader: a method table with its settings, built and kept by
 * the caller as a plain value (prefetch_start copies it).  Every method
 * gets the queue's copy of the loader, so a loader reaches its settings
 * through it: `user` for a caller's own loader, `images` for the image
 * loaders of prefetch_loaders.h.  No method may call back into the
 * queue. */
struct prefetch_loader {
    /* Reads only what it needs (headers) to learn the bytes the loaded
     * item will hold (images, mask, payload) into *bytes.  A failure
     * fails the item: load and release are not called for it. */
    kiln_status (*measure)(const prefetch_loader *loader, size_t index, const char *path,
                           size_t *bytes);
    /* Fills item->image, and item->mask, item->payload and
     * item->payload_bytes as the loader does (the item arrives zeroed,
     * with index and path set).  On failure it returns the status with
     * the message set; what it had filled is still freed (images by the
     * queue, the payload by release). */
    kiln_status (*load)(const prefetch_loader *loader, size_t index, const char *path,
                        prefetch_item *item);
    /* Optional (NULL: nothing to release): frees what load kept beyond
     * image and mask.  Called exactly once for every item load was called
     * for: right after a failed load (on the producer thread), otherwise
     * when the item is freed, by prefetch_item_free, dropped by
     * prefetch_stop or by prefetch_free.  The queue frees the images
     * afterwards and zeroes payload and payload_bytes. */
    void (*release)(const prefetch_loader *loader, prefetch_item *item);
    void *user;                          /* the loader's own data; borrowed */
    struct {
        uint64_t max_pixels;             /* pixel limit per image (0: default) */
        prefetch_mask_path_fn mask_path; /* names an input's mask file */
        const void *mask_user;           /* for mask_path; borrowed */
        const char *mask_noun;           /* "mask" or "trimap": messages say
                                          * "<noun> file: PATH: ..." */
    } images;                            /* settings of the image loaders */
};

typedef struct prefetch_queue prefetch_queue;

/* Starts a queue over paths[0..count) (borrowed: they must outlive the
 * queue) and its producer thread, loading each item with a copy of
 * *loader (what its user and mask_user point to is borrowed and must
 * outlive the queue).  max_items >= 1 (values above count are lowered to
 * count); max_bytes 0 means no byte bound.  count 0 gives a queue whose
 * first pop returns NULL.  Returns KILN_E_INVAL for bad arguments (a
 * loader without measure or load among them), KILN_E_HOSTMEM when memory
 * or the thread cannot be had; *out is NULL on error. */
kiln_status prefetch_start(prefetch_queue **out, const char *const *paths, size_t count,
                           const prefetch_loader *loader, size_t max_items, size_t max_bytes);

/* Blocks until an item is ready and hands it to the caller, who must give
 * it back with prefetch_item_free.  Returns NULL when every item has been
 * handed out or the queue was stopped. */
prefetch_item *prefetch_pop(prefetch_queue *q);

/* Releases the item (the loader's release, then its images) and returns
 * its slot and bytes to the queue, which may then load the next input.
 * NULL is a no-op.  Every popped item should be freed before
 * prefetch_free (which frees the forgotten ones). */
void prefetch_item_free(prefetch_queue *q, prefetch_item *item);

/* Stops the queue early: the producer loads nothing more (a load in
 * progress is finished and dropped, released like any item), items
 * waiting in the queue are released and freed, and every prefetch_pop,
 * blocked or later, returns NULL.  Items already popped stay valid until
 * freed.  Safe to call more than once. */
void prefetch_stop(prefetch_queue *q);

/* The most items and the most bytes (as charged: see Bounds) that were
 * out at once (queued or held by consumers).  Either pointer may be
 * NULL. */
void prefetch_stats(prefetch_queue *q, size_t *peak_items, size_t *peak_bytes);

/* Stops the queue, joins the producer thread and frees everything,
 * including any item a consumer failed to give back (released through the
 * loader; its pointer is invalid afterwards).  NULL is a no-op. */
void prefetch_free(prefetch_queue *q);

#endif
