/* A small parallel loop on the host's cores (see parallel_for.h). */
#include <pthread.h>
#include <unistd.h>

#include "parallel_for.h"

#define PARALLEL_MAX_THREADS 16

typedef struct loop {
    pthread_mutex_t lock;
    size_t next, n;
    parallel_piece_fn fn;
    void *ctx;
} loop;

typedef struct loop_worker {
    loop *l;
    unsigned index;
} loop_worker;

/* Takes pieces until none is left. */
static void *loop_run(void *arg)
{
    const loop_worker *w = arg;
    loop *l = w->l;

    for (;;) {
        size_t i;
        pthread_mutex_lock(&l->lock);
        i = l->next < l->n ? l->next++ : l->n;
        pthread_mutex_unlock(&l->lock);
        if (i == l->n)
            return NULL;
        l->fn(l->ctx, i, w->index);
    }
}

/* Online cores, capped; see parallel_for.h. */
unsigned parallel_for_workers(size_t n, unsigned max_workers)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned w = cores > 0 ? (unsigned)cores : 1;

    if (w > max_workers)
        w = max_workers;
    if (w > PARALLEL_MAX_THREADS)
        w = PARALLEL_MAX_THREADS;
    if ((size_t)w > n)
        w = (unsigned)n;
    return w ? w : 1;
}

/* Runs the loop; see parallel_for.h. */
void parallel_for(size_t n, unsigned max_workers, parallel_piece_fn fn, void *ctx)
{
    loop l = { .next = 0, .n = n, .fn = fn, .ctx = ctx };
    loop_worker workers[PARALLEL_MAX_THREADS];
    pthread_t threads[PARALLEL_MAX_THREADS];
    int started[PARALLEL_MAX_THREADS] = { 0 };
    unsigned count = parallel_for_workers(n, max_workers);

    if (n == 0)
        return;
    if (count == 1 || pthread_mutex_init(&l.lock, NULL) != 0) {
        for (size_t i = 0; i < n; i++)
            fn(ctx, i, 0);
        return;
    }
    for (unsigned k = 0; k < count; k++) {
        workers[k].l = &l;
        workers[k].index = k;
    }
    for (unsigned k = 1; k < count; k++)
        started[k] = pthread_create(&threads[k], NULL, loop_run, &workers[k]) == 0;
    loop_run(&workers[0]);
    for (unsigned k = 1; k < count; k++)
        if (started[k])
            pthread_join(threads[k], NULL);
    pthread_mutex_destroy(&l.lock);
}
