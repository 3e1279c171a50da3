/* kiln's graph IR: the network a model file describes, at one fixed input
 * shape.
 *
 * A graph owns an array of tensors and an array of nodes.  Nodes refer to
 * tensors by index and are kept in a topological order (every node comes
 * after the producers of its inputs).  A tensor is a runtime input, a
 * constant (weights, folded shapes: host data held as float32 for floating
 * element types, int64 for integer and bool ones) or a value produced by
 * exactly one node.  Shapes are fixed int64 dims; rank is -1 until shape
 * inference (graph_fold) has set it.
 *
 * Nothing here knows about devices: the engine turns a folded graph into
 * kernel launches over a planned arena. */
#ifndef KILN_GRAPH_H
#define KILN_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "kiln.h"

#define GRAPH_MAX_RANK 8
#define GRAPH_MAX_SPATIAL 3
/* The most elements one tensor may hold (2^31). */
#define GRAPH_MAX_ELEMENTS (INT64_C(1) << 31)

/* Element types.  Constant data of GRAPH_DT_FLOAT32 and GRAPH_DT_FLOAT16
 * is held as float32 (float16 values are exactly representable); every
 * other type as int64. */
typedef enum graph_dtype {
    GRAPH_DT_FLOAT32,
    GRAPH_DT_FLOAT16,
    GRAPH_DT_INT64,
    GRAPH_DT_INT32,
    GRAPH_DT_INT16,
    GRAPH_DT_INT8,
    GRAPH_DT_UINT8,
    GRAPH_DT_UINT16,
    GRAPH_DT_UINT32,
    GRAPH_DT_BOOL
} graph_dtype;

typedef enum graph_tensor_kind {
    GRAPH_TENSOR_VALUE,     /* produced by a node */
    GRAPH_TENSOR_INPUT,     /* a runtime input of the graph */
    GRAPH_TENSOR_CONSTANT   /* host data known at load or fold time */
} graph_tensor_kind;

typedef struct graph_tensor {
    char *name;
    graph_dtype dtype;
    graph_tensor_kind kind;
    int rank;                       /* -1: not inferred yet */
    int64_t dims[GRAPH_MAX_RANK];
    float *f32;                     /* constant data, float types */
    int64_t *i64;                   /* constant data, integer and bool types */
    int producer;                   /* node index, -1 for inputs and constants */
    int half_stored;                /* on the device: 2-byte half storage
                                       (segment precision fp16), not float32 */
} graph_tensor;

typedef enum graph_op {
    GRAPH_OP_NONE,                  /* a removed node (graph_compact drops it) */
    /* operators the engine runs */
    GRAPH_OP_CONV,
    GRAPH_OP_MAXPOOL,
    GRAPH_OP_AVERAGEPOOL,
    GRAPH_OP_RESIZE,                /* also ONNX Upsample */
    GRAPH_OP_CONCAT,
    GRAPH_OP_ADD,
    GRAPH_OP_SUB,
    GRAPH_OP_MUL,
    GRAPH_OP_DIV,
    GRAPH_OP_RELU,
    GRAPH_OP_SIGMOID,
    GRAPH_OP_CLIP,
    GRAPH_OP_CAST,
    GRAPH_OP_RESHAPE,
    GRAPH_OP_TRANSPOSE,
    GRAPH_OP_SLICE,
    GRAPH_OP_IDENTITY,
    /* folded into a Conv, or rewritten as Mul and Add */
    GRAPH_OP_BATCHNORM,
    /* rewritten as Reshape on runtime data */
    GRAPH_OP_SQUEEZE,
    GRAPH_OP_UNSQUEEZE,
    GRAPH_OP_FLATTEN,
    /* shape computations: folded for the fixed input shape */
    GRAPH_OP_SHAPE,
    GRAPH_OP_GATHER,
    GRAPH_OP_CONSTANT_OF_SHAPE,
    GRAPH_OP_RANGE,
    GRAPH_OP_EQUAL,
    GRAPH_OP_WHERE,
    GRAPH_OP_EXPAND,
    GRAPH_OP_FLOOR,
    GRAPH_OP_CEIL,
    GRAPH_OP_COUNT
} graph_op;

typedef enum graph_auto_pad {
    GRAPH_PAD_NOTSET,
    GRAPH_PAD_SAME_UPPER,
    GRAPH_PAD_SAME_LOWER,
    GRAPH_PAD_VALID
} graph_auto_pad;

typedef enum graph_activation {
    GRAPH_ACT_NONE,
    GRAPH_ACT_RELU,
    GRAPH_ACT_SIGMOID
} graph_activation;

/* The sliding window of Conv and the pools, over nspatial dims.  pads
 * holds the begins then the ends (ONNX order).  graph_fold resolves
 * auto_pad into explicit pads (auto_pad becomes NOTSET) and fills every
 * field that had a default, so that the engine reads plain numbers. */
typedef struct graph_window {
    int nspatial;                   /* 0 until known */
    int64_t kernel[GRAPH_MAX_SPATIAL];
    int64_t strides[GRAPH_MAX_SPATIAL];
    int64_t dilations[GRAPH_MAX_SPATIAL];
    int64_t pads[2 * GRAPH_MAX_SPATIAL];
    graph_auto_pad auto_pad;
    int has_kernel, has_strides, has_dilations, has_pads;
} graph_window;

typedef struct graph_conv_attr {
    graph_window win;
    int64_t group;
    graph_activation activation;    /* fused by graph_fold */
} graph_conv_attr;

typedef struct graph_pool_attr {
    graph_window win;
    int ceil_mode;
    int count_include_pad;          /* AveragePool */
} graph_pool_attr;

typedef enum graph_resize_mode {
    GRAPH_RESIZE_NEAREST,
    GRAPH_RESIZE_LINEAR,
    GRAPH_RESIZE_CUBIC
} graph_resize_mode;

typedef enum graph_coord_mode {
    GRAPH_COORD_HALF_PIXEL,
    GRAPH_COORD_HALF_PIXEL_SYMMETRIC,
    GRAPH_COORD_PYTORCH_HALF_PIXEL,
    GRAPH_COORD_ALIGN_CORNERS,
    GRAPH_COORD_ASYMMETRIC,
    GRAPH_COORD_TF_HALF_PIXEL_FOR_NN,
    GRAPH_COORD_TF_CROP_AND_RESIZE
} graph_coord_mode;

typedef enum graph_nearest_mode {
    GRAPH_NEAREST_ROUND_PREFER_FLOOR,
    GRAPH_NEAREST_ROUND_PREFER_CEIL,
    GRAPH_NEAREST_FLOOR,
    GRAPH_NEAREST_CEIL
} graph_nearest_mode;

typedef enum graph_aspect_policy {
    GRAPH_ASPECT_STRETCH,
    GRAPH_ASPECT_NOT_LARGER,
    GRAPH_ASPECT_NOT_SMALLER
} graph_aspect_policy;

/* Resize (and Upsample, loaded as Resize with asymmetric coordinates and
 * floor rounding).  Inputs are always [X, roi, scales, sizes] (absent ones
 * -1).  graph_fold sets scales[] and roi[] for every dim of X: the scale
 * used to map output coordinates to input ones (output/input when sizes
 * were given) and the region of interest (0 and 1 unless
 * tf_crop_and_resize).  As in the ONNX reference, the coordinate formulas
 * use the resized length scale * input_dim (a real number: align_corners
 * divides by scale * in - 1, not out - 1), except when `sized` is set
 * (sizes given, stretch policy): then it is the output dim itself. */
typedef struct graph_resize_attr {
    graph_resize_mode mode;
    graph_coord_mode coord;
    graph_nearest_mode nearest;
    float cubic_coeff_a;
    int exclude_outside;
    float extrapolation_value;
    graph_aspect_policy aspect;
    int naxes;                      /* 0: every axis */
    int64_t axes[GRAPH_MAX_RANK];
    int nattr_scales;               /* Upsample-7 scales attribute */
    float attr_scales[GRAPH_MAX_RANK];
    float scales[GRAPH_MAX_RANK];
    float roi[2 * GRAPH_MAX_RANK];
    int sized;
} graph_resize_attr;

/* Clip bounds: attributes (opset < 11) or inputs 1 and 2, resolved by
 * graph_fold; absent bounds are -inf/+inf. */
typedef struct graph_clip_attr {
    double min, max;
    int has_min, has_max;
} graph_clip_attr;

/* Slice: attributes (opset < 10) or inputs [data, starts, ends, axes,
 * steps].  graph_fold resolves start[] and step[] for every dim of the
 * data (the output dims give the counts). */
typedef struct graph_slice_attr {
    int from_attrs;
    int nattr;
    int64_t attr_starts[GRAPH_MAX_RANK];
    int64_t attr_ends[GRAPH_MAX_RANK];
    int64_t attr_axes[GRAPH_MAX_RANK];
    int has_attr_axes;
    int64_t start[GRAPH_MAX_RANK];
    int64_t step[GRAPH_MAX_RANK];
} graph_slice_attr;

/* Squeeze and Unsqueeze axes: an attribute (opset < 13) or input 1. */
typedef struct graph_axes_attr {
    int naxes;
    int has_axes;
    int64_t axes[GRAPH_MAX_RANK];
} graph_axes_attr;

typedef struct graph_shape_attr {
    int64_t start;
    int64_t end;
    int has_end;
} graph_shape_attr;

/* ConstantOfShape's fill value and element type. */
typedef struct graph_fill_attr {
    graph_dtype dtype;
    double value;
} graph_fill_attr;

typedef union graph_attrs {
    graph_conv_attr conv;
    graph_pool_attr pool;
    graph_resize_attr resize;
    graph_clip_attr clip;
    graph_slice_attr slice;
    graph_axes_attr axes;           /* Squeeze, Unsqueeze */
    graph_shape_attr shape;
    graph_fill_attr fill;
    graph_dtype cast_to;
    int64_t axis;                   /* Concat, Gather, Flatten */
    int allowzero;                  /* Reshape */
    float epsilon;                  /* BatchNormalization */
    struct {
        int nperm;                  /* 0: reverse the dims */
        int64_t perm[GRAPH_MAX_RANK];
    } transpose;
} graph_attrs;

typedef struct graph_node {
    char *name;                     /* the ONNX node name, "" when unnamed */
    size_t index;                   /* position in the model file */
    graph_op op;
    size_t ninputs;
    size_t noutputs;
    int *inputs;                    /* tensor indices; -1: optional input absent */
    int *outputs;
    graph_attrs attr;
} graph_node;

typedef struct kiln_graph {
    graph_tensor *tensors;
    size_t ntensors;
    size_t cap_tensors;
    graph_node *nodes;
    size_t nnodes;
    size_t cap_nodes;
    int *inputs;                    /* runtime inputs, in model order */
    size_t ninputs;
    int *outputs;                   /* graph outputs, in model order */
    size_t noutputs;
    int64_t opset;                  /* default-domain opset of the model */
} kiln_graph;

/* Creates an empty graph.  Returns KILN_OK and *out, or KILN_E_HOSTMEM. */
kiln_status graph_new(kiln_graph **out);

/* Frees a graph and everything it owns.  NULL is ignored. */
void graph_free(kiln_graph *g);

/* Appends a tensor named `name` (copied) of type `dtype`, kind VALUE,
 * rank -1, no data, no producer; its index goes to *index.  Pointers into
 * g->tensors are invalid after this call. */
kiln_status graph_add_tensor(kiln_graph *g, const char *name, graph_dtype dtype,
                             int *index);

/* Appends a node of operator `op` named `name` (copied; NULL for "") with
 * ninputs inputs and noutputs outputs, all -1; its index goes to *index.
 * Pointers into g->nodes are invalid after this call. */
kiln_status graph_add_node(kiln_graph *g, graph_op op, const char *name,
                           size_t ninputs, size_t noutputs, int *index);

/* Frees what a tensor owns (name and data) and clears it. */
void graph_tensor_clear(graph_tensor *t);

/* Frees a tensor's constant data (it stays named and shaped). */
void graph_tensor_drop_data(graph_tensor *t);

/* Allocates zeroed constant data for a tensor whose rank and dims are set
 * (float32 for float types, int64 otherwise) and makes it a constant.
 * Returns KILN_E_HOSTMEM on failure, with the tensor unchanged. */
kiln_status graph_tensor_alloc_data(graph_tensor *t);

/* The number of elements of a shaped tensor (1 for rank 0). */
int64_t graph_tensor_elements(const graph_tensor *t);

/* Whether a tensor holds constant host data. */
int graph_tensor_is_const(const graph_tensor *t);

/* Reads element i of a constant as a double (either storage). */
double graph_tensor_get(const graph_tensor *t, int64_t i);

/* The index of the tensor named `name`, or -1 (a linear search). */
int graph_find_tensor(const kiln_graph *g, const char *name);

/* Checks a shape: rank 0..GRAPH_MAX_RANK, no negative dim, at most
 * GRAPH_MAX_ELEMENTS elements.  On failure sets a message naming `what`
 * and returns KILN_E_FORMAT (negative dim) or KILN_E_LIMIT. */
kiln_status graph_shape_check(int rank, const int64_t *dims, const char *what);

/* Formats "node 'NAME' (#INDEX, OP)" into buf and returns buf. */
const char *graph_node_label(const graph_node *n, char *buf, size_t size);

/* Formats a tensor's shape as "1x3x320x320" ("scalar" for rank 0, "?"
 * when unknown) into buf and returns buf. */
const char *graph_shape_string(const graph_tensor *t, char *buf, size_t size);

/* The ONNX-style name of an operator ("Conv"). */
const char *graph_op_name(graph_op op);

/* The ONNX-style name of an element type ("FLOAT16"). */
const char *graph_dtype_name(graph_dtype dtype);

/* Bytes per element of a type as the engine stores it. */
size_t graph_dtype_size(graph_dtype dtype);

/* Bytes per element of a runtime tensor of this type as the engine holds
 * it on a device: every floating type as float32 (4), others as
 * graph_dtype_size. */
size_t graph_storage_size(graph_dtype dtype);

/* Bytes per element of tensor t on a device: 2 when it is half-stored
 * (t->half_stored), else graph_storage_size of its type. */
size_t graph_tensor_storage_size(const graph_tensor *t);

/* Whether constant data of this type is held as float32. */
int graph_dtype_is_float(graph_dtype dtype);

/* Wraps an integer to the range of an integer type as a two's-complement
 * conversion does (BOOL: 0 or 1); float types return it unchanged. */
int64_t graph_dtype_wrap(graph_dtype dtype, int64_t value);

/* Whether the engine runs this operator (after folding, every remaining
 * node must be one of these). */
int graph_op_is_runtime(graph_op op);

#endif
