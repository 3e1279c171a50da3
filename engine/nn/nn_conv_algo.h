/* Conv algorithms and the per-node choice among them.
 *
 * Each Conv node of a model runs one algorithm, chosen when its weights
 * are uploaded (nn_model.c): the weights are packed for that algorithm
 * and the launcher (nn_launch_conv) reads the choice back from
 * nn_launch.conv_algo, never re-deriving it, so layout and kernel agree.
 *
 * The choice (nn_conv_algo_choose): a forced algorithm when it fits the
 * node, else the algorithm the device's tuning recorded for the node's
 * shape (kiln tune), else a default by shape (see nn_conv_algo_default). */
#ifndef KILN_NN_CONV_ALGO_H
#define KILN_NN_CONV_ALGO_H

#include <stddef.h>

#include "graph.h"
#include "nn_conv_tiled.h"
#include "nn_ops.h"

/* The algorithms (stored per node as unsigned char). */
enum {
    NN_CONV_ALGO_DIRECT = 0,   /* cl/nn_conv_direct.cl: any Conv, plain OIHW */
    NN_CONV_ALGO_TILED,        /* cl/nn_conv_tiled.cl (nn_conv_tiled.h) */
    NN_CONV_ALGO_WINO2,        /* Winograd F(2,3) (nn_conv_winograd.h) */
    NN_CONV_ALGO_WINO4,        /* Winograd F(4,3) */
    NN_CONV_ALGO_GEMM,         /* im2col (1x1: none) + CLBlast (nn_conv_gemm.h) */
    NN_CONV_ALGO_NARROW,       /* few output channels, plain OIHW (nn_conv_narrow.h) */
    NN_CONV_ALGO_WINO4F,       /* Winograd F(4,3) in one kernel (nn_conv_wino_fused.h) */
    NN_CONV_ALGOS
};

/* "auto": no algorithm forced (nn_conv_algo_parse). */
#define NN_CONV_ALGO_AUTO (-1)

/* The name of an algorithm ("direct", "tiled", "winograd2", "winograd4",
 * "gemm", "narrow", "winograd4f"), or "?" for another value. */
const char *nn_conv_algo_name(int algo);

/* Parses a name of nn_conv_algo_name or "auto" (NN_CONV_ALGO_AUTO) into
 * *algo; returns 0 for an unknown name. */
int nn_conv_algo_parse(const char *name, int *algo);

/* The algorithm forced by the environment variable KILN_CONV_ALGO (a
 * name of nn_conv_algo_parse; unset, empty or unknown: NN_CONV_ALGO_AUTO).
 * For tests and benchmarks. */
int nn_conv_algo_forced(void);

/* Whether node n's optional residual input (inputs[3] when ninputs > 3
 * and it is not -1: a tensor added after the activation) is absent or a
 * float tensor of the output's element count. */
int nn_conv_residual_fits(const kiln_graph *g, const graph_node *n);

/* Whether algorithm `algo` can run node n of a folded graph. */
int nn_conv_algo_fits(const kiln_graph *g, const graph_node *n, int algo);

/* The shape of node n (which fits the tiled kernel) as a tuning key:
 * act and half_out zero. */
void nn_conv_node_shape(const kiln_graph *g, const graph_node *n, nn_conv_shape *s);

/* The default algorithm for a shape the tuning did not record, on a GPU
 * (gpu nonzero) or another device (CPUs). */
int nn_conv_algo_default(const nn_conv_shape *s, int gpu);

/* The algorithm for node n: `forced` when it fits (NN_CONV_ALGO_AUTO:
 * none), else the tuning's record for the node's shape when it fits,
 * else nn_conv_algo_default (gpu: whether the device is a GPU) when it
 * fits, else tiled when it fits, else direct. */
int nn_conv_algo_choose(const kiln_graph *g, const graph_node *n, const nn_conv_tuning *t,
                        int forced, int gpu);

/* Floats of node n's weights packed for algo under tuning t; for the
 * direct and GEMM algorithms, the plain OIHW count. */
size_t nn_conv_algo_packed_elements(const kiln_graph *g, const graph_node *n, int algo,
                                    const nn_conv_tuning *t);

/* Whether algo packs weights (the direct and GEMM ones read OIHW). */
int nn_conv_algo_packs(int algo);

/* Packs node n's OIHW weights for algo into dst
 * (nn_conv_algo_packed_elements floats). */
void nn_conv_algo_pack(const kiln_graph *g, const graph_node *n, int algo,
                       const nn_conv_tuning *t, float *dst);

/* Scratch floats one launch of node n with algo needs (0: none). */
size_t nn_conv_algo_scratch_floats(const kiln_graph *g, const graph_node *n, int algo,
                                   const nn_conv_tuning *t);

/* Enqueues node n with algorithm algo (its weights packed for it). */
kiln_status nn_conv_algo_launch(const nn_launch *ctx, const graph_node *n, int algo);

#endif
