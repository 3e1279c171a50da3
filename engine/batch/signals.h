/* Stopping a batch on SIGINT or SIGTERM (SLURM and Kubernetes stop jobs
 * with SIGTERM).
 *
 * While a watch is on, the two signals are blocked in the calling thread
 * and in every thread it starts, and one watcher thread takes them with
 * sigtimedwait: the first calls the stop function once (the batch stops
 * taking items, finishes those in flight, writes its report marked
 * interrupted and exits 130 or 143); a second one exits the process at
 * once with 128 + the signal (its temporaries are removed by the next
 * run's start).  Nothing runs in a signal handler. */
#ifndef KILN_SIGNALS_H
#define KILN_SIGNALS_H

#include <pthread.h>
#include <signal.h>

#include "kiln.h"

typedef struct signal_watch {
    pthread_t thread;
    sigset_t previous;                 /* the thread's mask before the watch */
    void (*stop)(void *user, int signo);
    void *user;
    volatile sig_atomic_t caught;      /* the first signal taken, 0 if none */
    volatile sig_atomic_t done;        /* set by signal_watch_end */
    int started;
} signal_watch;

/* Blocks SIGINT and SIGTERM in the calling thread (call it before
 * starting the batch's threads) and starts the watcher, which calls
 * stop(user, signo) on the first signal from its own thread.
 * KILN_E_HOSTMEM when the thread cannot be started (signals are then
 * left as they were). */
kiln_status signal_watch_begin(signal_watch *w, void (*stop)(void *user, int signo),
                               void *user);

/* Stops the watcher, restores the thread's signal mask and returns the
 * first signal taken (0 when none).  A signal that arrives after this is
 * handled by the process's own disposition. */
int signal_watch_end(signal_watch *w);

#endif
