/* The server's open connections and their deadlines (see serve_conn.h). */
#include <sys/socket.h>

#include "clock.h"
#include "host_alloc.h"
#include "serve_conn.h"

/* Adds a connection; see serve_conn.h. */
serve_conn *serve_conn_open(serve_conn_list *list, int fd)
{
    serve_conn *conn = kiln_calloc(1, sizeof(*conn));

    if (!conn)
        return NULL;
    conn->fd = fd;
    conn->since_ms = kiln_clock_ms();
    conn->next = list->head;
    if (list->head)
        list->head->prev = conn;
    list->head = conn;
    list->count++;
    return conn;
}

/* Removes and frees a connection; see serve_conn.h. */
void serve_conn_close(serve_conn_list *list, serve_conn *conn)
{
    if (!conn)
        return;
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        list->head = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    list->count--;
    kiln_free(conn);
}

/* A request's headers are in: its body counts from now. */
void serve_conn_request(serve_conn *conn)
{
    if (!conn)
        return;
    conn->since_ms = kiln_clock_ms();
    conn->waiting = 0;
}

/* Its request is queued: the queue's deadline applies instead. */
void serve_conn_waiting(serve_conn *conn)
{
    if (conn)
        conn->waiting = 1;
}

/* Its request was answered: sending the answer and the next request's
 * headers count from now. */
void serve_conn_answered(serve_conn *conn)
{
    if (!conn)
        return;
    conn->since_ms = kiln_clock_ms();
    conn->waiting = 0;
}

/* Shuts down the connections past their deadline; see serve_conn.h. */
size_t serve_conn_cut_late(serve_conn_list *list, double timeout_ms)
{
    double now = kiln_clock_ms();
    size_t cut = 0;

    for (serve_conn *conn = list->head; conn; conn = conn->next) {
        if (conn->waiting || conn->cut || conn->fd < 0 || now - conn->since_ms <= timeout_ms)
            continue;
        shutdown(conn->fd, SHUT_RDWR);
        conn->cut = 1;
        cut++;
    }
    return cut;
}
