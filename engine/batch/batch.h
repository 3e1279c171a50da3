/* The batch runner: inputs -> prefetch queue -> one worker per device ->
 * stages -> outputs, with a progress line and a JSON report.  State is
 * O(1) per run apart from the input list: each item's outputs go to disk
 * when it ends; aggregates are running sums; at most BATCH_FAILURES_KEPT
 * failure messages are kept for the report (all are counted). */
#ifndef KILN_BATCH_H
#define KILN_BATCH_H

#include <stddef.h>

#include "device.h"
#include "job.h"

#define BATCH_FAILURES_KEPT 1000

/* Called by a worker after each item it handled (tests watch memory with
 * it).  `done` counts items finished so far over all workers. */
typedef void (*batch_item_hook)(void *user, kiln_device *dev, size_t done);

typedef struct batch_options {
    const char *shard;        /* "i/n" or NULL (environment, else 0/1) */
    const char *report_path;  /* JSON report file or NULL */
    int progress;             /* 1: progress line, 0: plain log, -1: auto (tty) */
    int quiet;                /* 1: no log lines at all (errors still print) */
    batch_item_hook on_item;
    void *hook_user;
    int handle_signals;       /* 1: SIGINT/SIGTERM stop the batch cleanly
                                 (signals.h); the command sets it, library
                                 callers keep their own signal handling */
} batch_options;

typedef struct batch_result {
    size_t listed;     /* inputs in this shard */
    size_t skipped;    /* outputs that already existed */
    size_t succeeded;
    size_t failed;
    int stopped;       /* max_failures reached, a full disk or a signal */
    int signal;        /* SIGINT or SIGTERM that interrupted the batch, or 0 */
} batch_result;

/* Runs `job`.  Returns KILN_OK when the batch ran (failed items are in
 * *result), or an error when it could not run at all (no device, bad
 * output directory, a device left buffers live at close...). */
kiln_status batch_run(const job_config *job, const batch_options *options,
                      batch_result *result);

#endif
