/* [train] jobs (see train_batch.h). */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic_file.h"
#include "dir_create.h"
#include "host_alloc.h"
#include "inputs.h"
#include "splat_dataset.h"
#include "splat_train_run.h"
#include "status.h"
#include "train_batch.h"

/* The output directory of a dataset into buf: output_dir/<base name>. */
static void dataset_out(const job_config *job, const char *dataset, char *buf, size_t len)
{
    size_t n = strlen(dataset);
    const char *base;
    while (n > 1 && dataset[n - 1] == '/')
        n--;
    base = dataset + n;
    while (base > dataset && base[-1] != '/')
        base--;
    snprintf(buf, len, "%s/%.*s", job->output_dir, (int)(dataset + n - base), base);
}

/* Whether the dataset's final output exists. */
static int dataset_done(const job_config *job, const char *out)
{
    char path[JOB_PATH_MAX + 128];
    struct stat sb;
    snprintf(path, sizeof(path), "%s/point_cloud/iteration_%llu/point_cloud.ply", out,
             (unsigned long long)job->train.iterations);
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0;
}

/* With [segment] enabled in a [train] job: segments every image of the
 * dataset into OUT/masks (<image stem>.png, the mask output, skipped when
 * done) with the job's [segment] keys, through the batch runner, and
 * points *train_job's [train] masks there. */
static kiln_status dataset_segment(const job_config *job, const char *dataset, const char *out,
                                   job_config *train_job)
{
    splat_dataset_options dopt;
    splat_dataset ds = { 0 };
    job_config *seg = kiln_malloc(sizeof(*seg));
    char list[JOB_PATH_MAX + 128];
    batch_options bo = { "0/1", NULL, 0, 1, NULL, NULL, 0 };
    batch_result br;
    atomic_file af;
    kiln_status st;

    if (!seg)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory");
    splat_dataset_options_default(&dopt);
    dopt.downscale = (uint32_t)job->train.downscale;
    dopt.test_every = (uint32_t)job->train.test_every;
    dopt.random_points = job->train.random_points;
    st = splat_dataset_open(dataset, &dopt, &ds);
    if ((size_t)snprintf(train_job->train.masks, sizeof(train_job->train.masks), "%s/masks",
                         out) >= sizeof(train_job->train.masks) ||
        (size_t)snprintf(seg->output_dir, sizeof(seg->output_dir), "%s/masks", out) >=
            sizeof(seg->output_dir))
        st = kiln_fail(KILN_E_INVAL, "%s: output path too long", out);
    train_job->train.mask_suffix[0] = '\0';
    if (st == KILN_OK)
        st = dir_create_parents(train_job->train.masks);
    snprintf(list, sizeof(list), "%s/masks.list", out);
    if (st == KILN_OK)
        st = atomic_file_open(&af, list);
    if (st == KILN_OK) {
        for (size_t v = 0; v < ds.count; v++)
            fprintf(af.fp, "%s\n", ds.views[v].image);
        st = atomic_file_commit(&af);
    }
    if (st == KILN_OK) {
        char dir[sizeof(seg->output_dir)];
        memcpy(dir, seg->output_dir, sizeof(dir));
        *seg = *job;
        memcpy(seg->output_dir, dir, sizeof(dir));
        seg->train.enabled = 0;
        seg->segment.output = SEGMENT_OUTPUT_MASK;
        seg->output.suffix[0] = '\0';
        seg->output.bit_depth = 8;
        if ((size_t)snprintf(seg->inputs, sizeof(seg->inputs), "@%s", list) >=
            sizeof(seg->inputs))
            st = kiln_fail(KILN_E_INVAL, "%s: path too long", list);
        if (st == KILN_OK)
            st = batch_run(seg, &bo, &br);
        if (st == KILN_OK && br.failed)
            st = kiln_fail(KILN_E_FORMAT, "%s: %zu of its images could not be segmented", dataset,
                           br.failed);
    }
    splat_dataset_free(&ds);
    kiln_free(seg);
    return st;
}

/* Runs the job's datasets. */
kiln_status train_batch_run(const job_config *job, const batch_options *options,
                            batch_result *result)
{
    input_list list = { 0 };
    size_t shard_index = 0, shard_count = 1;
    char out[JOB_PATH_MAX + 64];
    job_config *tjob;
    kiln_status st;

    memset(result, 0, sizeof(*result));
    st = shard_resolve(options ? options->shard : NULL, &shard_index, &shard_count);
    if (st != KILN_OK)
        return st;
    st = inputs_expand_kind(job->inputs, NULL, INPUT_DATASETS, &list);
    if (st != KILN_OK)
        return st;
    if (list.count == 0) {
        inputs_free(&list);
        return kiln_fail(KILN_E_CONFIG, "[job] inputs %s holds no dataset directory", job->inputs);
    }
    inputs_shard(&list, shard_index, shard_count);
    tjob = kiln_malloc(sizeof(*tjob));
    if (!tjob) {
        inputs_free(&list);
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory");
    }
    st = dir_create_parents(job->output_dir);
    result->listed = list.count;
    for (size_t i = 0; st == KILN_OK && i < list.count; i++) {
        splat_train_run run;
        kiln_status item;
        dataset_out(job, list.paths[i], out, sizeof(out));
        if (job->output.skip_existing && dataset_done(job, out)) {
            result->skipped++;
            continue;
        }
        if (!(options && options->quiet))
            fprintf(stderr, "kiln: %s: dataset %zu/%zu: %s -> %s\n", job->name, i + 1, list.count,
                    list.paths[i], out);
        item = KILN_OK;
        *tjob = *job;
        tjob->segment.enabled = 0;
        if (job->segment.enabled)
            item = dataset_segment(job, list.paths[i], out, tjob);
        run = (splat_train_run){ tjob, list.paths[i], out, 1,
                                 options && options->quiet ? NULL : stderr };
        if (item == KILN_OK)
            item = splat_train_dataset(&run);
        if (item == KILN_OK) {
            result->succeeded++;
        } else {
            result->failed++;
            fprintf(stderr, "kiln: error: %s: %s\n", list.paths[i], kiln_last_error());
            if (job->max_failures && result->failed >= job->max_failures) {
                result->stopped = 1;
                break;
            }
        }
    }
    kiln_free(tjob);
    inputs_free(&list);
    return st;
}

/* Runs a job by its kind (see train_batch.h). */
kiln_status job_run(const job_config *job, const batch_options *options, batch_result *result)
{
    return job->train.enabled ? train_batch_run(job, options, result)
                              : batch_run(job, options, result);
}
