/* One HTTP request's state (see serve_request.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "host_alloc.h"
#include "serve_request.h"

/* Allocates a request with one reference; see serve_request.h. */
serve_request *serve_request_new(struct MHD_Connection *conn, const char *method,
                                 const char *path, uint64_t max_body)
{
    serve_request *r = kiln_calloc(1, sizeof(*r));

    if (!r)
        return NULL;
    r->refs = 1;
    r->state = SERVE_READING;
    r->conn = conn;
    r->fd = -1;
    r->max_body = max_body;
    r->start_ms = kiln_clock_ms();
    snprintf(r->method, sizeof(r->method), "%s", method);
    snprintf(r->path, sizeof(r->path), "%s", path);
    snprintf(r->filename, sizeof(r->filename), "request body");
    return r;
}

/* Appends to the body unless it was found too large; see serve_request.h. */
kiln_status serve_request_append(serve_request *r, const char *data, size_t len)
{
    if (r->too_large || len == 0)
        return KILN_OK;
    if (r->body_len + len > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap : 64 * 1024;
        unsigned char *grown;

        while (cap < r->body_len + len)
            cap *= 2;
        grown = kiln_realloc(r->body, cap);
        if (!grown)
            return KILN_E_HOSTMEM;
        r->body = grown;
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, data, len);
    r->body_len += len;
    return KILN_OK;
}

/* Adds or extends a parameter; see serve_request.h. */
kiln_status serve_request_param(serve_request *r, const char *name, const char *value,
                                size_t len, int more)
{
    serve_param *p = r->nparams ? &r->params[r->nparams - 1] : NULL;
    char *grown;

    if (r->param_error[0])
        return KILN_OK;
    if (!more || !p || strcmp(p->name, name) != 0) {
        if (r->nparams == SERVE_MAX_PARAMS) {
            snprintf(r->param_error, sizeof(r->param_error),
                     "more than %d parameters", SERVE_MAX_PARAMS);
            return KILN_OK;
        }
        p = &r->params[r->nparams];
        p->name = kiln_malloc(strlen(name) + 1);
        if (!p->name)
            return KILN_E_HOSTMEM;
        strcpy(p->name, name);
        p->value = NULL;
        p->len = 0;
        r->nparams++;
    }
    if (p->len + len >= SERVE_PARAM_MAX) {
        snprintf(r->param_error, sizeof(r->param_error),
                 "%.64s: value longer than %d bytes", name, SERVE_PARAM_MAX - 1);
        return KILN_OK;
    }
    grown = kiln_realloc(p->value, p->len + len + 1);
    if (!grown)
        return KILN_E_HOSTMEM;
    p->value = grown;
    if (len)
        memcpy(p->value + p->len, value, len);
    p->len += len;
    p->value[p->len] = '\0';
    return KILN_OK;
}

/* Finds a parameter's value; see serve_request.h. */
const char *serve_request_get(const serve_request *r, const char *name)
{
    for (size_t i = 0; i < r->nparams; i++)
        if (strcmp(r->params[i].name, name) == 0)
            return r->params[i].value ? r->params[i].value : "";
    return NULL;
}

/* Sets a text/plain result; see serve_request.h. */
void serve_request_text(serve_request *r, unsigned status, const char *fmt, ...)
{
    char text[2048];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(text, sizeof(text) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n > sizeof(text) - 2)
        n = (int)sizeof(text) - 2;
    text[n++] = '\n';
    free(r->out);
    r->out = malloc((size_t)n);
    r->out_len = r->out ? (size_t)n : 0;
    if (r->out)
        memcpy(r->out, text, (size_t)n);
    r->status = status;
    r->content_type = "text/plain; charset=utf-8";
}

/* Frees body, parameters and job; see serve_request.h. */
void serve_request_drop_inputs(serve_request *r)
{
    kiln_free(r->body);
    r->body = NULL;
    r->body_len = r->body_cap = 0;
    for (size_t i = 0; i < r->nparams; i++) {
        kiln_free(r->params[i].name);
        kiln_free(r->params[i].value);
    }
    r->nparams = 0;
    kiln_free(r->job);
    r->job = NULL;
    kiln_free(r->job_key);
    r->job_key = NULL;
}

/* The queue wait; see serve_request.h. */
double serve_request_queue_ms(const serve_request *r, double now)
{
    if (r->queued_ms <= 0)
        return 0;
    return (r->run_ms > 0 ? r->run_ms : now) - r->queued_ms;
}

/* Frees everything; see serve_request.h. */
void serve_request_free(serve_request *r)
{
    if (!r)
        return;
    serve_request_drop_inputs(r);
    free(r->out);
    kiln_free(r);
}
