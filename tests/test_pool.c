/* Tests of the device buffer pool (engine/pool.c) and size_parse: size
 * classes, reuse, the hard cap under a long random sequence, LRU trim
 * order, KILN_E_NOMEM messages, fault injection with recovery, leak
 * reports, the ledger read from another thread.  Every test ends with an
 * empty ledger (live_objects == 0) and pool_free returning KILN_OK, except
 * the one that checks the leak report.  Opens its own OpenCL context (the
 * first device of the first platform that has one); exits 77 without. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "size_parse.h"
#include "cl_status.h"
#include "pool.h"
#include "testutil.h"

static cl_context test_context;
static cl_command_queue test_queue;
static cl_device_id test_device;

/* Opens a context and an in-order queue on the first device found, or
 * exits 77 (skip) when there is no OpenCL platform or device, 1 when one
 * exists but cannot be opened. */
static void cl_open(void)
{
    cl_platform_id platforms[16];
    cl_uint nplatforms = 0, ndevices = 0, i;
    cl_int err;

    err = clGetPlatformIDs(16, platforms, &nplatforms);
    if (err != CL_SUCCESS || nplatforms == 0) {
        fprintf(stderr, "no OpenCL platform: skipping (%s)\n", kiln_cl_error_name(err));
        exit(77);
    }
    if (nplatforms > 16)
        nplatforms = 16;
    for (i = 0; i < nplatforms && ndevices == 0; i++) {
        err = clGetDeviceIDs(platforms[i], CL_DEVICE_TYPE_ALL, 1, &test_device, &ndevices);
        if (err != CL_SUCCESS)
            ndevices = 0;
    }
    if (ndevices == 0) {
        fprintf(stderr, "no OpenCL device: skipping\n");
        exit(77);
    }
    test_context = clCreateContext(NULL, 1, &test_device, NULL, NULL, &err);
    if (err != CL_SUCCESS) {
        fprintf(stderr, "clCreateContext: %s\n", kiln_cl_error_name(err));
        exit(1);
    }
    test_queue = clCreateCommandQueueWithProperties(test_context, test_device, NULL, &err);
    if (err != CL_SUCCESS) {
        fprintf(stderr, "clCreateCommandQueueWithProperties: %s\n", kiln_cl_error_name(err));
        clReleaseContext(test_context);
        exit(1);
    }
}

/* Releases the queue and context opened by cl_open. */
static void cl_close(void)
{
    clReleaseCommandQueue(test_queue);
    clReleaseContext(test_context);
}

/* Creates a pool with `budget` on the test queue; exits 1 on failure
 * (every later check would be meaningless). */
static kiln_pool *pool_new(size_t budget)
{
    kiln_pool *pool = NULL;
    kiln_status st = pool_init(&pool, test_context, test_queue, budget);
    if (st != KILN_OK) {
        fprintf(stderr, "pool_init: %s: %s\n", kiln_status_name(st), kiln_last_error());
        exit(1);
    }
    return pool;
}

/* Checks that the pool has no live buffer and closes it cleanly. */
static void pool_finish(kiln_pool *pool)
{
    pool_ledger l;
    pool_ledger_get(pool, &l);
    CHECK(l.live_objects == 0);
    CHECK(l.live_bytes == 0);
    CHECK(l.creations - l.releases == l.cached_objects);
    CHECK_OK(pool_free(pool));
}

/* Returns the capacity the pool gives a request of `bytes` under
 * `budget`: the class capacity clamped to the budget. */
static size_t expected_capacity(size_t bytes, size_t budget)
{
    size_t cap = pool_class_capacity(bytes);
    return cap > budget ? budget : cap;
}

/* A fixed-seed xorshift64* generator. */
static uint64_t rng_next(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* Size classes: the documented table, then properties (waste bounds,
 * monotonic capacities, four classes per octave). */
static void test_size_classes(void)
{
    static const struct { size_t bytes, capacity; } table[] = {
        { 1, 256 }, { 255, 256 }, { 256, 256 }, { 257, 512 }, { 1000, 1024 },
        { 4095, 4096 }, { 4096, 4096 }, { 4097, 5120 }, { 5120, 5120 },
        { 5121, 6144 }, { 7000, 7168 }, { 8192, 8192 }, { 8193, 10240 },
        { 1048576, 1048576 }, { 1048577, 1310720 }, { 1572864, 1572864 },
    };
    size_t i, bytes, prev = 0, classes = 0;

    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        test_checks++;
        if (pool_class_capacity(table[i].bytes) != table[i].capacity) {
            test_failures++;
            fprintf(stderr, "class of %zu: %zu, wanted %zu\n", table[i].bytes,
                    pool_class_capacity(table[i].bytes), table[i].capacity);
        }
    }
    CHECK(pool_class_capacity(0) == 0);
    CHECK(pool_class_capacity(SIZE_MAX) == 0);
    CHECK(pool_class_capacity((SIZE_MAX >> 1) + 1) == (SIZE_MAX >> 1) + 1);
    CHECK(pool_class_capacity((SIZE_MAX >> 1) + 2) == 0);

    for (bytes = 1; bytes <= 300000; bytes++) {
        size_t cap = pool_class_capacity(bytes);
        int ok = cap >= bytes && cap >= prev;
        if (bytes <= 4096)
            ok = ok && cap % 256 == 0 && cap - bytes < 256;
        else
            ok = ok && (cap - bytes) * 4 <= bytes;
        if (!ok) {
            test_checks++;
            test_failures++;
            fprintf(stderr, "class of %zu: %zu breaks the size-class rules\n", bytes, cap);
            break;
        }
        if (bytes > 4096 && bytes <= 8192 && cap != prev)
            classes++;
        prev = cap;
    }
    CHECK(classes == 4);
}

/* Acquire, release and reuse: hits, misses, per-tag stats, the buffer's
 * real size and that it holds data. */
static void test_reuse(void)
{
    kiln_pool *pool = pool_new(1 << 20);
    pool_buffer *a = NULL, *b = NULL, *c = NULL;
    pool_ledger l;
    cl_mem mem_a;
    size_t real = 0;
    unsigned char in[1000], out[1000];
    size_t i;

    for (i = 0; i < sizeof(in); i++)
        in[i] = (unsigned char)(i * 7);
    CHECK_OK(pool_acquire(pool, 1000, "reuse.a", &a));
    if (!a)
        goto out_finish;
    CHECK(a->bytes == 1000 && a->capacity == 1024);
    CHECK(clGetMemObjectInfo(a->mem, CL_MEM_SIZE, sizeof(real), &real, NULL) == CL_SUCCESS);
    CHECK(real == a->capacity);
    CHECK(clEnqueueWriteBuffer(test_queue, a->mem, CL_TRUE, 0, sizeof(in), in, 0, NULL,
                               NULL) == CL_SUCCESS);
    CHECK(clEnqueueReadBuffer(test_queue, a->mem, CL_TRUE, 0, sizeof(out), out, 0, NULL,
                              NULL) == CL_SUCCESS);
    CHECK(memcmp(in, out, sizeof(in)) == 0);
    mem_a = a->mem;

    pool_ledger_get(pool, &l);
    CHECK(l.misses == 1 && l.hits == 0 && l.creations == 1);
    CHECK(l.live_objects == 1 && l.live_bytes == 1024);
    CHECK(l.ntags == 1 && strcmp(l.tags[0].tag, "reuse.a") == 0);
    CHECK(l.tags[0].live_objects == 1 && l.tags[0].live_bytes == 1024);

    pool_release(pool, a);
    pool_release(pool, NULL);
    pool_ledger_get(pool, &l);
    CHECK(l.live_objects == 0 && l.cached_objects == 1 && l.cached_bytes == 1024);
    CHECK(l.tags[0].live_objects == 0 && l.tags[0].peak_bytes == 1024);

    CHECK_OK(pool_acquire(pool, 900, "reuse.b", &b));   /* same class: a hit */
    CHECK_OK(pool_acquire(pool, 2000, "reuse.b", &c));  /* another class: a miss */
    if (b && c) {
        CHECK(b->mem == mem_a && b->bytes == 900 && b->capacity == 1024);
        CHECK(c->mem != mem_a && c->capacity == 2048);
    }
    pool_ledger_get(pool, &l);
    CHECK(l.hits == 1 && l.misses == 2 && l.creations == 2 && l.releases == 0);
    CHECK(l.cached_objects == 0 && l.live_bytes == 3072);
    CHECK(l.ntags == 2 && l.tags[1].live_objects == 2 && l.tags[1].live_bytes == 3072);
    CHECK(l.peak_bytes == 3072 && l.peak_live_bytes == 3072);
    pool_release(pool, b);
    pool_release(pool, c);

out_finish:
    pool_finish(pool);
}

/* A class capacity above the budget is clamped to it, and the clamped
 * buffer serves its whole class. */
static void test_clamp(void)
{
    kiln_pool *pool = pool_new(5000);
    pool_buffer *a = NULL, *b = NULL;
    size_t real = 0;
    cl_mem mem_a = NULL;

    CHECK_OK(pool_acquire(pool, 4097, "clamp", &a));
    if (a) {
        CHECK(a->capacity == 5000);
        CHECK(clGetMemObjectInfo(a->mem, CL_MEM_SIZE, sizeof(real), &real, NULL) ==
              CL_SUCCESS && real == 5000);
        mem_a = a->mem;
    }
    pool_release(pool, a);
    CHECK_OK(pool_acquire(pool, 4500, "clamp", &b));
    CHECK(b && b->mem == mem_a && b->capacity == 5000);
    pool_release(pool, b);
    b = NULL;
    CHECK_STATUS(pool_acquire(pool, 5001, "clamp.big", &b), KILN_E_NOMEM);
    CHECK(b == NULL);
    CHECK_MSG("clamp.big");
    CHECK_MSG("budget");
    pool_finish(pool);
}

/* Trimming releases the least recently released cached buffer first,
 * and only as many as the request needs. */
static void test_lru_trim(void)
{
    kiln_pool *pool = pool_new(4 * 4096);
    pool_buffer *buf[4] = { NULL, NULL, NULL, NULL };
    pool_buffer *big = NULL, *hit1 = NULL, *hit2 = NULL;
    cl_mem mem_a = NULL, mem_c = NULL;
    pool_ledger l;
    int i;

    for (i = 0; i < 4; i++)
        CHECK_OK(pool_acquire(pool, 4096, "lru", &buf[i]));
    if (!buf[0] || !buf[1] || !buf[2] || !buf[3])
        goto out_release;
    mem_a = buf[0]->mem;
    mem_c = buf[2]->mem;
    /* Release order B, D, A, C: B is the least recently used. */
    pool_release(pool, buf[1]);
    pool_release(pool, buf[3]);
    pool_release(pool, buf[0]);
    pool_release(pool, buf[2]);
    memset(buf, 0, sizeof(buf));
    pool_ledger_get(pool, &l);
    CHECK(l.cached_objects == 4 && l.cached_bytes == 16384 && l.trims == 0);

    /* 5120 more bytes: B and D must go, A and C stay. */
    CHECK_OK(pool_acquire(pool, 5000, "lru.big", &big));
    pool_ledger_get(pool, &l);
    CHECK(l.trims == 2 && l.releases == 2);
    CHECK(l.cached_objects == 2 && l.cached_bytes == 8192);
    CHECK(l.live_bytes + l.cached_bytes <= l.budget);

    /* The survivors are hits, most recently released first: C, then A. */
    CHECK_OK(pool_acquire(pool, 4096, "lru", &hit1));
    CHECK_OK(pool_acquire(pool, 4000, "lru", &hit2));
    CHECK(hit1 && hit1->mem == mem_c);
    CHECK(hit2 && hit2->mem == mem_a);
    pool_ledger_get(pool, &l);
    CHECK(l.hits == 2 && l.cached_objects == 0);

out_release:
    for (i = 0; i < 4; i++)
        pool_release(pool, buf[i]);
    pool_release(pool, big);
    pool_release(pool, hit1);
    pool_release(pool, hit2);
    pool_finish(pool);
}

/* KILN_E_NOMEM: a request alone above the budget, a request that does not
 * fit beside the live bytes (the cache is then left alone), a request
 * above the device's maximum allocation; plus KILN_E_INVAL cases. */
static void test_nomem(void)
{
    kiln_pool *pool = pool_new(1 << 20);
    pool_buffer *hold = NULL, *small = NULL, *none = NULL;
    pool_ledger before, after;
    cl_ulong max_alloc = 0;

    CHECK_STATUS(pool_acquire(pool, 2 << 20, "huge.tensor", &none), KILN_E_NOMEM);
    CHECK(none == NULL);
    CHECK_MSG("2097152 bytes");
    CHECK_MSG("\"huge.tensor\"");
    CHECK_MSG("budget of 1.0 MiB");
    CHECK_MSG("ledger: live 0");
    CHECK_MSG("failures 0");   /* the ledger as it was when the message was made */

    CHECK_OK(pool_acquire(pool, 600 << 10, "hold.me", &hold));
    CHECK_OK(pool_acquire(pool, 100 << 10, "small", &small));
    pool_release(pool, small);
    pool_ledger_get(pool, &before);
    CHECK_STATUS(pool_acquire(pool, 600 << 10, "second", &none), KILN_E_NOMEM);
    CHECK_MSG("\"second\"");
    CHECK_MSG("614400 bytes");
    CHECK_MSG("hold.me x1");
    CHECK_MSG("cached 1");
    pool_ledger_get(pool, &after);
    CHECK(after.failures == before.failures + 1);
    CHECK(after.trims == before.trims && after.cached_objects == 1);

    CHECK_STATUS(pool_acquire(pool, 0, "zero", &none), KILN_E_INVAL);
    CHECK_STATUS(pool_acquire(NULL, 16, "x", &none), KILN_E_INVAL);
    CHECK_STATUS(pool_acquire(pool, 16, "x", NULL), KILN_E_INVAL);
    pool_release(pool, hold);
    pool_finish(pool);

    /* Above the device's maximum allocation, with a budget that allows it:
     * refused before any creation. */
    CHECK(clGetDeviceInfo(test_device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof(max_alloc),
                          &max_alloc, NULL) == CL_SUCCESS);
    if (max_alloc > 0 && max_alloc < (cl_ulong)(SIZE_MAX / 4)) {
        pool = pool_new((size_t)max_alloc * 2);
        CHECK_STATUS(pool_acquire(pool, (size_t)max_alloc + 1, "too.wide", &none),
                     KILN_E_NOMEM);
        CHECK_MSG("maximum allocation");
        CHECK_MSG("too.wide");
        pool_ledger_get(pool, &after);
        CHECK(after.creations == 0 && after.failures == 1);
        pool_finish(pool);
    }
}

/* 20000 fixed-seed random acquires and releases under a 1 MiB cap: after
 * every operation live + cached <= budget, live bytes equal what the test
 * holds, and a refusal happens only when the request cannot fit beside
 * the live bytes. */
static void test_random_cap(void)
{
    enum { HOLD_MAX = 48, OPS = 20000 };
    const size_t budget = 1 << 20;
    kiln_pool *pool = pool_new(budget);
    pool_buffer *held[HOLD_MAX];
    size_t nheld = 0, held_bytes = 0, refused = 0, acquires = 0, i;
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    pool_ledger l;
    int op, bad = 0;

    for (op = 0; op < OPS && !bad; op++) {
        uint64_t r = rng_next(&seed);
        if (nheld < HOLD_MAX && (nheld == 0 || r % 100 < 55)) {
            size_t bytes = 1 + (size_t)(rng_next(&seed) % ((uint64_t)1 << ((r >> 8) % 19)));
            size_t cap = expected_capacity(bytes, budget);
            pool_buffer *buf = NULL;
            kiln_status st = pool_acquire(pool, bytes, (r >> 20) % 2 ? "rand.a" : "rand.b",
                                          &buf);
            acquires++;
            if (st == KILN_OK) {
                if (buf->capacity != cap || buf->bytes != bytes) {
                    fprintf(stderr, "op %d: capacity %zu for %zu bytes\n", op, buf->capacity,
                            bytes);
                    bad = 1;
                }
                held[nheld++] = buf;
                held_bytes += buf->capacity;
            } else {
                refused++;
                if (st != KILN_E_NOMEM || held_bytes + cap <= budget ||
                    !strstr(kiln_last_error(), "budget")) {
                    fprintf(stderr, "op %d: unexpected %s holding %zu for %zu: %s\n", op,
                            kiln_status_name(st), held_bytes, bytes, kiln_last_error());
                    bad = 1;
                }
            }
        } else {
            size_t k = (size_t)(rng_next(&seed) % nheld);
            held_bytes -= held[k]->capacity;
            pool_release(pool, held[k]);
            held[k] = held[--nheld];
        }
        pool_ledger_get(pool, &l);
        if (l.live_bytes + l.cached_bytes > budget || l.peak_bytes > budget ||
            l.live_bytes != held_bytes || l.live_objects != nheld ||
            l.creations - l.releases != l.live_objects + l.cached_objects) {
            fprintf(stderr, "op %d: ledger live %zu/%zu cached %zu peak %zu,"
                    " test holds %zu/%zu\n", op, l.live_objects, l.live_bytes,
                    l.cached_bytes, l.peak_bytes, nheld, held_bytes);
            bad = 1;
        }
    }
    CHECK(!bad);
    for (i = 0; i < nheld; i++)
        pool_release(pool, held[i]);
    pool_ledger_get(pool, &l);
    CHECK(l.hits + l.misses == acquires);
    CHECK(l.failures == refused);
    CHECK(l.hits > 0 && l.trims > 0 && refused > 0);   /* every path was taken */
    CHECK(l.peak_bytes <= budget);
    printf("random: %zu acquires, %llu hits, %llu creations, %llu trims, %zu refused\n",
           acquires, (unsigned long long)l.hits, (unsigned long long)l.creations,
           (unsigned long long)l.trims, refused);
    pool_finish(pool);
}

/* One step of the fault-injection script: acquire into a slot, or
 * release a slot. */
typedef struct script_step {
    int acquire;
    int slot;
    size_t bytes;
    const char *tag;
} script_step;

static const script_step script[] = {
    { 1, 0, 10000, "fi.a" },   /* creation 1 */
    { 1, 1, 3000, "fi.b" },    /* creation 2 */
    { 0, 0, 0, NULL },
    { 1, 2, 20000, "fi.c" },   /* creation 3 */
    { 1, 3, 9000, "fi.d" },    /* hit (fi.a's class) */
    { 1, 4, 50000, "fi.e" },   /* creation 4 */
    { 0, 1, 0, NULL },
    { 1, 5, 100, "fi.f" },     /* creation 5 */
    { 1, 6, 2900, "fi.g" },    /* hit (fi.b's class) */
};
enum { SCRIPT_SLOTS = 7, SCRIPT_CREATIONS = 5 };

/* Runs the script, unwinding on the first error as a caller would: every
 * held buffer is released.  Returns the first error (its message kept)
 * and the failing step's tag in *failed_tag, or KILN_OK. */
static kiln_status script_run(kiln_pool *pool, const char **failed_tag)
{
    pool_buffer *slots[SCRIPT_SLOTS] = { NULL };
    kiln_status st = KILN_OK;
    size_t i;

    *failed_tag = NULL;
    for (i = 0; i < sizeof(script) / sizeof(script[0]) && st == KILN_OK; i++) {
        const script_step *s = &script[i];
        if (s->acquire) {
            st = pool_acquire(pool, s->bytes, s->tag, &slots[s->slot]);
            if (st != KILN_OK)
                *failed_tag = s->tag;
        } else {
            pool_release(pool, slots[s->slot]);
            slots[s->slot] = NULL;
        }
    }
    for (i = 0; i < SCRIPT_SLOTS; i++)
        pool_release(pool, slots[i]);
    return st;
}

/* Fault injection: for every N, pool_fail_nth_creation(N) fails the Nth
 * creation and its retry (a clean KILN_E_NOMEM naming the step's tag,
 * nothing live after the unwind), as does pool_fail_creations(N, 2);
 * pool_fail_creations(N, 1) fails the attempt alone (the retry recovers);
 * persistent failure; the environment variable. */
static void test_fault_injection(void)
{
    static const char *const creation_tags[SCRIPT_CREATIONS] = {
        "fi.a", "fi.b", "fi.c", "fi.e", "fi.f"
    };
    const char *failed_tag = NULL;
    kiln_pool *pool;
    pool_ledger l;
    uint64_t n;

    /* The clean run makes SCRIPT_CREATIONS creations. */
    pool = pool_new(1 << 20);
    CHECK_OK(script_run(pool, &failed_tag));
    pool_ledger_get(pool, &l);
    CHECK(l.creations == SCRIPT_CREATIONS && l.hits == 2 && l.retries == 0);
    pool_finish(pool);

    for (n = 1; n <= 2 * (SCRIPT_CREATIONS + 2); n++) {
        uint64_t nth = (n + 1) / 2;
        kiln_status st;

        /* The Nth attempt and its retry fail: the acquire fails.  Odd n
         * through pool_fail_nth_creation, even n through
         * pool_fail_creations(nth, 2): the same thing. */
        pool = pool_new(1 << 20);
        if (n % 2)
            pool_fail_nth_creation(pool, nth);
        else
            pool_fail_creations(pool, nth, 2);
        st = script_run(pool, &failed_tag);
        pool_ledger_get(pool, &l);
        if (nth <= SCRIPT_CREATIONS) {
            CHECK(st == KILN_E_NOMEM);
            CHECK(failed_tag && strcmp(failed_tag, creation_tags[nth - 1]) == 0);
            CHECK_MSG(creation_tags[nth - 1]);
            CHECK_MSG("CL_MEM_OBJECT_ALLOCATION_FAILURE");
            CHECK_MSG("injected");
            CHECK_MSG("ledger: ");
            CHECK(l.retries == 1 && l.failures == 1 && l.creations == nth - 1);
        } else {
            CHECK(st == KILN_OK);
            CHECK(l.retries == 0 && l.failures == 0 && l.creations == SCRIPT_CREATIONS);
        }
        pool_finish(pool);

        /* The Nth attempt alone fails: the retry after freeing the cache
         * recovers and the script completes. */
        pool = pool_new(1 << 20);
        pool_fail_creations(pool, nth, 1);
        CHECK_OK(script_run(pool, &failed_tag));
        pool_ledger_get(pool, &l);
        CHECK(l.failures == 0);
        CHECK(l.retries == (nth <= SCRIPT_CREATIONS ? 1u : 0u));
        pool_finish(pool);
    }

    /* Every attempt from the first fails: the first step fails. */
    pool = pool_new(1 << 20);
    pool_fail_creations(pool, 1, UINT64_MAX);
    CHECK_STATUS(script_run(pool, &failed_tag), KILN_E_NOMEM);
    CHECK(failed_tag && strcmp(failed_tag, "fi.a") == 0);
    pool_fail_creations(pool, 0, 0);   /* off again */
    CHECK_OK(script_run(pool, &failed_tag));
    pool_finish(pool);

    /* The retry frees the cache: a cached buffer is trimmed. */
    pool = pool_new(1 << 20);
    {
        pool_buffer *a = NULL, *b = NULL;
        CHECK_OK(pool_acquire(pool, 1000, "fi.cached", &a));
        pool_release(pool, a);
        pool_fail_creations(pool, 1, 1);
        CHECK_OK(pool_acquire(pool, 50000, "fi.retry", &b));
        pool_ledger_get(pool, &l);
        CHECK(l.retries == 1 && l.trims == 1 && l.cached_objects == 0);
        pool_release(pool, b);
    }
    pool_finish(pool);

    /* KILN_FAULT_POOL_CREATE="3" and "3,2": fi.c's creation and its
     * retry fail. */
    {
        static const char *const specs[] = { "3", "3,2" };
        size_t i;
        for (i = 0; i < 2; i++) {
            setenv("KILN_FAULT_POOL_CREATE", specs[i], 1);
            pool = pool_new(1 << 20);
            unsetenv("KILN_FAULT_POOL_CREATE");
            CHECK_STATUS(script_run(pool, &failed_tag), KILN_E_NOMEM);
            CHECK(failed_tag && strcmp(failed_tag, "fi.c") == 0);
            CHECK_MSG("\"fi.c\"");
            pool_ledger_get(pool, &l);
            CHECK(l.retries == 1 && l.failures == 1);
            pool_finish(pool);
        }
    }

    /* KILN_FAULT_POOL_CREATE="1,1": one failure, absorbed by the retry. */
    setenv("KILN_FAULT_POOL_CREATE", "1,1", 1);
    pool = pool_new(1 << 20);
    unsetenv("KILN_FAULT_POOL_CREATE");
    CHECK_OK(script_run(pool, &failed_tag));
    pool_ledger_get(pool, &l);
    CHECK(l.retries == 1 && l.failures == 0);
    pool_finish(pool);

    /* Malformed values are refused by pool_init. */
    {
        static const char *const bad[] = {
            "x", "3,", ",2", "3,2,1", "-1", "1 ", "99999999999999999999"
        };
        size_t i;
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            kiln_pool *none = NULL;
            setenv("KILN_FAULT_POOL_CREATE", bad[i], 1);
            CHECK_STATUS(pool_init(&none, test_context, test_queue, 1 << 20), KILN_E_CONFIG);
            CHECK_MSG("KILN_FAULT_POOL_CREATE");
            CHECK(none == NULL);
        }
        setenv("KILN_FAULT_POOL_CREATE", "", 1);
        pool = pool_new(1 << 20);
        unsetenv("KILN_FAULT_POOL_CREATE");
        CHECK_OK(script_run(pool, &failed_tag));
        pool_finish(pool);
    }
}

/* pool_free with live buffers: KILN_E_LEAK naming each live tag, and the
 * buffers are released anyway (valgrind/ASan prove the host side). */
static void test_leak_report(void)
{
    kiln_pool *pool = pool_new(1 << 20);
    pool_buffer *a = NULL, *b = NULL, *c = NULL, *d = NULL;

    CHECK_OK(pool_acquire(pool, 1000, "leaky.tag", &a));
    CHECK_OK(pool_acquire(pool, 3000, "leaky.tag", &b));
    CHECK_OK(pool_acquire(pool, 5000, "other.tag", &c));
    CHECK_OK(pool_acquire(pool, 200, "returned", &d));
    pool_release(pool, d);
    CHECK_STATUS(pool_free(pool), KILN_E_LEAK);
    CHECK_MSG("pool closed with 3 live buffers: ");
    CHECK_MSG("leaky.tag x2 (4096 bytes)");
    CHECK_MSG("other.tag x1 (5120 bytes)");
    CHECK(!strstr(kiln_last_error(), "returned"));
    CHECK_STATUS(pool_free(NULL), KILN_OK);
}

/* Tags: NULL is "untagged", long tags are truncated, tags past the table
 * are accounted under "other". */
static void test_tags(void)
{
    enum { NTAGS = POOL_TAG_MAX + 8 };
    kiln_pool *pool = pool_new(1 << 20);
    pool_buffer *bufs[NTAGS + 2];
    char name[64], long_tag[128];
    pool_ledger l;
    size_t i;

    memset(bufs, 0, sizeof(bufs));
    memset(long_tag, 'x', sizeof(long_tag) - 1);
    long_tag[sizeof(long_tag) - 1] = '\0';
    CHECK_OK(pool_acquire(pool, 100, NULL, &bufs[0]));
    CHECK_OK(pool_acquire(pool, 100, long_tag, &bufs[1]));
    for (i = 2; i < NTAGS + 2; i++) {
        snprintf(name, sizeof(name), "tag.%02zu", i);
        CHECK_OK(pool_acquire(pool, 100, name, &bufs[i]));
    }
    pool_ledger_get(pool, &l);
    CHECK(strcmp(l.tags[0].tag, "untagged") == 0);
    CHECK(strlen(l.tags[1].tag) == POOL_TAG_LEN - 1);
    CHECK(strncmp(l.tags[1].tag, long_tag, POOL_TAG_LEN - 1) == 0);
    CHECK(l.ntags == POOL_TAG_MAX);
    CHECK(strcmp(l.tags[POOL_TAG_MAX - 1].tag, "other") == 0);
    CHECK(l.tags[POOL_TAG_MAX - 1].live_objects == NTAGS + 2 - (POOL_TAG_MAX - 1));
    CHECK(l.live_objects == NTAGS + 2);
    for (i = 0; i < NTAGS + 2; i++)
        pool_release(pool, bufs[i]);
    pool_finish(pool);
}

/* The one-line ledger: live tags first, truncation keeps it terminated. */
static void test_ledger_format(void)
{
    kiln_pool *pool = pool_new(1 << 20);
    pool_buffer *a = NULL;
    pool_ledger l;
    char text[1024], tiny[16];
    const char *want = "live 1 (3.0 KiB) [fmt.tag x1 (3.0 KiB)]; cached 0 (0 B)";

    CHECK_OK(pool_acquire(pool, 3 << 10, "fmt.tag", &a));
    pool_ledger_get(pool, &l);
    pool_ledger_format(&l, text, sizeof(text));
    CHECK(strncmp(text, want, strlen(want)) == 0);
    CHECK(strstr(text, "budget 1.0 MiB") != NULL);
    CHECK(strstr(text, "misses 1") != NULL);
    pool_ledger_format(&l, tiny, sizeof(tiny));
    CHECK(strlen(tiny) == sizeof(tiny) - 1);
    pool_ledger_format(NULL, tiny, sizeof(tiny));
    CHECK(tiny[0] == '\0');
    pool_ledger_format(&l, text, 0);
    pool_release(pool, a);
    pool_finish(pool);
}

/* Arguments pool_init refuses. */
static void test_init_args(void)
{
    kiln_pool *pool = NULL;
    CHECK_STATUS(pool_init(&pool, test_context, test_queue, 0), KILN_E_INVAL);
    CHECK(pool == NULL);
    CHECK_STATUS(pool_init(&pool, NULL, test_queue, 1024), KILN_E_INVAL);
    CHECK_STATUS(pool_init(&pool, test_context, NULL, 1024), KILN_E_INVAL);
    CHECK_STATUS(pool_init(NULL, test_context, test_queue, 1024), KILN_E_INVAL);
}

typedef struct reader_state {
    kiln_pool *pool;
    atomic_int stop;
    long reads;
    long violations;
} reader_state;

/* Reads the ledger in a loop until told to stop, counting reads that
 * break live + cached <= budget. */
static void *reader_main(void *arg)
{
    reader_state *rs = arg;
    pool_ledger l;
    while (!atomic_load(&rs->stop)) {
        pool_ledger_get(rs->pool, &l);
        if (l.live_bytes + l.cached_bytes > l.budget)
            rs->violations++;
        rs->reads++;
    }
    return NULL;
}

/* The ledger read from another thread while this one works the pool. */
static void test_threaded_ledger(void)
{
    enum { HOLD = 16 };
    reader_state rs;
    pthread_t reader;
    pool_buffer *held[HOLD];
    uint64_t seed = 42;
    size_t nheld = 0, i;
    int op;

    memset(held, 0, sizeof(held));
    rs.pool = pool_new(256 << 10);
    atomic_init(&rs.stop, 0);
    rs.reads = 0;
    rs.violations = 0;
    if (pthread_create(&reader, NULL, reader_main, &rs) != 0) {
        test_checks++;
        test_failures++;
        fprintf(stderr, "pthread_create failed\n");
        pool_finish(rs.pool);
        return;
    }
    for (op = 0; op < 3000; op++) {
        uint64_t r = rng_next(&seed);
        if (nheld < HOLD && r % 2) {
            if (pool_acquire(rs.pool, 1 + (size_t)(r >> 16) % (64 << 10), "thread",
                             &held[nheld]) == KILN_OK)
                nheld++;
        } else if (nheld > 0) {
            pool_release(rs.pool, held[--nheld]);
        }
    }
    atomic_store(&rs.stop, 1);
    pthread_join(reader, NULL);
    for (i = 0; i < nheld; i++)
        pool_release(rs.pool, held[i]);
    CHECK(rs.violations == 0);
    CHECK(rs.reads > 0);
    pool_finish(rs.pool);
}

/* size_parse: accepted spellings and values, and what it refuses. */
static void test_size_parse(void)
{
    static const struct { const char *text; uint64_t value; } good[] = {
        { "0", 0 }, { "512", 512 }, { "4K", 4096 }, { "4k", 4096 }, { "4KB", 4096 },
        { "4kib", 4096 }, { "4 KiB", 4096 }, { " 16M ", 16ULL << 20 }, { "16mb", 16ULL << 20 },
        { "2G", 2ULL << 30 }, { "2GiB", 2ULL << 30 }, { "1T", 1ULL << 40 },
        { "3tib", 3ULL << 40 }, { "100b", 100 }, { "\t7B\n", 7 }, { "007", 7 },
        { "18446744073709551615", UINT64_MAX },
        { "17179869183G", 17179869183ULL << 30 },
    };
    static const char *const bad[] = {
        "", "   ", "-1", "+1", "1.5G", "G", "12Q", "12KK", "1 2", "0x10", "4KiBs",
        "4 K B", "18446744073709551616", "17179869184G", "16777216T", "1e3", "5 iB",
    };
    uint64_t value;
    size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        value = 1234;
        test_checks++;
        if (size_parse(good[i].text, &value) != 0 || value != good[i].value) {
            test_failures++;
            fprintf(stderr, "size_parse(\"%s\") gave %llu, wanted %llu\n", good[i].text,
                    (unsigned long long)value, (unsigned long long)good[i].value);
        }
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        value = 1234;
        test_checks++;
        if (size_parse(bad[i], &value) != -1 || value != 1234) {
            test_failures++;
            fprintf(stderr, "size_parse(\"%s\") was accepted (%llu)\n", bad[i],
                    (unsigned long long)value);
        }
    }
    CHECK(size_parse(NULL, &value) == -1);
    CHECK(size_parse("1", NULL) == -1);
}

/* Runs every test; exit 0 when all checks passed, 77 without OpenCL. */
int main(void)
{
    test_size_classes();
    test_size_parse();
    unsetenv("KILN_FAULT_POOL_CREATE");
    cl_open();
    test_init_args();
    test_reuse();
    test_clamp();
    test_lru_trim();
    test_nomem();
    test_random_cap();
    test_fault_injection();
    test_leak_report();
    test_tags();
    test_ledger_format();
    test_threaded_ledger();
    cl_close();
    return test_summary("test_pool");
}
