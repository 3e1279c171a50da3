/* Streaming training images (see train_images.h).
 *
 * The trainer's thread posts a plan (the views that come next) and takes
 * slots; the producer thread fills slots for planned views through the
 * cache.  A slot is empty, being read, ready (its image pinned) or failed
 * (its status and message kept for the get of its view).  One mutex
 * guards the plan, the slots and the stop flag; cache calls happen
 * outside it. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "host_alloc.h"
#include "image_cache.h"
#include "status.h"
#include "train_images.h"

#define TRAIN_IMAGES_MESSAGE_MAX 1024

typedef enum { SLOT_EMPTY, SLOT_READING, SLOT_READY, SLOT_FAILED } slot_state;

/* One read-ahead view. */
typedef struct ahead_slot {
    size_t view;
    slot_state state;
    const host_image *image;     /* pinned, when SLOT_READY */
    kiln_status status;          /* why, when SLOT_FAILED */
    char message[TRAIN_IMAGES_MESSAGE_MAX];
} ahead_slot;

struct train_images {
    const char *const *paths;    /* borrowed */
    size_t count;
    view_order *order;           /* borrowed; trainer's thread only */
    image_cache *cache;
    size_t ahead;
    ahead_slot *slots;           /* ahead slots */
    size_t plan[TRAIN_IMAGES_MAX_AHEAD];  /* views wanted next, distinct */
    size_t nplan;
    int stop;
    int has_producer;
    pthread_mutex_t lock;
    pthread_cond_t work;         /* producer: a new plan, or stop */
    pthread_cond_t done;         /* trainer: a slot's read ended */
    pthread_t producer;
};

/* With the lock held: whether `view` is in the plan. */
static int plan_has(const train_images *ti, size_t view)
{
    for (size_t i = 0; i < ti->nplan; i++)
        if (ti->plan[i] == view)
            return 1;
    return 0;
}

/* With the lock held: the slot holding `view` (any state but empty), or
 * NULL. */
static ahead_slot *slot_find(train_images *ti, size_t view)
{
    for (size_t i = 0; i < ti->ahead; i++)
        if (ti->slots[i].state != SLOT_EMPTY && ti->slots[i].view == view)
            return &ti->slots[i];
    return NULL;
}

/* With the lock held: picks a planned view that no slot holds and an
 * empty slot for it; returns the slot marked as being read, or NULL when
 * there is nothing to do. */
static ahead_slot *slot_claim(train_images *ti)
{
    ahead_slot *empty = NULL;

    for (size_t i = 0; i < ti->ahead && !empty; i++)
        if (ti->slots[i].state == SLOT_EMPTY)
            empty = &ti->slots[i];
    if (!empty)
        return NULL;
    for (size_t i = 0; i < ti->nplan; i++) {
        if (!slot_find(ti, ti->plan[i])) {
            empty->view = ti->plan[i];
            empty->state = SLOT_READING;
            return empty;
        }
    }
    return NULL;
}

/* The producer: reads planned views into slots through the cache until
 * stopped; a view dropped from the plan while it was read is unpinned at
 * once (it stays cached as the most recent image). */
static void *producer_main(void *arg)
{
    train_images *ti = arg;

    pthread_mutex_lock(&ti->lock);
    while (!ti->stop) {
        ahead_slot *slot = slot_claim(ti);
        const host_image *img = NULL;
        kiln_status st;

        if (!slot) {
            pthread_cond_wait(&ti->work, &ti->lock);
            continue;
        }
        pthread_mutex_unlock(&ti->lock);
        st = image_cache_get(ti->cache, ti->paths[slot->view], &img);
        pthread_mutex_lock(&ti->lock);
        if (st == KILN_OK) {
            slot->state = SLOT_READY;
            slot->image = img;
        } else {
            slot->state = SLOT_FAILED;
            slot->status = st;
            snprintf(slot->message, sizeof(slot->message), "%s", kiln_last_error());
        }
        if (!plan_has(ti, slot->view)) {
            slot->state = SLOT_EMPTY;
            slot->image = NULL;
            pthread_mutex_unlock(&ti->lock);
            image_cache_unpin(ti->cache, img);
            pthread_mutex_lock(&ti->lock);
        }
        pthread_cond_broadcast(&ti->done);
    }
    pthread_mutex_unlock(&ti->lock);
    return NULL;
}

/* Peeks the order for the next views into plan[] (distinct, at most
 * ti->ahead); returns how many. */
static size_t plan_peek(train_images *ti, size_t plan[TRAIN_IMAGES_MAX_AHEAD])
{
    size_t n = 0;
    size_t look = ti->ahead < ti->count ? ti->ahead : ti->count;

    if (!ti->order)
        return 0;
    for (size_t k = 0; k < look; k++) {
        size_t view = view_order_peek(ti->order, k);
        int seen = 0;

        for (size_t i = 0; i < n; i++)
            seen |= plan[i] == view;
        if (view < ti->count && !seen)
            plan[n++] = view;
    }
    return n;
}

/* With the lock held: installs a new plan, empties the slots of views it
 * no longer has (those being read are emptied by the producer when their
 * read ends), collecting their pinned images into unpin[] (*nunpin of
 * them) for the caller to unpin unlocked, and wakes the producer. */
static void plan_install(train_images *ti, const size_t *plan, size_t n,
                         const host_image *unpin[TRAIN_IMAGES_MAX_AHEAD], size_t *nunpin)
{
    memcpy(ti->plan, plan, n * sizeof(*plan));
    ti->nplan = n;
    *nunpin = 0;
    for (size_t i = 0; i < ti->ahead; i++) {
        ahead_slot *slot = &ti->slots[i];

        if ((slot->state == SLOT_READY || slot->state == SLOT_FAILED) &&
            !plan_has(ti, slot->view)) {
            if (slot->image)
                unpin[(*nunpin)++] = slot->image;
            slot->image = NULL;
            slot->state = SLOT_EMPTY;
        }
    }
    pthread_cond_signal(&ti->work);
}

/* Creates the cache, the lock, the conditions and the producer, and
 * posts the first plan. */
kiln_status train_images_init(train_images **out, const char *const *paths, size_t count,
                              view_order *order, const train_images_config *config)
{
    train_images *ti;
    size_t plan[TRAIN_IMAGES_MAX_AHEAD];
    const host_image *unpin[TRAIN_IMAGES_MAX_AHEAD];
    size_t nplan, nunpin;
    kiln_status st;

    if (!out)
        return kiln_fail(KILN_E_INVAL, "train_images_init: NULL output");
    *out = NULL;
    if (!paths || count == 0 || !config || config->ahead > TRAIN_IMAGES_MAX_AHEAD)
        return kiln_fail(KILN_E_INVAL, "train_images_init: no paths, no config, or more "
                         "than %d views ahead", TRAIN_IMAGES_MAX_AHEAD);
    if (order && order->count != count)
        return kiln_fail(KILN_E_INVAL, "train_images_init: the view order has %zu views, "
                         "the path list %zu", order->count, count);
    ti = kiln_calloc(1, sizeof(*ti));
    if (!ti)
        return kiln_fail(KILN_E_HOSTMEM, "train_images_init: out of host memory");
    ti->paths = paths;
    ti->count = count;
    ti->order = order;
    ti->ahead = config->ahead;
    if (ti->ahead > 0) {
        ti->slots = kiln_calloc(ti->ahead, sizeof(*ti->slots));
        if (!ti->slots) {
            kiln_free(ti);
            return kiln_fail(KILN_E_HOSTMEM, "train_images_init: out of host memory");
        }
    }
    st = image_cache_init(&ti->cache, config->cache_bytes, config->max_pixels);
    if (st != KILN_OK)
        goto free_ti;
    st = KILN_E_HOSTMEM;
    if (pthread_mutex_init(&ti->lock, NULL) != 0)
        goto free_cache;
    if (pthread_cond_init(&ti->work, NULL) != 0)
        goto destroy_lock;
    if (pthread_cond_init(&ti->done, NULL) != 0)
        goto destroy_work;
    if (ti->ahead > 0 && ti->order) {
        if (pthread_create(&ti->producer, NULL, producer_main, ti) != 0)
            goto destroy_done;
        ti->has_producer = 1;
    }
    nplan = plan_peek(ti, plan);
    pthread_mutex_lock(&ti->lock);
    plan_install(ti, plan, nplan, unpin, &nunpin);
    pthread_mutex_unlock(&ti->lock);
    *out = ti;
    return KILN_OK;

destroy_done:
    pthread_cond_destroy(&ti->done);
destroy_work:
    pthread_cond_destroy(&ti->work);
destroy_lock:
    pthread_mutex_destroy(&ti->lock);
free_cache:
    image_cache_free(ti->cache);
    kiln_fail(st, "train_images_init: cannot create a lock or the producer thread");
free_ti:
    kiln_free(ti->slots);
    kiln_free(ti);
    return st;
}

/* Takes the view's slot when the producer has it, waiting when it is
 * planned and not yet read (so that one decode at a time runs), and
 * installs the next plan under the same lock (so the producer never starts
 * on this view once the trainer reads it itself); reads through the cache
 * when the view was not planned. */
kiln_status train_images_get(train_images *ti, size_t view_index, const host_image **img)
{
    size_t plan[TRAIN_IMAGES_MAX_AHEAD];
    const host_image *unpin[TRAIN_IMAGES_MAX_AHEAD];
    size_t nplan, nunpin;
    ahead_slot *slot;
    const host_image *taken = NULL;
    kiln_status failed = KILN_OK;
    char message[TRAIN_IMAGES_MESSAGE_MAX] = "";
    int from_slot = 0;

    if (img)
        *img = NULL;
    if (!ti || !img || view_index >= ti->count)
        return kiln_fail(KILN_E_INVAL, "train_images_get: no image set, or view %zu of %zu",
                         view_index, ti ? ti->count : 0);
    nplan = plan_peek(ti, plan);   /* the views after this one */
    pthread_mutex_lock(&ti->lock);
    for (;;) {
        slot = slot_find(ti, view_index);
        if (slot ? slot->state != SLOT_READING
                 : !(ti->has_producer && plan_has(ti, view_index)))
            break;
        pthread_cond_wait(&ti->done, &ti->lock);
    }
    if (slot) {
        from_slot = 1;
        taken = slot->image;
        failed = slot->state == SLOT_FAILED ? slot->status : KILN_OK;
        if (failed != KILN_OK)
            memcpy(message, slot->message, sizeof(message));
        slot->image = NULL;
        slot->state = SLOT_EMPTY;
    }
    plan_install(ti, plan, nplan, unpin, &nunpin);
    pthread_mutex_unlock(&ti->lock);
    for (size_t i = 0; i < nunpin; i++)
        image_cache_unpin(ti->cache, unpin[i]);

    if (!from_slot)
        return image_cache_get(ti->cache, ti->paths[view_index], img);
    if (failed != KILN_OK)
        return kiln_fail(failed, "%s", message);
    *img = taken;
    return KILN_OK;
}

/* Unpins the image in the cache. */
void train_images_release(train_images *ti, const host_image *img)
{
    if (ti && img)
        image_cache_unpin(ti->cache, img);
}

/* The cache's figures. */
void train_images_stats(const train_images *ti, size_t *bytes, size_t *images, uint64_t *hits,
                        uint64_t *misses)
{
    if (ti)
        image_cache_stats(ti->cache, bytes, images, hits, misses);
}

/* Stops and joins the producer, unpins the read-ahead images, frees the
 * cache and ti. */
void train_images_free(train_images *ti)
{
    if (!ti)
        return;
    if (ti->has_producer) {
        pthread_mutex_lock(&ti->lock);
        ti->stop = 1;
        pthread_cond_signal(&ti->work);
        pthread_mutex_unlock(&ti->lock);
        pthread_join(ti->producer, NULL);
    }
    for (size_t i = 0; i < ti->ahead; i++)
        if (ti->slots[i].state == SLOT_READY)
            image_cache_unpin(ti->cache, ti->slots[i].image);
    pthread_cond_destroy(&ti->done);
    pthread_cond_destroy(&ti->work);
    pthread_mutex_destroy(&ti->lock);
    image_cache_free(ti->cache);
    kiln_free(ti->slots);
    kiln_free(ti);
}
