/* The test harness shared by every C test program. */
#include <errno.h>
#include <time.h>
#include <sys/stat.h>
#include <turbojpeg.h>

#include "clock.h"
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

/* Compresses with tjCompress2 and writes the bytes; see testutil.h. */
int test_write_jpeg(const char *path, const host_image *img, int quality, int subsamp)
{
    tjhandle tj;
    unsigned char *jpeg = NULL;
    unsigned long size = 0;
    int gray, rc = -1;
    FILE *f;

    if (!img || !img->pixels || img->bit_depth != 8 || (img->channels != 1 && img->channels != 3)) {
        fprintf(stderr, "test_write_jpeg %s: wants an 8-bit gray or RGB image\n", path);
        return -1;
    }
    gray = img->channels == 1;
    tj = tjInitCompress();
    if (!tj) {
        fprintf(stderr, "test_write_jpeg %s: %s\n", path, tjGetErrorStr2(NULL));
        return -1;
    }
    if (tjCompress2(tj, img->pixels, (int)img->width, 0, (int)img->height,
                    gray ? TJPF_GRAY : TJPF_RGB, &jpeg, &size, gray ? TJSAMP_GRAY : subsamp,
                    quality, TJFLAG_ACCURATEDCT) != 0) {
        fprintf(stderr, "test_write_jpeg %s: %s\n", path, tjGetErrorStr2(tj));
        goto out_destroy;
    }
    f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "test_write_jpeg %s: cannot create: %s\n", path, strerror(errno));
        goto out_free_jpeg;
    }
    rc = fwrite(jpeg, 1, size, f) == size ? 0 : -1;
    if (fclose(f) != 0)
        rc = -1;
    if (rc != 0)
        fprintf(stderr, "test_write_jpeg %s: write failed\n", path);
out_free_jpeg:
    tjFree(jpeg);
out_destroy:
    tjDestroy(tj);
    return rc;
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
    return kiln_clock_ms();
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

/* Writes `len` bytes to `path`; returns 0 on success. */
int test_write_whole(const char *path, const void *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    int ok;

    if (!fp)
        return -1;
    ok = fwrite(data, 1, len, fp) == len;
    return (fclose(fp) == 0 && ok) ? 0 : -1;
}

/* Reads a whole file into a malloc'd buffer (*len bytes); NULL on error. */
unsigned char *test_read_whole(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    unsigned char *data = NULL;
    long size;

    *len = 0;
    if (!fp)
        return NULL;
    if (fseek(fp, 0, SEEK_END) == 0 && (size = ftell(fp)) > 0 && fseek(fp, 0, SEEK_SET) == 0) {
        data = malloc((size_t)size);
        if (data && fread(data, 1, (size_t)size, fp) == (size_t)size)
            *len = (size_t)size;
        else {
            free(data);
            data = NULL;
        }
    }
    fclose(fp);
    return data;
}

/* The reference data directory of a kind (see testutil.h). */
const char *test_refdata_dir(const char *kind, char *buf, size_t len)
{
    const char *env = getenv("REFDATA_DIR"), *top = getenv("TOP_SRCDIR");
    struct stat sb;

    if (env && *env)
        snprintf(buf, len, "%s", env);
    else
        snprintf(buf, len, "%s/../shared/refdata/%s", top && *top ? top : "..", kind);
    return stat(buf, &sb) == 0 && S_ISDIR(sb.st_mode) ? buf : NULL;
}
