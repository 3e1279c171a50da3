/* One HTTP request of the server, from its first header to its response:
 * its body and parameters as they arrive, the job it asks for, its place
 * in the queue and its result.  Reference counted: the connection holds
 * one reference, the queue and then the worker another; the last
 * serve_request_unref frees it.  The counts and the state change under
 * the server's lock (serve_server.h). */
#ifndef KILN_SERVE_REQUEST_H
#define KILN_SERVE_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "job.h"
#include "kiln.h"

#define SERVE_MAX_PARAMS 64
#define SERVE_PARAM_MAX 4096

struct MHD_Connection;
struct MHD_PostProcessor;

/* Where a request is. */
typedef enum serve_state {
    SERVE_READING,    /* headers and body arriving */
    SERVE_QUEUED,     /* in the queue, waiting for a worker */
    SERVE_RUNNING,    /* a worker runs it */
    SERVE_DONE,       /* its result is ready to send */
    SERVE_CANCELLED   /* the client went away: nothing will be sent */
} serve_state;

/* The endpoints that take an image. */
typedef enum serve_route {
    SERVE_ROUTE_REMOVE,   /* POST /api/remove: rembg's fields */
    SERVE_ROUTE_RUN       /* POST /v1/run: kiln's job keys */
} serve_route;

/* A query parameter or a form field: name and value (NUL-terminated). */
typedef struct serve_param {
    char *name;
    char *value;
    size_t len;
} serve_param;

typedef struct serve_request serve_request;

struct serve_request {
    int refs;
    serve_state state;
    serve_route route;
    struct MHD_Connection *conn;
    struct MHD_PostProcessor *pp;     /* multipart bodies, else NULL */
    int suspended;                    /* the connection waits for a result */
    int answered;                     /* a response was queued */
    int bad_body;                     /* the multipart body did not parse */
    int fd;                           /* the connection's socket */
    char method[16];
    char path[128];
    double start_ms;                  /* first header */
    double queued_ms;                 /* entered the queue */
    double run_ms;                    /* a worker took it */
    double deadline_ms;               /* answered 504 if still queued then */
    uint64_t max_body;                /* bytes of body accepted */
    uint64_t received;                /* bytes of body seen */
    int too_large;                    /* received > max_body */
    unsigned char *body;              /* the image: raw body or the file part */
    size_t body_len, body_cap;
    int has_file;                     /* a multipart `file` part came */
    char filename[256];               /* for messages: upload name or "request body" */
    serve_param params[SERVE_MAX_PARAMS];
    size_t nparams;
    char param_error[256];            /* a parameter that could not be kept */
    job_config *job;                  /* the request's job, or NULL: the server's */
    char *job_key;                    /* its sets, joined: same key, same job */
    /* result */
    unsigned status;                  /* HTTP status */
    unsigned char *out;               /* response body (malloc'd) */
    size_t out_len;
    const char *content_type;
    serve_request *next;              /* the queue's link */
};

/* A new request for `conn` (one reference), or NULL when out of host
 * memory. */
serve_request *serve_request_new(struct MHD_Connection *conn, const char *method,
                                 const char *path, uint64_t max_body);

/* Appends body bytes (the image); dropped once the request is marked
 * too_large (the HTTP front counts the body's bytes against max_body).
 * KILN_E_HOSTMEM when the buffer cannot grow. */
kiln_status serve_request_append(serve_request *r, const char *data, size_t len);

/* Adds `len` bytes to the parameter `name` (a new one, or the last one
 * when it has this name and `more` is set: a field in pieces).  A
 * parameter past SERVE_MAX_PARAMS or SERVE_PARAM_MAX bytes sets
 * param_error instead.  KILN_E_HOSTMEM when out of memory. */
kiln_status serve_request_param(serve_request *r, const char *name, const char *value,
                                size_t len, int more);

/* The value of the parameter `name`, or NULL. */
const char *serve_request_get(const serve_request *r, const char *name);

/* Sets the result: status, a text/plain message (copied). */
void serve_request_text(serve_request *r, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Releases what the request holds beside its result: its body, its
 * parameters, its job (called once the work no longer needs them). */
void serve_request_drop_inputs(serve_request *r);

/* Milliseconds r waited in the queue: until a worker took it, or until
 * `now` when none did; 0 when it was never queued. */
double serve_request_queue_ms(const serve_request *r, double now);

/* Frees the request and everything it holds. */
void serve_request_free(serve_request *r);

#endif
