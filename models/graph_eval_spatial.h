/* Host kernels for the windowed and resampling operators (Conv, MaxPool,
 * AveragePool, Resize), used by constant folding and as the numeric
 * statement of what the engine's kernels compute.  Internal to
 * graph_eval.c. */
#ifndef KILN_GRAPH_EVAL_SPATIAL_H
#define KILN_GRAPH_EVAL_SPATIAL_H

#include "graph.h"

/* Conv with groups, dilations and explicit pads (resolved by inference),
 * accumulating in double; the fused activation, if any, is applied, then
 * the optional residual r (out's shape) is added.  Inputs x, w, optional
 * b and r; writes out's data. */
void graph_eval_conv(const graph_node *n, const graph_tensor *x, const graph_tensor *w,
                     const graph_tensor *b, const graph_tensor *r, graph_tensor *out);

/* MaxPool (padding never wins) and AveragePool (count_include_pad counts
 * the padding, never the ceil_mode overhang past it). */
void graph_eval_pool(const graph_node *n, const graph_tensor *x, graph_tensor *out);

/* Resize as the ONNX reference computes it: per axis, the coordinate
 * transformation of the node, then nearest (rounding mode), linear or
 * cubic weights over edge-clamped neighbours (exclude_outside renormalizes
 * over the inside ones), tf_crop_and_resize's extrapolation value outside
 * the input.  Returns KILN_E_HOSTMEM when out of memory. */
kiln_status graph_eval_resize(const graph_node *n, const graph_tensor *x, graph_tensor *out);

#endif
