/* Reading and writing program cache files. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic_file.h"
#include "hash.h"
#include "host_alloc.h"
#include "program.h"
#include "program_disk.h"
#include "status.h"

static const char cache_magic[8] = { 'K', 'I', 'L', 'N', 'P', 'R', 'G', '\0' };

/* Header: magic[8], format u32, key[32], length u64, digest u64. */
#define CACHE_HEADER_BYTES (8 + 4 + 32 + 8 + 8)
#define CACHE_MAX_BINARY ((uint64_t)1 << 30)

/* Digest of a payload. */
static uint64_t payload_digest(const unsigned char *data, size_t len)
{
    hash128 h;
    hash_init(&h);
    hash_update(&h, data, len);
    return hash_digest64(&h);
}

/* Stores v little-endian into p. */
static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Reads a little-endian uint64 from p. */
static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* Loads and verifies a cache file. */
kiln_status program_disk_load(const char *path, const char *key_hex,
                              unsigned char **binary, size_t *len)
{
    unsigned char header[CACHE_HEADER_BYTES];
    unsigned char *data = NULL;
    uint64_t length, digest;
    uint32_t format = 0;
    kiln_status st;
    FILE *fp;

    *binary = NULL;
    *len = 0;
    fp = fopen(path, "rb");
    if (!fp)
        return kiln_fail(KILN_E_IO, "%s: %s", path, strerror(errno));
    if (fread(header, 1, sizeof(header), fp) != sizeof(header)) {
        st = kiln_fail(KILN_E_FORMAT, "%s: truncated cache header", path);
        goto out_close;
    }
    for (int i = 3; i >= 0; i--)
        format = (format << 8) | header[8 + i];
    length = get_u64(header + 44);
    digest = get_u64(header + 52);
    if (memcmp(header, cache_magic, sizeof(cache_magic)) != 0 || format != PROGRAM_CACHE_FORMAT ||
        memcmp(header + 12, key_hex, 32) != 0 || length == 0 || length > CACHE_MAX_BINARY) {
        st = kiln_fail(KILN_E_FORMAT, "%s: not a cache file for this key and format", path);
        goto out_close;
    }
    data = kiln_malloc((size_t)length);
    if (!data) {
        st = kiln_fail(KILN_E_HOSTMEM, "%s: out of host memory", path);
        goto out_close;
    }
    if (fread(data, 1, (size_t)length, fp) != length || fgetc(fp) != EOF) {
        st = kiln_fail(KILN_E_FORMAT, "%s: cache payload has the wrong length", path);
        goto out_free_data;
    }
    if (payload_digest(data, (size_t)length) != digest) {
        st = kiln_fail(KILN_E_FORMAT, "%s: cache payload digest mismatch", path);
        goto out_free_data;
    }
    fclose(fp);
    *binary = data;
    *len = (size_t)length;
    return KILN_OK;

out_free_data:
    kiln_free(data);
out_close:
    fclose(fp);
    return st;
}

/* Writes a cache file through a temporary name. */
kiln_status program_disk_store(const char *path, const char *key_hex,
                               const unsigned char *binary, size_t len)
{
    unsigned char header[CACHE_HEADER_BYTES];
    atomic_file af;
    kiln_status st;

    memcpy(header, cache_magic, sizeof(cache_magic));
    for (int i = 0; i < 4; i++)
        header[8 + i] = (unsigned char)((uint32_t)PROGRAM_CACHE_FORMAT >> (8 * i));
    memcpy(header + 12, key_hex, 32);
    put_u64(header + 44, len);
    put_u64(header + 52, payload_digest(binary, len));
    st = atomic_file_open(&af, path);
    if (st != KILN_OK)
        return st;
    if (fwrite(header, 1, sizeof(header), af.fp) != sizeof(header) ||
        fwrite(binary, 1, len, af.fp) != len) {
        atomic_file_abort(&af);
        return kiln_fail(KILN_E_IO, "%s: write failed: %s", path, strerror(errno));
    }
    return atomic_file_commit(&af);
}
