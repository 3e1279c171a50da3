/* Per-phase time sums (see phase_time.h): atomic nanosecond counters. */
#include <stdatomic.h>
#include <stdint.h>

#include "clock.h"
#include "phase_time.h"

static _Atomic uint64_t phase_ns[KILN_PHASE_COUNT];

/* Adds whole nanoseconds; negative or invalid inputs add nothing. */
void kiln_phase_add(kiln_phase p, double ms)
{
    if ((unsigned)p >= KILN_PHASE_COUNT || !(ms > 0))
        return;
    atomic_fetch_add_explicit(&phase_ns[p], (uint64_t)(ms * 1e6), memory_order_relaxed);
}

/* Adds the lap and restarts it. */
void kiln_phase_lap(kiln_phase p, double *t0)
{
    double now = kiln_clock_ms();
    kiln_phase_add(p, now - *t0);
    *t0 = now;
}

/* Reads one sum. */
double kiln_phase_ms(kiln_phase p)
{
    if ((unsigned)p >= KILN_PHASE_COUNT)
        return 0;
    return (double)atomic_load_explicit(&phase_ns[p], memory_order_relaxed) / 1e6;
}

/* Names, in enum order. */
const char *kiln_phase_name(kiln_phase p)
{
    static const char *const names[KILN_PHASE_COUNT] = {
        "device open", "model read", "model decode", "model convert", "model fold", "arena plan", "weight pack",
        "weight upload", "image read", "image write"
    };
    return (unsigned)p < KILN_PHASE_COUNT ? names[p] : "?";
}
