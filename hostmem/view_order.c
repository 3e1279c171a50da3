/* The trainer's view order (see view_order.h): Fisher-Yates shuffles
 * drawn from xoshiro256**, seeded through splitmix64. */
#include <string.h>

#include "host_alloc.h"
#include "status.h"
#include "view_order.h"

/* One splitmix64 step: advances *x and returns the next output. */
static uint64_t splitmix64_next(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Rotates x left by k bits (0 < k < 64). */
static uint64_t rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* One xoshiro256** step: advances s and returns the next output. */
static uint64_t xoshiro_next(uint64_t s[4])
{
    uint64_t result = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

/* A uniform integer in [0, n) (n >= 1), without modulo bias: draws whose
 * value falls in the incomplete last block are rejected. */
static uint64_t xoshiro_below(uint64_t s[4], uint64_t n)
{
    uint64_t threshold = (0 - n) % n;   /* 2^64 mod n */
    uint64_t r;

    do
        r = xoshiro_next(s);
    while (r < threshold);
    return r % n;
}

/* Fills perm with 0..count-1 shuffled by Fisher-Yates, drawing from s. */
static void permutation_draw(uint32_t *perm, size_t count, uint64_t s[4])
{
    for (size_t i = 0; i < count; i++)
        perm[i] = (uint32_t)i;
    for (size_t i = count - 1; i > 0; i--) {
        size_t j = (size_t)xoshiro_below(s, (uint64_t)i + 1);
        uint32_t t = perm[i];

        perm[i] = perm[j];
        perm[j] = t;
    }
}

/* Draws the next epoch's permutation into order->next, once, keeping the
 * generator state it started from. */
static void next_epoch_draw(view_order *order)
{
    if (order->has_next)
        return;
    memcpy(order->next_rng, order->rng, sizeof(order->rng));
    permutation_draw(order->next, order->count, order->rng);
    order->has_next = 1;
}

/* Allocates both permutations, seeds the generator and draws epoch 0. */
kiln_status view_order_init(view_order *order, size_t count, uint64_t seed)
{
    uint64_t x = seed;

    if (!order)
        return kiln_fail(KILN_E_INVAL, "view_order_init: NULL order");
    memset(order, 0, sizeof(*order));
    if (count == 0 || count > UINT32_MAX)
        return kiln_fail(KILN_E_INVAL, "view_order_init: %zu views (1 to %u allowed)", count,
                         (unsigned)UINT32_MAX);
    order->current = kiln_calloc(count, sizeof(uint32_t));
    order->next = kiln_calloc(count, sizeof(uint32_t));
    if (!order->current || !order->next) {
        view_order_free(order);
        return kiln_fail(KILN_E_HOSTMEM, "view_order_init: out of memory for %zu views", count);
    }
    order->count = count;
    for (int i = 0; i < 4; i++)
        order->rng[i] = splitmix64_next(&x);
    memcpy(order->epoch_rng, order->rng, sizeof(order->rng));
    permutation_draw(order->current, count, order->rng);
    return KILN_OK;
}

/* Takes the next index; at the end of an epoch the next permutation
 * (drawn now unless a peek drew it) becomes the current one. */
size_t view_order_next(view_order *order)
{
    if (order->position == order->count) {
        uint32_t *t = order->current;

        next_epoch_draw(order);
        memcpy(order->epoch_rng, order->next_rng, sizeof(order->rng));
        order->current = order->next;
        order->next = t;
        order->has_next = 0;
        order->position = 0;
    }
    return order->current[order->position++];
}

/* Looks k places ahead: in this epoch, or in the next one (drawn early;
 * the generator advances exactly as view_order_next would advance it). */
size_t view_order_peek(view_order *order, size_t k)
{
    size_t left = order->count - order->position;

    if (k >= order->count)
        return VIEW_ORDER_NONE;
    if (k < left)
        return order->current[order->position + k];
    next_epoch_draw(order);
    return order->next[k - left];
}

/* Saves the epoch's starting generator and the position in it. */
void view_order_save(const view_order *order, view_order_state *out)
{
    memcpy(out->rng, order->epoch_rng, sizeof(out->rng));
    out->position = order->position;
}

/* Redraws the saved epoch's permutation from its starting generator. */
kiln_status view_order_restore(view_order *order, const view_order_state *state)
{
    if (!order || !state || !order->current)
        return kiln_fail(KILN_E_INVAL, "view_order_restore: no order or state");
    if (state->position > order->count)
        return kiln_fail(KILN_E_INVAL, "view_order_restore: position %llu beyond %zu views",
                         (unsigned long long)state->position, order->count);
    if ((state->rng[0] | state->rng[1] | state->rng[2] | state->rng[3]) == 0)
        return kiln_fail(KILN_E_INVAL, "view_order_restore: all-zero generator state");
    memcpy(order->epoch_rng, state->rng, sizeof(order->rng));
    memcpy(order->rng, state->rng, sizeof(order->rng));
    permutation_draw(order->current, order->count, order->rng);
    order->has_next = 0;
    order->position = (size_t)state->position;
    return KILN_OK;
}

/* Frees both permutations and zeroes the order. */
void view_order_free(view_order *order)
{
    if (!order)
        return;
    kiln_free(order->current);
    kiln_free(order->next);
    memset(order, 0, sizeof(*order));
}
