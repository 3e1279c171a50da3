/* The watcher thread: deadlines of queued requests and clients that went
 * away (see serve_server.h).  A suspended connection is not polled by
 * libmicrohttpd, so its socket is peeked here: end of stream or an error
 * means the client is gone. */
#include <errno.h>
#include <sys/socket.h>
#include <time.h>

#include "clock.h"
#include "serve_server.h"

#define WATCH_PERIOD_MS 20

/* 1 when the peer of `fd` closed or reset the connection. */
static int peer_gone(int fd)
{
    char c;
    ssize_t n;

    if (fd < 0)
        return 0;
    n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0)
        return 1;
    return n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

/* One pass over the queue and the running requests (under the lock). */
static void watch_pass(serve_server *srv)
{
    double now = kiln_clock_ms();
    serve_request *r = srv->queue.head;

    while (r) {
        serve_request *next = r->next;
        if (now > r->deadline_ms) {
            serve_queue_remove(&srv->queue, r);
            serve_request_text(r, 504, "waited %llu s in the queue ([serve] timeout)",
                               (unsigned long long)srv->job->serve.timeout);
            r->state = SERVE_DONE;
            serve_server_resume(srv, r);
            serve_server_unref(srv, r);
        } else if (peer_gone(r->fd)) {
            serve_queue_remove(&srv->queue, r);
            r->state = SERVE_CANCELLED;  /* dropped before it started */
            serve_server_resume(srv, r);
            serve_server_unref(srv, r);
        }
        r = next;
    }
    for (size_t i = 0; i < srv->nworkers; i++) {
        r = srv->workers[i].current;
        if (r && r->state == SERVE_RUNNING && r->suspended && peer_gone(r->fd)) {
            r->state = SERVE_CANCELLED;  /* its result will be discarded */
            serve_server_resume(srv, r);
        }
    }
    serve_conn_cut_late(&srv->conns, 1000.0 * (double)srv->job->serve.timeout);
}

/* The thread: a pass every WATCH_PERIOD_MS until stop_watch. */
void *serve_watch_main(void *arg)
{
    serve_server *srv = arg;
    struct timespec pause = { 0, WATCH_PERIOD_MS * 1000000L };

    pthread_mutex_lock(&srv->lock);
    while (!srv->stop_watch) {
        watch_pass(srv);
        if (srv->queue.depth)
            pthread_cond_broadcast(&srv->changed);
        pthread_mutex_unlock(&srv->lock);
        nanosleep(&pause, NULL);
        pthread_mutex_lock(&srv->lock);
    }
    pthread_mutex_unlock(&srv->lock);
    return NULL;
}
