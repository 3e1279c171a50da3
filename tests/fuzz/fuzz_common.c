/* Shared pieces of the libFuzzer targets (see fuzz_common.h). */
#include <errno.h>
#include <fcntl.h>
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

/* This process's memory file, created on first use. */
static int memfd_get(void)
{
    static int fd = -1;

    if (fd < 0) {
        fd = memfd_create("kiln-fuzz", MFD_CLOEXEC);
        if (fd < 0)
            harness_fail("memfd_create");
    }
    return fd;
}

const char *fuzz_memfd_path(const uint8_t *data, size_t size)
{
    static char path[64];
    int fd = memfd_get();
    size_t done = 0;

    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
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

/* The lowest free file descriptor. */
static int lowest_free_fd(void)
{
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        harness_fail("open /dev/null");
    close(fd);
    return fd;
}

int fuzz_fds_mark(void)
{
    (void)memfd_get();
    return lowest_free_fd();
}

void fuzz_fds_check(int mark)
{
    int fd = lowest_free_fd();

    if (fd > mark) {
        char link[64], target[256] = "?";
        ssize_t n;

        snprintf(link, sizeof(link), "/proc/self/fd/%d", mark);
        n = readlink(link, target, sizeof(target) - 1);
        target[n > 0 ? n : 0] = '\0';
        fprintf(stderr, "file descriptor %d (%s) was left open\n", mark, target);
    } else if (fd < mark) {
        fprintf(stderr, "file descriptor %d, open before, was closed\n", fd);
    }
    FUZZ_CHECK(fd == mark);
}
