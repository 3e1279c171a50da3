/* Training one capture dataset end to end (`kiln splat train`): the
 * dataset (models/splat_dataset.h) and its initial points, the trainer
 * (engine/splat/splat_train.h) on the job's device, the training images
 * streamed through a bounded cache with reads ahead
 * (hostmem/train_images.h), and the reference trainer's output layout:
 *
 *   OUT/cameras.json                          every view (the trainer's format)
 *   OUT/cfg_args                              the settings, as the trainer writes them
 *   OUT/point_cloud/iteration_N/point_cloud.ply   at [train] save_iterations and the end
 *   OUT/checkpoint.kck                        at [train] checkpoint_iterations (resume)
 *   OUT/report.json                           the training report
 *
 * Host memory does not grow with the number of images: the views' paths
 * and cameras, the cache's byte cap and the images read ahead. */
#ifndef KILN_SPLAT_TRAIN_RUN_H
#define KILN_SPLAT_TRAIN_RUN_H

#include <stdio.h>

#include "job.h"

/* One training run. */
typedef struct splat_train_run {
    const job_config *job;      /* [train], [device], [memory] */
    const char *dataset;        /* the dataset directory */
    const char *out_dir;        /* where the outputs go (created) */
    int resume;                 /* start from OUT/checkpoint.kck when it exists */
    FILE *progress;             /* progress lines (NULL: none) */
} splat_train_run;

/* Trains.  Errors name the dataset, file or step; outputs written before
 * an error stay (each one whole: written atomically).  A training image
 * that cannot be read is skipped with a warning on `progress` (or
 * stderr), as long as some training view can be read. */
kiln_status splat_train_dataset(const splat_train_run *run);

/* Renders the test views of a trained output directory (its cfg_args
 * names the dataset; the last point_cloud/iteration_N) and prints each
 * view's PSNR and SSIM and their means to `out`. */
kiln_status splat_train_eval(const job_config *job, const char *out_dir, FILE *out);

#endif
