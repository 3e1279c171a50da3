/* The segment stage on the device (see stage_segment.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host_alloc.h"
#include "clock.h"
#include "model_registry.h"
#include "nn_model.h"
#include "ops_image.h"
#include "seg_prepost.h"
#include "stage_segment.h"
#include "status.h"

static const float imagenet_mean[3] = { 0.485f, 0.456f, 0.406f };
static const float imagenet_std[3] = { 0.229f, 0.224f, 0.225f };
static const float half_mean[3] = { 0.5f, 0.5f, 0.5f };
static const float half_std[3] = { 1.0f, 1.0f, 1.0f };

#define SEGMENT_DEFAULT_SIZE 320

/* The model file, input side and normalisation of a [segment] section. */
typedef struct segment_model {
    char path[JOB_PATH_MAX];
    uint32_t input_size;        /* 0: the side the file declares, else 320 */
    float mean[3];
    float std[3];
    nn_precision precision;     /* [segment] precision, as asked */
} segment_model;

/* Resolves the section's model: registry name or file, input side,
 * normalisation. */
static kiln_status segment_model_resolve(const job_segment *cfg, segment_model *out)
{
    const model_spec *spec = NULL;
    const float *mean = imagenet_mean, *std = imagenet_std;
    kiln_status st;

    memset(out, 0, sizeof(*out));
    st = model_resolve(cfg->model, cfg->model_dir[0] ? cfg->model_dir : NULL,
                       out->path, sizeof(out->path), &spec);
    if (st != KILN_OK)
        return kiln_fail_context(st, "[segment] model");
    out->input_size = spec ? spec->input_size : 0;
    if (cfg->input_size)
        out->input_size = (uint32_t)cfg->input_size;
    if (spec) {
        mean = spec->mean;
        std = spec->std;
    }
    if (cfg->normalization == SEGMENT_NORM_IMAGENET) {
        mean = imagenet_mean;
        std = imagenet_std;
    } else if (cfg->normalization == SEGMENT_NORM_HALF) {
        mean = half_mean;
        std = half_std;
    }
    memcpy(out->mean, mean, sizeof(out->mean));
    memcpy(out->std, std, sizeof(out->std));
    out->precision = (nn_precision)cfg->precision;
    if (!isnan(cfg->mean[0]))          /* explicit keys win */
        memcpy(out->mean, cfg->mean, sizeof(out->mean));
    if (!isnan(cfg->std[0]))
        memcpy(out->std, cfg->std, sizeof(out->std));
    return KILN_OK;
}

/* The side of a model's square image input (1x3xSxS), or 0. */
static uint32_t declared_side(const nn_model *model)
{
    const kiln_graph *g = nn_model_graph(model);
    const graph_tensor *t = &g->tensors[g->inputs[0]];
    if (g->ninputs != 1 || t->rank != 4 || t->dims[2] != t->dims[3] || t->dims[2] < 2 ||
        t->dims[2] > 4096)
        return 0;
    return (uint32_t)t->dims[2];
}

/* Builds the model at its input side: the registry's or the job's, else
 * the side the file declares (tried first, with the file's own dims),
 * else SEGMENT_DEFAULT_SIZE when the file leaves it open.  Errors about
 * the file itself carry no shape; a shape the file refuses says which
 * input the network was given. */
static kiln_status segment_model_build(kiln_device *dev, segment_model *sm, nn_model **out)
{
    onnx_input_shape shape = { NULL, 4, { 1, 3, 0, 0 } };
    kiln_status st;

    if (sm->input_size == 0) {
        st = nn_model_acquire_at(dev, sm->path, NULL, 0, sm->precision, out);
        if (st == KILN_OK) {
            sm->input_size = declared_side(*out);
            if (sm->input_size)
                return KILN_OK;
            nn_model_release(*out);
            *out = NULL;
            return kiln_fail(KILN_E_FORMAT, "[segment] %s: the input is not one 1x3xSxS image",
                             sm->path);
        }
        if (st != KILN_E_INVAL)
            return kiln_fail_context(st, "[segment]");
        sm->input_size = SEGMENT_DEFAULT_SIZE;   /* symbolic dims: rembg's usual side */
    }
    shape.dims[2] = shape.dims[3] = sm->input_size;
    st = nn_model_acquire_at(dev, sm->path, &shape, 1, sm->precision, out);
    if (st == KILN_E_INVAL)
        return kiln_fail_context(st, "[segment] (the network's input is the image as 1x3x%ux%u)",
                                 (unsigned)sm->input_size, (unsigned)sm->input_size);
    return st == KILN_OK ? KILN_OK : kiln_fail_context(st, "[segment]");
}

/* Checks the network's first output: rank 4 (N=1, C>=1) or rank 3 (N=1),
 * and returns its height and width. */
static kiln_status output_size(const nn_model *model, const segment_model *sm, uint32_t *w,
                               uint32_t *h)
{
    const kiln_graph *g = nn_model_graph(model);
    const graph_tensor *t = &g->tensors[g->outputs[0]];

    if ((t->rank != 4 && t->rank != 3) || t->dims[0] != 1 || t->dims[t->rank - 1] < 1 ||
        t->dims[t->rank - 2] < 1 || t->dims[t->rank - 1] > DEV_IMAGE_MAX_SIDE ||
        t->dims[t->rank - 2] > DEV_IMAGE_MAX_SIDE) {
        char shape[96];
        return kiln_fail(KILN_E_FORMAT, "%s: output '%s' is %s, not a 1xCxHxW mask", sm->path,
                         t->name, graph_shape_string(t, shape, sizeof(shape)));
    }
    *w = (uint32_t)t->dims[t->rank - 1];
    *h = (uint32_t)t->dims[t->rank - 2];
    return KILN_OK;
}

/* The stage's state: the resolved model, held for the job. */
typedef struct segment_state {
    kiln_device *dev;
    const job_segment *cfg;
    segment_model sm;
    nn_model *model;
    uint32_t out_w, out_h;     /* the network's mask size */
    int mask_consumed;         /* [refine] takes the mask */
    int storage_note;          /* fp16 storage with float arithmetic, not
                                  yet said in an item's note */
} segment_state;

/* [segment] enabled. */
static int segment_enabled(const job_config *job)
{
    return job->segment.enabled;
}

/* Frees the state and the model reference. */
static void segment_close(void *state)
{
    segment_state *s = state;
    if (!s)
        return;
    nn_model_release(s->model);
    kiln_free(s);
}

/* Resolves and builds the model on the device, once per job. */
static kiln_status segment_open(kiln_device *dev, const stage_context *ctx, void **state)
{
    segment_state *s = kiln_calloc(1, sizeof(*s));
    kiln_status st;

    if (!s)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory");
    s->dev = dev;
    s->cfg = ctx->section;
    s->mask_consumed = ctx->mask_consumed;
    st = segment_model_resolve(s->cfg, &s->sm);
    if (st != KILN_OK)
        goto out_close;
    st = segment_model_build(dev, &s->sm, &s->model);
    if (st != KILN_OK)
        goto out_close;
    if (nn_model_graph(s->model)->ninputs != 1) {
        st = kiln_fail(KILN_E_FORMAT, "[segment] %s has %zu runtime inputs; a segmentation "
                       "model has one image input", s->sm.path, nn_model_graph(s->model)->ninputs);
        goto out_close;
    }
    st = output_size(s->model, &s->sm, &s->out_w, &s->out_h);
    if (st != KILN_OK)
        goto out_close;
    {
        nn_model_facts facts;
        nn_model_facts_get(s->model, &facts);
        s->storage_note = facts.precision == NN_PRECISION_FP16 && !facts.half_products;
    }
    *state = s;
    return KILN_OK;
out_close:
    segment_close(s);
    return st;
}

/* Computes the item's mask into *mask (the image's size). */
static kiln_status segment_mask(segment_state *s, stage_item *item, dev_image *mask)
{
    kiln_device *dev = s->dev;
    model_spec spec;
    double t0 = kiln_clock_ms();
    kiln_status st;

    memset(&spec, 0, sizeof(spec));
    spec.name = "";
    spec.input_size = s->sm.input_size;
    memcpy(spec.mean, s->sm.mean, sizeof(spec.mean));
    memcpy(spec.std, s->sm.std, sizeof(spec.std));
    if (item->profile)
        stage_figure_add(item, "segment.input_size", s->sm.input_size);
    if (s->storage_note) {
        /* once a job: the first item's note says what fp16 means here */
        stage_note(item, "[segment] precision fp16 on %s: half storage, float "
                   "arithmetic (the device has no cl_khr_fp16)", dev->info.name);
        s->storage_note = 0;
    }
    st = seg_preprocess(dev, &item->image, &spec, nn_model_input(s->model, 0));
    if (st == KILN_OK)
        st = stage_step_done(dev, item, "segment.preprocess_ms", &t0);
    if (st != KILN_OK)
        return kiln_fail_context(st, "segment: pre-processing");
    st = nn_model_run(s->model);
    if (st == KILN_OK)
        st = stage_step_done(dev, item, "segment.network_ms", &t0);
    if (st != KILN_OK)
        return kiln_fail_context(st, "segment: network");
    st = seg_postprocess(dev, nn_model_output(s->model, 0), s->out_w, s->out_h,
                         item->image.width, item->image.height, s->cfg->post_process, mask);
    if (st == KILN_OK)
        st = stage_step_done(dev, item, "segment.postprocess_ms", &t0);
    if (st != KILN_OK) {
        dev_image_release(dev, mask);
        return kiln_fail_context(st, "segment: post-processing");
    }
    return KILN_OK;
}

/* Segments the item: the mask for [refine], or the mask or cut-out as
 * the item's image. */
static kiln_status segment_run(void *state, stage_item *item)
{
    segment_state *s = state;
    kiln_device *dev = s->dev;
    dev_image rgb = { 0 }, mask = { 0 }, out = { 0 };
    kiln_status st;

    if (item->image.width < 2 || item->image.height < 2)
        return kiln_fail(KILN_E_INVAL, "segment: the image is %ux%u; segmentation needs at "
                         "least 2x2", (unsigned)item->image.width, (unsigned)item->image.height);
    /* the network, the cut-out and refinement all read the RGB colour:
       convert once here rather than in each */
    if (item->image.channels != 3) {
        st = op_convert_channels(dev, &item->image, 3, &rgb);
        if (st != KILN_OK)
            return kiln_fail_context(st, "segment: colour");
        stage_item_replace(dev, item, &rgb);
    }
    st = segment_mask(s, item, &mask);
    if (st != KILN_OK)
        return st;
    if (s->mask_consumed) {
        dev_image_release(dev, &item->mask);
        item->mask = mask;
        return KILN_OK;
    }
    if (s->cfg->output == SEGMENT_OUTPUT_MASK) {
        stage_item_replace(dev, item, &mask);
        return KILN_OK;
    }
    st = op_attach_alpha(dev, &item->image, &mask, &out);
    dev_image_release(dev, &mask);
    if (st != KILN_OK)
        return kiln_fail_context(st, "segment: cut-out");
    stage_item_replace(dev, item, &out);
    return KILN_OK;
}

const stage_ops stage_segment_ops = {
    .name = "segment",
    .section_offset = offsetof(job_config, segment),
    .makes_mask = 1,
    .enabled = segment_enabled,
    .open = segment_open,
    .run = segment_run,
    .close = segment_close,
};
