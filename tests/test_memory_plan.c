/* The activation arena planner: invariants on random lifetime sets (with
 * and without in-place children), small cases with known optimal arenas,
 * invalid items, the plan of a folded graph with in-place Concat, and
 * the plans of U²-Net- and IS-Net-shaped graphs against the lower bound.
 * No device is needed. */
#include <stdint.h>

#include "graph_fold.h"
#include "host_alloc.h"
#include "graph_lifetime.h"
#include "memory_plan.h"
#include "onnx_build.h"
#include "onnx_load.h"
#include "testutil.h"
#include "unet_graph.h"

/* A 64-bit xorshift generator. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Whether item a is b or one of b's ancestors or descendants. */
static int related(const memory_plan_item *items, size_t a, size_t b)
{
    for (ptrdiff_t p = (ptrdiff_t)a; p >= 0; p = items[p].parent)
        if ((size_t)p == b)
            return 1;
    for (ptrdiff_t p = (ptrdiff_t)b; p >= 0; p = items[p].parent)
        if ((size_t)p == a)
            return 1;
    return 0;
}

/* The widened lifetime of an item: that of its root's whole family. */
static void family_life(const memory_plan_item *items, size_t count, size_t i, size_t *first,
                        size_t *last)
{
    size_t root = i;

    while (items[root].parent >= 0)
        root = (size_t)items[root].parent;
    *first = items[i].first;
    *last = items[i].last;
    for (size_t j = 0; j < count; j++) {
        size_t r = j;
        while (items[r].parent >= 0)
            r = (size_t)items[r].parent;
        if (r != root)
            continue;
        if (items[j].first < *first)
            *first = items[j].first;
        if (items[j].last > *last)
            *last = items[j].last;
    }
}

/* Checks every invariant of a plan; returns the number of violations. */
static int plan_verify(const memory_plan_item *items, size_t count, const memory_plan *plan)
{
    int bad = 0;
    size_t max_step = 0, brute = 0, sum = 0;

    for (size_t i = 0; i < count; i++) {
        if (items[i].parent >= 0) {
            size_t p = (size_t)items[i].parent;
            bad += plan->offsets[i] != plan->offsets[p] + items[i].parent_offset;
            continue;
        }
        bad += plan->offsets[i] % MEMORY_PLAN_ALIGN != 0;
        bad += plan->offsets[i] + items[i].bytes > plan->arena_bytes;
        sum += (items[i].bytes + MEMORY_PLAN_ALIGN - 1) / MEMORY_PLAN_ALIGN * MEMORY_PLAN_ALIGN;
    }
    for (size_t i = 0; i < count; i++) {
        size_t fi, li;
        family_life(items, count, i, &fi, &li);
        if (li > max_step)
            max_step = li;
        for (size_t j = i + 1; j < count; j++) {
            size_t fj, lj;
            if (!items[i].bytes || !items[j].bytes || related(items, i, j))
                continue;
            family_life(items, count, j, &fj, &lj);
            if (li < fj || lj < fi)
                continue;
            /* lifetimes overlap: the byte ranges must not */
            if (plan->offsets[i] < plan->offsets[j] + items[j].bytes &&
                plan->offsets[j] < plan->offsets[i] + items[i].bytes) {
                fprintf(stderr, "items %zu and %zu share bytes\n", i, j);
                bad++;
            }
        }
    }
    /* the lower bound, by brute force over steps (roots, aligned sizes) */
    for (size_t s = 0; s <= max_step; s++) {
        size_t live = 0;
        for (size_t i = 0; i < count; i++) {
            size_t f, l;
            if (items[i].parent >= 0)
                continue;
            family_life(items, count, i, &f, &l);
            if (f <= s && s <= l)
                live += (items[i].bytes + MEMORY_PLAN_ALIGN - 1) / MEMORY_PLAN_ALIGN *
                        MEMORY_PLAN_ALIGN;
        }
        if (live > brute)
            brute = live;
    }
    bad += plan->lower_bound != brute;
    bad += plan->arena_bytes < plan->lower_bound;
    bad += plan->arena_bytes > sum;
    bad += plan->sum_bytes != sum;
    return bad;
}

/* Random lifetime sets, some with in-place children. */
static void test_random(void)
{
    uint64_t rng = 12345;
    double worst = 1.0, total_ratio = 0.0;
    int sets = 0;

    for (int round = 0; round < 400; round++) {
        size_t count = 1 + rng_next(&rng) % 120, steps = 2 + rng_next(&rng) % 60;
        memory_plan_item *items = calloc(count, sizeof(*items));
        size_t *cursor = calloc(count, sizeof(*cursor));   /* next free byte per parent */
        memory_plan plan;
        int with_children = round % 2;

        for (size_t i = 0; i < count; i++) {
            size_t a = rng_next(&rng) % steps, b = rng_next(&rng) % steps;
            items[i].first = a < b ? a : b;
            items[i].last = a < b ? b : a;
            items[i].bytes = rng_next(&rng) % 8 == 0 ? 0 : 1 + rng_next(&rng) % 100000;
            items[i].parent = -1;
            /* a child takes the next free slice of an earlier item, as
             * Concat inputs do: siblings never overlap */
            if (with_children && i > 0 && rng_next(&rng) % 4 == 0) {
                size_t p = rng_next(&rng) % i;
                size_t room = items[p].bytes - cursor[p];
                if (room > 0) {
                    items[i].parent = (ptrdiff_t)p;
                    items[i].bytes = 1 + rng_next(&rng) % room;
                    items[i].parent_offset = cursor[p];
                    cursor[p] += items[i].bytes;
                }
            }
        }
        CHECK_OK(memory_plan_build(items, count, &plan));
        int bad = plan_verify(items, count, &plan);
        CHECK(bad == 0);
        if (plan.lower_bound > 0) {
            double ratio = (double)plan.arena_bytes / (double)plan.lower_bound;
            total_ratio += ratio;
            sets++;
            if (ratio > worst)
                worst = ratio;
        }
        memory_plan_free(&plan);
        free(items);
        free(cursor);
    }
    printf("random: %d sets, arena / lower bound: mean %.3f, worst %.3f\n", sets,
           sets ? total_ratio / sets : 0.0, worst);
}

/* A set too large for every search pass (the work budget cuts it to a
 * few): the plan is still valid, checked pairwise (no parents here). */
static void test_large(void)
{
    const size_t count = 1500;
    memory_plan_item *items = calloc(count, sizeof(*items));
    uint64_t rng = 777;
    memory_plan plan;
    int bad = 0;

    if (!items)
        return;
    for (size_t i = 0; i < count; i++) {
        items[i].first = rng_next(&rng) % count;
        items[i].last = items[i].first + rng_next(&rng) % 40;
        items[i].bytes = 1 + rng_next(&rng) % 2000000;
        items[i].parent = -1;
    }
    CHECK_OK(memory_plan_build(items, count, &plan));
    for (size_t i = 0; plan.offsets && i < count; i++) {
        bad += plan.offsets[i] % MEMORY_PLAN_ALIGN != 0;
        bad += plan.offsets[i] + items[i].bytes > plan.arena_bytes;
        for (size_t j = i + 1; j < count; j++) {
            if (items[i].last < items[j].first || items[j].last < items[i].first)
                continue;
            bad += plan.offsets[i] < plan.offsets[j] + items[j].bytes &&
                   plan.offsets[j] < plan.offsets[i] + items[i].bytes;
        }
    }
    CHECK(bad == 0);
    CHECK(plan.arena_bytes >= plan.lower_bound);
    printf("large: %zu items, arena / lower bound %.3f\n", count,
           plan.lower_bound ? (double)plan.arena_bytes / (double)plan.lower_bound : 1.0);
    memory_plan_free(&plan);
    free(items);
}

/* Plans `items` and checks the arena and the lower bound. */
static void expect_plan(const memory_plan_item *items, size_t count, size_t arena, size_t bound)
{
    memory_plan plan;

    CHECK_OK(memory_plan_build(items, count, &plan));
    CHECK(plan.arena_bytes == arena);
    CHECK(plan.lower_bound == bound);
    CHECK(plan_verify(items, count, &plan) == 0);
    if (plan.arena_bytes != arena || plan.lower_bound != bound)
        fprintf(stderr, "arena %zu (want %zu), bound %zu (want %zu)\n", plan.arena_bytes, arena,
                plan.lower_bound, bound);
    memory_plan_free(&plan);
}

/* Cases whose optimal arena is known. */
static void test_known(void)
{
    /* a chain: each tensor dies as the next is made; two slots suffice */
    const memory_plan_item chain[] = {
        { 1000, 0, 1, -1, 0 }, { 1000, 1, 2, -1, 0 }, { 1000, 2, 3, -1, 0 },
        { 1000, 3, 4, -1, 0 } };
    expect_plan(chain, 4, 2048, 2048);

    /* everything live at once: the sum */
    const memory_plan_item all[] = { { 256, 0, 5, -1, 0 }, { 512, 0, 5, -1, 0 },
                                     { 768, 0, 5, -1, 0 } };
    expect_plan(all, 3, 1536, 1536);

    /* a skip connection: the big early tensor stays live to the end */
    const memory_plan_item skip[] = {
        { 4096, 0, 4, -1, 0 }, { 1024, 1, 2, -1, 0 }, { 1024, 2, 3, -1, 0 },
        { 2048, 3, 4, -1, 0 } };
    expect_plan(skip, 4, 7168, 7168);

    /* in place: two halves written straight into their Concat output; X
     * dies at step 1, when the first half is made */
    const memory_plan_item concat[] = {
        { 1024, 0, 1, -1, 0 },          /* X */
        { 2048, 3, 5, -1, 0 },          /* the Concat output */
        { 1024, 1, 3, 1, 0 },           /* first half */
        { 1024, 2, 3, 1, 1024 } };      /* second half */
    expect_plan(concat, 4, 3072, 3072);

    /* sizes are aligned to 256 bytes; empty items take nothing */
    const memory_plan_item odd[] = { { 1, 0, 0, -1, 0 }, { 257, 0, 0, -1, 0 },
                                     { 0, 0, 0, -1, 0 } };
    expect_plan(odd, 3, 768, 768);
    expect_plan(NULL, 0, 0, 0);
}

/* Items the planner must refuse. */
static void test_invalid(void)
{
    memory_plan plan;
    const memory_plan_item backwards[] = { { 16, 3, 2, -1, 0 } };
    const memory_plan_item cycle[] = { { 16, 0, 1, 1, 0 }, { 16, 0, 1, 0, 0 } };
    const memory_plan_item too_big[] = { { 16, 0, 1, -1, 0 }, { 16, 0, 1, 0, 8 } };
    const memory_plan_item bad_parent[] = { { 16, 0, 1, 7, 0 } };
    const memory_plan_item huge[] = { { SIZE_MAX - 3, 0, 1, -1, 0 } };

    CHECK_STATUS(memory_plan_build(backwards, 1, &plan), KILN_E_INVAL);
    CHECK_MSG("ends (step 2) before it starts (step 3)");
    CHECK_STATUS(memory_plan_build(cycle, 2, &plan), KILN_E_INVAL);
    CHECK_MSG("cycle of parents");
    CHECK_STATUS(memory_plan_build(too_big, 2, &plan), KILN_E_INVAL);
    CHECK_MSG("does not fit its parent");
    CHECK_STATUS(memory_plan_build(bad_parent, 1, &plan), KILN_E_INVAL);
    CHECK_MSG("invalid parent");
    CHECK_STATUS(memory_plan_build(huge, 1, &plan), KILN_E_INVAL);
    CHECK_MSG("too large");
}

/* The root (outermost parent) of tensor t. */
static int life_root(const graph_lifetime *life, int t)
{
    while (life[t].parent >= 0)
        t = life[t].parent;
    return t;
}

/* Whether tensor a is b or one of b's ancestors or descendants. */
static int life_related(const graph_lifetime *life, int a, int b)
{
    for (int p = a; p >= 0; p = life[p].parent)
        if (p == b)
            return 1;
    for (int p = b; p >= 0; p = life[p].parent)
        if (p == a)
            return 1;
    return 0;
}

/* Checks a graph's plan (made with inplace_concat): constants are outside
 * the arena, every runtime tensor inside it, a child at its parent's
 * offset plus its own, and two unrelated runtime tensors whose families
 * (a root and everything inside it) are live at one step share no byte.
 * Returns the number of violations. */
static int graph_plan_verify(const kiln_graph *g, int inplace_concat, const memory_plan *plan)
{
    graph_lifetime *life = NULL;
    size_t *first = NULL, *last = NULL;        /* per root: the family's lifetime */
    int bad = 0;

    CHECK_OK(graph_lifetimes(g, inplace_concat, &life));
    first = calloc(g->ntensors + 1, sizeof(*first));
    last = calloc(g->ntensors + 1, sizeof(*last));
    if (!life || !first || !last) {
        kiln_free(life);
        free(first);
        free(last);
        return 1;
    }
    for (size_t t = 0; t < g->ntensors; t++) {
        first[t] = life[t].first;
        last[t] = life[t].last;
    }
    for (size_t t = 0; t < g->ntensors; t++) {
        int r = life_root(life, (int)t);
        if (life[t].first < first[r])
            first[r] = life[t].first;
        if (life[t].last > last[r])
            last[r] = life[t].last;
    }
    for (size_t t = 0; t < g->ntensors; t++) {
        int rt = life_root(life, (int)t);
        bad += (plan->offsets[t] == MEMORY_PLAN_NONE) != !life[t].planned;
        if (!life[t].planned)
            continue;
        bad += plan->offsets[t] + life[t].bytes > plan->arena_bytes;
        bad += plan->parents[t] != life[t].parent;
        if (life[t].parent >= 0)
            bad += plan->offsets[t] != plan->offsets[life[t].parent] + life[t].parent_offset;
        for (size_t u = t + 1; u < g->ntensors; u++) {
            int ru = life_root(life, (int)u);
            if (!life[u].planned || life_related(life, (int)t, (int)u) ||
                last[rt] < first[ru] || last[ru] < first[rt])
                continue;
            if (plan->offsets[t] < plan->offsets[u] + life[u].bytes &&
                plan->offsets[u] < plan->offsets[t] + life[t].bytes) {
                fprintf(stderr, "tensors %s and %s share bytes\n", g->tensors[t].name,
                        g->tensors[u].name);
                bad++;
            }
        }
    }
    kiln_free(life);
    free(first);
    free(last);
    return bad;
}

/* The mini U-Net's plan: the Resize output is written in place into the
 * Concat; every tensor pair live together is disjoint. */
static void test_graph(void)
{
    onnx_build *b = onnx_build_new(11);
    kiln_graph *g = NULL;
    memory_plan plain, inplace;
    size_t size;

    onnx_build_mini_unet(b);
    uint8_t *bytes = onnx_build_pack(b, &size);
    CHECK_OK(onnx_load_buffer(bytes, size, NULL, &g));
    free(bytes);
    onnx_build_free(b);
    if (!g)
        return;
    CHECK_OK(graph_fold(g, NULL, NULL));
    CHECK_OK(memory_plan_graph(g, 0, &plain));
    CHECK_OK(memory_plan_graph(g, 1, &inplace));
    int cat = graph_find_tensor(g, "cat"), up = graph_find_tensor(g, "u1");
    int r1 = graph_find_tensor(g, "r1");
    CHECK(cat >= 0 && up >= 0 && r1 >= 0);
    if (cat >= 0 && up >= 0 && r1 >= 0 && inplace.offsets) {
        CHECK(inplace.parents[up] == cat);
        CHECK(inplace.parents[r1] == -1);      /* MaxPool reads it too */
        CHECK(inplace.offsets[up] == inplace.offsets[cat] + 4 * 8 * 8 * sizeof(float));
        CHECK(inplace.inplace == 1);
        CHECK(plain.inplace == 0);
    }
    CHECK(graph_plan_verify(g, 1, &inplace) == 0);
    CHECK(graph_plan_verify(g, 0, &plain) == 0);
    CHECK(inplace.arena_bytes >= inplace.lower_bound);
    memory_plan_print(stdout, &inplace);
    printf("mini U-Net: arena %zu bytes (lower bound %zu, sum %zu); with in-place Concat %zu "
           "(lower bound %zu, %zu in place)\n", plain.arena_bytes, plain.lower_bound,
           plain.sum_bytes, inplace.arena_bytes, inplace.lower_bound, inplace.inplace);
    memory_plan_free(&plain);
    memory_plan_free(&inplace);
    graph_free(g);
}

/* U²-Net at 320 and IS-Net at 1024, shaped as the exported full models:
 * the plan is valid and its arena within 1.1x of the liveness lower
 * bound (plain greedy orders alone leave them near 1.23x). */
static void test_unet_shapes(void)
{
    static const struct { unet_arch arch; int64_t size; const char *name; } nets[] = {
        { UNET_ARCH_U2NET, 320, "U2-Net 320" }, { UNET_ARCH_ISNET, 1024, "IS-Net 1024" },
        { UNET_ARCH_U2NET, 512, "U2-Net 512" }, { UNET_ARCH_ISNET, 640, "IS-Net 640" } };

    for (size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++) {
        kiln_graph *g = NULL;
        memory_plan plan;
        CHECK_OK(unet_graph_build(nets[i].arch, nets[i].size, &g));
        if (!g)
            continue;
        CHECK_OK(memory_plan_graph(g, 1, &plan));
        if (plan.offsets) {
            double ratio = (double)plan.arena_bytes / (double)plan.lower_bound;
            CHECK(graph_plan_verify(g, 1, &plan) == 0);
            CHECK(plan.inplace > 0);
            CHECK(ratio <= 1.1);
            printf("%s: %zu nodes, arena %zu bytes, lower bound %zu, arena / bound %.3f\n",
                   nets[i].name, g->nnodes, plan.arena_bytes, plan.lower_bound, ratio);
        }
        memory_plan_free(&plan);
        graph_free(g);
    }
}

/* Random invariants, known arenas, refusals, a folded graph. */
int main(void)
{
    test_random();
    test_large();
    test_known();
    test_invalid();
    test_graph();
    test_unet_shapes();
    return test_summary("test_memory_plan");
}
