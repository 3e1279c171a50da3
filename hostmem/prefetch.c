/* The bounded, lazily decoding input queue (see prefetch.h).
 *
 * The queue owns max_items slots, allocated once.  A slot is free, being
 * filled by the producer, waiting in the ready ring, or held by a
 * consumer; only free slots are not counted against the bounds.  One mutex
 * guards the counters, the free stack and the ready ring; decoding happens
 * outside it. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "png_io.h"
#include "prefetch.h"
#include "status.h"

/* A slot: the item handed to consumers (first member, so an item pointer
 * is a slot pointer) and the bytes it is charged against max_bytes. */
typedef struct prefetch_slot {
    prefetch_item item;
    size_t charged;
} prefetch_slot;

struct prefetch_queue {
    const char *const *paths;   /* borrowed */
    size_t count;
    size_t max_items;           /* number of slots */
    size_t max_bytes;           /* 0: no byte bound */
    uint64_t max_pixels;

    prefetch_slot *slots;       /* max_items slots */
    prefetch_slot **free_slots; /* stack of free slots */
    size_t nfree;
    prefetch_slot **ready;      /* ring of decoded items, oldest at ready_head */
    size_t ready_head;
    size_t ready_len;

    size_t out_bytes;           /* bytes charged by slots that are not free */
    size_t peak_items;
    size_t peak_bytes;
    int producer_done;          /* the producer queued its last item */
    int stopped;                /* prefetch_stop was called */

    pthread_mutex_t lock;
    pthread_cond_t item_ready;  /* consumers: an item was queued, or done/stopped */
    pthread_cond_t room;        /* producer: a slot or bytes came back, or stopped */
    pthread_t producer;
};

/* With the lock held: raises the peaks to the current counts. */
static void note_peaks(prefetch_queue *q)
{
    size_t items = q->max_items - q->nfree;

    if (items > q->peak_items)
        q->peak_items = items;
    if (q->out_bytes > q->peak_bytes)
        q->peak_bytes = q->out_bytes;
}

/* With the lock held: whether an item of `need` bytes may be decoded now.
 * It needs a free slot, and the bytes must fit unless nothing is out (so
 * one oversize item still goes through). */
static int has_room(const prefetch_queue *q, size_t need)
{
    if (q->nfree == 0)
        return 0;
    if (q->max_bytes == 0 || q->nfree == q->max_items)
        return 1;
    return q->out_bytes <= q->max_bytes && need <= q->max_bytes - q->out_bytes;
}

/* With the lock held: frees a slot's pixels and puts it back on the free
 * stack, uncharging its bytes. */
static void release_slot(prefetch_queue *q, prefetch_slot *slot)
{
    host_image_free(&slot->item.image);
    q->out_bytes -= slot->charged;
    slot->charged = 0;
    q->free_slots[q->nfree++] = slot;
}

/* Whether prefetch_stop was called. */
static int is_stopped(prefetch_queue *q)
{
    int stopped;

    pthread_mutex_lock(&q->lock);
    stopped = q->stopped;
    pthread_mutex_unlock(&q->lock);
    return stopped;
}

/* Waits until an item of `need` bytes fits, then takes a free slot
 * (cleared) charged with `need`.  Returns NULL when the queue was
 * stopped. */
static prefetch_slot *reserve_slot(prefetch_queue *q, size_t need)
{
    prefetch_slot *slot = NULL;

    pthread_mutex_lock(&q->lock);
    while (!q->stopped && !has_room(q, need))
        pthread_cond_wait(&q->room, &q->lock);
    if (!q->stopped) {
        slot = q->free_slots[--q->nfree];
        slot->charged = need;
        q->out_bytes += need;
        note_peaks(q);
    }
    pthread_mutex_unlock(&q->lock);
    if (slot)
        memset(&slot->item, 0, sizeof(slot->item));
    return slot;
}

/* Charges a filled slot with its real size and queues it for consumers;
 * after a stop the slot is released instead.  Returns 0 when stopped. */
static int publish_slot(prefetch_queue *q, prefetch_slot *slot)
{
    size_t actual = host_image_bytes(&slot->item.image);
    int stopped;

    pthread_mutex_lock(&q->lock);
    q->out_bytes = q->out_bytes - slot->charged + actual;
    slot->charged = actual;
    note_peaks(q);
    stopped = q->stopped;
    if (stopped) {
        release_slot(q, slot);
    } else {
        q->ready[(q->ready_head + q->ready_len) % q->max_items] = slot;
        q->ready_len++;
        pthread_cond_signal(&q->item_ready);
    }
    pthread_mutex_unlock(&q->lock);
    return !stopped;
}

/* Producer step for input `index`: header, wait for room, decode (or
 * record the failure), queue.  Returns 0 when the queue was stopped. */
static int produce_one(prefetch_queue *q, size_t index)
{
    const char *path = q->paths[index];
    host_image info;
    kiln_status st;
    prefetch_slot *slot;
    double header_ms, t0;

    if (is_stopped(q))
        return 0;
    t0 = kiln_clock_ms();
    st = png_read_header(path, q->max_pixels, &info);
    header_ms = kiln_clock_ms() - t0;
    slot = reserve_slot(q, st == KILN_OK ? host_image_bytes(&info) : 0);
    if (!slot)
        return 0;
    slot->item.index = index;
    slot->item.path = path;
    t0 = kiln_clock_ms();
    if (st == KILN_OK)
        st = png_read_file(path, q->max_pixels, &slot->item.image);
    slot->item.decode_ms = header_ms + (kiln_clock_ms() - t0);
    slot->item.status = st;
    if (st != KILN_OK)
        snprintf(slot->item.message, sizeof(slot->item.message), "%s", kiln_last_error());
    return publish_slot(q, slot);
}

/* The producer thread: every input in list order until the end or a
 * stop, then marks the queue done and wakes every consumer. */
static void *producer_main(void *arg)
{
    prefetch_queue *q = arg;

    for (size_t i = 0; i < q->count; i++) {
        if (!produce_one(q, i))
            break;
    }
    pthread_mutex_lock(&q->lock);
    q->producer_done = 1;
    pthread_cond_broadcast(&q->item_ready);
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

/* Allocates the queue and its slots and starts the producer; see
 * prefetch.h. */
kiln_status prefetch_start(prefetch_queue **out, const char *const *paths, size_t count,
                           size_t max_items, size_t max_bytes, uint64_t max_pixels)
{
    prefetch_queue *q;
    kiln_status st;
    int err;

    if (!out)
        return kiln_fail(KILN_E_INVAL, "prefetch_start: NULL output");
    *out = NULL;
    if (count > 0 && !paths)
        return kiln_fail(KILN_E_INVAL, "prefetch_start: NULL path list");
    if (max_items == 0)
        return kiln_fail(KILN_E_INVAL, "prefetch_start: max_items must be at least 1");
    if (max_items > count)
        max_items = count > 0 ? count : 1;
    q = calloc(1, sizeof(*q));
    if (!q)
        return kiln_fail(KILN_E_HOSTMEM, "prefetch_start: out of memory");
    q->paths = paths;
    q->count = count;
    q->max_items = max_items;
    q->max_bytes = max_bytes;
    q->max_pixels = max_pixels;
    q->slots = calloc(max_items, sizeof(*q->slots));
    q->free_slots = calloc(max_items, sizeof(*q->free_slots));
    q->ready = calloc(max_items, sizeof(*q->ready));
    if (!q->slots || !q->free_slots || !q->ready) {
        st = kiln_fail(KILN_E_HOSTMEM, "prefetch_start: out of memory for %zu slots",
                       max_items);
        goto out_free_queue;
    }
    for (size_t i = 0; i < max_items; i++)
        q->free_slots[i] = &q->slots[max_items - 1 - i];
    q->nfree = max_items;
    err = pthread_mutex_init(&q->lock, NULL);
    if (err != 0) {
        st = kiln_fail(KILN_E_HOSTMEM, "prefetch_start: mutex: %s", strerror(err));
        goto out_free_queue;
    }
    err = pthread_cond_init(&q->item_ready, NULL);
    if (err != 0) {
        st = kiln_fail(KILN_E_HOSTMEM, "prefetch_start: condition: %s", strerror(err));
        goto out_destroy_lock;
    }
    err = pthread_cond_init(&q->room, NULL);
    if (err != 0) {
        st = kiln_fail(KILN_E_HOSTMEM, "prefetch_start: condition: %s", strerror(err));
        goto out_destroy_item_ready;
    }
    err = pthread_create(&q->producer, NULL, producer_main, q);
    if (err != 0) {
        st = kiln_fail(KILN_E_HOSTMEM, "prefetch_start: cannot start the decoder "
                       "thread: %s", strerror(err));
        goto out_destroy_room;
    }
    *out = q;
    return KILN_OK;

out_destroy_room:
    pthread_cond_destroy(&q->room);
out_destroy_item_ready:
    pthread_cond_destroy(&q->item_ready);
out_destroy_lock:
    pthread_mutex_destroy(&q->lock);
out_free_queue:
    free(q->ready);
    free(q->free_slots);
    free(q->slots);
    free(q);
    return st;
}

/* Takes the oldest ready item, waiting for one; NULL at the end or after
 * a stop. */
prefetch_item *prefetch_pop(prefetch_queue *q)
{
    prefetch_slot *slot = NULL;

    if (!q)
        return NULL;
    pthread_mutex_lock(&q->lock);
    while (q->ready_len == 0 && !q->producer_done && !q->stopped)
        pthread_cond_wait(&q->item_ready, &q->lock);
    if (!q->stopped && q->ready_len > 0) {
        slot = q->ready[q->ready_head];
        q->ready_head = (q->ready_head + 1) % q->max_items;
        q->ready_len--;
    }
    pthread_mutex_unlock(&q->lock);
    return slot ? &slot->item : NULL;
}

/* Gives a popped item back: pixels freed, slot and bytes returned. */
void prefetch_item_free(prefetch_queue *q, prefetch_item *item)
{
    prefetch_slot *slot = (prefetch_slot *)item;

    if (!q || !item)
        return;
    host_image_free(&slot->item.image);     /* outside the lock */
    pthread_mutex_lock(&q->lock);
    release_slot(q, slot);
    pthread_cond_signal(&q->room);
    pthread_mutex_unlock(&q->lock);
}

/* Marks the queue stopped, frees the items waiting in it and wakes every
 * waiter. */
void prefetch_stop(prefetch_queue *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->lock);
    q->stopped = 1;
    while (q->ready_len > 0) {
        release_slot(q, q->ready[q->ready_head]);
        q->ready_head = (q->ready_head + 1) % q->max_items;
        q->ready_len--;
    }
    pthread_cond_broadcast(&q->item_ready);
    pthread_cond_broadcast(&q->room);
    pthread_mutex_unlock(&q->lock);
}

/* Reports the peaks under the lock. */
void prefetch_stats(prefetch_queue *q, size_t *peak_items, size_t *peak_bytes)
{
    size_t items = 0, bytes = 0;

    if (q) {
        pthread_mutex_lock(&q->lock);
        items = q->peak_items;
        bytes = q->peak_bytes;
        pthread_mutex_unlock(&q->lock);
    }
    if (peak_items)
        *peak_items = items;
    if (peak_bytes)
        *peak_bytes = bytes;
}

/* Stops, joins the producer, then frees any pixels still held and the
 * queue itself. */
void prefetch_free(prefetch_queue *q)
{
    if (!q)
        return;
    prefetch_stop(q);
    pthread_join(q->producer, NULL);
    for (size_t i = 0; i < q->max_items; i++)
        host_image_free(&q->slots[i].item.image);
    pthread_cond_destroy(&q->room);
    pthread_cond_destroy(&q->item_ready);
    pthread_mutex_destroy(&q->lock);
    free(q->ready);
    free(q->free_slots);
    free(q->slots);
    free(q);
}
