/* The image stages of a batch item: upload, resize, composite, download.
 * A stage receives device images and returns device images; host I/O
 * happens only at the edges (the batch runner decodes and encodes). */
#ifndef KILN_STAGES_H
#define KILN_STAGES_H

#include "dev_image.h"
#include "job.h"
#include "stage_refine.h"
#include "stage_segment.h"

/* The stages, in pipeline order, for per-stage timing. */
typedef enum stage_id {
    STAGE_DECODE = 0,
    STAGE_UPLOAD,
    STAGE_SEGMENT,
    STAGE_REFINE,
    STAGE_RESIZE,
    STAGE_COMPOSITE,
    STAGE_DOWNLOAD,
    STAGE_ENCODE,
    STAGE_COUNT
} stage_id;

/* Name of a stage ("resize"). */
const char *stage_name(stage_id id);

/* Per-stage time sums. */
typedef struct stage_times {
    double ms[STAGE_COUNT];
    uint64_t count[STAGE_COUNT];
} stage_times;

/* Adds `ms` to stage `id`. */
void stage_times_add(stage_times *t, stage_id id, double ms);

/* Adds every entry of `from` into `into`. */
void stage_times_merge(stage_times *into, const stage_times *from);

/* Works out the output size of the resize stage for an input of w x h:
 * width and height both set: exactly that; one set: the other from the
 * aspect ratio (at least 1); max_side: the longest side fitted to it
 * (never enlarged).  Disabled: the input size. */
void stages_output_size(const job_config *job, uint32_t w, uint32_t h,
                        uint32_t *out_w, uint32_t *out_h);

/* Runs the job's device stages on one decoded image (upload, segment,
 * refine, resize, composite, download) and returns the result in *out (allocated
 * here, free with host_image_free).  `background` is the job's composite
 * image already on this device (may be NULL or empty when compositing
 * over a colour); `mask` is the item's mask or trimap when [refine] is
 * enabled without [segment] (else NULL; with [segment] the refine stage
 * takes the segmentation mask on the device).  Warnings for the item are written into note (may
 * be NULL); the refine stage's figures into *refine (may be NULL).  On error nothing is left allocated and the message says
 * which stage failed. */
kiln_status stages_run(kiln_device *dev, const job_config *job,
                       const dev_image *background, const host_image *in,
                       const host_image *mask, host_image *out, stage_times *times,
                       char *note, size_t note_len, refine_stats *refine);

#endif
