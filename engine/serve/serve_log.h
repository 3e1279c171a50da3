/* The access log: one JSON line per answered request (time, method,
 * path, status, bytes sent, total ms, queue wait ms), to a file opened
 * for appending, to standard error ("-"), or nowhere (""). Thread-safe:
 * each line is one fputs under the stream's own lock, then flushed. */
#ifndef KILN_SERVE_LOG_H
#define KILN_SERVE_LOG_H

#include <stddef.h>
#include <stdio.h>

#include "kiln.h"

typedef struct serve_log {
    FILE *fp;        /* NULL: off */
    int owned;       /* fp is a file of ours (closed by serve_log_close) */
} serve_log;

/* Opens the log `where` ("-", a path, or "": off).  KILN_E_IO naming the
 * path when it cannot be opened. */
kiln_status serve_log_open(serve_log *log, const char *where);

/* Writes one request's line (no-op when off). */
void serve_log_request(serve_log *log, const char *method, const char *path, unsigned status,
                       size_t bytes, double ms, double queue_ms);

/* Closes a file of ours. */
void serve_log_close(serve_log *log);

#endif
