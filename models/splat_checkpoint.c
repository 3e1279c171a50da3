/* Training checkpoints (splat_checkpoint.h): the layout is in the header;
 * the file is streamed through a 16 KiB buffer both ways, hashed as it
 * goes. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic_file.h"
#include "file_open.h"
#include "host_alloc.h"
#include "splat_checkpoint.h"
#include "status.h"

static const char ckpt_magic[8] = { 'K', 'I', 'L', 'N', 'C', 'K', 'P', '1' };

#define CKPT_HEADER_BYTES 68u
/* The header, adam_step and the trailing hash. */
#define CKPT_FIXED_BYTES (CKPT_HEADER_BYTES + 8u + 8u)
#define CKPT_CHUNK_FLOATS 4096u
#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

/* The float arrays of a checkpoint in file order, with their floats per
 * Gaussian (sh_coeffs * 3 for the SH groups). */
#define CKPT_ARRAYS 18

typedef struct ckpt_arrays {
    float *ptr[CKPT_ARRAYS];
    size_t per[CKPT_ARRAYS];
} ckpt_arrays;

/* Fills the table of c's arrays in the file's order. */
static void arrays_list(const splat_checkpoint *c, ckpt_arrays *a)
{
    const splat_scene *s = &c->scene;
    size_t sh = (size_t)s->sh_coeffs * 3;
    float *const ptr[CKPT_ARRAYS] = {
        s->means, s->rotations, s->scales, s->opacity, s->sh,
        c->m_means, c->m_scales, c->m_rotations, c->m_opacity, c->m_sh,
        c->v_means, c->v_scales, c->v_rotations, c->v_opacity, c->v_sh,
        c->grad_accum, c->denom, c->max_radius,
    };
    const size_t per[CKPT_ARRAYS] = { 3, 4, 3, 1, sh, 3, 3, 4, 1, sh, 3, 3, 4, 1, sh, 1, 1, 1 };

    memcpy(a->ptr, ptr, sizeof(ptr));
    memcpy(a->per, per, sizeof(per));
}

/* The bytes one Gaussian takes in a file whose SH has `sh_coeffs`
 * coefficients: its parameters, two moments and three statistics,
 * float32. */
static size_t gaussian_bytes(uint32_t sh_coeffs)
{
    return 4u * (3u * (11u + 3u * (size_t)sh_coeffs) + 3u);
}

/* Zeroed checkpoint arrays. */
kiln_status splat_checkpoint_alloc(splat_checkpoint *c, size_t count, uint32_t sh_degree)
{
    size_t n = count ? count : 1, sh;
    kiln_status st;

    memset(c, 0, sizeof(*c));
    st = splat_scene_alloc(&c->scene, count, sh_degree);
    if (st != KILN_OK)
        return st;
    sh = (size_t)c->scene.sh_coeffs * 3;
    c->m_means = kiln_calloc(n * 3, sizeof(float));
    c->m_scales = kiln_calloc(n * 3, sizeof(float));
    c->m_rotations = kiln_calloc(n * 4, sizeof(float));
    c->m_opacity = kiln_calloc(n, sizeof(float));
    c->m_sh = kiln_calloc(n * sh, sizeof(float));
    c->v_means = kiln_calloc(n * 3, sizeof(float));
    c->v_scales = kiln_calloc(n * 3, sizeof(float));
    c->v_rotations = kiln_calloc(n * 4, sizeof(float));
    c->v_opacity = kiln_calloc(n, sizeof(float));
    c->v_sh = kiln_calloc(n * sh, sizeof(float));
    c->grad_accum = kiln_calloc(n, sizeof(float));
    c->denom = kiln_calloc(n, sizeof(float));
    c->max_radius = kiln_calloc(n, sizeof(float));
    if (!c->m_means || !c->m_scales || !c->m_rotations || !c->m_opacity || !c->m_sh ||
        !c->v_means || !c->v_scales || !c->v_rotations || !c->v_opacity || !c->v_sh ||
        !c->grad_accum || !c->denom || !c->max_radius) {
        splat_checkpoint_free(c);
        return kiln_fail(KILN_E_HOSTMEM, "allocating a checkpoint of %zu Gaussians: out of host "
                         "memory", count);
    }
    return KILN_OK;
}

/* Frees the arrays and zeroes the struct. */
void splat_checkpoint_free(splat_checkpoint *c)
{
    splat_scene_free(&c->scene);
    kiln_free(c->m_means);
    kiln_free(c->m_scales);
    kiln_free(c->m_rotations);
    kiln_free(c->m_opacity);
    kiln_free(c->m_sh);
    kiln_free(c->v_means);
    kiln_free(c->v_scales);
    kiln_free(c->v_rotations);
    kiln_free(c->v_opacity);
    kiln_free(c->v_sh);
    kiln_free(c->grad_accum);
    kiln_free(c->denom);
    kiln_free(c->max_radius);
    memset(c, 0, sizeof(*c));
}

/* Feeds n bytes to a running 64-bit FNV-1a hash and returns it. */
static uint64_t fnv1a_update(uint64_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= FNV_PRIME;
    }
    return h;
}

/* Stores v little-endian in n bytes at p. */
static void uint_store(unsigned char *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Loads an n-byte little-endian integer from p. */
static uint64_t uint_load(const unsigned char *p, size_t n)
{
    uint64_t v = 0;

    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* A stream being written: the file and the hash of what went in. */
typedef struct ckpt_writer {
    FILE *fp;
    uint64_t hash;
} ckpt_writer;

/* Writes n bytes and hashes them (errors surface through ferror). */
static void bytes_put(ckpt_writer *w, const unsigned char *p, size_t n)
{
    w->hash = fnv1a_update(w->hash, p, n);
    fwrite(p, 1, n, w->fp);
}

/* The floats of the next chunk when n are left. */
static size_t chunk_floats(size_t n)
{
    return n < CKPT_CHUNK_FLOATS ? n : CKPT_CHUNK_FLOATS;
}

/* Writes n floats as little-endian float32, a chunk at a time. */
static void floats_put(ckpt_writer *w, const float *v, size_t n)
{
    unsigned char buf[4 * CKPT_CHUNK_FLOATS];

    while (n > 0 && !ferror(w->fp)) {
        size_t k = chunk_floats(n);

        for (size_t i = 0; i < k; i++) {
            uint32_t u;

            memcpy(&u, &v[i], sizeof(u));
            uint_store(buf + 4 * i, u, 4);
        }
        bytes_put(w, buf, 4 * k);
        v += k;
        n -= k;
    }
}

/* Writes the checkpoint (see splat_checkpoint.h). */
kiln_status splat_checkpoint_write(const char *path, const splat_checkpoint *c)
{
    unsigned char head[CKPT_HEADER_BYTES], word[8];
    const splat_scene *s;
    ckpt_arrays a;
    atomic_file af;
    ckpt_writer w;
    kiln_status st;

    if (!path || !c)
        return kiln_fail(KILN_E_INVAL, "splat_checkpoint_write: NULL path or checkpoint");
    s = &c->scene;
    if (s->sh_degree > SPLAT_SH_DEGREE_MAX ||
        s->sh_coeffs != (s->sh_degree + 1) * (s->sh_degree + 1))
        return kiln_fail(KILN_E_INVAL, "%s: scene has SH degree %u with %u coefficients", path,
                         s->sh_degree, s->sh_coeffs);
    if (c->sh_active_degree > s->sh_degree)
        return kiln_fail(KILN_E_INVAL, "%s: active SH degree %u is above the scene's %u", path,
                         c->sh_active_degree, s->sh_degree);
    arrays_list(c, &a);
    for (size_t g = 0; g < CKPT_ARRAYS; g++)
        if (!a.ptr[g] && s->count)
            return kiln_fail(KILN_E_INVAL, "%s: checkpoint array %zu is NULL", path, g);
    memcpy(head, ckpt_magic, 8);
    uint_store(head + 8, SPLAT_CHECKPOINT_VERSION, 4);
    uint_store(head + 12, c->iteration, 8);
    for (int k = 0; k < 4; k++)
        uint_store(head + 20 + 8 * k, c->rng[k], 8);
    uint_store(head + 52, c->sh_active_degree, 4);
    uint_store(head + 56, s->count, 8);
    uint_store(head + 64, s->sh_degree, 4);

    st = atomic_file_open(&af, path);
    if (st != KILN_OK)
        return st;
    w.fp = af.fp;
    w.hash = FNV_OFFSET;
    bytes_put(&w, head, sizeof(head));
    for (size_t g = 0; g < CKPT_ARRAYS; g++) {
        if (g == 5) {
            uint_store(word, c->adam_step, 8);
            bytes_put(&w, word, 8);
        }
        floats_put(&w, a.ptr[g], s->count * a.per[g]);
    }
    uint_store(word, w.hash, 8);
    fwrite(word, 1, 8, af.fp);
    return atomic_file_commit(&af);   /* reports a write error, removing the temporary */
}

/* A stream being read: the file, its name and the hash so far. */
typedef struct ckpt_reader {
    FILE *fp;
    const char *path;
    uint64_t hash;
} ckpt_reader;

/* Reads exactly n bytes (hashed when `hashed`); a short read is
 * KILN_E_IO (the size was checked, so the file changed or failed). */
static kiln_status bytes_get(ckpt_reader *r, unsigned char *p, size_t n, int hashed)
{
    if (fread(p, 1, n, r->fp) != n)
        return kiln_fail(KILN_E_IO, "%s: read failed%s%s", r->path, ferror(r->fp) ? ": " : "",
                         ferror(r->fp) ? strerror(errno) : " (the file shrank while read)");
    if (hashed)
        r->hash = fnv1a_update(r->hash, p, n);
    return KILN_OK;
}

/* Reads n little-endian float32 values into v, a chunk at a time. */
static kiln_status floats_get(ckpt_reader *r, float *v, size_t n)
{
    unsigned char buf[4 * CKPT_CHUNK_FLOATS];

    while (n > 0) {
        size_t k = chunk_floats(n);
        kiln_status st = bytes_get(r, buf, 4 * k, 1);

        if (st != KILN_OK)
            return st;
        for (size_t i = 0; i < k; i++) {
            uint32_t u = (uint32_t)uint_load(buf + 4 * i, 4);

            memcpy(&v[i], &u, sizeof(u));
        }
        v += k;
        n -= k;
    }
    return KILN_OK;
}

/* Checks the header against the file's size (see splat_checkpoint.h) and
 * fills the scalars of *c; *count and *sh_degree get the scene's shape. */
static kiln_status header_check(const unsigned char *head, size_t got, uint64_t file_size,
                                const char *path, splat_checkpoint *c, size_t *count,
                                uint32_t *sh_degree)
{
    uint32_t version, coeffs;
    uint64_t n, per;

    if (got < 8 || memcmp(head, ckpt_magic, 8) != 0)
        return kiln_fail(KILN_E_FORMAT, "%s: not a kiln checkpoint (no \"KILNCKP1\" magic)",
                         path);
    if (got < 12)
        return kiln_fail(KILN_E_FORMAT, "%s: truncated: %zu bytes, no version", path, got);
    version = (uint32_t)uint_load(head + 8, 4);
    if (version != SPLAT_CHECKPOINT_VERSION)
        return kiln_fail(KILN_E_FORMAT, "%s: checkpoint version %u is not supported (only %u)",
                         path, version, SPLAT_CHECKPOINT_VERSION);
    if (got < CKPT_HEADER_BYTES)
        return kiln_fail(KILN_E_FORMAT, "%s: truncated: %zu bytes, the header needs %u", path,
                         got, CKPT_HEADER_BYTES);
    c->iteration = uint_load(head + 12, 8);
    for (int k = 0; k < 4; k++)
        c->rng[k] = uint_load(head + 20 + 8 * k, 8);
    c->sh_active_degree = (uint32_t)uint_load(head + 52, 4);
    n = uint_load(head + 56, 8);
    *sh_degree = (uint32_t)uint_load(head + 64, 4);
    if (*sh_degree > SPLAT_SH_DEGREE_MAX)
        return kiln_fail(KILN_E_FORMAT, "%s: SH degree %u is not 0..3", path, *sh_degree);
    if (c->sh_active_degree > *sh_degree)
        return kiln_fail(KILN_E_FORMAT, "%s: active SH degree %u is above the SH degree %u",
                         path, c->sh_active_degree, *sh_degree);
    coeffs = (*sh_degree + 1) * (*sh_degree + 1);
    per = gaussian_bytes(coeffs);
    if (file_size < CKPT_FIXED_BYTES || n > (file_size - CKPT_FIXED_BYTES) / per ||
        n * per + CKPT_FIXED_BYTES != file_size) {
        if (n <= (UINT64_MAX - CKPT_FIXED_BYTES) / per)
            return kiln_fail(KILN_E_FORMAT, "%s: %llu bytes where %llu Gaussians at SH degree "
                             "%u need %llu (truncated or trailing data)", path,
                             (unsigned long long)file_size, (unsigned long long)n, *sh_degree,
                             (unsigned long long)(n * per + CKPT_FIXED_BYTES));
        return kiln_fail(KILN_E_FORMAT, "%s: %llu Gaussians is beyond the file's %llu bytes",
                         path, (unsigned long long)n, (unsigned long long)file_size);
    }
    *count = (size_t)n;
    return KILN_OK;
}

/* Reads the arrays, adam_step and the hash after the header, and checks
 * the hash. */
static kiln_status body_read(ckpt_reader *r, splat_checkpoint *c)
{
    unsigned char word[8];
    ckpt_arrays a;
    kiln_status st;
    uint64_t stored;

    arrays_list(c, &a);
    for (size_t g = 0; g < CKPT_ARRAYS; g++) {
        if (g == 5) {
            if ((st = bytes_get(r, word, 8, 1)) != KILN_OK)
                return st;
            c->adam_step = uint_load(word, 8);
        }
        if ((st = floats_get(r, a.ptr[g], c->scene.count * a.per[g])) != KILN_OK)
            return st;
    }
    if ((st = bytes_get(r, word, 8, 0)) != KILN_OK)
        return st;
    stored = uint_load(word, 8);
    if (stored != r->hash)
        return kiln_fail(KILN_E_FORMAT, "%s: checksum mismatch (stored %016llx, computed "
                         "%016llx): the file is corrupt", r->path, (unsigned long long)stored,
                         (unsigned long long)r->hash);
    return KILN_OK;
}

/* Reads a checkpoint (see splat_checkpoint.h). */
kiln_status splat_checkpoint_read(const char *path, splat_checkpoint *c)
{
    unsigned char head[CKPT_HEADER_BYTES];
    splat_checkpoint hdr;
    ckpt_reader r;
    struct stat sb;
    size_t got, count = 0;
    uint32_t sh_degree = 0;
    kiln_status st;

    if (c)
        memset(c, 0, sizeof(*c));
    if (!path || !c)
        return kiln_fail(KILN_E_INVAL, "splat_checkpoint_read: NULL path or checkpoint");
    memset(&hdr, 0, sizeof(hdr));
    st = file_open_regular(path, &r.fp);
    if (st != KILN_OK)
        return st;
    r.path = path;
    r.hash = FNV_OFFSET;
    if (fstat(fileno(r.fp), &sb) != 0) {
        st = kiln_fail(KILN_E_IO, "%s: cannot stat: %s", path, strerror(errno));
        goto out_close;
    }
    got = fread(head, 1, sizeof(head), r.fp);
    if (ferror(r.fp)) {
        st = kiln_fail(KILN_E_IO, "%s: read failed: %s", path, strerror(errno));
        goto out_close;
    }
    st = header_check(head, got, (uint64_t)sb.st_size, path, &hdr, &count, &sh_degree);
    if (st != KILN_OK)
        goto out_close;
    r.hash = fnv1a_update(r.hash, head, sizeof(head));
    st = splat_checkpoint_alloc(c, count, sh_degree);
    if (st != KILN_OK) {
        kiln_fail_context(st, "%s", path);
        goto out_close;
    }
    c->iteration = hdr.iteration;
    memcpy(c->rng, hdr.rng, sizeof(c->rng));
    c->sh_active_degree = hdr.sh_active_degree;
    st = body_read(&r, c);
    if (st != KILN_OK)
        splat_checkpoint_free(c);
out_close:
    fclose(r.fp);
    return st;
}
