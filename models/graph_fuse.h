/* Fusions on a folded graph: BatchNormalization into the preceding Conv,
 * Relu or Sigmoid into the Conv that feeds them, and a residual Add into
 * the Conv whose output it adds to. */
#ifndef KILN_GRAPH_FUSE_H
#define KILN_GRAPH_FUSE_H

#include "graph.h"

/* Folds every BatchNormalization whose input is the output of a Conv
 * read by nothing else (and not a graph output), with constant weights,
 * bias and BN parameters: W'[m] = W[m] * s[m], B'[m] = (B[m] - mean[m]) *
 * s[m] + beta[m] with s = scale / sqrt(var + epsilon), computed in double.
 * The folded weights are new constants; the BN node is removed.  Adds the
 * number folded to *count. */
kiln_status graph_fuse_batchnorm(kiln_graph *g, size_t *count);

/* Fuses every Relu or Sigmoid whose input is the output of a Conv (with
 * no activation yet) read by nothing else and not a graph output: the
 * Conv takes the activation and the activation's output.  Adds the number
 * fused to *count. */
kiln_status graph_fuse_activations(kiln_graph *g, size_t *count);

/* Fuses every Add(Conv(...), R) (either input order) into the Conv: the
 * Conv takes R as its optional input 3 (the residual, added after the
 * Conv's fused activation: y = act(conv + bias) + R) and the Add's
 * output.  Only when the Conv output is read by the Add alone and is not
 * a graph output, the Conv has no residual yet, R is ready before the
 * Conv runs (a runtime input, a constant, or the output of an earlier
 * node), and the Conv output, R and the Add output have the same shape
 * (no broadcasting) and the same float type.  Run after
 * graph_fuse_activations (an activation after the Add is not fused).
 * Adds the number fused to *count. */
kiln_status graph_fuse_residual(kiln_graph *g, size_t *count);

/* The per-channel affine form of BatchNormalization node `bn` (constant
 * parameters): y = x * scale[c] + shift[c], scale = s / sqrt(var + eps),
 * shift = beta - mean * scale, in double.  Allocates both arrays (C
 * values each; kiln_free them); KILN_E_FORMAT when a parameter is not
 * constant. */
kiln_status graph_batchnorm_affine(const kiln_graph *g, const graph_node *bn,
                                   double **scale, double **shift);

#endif
