/* Shared pieces of the libFuzzer targets (see fuzz_common.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_common.h"

/* Stops the run: the harness itself cannot go on (no memory file). */
static void harness_fail(const char *what)
{
    fprintf(stderr, "fuzz harness: %s: %s\n", what, strerror(errno));
    abort();
}

const char *fuzz_memfd_path(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    size_t done = 0;

    if (fd < 0) {
        fd = memfd_create("kiln-fuzz", MFD_CLOEXEC);
        if (fd < 0)
            harness_fail("memfd_create");
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0)
        harness_fail("ftruncate");
    while (done < size) {
        ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            harness_fail("pwrite");
        done += (size_t)n;
    }
    return path;
}

void fuzz_note(const char *what, kiln_status st)
{
    static int verbose = -1;

    if (verbose < 0)
        verbose = getenv("KILN_FUZZ_VERBOSE") != NULL;
    if (verbose)
        fprintf(stderr, "%s: %s%s%s\n", what, kiln_status_name(st),
                st == KILN_OK ? "" : ": ", st == KILN_OK ? "" : kiln_last_error());
}

void fuzz_check_failed(const char *cond, const char *file, int line)
{
    fprintf(stderr, "%s:%d: contract broken: %s\n", file, line, cond);
    abort();
}

int fuzz_same_shape(const kiln_image *a, const kiln_image *b)
{
    return a->width == b->width && a->height == b->height && a->channels == b->channels &&
           a->bit_depth == b->bit_depth;
}

int fuzz_all_zero(const void *p, size_t size)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < size; i++)
        if (b[i])
            return 0;
    return 1;
}
