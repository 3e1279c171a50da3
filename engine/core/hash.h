/* A 128-bit non-cryptographic hash (two independent 64-bit FNV-1a lanes
 * with a final avalanche) for cache keys and file checksums. */
#ifndef KILN_HASH_H
#define KILN_HASH_H

#include <stddef.h>
#include <stdint.h>

typedef struct hash128 {
    uint64_t lo;
    uint64_t hi;
} hash128;

/* Starts a hash. */
void hash_init(hash128 *h);

/* Feeds len bytes. */
void hash_update(hash128 *h, const void *data, size_t len);

/* Feeds a NUL-terminated string and its terminator (so "ab","c" and
 * "a","bc" differ). NULL hashes as the empty string. */
void hash_update_str(hash128 *h, const char *s);

/* Finishes and writes 32 lower-case hex digits plus NUL into hex[33]. */
void hash_hex(const hash128 *h, char hex[33]);

/* Finishes into a single 64-bit value (for checksums). */
uint64_t hash_digest64(const hash128 *h);

#endif
