/* One HTTP(S) transfer of a model file into a partial file, with libcurl:
 * an existing partial file is continued with a Range request, and the
 * whole file is fetched again when the server ignores the range.  The
 * proxy environment variables (http_proxy, https_proxy, all_proxy,
 * no_proxy) apply as libcurl reads them.  Nothing here knows about
 * hashes or final names (model_pull.h).  No OpenCL. */
#ifndef KILN_MODEL_DOWNLOAD_H
#define KILN_MODEL_DOWNLOAD_H

#include <stdint.h>

#include "kiln.h"

/* How to transfer. */
typedef struct model_download_opts {
    long connect_timeout_s;     /* give up connecting after this; 0: libcurl's 300 s */
    int progress;               /* draw a progress bar on stderr */
    const char *label;          /* the bar's name ("u2netp") */
} model_download_opts;

/* What a transfer did. */
typedef struct model_download_result {
    long http_status;           /* the last HTTP status seen, 0 when none */
    uint64_t resumed_from;      /* bytes already there and continued (206); 0 if none */
    int restarted;              /* the server ignored the range: fetched whole again */
    uint64_t size;              /* the partial file's size at the end */
    int interrupted;            /* model_download_interrupt() stopped it */
    int http_error;             /* the server answered with an error status */
    int busy;                   /* another process holds the partial file */
} model_download_result;

/* Prepares libcurl for the process (once, before any transfer) and
 * releases it (after the last).  KILN_E_IO when libcurl cannot start. */
kiln_status model_download_init(void);
void model_download_cleanup(void);

/* Asks the transfer in progress, and every later one, to stop soon.
 * Async-signal-safe: a SIGINT handler calls it. */
void model_download_interrupt(void);

/* 1 once model_download_interrupt was called. */
int model_download_interrupted(void);

/* Downloads `url` into `part_path`, appending to what the file already
 * holds (HTTP Range from its size) unless the server answers the range
 * with the whole file (200; or 416 when the range is past the end), in
 * which case the file is truncated and fetched whole.  Redirects are
 * followed (to http and https only; `url` may also be file://); a
 * transfer slower than 1 byte/s for 60 s is abandoned.  A complete
 * transfer is synced to disk.  The partial file is locked (flock) while
 * it is written: one another process holds is KILN_E_IO with r->busy set
 * and is not touched.  On error *r still says what happened and the
 * partial file keeps what arrived: an HTTP error status (r->http_error)
 * is KILN_E_IO naming the URL and the status; an interrupted transfer is
 * KILN_E_STOPPED; anything else (network, write) KILN_E_IO naming the URL
 * or the file and the reason. */
kiln_status model_download(const char *url, const char *part_path, const model_download_opts *o,
                           model_download_result *r);

#endif
