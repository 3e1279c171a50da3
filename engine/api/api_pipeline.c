/* The public pipeline calls (kiln.h): a job's stages on one device for
 * images in memory. */
#include <stdlib.h>
#include <string.h>

#include "host_alloc.h"
#include "device.h"
#include "job.h"
#include "stages.h"
#include "status.h"

#define API_MAX_SETS 256

struct kiln_pipeline {
    job_config job;
    kiln_device *dev;
    pipeline *stages;
    stage_item item;
    stage_times times;
};

/* Loads the job: the file, or with no file the defaults, with the batch
 * keys given placeholders, then the caller's sets. */
static kiln_status api_job_load(const char *job_path, const char *const *sets, size_t nsets,
                                job_config *job)
{
    const char *all[API_MAX_SETS + 2];
    size_t n = 0;

    if (nsets > API_MAX_SETS)
        return kiln_fail(KILN_E_INVAL, "kiln_pipeline_open: at most %d sets", API_MAX_SETS);
    if (nsets && !sets)
        return kiln_fail(KILN_E_INVAL, "kiln_pipeline_open: NULL sets");
    if (!job_path) {
        all[n++] = "job.inputs=-";
        all[n++] = "job.output_dir=.";
    }
    for (size_t i = 0; i < nsets; i++)
        all[n++] = sets[i];
    return job_load(job_path, all, n, job);
}

/* Opens the job's device and stages. */
kiln_status kiln_pipeline_open(const char *job_path, const char *const *sets, size_t nsets,
                               kiln_pipeline **out)
{
    kiln_pipeline *p;
    kiln_status st;

    if (!out)
        return kiln_fail(KILN_E_INVAL, "kiln_pipeline_open: NULL output");
    *out = NULL;
    p = kiln_calloc(1, sizeof(*p));
    if (!p)
        return kiln_fail(KILN_E_HOSTMEM, "kiln_pipeline_open: out of host memory");
    st = api_job_load(job_path, sets, nsets, &p->job);
    if (st != KILN_OK)
        goto out_free;
    st = device_open_selected(p->job.device.select, (size_t)p->job.memory.device_budget, &p->dev);
    if (st != KILN_OK)
        goto out_free;
    st = pipeline_open(p->dev, &p->job, &p->stages);
    if (st != KILN_OK)
        goto out_close_device;
    *out = p;
    return KILN_OK;

out_close_device:
    device_close(p->dev);
out_free:
    kiln_free(p);
    return st;
}

/* Runs the stages on one image. */
kiln_status kiln_pipeline_run(kiln_pipeline *p, const kiln_image *in, const kiln_image *mask,
                              kiln_image *out)
{
    if (!p || !in || !out)
        return kiln_fail(KILN_E_INVAL, "kiln_pipeline_run: NULL argument");
    memset(out, 0, sizeof(*out));
    memset(&p->item, 0, sizeof(p->item));
    p->item.path = "image in memory";
    if (pipeline_needs_host_mask(&p->job)) {
        if (!mask)
            return kiln_fail(KILN_E_INVAL, "kiln_pipeline_run: [refine] without [segment] needs "
                             "the image's mask");
        p->item.host_mask = mask;
    }
    return pipeline_run(p->stages, in, &p->item, out, &p->times);
}

/* The last run's warnings. */
const char *kiln_pipeline_note(const kiln_pipeline *p)
{
    return p ? p->item.note : "";
}

/* Closes the stages and the device. */
kiln_status kiln_pipeline_close(kiln_pipeline *p)
{
    kiln_status st;

    if (!p)
        return KILN_OK;
    pipeline_close(p->stages);
    st = device_close(p->dev);
    kiln_free(p);
    return st;
}
