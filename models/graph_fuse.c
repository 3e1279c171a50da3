/* BatchNormalization folding and activation fusion (see graph_fuse.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "float16.h"
#include "graph_edit.h"
#include "graph_fuse.h"
#include "host_alloc.h"
#include "status.h"

#define NAME_MAX_LEN 512

/* Computes scale and shift per channel from the four BN parameters. */
kiln_status graph_batchnorm_affine(const kiln_graph *g, const graph_node *bn,
                                   double **scale, double **shift)
{
    const graph_tensor *p[4];
    int64_t ch;

    *scale = NULL;
    *shift = NULL;
    for (int k = 0; k < 4; k++) {
        if (bn->inputs[k + 1] < 0 || !g->tensors[bn->inputs[k + 1]].f32)
            return kiln_fail(KILN_E_FORMAT, "BatchNormalization parameter #%d is not a constant",
                             k + 1);
        p[k] = &g->tensors[bn->inputs[k + 1]];
    }
    ch = p[0]->dims[0];
    double *s = kiln_malloc((size_t)(ch ? ch : 1) * sizeof(*s));
    double *t = kiln_malloc((size_t)(ch ? ch : 1) * sizeof(*t));
    if (!s || !t) {
        kiln_free(s);
        kiln_free(t);
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory folding a BatchNormalization");
    }
    for (int64_t c = 0; c < ch; c++) {
        s[c] = (double)p[0]->f32[c] / sqrt((double)p[3]->f32[c] + (double)bn->attr.epsilon);
        t[c] = (double)p[1]->f32[c] - (double)p[2]->f32[c] * s[c];
    }
    *scale = s;
    *shift = t;
    return KILN_OK;
}

/* Whether the BN at node `b` can fold into the Conv producing its input;
 * sets *conv. */
static int bn_foldable(const kiln_graph *g, const size_t *uses, size_t b, int *conv)
{
    const graph_node *bn = &g->nodes[b];
    int x = bn->inputs[0];

    if (x < 0 || uses[x] != 1 || graph_is_output(g, x))
        return 0;
    int p = g->tensors[x].producer;
    if (p < 0 || g->nodes[p].op != GRAPH_OP_CONV)
        return 0;
    const graph_node *c = &g->nodes[p];
    if (c->attr.conv.activation != GRAPH_ACT_NONE || c->inputs[1] < 0 ||
        !g->tensors[c->inputs[1]].f32)
        return 0;
    if (c->inputs[2] >= 0 && !g->tensors[c->inputs[2]].f32)
        return 0;
    for (int k = 1; k < 5; k++)
        if (bn->inputs[k] < 0 || !g->tensors[bn->inputs[k]].f32)
            return 0;
    *conv = p;
    return 1;
}

/* Adds a float constant shaped like `like` (rank, dims, dtype) named
 * "<base><suffix>"; *index gets it. */
static kiln_status constant_add(kiln_graph *g, int like, const char *suffix, int *index)
{
    char name[NAME_MAX_LEN];

    snprintf(name, sizeof(name), "%.400s%s", g->tensors[like].name, suffix);
    kiln_status st = graph_add_tensor(g, name, g->tensors[like].dtype, index);
    if (st != KILN_OK)
        return st;
    graph_tensor *t = &g->tensors[*index];
    graph_tensor *src = &g->tensors[like];
    t->rank = src->rank;
    for (int i = 0; i < src->rank; i++)
        t->dims[i] = src->dims[i];
    return graph_tensor_alloc_data(t);
}

/* Rewrites the Conv at `ci` to absorb the BN at `bi`.  The Conv's
 * weights are scaled in place when the Conv is their only reader
 * (uses[w] == 1, as an exported network has them), else into a new
 * constant. */
static kiln_status bn_fold_one(kiln_graph *g, const size_t *uses, size_t bi, int ci)
{
    double *s, *t;
    int w_new, b_new;
    kiln_status st = graph_batchnorm_affine(g, &g->nodes[bi], &s, &t);

    if (st != KILN_OK)
        return st;
    int w_old = g->nodes[ci].inputs[1], b_old = g->nodes[ci].inputs[2];
    w_new = w_old;
    if (uses[w_old] != 1 || graph_is_output(g, w_old))
        st = constant_add(g, w_old, "/bn_folded", &w_new);
    if (st == KILN_OK)
        st = constant_add(g, g->nodes[bi].inputs[1], "/bn_folded_bias", &b_new);
    if (st != KILN_OK)
        goto out_free_affine;
    /* tensors may have moved: look everything up again */
    graph_tensor *w = &g->tensors[w_old], *wn = &g->tensors[w_new], *bn = &g->tensors[b_new];
    const graph_tensor *b = b_old >= 0 ? &g->tensors[b_old] : NULL;
    int64_t m = w->dims[0], per = m ? graph_tensor_elements(w) / m : 0;
    int half = wn->dtype == GRAPH_DT_FLOAT16;
    bn->dtype = wn->dtype;      /* the bias takes the weights' type */
    for (int64_t o = 0; o < m; o++) {
        for (int64_t e = 0; e < per; e++) {
            float v = (float)((double)w->f32[o * per + e] * s[o]);
            wn->f32[o * per + e] = half ? float16_round(v) : v;
        }
        double bias = b ? (double)b->f32[o] : 0.0;
        float v = (float)(bias * s[o] + t[o]);
        bn->f32[o] = half ? float16_round(v) : v;
    }
    graph_node *conv = &g->nodes[ci];
    conv->inputs[1] = w_new;
    conv->inputs[2] = b_new;
    graph_node_absorb(g, ci, bi);
out_free_affine:
    kiln_free(s);
    kiln_free(t);
    return st;
}

/* Folds each foldable BN; uses are recounted after each fold. */
kiln_status graph_fuse_batchnorm(kiln_graph *g, size_t *count)
{
    size_t *uses = kiln_malloc((g->ntensors ? g->ntensors : 1) * sizeof(*uses));
    kiln_status st = KILN_OK;

    if (!uses)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory fusing BatchNormalization");
    graph_uses_count(g, uses);
    for (size_t i = 0; i < g->nnodes && st == KILN_OK; i++) {
        int conv;
        if (g->nodes[i].op != GRAPH_OP_BATCHNORM || !bn_foldable(g, uses, i, &conv))
            continue;
        st = bn_fold_one(g, uses, i, conv);
        if (st != KILN_OK)
            break;
        (*count)++;
        /* the fold added tensors: grow the use counts */
        size_t *grown = kiln_realloc(uses, g->ntensors * sizeof(*uses));
        if (!grown) {
            st = kiln_fail(KILN_E_HOSTMEM, "out of host memory fusing BatchNormalization");
            break;
        }
        uses = grown;
        graph_uses_count(g, uses);
    }
    kiln_free(uses);
    return st;
}

/* Fuses Relu/Sigmoid into a Conv whose output only they read. */
kiln_status graph_fuse_activations(kiln_graph *g, size_t *count)
{
    size_t *uses = kiln_malloc((g->ntensors ? g->ntensors : 1) * sizeof(*uses));

    if (!uses)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory fusing activations");
    graph_uses_count(g, uses);
    for (size_t i = 0; i < g->nnodes; i++) {
        graph_node *act = &g->nodes[i];
        if (act->op != GRAPH_OP_RELU && act->op != GRAPH_OP_SIGMOID)
            continue;
        int x = act->inputs[0];
        if (x < 0 || uses[x] != 1 || graph_is_output(g, x))
            continue;
        int p = g->tensors[x].producer;
        if (p < 0 || g->nodes[p].op != GRAPH_OP_CONV ||
            g->nodes[p].attr.conv.activation != GRAPH_ACT_NONE)
            continue;
        graph_node *conv = &g->nodes[p];
        conv->attr.conv.activation = act->op == GRAPH_OP_RELU ? GRAPH_ACT_RELU : GRAPH_ACT_SIGMOID;
        graph_node_absorb(g, p, i);
        (*count)++;
    }
    kiln_free(uses);
    return KILN_OK;
}
