/* The HTTP front: libmicrohttpd's callbacks, the routes, the request
 * bodies (raw, or multipart through MHD's post processor) and the
 * responses with their counters and log lines (see serve_server.h).
 *
 * Routes: GET /healthz, GET /readyz, GET /metrics; POST /api/remove
 * (rembg's form or query fields), POST /v1/run (job keys).  An image
 * request is read whole, its fields are turned into a job on this
 * thread, then it is queued and its connection suspended until a
 * worker (or the watcher: deadline, client gone; or the drain) resumes
 * it. */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "serve_server.h"
#include "status.h"

#define HTTP_POST_BUFFER 65536

/* The record of c's connection (serve_conn.h), or NULL. */
static serve_conn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

/* Queues a response (body copied unless `owned`, which MHD then frees),
 * counts it and logs it.  r may be NULL (the small GET routes). */
static enum MHD_Result respond(serve_server *srv, struct MHD_Connection *c, serve_request *r,
                               const char *method, const char *path, double start_ms,
                               unsigned status, const char *type, void *body, size_t len,
                               int owned)
{
    struct MHD_Response *resp;
    enum MHD_Result ok;
    double now = kiln_clock_ms();
    double queue_ms = r ? serve_request_queue_ms(r, now) : 0;

    resp = MHD_create_response_from_buffer(len, body, owned ? MHD_RESPMEM_MUST_FREE
                                                            : MHD_RESPMEM_MUST_COPY);
    if (!resp) {
        if (owned)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (status == 503)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    if (status == 405)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "POST");
    ok = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    if (r)
        r->answered = 1;
    pthread_mutex_lock(&srv->lock);
    serve_conn_answered(conn_of(c));
    pthread_mutex_unlock(&srv->lock);
    serve_metrics_record(&srv->metrics, status, now - start_ms);
    serve_log_request(&srv->log, method, path, status, len, now - start_ms, queue_ms);
    return ok;
}

/* Answers a short text. */
static enum MHD_Result respond_text(serve_server *srv, struct MHD_Connection *c,
                                    serve_request *r, const char *method, const char *path,
                                    double start_ms, unsigned status, const char *text)
{
    return respond(srv, c, r, method, path, start_ms, status, "text/plain; charset=utf-8",
                   (void *)(uintptr_t)text, strlen(text), 0);
}

/* Answers r with its result, handing its body to MHD. */
static enum MHD_Result respond_result(serve_server *srv, struct MHD_Connection *c,
                                      serve_request *r)
{
    unsigned char *body = r->out;
    size_t len = r->out_len;

    r->out = NULL;
    r->out_len = 0;
    if (!body)
        return respond_text(srv, c, r, r->method, r->path, r->start_ms, 500,
                            "out of host memory\n");
    return respond(srv, c, r, r->method, r->path, r->start_ms, r->status, r->content_type,
                   body, len, 1);
}

/* GET /readyz: 200 once every worker opened its stages, 503 before and
 * while draining. */
static enum MHD_Result route_readyz(serve_server *srv, struct MHD_Connection *c,
                                    const char *method, const char *path, double t0)
{
    char text[128];
    unsigned status;

    pthread_mutex_lock(&srv->lock);
    if (srv->draining) {
        status = 503;
        snprintf(text, sizeof(text), "draining\n");
    } else if (srv->nready < srv->nworkers) {
        status = 503;
        snprintf(text, sizeof(text), "not ready: %zu of %zu devices ready\n", srv->nready,
                 srv->nworkers);
    } else {
        status = 200;
        snprintf(text, sizeof(text), "ready: %zu devices\n", srv->nworkers);
    }
    pthread_mutex_unlock(&srv->lock);
    return respond_text(srv, c, NULL, method, path, t0, status, text);
}

/* GET /metrics: the Prometheus text. */
static enum MHD_Result route_metrics(serve_server *srv, struct MHD_Connection *c,
                                     const char *method, const char *path, double t0)
{
    kiln_device *devs[SERVE_MAX_WORKERS];
    size_t depth, running, len = 0;
    char *text;

    for (size_t i = 0; i < srv->nworkers; i++)
        devs[i] = srv->workers[i].dev;
    pthread_mutex_lock(&srv->lock);
    depth = srv->queue.depth;
    running = srv->running;
    pthread_mutex_unlock(&srv->lock);
    text = serve_metrics_render(&srv->metrics, depth, running, devs, srv->nworkers, &len);
    if (!text)
        return respond_text(srv, c, NULL, method, path, t0, 500, "out of host memory\n");
    return respond(srv, c, NULL, method, path, t0, 200, "text/plain; version=0.0.4", text, len, 1);
}

/* Keeps a query parameter. */
static enum MHD_Result take_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    serve_request *r = cls;

    (void)kind;
    if (!value)
        value = "";
    return serve_request_param(r, key, value, strlen(value), 0) == KILN_OK ? MHD_YES : MHD_NO;
}

/* Keeps a multipart part: `file` is the image, the rest are fields. */
static enum MHD_Result take_part(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *filename, const char *content_type,
                                 const char *transfer_encoding, const char *data, uint64_t off,
                                 size_t size)
{
    serve_request *r = cls;

    (void)kind;
    (void)content_type;
    (void)transfer_encoding;
    if (!key) {                       /* a part without a name */
        if (!r->param_error[0])
            snprintf(r->param_error, sizeof(r->param_error),
                     "a multipart part without a name (Content-Disposition: form-data; "
                     "name=\"...\" expected)");
        return MHD_YES;
    }
    if (strcmp(key, "file") == 0) {
        if (off == 0 && filename && filename[0])
            snprintf(r->filename, sizeof(r->filename), "%s", filename);
        r->has_file = 1;
        return serve_request_append(r, data, size) == KILN_OK ? MHD_YES : MHD_NO;
    }
    return serve_request_param(r, key, data, size, off > 0) == KILN_OK ? MHD_YES : MHD_NO;
}

/* Starts an image request: its state, its query fields, its body
 * reader.  Answers at once (413) a body announced too large when the
 * client waits for "100 Continue" before sending it. */
static enum MHD_Result image_begin(serve_server *srv, struct MHD_Connection *c, serve_route route,
                                   const char *method, const char *url, void **con_cls)
{
    const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                   MHD_HTTP_HEADER_CONTENT_TYPE);
    const char *length = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *expect = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
    const union MHD_ConnectionInfo *info;
    serve_request *r = serve_request_new(c, method, url, srv->job->serve.max_body);

    if (!r)
        return MHD_NO;
    r->route = route;
    info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    r->fd = info ? info->connect_fd : -1;
    pthread_mutex_lock(&srv->lock);
    srv->live_requests++;
    pthread_mutex_unlock(&srv->lock);
    *con_cls = r;
    if (length && expect && strtoull(length, NULL, 10) > r->max_body) {
        char text[160];
        snprintf(text, sizeof(text), "request body of %s bytes is larger than [serve] max_body "
                 "(%llu bytes)\n", length, (unsigned long long)r->max_body);
        return respond_text(srv, c, r, method, url, r->start_ms, 413, text);
    }
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, take_arg, r);
    if (type && strncasecmp(type, "multipart/form-data", 19) == 0) {
        r->pp = MHD_create_post_processor(c, HTTP_POST_BUFFER, take_part, r);
        if (!r->pp)
            return respond_text(srv, c, r, method, url, r->start_ms, 400,
                                "multipart/form-data without a boundary\n");
    }
    return MHD_YES;
}

/* Takes a piece of an image request's body. */
static void image_body(serve_request *r, const char *data, size_t size)
{
    if (r->answered || r->bad_body)
        return;
    r->received += size;
    if (r->received > r->max_body)
        r->too_large = 1;
    if (r->too_large)
        return;
    if (!r->pp) {
        if (serve_request_append(r, data, size) != KILN_OK)
            r->bad_body = 1;
    } else if (MHD_post_process(r->pp, data, size) != MHD_YES) {
        r->bad_body = 1;
    }
}

/* The body is whole: checks it, makes its job and queues it (suspending
 * the connection), or answers at once. */
static enum MHD_Result image_submit(serve_server *srv, struct MHD_Connection *c, serve_request *r)
{
    char text[256];

    if (r->too_large) {
        snprintf(text, sizeof(text), "request body larger than [serve] max_body (%llu bytes)\n",
                 (unsigned long long)r->max_body);
        return respond_text(srv, c, r, r->method, r->path, r->start_ms, 413, text);
    }
    if (r->bad_body)
        return respond_text(srv, c, r, r->method, r->path, r->start_ms, 400,
                            "malformed request body (multipart/form-data expected with a "
                            "`file` part)\n");
    if (r->pp && !r->has_file)
        return respond_text(srv, c, r, r->method, r->path, r->start_ms, 400,
                            "file: missing (the image goes in the form field `file`)\n");
    if (r->body_len == 0)
        return respond_text(srv, c, r, r->method, r->path, r->start_ms, 400,
                            "file: empty (send the image as the form field `file` or as the "
                            "request body)\n");
    if (serve_fields_job(srv, r) != KILN_OK)
        return respond_result(srv, c, r);
    pthread_mutex_lock(&srv->lock);
    if (srv->draining) {
        pthread_mutex_unlock(&srv->lock);
        return respond_text(srv, c, r, r->method, r->path, r->start_ms, 503,
                            "shutting down\n");
    }
    if (serve_queue_push(&srv->queue, r) != 0) {
        pthread_mutex_unlock(&srv->lock);
        snprintf(text, sizeof(text), "queue full (%zu requests waiting); retry later\n",
                 srv->queue.capacity);
        return respond_text(srv, c, r, r->method, r->path, r->start_ms, 503, text);
    }
    r->refs++;                        /* the queue's, then the worker's */
    r->state = SERVE_QUEUED;
    r->queued_ms = kiln_clock_ms();
    r->deadline_ms = r->queued_ms + 1000.0 * (double)srv->job->serve.timeout;
    r->suspended = 1;
    serve_conn_waiting(conn_of(c));
    MHD_suspend_connection(c);
    pthread_cond_signal(&srv->work);
    pthread_mutex_unlock(&srv->lock);
    return MHD_YES;
}

/* The route of a new request, or an answer for one without an image. */
static enum MHD_Result route_new(serve_server *srv, struct MHD_Connection *c, const char *url,
                                 const char *method, void **con_cls)
{
    double t0 = kiln_clock_ms();
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    int post = strcmp(method, "POST") == 0;

    pthread_mutex_lock(&srv->lock);
    serve_conn_request(conn_of(c));
    pthread_mutex_unlock(&srv->lock);
    if (strcmp(url, "/healthz") == 0 && get)
        return respond_text(srv, c, NULL, method, url, t0, 200, "ok\n");
    if (strcmp(url, "/readyz") == 0 && get)
        return route_readyz(srv, c, method, url, t0);
    if (strcmp(url, "/metrics") == 0 && get)
        return route_metrics(srv, c, method, url, t0);
    if (strcmp(url, "/api/remove") == 0 && post)
        return image_begin(srv, c, SERVE_ROUTE_REMOVE, method, url, con_cls);
    if (strcmp(url, "/v1/run") == 0 && post)
        return image_begin(srv, c, SERVE_ROUTE_RUN, method, url, con_cls);
    if (strcmp(url, "/api/remove") == 0 || strcmp(url, "/v1/run") == 0)
        return respond_text(srv, c, NULL, method, url, t0, 405,
                            "method not allowed: POST an image\n");
    if (strcmp(url, "/healthz") == 0 || strcmp(url, "/readyz") == 0 ||
        strcmp(url, "/metrics") == 0)
        return respond_text(srv, c, NULL, method, url, t0, 405, "method not allowed: GET\n");
    return respond_text(srv, c, NULL, method, url, t0, 404,
                        "not found (POST /api/remove, POST /v1/run, GET /healthz, "
                        "GET /readyz, GET /metrics)\n");
}

/* MHD's access handler: routes, takes bodies, answers results. */
static enum MHD_Result http_access(void *cls, struct MHD_Connection *c, const char *url,
                                   const char *method, const char *version,
                                   const char *upload_data, size_t *upload_data_size,
                                   void **con_cls)
{
    serve_server *srv = cls;
    serve_request *r = *con_cls;
    serve_state state;

    (void)version;
    if (!r)
        return route_new(srv, c, url, method, con_cls);
    if (*upload_data_size) {
        image_body(r, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->answered)
        return MHD_YES;
    pthread_mutex_lock(&srv->lock);
    state = r->state;
    pthread_mutex_unlock(&srv->lock);
    switch (state) {
    case SERVE_READING:
        return image_submit(srv, c, r);
    case SERVE_DONE:
        return respond_result(srv, c, r);
    case SERVE_CANCELLED:
        return MHD_NO;
    default:                          /* resumed early: not ours to answer yet */
        return MHD_YES;
    }
}

/* MHD's completion callback: the connection is done with its request
 * (answered, or gone): counts a request that was never answered as 499,
 * takes it off the queue, and drops the connection's reference. */
static void http_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                          enum MHD_RequestTerminationCode toe)
{
    serve_server *srv = cls;
    serve_request *r = *con_cls;

    (void)toe;
    if (!r)
        return;
    *con_cls = NULL;
    if (r->pp)
        MHD_destroy_post_processor(r->pp);
    r->pp = NULL;
    if (!r->answered) {
        /* 408: cut by the watcher for taking too long to send the request;
         * 499: the client went away */
        serve_conn *conn = conn_of(c);
        unsigned status = conn && conn->cut ? 408 : 499;
        double now = kiln_clock_ms();
        serve_metrics_record(&srv->metrics, status, now - r->start_ms);
        serve_log_request(&srv->log, r->method, r->path, status, 0, now - r->start_ms,
                          serve_request_queue_ms(r, now));
    }
    pthread_mutex_lock(&srv->lock);
    if (r->state == SERVE_QUEUED && serve_queue_remove(&srv->queue, r))
        serve_server_unref(srv, r);
    if (r->state != SERVE_DONE)
        r->state = SERVE_CANCELLED;
    r->suspended = 0;
    srv->live_requests--;
    serve_server_unref(srv, r);
    pthread_cond_broadcast(&srv->changed);
    pthread_mutex_unlock(&srv->lock);
}

/* Drops a reference; see serve_server.h. */
void serve_server_unref(serve_server *srv, serve_request *r)
{
    (void)srv;
    if (--r->refs == 0)
        serve_request_free(r);
}

/* Resumes a waiting connection; see serve_server.h. */
void serve_server_resume(serve_server *srv, serve_request *r)
{
    (void)srv;
    if (!r->suspended)
        return;
    r->suspended = 0;
    MHD_resume_connection(r->conn);
}

/* MHD's connection callback: keeps the list of open connections with
 * their deadlines (serve_conn.h). */
static void http_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                            enum MHD_ConnectionNotificationCode code)
{
    serve_server *srv = cls;

    pthread_mutex_lock(&srv->lock);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = serve_conn_open(&srv->conns, info ? info->connect_fd : -1);
    } else {
        serve_conn_close(&srv->conns, *socket_context);
        *socket_context = NULL;
    }
    pthread_mutex_unlock(&srv->lock);
}

/* Starts the daemon on a bound, listening socket; see serve_server.h. */
kiln_status serve_http_start(serve_server *srv, int fd)
{
    /* idle connections close after [serve] timeout too (at least 1 s) */
    uint64_t t = srv->job->serve.timeout;
    unsigned int idle_s = t == 0 ? 1u : t > 86400 ? 86400u : (unsigned int)t;

    srv->daemon = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
                                   MHD_USE_ERROR_LOG, 0, NULL, NULL, http_access, srv,
                                   MHD_OPTION_LISTEN_SOCKET, fd,
                                   MHD_OPTION_NOTIFY_COMPLETED, http_completed, srv,
                                   MHD_OPTION_NOTIFY_CONNECTION, http_connection, srv,
                                   MHD_OPTION_CONNECTION_TIMEOUT, idle_s,
                                   MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1000,
                                   MHD_OPTION_END);
    if (!srv->daemon)
        return kiln_fail(KILN_E_IO, "cannot start the HTTP server");
    return KILN_OK;
}
