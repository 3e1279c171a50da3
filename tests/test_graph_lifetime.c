/* In-place Concat inputs (models/graph_lifetime.c) and the engine's use
 * of them.
 *
 * On the mini U-Net (Relu output r1 read by the MaxPool and by the
 * Concat "cat", the Resize output u1 read by the Concat alone): the
 * SINGLE rule places u1 inside cat and leaves r1 out; the SHARED rule
 * places r1 too, at offset 0, and the arena plan keeps every pair of
 * tensors live together apart (a child inside its parent aside).  A
 * tensor read by two Concats goes inside the first only.  Then the
 * engine, which plans with SHARED, runs the mini U-Net and matches the
 * host evaluation of its folded graph within 1e-5 * (1 + |ref|), with an
 * empty pool ledger at the end. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph_eval.h"
#include "graph_fold.h"
#include "graph_lifetime.h"
#include "host_alloc.h"
#include "memory_plan.h"
#include "nn_model.h"
#include "onnx_build.h"
#include "onnx_load.h"
#include "testutil.h"

/* Loads and folds a builder's model (the builder is freed). */
static kiln_graph *load_folded(onnx_build *b)
{
    kiln_graph *g = NULL;
    size_t size;
    uint8_t *bytes = onnx_build_pack(b, &size);
    kiln_status st = onnx_load_buffer(bytes, size, NULL, &g);

    free(bytes);
    onnx_build_free(b);
    if (st == KILN_OK)
        st = graph_fold(g, NULL, NULL);
    CHECK_OK(st);
    if (st != KILN_OK) {
        graph_free(g);
        return NULL;
    }
    return g;
}

/* Checks that every two planned tensors live at the same time are
 * disjoint in the plan, unless one is inside the other. */
static void check_disjoint(const kiln_graph *g, const memory_plan *plan, int rule)
{
    graph_lifetime *life = NULL;

    CHECK_OK(graph_lifetimes(g, rule, &life));
    /* a parent lives from its first child's production on */
    for (size_t t = 0; life && t < g->ntensors; t++)
        if (life[t].parent >= 0 && life[t].first < life[life[t].parent].first)
            life[life[t].parent].first = life[t].first;
    for (size_t t = 0; life && t < g->ntensors; t++) {
        for (size_t u = t + 1; u < g->ntensors; u++) {
            if (!life[t].planned || !life[u].planned || life[t].parent == (int)u ||
                life[u].parent == (int)t)
                continue;
            if (life[t].last < life[u].first || life[u].last < life[t].first)
                continue;
            CHECK(plan->offsets[t] + life[t].bytes <= plan->offsets[u] ||
                  plan->offsets[u] + life[u].bytes <= plan->offsets[t]);
        }
    }
    kiln_free(life);
}

/* SINGLE and SHARED on the mini U-Net. */
static void test_rules(void)
{
    onnx_build *b = onnx_build_new(11);
    memory_plan single, shared;

    onnx_build_mini_unet(b);
    kiln_graph *g = load_folded(b);
    if (!g)
        return;
    int cat = graph_find_tensor(g, "cat"), up = graph_find_tensor(g, "u1");
    int r1 = graph_find_tensor(g, "r1");
    CHECK(cat >= 0 && up >= 0 && r1 >= 0);
    CHECK_OK(memory_plan_graph(g, GRAPH_INPLACE_CONCAT_SINGLE, &single));
    CHECK_OK(memory_plan_graph(g, GRAPH_INPLACE_CONCAT_SHARED, &shared));
    if (cat >= 0 && up >= 0 && r1 >= 0 && single.offsets && shared.offsets) {
        CHECK(single.parents[up] == cat && single.parents[r1] == -1 && single.inplace == 1);
        CHECK(shared.parents[up] == cat && shared.parents[r1] == cat && shared.inplace == 2);
        CHECK(shared.offsets[r1] == shared.offsets[cat]);
        CHECK(shared.offsets[up] == shared.offsets[cat] + 4 * 8 * 8 * sizeof(float));
        check_disjoint(g, &shared, GRAPH_INPLACE_CONCAT_SHARED);
        CHECK(shared.arena_bytes >= shared.lower_bound);
    }
    memory_plan_free(&single);
    memory_plan_free(&shared);
    graph_free(g);
}

/* A tensor read by two Concats goes inside the first only. */
static void test_two_concats(void)
{
    const int64_t xd[4] = { 1, 2, 4, 4 };
    onnx_build *b = onnx_build_new(13);
    graph_lifetime *life = NULL;

    onnx_build_input(b, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 4, xd);
    onnx_build_node(b, "Relu", "relu", (const char *[]){ "x", NULL },
                    (const char *[]){ "s", NULL });
    onnx_build_node(b, "Sigmoid", "sig", (const char *[]){ "x", NULL },
                    (const char *[]){ "t", NULL });
    Onnx__NodeProto *c1 = onnx_build_node(b, "Concat", "cat1", (const char *[]){ "s", "t", NULL },
                                          (const char *[]){ "c1", NULL });
    onnx_build_attr_int(b, c1, "axis", 1);
    Onnx__NodeProto *c2 = onnx_build_node(b, "Concat", "cat2",
                                          (const char *[]){ "c1", "s", NULL },
                                          (const char *[]){ "y", NULL });
    onnx_build_attr_int(b, c2, "axis", 1);
    onnx_build_output(b, "y");
    kiln_graph *g = load_folded(b);
    if (!g)
        return;
    CHECK_OK(graph_lifetimes(g, GRAPH_INPLACE_CONCAT_SHARED, &life));
    int s = graph_find_tensor(g, "s"), t = graph_find_tensor(g, "t");
    int c1i = graph_find_tensor(g, "c1"), y = graph_find_tensor(g, "y");
    CHECK(s >= 0 && t >= 0 && c1i >= 0 && y >= 0);
    if (life && s >= 0 && t >= 0 && c1i >= 0 && y >= 0) {
        CHECK(life[s].parent == c1i && life[s].parent_offset == 0);
        CHECK(life[t].parent == c1i && life[c1i].parent == y);
        CHECK(life[y].parent == -1);
    }
    kiln_free(life);
    graph_free(g);
}

/* The engine (SHARED plan) against the host evaluation of the folded
 * mini U-Net. */
static void test_engine(const char *dir)
{
    static const onnx_input_shape shape8 = { NULL, 4, { 1, 3, 8, 8 } };
    float in[3 * 8 * 8], got[2 * 8 * 8];
    char path[4096];
    onnx_build *b = onnx_build_new(11);
    kiln_device *dev;
    nn_model *m = NULL;
    kiln_status st = KILN_OK;

    for (int i = 0; i < 3 * 8 * 8; i++)
        in[i] = sinf((float)i * 0.37f);
    onnx_build_mini_unet(b);
    snprintf(path, sizeof(path), "%s/mini.onnx", dir);
    onnx_build_write(b, path);
    kiln_graph *g = load_folded(b);
    if (!g)
        return;
    graph_tensor *x = &g->tensors[g->inputs[0]];
    st = graph_tensor_alloc_data(x);
    if (st == KILN_OK)
        memcpy(x->f32, in, sizeof(in));
    for (size_t i = 0; i < g->nnodes && st == KILN_OK; i++)
        st = graph_eval_node(g, (int)i);
    CHECK_OK(st);
    dev = test_device_open(0);
    CHECK_OK(nn_model_acquire(dev, path, &shape8, 1, &m));
    if (m && st == KILN_OK) {
        nn_model_facts facts;
        const graph_tensor *want = &g->tensors[g->outputs[0]];
        nn_model_facts_get(m, &facts);
        CHECK(facts.inplace == 2);      /* u1 and the shared r1 */
        CHECK_OK(nn_model_write_input(m, 0, in, 3 * 8 * 8));
        CHECK_OK(nn_model_run(m));
        CHECK_OK(nn_model_read_output(m, 0, got, 2 * 8 * 8));
        for (int i = 0; i < 2 * 8 * 8 && want->f32; i++)
            CHECK(fabs((double)got[i] - (double)want->f32[i]) <=
                  1e-5 * (1.0 + fabs((double)want->f32[i])));
    }
    nn_model_release(m);
    test_device_close(dev);
    graph_free(g);
}

/* In-place rules, then the engine. */
int main(void)
{
    const char *dir = test_tmpdir("test_graph_lifetime");

    test_rules();
    test_two_concats();
    test_engine(dir);
    return test_summary("test_graph_lifetime");
}
