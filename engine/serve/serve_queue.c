/* The bounded request queue (see serve_queue.h). */
#include "serve_queue.h"

/* Appends at the tail when there is room. */
int serve_queue_push(serve_queue *q, serve_request *r)
{
    if (q->depth >= q->capacity)
        return -1;
    r->next = NULL;
    if (q->tail)
        q->tail->next = r;
    else
        q->head = r;
    q->tail = r;
    q->depth++;
    return 0;
}

/* Takes from the head. */
serve_request *serve_queue_pop(serve_queue *q)
{
    serve_request *r = q->head;

    if (!r)
        return NULL;
    q->head = r->next;
    if (!q->head)
        q->tail = NULL;
    r->next = NULL;
    q->depth--;
    return r;
}

/* Unlinks r when it is queued. */
int serve_queue_remove(serve_queue *q, serve_request *r)
{
    serve_request *prev = NULL;

    for (serve_request *it = q->head; it; prev = it, it = it->next) {
        if (it != r)
            continue;
        if (prev)
            prev->next = r->next;
        else
            q->head = r->next;
        if (q->tail == r)
            q->tail = prev;
        r->next = NULL;
        q->depth--;
        return 1;
    }
    return 0;
}
