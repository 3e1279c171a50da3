/* The image stages on the device. */
#include <string.h>
#include <time.h>

#include "clock.h"
#include "ops_image.h"
#include "stages.h"
#include "status.h"

static const char *const stage_names[STAGE_COUNT] = {
    "decode", "upload", "segment", "refine", "resize", "composite", "download", "encode"
};

/* Name of a stage. */
const char *stage_name(stage_id id)
{
    return (unsigned)id < STAGE_COUNT ? stage_names[id] : "unknown";
}

/* Adds one timing. */
void stage_times_add(stage_times *t, stage_id id, double ms)
{
    t->ms[id] += ms;
    t->count[id]++;
}

/* Sums timings. */
void stage_times_merge(stage_times *into, const stage_times *from)
{
    for (int i = 0; i < STAGE_COUNT; i++) {
        into->ms[i] += from->ms[i];
        into->count[i] += from->count[i];
    }
}

/* Scales `side` by num/den, rounded, at least 1. */
static uint32_t scaled(uint32_t side, uint64_t num, uint64_t den)
{
    uint64_t v = ((uint64_t)side * num + den / 2) / den;
    return v < 1 ? 1 : (uint32_t)v;
}

/* The resize stage's output size. */
void stages_output_size(const job_config *job, uint32_t w, uint32_t h,
                        uint32_t *out_w, uint32_t *out_h)
{
    *out_w = w;
    *out_h = h;
    if (!job->resize_enabled)
        return;
    if (job->resize_width && job->resize_height) {
        *out_w = (uint32_t)job->resize_width;
        *out_h = (uint32_t)job->resize_height;
    } else if (job->resize_width) {
        *out_w = (uint32_t)job->resize_width;
        *out_h = scaled(h, job->resize_width, w);
    } else if (job->resize_height) {
        *out_h = (uint32_t)job->resize_height;
        *out_w = scaled(w, job->resize_height, h);
    }
    if (job->resize_max_side) {
        uint32_t longest = *out_w > *out_h ? *out_w : *out_h;
        if (longest > job->resize_max_side) {
            uint32_t nw = scaled(*out_w, job->resize_max_side, longest);
            uint32_t nh = scaled(*out_h, job->resize_max_side, longest);
            *out_w = nw;
            *out_h = nh;
        }
    }
}

/* Replaces *img by *next (releasing the old one). */
static void replace(kiln_device *dev, dev_image *img, dev_image *next)
{
    dev_image_release(dev, img);
    *img = *next;
    memset(next, 0, sizeof(*next));
}

/* Composites the current image over the job's colour or background. */
static kiln_status run_composite(kiln_device *dev, const job_config *job,
                                 const dev_image *background, dev_image *img)
{
    dev_image rgba = { 0 }, fitted = { 0 }, out = { 0 };
    kiln_status st;

    if (img->channels == 3)
        return KILN_OK; /* opaque: the composite is the image itself */
    if (img->channels == 1) {
        st = op_convert_channels(dev, img, 3, &out);
        if (st == KILN_OK)
            replace(dev, img, &out);
        return st;
    }
    st = op_convert_channels(dev, img, 4, &rgba);
    if (st != KILN_OK)
        return st;
    if (background && background->buf) {
        const dev_image *bg = background;
        if (background->width != img->width || background->height != img->height) {
            st = op_resize(dev, background, img->width, img->height, RESIZE_BILINEAR, &fitted);
            if (st != KILN_OK)
                goto out_release_rgba;
            bg = &fitted;
        }
        st = op_composite_image(dev, &rgba, bg, job->composite_premultiplied, &out);
    } else {
        st = op_composite_colour(dev, &rgba, job->composite_colour, job->composite_premultiplied, &out);
    }
    if (st == KILN_OK)
        replace(dev, img, &out);
    dev_image_release(dev, &fitted);
out_release_rgba:
    dev_image_release(dev, &rgba);
    return st;
}

/* Segments *img; with [refine] on, refines the segmentation mask on the
 * device (no host round trip) and replaces *img by the refine result. */
static kiln_status run_segment(kiln_device *dev, const job_config *job, dev_image *img,
                               const host_image *mask, char *note, size_t note_len,
                               refine_stats *refine)
{
    segment_model sm;
    dev_image seg = { 0 }, rgb = { 0 };
    kiln_status st;

    if (mask)
        return kiln_fail(KILN_E_INVAL, "segment: a mask file was given with [segment] enabled");
    st = segment_model_resolve(job, &sm);
    if (st != KILN_OK)
        return st;
    /* the network, the cut-out and refinement all read the RGB colour:
       convert once here rather than in each */
    if (img->channels != 3) {
        st = op_convert_channels(dev, img, 3, &rgb);
        if (st != KILN_OK)
            return kiln_fail_context(st, "segment: colour");
        replace(dev, img, &rgb);
    }
    if (!job->refine_enabled)
        return stage_segment(dev, job, &sm, img, NULL);
    st = stage_segment_mask(dev, job, &sm, img, &seg, NULL);
    if (st != KILN_OK)
        return st;
    st = stage_refine_device(dev, job, img, &seg, note, note_len, refine);
    if (st == KILN_OK)
        st = device_finish(dev);
    dev_image_release(dev, &seg);
    return st;
}

/* Runs upload, resize, composite and download for one image. */
kiln_status stages_run(kiln_device *dev, const job_config *job,
                       const dev_image *background, const host_image *in,
                       const host_image *mask, host_image *out, stage_times *times,
                       char *note, size_t note_len, refine_stats *refine)
{
    dev_image img = { 0 }, next = { 0 };
    uint32_t w, h;
    double t0;
    kiln_status st;

    memset(out, 0, sizeof(*out));
    t0 = kiln_clock_ms();
    st = dev_image_upload(dev, in, NULL, NULL, &img);
    if (st != KILN_OK)
        return kiln_fail_context(st, "upload");
    if ((st = device_finish(dev)) != KILN_OK)
        goto out_release_img;
    stage_times_add(times, STAGE_UPLOAD, kiln_clock_ms() - t0);

    if (job->segment_enabled) {
        t0 = kiln_clock_ms();
        st = run_segment(dev, job, &img, mask, note, note_len, refine);
        if (st != KILN_OK)
            goto out_release_img;
        stage_times_add(times, STAGE_SEGMENT, kiln_clock_ms() - t0);
    } else if (job->refine_enabled) {
        if (!mask) {
            st = kiln_fail(KILN_E_INVAL, "refine: no mask for this item");
            goto out_release_img;
        }
        t0 = kiln_clock_ms();
        st = stage_refine(dev, job, &img, mask, note, note_len, refine);
        if (st == KILN_OK)
            st = device_finish(dev);
        if (st != KILN_OK)
            goto out_release_img;
        stage_times_add(times, STAGE_REFINE, kiln_clock_ms() - t0);
    }

    stages_output_size(job, in->width, in->height, &w, &h);
    if (job->resize_enabled && (w != img.width || h != img.height)) {
        t0 = kiln_clock_ms();
        st = op_resize(dev, &img, w, h, (resize_filter)job->resize_filter, &next);
        if (st == KILN_OK)
            st = device_finish(dev);
        if (st != KILN_OK) {
            kiln_fail_context(st, "resize to %ux%u", w, h);
            goto out_release_next;
        }
        replace(dev, &img, &next);
        stage_times_add(times, STAGE_RESIZE, kiln_clock_ms() - t0);
    }
    if (job->composite_enabled) {
        t0 = kiln_clock_ms();
        st = run_composite(dev, job, background, &img);
        if (st == KILN_OK)
            st = device_finish(dev);
        if (st != KILN_OK) {
            kiln_fail_context(st, "composite");
            goto out_release_img;
        }
        stage_times_add(times, STAGE_COMPOSITE, kiln_clock_ms() - t0);
    }
    t0 = kiln_clock_ms();
    st = dev_image_download(dev, &img, (uint32_t)job->output_bit_depth, out);
    if (st != KILN_OK) {
        kiln_fail_context(st, "download");
        goto out_release_img;
    }
    stage_times_add(times, STAGE_DOWNLOAD, kiln_clock_ms() - t0);

out_release_next:
    dev_image_release(dev, &next);
out_release_img:
    dev_image_release(dev, &img);
    return st;
}
