/* The server's shared state: the job, the queue, the workers, the
 * counters, and the one lock that orders them.  Every request state
 * change, queue operation and reference count happens under `lock`.
 * Internal to engine/serve. */
#ifndef KILN_SERVE_SERVER_H
#define KILN_SERVE_SERVER_H

#include <pthread.h>
#include <stddef.h>

#include "device.h"
#include "job.h"
#include "serve_conn.h"
#include "serve_log.h"
#include "serve_metrics.h"
#include "serve_queue.h"
#include "serve_request.h"
#include "stages.h"

#define SERVE_MAX_WORKERS 16
#define SERVE_MAX_SETS 300

struct MHD_Daemon;
typedef struct serve_server serve_server;

/* One device and the thread that runs requests on it.  The thread opens
 * the job's stages (and so loads its model) on start; a request with
 * other settings gets a second pipeline, kept until one with yet other
 * settings comes (the weights stay resident on the device either way). */
typedef struct serve_worker {
    serve_server *srv;
    pthread_t thread;
    int started;
    kiln_device *dev;
    pipeline *base;                 /* the server's job */
    pipeline *alt;                  /* alt_job, or NULL */
    job_config *alt_job;
    char *alt_key;                  /* the sets alt_job was loaded with */
    serve_request *current;         /* the request it runs, or NULL */
    char open_error[1024];          /* why its stages could not open */
} serve_worker;

struct serve_server {
    pthread_mutex_t lock;
    pthread_cond_t work;            /* a request was queued, or stop */
    pthread_cond_t changed;         /* readiness, a request done, a signal */
    pthread_mutex_t open_lock;      /* one pipeline_open/close at a time */
    serve_queue queue;
    job_config *job;                /* the server's job */
    const char *job_path;           /* NULL: no file */
    const char *sets[SERVE_MAX_SETS]; /* the server's sets, before a request's */
    size_t nsets;
    serve_worker workers[SERVE_MAX_WORKERS];
    size_t nworkers;
    size_t nready, nfailed, running;
    size_t live_requests;           /* allocated and not yet completed */
    int stop_workers;
    int draining;
    int signal_caught;
    int stop_watch;
    struct MHD_Daemon *daemon;
    serve_conn_list conns;          /* open connections, their deadlines */
    serve_metrics metrics;
    serve_log log;
};

/* Drops one reference to r (under srv->lock); frees it at zero. */
void serve_server_unref(serve_server *srv, serve_request *r);

/* Wakes r's connection when it waits (under srv->lock), so that its
 * handler answers with r's result or closes (a cancelled request). */
void serve_server_resume(serve_server *srv, serve_request *r);

/* Starts the worker threads (one per opened device).  KILN_E_HOSTMEM
 * when a thread cannot start (those started are stopped by
 * serve_workers_join). */
kiln_status serve_workers_start(serve_server *srv);

/* Tells the workers to stop once the queue is empty, and joins them;
 * each closes its pipelines. */
void serve_workers_join(serve_server *srv);

/* Fills r->job and r->job_key from r's parameters (rembg's fields or job
 * keys, by route) and the server's job; r->job stays NULL when the
 * request changes nothing.  On a bad parameter sets r's result to 400
 * naming it and returns KILN_E_CONFIG (KILN_E_HOSTMEM: 500).  Runs on
 * the HTTP thread only (job_load is not thread-safe). */
kiln_status serve_fields_job(serve_server *srv, serve_request *r);

/* The watcher: every few milliseconds answers requests queued past their
 * deadline with 504, cancels those whose client went away, and cuts
 * connections that took longer than [serve] timeout to send a request
 * (serve_conn.h). */
void *serve_watch_main(void *arg);

/* Starts the HTTP daemon on the listening socket `fd` (taken over).
 * KILN_E_IO with the reason when it cannot start. */
kiln_status serve_http_start(serve_server *srv, int fd);

#endif
