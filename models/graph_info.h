/* Facts about a folded graph for `kiln model-info`: parameters, MACs,
 * activation bytes. */
#ifndef KILN_GRAPH_INFO_H
#define KILN_GRAPH_INFO_H

#include <stdio.h>

#include "graph.h"

typedef struct graph_info {
    size_t nodes;
    size_t op_counts[GRAPH_OP_COUNT];
    int64_t parameters;             /* elements of float constants nodes read */
    uint64_t parameter_bytes;       /* as stored (float16 weights: 2 bytes) */
    int64_t macs;                   /* Conv: out_elems * in_ch/group * prod(kernel) */
    uint64_t activation_bytes;      /* sum over runtime tensors (inputs, node outputs) */
    uint64_t largest_activation;    /* bytes of the largest one */
    size_t activations;             /* how many runtime tensors */
} graph_info;

/* Computes the facts of a graph whose shapes are known (after
 * graph_fold).  KILN_E_HOSTMEM is the only failure. */
kiln_status graph_info_compute(const kiln_graph *g, graph_info *info);

/* Prints the inputs and outputs with their shapes, the node count per
 * operator, parameters, MACs and activation bytes, one fact a line. */
kiln_status graph_print_info(FILE *fp, const kiln_graph *g);

#endif
