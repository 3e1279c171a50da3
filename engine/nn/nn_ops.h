/* Network operators on the device: one launcher per graph operator.
 *
 * While a network runs, every runtime tensor (inputs, node outputs) lives
 * at an element offset inside the activation arena, and every constant a
 * runtime node reads (weights, biases, per-channel constants) at an
 * element offset inside the model's weight buffer.  Both are plain
 * float32, dense, row-major (C order) in the tensor's dims, except Conv
 * weights, which nn_conv packs into its own layout (nn_conv.h).  Every
 * floating element type (FLOAT, FLOAT16) is stored as float32 on the
 * device (a FLOAT16 value is a float32 rounded to half precision) unless
 * the tensor is half-stored (graph_tensor.half_stored, set by the
 * segment precision fp16, nn_precision.h): then its elements are 2-byte
 * halves and the kernels read and write them with vload_half and
 * vstore_half_rte (cl/nn_common.cl). 
 *
 * A launcher enqueues its kernels on the device queue and does not wait.
 * It reads shapes and attributes from the folded graph (graph_fold has
 * resolved pads, scales, slice starts/steps and clip bounds into the
 * node's attributes) and never touches host data of runtime tensors. */
#ifndef KILN_NN_OPS_H
#define KILN_NN_OPS_H

#include <CL/cl.h>

#include "device.h"
#include "graph.h"
#include "kiln.h"

/* Where one tensor's elements are on the device. */
typedef struct nn_place {
    cl_mem mem;         /* the arena or the weight buffer; NULL: none */
    cl_uint offset;     /* in elements of the tensor's storage (float32, or
                           half when graph_tensor.half_stored) from the
                           start of mem */
} nn_place;

/* Everything a launcher needs: the device, the folded graph and the place
 * of every tensor (places[t] for tensor index t; entries of tensors the
 * node does not touch may be empty). */
typedef struct nn_launch {
    kiln_device *dev;
    const kiln_graph *g;
    const nn_place *places;
    const struct nn_conv_tuning *conv_tuning;  /* NULL: defaults */
    const unsigned char *conv_algo;   /* per node: the NN_CONV_ALGO_* its
                                         Conv weights were packed for
                                         (nn_conv_algo.h); NULL: all direct */
    nn_place scratch;                 /* temporaries of a Conv launch
                                         (Winograd V and M, im2col columns);
                                         mem NULL: none */
    size_t scratch_floats;            /* floats of scratch from its offset */
    int half_math;                    /* products of half-stored tensors in
                                         half (cl_khr_fp16, precision fp16) */
} nn_launch;

/* One row of the engine's operator table (nn_ops.c), indexed by
 * graph_op: what the engine knows of an operator.  The operator's name
 * and whether folding leaves it to the engine are the graph's
 * (graph_op_name, graph_op_is_runtime); a test holds the two tables to
 * each other.  Adding an operator to the engine is one row here, its
 * launcher, and its kernel (with any op code in cl/nn_opcodes.h). */
typedef struct nn_op_def {
    /* Leading inputs that carry tensor data (FLOAT or FLOAT16 on the
     * device); the later ones are parameters graph_fold has resolved
     * into attributes and must be constant.  NN_DATA_ALL: every input. */
    int ndata;
    /* Of those, the leading ones that must be present: a data input from
     * here on may be absent or left off (Conv's bias).  ndata when none
     * is optional. */
    int nrequired;
    /* The checks beyond wiring and element types (window ranks, groups,
     * axes); NULL: none.  Writes "LABEL: REASON" into msg and returns 0
     * when the device cannot run node n; `label` names the node. */
    int (*supported)(const kiln_graph *g, const graph_node *n, const char *label, char *msg,
                     size_t msg_len);
    /* Enqueues node n (see nn_op_launch); NULL: the engine does not run
     * the operator (folded or rewritten on the host). */
    kiln_status (*launch)(const nn_launch *ctx, const graph_node *n);
    /* The op code launch passes to its kernel (cl/nn_opcodes.h):
     * NN_BIN_* for nn_launch_binary, NN_UN_* for nn_launch_unary,
     * NN_POOL_* for nn_launch_pool; 0 for the others. */
    int code;
} nn_op_def;

/* nn_op_def.ndata of an operator that reads every input as data. */
#define NN_DATA_ALL (-1)

/* The table row of operator op, or NULL when op is not an operator. */
const nn_op_def *nn_op_def_of(graph_op op);

/* How many leading inputs of node n its launcher reads as tensor data
 * (Concat: all; Conv: 2 to 4, as its optional bias and residual are
 * there or not). */
size_t nn_op_data_inputs(const graph_node *n);

/* Whether the engine can run node n of a folded graph on a device, and if
 * not why: writes a message naming the node, the op and the attribute or
 * type it cannot run into msg and returns 0.  Every runtime tensor the
 * node reads or writes must be FLOAT or FLOAT16 (every Resize mode,
 * cubic included, runs on the device). */
int nn_op_supported(const kiln_graph *g, const graph_node *n, char *msg, size_t msg_len);

/* Enqueues node `node` of ctx->g with its row's launcher.  Returns
 * KILN_OK or the error of the failing build/enqueue, naming the node. */
kiln_status nn_op_launch(const nn_launch *ctx, int node);

/* The launchers of the table's rows (one node each). */
kiln_status nn_launch_conv(const nn_launch *ctx, const graph_node *n);         /* picks an implementation */
kiln_status nn_launch_conv_direct(const nn_launch *ctx, const graph_node *n);  /* any Conv; plain OIHW weights */
kiln_status nn_launch_pool(const nn_launch *ctx, const graph_node *n);
kiln_status nn_launch_resize(const nn_launch *ctx, const graph_node *n);
kiln_status nn_launch_concat(const nn_launch *ctx, const graph_node *n);
kiln_status nn_launch_binary(const nn_launch *ctx, const graph_node *n);  /* Add Sub Mul Div */
kiln_status nn_launch_unary(const nn_launch *ctx, const graph_node *n);   /* Relu Sigmoid Clip Cast Identity Reshape */
kiln_status nn_launch_transpose(const nn_launch *ctx, const graph_node *n);
kiln_status nn_launch_slice(const nn_launch *ctx, const graph_node *n);

#endif
