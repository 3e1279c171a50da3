/* The operator codes the network launchers (engine/nn) pass to the
 * network kernels (cl/nn_*.cl): written once, read by both compilers.
 *
 * The C side includes this file through the include path (-I cl); a
 * kernel source says #include "nn_opcodes.h" and cl/embed.sh inlines it,
 * so the device compiler needs no file system.  Plain #defines of int
 * values only: no C or OpenCL C type appears here. */
#ifndef KILN_NN_OPCODES_H
#define KILN_NN_OPCODES_H

/* nn_binary's op (nn_eltwise.cl): out = a op b. */
#define NN_BIN_ADD 0
#define NN_BIN_SUB 1
#define NN_BIN_MUL 2
#define NN_BIN_DIV 3

/* nn_unary's op (nn_eltwise.cl).  NN_UN_COPY copies, with the half
 * rounding of a Cast to FLOAT16 when half_out is set. */
#define NN_UN_COPY 0
#define NN_UN_RELU 1
#define NN_UN_SIGMOID 2
#define NN_UN_CLIP 3

/* nn_pool's op (nn_pool.cl). */
#define NN_POOL_AVG 0
#define NN_POOL_MAX 1

/* The activation a Conv kernel applies (nn_conv_direct.cl,
 * nn_conv_tiled.cl's act). */
#define NN_ACT_NONE 0
#define NN_ACT_RELU 1
#define NN_ACT_SIGMOID 2

/* nn_resize_table's mode, coord and nearest (nn_resize.cl): the values
 * of models/graph.h's graph_resize_mode, graph_coord_mode and
 * graph_nearest_mode (nn_resize.c asserts that they agree). */
#define NN_RESIZE_NEAREST 0
#define NN_RESIZE_LINEAR 1
#define NN_RESIZE_CUBIC 2

#define NN_COORD_HALF_PIXEL 0
#define NN_COORD_HALF_PIXEL_SYMMETRIC 1
#define NN_COORD_PYTORCH_HALF_PIXEL 2
#define NN_COORD_ALIGN_CORNERS 3
#define NN_COORD_ASYMMETRIC 4
#define NN_COORD_TF_HALF_PIXEL_FOR_NN 5
#define NN_COORD_TF_CROP_AND_RESIZE 6

#define NN_NEAREST_ROUND_PREFER_FLOOR 0
#define NN_NEAREST_ROUND_PREFER_CEIL 1
#define NN_NEAREST_FLOOR 2
#define NN_NEAREST_CEIL 3

/* Storage roles of the tensor arguments of the network kernels: bit k
 * of a kernel's NN_HALF build option (cl/nn_common.cl) is set when the
 * tensor of role k is half-stored. */
#define NN_R_X 0        /* the (first) data input */
#define NN_R_Y 1        /* the output */
#define NN_R_W 2        /* Conv weights */
#define NN_R_B 3        /* Conv bias */
#define NN_R_RES 4      /* a fused residual input; a binary op's b */

#endif
