/* A device worker's items in flight: up to two items between their
 * submit (upload, stages, download enqueued: pipeline_submit) and their
 * written output, so that one item's download, PNG encoding and writing
 * overlap the next item's upload and compute.
 *
 * Each slot owns its flight (stages.h): the download's device staging
 * buffer, held from the submit until the item is written, and the host
 * staging the result lands in, reused from item to item.  With two
 * slots a finisher thread waits for each download, in submission order,
 * and runs the caller's finish function (encode, write, record); the
 * device thread (the worker) only submits.  With one slot the worker
 * finishes each item itself right after its submit: items run one after
 * another, as without this module.
 *
 * Memory.  Two in flight hold a second item's staging beside the next
 * item's buffers.  The first item a worker submits runs alone and gives
 * the device bytes an item acquires (the pool's peak over the submit,
 * less what was live before: an upper bound).  A later item's estimate
 * is that, scaled up (never down) by its pixels over the first item's;
 * an item whose estimate does not fit the budget beside what is live
 * (its neighbour's staging included) waits until no other item is in
 * flight: under a tight budget the worker falls back to one in flight,
 * item by item, and counts it.  An estimate is not a guarantee: the
 * caller retries alone an item whose overlapped submit ran out of device
 * memory (flight_take with `alone`).
 *
 * Threads.  flight_init, flight_take, flight_submitted, flight_put_back
 * and flight_close run on the worker (the device's thread, which alone
 * enqueues work); the finish function, which ends the slot's flight
 * (pipeline_flight_end: the staging back to the pool, whose calls take
 * its lock), runs on the finisher thread with two slots, on the worker
 * with one, for one item at a time. */
#ifndef KILN_FLIGHT_H
#define KILN_FLIGHT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "prefetch.h"
#include "stages.h"

#define FLIGHT_SLOTS_MAX 2

/* One item between its submit and its written output. */
typedef struct flight_slot {
    pipeline_flight flight;     /* its result on the way (stages.h) */
    prefetch_item *item;        /* the input, held until finished */
    uint64_t seq;               /* submission order */
    uint64_t pixels;            /* the item's input pixels (0: a source stage's) */
    size_t live_before;         /* pool live bytes before the submit */
    int overlapped;             /* another item was in flight at the take */
    int state;                  /* flight_state */
} flight_slot;

/* Called once per submitted item, after pipeline_submit succeeded: waits
 * for the result (pipeline_finish), writes it, ends the flight
 * (pipeline_flight_end: the staging back to the pool) and gives
 * slot->item back.  slot->item is NULL afterwards. */
typedef void (*flight_finish_fn)(void *user, flight_slot *slot);

/* The slots of one worker. */
typedef struct flight_lanes {
    kiln_device *dev;
    pipeline *stages;
    size_t width;               /* slots in use: 1 or 2 */
    flight_slot slots[FLIGHT_SLOTS_MAX];
    flight_finish_fn finish;
    void *user;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    pthread_t finisher;
    int finisher_started;
    int closing;
    uint64_t next_seq;
    size_t item_bytes;          /* the first item's device bytes; 0: unknown */
    uint64_t item_pixels;       /* the first item's input pixels */
    size_t overlapped;          /* items submitted while another was in flight */
    size_t waited_for_budget;   /* items that waited for their neighbour to fit */
} flight_lanes;

/* Sets up `in_flight` slots (1 or 2; 2 starts the finisher thread, and
 * when the thread cannot start the lanes run with one slot) for the
 * worker's device and stages; finish(user, slot) finishes each item.
 * Always succeeds. */
void flight_init(flight_lanes *l, kiln_device *dev, pipeline *stages, size_t in_flight,
                 flight_finish_fn finish, void *user);

/* Returns a free slot for an item of `pixels` input pixels (0 for a
 * source stage's item), waiting for one, and until no other item is in
 * flight when `alone` is set or the item's estimate does not fit the
 * budget beside the items in flight.  slot->overlapped says whether
 * another item was in flight. */
flight_slot *flight_take(flight_lanes *l, uint64_t pixels, int alone);

/* Hands a slot whose submit succeeded on: to the finisher, or (one slot)
 * finishes it here.  The slot then holds `item`. */
void flight_submitted(flight_lanes *l, flight_slot *slot, prefetch_item *item);

/* Gives back a slot whose submit failed (it holds nothing but its host
 * staging). */
void flight_put_back(flight_lanes *l, flight_slot *slot);

/* Waits for every item in flight to be finished, stops the finisher, and
 * releases every slot's staging (device and host). */
void flight_close(flight_lanes *l);

#endif
