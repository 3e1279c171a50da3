/* Arena planning (see memory_plan.h).
 *
 * Items inside a parent are first resolved to their root (the outermost
 * parent) and an offset relative to it; only roots are placed, with
 * lifetimes widened to cover their children (memory_plan_place.h holds
 * the placement search). */
#include <stdlib.h>
#include <string.h>

#include "graph_lifetime.h"
#include "host_alloc.h"
#include "memory_plan.h"
#include "memory_plan_place.h"
#include "clock.h"
#include "phase_time.h"
#include "status.h"

/* Rounds up to the alignment; 0 on overflow (callers check bytes > 0). */
static size_t align_up(size_t bytes)
{
    if (bytes > SIZE_MAX - (MEMORY_PLAN_ALIGN - 1))
        return 0;
    return (bytes + MEMORY_PLAN_ALIGN - 1) / MEMORY_PLAN_ALIGN * MEMORY_PLAN_ALIGN;
}

/* Checks each item and its parent link. */
static kiln_status items_check(const memory_plan_item *items, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const memory_plan_item *it = &items[i];
        if (it->last < it->first)
            return kiln_fail(KILN_E_INVAL, "memory plan item %zu ends (step %zu) before it "
                             "starts (step %zu)", i, it->last, it->first);
        if (it->bytes > 0 && align_up(it->bytes) == 0)
            return kiln_fail(KILN_E_INVAL, "memory plan item %zu is too large", i);
        if (it->parent < 0)
            continue;
        if ((size_t)it->parent >= count || (size_t)it->parent == i)
            return kiln_fail(KILN_E_INVAL, "memory plan item %zu has an invalid parent %td", i,
                             it->parent);
        const memory_plan_item *p = &items[it->parent];
        if (it->parent_offset > p->bytes || it->bytes > p->bytes - it->parent_offset)
            return kiln_fail(KILN_E_INVAL, "memory plan item %zu (%zu bytes at %zu) does not fit "
                             "its parent %td (%zu bytes)", i, it->bytes, it->parent_offset,
                             it->parent, p->bytes);
    }
    return KILN_OK;
}

/* Finds each item's root and its offset inside it. */
static kiln_status roots_resolve(const memory_plan_item *items, size_t count, size_t *root,
                                 size_t *rel)
{
    for (size_t i = 0; i < count; i++) {
        size_t at = i, off = 0, depth = 0;
        while (items[at].parent >= 0) {
            if (++depth > count)
                return kiln_fail(KILN_E_INVAL, "memory plan item %zu has a cycle of parents", i);
            off += items[at].parent_offset;
            at = (size_t)items[at].parent;
        }
        root[i] = at;
        rel[i] = off;
    }
    return KILN_OK;
}

/* Collects the roots (widened over their children), places them and
 * fills the plan. */
static kiln_status roots_place(const memory_plan_item *items, size_t count, const size_t *root,
                               const size_t *rel, memory_plan *plan)
{
    plan_root *roots = kiln_malloc((count ? count : 1) * sizeof(*roots));
    size_t *slot = kiln_malloc((count ? count : 1) * sizeof(*slot));
    size_t nroots = 0;
    kiln_status st = KILN_OK;

    if (!roots || !slot) {
        st = kiln_fail(KILN_E_HOSTMEM, "out of host memory planning the arena");
        goto out_free_scratch;
    }
    for (size_t i = 0; i < count; i++) {
        if (root[i] != i)
            continue;
        slot[i] = nroots;
        roots[nroots] = (plan_root){ i, align_up(items[i].bytes), items[i].first, items[i].last,
                                     0, 0 };
        if (plan->sum_bytes > SIZE_MAX / 2 || roots[nroots].bytes > SIZE_MAX / 2 - plan->sum_bytes) {
            st = kiln_fail(KILN_E_INVAL, "memory plan sizes overflow");
            goto out_free_scratch;
        }
        plan->sum_bytes += roots[nroots].bytes;
        nroots++;
    }
    /* widen each root's lifetime over its children */
    for (size_t i = 0; i < count; i++) {
        plan_root *r = &roots[slot[root[i]]];
        if (items[i].first < r->first)
            r->first = items[i].first;
        if (items[i].last > r->last)
            r->last = items[i].last;
        plan->inplace += root[i] != i;
    }
    st = plan_roots_bound(roots, nroots, &plan->lower_bound);
    if (st == KILN_OK)
        st = plan_roots_place(roots, nroots, plan->lower_bound, &plan->arena_bytes);
    if (st != KILN_OK)
        goto out_free_scratch;
    for (size_t i = 0; i < count; i++)
        plan->offsets[i] = roots[slot[root[i]]].offset + rel[i];
out_free_scratch:
    kiln_free(roots);
    kiln_free(slot);
    return st;
}

/* Validates, resolves roots, places them. */
kiln_status memory_plan_build(const memory_plan_item *items, size_t count, memory_plan *plan)
{
    size_t *root = NULL, *rel = NULL;
    kiln_status st;

    memset(plan, 0, sizeof(*plan));
    st = items_check(items, count);
    if (st != KILN_OK)
        return st;
    plan->count = count;
    plan->offsets = kiln_malloc((count ? count : 1) * sizeof(*plan->offsets));
    plan->parents = kiln_malloc((count ? count : 1) * sizeof(*plan->parents));
    root = kiln_malloc((count ? count : 1) * sizeof(*root));
    rel = kiln_malloc((count ? count : 1) * sizeof(*rel));
    if (!plan->offsets || !plan->parents || !root || !rel) {
        st = kiln_fail(KILN_E_HOSTMEM, "out of host memory planning the arena");
        goto out_free_plan;
    }
    for (size_t i = 0; i < count; i++)
        plan->parents[i] = items[i].parent;
    st = roots_resolve(items, count, root, rel);
    if (st == KILN_OK)
        st = roots_place(items, count, root, rel, plan);
out_free_plan:
    kiln_free(root);
    kiln_free(rel);
    if (st != KILN_OK)
        memory_plan_free(plan);
    return st;
}

/* Maps planned tensors to items, plans them, maps offsets back. */
kiln_status memory_plan_graph(const kiln_graph *g, int inplace_concat, memory_plan *plan)
{
    graph_lifetime *life;
    memory_plan inner;
    size_t n = 0, nt = g->ntensors ? g->ntensors : 1;
    double t0 = kiln_clock_ms();
    kiln_status st;

    memset(plan, 0, sizeof(*plan));
    st = graph_lifetimes(g, inplace_concat, &life);
    if (st != KILN_OK)
        return st;
    memory_plan_item *items = kiln_malloc(nt * sizeof(*items));
    size_t *item_of = kiln_malloc(nt * sizeof(*item_of));
    if (!items || !item_of) {
        st = kiln_fail(KILN_E_HOSTMEM, "out of host memory planning the arena");
        goto out_free_items;
    }
    for (size_t t = 0; t < g->ntensors; t++)
        item_of[t] = life[t].planned ? n++ : MEMORY_PLAN_NONE;
    for (size_t t = 0; t < g->ntensors; t++) {
        if (!life[t].planned)
            continue;
        memory_plan_item *it = &items[item_of[t]];
        it->bytes = life[t].bytes;
        it->first = life[t].first;
        it->last = life[t].last;
        it->parent = life[t].parent >= 0 ? (ptrdiff_t)item_of[life[t].parent] : -1;
        it->parent_offset = life[t].parent_offset;
    }
    st = memory_plan_build(items, n, &inner);
    if (st != KILN_OK)
        goto out_free_items;
    plan->count = g->ntensors;
    plan->offsets = kiln_malloc(nt * sizeof(*plan->offsets));
    plan->parents = kiln_malloc(nt * sizeof(*plan->parents));
    if (!plan->offsets || !plan->parents) {
        st = kiln_fail(KILN_E_HOSTMEM, "out of host memory planning the arena");
        memory_plan_free(plan);
        goto out_free_inner;
    }
    for (size_t t = 0; t < g->ntensors; t++) {
        plan->offsets[t] = life[t].planned ? inner.offsets[item_of[t]] : MEMORY_PLAN_NONE;
        plan->parents[t] = life[t].planned ? life[t].parent : -1;
    }
    plan->arena_bytes = inner.arena_bytes;
    plan->lower_bound = inner.lower_bound;
    plan->sum_bytes = inner.sum_bytes;
    plan->inplace = inner.inplace;
out_free_inner:
    memory_plan_free(&inner);
out_free_items:
    kiln_free(items);
    kiln_free(item_of);
    kiln_free(life);
    kiln_phase_lap(KILN_PHASE_MODEL_PLAN, &t0);
    return st;
}

/* One line of figures in MiB. */
void memory_plan_print(FILE *fp, const memory_plan *plan)
{
    const double mib = 1024.0 * 1024.0;

    fprintf(fp, "arena:       %.2f MiB (%zu bytes) planned; liveness lower bound %.2f MiB (%zu "
            "bytes), arena / bound %.3f; activations placed separately sum to %.2f MiB; %zu "
            "Concat inputs in place\n", (double)plan->arena_bytes / mib, plan->arena_bytes,
            (double)plan->lower_bound / mib, plan->lower_bound,
            plan->lower_bound ? (double)plan->arena_bytes / (double)plan->lower_bound : 1.0,
            (double)plan->sum_bytes / mib, plan->inplace);
}

/* Frees the arrays. */
void memory_plan_free(memory_plan *plan)
{
    kiln_free(plan->offsets);
    kiln_free(plan->parents);
    plan->offsets = NULL;
    plan->parents = NULL;
    plan->count = 0;
}
