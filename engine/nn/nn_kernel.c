/* Helpers shared by the network operator launchers (see nn_kernel.h). */
#include <stdio.h>
#include <string.h>

#include "nn_kernel.h"
#include "nn_opcodes.h"
#include "status.h"

/* Looks up and checks a tensor's place (see nn_kernel.h). */
kiln_status nn_place_of(const nn_launch *ctx, int t, const char *label, nn_place *out)
{
    const graph_tensor *tensor;
    int64_t count;

    if (t < 0 || (size_t)t >= ctx->g->ntensors)
        return kiln_fail(KILN_E_INVAL, "%s: tensor index %d is out of range", label, t);
    tensor = &ctx->g->tensors[t];
    *out = ctx->places[t];
    if (!out->mem)
        return kiln_fail(KILN_E_INVAL, "%s: tensor '%.100s' has no place on the device",
                         label, tensor->name);
    count = graph_tensor_elements(tensor);
    if ((uint64_t)out->offset + (uint64_t)count > UINT64_C(0xFFFFFFFF))
        return kiln_fail(KILN_E_INVAL, "%s: tensor '%.100s' ends past element 2^32 of its "
                         "buffer", label, tensor->name);
    return KILN_OK;
}

/* Looks up and checks a Conv's places (see nn_kernel.h). */
kiln_status nn_conv_places_of(const nn_launch *ctx, const graph_node *n, const char *label,
                              int packed, nn_place *x, nn_place *w, nn_place *y, nn_place *b,
                              nn_place *res)
{
    kiln_status st = nn_place_of(ctx, n->inputs[0], label, x);

    *b = *res = (nn_place){ NULL, 0 };
    if (st == KILN_OK)
        st = nn_place_of(ctx, n->outputs[0], label, y);
    if (st == KILN_OK && !packed)
        st = nn_place_of(ctx, n->inputs[1], label, w);
    else if (st == KILN_OK && !(*w = ctx->places[n->inputs[1]]).mem)
        st = kiln_fail(KILN_E_INVAL, "%s: the weights have no device place", label);
    if (st == KILN_OK && n->ninputs > 2 && n->inputs[2] >= 0)
        st = nn_place_of(ctx, n->inputs[2], label, b);
    if (st == KILN_OK && n->ninputs > 3 && n->inputs[3] >= 0)
        st = nn_place_of(ctx, n->inputs[3], label, res);
    return st;
}

/* FLOAT16 outputs hold half-precision values. */
int nn_half_out(const kiln_graph *g, int t)
{
    return g->tensors[t].dtype == GRAPH_DT_FLOAT16;
}

/* Half storage per tensor (see nn_kernel.h). */
int nn_half_stored(const kiln_graph *g, int t)
{
    return t >= 0 && (size_t)t < g->ntensors && g->tensors[t].half_stored;
}

/* A role's NN_HALF bit (see nn_kernel.h). */
unsigned nn_half_bit(const kiln_graph *g, int t, int role)
{
    return nn_half_stored(g, t) ? 1u << role : 0u;
}

/* A Conv's storage mask (see nn_kernel.h). */
unsigned nn_conv_half_mask(const kiln_graph *g, const graph_node *n)
{
    static const int roles[] = { NN_R_X, NN_R_W, NN_R_B, NN_R_RES };
    unsigned mask = nn_half_bit(g, n->outputs[0], NN_R_Y);

    for (size_t k = 0; k < n->ninputs && k < sizeof(roles) / sizeof(roles[0]); k++)
        mask |= nn_half_bit(g, n->inputs[k], roles[k]);
    return mask;
}

/* Composes a kernel's build options (see nn_kernel.h). */
const char *nn_build_options(const nn_launch *ctx, unsigned half_mask, const char *extra,
                             char *buf, size_t len)
{
    if (half_mask == 0)
        return extra;
    snprintf(buf, len, "-D NN_HALF=%u%s%s%s", half_mask,
             ctx->half_math ? " -D NN_HALF_MATH=1" : "", extra ? " " : "", extra ? extra : "");
    return buf;
}

/* The network kernels' work-group (see nn_kernel.h). */
const size_t nn_local[3] = { NN_LOCAL_SIZE, 1, 1 };

/* A contiguous copy on the queue (see nn_kernel.h). */
kiln_status nn_copy(kiln_device *dev, nn_place src, nn_place dst, size_t count,
                    size_t elem_bytes)
{
    size_t bytes = count * elem_bytes;
    size_t so = (size_t)src.offset * elem_bytes, dso = (size_t)dst.offset * elem_bytes;

    if (count == 0 || (src.mem == dst.mem && src.offset == dst.offset))
        return KILN_OK;
    if (src.mem == dst.mem && so < dso + bytes && dso < so + bytes)
        return kiln_fail(KILN_E_INVAL, "copying %zu elements from offset %u to offset %u of "
                         "one buffer: the ranges overlap", count, (unsigned)src.offset,
                         (unsigned)dst.offset);
    return dev_buffer_copy(dev, src.mem, so, dst.mem, dso, bytes, "enqueueing a tensor copy");
}

/* Maps the graph's activation to the kernels' code (see nn_kernel.h). */
cl_int nn_act_code(graph_activation act)
{
    static const cl_int codes[] = {
        [GRAPH_ACT_NONE] = NN_ACT_NONE,
        [GRAPH_ACT_RELU] = NN_ACT_RELU,
        [GRAPH_ACT_SIGMOID] = NN_ACT_SIGMOID,
    };

    if ((int)act < 0 || (size_t)act >= sizeof(codes) / sizeof(codes[0]))
        return NN_ACT_NONE;
    return codes[act];
}

/* Packs ints into a vector argument. */
cl_int8 nn_int8(const int64_t *v, int n, cl_int fill)
{
    cl_int8 r;

    for (int i = 0; i < 8; i++)
        r.s[i] = i < n ? (cl_int)v[i] : fill;
    return r;
}

/* Packs floats into a vector argument. */
cl_float8 nn_float8(const float *v, int n, cl_float fill)
{
    cl_float8 r;

    for (int i = 0; i < 8; i++)
        r.s[i] = i < n ? v[i] : fill;
    return r;
}

/* Whether outer axis j and inner axis i of a walk merge for every
 * operand. */
static int axes_merge(int64_t (*strides)[GRAPH_MAX_RANK], int nops, int j, int i,
                      int64_t inner)
{
    for (int k = 0; k < nops; k++)
        if (strides[k][j] != strides[k][i] * inner)
            return 0;
    return 1;
}

/* Drops unit axes and merges mergeable neighbours (see nn_kernel.h). */
int nn_collapse(int rank, int64_t *dims, int nops, int64_t (*strides)[GRAPH_MAX_RANK])
{
    int out = 0;

    for (int i = 0; i < rank; i++) {
        if (dims[i] == 1)
            continue;
        if (out > 0 && axes_merge(strides, nops, out - 1, i, dims[i])) {
            dims[out - 1] *= dims[i];
            for (int k = 0; k < nops; k++)
                strides[k][out - 1] = strides[k][i];
            continue;
        }
        dims[out] = dims[i];
        for (int k = 0; k < nops; k++)
            strides[k][out] = strides[k][i];
        out++;
    }
    if (out == 0) {
        dims[0] = 1;
        for (int k = 0; k < nops; k++)
            strides[k][0] = 0;
        out = 1;
    }
    return out;
}
