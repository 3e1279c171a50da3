/* Shared pieces of the libFuzzer targets (tests/fuzz/fuzz_*.c).
 *
 * The readers under test take a path, so each input is handed over
 * through a memory file (memfd) named by its /proc/self/fd path: one per
 * process, rewritten for every input, nothing on disk.  Every kiln status
 * is an acceptable outcome; what the targets check is that nothing
 * crashes, leaks, hangs or allocates without bound (ASan, UBSan and
 * libFuzzer's limits), and the documented contracts that hold whatever
 * the input (an error leaves the output zeroed or NULL, a header agrees
 * with the full decode).  A broken contract aborts, which libFuzzer
 * reports as a crash with its input. */
#ifndef KILN_FUZZ_COMMON_H
#define KILN_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "kiln.h"

/* The entry point libFuzzer calls for each input. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Replaces the contents of this process's memory file with `size` bytes
 * of `data` and returns its path ("/proc/self/fd/N", static storage). */
const char *fuzz_memfd_path(const uint8_t *data, size_t size);

/* With KILN_FUZZ_VERBOSE set in the environment, prints `what` and the
 * status with kiln_last_error() to stderr (never stdout); silent
 * otherwise, so that a run's output is libFuzzer's alone. */
void fuzz_note(const char *what, kiln_status st);

/* Whether a and b have the same width, height, channels and depth. */
int fuzz_same_shape(const kiln_image *a, const kiln_image *b);

/* File descriptors: fuzz_fds_mark at the start of an input returns the
 * lowest free descriptor (the memory file open already); fuzz_fds_check
 * at its end checks that it still is, i.e. the code under test closed
 * every descriptor it opened and none it did not. */
int fuzz_fds_mark(void);
void fuzz_fds_check(int mark);

/* Whether every byte of the struct at p (size bytes) is zero: what an
 * error leaves in an output image. */
int fuzz_all_zero(const void *p, size_t size);

/* Aborts with a message on stderr when `cond` is false: a contract of the
 * code under test does not hold for this input. */
#define FUZZ_CHECK(cond) \
    ((cond) ? (void)0 : fuzz_check_failed(#cond, __FILE__, __LINE__))
void fuzz_check_failed(const char *cond, const char *file, int line)
    __attribute__((noreturn));

#endif
