/* `kiln serve`: a job's stages behind an HTTP server (libmicrohttpd), with
 * rembg's endpoint (POST /api/remove), kiln's own (POST /v1/run), health,
 * readiness and Prometheus metrics.  One worker thread per selected
 * device, one bounded queue; see README.md for the endpoints. */
#ifndef KILN_SERVE_H
#define KILN_SERVE_H

#include <stddef.h>

/* What the command line gives the server. */
typedef struct serve_options {
    const char *job_path;          /* JOB.ini, or NULL: defaults and sets */
    const char *const *sets;       /* "section.key=value" overrides */
    size_t nsets;
    const char *host;              /* --host, or NULL: [serve] host */
    long port;                     /* --port, or -1: [serve] port */
} serve_options;

/* Loads the job, opens one worker per selected device, listens and
 * prints "kiln serve: listening on http://HOST:PORT" on stderr, then
 * serves until SIGTERM or SIGINT, drains (see serve.c) and closes every
 * device.  Returns the exit status: 0 after a clean drain, 1 when a
 * device still held buffers at close (a leak, named on stderr), 2 when
 * the server could not start (the reason on stderr). */
int serve_run(const serve_options *o);

#endif
