/* The folding pipeline (see graph_fold.h): output selection, pruning,
 * inference with constant folding, fusion, lowering, compaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph_edit.h"
#include "graph_eval.h"
#include "graph_fold.h"
#include "graph_fuse.h"
#include "graph_infer.h"
#include "graph_lower.h"
#include "host_alloc.h"
#include "clock.h"
#include "phase_time.h"
#include "status.h"

#define LABEL_MAX 256

/* Replaces the graph outputs with the requested ones. */
static kiln_status outputs_select(kiln_graph *g, const graph_fold_options *opt)
{
    if (opt && opt->all_outputs)
        return KILN_OK;
    if (!opt || opt->noutputs == 0) {
        g->noutputs = g->noutputs ? 1 : 0;
        return KILN_OK;
    }
    int *picked = kiln_malloc(opt->noutputs * sizeof(*picked));
    if (!picked)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory selecting outputs");
    for (size_t i = 0; i < opt->noutputs; i++) {
        int found = -1;
        for (size_t k = 0; k < g->noutputs; k++)
            if (opt->outputs[i] && strcmp(g->tensors[g->outputs[k]].name, opt->outputs[i]) == 0)
                found = g->outputs[k];
        if (found < 0) {
            char names[512] = "";
            size_t used = 0;
            for (size_t k = 0; k < g->noutputs && used < sizeof(names); k++) {
                int w = snprintf(names + used, sizeof(names) - used, "%s'%.60s'", k ? ", " : "",
                                 g->tensors[g->outputs[k]].name);
                if (w < 0)
                    break;
                used += (size_t)w;
            }
            kiln_free(picked);
            return kiln_fail(KILN_E_INVAL, "the model has no output named '%.100s' (its outputs: "
                             "%s)", opt->outputs[i] ? opt->outputs[i] : "", names);
        }
        picked[i] = found;
    }
    memcpy(g->outputs, picked, opt->noutputs * sizeof(*picked));
    g->noutputs = opt->noutputs;
    kiln_free(picked);
    return KILN_OK;
}

/* Whether node n can be evaluated now: Shape always, the others when
 * every present input is constant. */
static int node_foldable(const kiln_graph *g, const graph_node *n)
{
    if (!graph_eval_supports(n->op))
        return 0;
    if (n->op == GRAPH_OP_SHAPE)
        return 1;
    for (size_t k = 0; k < n->ninputs; k++)
        if (n->inputs[k] >= 0 && !graph_tensor_is_const(&g->tensors[n->inputs[k]]))
            return 0;
    return 1;
}

/* Infers each node in order and folds the constant ones. */
static kiln_status infer_and_fold(kiln_graph *g, graph_fold_stats *stats)
{
    char label[LABEL_MAX];

    for (size_t i = 0; i < g->nnodes; i++) {
        graph_node *n = &g->nodes[i];
        if (n->op == GRAPH_OP_NONE)
            continue;
        kiln_status st = graph_infer_node(g, (int)i);
        if (st != KILN_OK)
            return st;
        if (!node_foldable(g, n))
            continue;
        int64_t elements = graph_tensor_elements(&g->tensors[n->outputs[0]]);
        if (elements > GRAPH_FOLD_MAX_ELEMENTS || graph_eval_cost(g, n) > GRAPH_FOLD_MAX_WORK) {
            if (graph_op_is_runtime(n->op))
                continue;
            return kiln_fail(KILN_E_LIMIT, "%s: folding would create a constant of %lld "
                             "elements (kiln folds at most %lld)",
                             graph_node_label(n, label, sizeof(label)), (long long)elements,
                             (long long)GRAPH_FOLD_MAX_ELEMENTS);
        }
        st = graph_eval_node(g, (int)i);
        if (st != KILN_OK)
            return st;
        g->tensors[n->outputs[0]].producer = -1;
        n->op = GRAPH_OP_NONE;
        stats->folded++;
    }
    return KILN_OK;
}

/* Fails on the first node the engine does not run. */
static kiln_status runtime_check(const kiln_graph *g)
{
    char label[LABEL_MAX];

    for (size_t i = 0; i < g->nnodes; i++) {
        const graph_node *n = &g->nodes[i];
        if (n->op == GRAPH_OP_NONE || graph_op_is_runtime(n->op))
            continue;
        return kiln_fail(KILN_E_FORMAT, "%s: kiln runs %s only on values that are constant for "
                         "the fixed input shape, and this one depends on runtime data",
                         graph_node_label(n, label, sizeof(label)), graph_op_name(n->op));
    }
    return KILN_OK;
}

/* Runs the passes in order. */
kiln_status graph_fold(kiln_graph *g, const graph_fold_options *opt, graph_fold_stats *stats)
{
    graph_fold_stats local;
    double t0 = kiln_clock_ms();
    kiln_status st;

    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof(*stats));
    st = outputs_select(g, opt);
    if (st == KILN_OK)
        st = graph_prune(g, &stats->removed);
    if (st == KILN_OK)
        st = infer_and_fold(g, stats);
    if (st == KILN_OK)
        st = graph_fuse_batchnorm(g, &stats->bn_folded);
    if (st == KILN_OK)
        st = graph_lower(g, &stats->rewritten, &stats->removed);
    if (st == KILN_OK)
        st = graph_fuse_activations(g, &stats->fused);
    if (st == KILN_OK)
        st = graph_fuse_residual(g, &stats->residual_fused);
    if (st == KILN_OK)
        st = graph_prune(g, &stats->removed);
    if (st == KILN_OK && opt && opt->runtime_only)
        st = runtime_check(g);
    if (st == KILN_OK)
        st = graph_compact(g);
    kiln_phase_lap(KILN_PHASE_MODEL_FOLD, &t0);
    return st;
}
