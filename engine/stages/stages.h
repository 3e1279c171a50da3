/* The pipeline: the table of stages in pipeline order, and a job's stages
 * opened on one device.  Host I/O happens only at the edges: the caller
 * decodes inputs and encodes outputs; between upload and download the
 * item stays on the device. */
#ifndef KILN_STAGES_H
#define KILN_STAGES_H

#include "dev_image.h"
#include "job.h"
#include "stage.h"

/* The stages, in pipeline order (the rows of the pipeline table). */
typedef enum pipeline_stage {
    PIPELINE_SPLAT = 0,
    PIPELINE_SEGMENT,
    PIPELINE_REFINE,
    PIPELINE_RESIZE,
    PIPELINE_COMPOSITE,
    PIPELINE_COUNT
} pipeline_stage;

/* The stage table (stages.c). */
extern const stage_ops *const pipeline_stages[PIPELINE_COUNT];

/* Timing slots of an item, for reports: the edges and every stage. */
typedef enum stage_id {
    STAGE_DECODE = 0,
    STAGE_UPLOAD,
    STAGE_SPLAT,        /* STAGE_FIRST_PIPELINE + PIPELINE_SPLAT ... */
    STAGE_SEGMENT,
    STAGE_REFINE,
    STAGE_RESIZE,
    STAGE_COMPOSITE,
    STAGE_DOWNLOAD,
    STAGE_ENCODE,
    STAGE_COUNT
} stage_id;

#define STAGE_FIRST_PIPELINE STAGE_SPLAT

/* Name of a timing slot ("resize"). */
const char *stage_name(stage_id id);

/* Per-slot time sums. */
typedef struct stage_times {
    double ms[STAGE_COUNT];
    uint64_t count[STAGE_COUNT];
} stage_times;

/* Adds `ms` to slot `id`. */
void stage_times_add(stage_times *t, stage_id id, double ms);

/* Adds every entry of `from` into `into`. */
void stage_times_merge(stage_times *into, const stage_times *from);

/* Whether items of `job` need a mask file read with them: a stage that
 * needs one is enabled and no earlier enabled stage makes one. */
int pipeline_needs_host_mask(const job_config *job);

/* A job's enabled stages, opened on one device. */
typedef struct pipeline pipeline;

/* Opens every enabled stage of `job` on `dev` in pipeline order (their
 * per-job work: models, fixed inputs).  On error nothing stays open and
 * the message names the stage.  `job` must outlive the pipeline. */
kiln_status pipeline_open(kiln_device *dev, const job_config *job, pipeline **out);

/* Runs one decoded image through the pipeline: upload, each stage,
 * download at the job's bit depth into *out (allocated here; free with
 * host_image_free).  With a source stage (pipeline_has_source) `in` is
 * NULL and item->payload is what that stage renders.  `item` is the caller's (stage.h): set item->path,
 * item->profile and item->host_mask (the mask file when
 * pipeline_needs_host_mask, else NULL) before; its note and figures are
 * read after.  Device times per slot (profiling events) are added into
 * *times.  On error *out is empty, nothing stays allocated and the
 * message names the failing stage. */
kiln_status pipeline_run(pipeline *p, const host_image *in, stage_item *item, host_image *out,
                         stage_times *times);

/* One item between pipeline_submit and pipeline_finish: its result on
 * the way to the host.  Owned by the caller; `out` is host staging that a
 * later submit into the same flight reuses when the shape matches. */
typedef struct pipeline_flight {
    host_image out;            /* the result, once `done` has completed */
    pool_buffer *staging;      /* the download's device staging (held) */
    cl_event done;             /* completes when `out` holds the result */
    device_timer timer;        /* the item's timer brackets */
    double submit_ms;          /* clock when the submit began */
} pipeline_flight;

/* pipeline_run's first half: uploads `in` (without waiting: `in` must
 * stay valid until pipeline_finish returns), runs each stage, and
 * enqueues the download into f->out (reallocated unless it already has
 * the result's shape).  On success the flight holds the staging buffer,
 * the download's event and the item's timer brackets, and the item's
 * device images are released; the caller then calls pipeline_finish and
 * pipeline_flight_end (any thread, one at a time for a flight).  On error the
 * queue has drained (`in` may be freed), nothing is held but f->out, and
 * the message names the failing stage. */
kiln_status pipeline_submit(pipeline *p, const host_image *in, stage_item *item,
                            pipeline_flight *f);

/* Waits for a submitted flight's download and adds its device times into
 * *times.  Any thread.  Returns KILN_E_CL when the download failed. */
kiln_status pipeline_finish(pipeline_flight *f, stage_times *times);

/* After pipeline_finish (any thread: the pool takes its lock): gives the
 * staging buffer back and releases the event and timer brackets; f->out
 * stays for reuse.  Safe on a flight that holds nothing, and twice. */
void pipeline_flight_end(pipeline *p, pipeline_flight *f);

/* Frees a flight's host staging (after pipeline_flight_end). */
void pipeline_flight_free(pipeline_flight *f);

/* Whether the job's first enabled stage makes the image (a source such as
 * [splat]): items are then its payloads, not images. */
int pipeline_has_source(const job_config *job);

/* Closes the stages in reverse order.  NULL is a no-op. */
void pipeline_close(pipeline *p);

#endif
