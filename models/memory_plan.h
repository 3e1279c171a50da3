/* Activation arena planning: offsets for tensors with known sizes and
 * lifetimes, so that one arena per (model, input shape) holds every
 * activation.  Pure planning over sizes: nothing here touches a device.
 *
 * Greedy with a search over orders: items are placed one by one at
 * 256-byte-aligned offsets where they overlap no already placed item whose
 * lifetime overlaps their own, in several orders, refined by moving the
 * item that sets the arena's top to the front (memory_plan_place.h); the
 * smallest arena wins.  An item may live inside another (in-place
 * concatenation): it is placed with its parent, whose lifetime is
 * widened to cover it.  The plan reports the arena size and the liveness
 * lower bound (the most bytes live at any one step), which no plan can
 * beat. */
#ifndef KILN_MEMORY_PLAN_H
#define KILN_MEMORY_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "graph.h"
#include "kiln.h"

#define MEMORY_PLAN_ALIGN 256
#define MEMORY_PLAN_NONE SIZE_MAX   /* offset of something not in the arena */

typedef struct memory_plan_item {
    size_t bytes;
    size_t first;                   /* first schedule step it is live */
    size_t last;                    /* last step it is live (>= first) */
    ptrdiff_t parent;               /* item it lives inside, or -1 */
    size_t parent_offset;           /* its byte offset inside the parent */
} memory_plan_item;

typedef struct memory_plan {
    size_t count;
    size_t *offsets;                /* per item: arena byte offset (or NONE) */
    ptrdiff_t *parents;             /* per item: the parent it lives in, or -1 */
    size_t arena_bytes;
    size_t lower_bound;             /* max over steps of live bytes (aligned sizes) */
    size_t sum_bytes;               /* sum of aligned sizes placed on their own */
    size_t inplace;                 /* items placed inside a parent */
} memory_plan;

/* Plans `count` items.  Items of 0 bytes get offset 0.  An invalid item
 * (last < first, a parent out of range or in a cycle, a child that does
 * not fit its parent, sizes that overflow) is KILN_E_INVAL; out of memory
 * KILN_E_HOSTMEM.  On success release the plan with memory_plan_free. */
kiln_status memory_plan_build(const memory_plan_item *items, size_t count, memory_plan *plan);

/* Plans the activation arena of a folded graph: one entry per tensor
 * (plan->count == g->ntensors), constants at MEMORY_PLAN_NONE; runtime
 * inputs and graph outputs are in the arena too.  With inplace_concat,
 * Concat inputs written straight into their slice of the output (see
 * graph_lifetime.h) have parents[t] set to the Concat's output. */
kiln_status memory_plan_graph(const kiln_graph *g, int inplace_concat, memory_plan *plan);

/* Prints the arena, the lower bound, the sum of what was planned and the
 * number of in-place items, one line (for `kiln model-info`). */
void memory_plan_print(FILE *fp, const memory_plan *plan);

/* Frees a plan's arrays (the struct itself is the caller's). */
void memory_plan_free(memory_plan *plan);

#endif
