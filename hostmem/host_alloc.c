/* The host memory door: accounting and fault injection around the C
 * library's allocator (see host_alloc.h and kiln.h). */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef HAVE_MALLOC_H
#include <malloc.h>
#endif

#include "host_alloc.h"

#define HOST_ALLOC_ENV_FAULT "KILN_FAULT_HOST_ALLOC"

static atomic_size_t live_bytes;
static atomic_size_t peak_bytes;
static atomic_uint_least64_t allocations;
static atomic_uint_least64_t failures;
/* Allocations left before the injected failure; 0: no fault armed. */
static atomic_uint_least64_t fail_countdown;
/* Persistent faults: once the armed failure fires, every later allocation
 * fails too, until the next kiln_host_alloc_fail_at. */
static atomic_int fail_persist;
static atomic_int failing;
static pthread_once_t env_once = PTHREAD_ONCE_INIT;

/* The bytes a block occupies; 0 where the C library cannot say (then live
 * and peak stay 0 and only the counts are kept). */
static size_t block_bytes(void *p)
{
#ifdef HAVE_MALLOC_USABLE_SIZE
    return p ? malloc_usable_size(p) : 0;
#else
    (void)p;
    return 0;
#endif
}

/* Arms the fault named by KILN_FAULT_HOST_ALLOC, once per process.  A
 * value that is not a whole number is reported on stderr and ignored. */
static void env_read(void)
{
    const char *text = getenv(HOST_ALLOC_ENV_FAULT);
    char *end = NULL;
    unsigned long long n;

    if (!text || !*text)
        return;
    errno = 0;
    n = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-') {
        fprintf(stderr, "kiln: warning: %s=%s is not a whole number: ignored\n",
                HOST_ALLOC_ENV_FAULT, text);
        return;
    }
    atomic_store(&fail_countdown, (uint_least64_t)n);
}

/* Counts one allocation attempt against the armed fault: returns 1 when
 * this attempt is to fail (the armed one, or any after it in persistent
 * mode). */
static int fault_fires(void)
{
    uint_least64_t left;

    pthread_once(&env_once, env_read);
    if (atomic_load(&failing))
        return 1;
    left = atomic_load(&fail_countdown);
    while (left > 0) {
        if (atomic_compare_exchange_weak(&fail_countdown, &left, left - 1)) {
            if (left != 1)
                return 0;
            if (atomic_load(&fail_persist))
                atomic_store(&failing, 1);
            return 1;
        }
    }
    return 0;
}

/* Adds a new block's bytes to the live count and raises the peak. */
static void count_block(void *p)
{
    size_t n = block_bytes(p);
    size_t now = atomic_fetch_add(&live_bytes, n) + n;
    size_t peak = atomic_load(&peak_bytes);

    while (now > peak && !atomic_compare_exchange_weak(&peak_bytes, &peak, now))
        ;
    atomic_fetch_add(&allocations, 1);
}

/* Counts a failed allocation and returns NULL. */
static void *count_failure(void)
{
    atomic_fetch_add(&failures, 1);
    return NULL;
}

/* malloc through the door (see host_alloc.h). */
void *kiln_malloc(size_t size)
{
    void *p;

    if (fault_fires())
        return count_failure();
    p = malloc(size ? size : 1);
    if (!p)
        return count_failure();
    count_block(p);
    return p;
}

/* calloc through the door, overflow checked (see host_alloc.h). */
void *kiln_calloc(size_t n, size_t size)
{
    void *p;

    if (fault_fires())
        return count_failure();
    if (size != 0 && n > SIZE_MAX / size)
        return count_failure();
    if (n == 0 || size == 0)
        n = size = 1;
    p = calloc(n, size);
    if (!p)
        return count_failure();
    count_block(p);
    return p;
}

/* realloc through the door (see host_alloc.h). */
void *kiln_realloc(void *p, size_t size)
{
    size_t old;
    void *q;

    if (fault_fires())
        return count_failure();
    old = block_bytes(p);
    q = realloc(p, size ? size : 1);
    if (!q)
        return count_failure();
    atomic_fetch_sub(&live_bytes, old);
    count_block(q);
    return q;
}

/* strdup through the door (see host_alloc.h). */
char *kiln_strdup(const char *s)
{
    size_t len = strlen(s) + 1;
    char *copy = kiln_malloc(len);

    if (copy)
        memcpy(copy, s, len);
    return copy;
}

/* free through the door (see host_alloc.h). */
void kiln_free(void *p)
{
    if (!p)
        return;
    atomic_fetch_sub(&live_bytes, block_bytes(p));
    free(p);
}

/* Copies the figures (see kiln.h). */
void kiln_host_alloc_stats(kiln_host_stats *out)
{
    if (!out)
        return;
    out->live_bytes = atomic_load(&live_bytes);
    out->peak_bytes = atomic_load(&peak_bytes);
    out->allocations = (uint64_t)atomic_load(&allocations);
    out->failures = (uint64_t)atomic_load(&failures);
}

/* Arms (or with 0 disarms) the injected failure (see kiln.h).  Reads the
 * environment first, so that this call wins over it. */
void kiln_host_alloc_fail_at(uint64_t nth)
{
    pthread_once(&env_once, env_read);
    atomic_store(&failing, 0);
    atomic_store(&fail_countdown, (uint_least64_t)nth);
}

/* Chooses one-shot or persistent faults (see host_alloc.h). */
void kiln_host_alloc_fail_persist(int persist)
{
    atomic_store(&fail_persist, persist != 0);
}
