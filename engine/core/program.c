/* Runtime compilation: per-device program table backed by the disk cache. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dir_create.h"
#include "clock.h"
#include "cl_status.h"
#include "hash.h"
#include "host_alloc.h"
#include "cache_dir.h"
#include "program.h"
#include "program_disk.h"
#include "status.h"

#define PROGRAM_MAX_KERNELS 32
#define PROGRAM_BUILD_LOG_MAX 16384

struct cl_embedded_source { const char *name; const char *text; size_t len; };
extern const struct cl_embedded_source cl_embedded_sources[];

/* One built program and the kernels created from it. */
typedef struct program_entry {
    char key[33];
    cl_program program;
    const char *embedded;       /* the embedded source it was last found for */
    char *embedded_options;     /* and its options ("" for none) */
    size_t nkernels;
    char *kernel_names[PROGRAM_MAX_KERNELS];
    cl_kernel kernels[PROGRAM_MAX_KERNELS];
} program_entry;

struct program_cache {
    program_entry *entries;
    size_t count;
    size_t cap;
    program_stats stats;
};

/* Finds an embedded source by file name. */
const char *cl_source_find(const char *name, size_t *len)
{
    for (const struct cl_embedded_source *s = cl_embedded_sources; s->name; s++) {
        if (strcmp(s->name, name) == 0) {
            if (len)
                *len = s->len;
            return s->text;
        }
    }
    return NULL;
}

/* Creates an empty table. */
kiln_status program_cache_init(program_cache **out)
{
    *out = kiln_calloc(1, sizeof(**out));
    if (!*out)
        return kiln_fail(KILN_E_HOSTMEM, "program table: out of host memory");
    return KILN_OK;
}

/* Releases every kernel and program and frees the table. */
void program_cache_free(program_cache *cache)
{
    if (!cache)
        return;
    for (size_t i = 0; i < cache->count; i++) {
        program_entry *e = &cache->entries[i];
        for (size_t k = 0; k < e->nkernels; k++) {
            clReleaseKernel(e->kernels[k]);
            kiln_free(e->kernel_names[k]);
        }
        kiln_free(e->embedded_options);
        clReleaseProgram(e->program);
    }
    kiln_free(cache->entries);
    kiln_free(cache);
}

/* Copies the statistics. */
void program_stats_get(const program_cache *cache, program_stats *out)
{
    *out = cache->stats;
}

/* The cache directory, from the environment (kiln_cache_dir). */
void program_cache_dir(char *buf, size_t len)
{
    kiln_cache_dir(buf, len);
}

/* Hashes everything a compiled binary depends on. */
static void program_key(const kiln_device *dev, const char *source, size_t len,
                        const char *options, char key[33])
{
    hash128 h;
    char format[16];
    snprintf(format, sizeof(format), "fmt%d", PROGRAM_CACHE_FORMAT);
    hash_init(&h);
    hash_update_str(&h, format);
    hash_update(&h, source, len);
    hash_update_str(&h, options);
    program_hash_device(&h, &dev->info);
    hash_hex(&h, key);
}

/* Adds what identifies a device's compiler to a cache key. */
void program_hash_device(hash128 *h, const device_info *info)
{
    hash_update_str(h, info->name);
    hash_update_str(h, info->vendor);
    hash_update_str(h, info->driver_version);
    hash_update_str(h, info->device_version);
    hash_update_str(h, info->platform_name);
    hash_update_str(h, info->platform_version);
}

/* Sets a KILN_E_BUILD message with the device's build log. */
static kiln_status build_failure(kiln_device *dev, cl_program program, const char *name, cl_int err)
{
    char *log = kiln_malloc(PROGRAM_BUILD_LOG_MAX);
    size_t size = 0;
    kiln_status st;
    if (!log)
        return kiln_fail(KILN_E_BUILD, "building %s for %s: %s", name, dev->info.name, kiln_cl_error_name(err));
    log[0] = '\0';
    if (clGetProgramBuildInfo(program, dev->info.id, CL_PROGRAM_BUILD_LOG, PROGRAM_BUILD_LOG_MAX - 1,
                              log, &size) != CL_SUCCESS)
        snprintf(log, PROGRAM_BUILD_LOG_MAX, "(the driver gave no build log)");
    log[PROGRAM_BUILD_LOG_MAX - 1] = '\0';
    st = kiln_fail(KILN_E_BUILD, "building %s for %s failed (%s); build log (lines refer to %s):\n%s",
                   name, dev->info.name, kiln_cl_error_name(err), name, log);
    kiln_free(log);
    return st;
}

/* Compiles `source` from text; KILN_E_BUILD with the log on failure. */
static kiln_status build_from_source(kiln_device *dev, const char *name, const char *source,
                                     size_t len, const char *options, cl_program *out)
{
    cl_int err;
    cl_program program = clCreateProgramWithSource(dev->context, 1, &source, &len, &err);
    if (!program)
        return kiln_fail_cl(err, "creating a program");
    err = clBuildProgram(program, 1, &dev->info.id, options, NULL, NULL);
    if (err != CL_SUCCESS) {
        kiln_status st = build_failure(dev, program, name, err);
        clReleaseProgram(program);
        return st;
    }
    *out = program;
    return KILN_OK;
}

/* Creates a program from a cached binary; KILN_E_FORMAT when the driver
 * refuses it (the caller rebuilds from source). */
static kiln_status build_from_binary(kiln_device *dev, const unsigned char *binary, size_t len,
                                     const char *options, cl_program *out)
{
    cl_int err, binary_status = CL_SUCCESS;
    cl_program program = clCreateProgramWithBinary(dev->context, 1, &dev->info.id, &len,
                                                   &binary, &binary_status, &err);
    if (!program || binary_status != CL_SUCCESS) {
        if (program)
            clReleaseProgram(program);
        return kiln_fail(KILN_E_FORMAT, "the driver refused the cached binary");
    }
    err = clBuildProgram(program, 1, &dev->info.id, options, NULL, NULL);
    if (err != CL_SUCCESS) {
        clReleaseProgram(program);
        return kiln_fail(KILN_E_FORMAT, "the cached binary did not build");
    }
    *out = program;
    return KILN_OK;
}

/* Writes the program's device binary to the cache; failures only cost a
 * rebuild next time, so they are not errors. */
static void store_binary(kiln_device *dev, cl_program program, const char *path, const char *key)
{
    size_t size = 0;
    unsigned char *binary;
    if (clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, sizeof(size), &size, NULL) != CL_SUCCESS ||
        size == 0)
        return;
    binary = kiln_malloc(size);
    if (!binary)
        return;
    if (clGetProgramInfo(program, CL_PROGRAM_BINARIES, sizeof(binary), &binary, NULL) == CL_SUCCESS) {
        char dir[4096];
        program_cache_dir(dir, sizeof(dir));
        if (dir_create_parents(dir) != KILN_OK || program_disk_store(path, key, binary, size) != KILN_OK)
            fprintf(stderr, "kiln: warning: program cache not written: %s\n", kiln_last_error());
    }
    kiln_free(binary);
    (void)dev;
}

/* Appends an entry to the table. */
static kiln_status table_add(program_cache *cache, const char *key, cl_program program, cl_program *out)
{
    if (cache->count == cache->cap) {
        size_t cap = cache->cap ? cache->cap * 2 : 8;
        program_entry *grown = kiln_realloc(cache->entries, cap * sizeof(*grown));
        if (!grown)
            return kiln_fail(KILN_E_HOSTMEM, "program table: out of host memory");
        cache->entries = grown;
        cache->cap = cap;
    }
    program_entry *e = &cache->entries[cache->count++];
    memset(e, 0, sizeof(*e));
    memcpy(e->key, key, sizeof(e->key));
    e->program = program;
    *out = program;
    return KILN_OK;
}

/* Returns the built program for (source, options) on this device. */
kiln_status program_get(kiln_device *dev, const char *name, const char *source,
                        size_t source_len, const char *options, cl_program *out)
{
    program_cache *cache = dev->programs;
    char key[33], dir[4096], path[4200], full_options[1024];
    unsigned char *binary = NULL;
    size_t binary_len = 0;
    cl_program program = NULL;
    double start;
    kiln_status st;

    *out = NULL;
    snprintf(full_options, sizeof(full_options), "-cl-std=CL1.2 %s", options ? options : "");
    program_key(dev, source, source_len, full_options, key);
    for (size_t i = 0; i < cache->count; i++) {
        if (strcmp(cache->entries[i].key, key) == 0) {
            *out = cache->entries[i].program;
            return KILN_OK;
        }
    }
    program_cache_dir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/%s.bin", dir, key);
    start = kiln_clock_ms();
    st = program_disk_load(path, key, &binary, &binary_len);
    if (st == KILN_E_HOSTMEM)
        return st;          /* not a cache miss: a rebuild would need more memory */
    if (st == KILN_OK) {
        st = build_from_binary(dev, binary, binary_len, full_options, &program);
        kiln_free(binary);
    }
    if (st == KILN_OK) {
        cache->stats.cache_hits++;
        cache->stats.load_ms += kiln_clock_ms() - start;
    } else {
        if (st != KILN_E_IO)
            cache->stats.cache_rejects++;
        start = kiln_clock_ms();
        st = build_from_source(dev, name, source, source_len, full_options, &program);
        if (st != KILN_OK)
            return st;
        cache->stats.builds++;
        cache->stats.build_ms += kiln_clock_ms() - start;
        store_binary(dev, program, path, key);
    }
    kiln_clear_error();
    st = table_add(cache, key, program, out);
    if (st != KILN_OK)
        clReleaseProgram(program);
    return st;
}

/* program_get for an embedded source (static, never modified): the entry
 * remembers the source's address and options, so that later calls find it
 * without hashing the source (launch paths call this once per launch). */
kiln_status program_get_embedded(kiln_device *dev, const char *name, const char *source,
                                 size_t source_len, const char *options, cl_program *out)
{
    program_cache *cache = dev->programs;
    const char *opts = options ? options : "";
    kiln_status st;

    for (size_t i = 0; i < cache->count; i++) {
        const program_entry *e = &cache->entries[i];
        if (e->embedded == source && strcmp(e->embedded_options, opts) == 0) {
            *out = e->program;
            return KILN_OK;
        }
    }
    st = program_get(dev, name, source, source_len, options, out);
    if (st != KILN_OK)
        return st;
    for (size_t i = 0; i < cache->count; i++) {
        program_entry *e = &cache->entries[i];
        char *copy;
        if (e->program != *out || e->embedded)
            continue;
        copy = kiln_malloc(strlen(opts) + 1);
        if (copy) {     /* without memory the entry is just found the slow way */
            memcpy(copy, opts, strlen(opts) + 1);
            e->embedded = source;
            e->embedded_options = copy;
        }
        break;
    }
    return KILN_OK;
}

/* Returns (creating once) a kernel of a program in the table. */
kiln_status program_kernel(kiln_device *dev, cl_program program,
                           const char *kernel_name, cl_kernel *out)
{
    program_cache *cache = dev->programs;
    program_entry *e = NULL;
    cl_int err;
    char *name_copy;

    *out = NULL;
    for (size_t i = 0; i < cache->count && !e; i++)
        if (cache->entries[i].program == program)
            e = &cache->entries[i];
    if (!e)
        return kiln_fail(KILN_E_INVAL, "kernel %s: program not in this device's table", kernel_name);
    for (size_t k = 0; k < e->nkernels; k++) {
        if (strcmp(e->kernel_names[k], kernel_name) == 0) {
            *out = e->kernels[k];
            return KILN_OK;
        }
    }
    if (e->nkernels == PROGRAM_MAX_KERNELS)
        return kiln_fail(KILN_E_INVAL, "kernel %s: too many kernels in one program", kernel_name);
    name_copy = kiln_strdup(kernel_name);
    if (!name_copy)
        return kiln_fail(KILN_E_HOSTMEM, "kernel %s: out of host memory", kernel_name);
    e->kernels[e->nkernels] = clCreateKernel(program, kernel_name, &err);
    if (!e->kernels[e->nkernels]) {
        kiln_free(name_copy);
        return kiln_fail_cl(err, kernel_name);
    }
    e->kernel_names[e->nkernels] = name_copy;
    *out = e->kernels[e->nkernels++];
    return KILN_OK;
}
