/* The segment stage: an image on the device becomes its foreground mask,
 * computed by a U2-Net-family network as rembg computes it (resize to
 * the network's input, normalise, run, min-max normalise output 0,
 * resize back, optional post_process_mask). */
#ifndef KILN_STAGE_SEGMENT_H
#define KILN_STAGE_SEGMENT_H

#include "dev_image.h"
#include "job.h"

/* Figures of one segmentation, for reports and benchmarks. */
typedef struct segment_stats {
    double preprocess_ms;
    double network_ms;
    double postprocess_ms;
    uint32_t input_size;           /* the network's input side */
} segment_stats;

/* The model file, input side and normalisation the job's [segment] keys
 * select.  Errors: an unknown model name (KILN_E_INVAL listing the known
 * ones), a missing file (KILN_E_IO listing where kiln looked). */
typedef struct segment_model {
    char path[JOB_PATH_MAX];
    uint32_t input_size;
    float mean[3];
    float std[3];
} segment_model;

kiln_status segment_model_resolve(const job_config *job, segment_model *out);

/* Computes the mask of `img` (1 to 4 channels, planar float in [0,1];
 * alpha is ignored, gray is used as RGB) into *mask (1 channel, the
 * image's size, values k/255) with the model `sm`.  Waits for the device.
 * Images smaller than 2x2 are KILN_E_INVAL.  On error *mask is empty and
 * nothing leaks; stats may be NULL. */
kiln_status stage_segment_mask(kiln_device *dev, const job_config *job, const segment_model *sm,
                               const dev_image *img, dev_image *mask, segment_stats *stats);

/* Runs the stage as a job's pipeline does when [refine] is off: replaces
 * *img by the mask (output = mask) or by the RGBA cut-out (the image's
 * colour with the mask as alpha). */
kiln_status stage_segment(kiln_device *dev, const job_config *job, const segment_model *sm,
                          dev_image *img, segment_stats *stats);

#endif
