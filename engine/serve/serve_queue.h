/* The server's one bounded request queue: first in, first out, with room
 * for `capacity` requests.  Not locked itself: every call is made under
 * the server's lock (serve_server.h). */
#ifndef KILN_SERVE_QUEUE_H
#define KILN_SERVE_QUEUE_H

#include <stddef.h>

#include "serve_request.h"

typedef struct serve_queue {
    serve_request *head, *tail;
    size_t depth;
    size_t capacity;
} serve_queue;

/* Appends r; returns 0, or -1 (r not taken) when the queue is full. */
int serve_queue_push(serve_queue *q, serve_request *r);

/* Takes the oldest request, or NULL when empty. */
serve_request *serve_queue_pop(serve_queue *q);

/* Removes r wherever it is; returns 1 when it was queued, 0 otherwise. */
int serve_queue_remove(serve_queue *q, serve_request *r);

#endif
