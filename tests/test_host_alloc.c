/* The host memory door: counting (live bytes, peak, allocations,
 * failures), its allocators' contracts (zero sizes, calloc overflow,
 * realloc failure keeping the block), fault injection from the
 * environment and from kiln_host_alloc_fail_at (one-shot and
 * persistent), and counting from several threads at once.  No device
 * needed. */
#include <pthread.h>
#include <stdint.h>

#include "host_alloc.h"
#include "testutil.h"

#define THREADS 4
#define PER_THREAD 20000

/* The current figures. */
static kiln_host_stats now(void)
{
    kiln_host_stats s;
    kiln_host_alloc_stats(&s);
    return s;
}

/* KILN_FAULT_HOST_ALLOC, set before kiln's first allocation, fails the
 * Nth one; a malformed value would be ignored with a warning. */
static void test_env_fault(void)
{
    void *p[4];
    kiln_host_stats before = now();

    for (int i = 0; i < 4; i++)
        p[i] = kiln_malloc(8);
    CHECK(p[0] && p[1] && !p[2] && p[3]);
    CHECK(now().failures == before.failures + 1);
    CHECK(now().allocations == before.allocations + 3);
    for (int i = 0; i < 4; i++)
        kiln_free(p[i]);
}

/* Live bytes follow allocations and frees; the peak stays. */
static void test_counting(void)
{
    kiln_host_stats s0 = now(), s1, s2;
    char *a = kiln_malloc(1000), *b = kiln_calloc(10, 100), *c = kiln_strdup("kiln");

    CHECK(a && b && c);
    s1 = now();
    CHECK(s1.live_bytes >= s0.live_bytes + 2000 + 5);
    CHECK(s1.peak_bytes >= s1.live_bytes);
    CHECK(s1.allocations == s0.allocations + 3);
    for (int i = 0; i < 1000; i++)
        CHECK(b[i] == 0);
    CHECK(strcmp(c, "kiln") == 0);
    kiln_free(a);
    kiln_free(b);
    kiln_free(c);
    kiln_free(NULL);
    s2 = now();
    CHECK(s2.live_bytes == s0.live_bytes);
    CHECK(s2.peak_bytes == s1.peak_bytes);
    CHECK(s2.failures == s0.failures);
}

/* Size 0 gives a unique block (NULL means failure only); calloc refuses a
 * product that overflows; realloc grows and shrinks, and on failure keeps
 * the old block. */
static void test_contracts(void)
{
    volatile size_t huge = SIZE_MAX / 2;    /* volatile: not refused at compile time */
    kiln_host_stats s0 = now();
    void *z = kiln_malloc(0), *zc = kiln_calloc(0, 8), *big;
    char *r;

    CHECK(z != NULL && zc != NULL && z != zc);
    big = kiln_calloc(huge, 4);
    CHECK(big == NULL);
    CHECK(now().failures == s0.failures + 1);
    r = kiln_realloc(NULL, 16);
    CHECK(r != NULL);
    if (r) {
        char *grown;
        memcpy(r, "0123456789abcde", 16);
        grown = kiln_realloc(r, 100000);
        CHECK(grown != NULL);
        r = grown ? grown : r;
        CHECK(memcmp(r, "0123456789abcde", 16) == 0);
        kiln_host_alloc_fail_at(1);
        CHECK(kiln_realloc(r, 200000) == NULL);         /* injected: r is kept */
        CHECK(memcmp(r, "0123456789abcde", 16) == 0);
        grown = kiln_realloc(r, 0);                      /* a 1-byte block, not a free */
        CHECK(grown != NULL);
        r = grown ? grown : r;
    }
    kiln_free(r);
    kiln_free(z);
    kiln_free(zc);
    CHECK(now().live_bytes == s0.live_bytes);
    CHECK(now().failures == s0.failures + 2);
}

/* fail_at(n) fails exactly the nth allocation from now, every allocator
 * counting; 0 disarms. */
static void test_fail_at(void)
{
    for (int n = 1; n <= 4; n++) {
        void *p[4];
        kiln_host_stats s0 = now();
        kiln_host_alloc_fail_at((uint64_t)n);
        p[0] = kiln_malloc(4);
        p[1] = kiln_calloc(2, 2);
        p[2] = kiln_realloc(NULL, 4);
        p[3] = kiln_strdup("abc");
        for (int i = 0; i < 4; i++) {
            CHECK((p[i] == NULL) == (i == n - 1));
            kiln_free(p[i]);
        }
        CHECK(now().failures == s0.failures + 1);
        CHECK(now().live_bytes == s0.live_bytes);
    }
    kiln_host_alloc_fail_at(2);
    kiln_host_alloc_fail_at(0);
    for (int i = 0; i < 3; i++) {
        void *p = kiln_malloc(4);
        CHECK(p != NULL);
        kiln_free(p);
    }
}

/* Persistent faults: the nth allocation and every later one fail until
 * the next fail_at; one-shot again after fail_persist(0). */
static void test_persist(void)
{
    void *p[5];
    kiln_host_stats s0 = now();

    kiln_host_alloc_fail_persist(1);
    kiln_host_alloc_fail_at(3);
    for (int i = 0; i < 5; i++)
        p[i] = kiln_malloc(8);
    CHECK(p[0] && p[1] && !p[2] && !p[3] && !p[4]);
    CHECK(now().failures == s0.failures + 3);
    kiln_host_alloc_fail_at(0);
    p[2] = kiln_malloc(8);
    CHECK(p[2] != NULL);
    kiln_host_alloc_fail_persist(0);
    kiln_host_alloc_fail_at(1);
    p[3] = kiln_malloc(8);
    p[4] = kiln_malloc(8);
    CHECK(!p[3] && p[4]);
    for (int i = 0; i < 5; i++)
        kiln_free(p[i]);
    CHECK(now().live_bytes == s0.live_bytes);
}

/* A thread's share of the concurrent test: allocate, keep a few, free. */
static void *worker(void *arg)
{
    size_t *nulls = arg;
    void *keep[16] = { 0 };

    for (int i = 0; i < PER_THREAD; i++) {
        void *p = (i & 1) ? kiln_malloc((size_t)(i % 512)) : kiln_calloc(1, (size_t)(i % 300));
        if (!p) {
            (*nulls)++;
            continue;
        }
        kiln_free(keep[i % 16]);
        keep[i % 16] = p;
    }
    for (int i = 0; i < 16; i++)
        kiln_free(keep[i]);
    return NULL;
}

/* Threads allocating at once: the counts add up, live bytes come back,
 * and one armed fault fails exactly one allocation among them. */
static void test_threads(void)
{
    pthread_t threads[THREADS];
    size_t nulls[THREADS] = { 0 }, total = 0;
    kiln_host_stats s0 = now(), s1;

    kiln_host_alloc_fail_at(THREADS * PER_THREAD / 2);
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_create(&threads[i], NULL, worker, &nulls[i]) == 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
    kiln_host_alloc_fail_at(0);
    for (int i = 0; i < THREADS; i++)
        total += nulls[i];
    s1 = now();
    CHECK(total == 1);
    CHECK(s1.failures == s0.failures + 1);
    CHECK(s1.allocations == s0.allocations + THREADS * PER_THREAD - 1);
    CHECK(s1.live_bytes == s0.live_bytes);
    printf("threads: %d x %d allocations, one injected failure, live bytes back to %zu\n",
           THREADS, PER_THREAD, s1.live_bytes);
}

int main(void)
{
    /* before any kiln allocation: the environment is read at the first */
    setenv("KILN_FAULT_HOST_ALLOC", "3", 1);
    test_env_fault();
    test_counting();
    test_contracts();
    test_fail_at();
    test_persist();
    test_threads();
    return test_summary("test_host_alloc");
}
