/* The register-tiled direct convolution (cl/nn_conv_tiled.cl): 2D Conv of
 * group 1 with any kernel size, stride, dilation and pads, bias and fused
 * activation, on weights packed for it.
 *
 * Each work-item computes `toc` output channels x `nv * vw` consecutive
 * output pixels of one row.  Which tile a node gets depends on its shape
 * class (nn_conv_tiled_class) and the device's tuning; the weights must be
 * packed with the same tuning the node is launched with. */
#ifndef KILN_NN_CONV_TILED_H
#define KILN_NN_CONV_TILED_H

#include <stddef.h>

#include "device.h"
#include "graph.h"
#include "nn_ops.h"

/* Shape classes that get their own tile parameters. */
enum {
    NN_CONV_CLASS_WIDE = 0,   /* OC > 4 and C > 8: the bulk of every network */
    NN_CONV_CLASS_THIN_IN,    /* OC > 4, C <= 8: the first conv of a network */
    NN_CONV_CLASS_NARROW,     /* OC <= 4: side outputs, fuse convs */
    NN_CONV_CLASSES
};

/* Where a tuning came from. */
enum {
    NN_TUNING_DEFAULT = 0,    /* nn_conv_tuning_default */
    NN_TUNING_FILE,           /* loaded from a tuning file */
    NN_TUNING_CORRUPT,        /* defaults: the tuning file was unreadable */
    NN_TUNING_SEARCHED        /* nn_tune_run measured it */
};

/* The tile of one shape class. */
typedef struct nn_conv_tile {
    int toc;      /* output channels per work-item, 1..32 */
    int nv;       /* vectors along the row per work-item, 1..8 */
    int vw;       /* vector width: 1, 2, 4, 8 or 16 */
    int lx, ly;   /* work-group size in dims 0 and 1 (lx * ly <= 1024);
                     always explicit: POCL compiles a kernel per
                     work-group size, and its own choice can be huge */
} nn_conv_tile;

/* Explicit shapes of one conv (N = 1): input C x H x W, output OC x OH
 * x OW, kernel, strides, dilations, begin pads; act is NN_ACT_NONE,
 * NN_ACT_RELU or NN_ACT_SIGMOID (cl/nn_opcodes.h); half_out rounds
 * results to half precision. */
typedef struct nn_conv_shape {
    int c, h, w, oc, oh, ow, kh, kw, sy, sx, dy, dx, py, px, act, half_out;
} nn_conv_shape;

/* Per-shape algorithm records a tuning holds at most. */
#define NN_CONV_CHOICES_MAX 512

/* The algorithm (NN_CONV_ALGO_*, nn_conv_algo.h) measured fastest for one
 * conv shape (act and half_out zero: they do not key a record). */
typedef struct nn_conv_choice {
    nn_conv_shape s;
    int algo;
} nn_conv_choice;

/* Per-device parameters of the convolutions. */
typedef struct nn_conv_tuning {
    int oc_first;                         /* 1: dim 0 walks output-channel
                                             blocks (CPUs); 0: pixel tiles */
    nn_conv_tile cls[NN_CONV_CLASSES];
    int origin;                           /* NN_TUNING_* */
    int nchoices;                         /* per-shape algorithm records */
    nn_conv_choice choice[NN_CONV_CHOICES_MAX];
} nn_conv_tuning;

/* The algorithm recorded for shape s (act and half_out ignored), or -1
 * when the tuning holds no record of it. */
int nn_conv_tuning_lookup(const nn_conv_tuning *t, const nn_conv_shape *s);

/* Records `algo` for shape s (replacing a record of the same shape);
 * returns 0 when the table is full. */
int nn_conv_tuning_record(nn_conv_tuning *t, const nn_conv_shape *s, int algo);

/* Fills *t with the defaults for the device type of `info` (NULL: CPU). */
void nn_conv_tuning_default(const device_info *info, nn_conv_tuning *t);

/* Whether a tuning holds only values the kernel accepts. */
int nn_conv_tuning_valid(const nn_conv_tuning *t);

/* The shape class (NN_CONV_CLASS_*) of a conv with C inputs and OC
 * outputs. */
int nn_conv_tiled_class(int64_t in_channels, int64_t out_channels);

/* The tile for a conv of C -> OC under tuning t (NULL or invalid: CPU
 * defaults): the class's tile with toc capped at OC. */
nn_conv_tile nn_conv_tiled_tile(const nn_conv_tuning *t, int64_t c, int64_t oc);

/* Adjusts a class's tile to one conv: toc capped at the output channels
 * (the packing uses the capped toc), and nv, then vw, lowered while a
 * tile is wider than the output rows, so that tiles stay full and take
 * the vector path (the packing does not depend on nv and vw). */
void nn_conv_tile_fit(nn_conv_tile *k, int64_t out_channels, int64_t out_width);

/* Whether node n of a folded graph can run on the tiled kernel: a Conv with
 * 2 spatial dims, group 1, float tensors of rank 4 with inferred shapes,
 * constant float weights, sizes that fit the kernel's int arithmetic. */
int nn_conv_tiled_fits(const kiln_graph *g, const graph_node *n);

/* Floats of node n's weights packed for tuning t (NULL: CPU defaults):
 * OC rounded up to the class's toc, times C * KH * KW. */
size_t nn_conv_tiled_packed_elements(const kiln_graph *g, const graph_node *n,
                                      const nn_conv_tuning *t);

/* Packs node n's OIHW float weights (the constant input 1) into dst
 * (nn_conv_tiled_packed_elements floats) as [OC/toc][KH][KW][C][toc],
 * the padding channels zero. */
void nn_conv_tiled_pack(const kiln_graph *g, const graph_node *n, const nn_conv_tuning *t,
                        float *dst);

/* Enqueues node n with the tile of ctx->conv_tuning (NULL or invalid:
 * defaults for ctx->dev), its vectors narrowed for rows narrower than the
 * tile.  Weights at places[inputs[1]] are packed by
 * nn_conv_tiled_pack with that tuning; bias plain at places[inputs[2]]
 * (absent when the input is -1); the residual (input 3, when present)
 * plain at places[inputs[3]], added after the activation.  Does not
 * wait. */
kiln_status nn_launch_conv_tiled(const nn_launch *ctx, const graph_node *n);

/* Enqueues the tiled kernel for explicit shapes and places, with tile
 * `tile` and dimension order `oc_first` (weights packed for tile.toc).
 * r: the residual added after the activation, in y's layout (r.mem NULL:
 * none).  Used by the launcher and the tuning search.  Does not wait. */
kiln_status nn_conv_tiled_enqueue(kiln_device *dev, const nn_conv_shape *s,
                                  const nn_conv_tile *tile, int oc_first, nn_place x,
                                  nn_place w, nn_place b, nn_place y, nn_place r);

/* nn_conv_tiled_enqueue with storage build options (`storage`, NULL:
 * every tensor float32; else nn_build_options' "-D NN_HALF=..." for the
 * node's half-stored tensors, cl/nn_common.cl). */
kiln_status nn_conv_tiled_enqueue_stored(kiln_device *dev, const nn_conv_shape *s,
                                         const nn_conv_tile *tile, int oc_first,
                                         const char *storage, nn_place x, nn_place w,
                                         nn_place b, nn_place y, nn_place r);

#endif
