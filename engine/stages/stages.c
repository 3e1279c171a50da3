/* The pipeline table and the per-device pipeline (see stages.h). */
#include <stdlib.h>
#include <string.h>

#include "host_alloc.h"
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

/* Adds the device times of the collected timer sections. */
static void times_collect(kiln_device *dev, stage_times *times)
{
    double ms[DEV_TIMER_SECTIONS] = { 0 };
    int seen[DEV_TIMER_SECTIONS] = { 0 };

    if (dev_timer_collect(dev, ms, seen) != KILN_OK)
        return; /* timings are figures, not results: an item does not fail for them */
    for (int s = 0; s < STAGE_COUNT; s++)
        if (seen[s])
            stage_times_add(times, (stage_id)s, ms[s]);
}

/* Runs one item through the pipeline. */
kiln_status pipeline_run(pipeline *p, const host_image *in, stage_item *item, host_image *out,
                         stage_times *times)
{
    kiln_device *dev = p->dev;
    kiln_status st = KILN_OK;

    memset(out, 0, sizeof(*out));
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
        st = dev_image_upload(dev, in, NULL, NULL, &item->image);
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
    st = dev_image_download(dev, &item->image, (uint32_t)p->job->output.bit_depth, out);
    if (st != KILN_OK)
        kiln_fail_context(st, "download");
out_release:
    dev_timer_stop(dev);
    if (st == KILN_OK)
        times_collect(dev, times);
    else
        device_timer_clear(dev);
    stage_item_release(dev, item);
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
