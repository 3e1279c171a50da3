/* The server's counters, rendered in the Prometheus text exposition
 * format (version 0.0.4): requests by status code, a latency histogram,
 * the queue depth, per-device pool figures and the process's RSS.
 * Thread-safe (one lock of its own). */
#ifndef KILN_SERVE_METRICS_H
#define KILN_SERVE_METRICS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "kiln.h"

#define SERVE_METRICS_CODES 32
#define SERVE_METRICS_BUCKETS 14

typedef struct kiln_device kiln_device;

typedef struct serve_metrics {
    pthread_mutex_t lock;
    unsigned codes[SERVE_METRICS_CODES];     /* status codes seen */
    uint64_t code_count[SERVE_METRICS_CODES];
    size_t ncodes;
    uint64_t bucket_count[SERVE_METRICS_BUCKETS]; /* not cumulative */
    uint64_t count;
    double sum_s;
} serve_metrics;

/* Initialises empty counters.  KILN_E_HOSTMEM when the lock cannot be
 * made. */
kiln_status serve_metrics_init(serve_metrics *m);

/* Counts one answered request: its status and its latency in ms. */
void serve_metrics_record(serve_metrics *m, unsigned status, double ms);

/* Renders every metric into a malloc'd text (*len bytes): the counters,
 * `queue_depth`, `running` (requests on a device now), and the pool
 * ledgers of devs[0..ndevs).  NULL when out of memory. */
char *serve_metrics_render(serve_metrics *m, size_t queue_depth, size_t running,
                           kiln_device *const *devs, size_t ndevs, size_t *len);

/* Frees the lock. */
void serve_metrics_free(serve_metrics *m);

#endif
