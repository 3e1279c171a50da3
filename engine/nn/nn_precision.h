/* The storage precision of a network's tensors on a device ([segment]
 * precision): which tensors are half-stored (graph_tensor.half_stored),
 * and whether the products of half-stored tensors are taken in half.
 *
 * fp32: every activation and weight is float32 (a FLOAT16 model's weights
 *   are widened at upload, its FLOAT16 tensors become FLOAT: no rounding).
 * fp16: activations between nodes and weights are half (2 bytes), so the
 *   arena and the weight buffer are about half the size; every kernel
 *   loads halves into float and accumulates in float.  On a device with
 *   cl_khr_fp16 the Conv products (weight x input, both half values) are
 *   taken in half (NN_HALF_MATH); without it the arithmetic is float.
 *   What stays float32, where half is not safe or not possible:
 *     - the network's inputs and outputs (the pre-processing writes
 *       float, the saliency map's normalisation reads float, and the
 *       final Sigmoid writes its float result unrounded);
 *     - the input, weights and output of a GEMM Conv (CLBlast's sgemm
 *       reads and writes float32; half GEMM needs cl_khr_fp16);
 *     - every Conv scratch (Winograd's V and M, im2col columns);
 *       Winograd's weights are transformed in float at upload and the
 *       transform stored as half;
 *     - reductions: sums of Conv taps, pooling averages, resize taps.
 * auto: fp16 on a device with cl_khr_fp16 when the model is a published
 *   fp16 model (most of its weight elements are FLOAT16 in the file: its
 *   authors validated it at half precision, and half arithmetic is where
 *   the device gains speed), fp32 otherwise (a float32 model keeps the
 *   results it was published with; a device without half arithmetic
 *   gains only memory from fp16, which the user asks for explicitly). */
#ifndef KILN_NN_PRECISION_H
#define KILN_NN_PRECISION_H

#include "device.h"
#include "graph.h"

typedef enum nn_precision {
    NN_PRECISION_AUTO = 0,
    NN_PRECISION_FP32 = 1,
    NN_PRECISION_FP16 = 2
} nn_precision;

/* "auto", "fp32" or "fp16". */
const char *nn_precision_name(nn_precision p);

/* Whether most float weight elements of a loaded (unfolded) graph are
 * FLOAT16: a published fp16 model. */
int nn_precision_model_is_fp16(const kiln_graph *g);

/* The precision a model runs at on `dev`: p itself unless it is auto
 * (then as above, with model_fp16 from nn_precision_model_is_fp16). */
nn_precision nn_precision_resolve(nn_precision p, const kiln_device *dev, int model_fp16);

/* Whether a model at precision p takes its Conv products in half on
 * dev: at fp16 on a device with cl_khr_fp16; also, emulated (slow), on
 * any device when $KILN_HALF_PRODUCTS is 1, to measure on a CPU the
 * error a half device adds. */
int nn_precision_half_products(const kiln_device *dev, nn_precision p);

/* Sets the storage of every tensor of folded graph g for precision p
 * (FP32 or FP16; conv_algo[i] is node i's NN_CONV_ALGO_*): see above.
 * Returns the number of half-stored tensors. */
size_t nn_precision_apply(kiln_graph *g, const unsigned char *conv_algo, nn_precision p);

#endif
