/* A network on a device: an ONNX model folded at one input shape, its
 * weights uploaded once, its activations in one planned arena.
 *
 * Models are owned by the device's resident cache (engine/core/resident.h)
 * under the key (file, input shapes): nn_model_acquire returns the cached
 * model or builds it, and counts a reference; nn_model_release gives the
 * reference back.  A model nobody holds stays cached, so every job and
 * item that uses the same model on the device shares one weight set and
 * one arena; when the pool cannot serve a new model, objects nobody holds
 * are evicted, least recently used first, and the build is retried.  The
 * cache is freed by device_close, before the pool.
 *
 * One worker uses a device at a time, so a model's arena is never used by
 * two runs at once. */
#ifndef KILN_NN_MODEL_H
#define KILN_NN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "graph.h"
#include "memory_plan.h"
#include "nn_conv_algo.h"
#include "nn_ops.h"
#include "nn_precision.h"
#include "onnx_load.h"

typedef struct nn_model nn_model;

/* What a model is and what it holds on its device. */
typedef struct nn_model_facts {
    size_t nodes;                   /* runtime nodes after folding */
    size_t conv_algo[NN_CONV_ALGOS]; /* Convs per algorithm (NN_CONV_ALGO_*) */
    size_t scratch_bytes;           /* the Conv scratch buffer (0: none) */
    size_t weight_bytes;            /* the weight buffer */
    size_t arena_bytes;             /* the planned activation arena */
    size_t arena_bytes_fp32;        /* the arena with every tensor float32
                                       (arena_bytes unless fp16) */
    int precision;                  /* nn_precision it runs at (FP32 or FP16) */
    size_t half_tensors;            /* tensors half-stored (0 at fp32) */
    int half_products;              /* Conv products in half (see
                                       nn_precision_half_products) */
    size_t lower_bound;             /* liveness lower bound of the plan */
    size_t activation_sum;          /* sum of every activation's bytes */
    size_t inplace;                 /* tensors written inside a Concat output */
    double build_ms;                /* load, fold, plan and upload */
    int tuning_origin;              /* NN_TUNING_* of the conv tuning used */
} nn_model_facts;

#define NN_MODEL_MAX_INPUTS 8

/* Returns the model of `path`, at auto precision, with its runtime
 * inputs fixed to `shapes`
 * (nshapes of them, in input order, names ignored; 0: the model's own
 * fixed shapes), building it on `dev` when it is not cached.  The model
 * computes only its first output.  Errors name the file: KILN_E_IO,
 * KILN_E_FORMAT (corrupt or unsupported model, or a node the device
 * cannot run, naming node, op and attribute), KILN_E_INVAL (a shape that
 * does not fit the model), KILN_E_LIMIT, KILN_E_NOMEM, KILN_E_HOSTMEM,
 * KILN_E_CL. */
kiln_status nn_model_acquire(kiln_device *dev, const char *path, const onnx_input_shape *shapes,
                             size_t nshapes, nn_model **out);

/* nn_model_acquire at a storage precision (nn_precision.h; auto
 * resolves per device and model): the cache keys on it, so one file runs
 * at fp32 and fp16 side by side.  A bad precision is KILN_E_INVAL. */
kiln_status nn_model_acquire_at(kiln_device *dev, const char *path,
                                const onnx_input_shape *shapes, size_t nshapes,
                                nn_precision precision, nn_model **out);

/* Gives back a reference taken by nn_model_acquire.  NULL is ignored. */
void nn_model_release(nn_model *model);

/* The folded graph (read-only). */
const kiln_graph *nn_model_graph(const nn_model *model);

/* The place of the model's runtime input i (its elements are float32). */
nn_place nn_model_input(const nn_model *model, size_t i);

/* The place of the model's output i (only output 0 is computed). */
nn_place nn_model_output(const nn_model *model, size_t i);

/* Enqueues every node of the network on the device queue (the input
 * must have been written, on the same queue, before).  Does not wait. */
kiln_status nn_model_run(nn_model *model);

/* As nn_model_run, waiting for each node and adding its wall time in
 * milliseconds to node_ms[node] (g->nnodes entries), for profiles. */
kiln_status nn_model_run_profiled(nn_model *model, double *node_ms);

/* Writes `count` floats (the whole input i) from host memory into the
 * arena, blocking.  KILN_E_INVAL when count is not the input's size. */
kiln_status nn_model_write_input(nn_model *model, size_t i, const float *data, size_t count);

/* Reads the whole output i (`count` floats) into host memory, blocking
 * (waits for the queue). */
kiln_status nn_model_read_output(nn_model *model, size_t i, float *data, size_t count);

/* Copies the model's facts. */
void nn_model_facts_get(const nn_model *model, nn_model_facts *out);


#endif
