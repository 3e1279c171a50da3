/* Tensor storage precision (see nn_precision.h). */
#include <stdlib.h>
#include <string.h>

#include "nn_conv_algo.h"
#include "nn_precision.h"

/* The key value's name. */
const char *nn_precision_name(nn_precision p)
{
    switch (p) {
    case NN_PRECISION_FP32: return "fp32";
    case NN_PRECISION_FP16: return "fp16";
    default: return "auto";
    }
}

/* Counts FLOAT16 against FLOAT weight elements (see nn_precision.h). */
int nn_precision_model_is_fp16(const kiln_graph *g)
{
    uint64_t half = 0, single = 0;

    for (size_t t = 0; t < g->ntensors; t++) {
        const graph_tensor *x = &g->tensors[t];
        if (x->kind != GRAPH_TENSOR_CONSTANT || x->rank < 0)
            continue;
        if (x->dtype == GRAPH_DT_FLOAT16)
            half += (uint64_t)graph_tensor_elements(x);
        else if (x->dtype == GRAPH_DT_FLOAT32)
            single += (uint64_t)graph_tensor_elements(x);
    }
    return half > single;
}

/* Resolves auto (see nn_precision.h). */
nn_precision nn_precision_resolve(nn_precision p, const kiln_device *dev, int model_fp16)
{
    if (p != NN_PRECISION_AUTO)
        return p;
    return dev->info.fp16 && model_fp16 ? NN_PRECISION_FP16 : NN_PRECISION_FP32;
}

/* Half products (see nn_precision.h). */
int nn_precision_half_products(const kiln_device *dev, nn_precision p)
{
    const char *emulate = getenv("KILN_HALF_PRODUCTS");

    if (p != NN_PRECISION_FP16)
        return 0;
    return dev->info.fp16 || (emulate && strcmp(emulate, "1") == 0);
}

/* Keeps tensor t (an index, or -1) float32. */
static void keep_float(kiln_graph *g, int t)
{
    if (t >= 0 && (size_t)t < g->ntensors)
        g->tensors[t].half_stored = 0;
}

/* Marks the storage of every tensor (see nn_precision.h). */
size_t nn_precision_apply(kiln_graph *g, const unsigned char *conv_algo, nn_precision p)
{
    size_t count = 0;

    for (size_t t = 0; t < g->ntensors; t++) {
        graph_tensor *x = &g->tensors[t];
        x->half_stored = p == NN_PRECISION_FP16 && graph_dtype_is_float(x->dtype);
        /* fp32 widens: a FLOAT16 tensor computes and stores float32 */
        if (p != NN_PRECISION_FP16 && x->dtype == GRAPH_DT_FLOAT16)
            x->dtype = GRAPH_DT_FLOAT32;
    }
    if (p != NN_PRECISION_FP16)
        return 0;
    for (size_t i = 0; i < g->ninputs; i++)
        keep_float(g, g->inputs[i]);
    for (size_t i = 0; i < g->noutputs; i++)
        keep_float(g, g->outputs[i]);
    for (size_t i = 0; i < g->nnodes; i++) {
        const graph_node *n = &g->nodes[i];
        int algo = conv_algo ? conv_algo[i] : NN_CONV_ALGO_DIRECT;
        if (n->op != GRAPH_OP_CONV)
            continue;
        if (algo == NN_CONV_ALGO_GEMM) {
            keep_float(g, n->inputs[0]);
            keep_float(g, n->inputs[1]);
            keep_float(g, n->outputs[0]);
        }
    }
    for (size_t t = 0; t < g->ntensors; t++)
        count += (size_t)g->tensors[t].half_stored;
    return count;
}
