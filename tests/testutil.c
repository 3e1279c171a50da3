/* The test harness shared by every C test program. */
#include <errno.h>
#include <sys/stat.h>

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
