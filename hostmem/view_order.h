/* The order in which a trainer visits its training views: the reference
 * trainer's sampling, a uniformly shuffled permutation of the views per
 * epoch (each view once), reshuffled when the epoch is exhausted.  The
 * shuffle draws from a xoshiro256** generator seeded through splitmix64;
 * its state is four uint64 words, and view_order_save/view_order_restore
 * give a checkpoint what it needs to continue the very same sequence (the
 * generator state at the start of the current epoch and the position in
 * it).  A view_order holds two permutations of uint32 indices (the
 * current epoch and, once peeked at, the next): 8 bytes per view. */
#ifndef KILN_VIEW_ORDER_H
#define KILN_VIEW_ORDER_H

#include <stddef.h>
#include <stdint.h>

#include "kiln.h"

/* The value view_order_peek returns for a position it cannot see. */
#define VIEW_ORDER_NONE SIZE_MAX

/* What a checkpoint saves: the generator state before the current
 * epoch's shuffle, and how many views of that epoch were taken. */
typedef struct view_order_state {
    uint64_t rng[4];
    uint64_t position;
} view_order_state;

/* The order of `count` views.  Owned by its caller; members are private. */
typedef struct view_order {
    size_t count;
    uint64_t rng[4];        /* the generator now: after the current shuffle,
                             * or after the next one once that is made */
    uint64_t epoch_rng[4];  /* the generator before the current shuffle */
    uint64_t next_rng[4];   /* the generator before the next shuffle, once has_next */
    uint32_t *current;      /* this epoch's permutation */
    uint32_t *next;         /* the next epoch's, once has_next */
    int has_next;
    size_t position;        /* views of this epoch taken */
} view_order;

/* Starts the order of `count` views (1 <= count <= UINT32_MAX) from
 * `seed`: the first epoch's permutation is drawn at once.  Returns
 * KILN_E_INVAL or KILN_E_HOSTMEM; *order is zeroed on error. */
kiln_status view_order_init(view_order *order, size_t count, uint64_t seed);

/* Takes the next view index, reshuffling when the epoch is exhausted. */
size_t view_order_next(view_order *order);

/* The view index that the (k+1)-th next call of view_order_next will
 * return (k = 0: the next one), without taking it.  k < count (at most one
 * epoch ahead); VIEW_ORDER_NONE otherwise.  Peeking past the epoch's end
 * draws the next epoch's permutation early; the sequence is unchanged. */
size_t view_order_peek(view_order *order, size_t k);

/* Copies into *out what view_order_restore needs to continue the
 * sequence from this point. */
void view_order_save(const view_order *order, view_order_state *out);

/* Continues the sequence saved in *state, for the same view count:
 * redraws that epoch's permutation and skips what was taken.  Returns
 * KILN_E_INVAL (position beyond the count, an all-zero generator) and
 * leaves the order unchanged on error. */
kiln_status view_order_restore(view_order *order, const view_order_state *state);

/* Frees the permutations and zeroes the order.  Safe on a zeroed one. */
void view_order_free(view_order *order);

#endif
