/* The worker threads: one per device, each running queued requests
 * through the job's stages (see serve_server.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "host_alloc.h"
#include "image_read.h"
#include "png_io.h"
#include "serve_server.h"
#include "stage.h"
#include "status.h"

/* The HTTP status of a failed request: the input's fault (413 too large,
 * 422 not an image it can read, 400 settings that cannot run), device
 * memory exhausted (503: try again), else the server's (500). */
static unsigned status_of(kiln_status st)
{
    switch (st) {
    case KILN_E_LIMIT: return 413;
    case KILN_E_FORMAT: return 422;
    case KILN_E_CONFIG: case KILN_E_INVAL: case KILN_E_IO: return 400;
    case KILN_E_NOMEM: return 503;
    default: return 500;
    }
}

/* Closes the worker's second pipeline (one pipeline_open/close at a time
 * in the server). */
static void worker_close_alt(serve_worker *w)
{
    if (!w->alt)
        return;
    pthread_mutex_lock(&w->srv->open_lock);
    pipeline_close(w->alt);
    pthread_mutex_unlock(&w->srv->open_lock);
    w->alt = NULL;
    kiln_free(w->alt_key);
    w->alt_key = NULL;
}

/* The pipeline for r's job: the base one, the kept second one when r
 * asks for the same sets, else a second one opened now for r's job. */
static kiln_status worker_pipeline(serve_worker *w, serve_request *r, pipeline **out)
{
    kiln_status st;

    if (!r->job) {
        *out = w->base;
        return KILN_OK;
    }
    if (w->alt && strcmp(w->alt_key, r->job_key) == 0) {
        *out = w->alt;
        return KILN_OK;
    }
    worker_close_alt(w);
    memcpy(w->alt_job, r->job, sizeof(*w->alt_job));
    pthread_mutex_lock(&w->srv->open_lock);
    st = pipeline_open(w->dev, w->alt_job, &w->alt);
    pthread_mutex_unlock(&w->srv->open_lock);
    if (st != KILN_OK) {
        w->alt = NULL;
        return st;
    }
    w->alt_key = r->job_key;          /* moves to the worker */
    r->job_key = NULL;
    *out = w->alt;
    return KILN_OK;
}

/* Runs r: decode, the stages, PNG encode; sets r's result. */
static void worker_run(serve_worker *w, serve_request *r)
{
    const job_config *job = r->job ? r->job : w->srv->job;
    uint64_t max_pixels = job->max_pixels;
    host_image in = { 0 }, out = { 0 };
    stage_item *item = NULL;
    stage_times times;
    pipeline *p = NULL;
    kiln_status st;

    st = worker_pipeline(w, r, &p);
    if (st != KILN_OK) {
        serve_request_text(r, status_of(st), "%s", kiln_last_error());
        return;
    }
    st = image_read_memory(r->body, r->body_len, r->filename, max_pixels, &in);
    kiln_free(r->body);               /* the upload's bytes are no longer needed */
    r->body = NULL;
    r->body_len = r->body_cap = 0;
    if (st != KILN_OK) {
        serve_request_text(r, status_of(st), "%s", kiln_last_error());
        return;
    }
    item = kiln_calloc(1, sizeof(*item));
    if (!item) {
        serve_request_text(r, 500, "out of host memory");
        goto out_free_in;
    }
    item->path = r->filename;
    memset(&times, 0, sizeof(times));
    st = pipeline_run(p, &in, item, &out, &times);
    if (st == KILN_OK)
        st = png_write_memory(r->filename, &out, &r->out, &r->out_len);
    if (st != KILN_OK) {
        serve_request_text(r, status_of(st), "%s", kiln_last_error());
        goto out_free_out;
    }
    r->status = 200;
    r->content_type = "image/png";
out_free_out:
    host_image_free(&out);
    kiln_free(item);
out_free_in:
    host_image_free(&in);
}

/* The worker thread: opens the job's stages, then takes requests until
 * told to stop with the queue empty; closes its pipelines on the way
 * out. */
static void *worker_main(void *arg)
{
    serve_worker *w = arg;
    serve_server *srv = w->srv;
    kiln_status st;

    pthread_mutex_lock(&srv->open_lock);
    st = pipeline_open(w->dev, srv->job, &w->base);
    pthread_mutex_unlock(&srv->open_lock);
    pthread_mutex_lock(&srv->lock);
    if (st != KILN_OK) {
        w->base = NULL;
        snprintf(w->open_error, sizeof(w->open_error), "device %zu (%s): %s", w->dev->info.index,
                 w->dev->info.name, kiln_last_error());
        srv->nfailed++;
        pthread_cond_broadcast(&srv->changed);
        pthread_mutex_unlock(&srv->lock);
        return NULL;
    }
    srv->nready++;
    pthread_cond_broadcast(&srv->changed);
    for (;;) {
        serve_request *r;
        int cancelled;

        while (!srv->stop_workers && srv->queue.depth == 0)
            pthread_cond_wait(&srv->work, &srv->lock);
        if (srv->queue.depth == 0)
            break;
        r = serve_queue_pop(&srv->queue);
        r->state = SERVE_RUNNING;
        r->run_ms = kiln_clock_ms();
        w->current = r;
        srv->running++;
        pthread_mutex_unlock(&srv->lock);
        worker_run(w, r);
        pthread_mutex_lock(&srv->lock);
        w->current = NULL;
        srv->running--;
        cancelled = r->state == SERVE_CANCELLED;
        if (!cancelled) {
            r->state = SERVE_DONE;
            serve_server_resume(srv, r);
        }
        serve_server_unref(srv, r);
        pthread_cond_broadcast(&srv->changed);
    }
    pthread_mutex_unlock(&srv->lock);
    worker_close_alt(w);
    pthread_mutex_lock(&srv->open_lock);
    pipeline_close(w->base);
    pthread_mutex_unlock(&srv->open_lock);
    w->base = NULL;
    return NULL;
}

/* Starts one thread per device; see serve_server.h. */
kiln_status serve_workers_start(serve_server *srv)
{
    for (size_t i = 0; i < srv->nworkers; i++) {
        serve_worker *w = &srv->workers[i];
        w->srv = srv;
        w->alt_job = kiln_malloc(sizeof(*w->alt_job));
        if (!w->alt_job)
            return kiln_fail(KILN_E_HOSTMEM, "out of host memory");
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
            return kiln_fail(KILN_E_HOSTMEM, "cannot start a worker thread");
        w->started = 1;
    }
    return KILN_OK;
}

/* Stops and joins the workers; see serve_server.h. */
void serve_workers_join(serve_server *srv)
{
    pthread_mutex_lock(&srv->lock);
    srv->stop_workers = 1;
    pthread_cond_broadcast(&srv->work);
    pthread_mutex_unlock(&srv->lock);
    for (size_t i = 0; i < srv->nworkers; i++) {
        serve_worker *w = &srv->workers[i];
        if (w->started)
            pthread_join(w->thread, NULL);
        w->started = 0;
        kiln_free(w->alt_job);
        w->alt_job = NULL;
    }
}
