/* Preparing a loaded graph for the engine at its fixed input shape. */
#ifndef KILN_GRAPH_FOLD_H
#define KILN_GRAPH_FOLD_H

#include "graph.h"

/* The most elements a folded constant may have (2^24): a node that would
 * fold into more stays a runtime node when the engine runs it, and is an
 * error otherwise. */
#define GRAPH_FOLD_MAX_ELEMENTS (INT64_C(1) << 24)

/* The most work (multiply-adds, copies) one folded node may take (2^26):
 * a costlier node whose inputs are all constant stays a runtime node. */
#define GRAPH_FOLD_MAX_WORK (INT64_C(1) << 26)

typedef struct graph_fold_options {
    const char *const *outputs;     /* names of the outputs to compute */
    size_t noutputs;                /* 0: the first graph output only */
    int all_outputs;                /* keep every graph output instead */
    int runtime_only;               /* fail when a node the engine does not
                                       run remains (as the engine needs) */
} graph_fold_options;

/* What graph_fold did. */
typedef struct graph_fold_stats {
    size_t folded;                  /* nodes evaluated into constants */
    size_t bn_folded;               /* BatchNormalizations folded into Convs */
    size_t fused;                   /* Relu/Sigmoid fused into Convs */
    size_t residual_fused;          /* residual Adds fused into Convs */
    size_t rewritten;               /* nodes lowered (BN -> Mul+Add, -> Reshape) */
    size_t removed;                 /* nodes dropped (unneeded, Identity) */
} graph_fold_stats;

/* Keeps the requested outputs (opt NULL: the first only), removes the
 * nodes they do not need, infers every shape at the fixed input shape,
 * folds every node whose value is constant for it (Shape, Gather, Slice,
 * Unsqueeze, Squeeze, Concat, Cast, Reshape of shapes, arithmetic, and any
 * other node whose inputs are all constant, within the limits above),
 * folds BatchNormalization into the
 * preceding Conv, fuses Conv+Relu and Conv+Sigmoid and then a residual
 * Add into the Conv (graph_fuse_residual), lowers what is left
 * to runtime operators and compacts the graph.  stats may be NULL.
 * Errors name the node; on error the graph is partly rewritten and must
 * only be freed. */
kiln_status graph_fold(kiln_graph *g, const graph_fold_options *opt, graph_fold_stats *stats);

#endif
