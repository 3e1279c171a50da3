/* The cache of model file MD5s (see model_md5_cache.h). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <nettle/md5.h>

#include "atomic_file.h"
#include "cache_dir.h"
#include "dir_create.h"
#include "file_open.h"
#include "host_alloc.h"
#include "model_md5_cache.h"
#include "status.h"

#define MD5_CACHE_VERSION "kiln model-md5 1"

/* Writes 2 * n lower-case hex digits of bytes and a NUL into out. */
static void hex_of(const unsigned char *bytes, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[bytes[i] >> 4];
        out[2 * i + 1] = hex[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

/* The cache file of this version of `file` into path; 0 when the file
 * cannot be examined (the caller then hashes it uncached). */
static int entry_path(const char *file, char *path, size_t len)
{
    char abs[PATH_MAX], id[PATH_MAX + 160], dir[4096];
    unsigned char digest[MD5_DIGEST_SIZE];
    char key[2 * MD5_DIGEST_SIZE + 1];
    struct md5_ctx ctx;
    struct stat sb;
    int n;

    if (stat(file, &sb) != 0 || !S_ISREG(sb.st_mode))
        return 0;
    if (!realpath(file, abs))
        return 0;
    n = snprintf(id, sizeof(id), "%s\n%s\n%lld %lld.%09ld %llu %llu", MD5_CACHE_VERSION, abs,
                 (long long)sb.st_size, (long long)sb.st_mtim.tv_sec, (long)sb.st_mtim.tv_nsec,
                 (unsigned long long)sb.st_ino, (unsigned long long)sb.st_dev);
    if (n < 0 || (size_t)n >= sizeof(id))
        return 0;
    md5_init(&ctx);
    md5_update(&ctx, (size_t)n, (const uint8_t *)id);
    md5_digest(&ctx, sizeof(digest), digest);
    hex_of(digest, sizeof(digest), key);
    kiln_cache_dir(dir, sizeof(dir));
    n = snprintf(path, len, "%s/model-md5-%s.txt", dir, key);
    return n > 0 && (size_t)n < len;
}

/* Reads an entry: 1 and text set when it holds 32 hex digits (and a
 * newline), else 0. */
static int entry_read(const char *path, char text[33])
{
    char buf[40];
    size_t n;
    FILE *fp = fopen(path, "rb");

    if (!fp)
        return 0;
    n = fread(buf, 1, sizeof(buf), fp);
    fclose(fp);
    if (n != 33 || buf[32] != '\n' || strspn(buf, "0123456789abcdef") != 32)
        return 0;
    memcpy(text, buf, 32);
    text[32] = '\0';
    return 1;
}

/* Writes an entry (best effort: failures are ignored). */
static void entry_write(const char *path, const char *text)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    atomic_file af;

    if (slash && (size_t)(slash - path) < sizeof(dir)) {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
        if (dir_create_parents(dir) != KILN_OK)
            return;
    }
    if (atomic_file_open(&af, path) != KILN_OK)
        return;
    if (fprintf(af.fp, "%s\n", text) != 33) {
        atomic_file_abort(&af);
        return;
    }
    (void)atomic_file_commit(&af);
}

/* The MD5 of a file in hex (see model_md5_cache.h). */
kiln_status model_file_md5(const char *file, char text[33])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char digest[MD5_DIGEST_SIZE];
    struct md5_ctx ctx;
    unsigned char *buf;
    size_t n;
    FILE *fp;
    kiln_status st;

    text[0] = '\0';
    st = file_open_regular(file, &fp);
    if (st != KILN_OK)
        return kiln_fail_context(st, "model file");
    buf = kiln_malloc(1u << 20);
    if (!buf) {
        fclose(fp);
        return kiln_fail(KILN_E_HOSTMEM, "model file %s: out of host memory for hashing", file);
    }
    md5_init(&ctx);
    while ((n = fread(buf, 1, 1u << 20, fp)) > 0)
        md5_update(&ctx, n, buf);
    st = ferror(fp) ? kiln_fail(KILN_E_IO, "model file %s: read error", file) : KILN_OK;
    kiln_free(buf);
    fclose(fp);
    if (st != KILN_OK)
        return st;
    md5_digest(&ctx, sizeof(digest), digest);
    for (size_t i = 0; i < sizeof(digest); i++) {
        text[2 * i] = hex[digest[i] >> 4];
        text[2 * i + 1] = hex[digest[i] & 15];
    }
    text[2 * MD5_DIGEST_SIZE] = '\0';
    return KILN_OK;
}

/* Looks the file up; on a miss hashes it and records the digest. */
kiln_status model_file_md5_cached(const char *file, char text[33])
{
    char path[4300];
    int cached = entry_path(file, path, sizeof(path));
    kiln_status st;

    if (cached && entry_read(path, text))
        return KILN_OK;
    st = model_file_md5(file, text);
    if (st == KILN_OK && cached)
        entry_write(path, text);
    return st;
}

/* Reads the cached digest of this version of the file, if any. */
int model_file_md5_lookup(const char *file, char text[33])
{
    char path[4300];

    return entry_path(file, path, sizeof(path)) && entry_read(path, text);
}

/* Writes the cache entry of this version of the file. */
void model_file_md5_remember(const char *file, const char *text)
{
    char path[4300];

    if (strlen(text) == 32 && strspn(text, "0123456789abcdef") == 32 &&
        entry_path(file, path, sizeof(path)))
        entry_write(path, text);
}
