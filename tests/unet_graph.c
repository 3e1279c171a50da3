/* U²-Net- and IS-Net-shaped graphs (see unet_graph.h), after the
 * reference networks' forward passes: RSU blocks of L levels (an encoder
 * of Convs and 2x MaxPools, a dilated bottom, a decoder of Concat + Conv
 * with Resizes back up, the block input added at the end) and RSU-4F
 * blocks (no pooling), six stages down and five back up. */
#include <stdio.h>

#include "graph_edit.h"
#include "host_alloc.h"
#include "status.h"
#include "unet_graph.h"

/* The graph being built and its first failure. */
typedef struct unet_builder {
    kiln_graph *g;
    kiln_status st;
} unet_builder;

/* One stage: an RSU of `levels` levels (0: RSU-4F) and its widths. */
typedef struct unet_stage {
    int levels;
    int64_t mid, out;
} unet_stage;

/* Encoder stages 1..6 and decoder stages 5d..1d of both networks. */
static const unet_stage encoder[6] = {
    { 7, 32, 64 }, { 6, 32, 128 }, { 5, 64, 256 }, { 4, 128, 512 }, { 0, 256, 512 },
    { 0, 256, 512 } };
static const unet_stage decoder[5] = {
    { 0, 256, 512 }, { 4, 128, 256 }, { 5, 64, 128 }, { 6, 32, 64 }, { 7, 16, 64 } };

/* Adds a float tensor of shape 1xCxHxW; its index, or -1 after a failure. */
static int value(unet_builder *b, int64_t c, int64_t h, int64_t w)
{
    char name[32];
    int t;

    if (b->st != KILN_OK)
        return -1;
    snprintf(name, sizeof(name), "t%zu", b->g->ntensors);
    b->st = graph_add_tensor(b->g, name, GRAPH_DT_FLOAT32, &t);
    if (b->st != KILN_OK)
        return -1;
    graph_tensor *x = &b->g->tensors[t];
    x->rank = 4;
    x->dims[0] = 1;
    x->dims[1] = c;
    x->dims[2] = h;
    x->dims[3] = w;
    return t;
}

/* Adds a node of `op` reading ins[0..nin) and writing a new 1xCxHxW
 * tensor; returns that tensor, or -1 after a failure. */
static int node(unet_builder *b, graph_op op, const int *ins, size_t nin, int64_t c, int64_t h,
                int64_t w)
{
    int out = value(b, c, h, w), n;

    for (size_t k = 0; k < nin; k++)
        if (ins[k] < 0)
            return -1;
    if (out < 0)
        return -1;
    b->st = graph_add_node(b->g, op, NULL, nin, 1, &n);
    if (b->st != KILN_OK)
        return -1;
    for (size_t k = 0; k < nin; k++)
        b->g->nodes[n].inputs[k] = ins[k];
    b->g->nodes[n].outputs[0] = out;
    b->g->nodes[n].attr.axis = 1;
    return out;
}

/* Dimension d of tensor t (0 after a failure). */
static int64_t dim(const unet_builder *b, int t, int d)
{
    return t >= 0 ? b->g->tensors[t].dims[d] : 0;
}

/* A same-size Conv to c channels. */
static int conv(unet_builder *b, int x, int64_t c)
{
    return node(b, GRAPH_OP_CONV, &x, 1, c, dim(b, x, 2), dim(b, x, 3));
}

/* A 2x2 MaxPool, stride 2, ceil mode. */
static int pool(unet_builder *b, int x)
{
    return node(b, GRAPH_OP_MAXPOOL, &x, 1, dim(b, x, 1), (dim(b, x, 2) + 1) / 2,
                (dim(b, x, 3) + 1) / 2);
}

/* A Resize of x to the height and width of `like`. */
static int up(unet_builder *b, int x, int like)
{
    return node(b, GRAPH_OP_RESIZE, &x, 1, dim(b, x, 1), dim(b, like, 2), dim(b, like, 3));
}

/* Concat of ins[0..n) along channels. */
static int cat_n(unet_builder *b, const int *ins, size_t n)
{
    int64_t c = 0;

    for (size_t k = 0; k < n; k++)
        c += dim(b, ins[k], 1);
    return node(b, GRAPH_OP_CONCAT, ins, n, c, dim(b, ins[0], 2), dim(b, ins[0], 3));
}

/* Concat of x and y along channels. */
static int cat(unet_builder *b, int x, int y)
{
    const int in[2] = { x, y };
    return cat_n(b, in, 2);
}

/* x + y. */
static int add(unet_builder *b, int x, int y)
{
    const int in[2] = { x, y };
    return node(b, GRAPH_OP_ADD, in, 2, dim(b, x, 1), dim(b, x, 2), dim(b, x, 3));
}

/* An RSU block of s->levels levels (pooled), or RSU-4F (levels 0:
 * dilated, never pooled). */
static int rsu(unet_builder *b, int x, const unet_stage *s)
{
    int levels = s->levels ? s->levels : 4, enc[8];
    int hxin = conv(b, x, s->out), d;

    enc[1] = conv(b, hxin, s->mid);
    for (int k = 2; k < levels; k++)
        enc[k] = conv(b, s->levels ? pool(b, enc[k - 1]) : enc[k - 1], s->mid);
    enc[levels] = conv(b, enc[levels - 1], s->mid);
    d = conv(b, cat(b, enc[levels], enc[levels - 1]), s->mid);
    for (int k = levels - 2; k >= 1; k--) {
        int from = s->levels ? up(b, d, enc[k]) : d;
        d = conv(b, cat(b, from, enc[k]), k == 1 ? s->out : s->mid);
    }
    return add(b, d, hxin);
}

/* The side outputs of U²-Net (side[0..6), 1 channel each, made right
 * after their stages as the folded schedule has them) resized to full
 * size and fused into d0. */
static int u2net_head(unet_builder *b, int *side)
{
    for (int s = 1; s < 6; s++)
        side[s] = up(b, side[s], side[0]);
    return conv(b, cat_n(b, side, 6), 1);
}

/* Builds the stages, then the head of the architecture. */
kiln_status unet_graph_build(unet_arch arch, int64_t size, kiln_graph **out)
{
    unet_builder b = { NULL, KILN_OK };
    int hx[7], dec[7], side[6], x, result;

    *out = NULL;
    b.st = graph_new(&b.g);
    if (b.st != KILN_OK)
        return b.st;
    x = value(&b, 3, size, size);
    hx[0] = x;
    if (arch == UNET_ARCH_ISNET)                     /* the stride-2 stem */
        hx[0] = node(&b, GRAPH_OP_CONV, &x, 1, 64, (size + 1) / 2, (size + 1) / 2);
    hx[1] = rsu(&b, hx[0], &encoder[0]);
    for (int s = 2; s <= 6; s++)
        hx[s] = rsu(&b, pool(&b, hx[s - 1]), &encoder[s - 1]);
    dec[6] = hx[6];
    if (arch == UNET_ARCH_U2NET)
        side[5] = conv(&b, hx[6], 1);
    for (int s = 5; s >= 1; s--) {
        dec[s] = rsu(&b, cat(&b, up(&b, dec[s + 1], hx[s]), hx[s]), &decoder[5 - s]);
        if (arch == UNET_ARCH_U2NET)
            side[s - 1] = conv(&b, dec[s], 1);
    }
    if (arch == UNET_ARCH_ISNET) {
        int d1 = up(&b, conv(&b, dec[1], 1), x);
        result = node(&b, GRAPH_OP_SIGMOID, &d1, 1, 1, size, size);
    } else {
        result = u2net_head(&b, side);
    }
    if (b.st == KILN_OK) {
        b.g->tensors[x].kind = GRAPH_TENSOR_INPUT;
        b.g->inputs = kiln_malloc(sizeof(*b.g->inputs));
        b.g->outputs = kiln_malloc(sizeof(*b.g->outputs));
        if (!b.g->inputs || !b.g->outputs)
            b.st = kiln_fail(KILN_E_HOSTMEM, "out of host memory building a U-Net graph");
    }
    if (b.st != KILN_OK) {
        graph_free(b.g);
        return b.st;
    }
    b.g->inputs[0] = x;
    b.g->ninputs = 1;
    b.g->outputs[0] = result;
    b.g->noutputs = 1;
    graph_producers_update(b.g);
    *out = b.g;
    return KILN_OK;
}
