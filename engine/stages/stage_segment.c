/* The segment stage on the device. */
#include <string.h>

#include "clock.h"
#include "model_registry.h"
#include "nn_model.h"
#include "ops_image.h"
#include "seg_prepost.h"
#include "stage_segment.h"
#include "stages.h"
#include "status.h"

static const float imagenet_mean[3] = { 0.485f, 0.456f, 0.406f };
static const float imagenet_std[3] = { 0.229f, 0.224f, 0.225f };
static const float half_mean[3] = { 0.5f, 0.5f, 0.5f };
static const float half_std[3] = { 1.0f, 1.0f, 1.0f };

#define SEGMENT_DEFAULT_SIZE 320

/* Resolves the job's model (see stage_segment.h). */
kiln_status segment_model_resolve(const job_config *job, segment_model *out)
{
    const model_spec *spec = NULL;
    const float *mean = imagenet_mean, *std = imagenet_std;
    kiln_status st;

    memset(out, 0, sizeof(*out));
    st = model_resolve(job->segment_model, job->segment_model_dir[0] ? job->segment_model_dir : NULL,
                       out->path, sizeof(out->path), &spec);
    if (st != KILN_OK)
        return kiln_fail_context(st, "[segment] model");
    out->input_size = spec ? spec->input_size : SEGMENT_DEFAULT_SIZE;
    if (job->segment_input_size)
        out->input_size = (uint32_t)job->segment_input_size;
    if (spec) {
        mean = spec->mean;
        std = spec->std;
    }
    if (job->segment_normalization == SEGMENT_NORM_IMAGENET) {
        mean = imagenet_mean;
        std = imagenet_std;
    } else if (job->segment_normalization == SEGMENT_NORM_HALF) {
        mean = half_mean;
        std = half_std;
    }
    memcpy(out->mean, mean, sizeof(out->mean));
    memcpy(out->std, std, sizeof(out->std));
    return KILN_OK;
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

/* Computes the mask (see stage_segment.h). */
kiln_status stage_segment_mask(kiln_device *dev, const job_config *job, const segment_model *sm,
                               const dev_image *img, dev_image *mask, segment_stats *stats)
{
    onnx_input_shape shape = { NULL, 4, { 1, 3, 0, 0 } };
    dev_image rgb = { 0 };
    const dev_image *colour = img;
    model_spec spec;
    nn_model *model = NULL;
    segment_stats local;
    uint32_t pw = 0, ph = 0;
    double t0;
    kiln_status st;

    memset(mask, 0, sizeof(*mask));
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof(*stats));
    if (img->width < 2 || img->height < 2)
        return kiln_fail(KILN_E_INVAL, "segment: the image is %ux%u; segmentation needs at "
                         "least 2x2", (unsigned)img->width, (unsigned)img->height);
    shape.dims[2] = shape.dims[3] = sm->input_size;
    stats->input_size = sm->input_size;
    st = nn_model_acquire(dev, sm->path, &shape, 1, &model);
    if (st != KILN_OK)
        return kiln_fail_context(st, "segment (the network's input is the image as 1x3x%ux%u)",
                                 (unsigned)sm->input_size, (unsigned)sm->input_size);
    if (nn_model_graph(model)->ninputs != 1) {
        st = kiln_fail(KILN_E_FORMAT, "segment: %s has %zu runtime inputs; a segmentation "
                       "model has one image input", sm->path, nn_model_graph(model)->ninputs);
        goto out_release_model;
    }
    st = output_size(model, sm, &pw, &ph);
    if (st != KILN_OK)
        goto out_release_model;
    t0 = kiln_clock_ms();
    if (img->channels != 3) {
        st = op_convert_channels(dev, img, 3, &rgb);
        if (st != KILN_OK)
            goto out_release_model;
        colour = &rgb;
    }
    memset(&spec, 0, sizeof(spec));
    spec.name = "";
    spec.input_size = sm->input_size;
    memcpy(spec.mean, sm->mean, sizeof(spec.mean));
    memcpy(spec.std, sm->std, sizeof(spec.std));
    st = seg_preprocess(dev, colour, &spec, nn_model_input(model, 0));
    if (st == KILN_OK)
        st = device_finish(dev);
    if (st != KILN_OK) {
        kiln_fail_context(st, "segment: pre-processing");
        goto out_release_rgb;
    }
    stats->preprocess_ms = kiln_clock_ms() - t0;
    t0 = kiln_clock_ms();
    st = nn_model_run(model);
    if (st == KILN_OK)
        st = device_finish(dev);
    if (st != KILN_OK) {
        kiln_fail_context(st, "segment: network");
        goto out_release_rgb;
    }
    stats->network_ms = kiln_clock_ms() - t0;
    t0 = kiln_clock_ms();
    st = seg_postprocess(dev, nn_model_output(model, 0), pw, ph, img->width, img->height,
                         job->segment_post_process, mask);
    if (st == KILN_OK)
        st = device_finish(dev);
    if (st != KILN_OK) {
        dev_image_release(dev, mask);
        kiln_fail_context(st, "segment: post-processing");
        goto out_release_rgb;
    }
    stats->postprocess_ms = kiln_clock_ms() - t0;
out_release_rgb:
    dev_image_release(dev, &rgb);
out_release_model:
    nn_model_release(model);
    return st;
}

/* Runs the stage without [refine] (see stage_segment.h). */
kiln_status stage_segment(kiln_device *dev, const job_config *job, const segment_model *sm,
                          dev_image *img, segment_stats *stats)
{
    dev_image mask = { 0 }, rgb = { 0 }, out = { 0 };
    const dev_image *colour = img;
    kiln_status st = stage_segment_mask(dev, job, sm, img, &mask, stats);

    if (st != KILN_OK)
        return st;
    if (job->segment_output == SEGMENT_OUTPUT_MASK) {
        dev_image_release(dev, img);
        *img = mask;
        return KILN_OK;
    }
    if (img->channels != 3) {
        st = op_convert_channels(dev, img, 3, &rgb);
        if (st != KILN_OK)
            goto out_release;
        colour = &rgb;
    }
    st = op_attach_alpha(dev, colour, &mask, &out);
    if (st != KILN_OK) {
        kiln_fail_context(st, "segment: cut-out");
        goto out_release;
    }
    dev_image_release(dev, img);
    *img = out;
out_release:
    dev_image_release(dev, &rgb);
    dev_image_release(dev, &mask);
    return st;
}
