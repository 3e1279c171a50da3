/* The bounded, lazily loading input queue (see prefetch.h).
 *
 * The queue owns max_items slots, allocated once.  A slot is free, being
 * filled by the producer, waiting in the ready ring, or held by a
 * consumer; only free slots are not counted against the bounds.  One mutex
 * guards the counters, the free stack and the ready ring; the loader's
 * methods (measure, load, release) and the freeing of images run outside
 * it. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "host_alloc.h"
#include "prefetch.h"
#include "status.h"

/* A slot: the item handed to consumers (first member, so an item pointer
 * is a slot pointer), the bytes it is charged against max_bytes, whether
 * the loader's release is still due, and a link for prefetch_stop's list
 * of dropped slots. */
typedef struct prefetch_slot {
    prefetch_item item;
    size_t charged;
    int loaded;                 /* load was called and release has not been */
    struct prefetch_slot *next;
} prefetch_slot;

struct prefetch_queue {
    const char *const *paths;   /* borrowed */
    size_t count;
    prefetch_loader loader;     /* the caller's loader, copied */
    size_t max_items;           /* number of slots */
    size_t max_bytes;           /* 0: no byte bound */

    prefetch_slot *slots;       /* max_items slots */
    prefetch_slot **free_slots; /* stack of free slots */
    size_t nfree;
    prefetch_slot **ready;      /* ring of loaded items, oldest at ready_head */
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

/* With the lock held: whether an item of `need` bytes may be loaded now.
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

/* The bytes a loaded item holds: its images and its payload. */
static size_t item_bytes(const prefetch_item *item)
{
    return host_image_bytes(&item->image) + host_image_bytes(&item->mask) +
           item->payload_bytes;
}

/* Without the lock: empties a slot's item, calling the loader's release
 * when it is due (once per load), then freeing the images.  Safe on an
 * empty slot. */
static void clear_slot(prefetch_queue *q, prefetch_slot *slot)
{
    if (slot->loaded && q->loader.release)
        q->loader.release(&q->loader, &slot->item);
    slot->loaded = 0;
    host_image_free(&slot->item.image);
    host_image_free(&slot->item.mask);
    slot->item.payload = NULL;
    slot->item.payload_bytes = 0;
}

/* With the lock held: puts an emptied slot back on the free stack,
 * uncharging its bytes, and tells the producer. */
static void return_slot(prefetch_queue *q, prefetch_slot *slot)
{
    q->out_bytes -= slot->charged;
    slot->charged = 0;
    q->free_slots[q->nfree++] = slot;
    pthread_cond_signal(&q->room);
}

/* Without the lock: empties a slot, then returns it to the free stack. */
static void give_back_slot(prefetch_queue *q, prefetch_slot *slot)
{
    clear_slot(q, slot);
    pthread_mutex_lock(&q->lock);
    return_slot(q, slot);
    pthread_mutex_unlock(&q->lock);
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
    if (slot) {
        memset(&slot->item, 0, sizeof(slot->item));
        slot->loaded = 0;
    }
    return slot;
}

/* Charges a filled slot with its real size and queues it for consumers;
 * after a stop the slot is emptied and given back instead.  Returns 0
 * when stopped. */
static int publish_slot(prefetch_queue *q, prefetch_slot *slot)
{
    size_t actual = item_bytes(&slot->item);
    int stopped;

    pthread_mutex_lock(&q->lock);
    q->out_bytes = q->out_bytes - slot->charged + actual;
    slot->charged = actual;
    note_peaks(q);
    stopped = q->stopped;
    if (!stopped) {
        q->ready[(q->ready_head + q->ready_len) % q->max_items] = slot;
        q->ready_len++;
        pthread_cond_signal(&q->item_ready);
    }
    pthread_mutex_unlock(&q->lock);
    if (stopped)
        give_back_slot(q, slot);
    return !stopped;
}

/* Producer step for input `index`: measure, wait for room, load (or
 * record the failure, emptying what a failed load left), queue.  Returns
 * 0 when the queue was stopped. */
static int produce_one(prefetch_queue *q, size_t index)
{
    const prefetch_loader *loader = &q->loader;
    const char *path = q->paths[index];
    size_t need = 0;
    kiln_status st;
    prefetch_slot *slot;
    double measure_ms, t0;

    if (is_stopped(q))
        return 0;
    t0 = kiln_clock_ms();
    st = loader->measure(loader, index, path, &need);
    measure_ms = kiln_clock_ms() - t0;
    slot = reserve_slot(q, st == KILN_OK ? need : 0);
    if (!slot)
        return 0;
    slot->item.index = index;
    slot->item.path = path;
    t0 = kiln_clock_ms();
    if (st == KILN_OK) {
        slot->loaded = 1;
        st = loader->load(loader, index, path, &slot->item);
    }
    slot->item.decode_ms = measure_ms + (kiln_clock_ms() - t0);
    slot->item.status = st;
    if (st != KILN_OK) {
        snprintf(slot->item.message, sizeof(slot->item.message), "%s", kiln_last_error());
        clear_slot(q, slot);
    }
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
                           const prefetch_loader *loader, size_t max_items, size_t max_bytes)
{
    prefetch_queue *q;
    kiln_status st;
    int err;

    if (!out)
        return kiln_fail(KILN_E_INVAL, "prefetch_start: NULL output");
    *out = NULL;
    if (count > 0 && !paths)
        return kiln_fail(KILN_E_INVAL, "prefetch_start: NULL path list");
    if (!loader || !loader->measure || !loader->load)
        return kiln_fail(KILN_E_INVAL, "prefetch_start: a loader needs measure and load");
    if (max_items == 0)
        return kiln_fail(KILN_E_INVAL, "prefetch_start: max_items must be at least 1");
    if (max_items > count)
        max_items = count > 0 ? count : 1;
    q = kiln_calloc(1, sizeof(*q));
    if (!q)
        return kiln_fail(KILN_E_HOSTMEM, "prefetch_start: out of memory");
    q->paths = paths;
    q->count = count;
    q->max_items = max_items;
    q->max_bytes = max_bytes;
    q->loader = *loader;
    q->slots = kiln_calloc(max_items, sizeof(*q->slots));
    q->free_slots = kiln_calloc(max_items, sizeof(*q->free_slots));
    q->ready = kiln_calloc(max_items, sizeof(*q->ready));
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
        st = kiln_fail(KILN_E_HOSTMEM, "prefetch_start: cannot start the loader "
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
    kiln_free(q->ready);
    kiln_free(q->free_slots);
    kiln_free(q->slots);
    kiln_free(q);
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

/* Gives a popped item back: released and freed outside the lock, then
 * its slot and bytes returned. */
void prefetch_item_free(prefetch_queue *q, prefetch_item *item)
{
    if (!q || !item)
        return;
    give_back_slot(q, (prefetch_slot *)item);
}

/* Marks the queue stopped and wakes every waiter, then gives back the
 * items that were waiting in it (taken out under the lock, released and
 * freed outside it). */
void prefetch_stop(prefetch_queue *q)
{
    prefetch_slot *dropped = NULL;

    if (!q)
        return;
    pthread_mutex_lock(&q->lock);
    q->stopped = 1;
    while (q->ready_len > 0) {
        prefetch_slot *slot = q->ready[q->ready_head];

        slot->next = dropped;
        dropped = slot;
        q->ready_head = (q->ready_head + 1) % q->max_items;
        q->ready_len--;
    }
    pthread_cond_broadcast(&q->item_ready);
    pthread_cond_broadcast(&q->room);
    pthread_mutex_unlock(&q->lock);
    while (dropped) {
        prefetch_slot *next = dropped->next;

        give_back_slot(q, dropped);
        dropped = next;
    }
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

/* Stops, joins the producer, then empties the items consumers did not
 * give back (free slots are already empty) and frees the queue. */
void prefetch_free(prefetch_queue *q)
{
    if (!q)
        return;
    prefetch_stop(q);
    pthread_join(q->producer, NULL);
    for (size_t i = 0; i < q->max_items; i++)
        clear_slot(q, &q->slots[i]);
    pthread_cond_destroy(&q->room);
    pthread_cond_destroy(&q->item_ready);
    pthread_mutex_destroy(&q->lock);
    kiln_free(q->ready);
    kiln_free(q->free_slots);
    kiln_free(q->slots);
    kiln_free(q);
}
