/* The bounded, lazily decoding input queue.
 *
 * One producer thread walks a list of PNG paths in order.  For each it
 * reads the header (png_read_header) to learn the decoded size, waits
 * until that fits the bounds, then decodes the file (png_read_file) and
 * queues the item.  Any number of consumer threads pop items in list
 * order; a single consumer sees indices 0, 1, 2, ...
 *
 * Bounds.  The queue counts every item it decoded that has not been given
 * back with prefetch_item_free: those waiting in the queue and those held
 * by consumers.  At most max_items such items exist, holding at most
 * max_bytes bytes of pixels; an item larger than max_bytes on its own is
 * still decoded when no other item is out, so a big image never
 * deadlocks the queue.  Decoding happens only in the producer and only
 * when there is room, so a list of 100000 paths never holds more than
 * max_items decoded images.  Because held items count, a consumer that
 * keeps k items while it pops the next one needs max_items > k.
 *
 * Failures.  A file that cannot be read or decoded becomes an item whose
 * `status` is not KILN_OK, with the message in `message` and an empty
 * image; the other items are unaffected.
 *
 * Threads.  prefetch_pop, prefetch_item_free, prefetch_stop and
 * prefetch_stats may be called from any thread; prefetch_start and
 * prefetch_free from the owning thread. */
#ifndef KILN_PREFETCH_H
#define KILN_PREFETCH_H

#include <stddef.h>
#include <stdint.h>

#include "image.h"
#include "kiln.h"

#define PREFETCH_MESSAGE_MAX 1024

/* One input, decoded or failed.  Owned by the consumer that popped it
 * until prefetch_item_free; the queue owns it before and after. */
typedef struct prefetch_item {
    size_t index;                        /* position in the path list */
    const char *path;                    /* borrowed from the path list */
    host_image image;                    /* pixels when status == KILN_OK, else zeroed */
    kiln_status status;                  /* KILN_OK or why this input failed */
    char message[PREFETCH_MESSAGE_MAX];  /* the error message; "" when OK */
    double decode_ms;                    /* header read + decode, milliseconds */
} prefetch_item;

typedef struct prefetch_queue prefetch_queue;

/* Starts a queue over paths[0..count) (borrowed: they must outlive the
 * queue) and its producer thread.  max_items >= 1 (values above count are
 * lowered to count); max_bytes 0 means no byte bound; max_pixels is passed
 * to the decoder (0: PNG_DEFAULT_MAX_PIXELS).  count 0 gives a queue whose
 * first pop returns NULL.  Returns KILN_E_INVAL for bad arguments,
 * KILN_E_HOSTMEM when memory or the thread cannot be had; *out is NULL on
 * error. */
kiln_status prefetch_start(prefetch_queue **out, const char *const *paths, size_t count,
                           size_t max_items, size_t max_bytes, uint64_t max_pixels);

/* Blocks until an item is ready and hands it to the caller, who must give
 * it back with prefetch_item_free.  Returns NULL when every item has been
 * handed out or the queue was stopped. */
prefetch_item *prefetch_pop(prefetch_queue *q);

/* Frees the item's pixels and returns its slot and bytes to the queue,
 * which may then decode the next input.  NULL is a no-op.  Every popped
 * item must be freed before prefetch_free. */
void prefetch_item_free(prefetch_queue *q, prefetch_item *item);

/* Stops the queue early: the producer decodes nothing more (a decode in
 * progress is finished and dropped), items waiting in the queue are freed,
 * and every prefetch_pop, blocked or later, returns NULL.  Items already
 * popped stay valid until freed.  Safe to call more than once. */
void prefetch_stop(prefetch_queue *q);

/* The most items and the most pixel bytes that were out at once (queued
 * or held by consumers).  Either pointer may be NULL. */
void prefetch_stats(prefetch_queue *q, size_t *peak_items, size_t *peak_bytes);

/* Stops the queue, joins the producer thread and frees everything,
 * including the pixels of any item a consumer failed to give back (its
 * pointer is invalid afterwards).  NULL is a no-op. */
void prefetch_free(prefetch_queue *q);

#endif
