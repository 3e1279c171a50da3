/* The server's open connections and their deadlines.  libmicrohttpd's
 * own timeout only counts idle time, so a client that trickles a byte now
 * and then (slowloris) would hold a connection for ever; here every
 * connection has a deadline for the phase it is in:
 *   - from its start, or from its last answer, until a request's headers
 *     and whole body arrived: [serve] timeout seconds;
 *   - while its request is queued or running: none here (the queue's
 *     deadline and the worker apply, see serve_watch.c);
 * and the watcher cuts (shuts down) a connection past its deadline, so
 * libmicrohttpd closes it.  Every call runs under the server's lock.
 * Internal to engine/serve. */
#ifndef KILN_SERVE_CONN_H
#define KILN_SERVE_CONN_H

#include "kiln.h"

typedef struct serve_conn {
    int fd;
    double since_ms;          /* start of the phase its deadline counts from */
    int waiting;              /* its request is queued or running */
    int cut;                  /* shut down by the watcher */
    struct serve_conn *prev, *next;
} serve_conn;

typedef struct serve_conn_list {
    serve_conn *head;
    size_t count;
} serve_conn_list;

/* A new connection on socket fd, started now, added to the list.  NULL
 * when host memory ran out (the connection then has no deadline of its
 * own; libmicrohttpd's idle timeout still applies). */
serve_conn *serve_conn_open(serve_conn_list *list, int fd);

/* Removes a connection from the list and frees it.  NULL is a no-op. */
void serve_conn_close(serve_conn_list *list, serve_conn *conn);

/* Phase changes: a request began (its headers are in), it was queued,
 * it was answered.  NULL is a no-op. */
void serve_conn_request(serve_conn *conn);
void serve_conn_waiting(serve_conn *conn);
void serve_conn_answered(serve_conn *conn);

/* Cuts every connection past its deadline (timeout_ms after its phase
 * began, when not waiting).  Returns how many were cut by this call. */
size_t serve_conn_cut_late(serve_conn_list *list, double timeout_ms);

#endif
