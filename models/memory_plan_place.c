/* The lower bound and the placement search over arena roots (see
 * memory_plan_place.h).  One pass is quadratic in the number of roots;
 * the passes are bounded (orders x fits x PLAN_PROMOTE_PASSES), and real
 * networks reach the lower bound within a few of them. */
#include <stdlib.h>
#include <string.h>

#include "host_alloc.h"
#include "memory_plan_place.h"
#include "status.h"

/* An occupied byte range, for the gap search. */
typedef struct plan_span {
    size_t begin, end;
} plan_span;

/* A lifetime change at a step, for the bound sweep. */
typedef struct plan_event {
    size_t step;
    int add;                        /* 1: becomes live, 0: dies before step */
    size_t bytes;
} plan_event;

/* A root in a sort: the root and its index. */
typedef struct plan_key {
    const plan_root *r;
    size_t index;
} plan_key;

/* The scratch of one search. */
typedef struct plan_search {
    const plan_root *roots;
    size_t nroots;
    size_t *order;                  /* root indices, the placement order */
    size_t *offset;                 /* per root, this pass */
    size_t *best;                   /* per root, the best pass so far */
    plan_span *spans;
    plan_key *keys;
} plan_search;

/* Orders spans by start. */
static int span_cmp(const void *pa, const void *pb)
{
    const plan_span *a = pa, *b = pb;

    return a->begin < b->begin ? -1 : (a->begin > b->begin);
}

/* Orders events by step, deaths before births at the same step. */
static int event_cmp(const void *pa, const void *pb)
{
    const plan_event *a = pa, *b = pb;

    if (a->step != b->step)
        return a->step < b->step ? -1 : 1;
    return a->add - b->add;
}

/* Collects the live bytes after each step's changes into ev (as
 * step, bytes pairs, in place); returns how many steps. */
static size_t live_profile(plan_event *ev, size_t n, size_t *bound)
{
    size_t live = 0, npoints = 0;

    *bound = 0;
    qsort(ev, n, sizeof(*ev), event_cmp);
    for (size_t i = 0; i < n; i++) {
        if (ev[i].add)
            live += ev[i].bytes;
        else
            live -= ev[i].bytes;
        if (live > *bound)
            *bound = live;
        if (i + 1 < n && ev[i + 1].step == ev[i].step)
            continue;
        ev[npoints].step = ev[i].step;
        ev[npoints].bytes = live;
        npoints++;
    }
    return npoints;
}

/* Sweeps the lifetimes for the bound, then each root's pressure. */
kiln_status plan_roots_bound(plan_root *roots, size_t nroots, size_t *bound)
{
    plan_event *ev = kiln_malloc((2 * nroots + 1) * sizeof(*ev));
    size_t n = 0, npoints;

    *bound = 0;
    if (!ev)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory planning the arena");
    for (size_t i = 0; i < nroots; i++) {
        roots[i].pressure = 0;
        if (roots[i].bytes == 0)
            continue;
        ev[n++] = (plan_event){ roots[i].first, 1, roots[i].bytes };
        if (roots[i].last < SIZE_MAX)
            ev[n++] = (plan_event){ roots[i].last + 1, 0, roots[i].bytes };
    }
    npoints = live_profile(ev, n, bound);
    for (size_t i = 0; i < nroots; i++) {
        for (size_t k = 0; k < npoints && roots[i].bytes; k++) {
            if (ev[k].step >= roots[i].first && ev[k].step <= roots[i].last &&
                ev[k].bytes > roots[i].pressure)
                roots[i].pressure = ev[k].bytes;
        }
    }
    kiln_free(ev);
    return KILN_OK;
}

/* Orders roots largest first, then by first step, then by index. */
static int key_cmp_size(const void *pa, const void *pb)
{
    const plan_key *a = pa, *b = pb;

    if (a->r->bytes != b->r->bytes)
        return a->r->bytes > b->r->bytes ? -1 : 1;
    if (a->r->first != b->r->first)
        return a->r->first < b->r->first ? -1 : 1;
    return a->index < b->index ? -1 : (a->index > b->index);
}

/* Orders roots by lifetime length times size (largest first), then as
 * key_cmp_size. */
static int key_cmp_area(const void *pa, const void *pb)
{
    const plan_key *a = pa, *b = pb;
    double x = (double)a->r->bytes * (double)(a->r->last - a->r->first + 1);
    double y = (double)b->r->bytes * (double)(b->r->last - b->r->first + 1);

    if (x != y)
        return x > y ? -1 : 1;
    return key_cmp_size(pa, pb);
}

/* Orders roots by lifetime length (longest first), then as key_cmp_size. */
static int key_cmp_long(const void *pa, const void *pb)
{
    const plan_key *a = pa, *b = pb;
    size_t x = a->r->last - a->r->first, y = b->r->last - b->r->first;

    if (x != y)
        return x > y ? -1 : 1;
    return key_cmp_size(pa, pb);
}

/* Orders roots by pressure (highest first), then as key_cmp_size. */
static int key_cmp_pressure(const void *pa, const void *pb)
{
    const plan_key *a = pa, *b = pb;

    if (a->r->pressure != b->r->pressure)
        return a->r->pressure > b->r->pressure ? -1 : 1;
    return key_cmp_size(pa, pb);
}

/* The starting orders tried. */
static int (*const start_orders[])(const void *, const void *) = {
    key_cmp_size, key_cmp_area, key_cmp_long, key_cmp_pressure
};

/* The offset for root r among the placed roots (order[0..nplaced)) that
 * overlap it in time: the lowest gap that fits (best_fit 0), or the
 * smallest gap that fits, above all of them if none does (best_fit 1). */
static size_t root_offset(plan_search *s, size_t r, size_t nplaced, int best_fit)
{
    const plan_root *x = &s->roots[r];
    size_t n = 0, at = 0, best = SIZE_MAX, best_gap = SIZE_MAX;

    for (size_t j = 0; j < nplaced; j++) {
        const plan_root *p = &s->roots[s->order[j]];
        if (p->bytes == 0 || p->last < x->first || x->last < p->first)
            continue;
        s->spans[n].begin = s->offset[s->order[j]];
        s->spans[n].end = s->spans[n].begin + p->bytes;
        n++;
    }
    qsort(s->spans, n, sizeof(*s->spans), span_cmp);
    for (size_t j = 0; j < n; j++) {
        if (s->spans[j].begin >= at + x->bytes) {
            size_t gap = s->spans[j].begin - at;
            if (!best_fit)
                return at;
            if (gap < best_gap) {
                best_gap = gap;
                best = at;
            }
        }
        if (s->spans[j].end > at)
            at = s->spans[j].end;
    }
    return best != SIZE_MAX ? best : at;
}

/* Places the roots in s->order; returns the arena and sets *top to the
 * order position of the root that set it. */
static size_t pass_run(plan_search *s, int best_fit, size_t *top)
{
    size_t arena = 0;

    *top = 0;
    for (size_t k = 0; k < s->nroots; k++) {
        size_t r = s->order[k];
        size_t bytes = s->roots[r].bytes;
        s->offset[r] = bytes ? root_offset(s, r, k, best_fit) : 0;
        if (s->offset[r] + bytes > arena) {
            arena = s->offset[r] + bytes;
            *top = k;
        }
    }
    return arena;
}

/* Sets s->order to the roots sorted by cmp. */
static void order_start(plan_search *s, int (*cmp)(const void *, const void *))
{
    for (size_t i = 0; i < s->nroots; i++)
        s->keys[i] = (plan_key){ &s->roots[i], i };
    qsort(s->keys, s->nroots, sizeof(*s->keys), cmp);
    for (size_t i = 0; i < s->nroots; i++)
        s->order[i] = s->keys[i].index;
}

/* From the current order, runs up to `passes` passes, each after moving
 * the root that set the previous pass's top to the front; keeps the best
 * in s->best and *arena.  Stops at `bound`.  Returns the passes run. */
static size_t search_from(plan_search *s, int best_fit, size_t passes, size_t bound,
                          size_t *arena)
{
    size_t pass = 0;

    for (; pass < passes && *arena > bound; pass++) {
        size_t top, got = pass_run(s, best_fit, &top);
        if (got < *arena) {
            *arena = got;
            memcpy(s->best, s->offset, s->nroots * sizeof(*s->best));
        }
        if (top == 0)
            return pass + 1;        /* the first root sets the top: nothing to promote */
        size_t r = s->order[top];
        memmove(s->order + 1, s->order, top * sizeof(*s->order));
        s->order[0] = r;
    }
    return pass;
}

/* Runs every starting order and fit; copies the best offsets out. */
kiln_status plan_roots_place(plan_root *roots, size_t nroots, size_t bound, size_t *arena)
{
    size_t n = nroots ? nroots : 1;
    plan_search s = { roots, nroots, kiln_malloc(n * sizeof(size_t)),
                      kiln_malloc(n * sizeof(size_t)), kiln_malloc(n * sizeof(size_t)),
                      kiln_malloc(n * sizeof(plan_span)), kiln_malloc(n * sizeof(plan_key)) };
    const size_t norders = sizeof(start_orders) / sizeof(start_orders[0]);
    double budget = PLAN_WORK_BUDGET / ((double)n * (double)n);
    size_t left = budget >= (double)(2 * norders * PLAN_PROMOTE_PASSES)
                  ? 2 * norders * PLAN_PROMOTE_PASSES
                  : budget >= PLAN_MIN_PASSES ? (size_t)budget : PLAN_MIN_PASSES;
    kiln_status st = KILN_OK;

    *arena = SIZE_MAX;
    if (!s.order || !s.offset || !s.best || !s.spans || !s.keys) {
        st = kiln_fail(KILN_E_HOSTMEM, "out of host memory planning the arena");
        goto out_free;
    }
    /* lowest gap in every order first, then smallest gap; the passes
       left are shared out evenly over the starts still to come */
    for (size_t k = 0; k < 2 * norders && left > 0 && *arena > bound; k++) {
        size_t share = left / (2 * norders - k);
        share = share < 1 ? 1 : share > PLAN_PROMOTE_PASSES ? PLAN_PROMOTE_PASSES : share;
        order_start(&s, start_orders[k % norders]);
        left -= search_from(&s, (int)(k / norders), share, bound, arena);
    }
    if (nroots == 0)
        *arena = 0;
    for (size_t i = 0; i < nroots; i++)
        roots[i].offset = s.best[i];
out_free:
    kiln_free(s.order);
    kiln_free(s.offset);
    kiln_free(s.best);
    kiln_free(s.spans);
    kiln_free(s.keys);
    return st;
}
