/* The public batch call (kiln.h). */
#include <stdlib.h>

#include "host_alloc.h"
#include "batch.h"
#include "train_batch.h"
#include "job.h"
#include "status.h"

/* The public entry point: loads the job and runs it with default options. */
kiln_status kiln_run_job(const char *job_path, const char *const *sets,
                         size_t nsets, const char *report_path,
                         const char *shard, size_t *failed)
{
    job_config *job = kiln_malloc(sizeof(*job));
    batch_options options = { shard, report_path, -1, 0, NULL, NULL, 0 };
    batch_result result = { 0 };
    kiln_status st;

    if (failed)
        *failed = 0;
    if (!job)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory");
    st = job_load(job_path, sets, nsets, job);
    if (st == KILN_OK)
        st = job_run(job, &options, &result);
    if (st == KILN_OK && failed)
        *failed = result.failed;
    kiln_free(job);
    return st;
}
