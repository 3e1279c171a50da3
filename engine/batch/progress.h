/* Progress reporting for long batches: a line redrawn in place on a
 * terminal (done/total, rate, ETA, device memory), plain log lines at
 * every tenth of the batch otherwise. */
#ifndef KILN_PROGRESS_H
#define KILN_PROGRESS_H

#include <stddef.h>
#include <stdio.h>

typedef struct progress {
    FILE *out;
    int tty;            /* redraw in place */
    int quiet;
    size_t total;
    double start_ms;
    double last_draw_ms;
    size_t next_log;    /* plain mode: next item count to log at */
} progress;

/* Starts reporting a batch of `total` items to `out`; mode 1 forces the
 * terminal line, 0 plain lines, -1 decides by isatty. */
void progress_init(progress *p, FILE *out, size_t total, int mode, int quiet);

/* Reports that `done` items (of which `failed` failed) are finished, with
 * `device_bytes` of pool memory live+cached over all devices.  Redraws at
 * most every 200 ms on a terminal. */
void progress_update(progress *p, size_t done, size_t failed, size_t device_bytes);

/* Prints a message line (an item failure) without garbling the progress
 * line. */
void progress_message(progress *p, const char *line);

/* Final line: totals and rate. */
void progress_finish(progress *p, size_t done, size_t failed, size_t skipped);

#endif
