/* The pipeline table and the per-device pipeline (see stages.h). */
#include <stdlib.h>
#include <string.h>

#include "host_alloc.h"
#include "clock.h"
#include "cl_status.h"
#include "launch.h"
#include "stage_composite.h"
#include "stage_refine.h"
#include "stage_resize.h"
#include "stage_segment.h"
#include "stage_splat.h"
#include "stages.h"
#include "status.h"

/* The stages in pipeline order: one row each. */
const stage_ops *const pipeline_stages[PIPELINE_COUNT] = {
    [PIPELINE_SPLAT] = &stage_splat_ops,
    [PIPELINE_SEGMENT] = &stage_segment_ops,
    [PIPELINE_REFINE] = &stage_refine_ops,
    [PIPELINE_RESIZE] = &stage_resize_ops,
    [PIPELINE_COMPOSITE] = &stage_composite_ops,
};
_Static_assert(sizeof(pipeline_stages) / sizeof(pipeline_stages[0]) == PIPELINE_COUNT,
               "one row per pipeline stage");

static const char *const slot_names[STAGE_COUNT] = {
    [STAGE_DECODE] = "decode",
    [STAGE_UPLOAD] = "upload",
    [STAGE_SPLAT] = "splat",
    [STAGE_SEGMENT] = "segment",
    [STAGE_REFINE] = "refine",
    [STAGE_RESIZE] = "resize",
    [STAGE_COMPOSITE] = "composite",
    [STAGE_DOWNLOAD] = "download",
    [STAGE_ENCODE] = "encode",
};
_Static_assert(sizeof(slot_names) / sizeof(slot_names[0]) == STAGE_COUNT,
               "one name per timing slot");
_Static_assert(STAGE_FIRST_PIPELINE + PIPELINE_COUNT == STAGE_DOWNLOAD,
               "the pipeline's timing slots lie between upload and download");
_Static_assert(STAGE_COUNT <= DEV_TIMER_SECTIONS, "a device timer section per slot");

struct pipeline {
    kiln_device *dev;
    const job_config *job;
    const stage_ops *ops[PIPELINE_COUNT];   /* the enabled stages */
    void *state[PIPELINE_COUNT];
    stage_id slot[PIPELINE_COUNT];
    size_t count;
};

/* Name of a timing slot. */
const char *stage_name(stage_id id)
{
    return (unsigned)id < STAGE_COUNT ? slot_names[id] : "unknown";
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

/* Whether an item needs a mask file. */
int pipeline_needs_host_mask(const job_config *job)
{
    int mask_made = 0;
    for (int i = 0; i < PIPELINE_COUNT; i++) {
        const stage_ops *s = pipeline_stages[i];
        if (!s->enabled(job))
            continue;
        if (s->needs_host_mask && !mask_made)
            return 1;
        if (s->takes_mask)
            mask_made = 0;
        if (s->makes_mask)
            mask_made = 1;
    }
    return 0;
}

/* Whether the first enabled stage is a source. */
int pipeline_has_source(const job_config *job)
{
    for (int i = 0; i < PIPELINE_COUNT; i++)
        if (pipeline_stages[i]->enabled(job))
            return pipeline_stages[i]->makes_image;
    return 0;
}

/* Whether an enabled stage after `i` consumes the mask stage i leaves. */
static int mask_consumed_after(const job_config *job, int i)
{
    for (int k = i + 1; k < PIPELINE_COUNT; k++)
        if (pipeline_stages[k]->enabled(job) && pipeline_stages[k]->takes_mask)
            return 1;
    return 0;
}

/* Opens the enabled stages. */
kiln_status pipeline_open(kiln_device *dev, const job_config *job, pipeline **out)
{
    pipeline *p = kiln_calloc(1, sizeof(*p));
    int host_mask = pipeline_needs_host_mask(job);
    kiln_status st = KILN_OK;

    *out = NULL;
    if (!p)
        return kiln_fail(KILN_E_HOSTMEM, "opening the stages: out of host memory");
    p->dev = dev;
    p->job = job;
    for (int i = 0; i < PIPELINE_COUNT; i++) {
        const stage_ops *s = pipeline_stages[i];
        stage_context ctx;
        if (!s->enabled(job))
            continue;
        ctx.section = (const char *)job + s->section_offset;
        ctx.job_path = job->path;
        ctx.max_pixels = job->max_pixels;
        ctx.mask_consumed = mask_consumed_after(job, i);
        ctx.host_mask = host_mask;
        /* each stage's messages name its section */
        st = s->open(dev, &ctx, &p->state[p->count]);
        if (st != KILN_OK)
            break;
        p->ops[p->count] = s;
        p->slot[p->count] = (stage_id)(STAGE_FIRST_PIPELINE + i);
        p->count++;
    }
    if (st != KILN_OK) {
        pipeline_close(p);
        return st;
    }
    *out = p;
    return KILN_OK;
}

/* Adds the device times of taken timer brackets (released). */
static void times_collect(device_timer *timer, stage_times *times)
{
    double ms[DEV_TIMER_SECTIONS] = { 0 };
    int seen[DEV_TIMER_SECTIONS] = { 0 };

    if (device_timer_read(timer, ms, seen) != KILN_OK)
        return; /* timings are figures, not results: an item does not fail for them */
    for (int s = 0; s < STAGE_COUNT; s++)
        if (seen[s])
            stage_times_add(times, (stage_id)s, ms[s]);
}

/* Gives f->out the shape of `img` at bit_depth, keeping its pixels when
 * the shape is the same. */
static kiln_status staging_shape(host_image *out, const dev_image *img, uint32_t bit_depth)
{
    if (out->pixels && out->width == img->width && out->height == img->height &&
        out->channels == img->channels && out->bit_depth == bit_depth)
        return KILN_OK;
    host_image_free(out);
    return host_image_alloc(out, img->width, img->height, img->channels, bit_depth);
}

/* Uploads, runs the stages and starts the download of one item. */
kiln_status pipeline_submit(pipeline *p, const host_image *in, stage_item *item,
                            pipeline_flight *f)
{
    kiln_device *dev = p->dev;
    uint32_t bit_depth = (uint32_t)p->job->output.bit_depth;
    kiln_status st = KILN_OK;

    f->staging = NULL;
    f->done = NULL;
    f->submit_ms = kiln_clock_ms();
    memset(&f->timer, 0, sizeof(f->timer));
    f->timer.section = -1;
    memset(&item->image, 0, sizeof(item->image));
    memset(&item->mask, 0, sizeof(item->mask));
    if ((in == NULL) != (p->count > 0 && p->ops[0]->makes_image)) {
        device_timer_clear(dev);
        return kiln_fail(KILN_E_INVAL, "pipeline_run: %s", in ? "a source stage takes no image"
                                                               : "no image and no source stage");
    }
    if (in) {
        item->width = in->width;
        item->height = in->height;
        dev_timer_section(dev, STAGE_UPLOAD);
        st = dev_image_upload_async(dev, in, NULL, NULL, &item->image);
        if (st != KILN_OK) {
            kiln_fail_context(st, "upload");
            goto out_release;
        }
    }
    for (size_t i = 0; i < p->count; i++) {
        dev_timer_section(dev, (int)p->slot[i]);
        st = p->ops[i]->run(p->state[i], item);
        if (st != KILN_OK)
            goto out_release;
    }
    dev_image_release(dev, &item->mask);
    dev_timer_section(dev, STAGE_DOWNLOAD);
    st = dev_image_check(&item->image, "download");
    if (st == KILN_OK)
        st = staging_shape(&f->out, &item->image, bit_depth);
    if (st == KILN_OK)
        st = dev_image_download_start(dev, &item->image, bit_depth, &f->out, &f->staging,
                                      &f->done);
    if (st != KILN_OK)
        kiln_fail_context(st, "download");
out_release:
    dev_timer_take(dev, &f->timer);
    stage_item_release(dev, item);
    if (st != KILN_OK) {
        device_timer_release(&f->timer);
        /* the upload did not wait: the host pixels are free to go only
           once the queue has run everything enqueued for the item (a
           failing drain leaves nothing more to wait for; the item's own
           message stays) */
        clFinish(dev->queue);
    }
    return st;
}

/* Waits for the download, then reads the item's timings. */
kiln_status pipeline_finish(pipeline_flight *f, stage_times *times)
{
    cl_int err;

    if (!f->done)
        return kiln_fail(KILN_E_INVAL, "pipeline_finish: nothing in flight");
    err = clWaitForEvents(1, &f->done);
    if (err != CL_SUCCESS) {
        device_timer_release(&f->timer);
        return kiln_fail_cl(err, "download: waiting for the item's result");
    }
    times_collect(&f->timer, times);
    return KILN_OK;
}

/* Lets go of a finished flight's device resources. */
void pipeline_flight_end(pipeline *p, pipeline_flight *f)
{
    device_timer_release(&f->timer);
    if (f->done)
        clReleaseEvent(f->done);
    f->done = NULL;
    if (f->staging)
        pool_release(p->dev->pool, f->staging);
    f->staging = NULL;
}

/* Frees the host staging. */
void pipeline_flight_free(pipeline_flight *f)
{
    host_image_free(&f->out);
}

/* Runs one item through the pipeline: submit, wait, hand the result
 * over. */
kiln_status pipeline_run(pipeline *p, const host_image *in, stage_item *item, host_image *out,
                         stage_times *times)
{
    pipeline_flight f;
    kiln_status st;

    memset(&f, 0, sizeof(f));
    memset(out, 0, sizeof(*out));
    st = pipeline_submit(p, in, item, &f);
    if (st == KILN_OK)
        st = pipeline_finish(&f, times);
    pipeline_flight_end(p, &f);
    if (st == KILN_OK)
        *out = f.out;
    else
        pipeline_flight_free(&f);
    return st;
}

/* Closes the stages in reverse order. */
void pipeline_close(pipeline *p)
{
    if (!p)
        return;
    for (size_t i = p->count; i-- > 0;)
        p->ops[i]->close(p->state[i]);
    kiln_free(p);
}
