/* What both tuning searches share (see nn_tune_internal.h): timing an
 * operation and building a one-Conv graph to time. */
#include <string.h>

#include "clock.h"
#include "graph.h"
#include "nn_opcodes.h"
#include "nn_tune_internal.h"

#define TUNE_MIN_SAMPLE_MS 5.0   /* a timed sample repeats launches up to this */
#define TUNE_SAMPLES 3           /* the best of this many samples counts */

/* Times an operation: one untimed run (builds the program), then the best
 * of TUNE_SAMPLES samples of enough back-to-back runs to last
 * TUNE_MIN_SAMPLE_MS (a first run slower than 40 ms counts alone).
 * Writes milliseconds per run to *ms. */
kiln_status nn_tune_time(kiln_device *dev, nn_tune_fn run, void *user, double *ms)
{
    /* a run this slow is timed once */
    const double slow_ms = 40.0;
    kiln_status st;
    double t0, best;
    int reps;

    st = run(user);
    if (st == KILN_OK)
        st = device_finish(dev);
    if (st != KILN_OK)
        return st;
    t0 = kiln_clock_ms();
    st = run(user);
    if (st == KILN_OK)
        st = device_finish(dev);
    if (st != KILN_OK)
        return st;
    best = kiln_clock_ms() - t0;
    if (best > slow_ms) {
        *ms = best;
        return KILN_OK;
    }
    reps = best >= TUNE_MIN_SAMPLE_MS ? 1 : (int)(TUNE_MIN_SAMPLE_MS / (best + 1e-3)) + 1;
    if (reps > 50)
        reps = 50;
    for (int k = 0; k < TUNE_SAMPLES; k++) {
        t0 = kiln_clock_ms();
        for (int r = 0; r < reps && st == KILN_OK; r++)
            st = run(user);
        if (st == KILN_OK)
            st = device_finish(dev);
        if (st != KILN_OK)
            return st;
        double t = (kiln_clock_ms() - t0) / reps;
        if (t < best)
            best = t;
    }
    *ms = best;
    return KILN_OK;
}

/* Builds a one-Conv graph (see nn_tune_internal.h). */
kiln_status nn_tune_conv_graph(const nn_conv_shape *s, kiln_graph **out)
{
    static const char *const names[4] = { "x", "w", "b", "y" };
    kiln_graph *g = NULL;
    int t[4], node;
    kiln_status st;
    graph_node *n;
    graph_window *win;

    *out = NULL;
    st = graph_new(&g);
    for (int i = 0; i < 4 && st == KILN_OK; i++)
        st = graph_add_tensor(g, names[i], GRAPH_DT_FLOAT32, &t[i]);
    if (st == KILN_OK)
        st = graph_add_node(g, GRAPH_OP_CONV, "tune", 3, 1, &node);
    if (st != KILN_OK) {
        graph_free(g);
        return st;
    }
    for (int i = 0; i < 4; i++)
        g->tensors[t[i]].rank = i == 2 ? 1 : 4;
    g->tensors[t[0]].kind = GRAPH_TENSOR_INPUT;
    g->tensors[t[1]].kind = g->tensors[t[2]].kind = GRAPH_TENSOR_CONSTANT;
    memcpy(g->tensors[t[0]].dims, (int64_t[4]){ 1, s->c, s->h, s->w }, 4 * sizeof(int64_t));
    memcpy(g->tensors[t[1]].dims, (int64_t[4]){ s->oc, s->c, s->kh, s->kw }, 4 * sizeof(int64_t));
    g->tensors[t[2]].dims[0] = s->oc;
    memcpy(g->tensors[t[3]].dims, (int64_t[4]){ 1, s->oc, s->oh, s->ow }, 4 * sizeof(int64_t));
    g->tensors[t[3]].producer = node;
    n = &g->nodes[node];
    n->inputs[0] = t[0];
    n->inputs[1] = t[1];
    n->inputs[2] = t[2];
    n->outputs[0] = t[3];
    n->attr.conv.group = 1;
    n->attr.conv.activation = s->act == NN_ACT_RELU      ? GRAPH_ACT_RELU
                              : s->act == NN_ACT_SIGMOID ? GRAPH_ACT_SIGMOID
                                                         : GRAPH_ACT_NONE;
    win = &n->attr.conv.win;
    win->nspatial = 2;
    win->kernel[0] = s->kh;
    win->kernel[1] = s->kw;
    win->strides[0] = s->sy;
    win->strides[1] = s->sx;
    win->dilations[0] = s->dy;
    win->dilations[1] = s->dx;
    win->pads[0] = s->py;
    win->pads[1] = s->px;
    win->pads[2] = (int64_t)(s->oh - 1) * s->sy + (int64_t)(s->kh - 1) * s->dy + 1 - s->h - s->py;
    win->pads[3] = (int64_t)(s->ow - 1) * s->sx + (int64_t)(s->kw - 1) * s->dx + 1 - s->w - s->px;
    win->has_kernel = win->has_strides = win->has_dilations = win->has_pads = 1;
    *out = g;
    return KILN_OK;
}
