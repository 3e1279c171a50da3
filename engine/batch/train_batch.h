/* A [train] job: the datasets of [job] inputs trained one after the
 * other on the job's device, each into output_dir/<dataset name>/ (the
 * layout of splat_train_run.h); sorted, sharded (--shard, SLURM and
 * Kubernetes indices, as batches of images are) and restartable: a
 * dataset whose final point_cloud/iteration_N/point_cloud.ply exists is
 * skipped, one that was interrupted resumes from its checkpoint when
 * [train] checkpoint_iterations wrote one.  With [segment] enabled too,
 * each dataset's images are first segmented into output_dir/<name>/masks
 * (the batch runner's [segment] stage, mask output) and the training uses
 * them as [train] masks: photos -> segment -> train in one job. */
#ifndef KILN_TRAIN_BATCH_H
#define KILN_TRAIN_BATCH_H

#include "batch.h"

/* Runs a [train] job (job_run calls it for one).  A dataset that fails
 * is counted in result->failed with its message on stderr; the others
 * go on.  Errors only for a job that cannot run at all. */
kiln_status train_batch_run(const job_config *job, const batch_options *options,
                            batch_result *result);

/* Runs any job: a [train] job through train_batch_run, every other one
 * through batch_run (batch.h), which knows nothing of training. */
kiln_status job_run(const job_config *job, const batch_options *options, batch_result *result);

#endif
