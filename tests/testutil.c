/* The test harness shared by every C test program. */
#include <errno.h>
#include <time.h>
#include <sys/stat.h>

#include "cl_status.h"
#include "testutil.h"

int test_failures;
int test_checks;

/* Opens the test device or exits 77 when there is none. */
kiln_device *test_device_open(size_t budget)
{
    device_info *all = NULL;
    size_t count = 0, picked[64], npicked = 0;
    kiln_device *dev = NULL;
    const char *selector = getenv("KILN_DEVICE");

    if (device_list(&all, &count) != KILN_OK || count == 0) {
        fprintf(stderr, "no OpenCL device: skipping (%s)\n", kiln_last_error());
        free(all);
        exit(77);
    }
    if (!selector || !*selector)
        selector = "auto";
    if (device_select(selector, all, count, picked, &npicked) != KILN_OK) {
        fprintf(stderr, "device selection failed: %s\n", kiln_last_error());
        free(all);
        exit(1);
    }
    if (device_open(&all[picked[0]], budget, &dev) != KILN_OK) {
        fprintf(stderr, "device_open failed: %s\n", kiln_last_error());
        free(all);
        exit(1);
    }
    free(all);
    return dev;
}

/* Closes the device; a live pool buffer is a test failure. */
void test_device_close(kiln_device *dev)
{
    kiln_status st = device_close(dev);
    test_checks++;
    if (st != KILN_OK) {
        test_failures++;
        fprintf(stderr, "device_close: %s: %s\n", kiln_status_name(st), kiln_last_error());
    }
}

/* Prints the summary line and returns the exit status. */
int test_summary(const char *name)
{
    printf("%s: %d checks, %d failed\n", name, test_checks, test_failures);
    return test_failures ? 1 : 0;
}

/* Returns (and creates) a scratch directory for the test. */
const char *test_tmpdir(const char *name)
{
    static char path[4096];
    const char *base = getenv("TEST_TMPDIR");
    if (base && *base)
        snprintf(path, sizeof(path), "%s/%s", base, name);
    else
        snprintf(path, sizeof(path), "tmp-%s", name);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "cannot create %s\n", path);
        exit(1);
    }
    return path;
}

/* Writes a text file or exits. */
void test_write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

static uint32_t test_rng_state = 0x9E3779B9u;

/* Seeds the generator (0 is replaced by a fixed non-zero seed). */
void test_rng_seed(uint32_t seed)
{
    test_rng_state = seed ? seed : 0x9E3779B9u;
}

/* Returns the next xorshift32 value. */
uint32_t test_rng_next(void)
{
    uint32_t x = test_rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    test_rng_state = x;
    return x;
}

/* Returns a uniform float in [0, 1). */
float test_rng_unit(void)
{
    return (float)(test_rng_next() >> 8) / 16777216.0f;
}

/* Returns monotonic milliseconds. */
double test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Mallocs or exits. */
void *test_xmalloc(size_t n, size_t size)
{
    void *p = malloc(n * size);
    if (!p) {
        fprintf(stderr, "out of host memory\n");
        exit(1);
    }
    return p;
}

/* Uploads planar floats into a new device image. */
kiln_status test_put_floats(kiln_device *dev, uint32_t w, uint32_t h, uint32_t c,
                            const float *data, dev_image *img)
{
    cl_int err;
    kiln_status st = dev_image_acquire(dev, w, h, c, "test.input", img);
    if (st != KILN_OK)
        return st;
    err = clEnqueueWriteBuffer(dev->queue, img->buf->mem, CL_TRUE, 0,
                               dev_image_elements(img) * sizeof(float), data, 0, NULL, NULL);
    if (err != CL_SUCCESS) {
        dev_image_release(dev, img);
        return kiln_fail_cl(err, "test: writing floats");
    }
    return KILN_OK;
}

/* Downloads a device image's planar floats. */
kiln_status test_get_floats(kiln_device *dev, const dev_image *img, float *data)
{
    cl_int err = clEnqueueReadBuffer(dev->queue, img->buf->mem, CL_TRUE, 0,
                                     dev_image_elements(img) * sizeof(float), data, 0, NULL, NULL);
    if (err != CL_SUCCESS)
        return kiln_fail_cl(err, "test: reading floats");
    return KILN_OK;
}
