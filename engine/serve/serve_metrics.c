/* Prometheus text rendering of the server's counters (see
 * serve_metrics.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "pool.h"
#include "rss.h"
#include "serve_metrics.h"

/* Upper bounds of the latency buckets in seconds (+Inf is the count). */
static const double bucket_bounds[SERVE_METRICS_BUCKETS] = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120
};

/* A growing text buffer; failed is set once an allocation failed. */
typedef struct metrics_text {
    char *data;
    size_t len, cap;
    int failed;
} metrics_text;

/* Appends printf-style text. */
static void text_add(metrics_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(metrics_text *t, const char *fmt, ...)
{
    va_list ap;

    if (t->failed)
        return;
    for (;;) {
        size_t room = t->cap - t->len;
        int n;
        va_start(ap, fmt);
        n = vsnprintf(t->data ? t->data + t->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if ((size_t)n < room) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap * 2 : 4096;
        while (cap - t->len <= (size_t)n)
            cap *= 2;
        char *grown = realloc(t->data, cap);
        if (!grown) {
            t->failed = 1;
            return;
        }
        t->data = grown;
        t->cap = cap;
    }
}

/* Zeroes the counters and makes the lock. */
kiln_status serve_metrics_init(serve_metrics *m)
{
    memset(m, 0, sizeof(*m));
    if (pthread_mutex_init(&m->lock, NULL) != 0)
        return KILN_E_HOSTMEM;
    return KILN_OK;
}

/* Counts a status (codes past the table's room share its last row) and
 * a latency. */
void serve_metrics_record(serve_metrics *m, unsigned status, double ms)
{
    double s = ms / 1000.0;
    size_t i;

    pthread_mutex_lock(&m->lock);
    for (i = 0; i < m->ncodes && m->codes[i] != status; i++)
        ;
    if (i == m->ncodes) {
        if (m->ncodes < SERVE_METRICS_CODES) {
            m->codes[m->ncodes++] = status;
        } else {
            i = SERVE_METRICS_CODES - 1;
        }
    }
    m->code_count[i]++;
    for (i = 0; i < SERVE_METRICS_BUCKETS && s > bucket_bounds[i]; i++)
        ;
    if (i < SERVE_METRICS_BUCKETS)
        m->bucket_count[i]++;
    m->count++;
    m->sum_s += s;
    pthread_mutex_unlock(&m->lock);
}

/* Writes the request counters and the histogram (under the lock). */
static void render_requests(serve_metrics *m, metrics_text *t)
{
    uint64_t cumulative = 0;

    text_add(t, "# HELP kiln_serve_requests_total HTTP requests answered, by status code.\n"
                "# TYPE kiln_serve_requests_total counter\n");
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->ncodes; i++)
        text_add(t, "kiln_serve_requests_total{code=\"%u\"} %llu\n", m->codes[i],
                 (unsigned long long)m->code_count[i]);
    text_add(t, "# HELP kiln_serve_request_duration_seconds Time from a request's first "
                "header to its answer.\n"
                "# TYPE kiln_serve_request_duration_seconds histogram\n");
    for (size_t i = 0; i < SERVE_METRICS_BUCKETS; i++) {
        cumulative += m->bucket_count[i];
        text_add(t, "kiln_serve_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                 bucket_bounds[i], (unsigned long long)cumulative);
    }
    text_add(t, "kiln_serve_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
                "kiln_serve_request_duration_seconds_sum %.6f\n"
                "kiln_serve_request_duration_seconds_count %llu\n",
             (unsigned long long)m->count, m->sum_s, (unsigned long long)m->count);
    pthread_mutex_unlock(&m->lock);
}

/* Which ledger figure a pool family shows. */
typedef enum pool_figure { POOL_LIVE, POOL_PEAK, POOL_CREATIONS } pool_figure;

/* Writes one gauge or counter family over the devices' ledgers. */
static void render_pool(metrics_text *t, const char *name, const char *type, const char *help,
                        const pool_ledger *ledgers, kiln_device *const *devs, size_t ndevs,
                        pool_figure figure)
{
    text_add(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
    for (size_t i = 0; i < ndevs; i++) {
        unsigned long long v = figure == POOL_LIVE ? (unsigned long long)ledgers[i].live_bytes
                             : figure == POOL_PEAK ? (unsigned long long)ledgers[i].peak_bytes
                             : (unsigned long long)ledgers[i].creations;
        text_add(t, "%s{device=\"%zu\"} %llu\n", name, devs[i]->info.index, v);
    }
}

/* Renders everything; see serve_metrics.h. */
char *serve_metrics_render(serve_metrics *m, size_t queue_depth, size_t running,
                           kiln_device *const *devs, size_t ndevs, size_t *len)
{
    metrics_text t = { NULL, 0, 0, 0 };
    pool_ledger *ledgers = calloc(ndevs ? ndevs : 1, sizeof(*ledgers));

    if (!ledgers)
        return NULL;
    for (size_t i = 0; i < ndevs; i++)
        pool_ledger_get(devs[i]->pool, &ledgers[i]);
    render_requests(m, &t);
    text_add(&t, "# HELP kiln_serve_queue_depth Requests waiting for a device.\n"
                 "# TYPE kiln_serve_queue_depth gauge\n"
                 "kiln_serve_queue_depth %zu\n", queue_depth);
    text_add(&t, "# HELP kiln_serve_running Requests a worker is running now.\n"
                 "# TYPE kiln_serve_running gauge\n"
                 "kiln_serve_running %zu\n", running);
    render_pool(&t, "kiln_pool_live_bytes", "gauge", "Device pool bytes handed out now.",
                ledgers, devs, ndevs, POOL_LIVE);
    render_pool(&t, "kiln_pool_peak_bytes", "gauge", "Most device pool bytes (live + cached) "
                "held at once.", ledgers, devs, ndevs, POOL_PEAK);
    render_pool(&t, "kiln_pool_buffer_creations_total", "counter", "Device buffers created.",
                ledgers, devs, ndevs, POOL_CREATIONS);
    text_add(&t, "# HELP kiln_process_resident_bytes Resident set size of the process.\n"
                 "# TYPE kiln_process_resident_bytes gauge\n"
                 "kiln_process_resident_bytes %zu\n", rss_current_bytes());
    free(ledgers);
    if (t.failed) {
        free(t.data);
        return NULL;
    }
    *len = t.len;
    return t.data;
}

/* Frees the lock. */
void serve_metrics_free(serve_metrics *m)
{
    pthread_mutex_destroy(&m->lock);
}
