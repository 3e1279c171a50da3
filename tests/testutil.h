/* A small test harness: CHECK macros that count failures, and helpers to
 * open the test device and prove the pool ledger is empty at the end.
 * A test program exits 0 when every check passed, 1 otherwise, 77 to
 * skip (automake's convention). */
#ifndef KILN_TESTUTIL_H
#define KILN_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdint.h>

#include "dev_image.h"
#include "device.h"
#include "image.h"
#include "status.h"

extern int test_failures;
extern int test_checks;

#define CHECK(cond) do { \
    test_checks++; \
    if (!(cond)) { \
        test_failures++; \
        fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    } \
} while (0)

#define CHECK_OK(expr) do { \
    kiln_status check_ok_status_ = (expr); \
    test_checks++; \
    if (check_ok_status_ != KILN_OK) { \
        test_failures++; \
        fprintf(stderr, "%s:%d: %s returned %s: %s\n", __FILE__, __LINE__, #expr, \
                kiln_status_name(check_ok_status_), kiln_last_error()); \
    } \
} while (0)

#define CHECK_STATUS(expr, want) do { \
    kiln_status check_st_ = (expr); \
    test_checks++; \
    if (check_st_ != (want)) { \
        test_failures++; \
        fprintf(stderr, "%s:%d: %s returned %s, wanted %s (%s)\n", __FILE__, __LINE__, \
                #expr, kiln_status_name(check_st_), kiln_status_name(want), kiln_last_error()); \
    } \
} while (0)

/* Checks that the last error message contains `needle`. */
#define CHECK_MSG(needle) do { \
    test_checks++; \
    if (!strstr(kiln_last_error(), (needle))) { \
        test_failures++; \
        fprintf(stderr, "%s:%d: message lacks \"%s\": %s\n", __FILE__, __LINE__, \
                (needle), kiln_last_error()); \
    } \
} while (0)

/* Opens the device named by $KILN_DEVICE (default "auto") with a pool of
 * `budget` bytes (0: default).  Exits 77 (skip) when no OpenCL device
 * exists, 1 on any other failure. */
kiln_device *test_device_open(size_t budget);

/* Closes the device and counts a failure when the pool still had live
 * buffers (the ledger must be empty at the end of every test). */
void test_device_close(kiln_device *dev);

/* Writes into buf the reference data directory of `kind` ("matting",
 * "splat"): $REFDATA_DIR when set (a test run for one kind), else
 * $TOP_SRCDIR/../shared/refdata/KIND.  Returns buf, or NULL when that is
 * not a directory. */
const char *test_refdata_dir(const char *kind, char *buf, size_t len);

/* Prints "<name>: N checks, N failed" and returns the exit status. */
int test_summary(const char *name);

/* Directory for scratch files of this test (created): $TEST_TMPDIR or
 * ./tmp-<name>. */
const char *test_tmpdir(const char *name);

/* Writes `text` to `path` (exits 1 when it cannot). */
void test_write_text(const char *path, const char *text);

/* Writes an 8-bit gray or RGB host image as a JPEG with TurboJPEG's
 * tjCompress2 at `quality` (1-100); `subsamp` is a TJSAMP_ value for RGB
 * (a gray image is always TJSAMP_GRAY).  Returns 0, or -1 after printing
 * why. */
int test_write_jpeg(const char *path, const host_image *img, int quality, int subsamp);

/* A xorshift32 generator shared by the tests: seed, next value, and a
 * uniform float in [0, 1). */
void test_rng_seed(uint32_t seed);
uint32_t test_rng_next(void);
float test_rng_unit(void);

/* Monotonic time in milliseconds. */
double test_now_ms(void);

/* Mallocs n elements of `size` bytes; exits on host OOM. */
void *test_xmalloc(size_t n, size_t size);

/* Acquires a w x h x c device image (tag "test.input") and writes the
 * planar floats `data` into it; *img empty on error. */
kiln_status test_put_floats(kiln_device *dev, uint32_t w, uint32_t h, uint32_t c,
                            const float *data, dev_image *img);

/* Reads a device image's planar floats into `data`. */
kiln_status test_get_floats(kiln_device *dev, const dev_image *img, float *data);

/* Writes `len` bytes to `path`; returns 0 on success. */
int test_write_whole(const char *path, const void *data, size_t len);

/* Reads a whole file into a malloc'd buffer (*len bytes); NULL on error. */
unsigned char *test_read_whole(const char *path, size_t *len);

#endif
