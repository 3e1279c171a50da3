/* The training images of a trainer, streamed: what it calls each
 * iteration to have the image of the view it is about to fit.
 *
 * It owns an image cache (image_cache.h) under a byte cap and a producer
 * thread that reads ahead the next `ahead` views of the trainer's view
 * order (view_order_peek) into the cache, so that decoding the image of
 * iteration i+1 overlaps the device work of iteration i.  Every image the
 * producer has read ahead stays pinned until the trainer gets it (or the
 * order moves past it), so a read-ahead image is never evicted before it
 * is used.  A get of a view that is planned but not yet read waits for
 * the producer rather than decoding it a second time alongside it.
 * Bounds: the cache's cap (or, when more are pinned, the `ahead` pinned
 * read-ahead images and the images the trainer holds), plus one read in
 * progress (two when the trainer gets a view that was not read ahead).
 *
 * Threads.  The view order is borrowed and read (peeked) only by
 * train_images_init and train_images_get, on the trainer's thread, which
 * is also the one that takes views from it (view_order_next): the producer
 * never touches it.  train_images_get and train_images_release are called
 * from that one thread.
 *
 * Failures.  A view whose image cannot be read fails the get of that view
 * alone, with the reader's message naming the file; the stream goes on. */
#ifndef KILN_TRAIN_IMAGES_H
#define KILN_TRAIN_IMAGES_H

#include <stddef.h>
#include <stdint.h>

#include "image.h"
#include "kiln.h"
#include "view_order.h"

/* Views read ahead unless the caller asks otherwise. */
#define TRAIN_IMAGES_DEFAULT_AHEAD 2

/* The most views train_images may read ahead. */
#define TRAIN_IMAGES_MAX_AHEAD 16

typedef struct train_images train_images;

/* Settings of train_images_init. */
typedef struct train_images_config {
    size_t cache_bytes;    /* the cache's cap on pixel bytes (0: keep none) */
    uint64_t max_pixels;   /* pixel limit per image (0: the readers' default) */
    size_t ahead;          /* views read ahead, 0 to TRAIN_IMAGES_MAX_AHEAD
                            * (0: no producer thread) */
} train_images_config;

/* Starts streaming the images paths[0..count) (borrowed: they must
 * outlive ti; view i's image is paths[i]) in the order `order` (borrowed;
 * NULL: nothing is read ahead) and starts reading ahead its next views.
 * Returns KILN_E_INVAL or KILN_E_HOSTMEM; *out is NULL on error. */
kiln_status train_images_init(train_images **out, const char *const *paths, size_t count,
                              view_order *order, const train_images_config *config);

/* Returns in *img the image of view `view_index` (pinned: give it back
 * with train_images_release), waiting for the producer when it reads the
 * view ahead, reading it here when the view was not planned; first it tells
 * the producer the views that come next in the order.  A failed read
 * returns its status with the message naming the file; *img is NULL on
 * error. */
kiln_status train_images_get(train_images *ti, size_t view_index, const host_image **img);

/* Gives back an image from train_images_get.  NULL is a no-op. */
void train_images_release(train_images *ti, const host_image *img);

/* The cache's figures (see image_cache_stats).  Any pointer may be
 * NULL. */
void train_images_stats(const train_images *ti, size_t *bytes, size_t *images, uint64_t *hits,
                        uint64_t *misses);

/* Stops the producer (a read in progress is finished), joins it and
 * frees the read-ahead images, the cache and ti.  Every image from
 * train_images_get must have been released.  NULL is a no-op. */
void train_images_free(train_images *ti);

#endif
