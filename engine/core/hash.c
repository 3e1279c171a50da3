/* Two-lane FNV-1a with a splitmix64 finaliser. */
#include <stdio.h>

#include "hash.h"

#define FNV_PRIME 0x100000001b3ULL

/* The splitmix64 finaliser: spreads every input bit over the output. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* Starts both lanes from distinct offsets. */
void hash_init(hash128 *h)
{
    h->lo = 0xcbf29ce484222325ULL;
    h->hi = 0x84222325cbf29ce4ULL;
}

/* Feeds bytes into both lanes (the second sees each byte rotated). */
void hash_update(hash128 *h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h->lo = (h->lo ^ p[i]) * FNV_PRIME;
        h->hi = (h->hi ^ (uint64_t)(unsigned char)((p[i] << 3) | (p[i] >> 5))) * FNV_PRIME;
        h->hi ^= h->hi >> 29;
    }
}

/* Feeds a string with its terminator. */
void hash_update_str(hash128 *h, const char *s)
{
    const char *text = s ? s : "";
    size_t n = 0;
    while (text[n])
        n++;
    hash_update(h, text, n + 1);
}

/* Writes the finished 128-bit value as hex. */
void hash_hex(const hash128 *h, char hex[33])
{
    uint64_t a = mix64(h->lo ^ mix64(h->hi));
    uint64_t b = mix64(h->hi ^ mix64(h->lo + 0x9e3779b97f4a7c15ULL));
    snprintf(hex, 33, "%016llx%016llx", (unsigned long long)a, (unsigned long long)b);
}

/* Returns a finished 64-bit digest. */
uint64_t hash_digest64(const hash128 *h)
{
    return mix64(h->lo ^ mix64(h->hi));
}
