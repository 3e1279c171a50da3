/* The one door for host memory: every block kiln allocates for itself
 * comes from kiln_malloc, kiln_calloc, kiln_realloc or kiln_strdup and
 * goes back through kiln_free.  The door keeps the figures that
 * kiln_host_alloc_stats reports (live bytes, peak, allocations, failures)
 * and injects faults (kiln_host_alloc_fail_at, KILN_FAULT_HOST_ALLOC), so
 * that tests can fail the Nth allocation and check that kiln unwinds
 * cleanly.  The public half (the figures, the fault switch) is in kiln.h.
 *
 * Bytes are counted with malloc_usable_size, so a block carries no header:
 * a block from kiln_malloc is an ordinary malloc block.  Never mix the
 * doors, though: a kiln_ block released with free() stays counted as live,
 * and a malloc() block given to kiln_free is subtracted without having been
 * added.  Memory a library allocates and expects back through free() (or
 * its own release call) keeps that call.  Every function is thread-safe
 * (the figures are atomics). */
#ifndef KILN_HOST_ALLOC_H
#define KILN_HOST_ALLOC_H

#include <stddef.h>

#include "kiln.h"

/* Releases a block from any kiln_ allocator; NULL is a no-op. */
void kiln_free(void *p);

#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#define KILN_ALLOCATOR(...) __attribute__((malloc, malloc(kiln_free, 1), __VA_ARGS__))
#elif defined(__GNUC__)
#define KILN_ALLOCATOR(...) __attribute__((malloc, __VA_ARGS__))
#else
#define KILN_ALLOCATOR(...)
#endif

/* Allocates `size` bytes (uninitialised).  Returns NULL only on failure
 * (the system's, or an injected fault): a size of 0 gives a unique
 * pointer, as for 1 byte.  The caller reports a NULL as KILN_E_HOSTMEM. */
void *kiln_malloc(size_t size) KILN_ALLOCATOR(alloc_size(1));

/* Allocates n * size zeroed bytes; NULL when the product overflows
 * size_t (counted as a failure) or on failure. */
void *kiln_calloc(size_t n, size_t size) KILN_ALLOCATOR(alloc_size(1, 2));

/* Resizes a block (p NULL: allocates).  On failure returns NULL and leaves
 * p allocated and unchanged; a size of 0 keeps a 1-byte block.  Counts as
 * one allocation, and may be failed by fault injection like the others. */
void *kiln_realloc(void *p, size_t size) __attribute__((alloc_size(2)));

/* Copies the NUL-terminated string s (not NULL); NULL on failure. */
char *kiln_strdup(const char *s) KILN_ALLOCATOR(nonnull(1));

/* Test control, internal: with `persist` non-zero, the fault armed by
 * kiln_host_alloc_fail_at fails its allocation and every later one (on
 * every thread) until the next kiln_host_alloc_fail_at, as a system that
 * stays out of memory; 0 (the default) restores one-shot faults.  Error
 * paths that allocate while unwinding are exercised this way. */
void kiln_host_alloc_fail_persist(int persist);

#endif
