/* Runtime compilation with an on-disk program cache. */
#ifndef KILN_PROGRAM_H
#define KILN_PROGRAM_H

#include <stddef.h>
#include <stdint.h>
#include <CL/cl.h>

#include "kiln.h"
#include "device.h"
#include "hash.h"

/* Cache file format version: bump when the file layout or the meaning of
 * a key changes. */
#define PROGRAM_CACHE_FORMAT 1

/* Compile statistics, summed per device. */
typedef struct program_stats {
    unsigned builds;          /* programs compiled from source */
    unsigned cache_hits;      /* programs loaded from the disk cache */
    unsigned cache_rejects;   /* corrupt or stale cache files rebuilt */
    double build_ms;          /* time spent compiling from source */
    double load_ms;           /* time spent loading cached binaries */
} program_stats;

/* Returns the embedded source `name` ("image_resize.cl") and its length,
 * or NULL when no such file was embedded. */
const char *cl_source_find(const char *name, size_t *len);

/* Creates the per-device program table.  Returns KILN_OK or KILN_E_HOSTMEM. */
kiln_status program_cache_init(program_cache **out);

/* Builds (or loads from $KILN_CACHE_DIR) the program for `source` named
 * `name` with build `options` on `dev`, and returns it (owned by the
 * device's program table).  A build failure returns KILN_E_BUILD with the
 * device's build log, naming `name`. */
kiln_status program_get(kiln_device *dev, const char *name, const char *source,
                        size_t source_len, const char *options, cl_program *out);

/* program_get for a source that is embedded in the library (static and
 * never modified): the (source address, options) pair is remembered, so
 * that later calls skip hashing the source. */
kiln_status program_get_embedded(kiln_device *dev, const char *name, const char *source,
                                 size_t source_len, const char *options, cl_program *out);

/* Returns the kernel `kernel_name` of a program obtained by program_get,
 * created once and owned by the table. */
kiln_status program_kernel(kiln_device *dev, cl_program program,
                           const char *kernel_name, cl_kernel *out);

/* Adds to a cache key what identifies a device's compiler and its
 * output: name, vendor, driver, device and platform versions.  Files
 * cached per device (programs, tuning results) key on it. */
void program_hash_device(hash128 *h, const device_info *info);

/* Copies the table's compile statistics. */
void program_stats_get(const program_cache *cache, program_stats *out);

/* Releases every kernel and program of the table and frees it. */
void program_cache_free(program_cache *cache);

/* The directory programs are cached in: $KILN_CACHE_DIR, else
 * $XDG_CACHE_HOME/kiln, else $HOME/.cache/kiln.  Writes it into buf. */
void program_cache_dir(char *buf, size_t len);

#endif
