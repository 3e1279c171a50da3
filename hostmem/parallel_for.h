/* Runs independent pieces of host work on the machine's cores: a small
 * parallel loop for start-up work that is large and embarrassingly
 * parallel (packing model weights).  No OpenCL. */
#ifndef KILN_PARALLEL_FOR_H
#define KILN_PARALLEL_FOR_H

#include <stddef.h>

/* One piece: index i of the loop, run by worker `worker` (0 ..
 * workers - 1; the calling thread is worker 0).  Pieces run on any
 * worker in any order; two workers never get the same worker index at
 * once, so per-worker scratch may be indexed by it. */
typedef void (*parallel_piece_fn)(void *ctx, size_t i, unsigned worker);

/* The number of workers parallel_for uses for n pieces: the online
 * cores, at most max_workers and n, at least 1. */
unsigned parallel_for_workers(size_t n, unsigned max_workers);

/* Runs fn(ctx, i, worker) for every i < n, taking the pieces in order
 * (give the largest first) on parallel_for_workers(n, max_workers)
 * workers, and returns once all ran.  When a thread cannot be started
 * the calling thread does its share: the loop always completes. */
void parallel_for(size_t n, unsigned max_workers, parallel_piece_fn fn, void *ctx);

#endif
