/* `kiln serve`'s life: job, devices, workers, listening, then the drain
 * on SIGTERM or SIGINT (see serve.h):
 *   1. stop accepting (MHD_quiesce_daemon) and answer /readyz 503;
 *   2. let the workers finish the queue for up to [serve] grace seconds;
 *   3. answer what is still queued 503, wait for the running requests;
 *   4. stop the workers (closing their stages), wait (briefly) for the
 *      answers to leave, stop the HTTP daemon;
 *   5. close every device: a buffer still live is a leak (exit 1). */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "host_alloc.h"
#include "serve.h"
#include "serve_listen.h"
#include "serve_server.h"
#include "signals.h"
#include "status.h"

/* Seconds the drain waits for answered requests to leave. */
#define SERVE_SEND_WAIT_MS 5000.0

/* The signal watcher's stop: wakes the main thread. */
static void serve_on_signal(void *user, int signo)
{
    serve_server *srv = user;

    pthread_mutex_lock(&srv->lock);
    srv->signal_caught = signo;
    pthread_cond_broadcast(&srv->changed);
    pthread_mutex_unlock(&srv->lock);
}

/* Waits on `changed` for at most ms milliseconds (under the lock). */
static void wait_changed(serve_server *srv, double ms)
{
    struct timespec until;
    long ns;

    clock_gettime(CLOCK_REALTIME, &until);
    ns = until.tv_nsec + (long)(ms * 1e6);
    until.tv_sec += ns / 1000000000L;
    until.tv_nsec = ns % 1000000000L;
    pthread_cond_timedwait(&srv->changed, &srv->lock, &until);
}

/* Loads the server's job: batch placeholders, segment on, then the
 * command line's sets. */
static kiln_status serve_load_job(serve_server *srv, const serve_options *o)
{
    if (o->nsets + 3 > SERVE_MAX_SETS)
        return kiln_fail(KILN_E_CONFIG, "at most %d --set options", SERVE_MAX_SETS - 3);
    srv->job_path = o->job_path;
    srv->sets[srv->nsets++] = "job.inputs=-";
    srv->sets[srv->nsets++] = "job.output_dir=.";
    srv->sets[srv->nsets++] = "segment.enabled=yes";
    for (size_t i = 0; i < o->nsets; i++)
        srv->sets[srv->nsets++] = o->sets[i];
    srv->job = kiln_malloc(sizeof(*srv->job));
    if (!srv->job)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory");
    return job_load(o->job_path, srv->sets, srv->nsets, srv->job);
}

/* Opens the devices the job selects ($KILN_DEVICE wins), one worker
 * each. */
static kiln_status serve_open_devices(serve_server *srv)
{
    const char *selector = getenv("KILN_DEVICE");
    size_t picked[SERVE_MAX_WORKERS], npicked = 0, count = 0;
    device_info *all = NULL;
    kiln_status st;

    if (!selector || !*selector)
        selector = srv->job->device.select;
    st = device_list(&all, &count);
    if (st != KILN_OK)
        return st;
    st = device_select(selector, all, count > SERVE_MAX_WORKERS ? SERVE_MAX_WORKERS : count,
                       picked, &npicked);
    for (size_t i = 0; st == KILN_OK && i < npicked; i++) {
        st = device_open(&all[picked[i]], (size_t)srv->job->memory.device_budget,
                         &srv->workers[i].dev);
        if (st == KILN_OK)
            srv->nworkers++;
    }
    kiln_free(all);
    return st;
}

/* Closes the devices; a device still holding buffers is reported on
 * stderr.  Returns 1 when one leaked, else 0. */
static int serve_close_devices(serve_server *srv)
{
    int leaked = 0;

    for (size_t i = 0; i < srv->nworkers; i++) {
        if (device_close(srv->workers[i].dev) != KILN_OK) {
            fprintf(stderr, "kiln serve: error: %s\n", kiln_last_error());
            leaked = 1;
        }
        srv->workers[i].dev = NULL;
    }
    return leaked;
}

/* Steps 1-4 of the drain (see the top of this file). */
static void serve_drain(serve_server *srv, pthread_t watcher, int watching)
{
    double until;
    MHD_socket listen_fd;

    pthread_mutex_lock(&srv->lock);
    srv->draining = 1;
    pthread_mutex_unlock(&srv->lock);
    listen_fd = MHD_quiesce_daemon(srv->daemon);
    if (listen_fd != MHD_INVALID_SOCKET)
        close(listen_fd);
    until = kiln_clock_ms() + 1000.0 * (double)srv->job->serve.grace;
    pthread_mutex_lock(&srv->lock);
    while ((srv->queue.depth || srv->running) && kiln_clock_ms() < until && srv->nready)
        wait_changed(srv, 100);
    for (serve_request *r; (r = serve_queue_pop(&srv->queue));) {
        serve_request_text(r, 503, "shutting down");
        r->state = SERVE_DONE;
        serve_server_resume(srv, r);
        serve_server_unref(srv, r);
    }
    while (srv->running)
        wait_changed(srv, 100);
    pthread_mutex_unlock(&srv->lock);
    serve_workers_join(srv);
    if (watching) {
        pthread_mutex_lock(&srv->lock);
        srv->stop_watch = 1;
        pthread_mutex_unlock(&srv->lock);
        pthread_join(watcher, NULL);
    }
    until = kiln_clock_ms() + SERVE_SEND_WAIT_MS;
    pthread_mutex_lock(&srv->lock);
    while (srv->live_requests && kiln_clock_ms() < until)
        wait_changed(srv, 20);
    pthread_mutex_unlock(&srv->lock);
    MHD_stop_daemon(srv->daemon);
    srv->daemon = NULL;
}

/* Initialises the locks and counters.  KILN_E_HOSTMEM on failure. */
static kiln_status serve_init(serve_server *srv)
{
    memset(srv, 0, sizeof(*srv));
    if (pthread_mutex_init(&srv->lock, NULL) != 0 || pthread_mutex_init(&srv->open_lock, NULL) != 0 ||
        pthread_cond_init(&srv->work, NULL) != 0 || pthread_cond_init(&srv->changed, NULL) != 0)
        return kiln_fail(KILN_E_HOSTMEM, "cannot create the server's locks");
    return serve_metrics_init(&srv->metrics);
}

/* Frees the locks, the log and the job. */
static void serve_fini(serve_server *srv)
{
    serve_metrics_free(&srv->metrics);
    serve_log_close(&srv->log);
    pthread_cond_destroy(&srv->changed);
    pthread_cond_destroy(&srv->work);
    pthread_mutex_destroy(&srv->open_lock);
    pthread_mutex_destroy(&srv->lock);
    kiln_free(srv->job);
}

/* Ends a server that could not start, after its state was initialised:
 * prints the error, stops the workers and (when given) the watcher and
 * the signal watch, closes the listening socket fd (when >= 0) and the
 * devices, frees the state.  Returns 2, the exit status. */
static int serve_abort(serve_server *srv, int fd, pthread_t *watcher, signal_watch *watch)
{
    fprintf(stderr, "kiln serve: error: %s\n", kiln_last_error());
    serve_workers_join(srv);
    if (watcher) {
        pthread_mutex_lock(&srv->lock);
        srv->stop_watch = 1;
        pthread_mutex_unlock(&srv->lock);
        pthread_join(*watcher, NULL);
    }
    if (watch)
        signal_watch_end(watch);
    if (fd >= 0)
        close(fd);
    serve_close_devices(srv);
    serve_fini(srv);
    kiln_free(srv);
    return 2;
}

/* Runs the server; see serve.h. */
int serve_run(const serve_options *o)
{
    serve_server *srv = kiln_calloc(1, sizeof(*srv));
    signal_watch watch;
    pthread_t watcher;
    int watching = 0, status = 0, fd = -1;
    unsigned port = 0;
    const char *host;
    kiln_status st;

    if (!srv) {
        fprintf(stderr, "kiln serve: error: out of host memory\n");
        return 2;
    }
    st = serve_init(srv);
    if (st == KILN_OK)
        st = serve_load_job(srv, o);
    if (st != KILN_OK)
        goto out_fail;
    host = o->host ? o->host : srv->job->serve.host;
    srv->queue.capacity = (size_t)srv->job->serve.queue;
    st = serve_log_open(&srv->log, srv->job->serve.access_log);
    if (st == KILN_OK)
        st = serve_listen(host, o->port >= 0 ? (unsigned)o->port : (unsigned)srv->job->serve.port,
                          &fd, &port);
    if (st != KILN_OK)
        goto out_close;
    /* before any thread starts (the OpenCL driver's too), so that only
     * the watcher takes the signals */
    st = signal_watch_begin(&watch, serve_on_signal, srv);
    if (st != KILN_OK)
        goto out_close;
    st = serve_open_devices(srv);
    if (st == KILN_OK)
        st = serve_workers_start(srv);
    if (st == KILN_OK && pthread_create(&watcher, NULL, serve_watch_main, srv) == 0)
        watching = 1;
    else if (st == KILN_OK)
        st = kiln_fail(KILN_E_HOSTMEM, "cannot start the watcher thread");
    if (st == KILN_OK)
        st = serve_http_start(srv, fd);
    if (st != KILN_OK)
        return serve_abort(srv, fd, watching ? &watcher : NULL, &watch);
    fd = -1;                          /* the daemon's now */
    fprintf(stderr, "kiln serve: listening on http://%s%s%s:%u\n", strchr(host, ':') ? "[" : "",
            host, strchr(host, ':') ? "]" : "", port);
    pthread_mutex_lock(&srv->lock);
    while (!srv->signal_caught && !srv->nfailed)
        pthread_cond_wait(&srv->changed, &srv->lock);
    pthread_mutex_unlock(&srv->lock);
    if (srv->nfailed) {
        for (size_t i = 0; i < srv->nworkers; i++)
            if (srv->workers[i].open_error[0])
                fprintf(stderr, "kiln serve: error: %s\n", srv->workers[i].open_error);
        status = 2;
    } else {
        fprintf(stderr, "kiln serve: %s: draining (grace %llu s)\n",
                srv->signal_caught == SIGINT ? "SIGINT" : "SIGTERM",
                (unsigned long long)srv->job->serve.grace);
    }
    serve_drain(srv, watcher, watching);
    signal_watch_end(&watch);
    if (serve_close_devices(srv))
        status = status ? status : 1;
    else if (!status)
        fprintf(stderr, "kiln serve: stopped; device pools clean\n");
    serve_fini(srv);
    kiln_free(srv);
    return status;

out_close:
    return serve_abort(srv, fd, NULL, NULL);
out_fail:
    fprintf(stderr, "kiln serve: error: %s\n", kiln_last_error());
    serve_fini(srv);
    kiln_free(srv);
    return 2;
}
