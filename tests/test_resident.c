/* Tests of the per-device resident cache (engine/core/resident.c): shared
 * by key, reference counted, LRU eviction of unheld objects when a build
 * runs out of device memory, held objects never evicted, a held object
 * named at device close. */
#include "pool.h"
#include "resident.h"
#include "testutil.h"

/* A test object: one pool buffer of `bytes`. */
typedef struct blob {
    kiln_device *dev;
    pool_buffer *buf;
} blob;

static int builds;   /* build calls, to see hits */
static int frees;    /* free calls */

/* Builds a blob of *(size_t *)user bytes from the pool. */
static kiln_status blob_build(kiln_device *dev, void *user, void **object)
{
    blob *b = calloc(1, sizeof(*b));
    kiln_status st;

    builds++;
    if (!b)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory");
    b->dev = dev;
    st = pool_acquire(dev->pool, *(size_t *)user, "test.blob", &b->buf);
    if (st != KILN_OK) {
        free(b);
        return st;
    }
    *object = b;
    return KILN_OK;
}

/* Frees a blob. */
static void blob_free(void *object)
{
    blob *b = object;
    frees++;
    pool_release(b->dev->pool, b->buf);
    free(b);
}

/* Hits share one object; a miss builds; release keeps it cached. */
static void test_sharing(void)
{
    kiln_device *dev = test_device_open(64u << 20);
    size_t bytes = 1u << 20, held = 0;
    void *a = NULL, *b = NULL, *c = NULL;

    if (!dev)
        return;
    builds = frees = 0;
    CHECK_OK(resident_acquire(dev, "blob a", blob_build, blob_free, &bytes, &a));
    CHECK_OK(resident_acquire(dev, "blob a", blob_build, blob_free, &bytes, &b));
    CHECK(a && a == b && builds == 1);
    CHECK_OK(resident_acquire(dev, "blob b", blob_build, blob_free, &bytes, &c));
    CHECK(c && c != a && builds == 2);
    CHECK(resident_count(dev, &held) == 2 && held == 2);
    resident_release(dev, a);
    resident_release(dev, b);
    resident_release(dev, c);
    CHECK(resident_count(dev, &held) == 2 && held == 0);
    /* released objects stay cached: a later acquire is a hit */
    CHECK_OK(resident_acquire(dev, "blob a", blob_build, blob_free, &bytes, &a));
    CHECK(builds == 2);
    resident_release(dev, a);
    CHECK(resident_evict_one(dev) == 1 && resident_evict_one(dev) == 1);
    CHECK(resident_evict_one(dev) == 0 && frees == 2);
    test_device_close(dev);
}

/* Under a small budget, a build that does not fit evicts unheld objects
 * least recently used first; held ones are refused eviction and the
 * build then fails cleanly with KILN_E_NOMEM. */
static void test_eviction(void)
{
    kiln_device *dev = test_device_open(3u << 20);
    size_t bytes = 1u << 20, held = 0;
    void *a = NULL, *b = NULL, *c = NULL, *d = NULL;

    if (!dev)
        return;
    builds = frees = 0;
    CHECK_OK(resident_acquire(dev, "a", blob_build, blob_free, &bytes, &a));
    CHECK_OK(resident_acquire(dev, "b", blob_build, blob_free, &bytes, &b));
    CHECK_OK(resident_acquire(dev, "c", blob_build, blob_free, &bytes, &c));
    resident_release(dev, a);          /* a: least recently used, unheld */
    resident_release(dev, c);          /* c: unheld */
    /* d needs room: a goes first (LRU), then the build fits */
    CHECK_OK(resident_acquire(dev, "d", blob_build, blob_free, &bytes, &d));
    CHECK(frees == 1);
    CHECK(resident_count(dev, &held) == 3 && held == 2);
    /* with b and d held and c unheld, a 2 MiB object evicts c and still
       does not fit: a clean KILN_E_NOMEM, nothing held is touched */
    bytes = 2u << 20;
    CHECK_STATUS(resident_acquire(dev, "big", blob_build, blob_free, &bytes, &a), KILN_E_NOMEM);
    CHECK(a == NULL);
    CHECK(resident_count(dev, &held) == 2 && held == 2);
    resident_release(dev, b);
    resident_release(dev, d);
    test_device_close(dev);
}

/* An object still held at device close is KILN_E_LEAK naming its key,
 * and everything is freed anyway. */
static void test_leak_named(void)
{
    kiln_device *dev = test_device_open(8u << 20);
    size_t bytes = 4096;
    void *a = NULL;

    if (!dev)
        return;
    frees = 0;
    CHECK_OK(resident_acquire(dev, "scene kept.ply", blob_build, blob_free, &bytes, &a));
    CHECK_STATUS(device_close(dev), KILN_E_LEAK);
    CHECK_MSG("scene kept.ply");
    CHECK(frees == 1);
}

/* Bad arguments are refused. */
static void test_bad_arguments(void)
{
    kiln_device *dev = test_device_open(8u << 20);
    size_t bytes = 4096;
    void *a = NULL;

    if (!dev)
        return;
    CHECK_STATUS(resident_acquire(dev, NULL, blob_build, blob_free, &bytes, &a), KILN_E_INVAL);
    CHECK_STATUS(resident_acquire(dev, "x", NULL, blob_free, &bytes, &a), KILN_E_INVAL);
    resident_release(dev, NULL);
    resident_release(dev, &bytes);     /* not an object of the cache: ignored */
    test_device_close(dev);
}

int main(void)
{
    test_sharing();
    test_eviction();
    test_leak_named();
    test_bad_arguments();
    return test_summary("test_resident");
}
