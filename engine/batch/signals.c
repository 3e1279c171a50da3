/* The batch's signal watcher (see signals.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "signals.h"
#include "status.h"

/* How often the watcher looks whether the watch has ended. */
#define WATCH_POLL_NS 100000000L

/* The set of signals the watcher takes. */
static void stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
}

/* The watcher thread: first signal -> stop; second -> exit now. */
static void *watch_main(void *arg)
{
    signal_watch *w = arg;
    const struct timespec poll = { 0, WATCH_POLL_NS };
    sigset_t set;

    stop_signals(&set);
    while (!w->done) {
        int signo = sigtimedwait(&set, NULL, &poll);
        if (signo < 0)
            continue;  /* EAGAIN (timeout) or EINTR */
        if (w->caught) {
            static const char msg[] = "kiln: second signal: exiting now\n";
            ssize_t n = write(STDERR_FILENO, msg, sizeof(msg) - 1);
            (void)n;
            _exit(128 + signo);
        }
        w->caught = signo;
        w->stop(w->user, signo);
    }
    return NULL;
}

/* Blocks the signals and starts the watcher. */
kiln_status signal_watch_begin(signal_watch *w, void (*stop)(void *user, int signo),
                               void *user)
{
    sigset_t set;

    memset(w, 0, sizeof(*w));
    w->stop = stop;
    w->user = user;
    stop_signals(&set);
    if (pthread_sigmask(SIG_BLOCK, &set, &w->previous) != 0)
        return kiln_fail(KILN_E_HOSTMEM, "cannot block SIGINT and SIGTERM");
    if (pthread_create(&w->thread, NULL, watch_main, w) != 0) {
        pthread_sigmask(SIG_SETMASK, &w->previous, NULL);
        return kiln_fail(KILN_E_HOSTMEM, "cannot start the signal watcher");
    }
    w->started = 1;
    return KILN_OK;
}

/* Ends the watch. */
int signal_watch_end(signal_watch *w)
{
    if (!w->started)
        return 0;
    w->done = 1;
    pthread_join(w->thread, NULL);
    w->started = 0;
    pthread_sigmask(SIG_SETMASK, &w->previous, NULL);
    return w->caught;
}
