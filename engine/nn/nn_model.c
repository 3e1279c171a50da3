/* Networks on a device: building (load, fold, plan, upload), the
 * per-device cache that shares them, and running them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "graph_fold.h"
#include "graph_lifetime.h"
#include "launch.h"
#include "host_alloc.h"
#include "nn_conv_algo.h"
#include "float16.h"
#include "nn_model.h"
#include "nn_precision.h"
#include "nn_tune.h"
#include "onnx_load.h"
#include "parallel_for.h"
#include "phase_time.h"
#include "pool.h"
#include "resident.h"
#include "status.h"

/* The most threads that pack one model's weights. */
#define WEIGHT_PACK_WORKERS 8

#define NN_WEIGHT_ALIGN 64          /* bytes: 64-byte aligned constants */

struct nn_model {
    kiln_device *dev;
    char *path;
    onnx_input_shape shapes[NN_MODEL_MAX_INPUTS];
    size_t nshapes;
    kiln_graph *g;
    nn_place *places;               /* per tensor */
    unsigned char *conv_algo;       /* per node: NN_CONV_ALGO_* of a Conv */
    pool_buffer *weights;
    pool_buffer *arena;
    pool_buffer *scratch;           /* Conv temporaries; NULL: none needed */
    size_t scratch_floats;
    nn_model_facts facts;
    nn_conv_tuning tuning;          /* the device's conv tuning at build */
    nn_precision asked;             /* the request: auto, fp32 or fp16 */
};

/* Frees a model's host and device parts (the resident cache's free
 * function). */
static void model_free(void *object)
{
    nn_model *m = object;

    if (!m)
        return;
    pool_release(m->dev->pool, m->scratch);
    pool_release(m->dev->pool, m->arena);
    pool_release(m->dev->pool, m->weights);
    graph_free(m->g);
    kiln_free(m->places);
    kiln_free(m->conv_algo);
    kiln_free(m->path);
    kiln_free(m);
}

/* Loads and folds `path` at `dims` into m->g and checks that the device
 * runs every node. */
static kiln_status model_load(nn_model *m)
{
    onnx_load_options opt = { m->shapes, m->nshapes };
    graph_fold_options fold = { 0 };
    char msg[512];
    kiln_status st;

    st = onnx_load(m->path, &opt, &m->g);
    if (st != KILN_OK)
        return st;
    m->facts.precision = nn_precision_resolve(m->asked, m->dev,
                                              nn_precision_model_is_fp16(m->g));
    fold.runtime_only = 1;
    st = graph_fold(m->g, &fold, NULL);
    if (st != KILN_OK)
        return kiln_fail_context(st, "%s", m->path);
    for (size_t i = 0; i < m->g->nnodes; i++) {
        if (!nn_op_supported(m->g, &m->g->nodes[i], msg, sizeof(msg)))
            return kiln_fail(KILN_E_FORMAT, "%s: %s", m->path, msg);
    }
    for (size_t i = 0; i < m->g->noutputs; i++) {
        const graph_tensor *t = &m->g->tensors[m->g->outputs[i]];
        if (t->kind == GRAPH_TENSOR_CONSTANT)
            return kiln_fail(KILN_E_FORMAT, "%s: output '%s' is a constant", m->path, t->name);
    }
    return KILN_OK;
}

/* The arena bytes the graph would plan with every tensor float32 (the
 * fp32 figure beside an fp16 plan, for the facts). */
static kiln_status arena_bytes_fp32(nn_model *m, size_t *out)
{
    unsigned char *saved = kiln_malloc(m->g->ntensors ? m->g->ntensors : 1);
    memory_plan plan;
    kiln_status st;

    if (!saved)
        return kiln_fail(KILN_E_HOSTMEM, "%s: out of host memory", m->path);
    for (size_t t = 0; t < m->g->ntensors; t++) {
        saved[t] = (unsigned char)m->g->tensors[t].half_stored;
        m->g->tensors[t].half_stored = 0;
    }
    st = memory_plan_graph(m->g, GRAPH_INPLACE_CONCAT_SHARED, &plan);
    for (size_t t = 0; t < m->g->ntensors; t++)
        m->g->tensors[t].half_stored = saved[t];
    kiln_free(saved);
    if (st != KILN_OK)
        return st;
    *out = plan.arena_bytes;
    memory_plan_free(&plan);
    return KILN_OK;
}

/* Plans the arena and sets the places of runtime tensors (offsets in
 * elements of each tensor's storage). */
static kiln_status model_plan(nn_model *m)
{
    memory_plan plan;
    /* skip tensors too go in place: the decoders' Concats copy nothing */
    kiln_status st = memory_plan_graph(m->g, GRAPH_INPLACE_CONCAT_SHARED, &plan);

    if (st != KILN_OK)
        return kiln_fail_context(st, "%s: planning the activation arena", m->path);
    m->facts.arena_bytes_fp32 = plan.arena_bytes;
    if (m->facts.half_tensors) {
        st = arena_bytes_fp32(m, &m->facts.arena_bytes_fp32);
        if (st != KILN_OK) {
            memory_plan_free(&plan);
            return kiln_fail_context(st, "%s: planning the float32 arena", m->path);
        }
    }
    m->facts.arena_bytes = plan.arena_bytes;
    m->facts.lower_bound = plan.lower_bound;
    m->facts.inplace = plan.inplace;
    m->facts.activation_sum = 0;
    for (size_t t = 0; t < m->g->ntensors; t++) {
        const graph_tensor *x = &m->g->tensors[t];
        if (plan.offsets[t] == MEMORY_PLAN_NONE)
            continue;
        m->places[t].offset = (cl_uint)(plan.offsets[t] / graph_tensor_storage_size(x));
        m->facts.activation_sum += (size_t)graph_tensor_elements(x) * graph_tensor_storage_size(x);
    }
    memory_plan_free(&plan);
    if (m->facts.arena_bytes / sizeof(float) > UINT32_MAX)
        return kiln_fail(KILN_E_LIMIT, "%s: the activation arena (%zu bytes) exceeds 2^32 floats",
                         m->path, m->facts.arena_bytes);
    return KILN_OK;
}

/* Whether tensor t is a constant some runtime node reads as data; sets
 * *packed_node to the Conv whose packed weights it is (or -1). */
static int weight_use(const kiln_graph *g, const unsigned char *algo, int t, int *packed_node)
{
    int used = 0;
    *packed_node = -1;
    for (size_t i = 0; i < g->nnodes; i++) {
        const graph_node *n = &g->nodes[i];
        for (size_t k = 0; k < n->ninputs; k++) {
            if (n->inputs[k] != t || k >= nn_op_data_inputs(n))
                continue;
            used = 1;
            if (n->op == GRAPH_OP_CONV && k == 1 && nn_conv_algo_packs(algo[i]))
                *packed_node = (int)i;
        }
    }
    return used;
}

/* Writes constant t's `count` values (packed for Conv node `packed` when
 * it is >= 0, else its own) at dst in its storage: float32, or half
 * (converted from a float packing in `tmp`, `count` floats). */
static void weight_write(nn_model *m, size_t t, int packed, size_t count, float *tmp,
                         unsigned char *dst)
{
    const kiln_graph *g = m->g;
    const graph_tensor *x = &g->tensors[t];
    const float *src = x->f32;

    if (!x->half_stored) {
        if (packed >= 0)
            nn_conv_algo_pack(g, &g->nodes[packed], m->conv_algo[packed], &m->tuning,
                              (float *)(void *)dst);
        else
            memcpy(dst, src, count * sizeof(float));
        return;
    }
    if (packed >= 0) {
        memset(tmp, 0, count * sizeof(float));
        nn_conv_algo_pack(g, &g->nodes[packed], m->conv_algo[packed], &m->tuning, tmp);
        src = tmp;
    }
    for (size_t i = 0; i < count; i++) {
        uint16_t h = float16_from_float(src[i]);
        memcpy(dst + 2 * i, &h, sizeof(h));
    }
}

/* The weight packing of a model, shared by the workers that pack its
 * tensors (largest first) into the mapped weight buffer. */
typedef struct weight_pack_job {
    nn_model *m;
    const int *packed;
    const size_t *at, *count;
    size_t *order;              /* tensor indices, largest first */
    float *tmp;                 /* `most` floats per worker */
    size_t most;
    unsigned char *host;
} weight_pack_job;

/* Bytes tensor t takes in the weight buffer, alignment included. */
static size_t weight_region(const kiln_graph *g, size_t t, size_t count)
{
    size_t n = count * graph_tensor_storage_size(&g->tensors[t]);
    return (n + NN_WEIGHT_ALIGN - 1) / NN_WEIGHT_ALIGN * NN_WEIGHT_ALIGN;
}

/* One piece of the packing: the i-th largest tensor, its region zeroed
 * (alignment padding included) and written. */
static void weight_pack_piece(void *ctx, size_t i, unsigned worker)
{
    const weight_pack_job *j = ctx;
    size_t t = j->order[i];
    unsigned char *dst = j->host + j->at[t];

    memset(dst, 0, weight_region(j->m->g, t, j->count[t]));
    weight_write(j->m, t, j->packed[t], j->count[t], j->tmp ? j->tmp + worker * j->most : NULL,
                 dst);
}

/* A tensor of the packing and its bytes, for ordering the pieces. */
typedef struct weight_piece {
    size_t bytes;
    size_t t;
} weight_piece;

/* Orders pieces by their bytes, largest first, then by index (qsort). */
static int weight_larger_first(const void *a, const void *b)
{
    const weight_piece *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes < y->bytes ? 1 : -1;
    return (x->t > y->t) - (x->t < y->t);
}

/* Zeroes and writes every placed tensor (at[t] != SIZE_MAX) into host,
 * on up to WEIGHT_PACK_WORKERS cores (tmp: `most` floats for each of
 * parallel_for_workers(ntensors, WEIGHT_PACK_WORKERS) workers).
 * Without host memory for the order, packs them in index order on this
 * thread alone. */
static void weights_write_all(nn_model *m, const int *packed, const size_t *at,
                              const size_t *count, float *tmp, size_t most, unsigned char *host)
{
    const kiln_graph *g = m->g;
    weight_pack_job job = { m, packed, at, count, NULL, tmp, most, host };
    weight_piece *pieces = kiln_malloc((g->ntensors ? g->ntensors : 1) * sizeof(*pieces));
    size_t n = 0;

    if (pieces)
        job.order = kiln_malloc((g->ntensors ? g->ntensors : 1) * sizeof(*job.order));
    if (!job.order) {
        kiln_free(pieces);
        for (size_t t = 0; t < g->ntensors; t++)
            if (at[t] != SIZE_MAX) {
                memset(host + at[t], 0, weight_region(g, t, count[t]));
                weight_write(m, t, packed[t], count[t], tmp, host + at[t]);
            }
        return;
    }
    for (size_t t = 0; t < g->ntensors; t++)
        if (at[t] != SIZE_MAX) {
            pieces[n].bytes = weight_region(g, t, count[t]);
            pieces[n++].t = t;
        }
    qsort(pieces, n, sizeof(*pieces), weight_larger_first);
    for (size_t i = 0; i < n; i++)
        job.order[i] = pieces[i].t;
    kiln_free(pieces);
    parallel_for(n, WEIGHT_PACK_WORKERS, weight_pack_piece, &job);
    kiln_free(job.order);
}

/* Lays out, packs and uploads every constant runtime nodes read, each in
 * its storage (float32, or half: graph_tensor.half_stored); then drops
 * their host copies.  A weight both packed for a Conv and read plainly
 * elsewhere is refused (the file would need two copies). */
static kiln_status model_upload_weights(nn_model *m)
{
    kiln_graph *g = m->g;
    size_t total = 0, most = 0;
    int *packed = kiln_malloc(g->ntensors * sizeof(*packed));
    size_t *at = kiln_malloc(g->ntensors * sizeof(*at));
    size_t *count = kiln_malloc(g->ntensors * sizeof(*count));
    float *tmp = NULL;
    unsigned char *host = NULL;
    double t0 = kiln_clock_ms();
    kiln_status st = KILN_OK;

    if (!packed || !at || !count) {
        st = kiln_fail(KILN_E_HOSTMEM, "%s: out of host memory laying out weights", m->path);
        goto out_free;
    }
    for (size_t t = 0; t < g->ntensors; t++) {
        const graph_tensor *x = &g->tensors[t];
        size_t n;
        at[t] = SIZE_MAX;
        if (x->kind != GRAPH_TENSOR_CONSTANT || !weight_use(g, m->conv_algo, (int)t, &packed[t]))
            continue;
        if (!graph_dtype_is_float(x->dtype) || !x->f32) {
            st = kiln_fail(KILN_E_FORMAT, "%s: constant '%s' of type %s is read as data on the "
                           "device", m->path, x->name, graph_dtype_name(x->dtype));
            goto out_free;
        }
        n = packed[t] >= 0
            ? nn_conv_algo_packed_elements(g, &g->nodes[packed[t]],
                                           m->conv_algo[packed[t]], &m->tuning)
            : (size_t)graph_tensor_elements(x);
        count[t] = n;
        if (x->half_stored && packed[t] >= 0 && n > most)
            most = n;
        at[t] = total;
        n *= graph_tensor_storage_size(x);
        total += (n + NN_WEIGHT_ALIGN - 1) / NN_WEIGHT_ALIGN * NN_WEIGHT_ALIGN;
    }
    if (total == 0)
        goto out_free;
    if (total / sizeof(float) > UINT32_MAX) {
        st = kiln_fail(KILN_E_LIMIT, "%s: %zu weight bytes exceed 2^32 floats", m->path, total);
        goto out_free;
    }
    if (most && !(tmp = kiln_malloc(most * parallel_for_workers(g->ntensors, WEIGHT_PACK_WORKERS) *
                                    sizeof(*tmp)))) {
        st = kiln_fail(KILN_E_HOSTMEM, "%s: out of host memory packing half weights", m->path);
        goto out_free;
    }
    /* packed straight into the mapped weight buffer: no host copy of
       the packed weights beside the device's (one tensor's float packing
       at most, for a half-stored one) */
    st = pool_acquire(m->dev->pool, total, "model.weights", &m->weights);
    if (st != KILN_OK) {
        st = kiln_fail_context(st, "%s: weights", m->path);
        goto out_free;
    }
    st = dev_buffer_map_write(m->dev, m->weights->mem, 0, total, (void **)&host,
                              "mapping the model weights");
    if (st != KILN_OK)
        goto out_free;
    weights_write_all(m, packed, at, count, tmp, most, host);
    kiln_phase_lap(KILN_PHASE_WEIGHT_PACK, &t0);
    st = dev_buffer_unmap(m->dev, m->weights->mem, host, "uploading model weights");
    kiln_phase_lap(KILN_PHASE_WEIGHT_UPLOAD, &t0);
    if (st != KILN_OK)
        goto out_free;
    m->facts.weight_bytes = total;
    for (size_t t = 0; t < g->ntensors; t++) {
        if (at[t] == SIZE_MAX)
            continue;
        m->places[t].mem = m->weights->mem;
        m->places[t].offset = (cl_uint)(at[t] / graph_tensor_storage_size(&g->tensors[t]));
        graph_tensor_drop_data(&g->tensors[t]);
    }
out_free:
    kiln_free(tmp);
    kiln_free(packed);
    kiln_free(at);
    kiln_free(count);
    return st;
}

/* Whether Conv node i's weight tensor is read by another node too. */
static int weight_shared(const kiln_graph *g, size_t i)
{
    int w = g->nodes[i].inputs[1];

    for (size_t j = 0; j < g->nnodes; j++)
        for (size_t k = 0; j != i && k < g->nodes[j].ninputs; k++)
            if (g->nodes[j].inputs[k] == w)
                return 1;
    return 0;
}

/* Chooses each Conv's algorithm (nn_conv_algo_choose with the device's
 * tuning and KILN_CONV_ALGO), counts them in the facts and sizes the
 * scratch.  Convs sharing their weights with another node run tiled (one
 * packing serves every user of the same shape) or, when that does not
 * fit, direct. */
static void model_choose_algos(nn_model *m)
{
    const kiln_graph *g = m->g;
    int forced = nn_conv_algo_forced();

    m->scratch_floats = 0;
    for (size_t i = 0; i < g->nnodes; i++) {
        const graph_node *n = &g->nodes[i];
        size_t need;
        int algo;
        if (n->op != GRAPH_OP_CONV)
            continue;
        if (n->ninputs > 1 && weight_shared(g, i))
            algo = nn_conv_tiled_fits(g, n) ? NN_CONV_ALGO_TILED : NN_CONV_ALGO_DIRECT;
        else
            algo = nn_conv_algo_choose(g, n, &m->tuning, forced,
                                       (m->dev->info.type & CL_DEVICE_TYPE_GPU) != 0);
        m->conv_algo[i] = (unsigned char)algo;
        m->facts.conv_algo[algo]++;
        need = nn_conv_algo_scratch_floats(g, n, algo, &m->tuning);
        if (need > m->scratch_floats)
            m->scratch_floats = need;
    }
    m->facts.scratch_bytes = m->scratch_floats * sizeof(float);
}

/* The launch context of a run. */
static nn_launch model_launch_ctx(const nn_model *m)
{
    nn_launch ctx = { m->dev, m->g, m->places, &m->tuning, m->conv_algo, { NULL, 0 }, 0, 0 };

    ctx.half_math = m->facts.half_products;

    if (m->scratch) {
        ctx.scratch.mem = m->scratch->mem;
        ctx.scratch_floats = m->scratch_floats;
    }
    return ctx;
}

/* What model_build needs: the file, its input shapes, the precision. */
typedef struct model_request {
    const char *path;
    const onnx_input_shape *shapes;
    size_t nshapes;
    nn_precision precision;
} model_request;

/* Builds a model (the resident cache's build function; `user` is a
 * model_request). */
static kiln_status model_build(kiln_device *dev, void *user, void **object)
{
    const model_request *req = user;
    const char *path = req->path;
    const onnx_input_shape *shapes = req->shapes;
    size_t nshapes = req->nshapes;
    nn_model **out = (nn_model **)object;
    double t0 = kiln_clock_ms();
    kiln_status st;
    nn_model *m = kiln_calloc(1, sizeof(*m));

    *out = NULL;
    if (!m || !(m->path = kiln_strdup(path))) {
        kiln_free(m);
        return kiln_fail(KILN_E_HOSTMEM, "%s: out of host memory", path);
    }
    m->dev = dev;
    m->asked = req->precision;
    nn_tune_load(dev, &m->tuning);
    for (size_t i = 0; i < nshapes; i++) {
        m->shapes[i] = shapes[i];
        m->shapes[i].name = NULL;
    }
    m->nshapes = nshapes;
    st = model_load(m);
    if (st != KILN_OK)
        goto out_free;
    m->places = kiln_calloc(m->g->ntensors ? m->g->ntensors : 1, sizeof(*m->places));
    m->conv_algo = kiln_calloc(m->g->nnodes ? m->g->nnodes : 1, 1);
    if (!m->places || !m->conv_algo) {
        st = kiln_fail(KILN_E_HOSTMEM, "%s: out of host memory", path);
        goto out_free;
    }
    m->facts.nodes = m->g->nnodes;
    model_choose_algos(m);
    m->facts.half_tensors = nn_precision_apply(m->g, m->conv_algo, m->facts.precision);
    m->facts.half_products = nn_precision_half_products(dev, m->facts.precision);
    st = model_plan(m);
    if (st != KILN_OK)
        goto out_free;
    st = model_upload_weights(m);
    if (st != KILN_OK)
        goto out_free;
    st = pool_acquire(dev->pool, m->facts.arena_bytes ? m->facts.arena_bytes : 1, "model.arena",
                      &m->arena);
    if (st != KILN_OK) {
        st = kiln_fail_context(st, "%s: activation arena", path);
        goto out_free;
    }
    if (m->scratch_floats) {
        st = pool_acquire(dev->pool, m->scratch_floats * sizeof(float), "model.conv_scratch",
                          &m->scratch);
        if (st != KILN_OK) {
            st = kiln_fail_context(st, "%s: convolution scratch", path);
            goto out_free;
        }
    }
    for (size_t t = 0; t < m->g->ntensors; t++) {
        if (m->g->tensors[t].kind != GRAPH_TENSOR_CONSTANT)
            m->places[t].mem = m->arena->mem;
    }
    m->facts.build_ms = kiln_clock_ms() - t0;
    m->facts.tuning_origin = m->tuning.origin;
    *out = m;
    return KILN_OK;
out_free:
    model_free(m);
    return st;
}

/* The resident-cache key of a model: "nn.model <precision> <path>
 * <shape>;..." */
static kiln_status model_key(const char *path, const onnx_input_shape *shapes, size_t nshapes,
                             nn_precision precision, char *key, size_t len)
{
    size_t used = (size_t)snprintf(key, len, "nn.model %s %s", nn_precision_name(precision),
                                   path);
    for (size_t i = 0; i < nshapes && used < len; i++) {
        used += (size_t)snprintf(key + used, len - used, " ");
        for (int d = 0; d < shapes[i].rank && used < len; d++)
            used += (size_t)snprintf(key + used, len - used, "%s%lld", d ? "x" : "",
                                     (long long)shapes[i].dims[d]);
    }
    if (used >= len)
        return kiln_fail(KILN_E_INVAL, "%s: path too long", path);
    return KILN_OK;
}

/* Returns the cached or newly built model at auto precision (see
 * nn_model.h). */
kiln_status nn_model_acquire(kiln_device *dev, const char *path, const onnx_input_shape *shapes,
                             size_t nshapes, nn_model **out)
{
    return nn_model_acquire_at(dev, path, shapes, nshapes, NN_PRECISION_AUTO, out);
}

/* Returns the cached or newly built model (see nn_model.h). */
kiln_status nn_model_acquire_at(kiln_device *dev, const char *path,
                                const onnx_input_shape *shapes, size_t nshapes,
                                nn_precision precision, nn_model **out)
{
    char key[RESIDENT_KEY_MAX];
    model_request req = { path, shapes, nshapes, precision };
    void *object = NULL;
    kiln_status st;

    *out = NULL;
    if (!dev || !path || nshapes > NN_MODEL_MAX_INPUTS || (nshapes && !shapes))
        return kiln_fail(KILN_E_INVAL, "nn_model_acquire: bad arguments");
    if ((int)precision < NN_PRECISION_AUTO || (int)precision > NN_PRECISION_FP16)
        return kiln_fail(KILN_E_INVAL, "nn_model_acquire: bad precision %d", (int)precision);
    st = model_key(path, shapes, nshapes, precision, key, sizeof(key));
    if (st != KILN_OK)
        return st;
    st = resident_acquire(dev, key, model_build, model_free, &req, &object);
    if (st != KILN_OK)
        return st;
    *out = object;
    return KILN_OK;
}

/* Drops one reference (the model stays cached). */
void nn_model_release(nn_model *model)
{
    if (model)
        resident_release(model->dev, model);
}

/* The folded graph. */
const kiln_graph *nn_model_graph(const nn_model *model)
{
    return model->g;
}

/* Place of runtime input i. */
nn_place nn_model_input(const nn_model *model, size_t i)
{
    return model->places[model->g->inputs[i]];
}

/* Place of output i. */
nn_place nn_model_output(const nn_model *model, size_t i)
{
    return model->places[model->g->outputs[i]];
}

/* Enqueues every node. */
kiln_status nn_model_run(nn_model *model)
{
    nn_launch ctx = model_launch_ctx(model);
    for (size_t i = 0; i < model->g->nnodes; i++) {
        kiln_status st = nn_op_launch(&ctx, (int)i);
        if (st != KILN_OK)
            return kiln_fail_context(st, "%s", model->path);
    }
    return KILN_OK;
}

/* Runs every node, waiting for each, and sums their times. */
kiln_status nn_model_run_profiled(nn_model *model, double *node_ms)
{
    nn_launch ctx = model_launch_ctx(model);
    for (size_t i = 0; i < model->g->nnodes; i++) {
        double t0 = kiln_clock_ms();
        kiln_status st = nn_op_launch(&ctx, (int)i);
        if (st == KILN_OK)
            st = device_finish(model->dev);
        if (st != KILN_OK)
            return kiln_fail_context(st, "%s", model->path);
        node_ms[i] += kiln_clock_ms() - t0;
    }
    return KILN_OK;
}

/* Checks that `count` is the element count of tensor t. */
static kiln_status check_count(const nn_model *m, int t, size_t count, const char *what)
{
    size_t want = (size_t)graph_tensor_elements(&m->g->tensors[t]);
    if (count != want)
        return kiln_fail(KILN_E_INVAL, "%s: %s '%s' holds %zu values, not %zu", m->path, what,
                         m->g->tensors[t].name, want, count);
    return KILN_OK;
}

/* Writes input i from the host (blocking). */
kiln_status nn_model_write_input(nn_model *model, size_t i, const float *data, size_t count)
{
    int t = model->g->inputs[i];
    nn_place p = model->places[t];
    kiln_status st = check_count(model, t, count, "input");

    if (st != KILN_OK)
        return st;
    return dev_buffer_write(model->dev, p.mem, (size_t)p.offset * sizeof(float),
                            count * sizeof(float), data, "writing a model input");
}

/* Reads output i to the host (blocking). */
kiln_status nn_model_read_output(nn_model *model, size_t i, float *data, size_t count)
{
    int t = model->g->outputs[i];
    nn_place p = model->places[t];
    kiln_status st = check_count(model, t, count, "output");

    if (st != KILN_OK)
        return st;
    return dev_buffer_read(model->dev, p.mem, (size_t)p.offset * sizeof(float),
                           count * sizeof(float), data, "reading a model output");
}

/* Copies the facts. */
void nn_model_facts_get(const nn_model *model, nn_model_facts *out)
{
    *out = model->facts;
}
