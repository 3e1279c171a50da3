/* [train] jobs (see train_batch.h). */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "dir_create.h"
#include "host_alloc.h"
#include "inputs.h"
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

/* Runs the job's datasets. */
kiln_status train_batch_run(const job_config *job, const batch_options *options,
                            batch_result *result)
{
    input_list list = { 0 };
    size_t shard_index = 0, shard_count = 1;
    char out[JOB_PATH_MAX + 64];
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
        run = (splat_train_run){ job, list.paths[i], out, 1,
                                 options && options->quiet ? NULL : stderr };
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
    inputs_free(&list);
    return st;
}
