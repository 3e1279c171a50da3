/* Offsets for arena roots (internal to memory_plan.c): items that own
 * their bytes, with lifetimes already widened over the items inside them.
 *
 * The liveness lower bound is the most bytes live at one step.  The
 * search places the roots greedily in several orders (size, size times
 * lifetime, lifetime, pressure: the most bytes live at one step of a
 * root's lifetime), each at the lowest fitting gap and at the smallest
 * fitting gap among the placed roots whose lifetimes overlap its own.
 * After each pass the root that set the arena's top is moved to the front
 * of the order and the pass is run again (iterated greedy), a bounded
 * number of times (fewer for graphs so large that each pass is costly:
 * then the first orders only, as few as PLAN_MIN_PASSES passes); the
 * smallest arena wins and the search stops as soon as one reaches the
 * lower bound. */
#ifndef KILN_MEMORY_PLAN_PLACE_H
#define KILN_MEMORY_PLAN_PLACE_H

#include <stddef.h>

#include "kiln.h"

#define PLAN_PROMOTE_PASSES 16      /* iterated-greedy passes per starting order, at most */
#define PLAN_WORK_BUDGET 20000000.0 /* root pairs visited over all passes, about: fewer
                                       passes for very large graphs ... */
#define PLAN_MIN_PASSES 3           /* ... but at least this many */

typedef struct plan_root {
    size_t item;                    /* the memory_plan_item it is */
    size_t bytes;                   /* aligned */
    size_t first, last;             /* widened over its children */
    size_t pressure;                /* set by plan_roots_bound */
    size_t offset;                  /* set by plan_roots_place */
} plan_root;

/* Sets *bound to the most bytes live at one step and each root's
 * pressure.  KILN_E_HOSTMEM when out of memory. */
kiln_status plan_roots_bound(plan_root *roots, size_t nroots, size_t *bound);

/* Sets every root's offset (roots keep their order) so that roots whose
 * lifetimes overlap share no byte, and *arena to the end of the highest;
 * `bound` is plan_roots_bound's (the search stops when it is reached).
 * Roots of 0 bytes get offset 0.  KILN_E_HOSTMEM when out of memory. */
kiln_status plan_roots_place(plan_root *roots, size_t nroots, size_t bound, size_t *arena);

#endif
