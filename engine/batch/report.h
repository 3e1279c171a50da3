/* The JSON report of a batch (json-c), written atomically. */
#ifndef KILN_REPORT_H
#define KILN_REPORT_H

#include <stddef.h>

#include "batch.h"
#include "pool.h"
#include "program.h"
#include "stages.h"

/* One failed item as kept for the report. */
typedef struct report_failure {
    char *input;
    kiln_status status;
    char *message;
} report_failure;

/* Figures of one device at the end of the batch. */
typedef struct report_device {
    const device_info *info;
    size_t items;
    size_t in_flight;            /* slots the worker ran with (1 or 2) */
    size_t overlapped;           /* items submitted while another was in flight */
    size_t waited_for_budget;    /* items that waited for their neighbour to fit */
    size_t finished;             /* items that reached their finish */
    double first_item_ms;        /* submit to written output, the first item */
    double later_item_ms_mean;   /* the same, mean over the later items */
    pool_ledger ledger;
    program_stats compile;
} report_device;

/* Everything the report says. */
typedef struct report_data {
    const job_config *job;
    size_t shard_index;
    size_t shard_count;
    batch_result result;
    double elapsed_s;
    size_t ndevices;
    const report_device *devices;
    stage_times times;
    size_t prefetch_peak_items;
    size_t prefetch_peak_bytes;
    size_t rss_start;
    size_t rss_end;
    size_t rss_peak;
    const report_failure *failures;
    size_t failures_kept;
} report_data;

/* Writes the report to `path` (temporary name, then rename).  Beside
 * `data` it records kiln's host allocation figures at the time of writing
 * (kiln_host_alloc_stats: host.alloc_live_bytes, alloc_peak_bytes,
 * allocations, alloc_failures).  KILN_E_IO naming the path on failure. */
kiln_status report_write(const char *path, const report_data *data);

#endif
