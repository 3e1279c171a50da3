/* U²-Net- and IS-Net-shaped graphs for planning tests: the folded
 * networks' runtime nodes (Conv, MaxPool, Resize, Concat, Add, Sigmoid)
 * in the exporter's order, at the full models' channel widths, with
 * shapes set and no weights (a Conv reads only its activation).  Enough
 * for lifetimes and arena plans; not for running. */
#ifndef KILN_TEST_UNET_GRAPH_H
#define KILN_TEST_UNET_GRAPH_H

#include "graph.h"

typedef enum unet_arch {
    UNET_ARCH_U2NET,                /* u2net: output d0, the fused side outputs */
    UNET_ARCH_ISNET                 /* isnet: stride-2 stem, output d1 at full size */
} unet_arch;

/* Builds the graph of `arch` for a 1x3xSIZExSIZE input into *out
 * (graph_free it).  KILN_E_HOSTMEM when out of memory. */
kiln_status unet_graph_build(unet_arch arch, int64_t size, kiln_graph **out);

#endif
