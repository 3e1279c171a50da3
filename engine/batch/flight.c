/* A device worker's items in flight (see flight.h). */
#include <string.h>

#include "flight.h"
#include "launch.h"

/* Where a slot is in its cycle. */
typedef enum flight_state {
    SLOT_FREE = 0,      /* the worker may take it */
    SLOT_TAKEN,         /* the worker is submitting into it */
    SLOT_SUBMITTED      /* the finisher's, until finished and ended */
} flight_state;

/* The finisher thread: finishes submitted slots in submission order until
 * the lanes close with nothing left. */
static void *finisher_main(void *arg)
{
    flight_lanes *l = arg;

    pthread_mutex_lock(&l->lock);
    for (;;) {
        flight_slot *next = NULL;
        for (size_t i = 0; i < l->width; i++) {
            flight_slot *s = &l->slots[i];
            if (s->state == SLOT_SUBMITTED && (!next || s->seq < next->seq))
                next = s;
        }
        if (!next) {
            if (l->closing)
                break;
            pthread_cond_wait(&l->changed, &l->lock);
            continue;
        }
        pthread_mutex_unlock(&l->lock);
        l->finish(l->user, next);   /* ends the flight (flight.h) */
        pthread_mutex_lock(&l->lock);
        next->state = SLOT_FREE;
        pthread_cond_broadcast(&l->changed);
    }
    pthread_mutex_unlock(&l->lock);
    return NULL;
}

/* Sets the lanes up. */
void flight_init(flight_lanes *l, kiln_device *dev, pipeline *stages, size_t in_flight,
                 flight_finish_fn finish, void *user)
{
    memset(l, 0, sizeof(*l));
    l->dev = dev;
    l->stages = stages;
    l->finish = finish;
    l->user = user;
    l->width = in_flight >= 2 ? 2 : 1;
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->changed, NULL);
    if (l->width == 2) {
        l->finisher_started = pthread_create(&l->finisher, NULL, finisher_main, l) == 0;
        if (!l->finisher_started)
            l->width = 1;
    }
}

/* With the lock held: whether an item of `pixels` fits the budget beside
 * what is live now (unknown before the first item: it runs alone). */
static int item_fits(flight_lanes *l, uint64_t pixels)
{
    pool_ledger ledger;
    double estimate = (double)l->item_bytes;

    if (l->item_bytes == 0)
        return 0;
    if (pixels > l->item_pixels && l->item_pixels > 0)
        estimate *= (double)pixels / (double)l->item_pixels;
    pool_ledger_get(l->dev->pool, &ledger);
    return (double)ledger.live_bytes + estimate <= (double)ledger.budget;
}

/* Takes a free slot, waiting for room. */
flight_slot *flight_take(flight_lanes *l, uint64_t pixels, int alone)
{
    flight_slot *slot = NULL;
    size_t busy = 0;
    int waited = 0;
    pool_ledger ledger;

    pthread_mutex_lock(&l->lock);
    for (;;) {
        slot = NULL;
        busy = 0;
        for (size_t i = 0; i < l->width; i++) {
            if (l->slots[i].state == SLOT_FREE && !slot)
                slot = &l->slots[i];
            else if (l->slots[i].state != SLOT_FREE)
                busy++;
        }
        if (slot && (busy == 0 || (!alone && item_fits(l, pixels))))
            break;
        if (slot && !waited && !alone && l->item_bytes > 0) {
            waited = 1;
            l->waited_for_budget++;
        }
        pthread_cond_wait(&l->changed, &l->lock);
    }
    if (busy)
        l->overlapped++;
    slot->state = SLOT_TAKEN;
    slot->seq = l->next_seq++;
    slot->pixels = pixels;
    slot->overlapped = busy > 0;
    pthread_mutex_unlock(&l->lock);
    pool_ledger_get(l->dev->pool, &ledger);
    slot->live_before = ledger.live_bytes;
    return slot;
}

/* Learns an item's device bytes from the first submitted item: the
 * pool's peak now bounds what the item held at once. */
static void learn_item_bytes(flight_lanes *l, const flight_slot *slot)
{
    pool_ledger ledger;

    if (l->item_bytes > 0)
        return;
    pool_ledger_get(l->dev->pool, &ledger);
    if (ledger.peak_live_bytes > slot->live_before) {
        l->item_bytes = ledger.peak_live_bytes - slot->live_before;
        l->item_pixels = slot->pixels;
    }
}

/* Hands a submitted slot to its finisher. */
void flight_submitted(flight_lanes *l, flight_slot *slot, prefetch_item *item)
{
    learn_item_bytes(l, slot);
    slot->item = item;
    if (l->width == 1) {
        l->finish(l->user, slot);
        pthread_mutex_lock(&l->lock);
        slot->state = SLOT_FREE;
        pthread_mutex_unlock(&l->lock);
        return;
    }
    pthread_mutex_lock(&l->lock);
    slot->state = SLOT_SUBMITTED;
    pthread_cond_broadcast(&l->changed);
    pthread_mutex_unlock(&l->lock);
}

/* Frees a slot whose submit failed. */
void flight_put_back(flight_lanes *l, flight_slot *slot)
{
    pipeline_flight_end(l->stages, &slot->flight);
    pthread_mutex_lock(&l->lock);
    slot->state = SLOT_FREE;
    pthread_cond_broadcast(&l->changed);
    pthread_mutex_unlock(&l->lock);
}

/* Drains, stops the finisher, frees the slots. */
void flight_close(flight_lanes *l)
{
    pthread_mutex_lock(&l->lock);
    l->closing = 1;
    pthread_cond_broadcast(&l->changed);
    pthread_mutex_unlock(&l->lock);
    if (l->finisher_started)
        pthread_join(l->finisher, NULL);
    l->finisher_started = 0;
    for (size_t i = 0; i < FLIGHT_SLOTS_MAX; i++) {
        pipeline_flight_end(l->stages, &l->slots[i].flight);
        pipeline_flight_free(&l->slots[i].flight);
        l->slots[i].state = SLOT_FREE;
    }
    pthread_cond_destroy(&l->changed);
    pthread_mutex_destroy(&l->lock);
}
