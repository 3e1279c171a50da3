/* Point clouds: allocation and the random init (splat_point_cloud.h). */
#include <string.h>

#include "host_alloc.h"
#include "splat_point_cloud.h"
#include "status.h"

/* Allocates the zeroed arrays of a cloud. */
kiln_status splat_point_cloud_alloc(splat_point_cloud *pc, size_t count, const char *name)
{
    size_t n = count ? count : 1;

    memset(pc, 0, sizeof(*pc));
    if (n > SIZE_MAX / 3)
        return kiln_fail(KILN_E_HOSTMEM, "%s: %zu points are too many", name, count);
    pc->points = kiln_calloc(n * 3, sizeof(*pc->points));
    pc->colours = kiln_calloc(n * 3, sizeof(*pc->colours));
    if (!pc->points || !pc->colours) {
        splat_point_cloud_free(pc);
        return kiln_fail(KILN_E_HOSTMEM, "%s: out of host memory for %zu points", name, count);
    }
    pc->count = count;
    return KILN_OK;
}

/* Frees the arrays and zeroes the cloud. */
void splat_point_cloud_free(splat_point_cloud *pc)
{
    kiln_free(pc->points);
    kiln_free(pc->colours);
    memset(pc, 0, sizeof(*pc));
}

/* One splitmix64 step. */
static uint64_t splitmix64_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Draws the random cloud (see the header for the exact recipe). */
kiln_status splat_point_cloud_random(splat_point_cloud *pc, size_t count, uint64_t seed)
{
    const double side = 2.0 * SPLAT_RANDOM_HALF_SIDE;
    uint64_t state = seed;
    kiln_status st = splat_point_cloud_alloc(pc, count, "random point cloud");

    if (st != KILN_OK)
        return st;
    for (size_t i = 0; i < count; i++) {
        for (int k = 0; k < 3; k++) {
            double u = (double)(splitmix64_next(&state) >> 11) * 0x1.0p-53;

            pc->points[3 * i + k] = (float)(u * side - SPLAT_RANDOM_HALF_SIDE);
        }
        uint64_t rgb = splitmix64_next(&state);

        for (int c = 0; c < 3; c++)
            pc->colours[3 * i + c] = (uint8_t)(rgb >> (56 - 8 * c));
    }
    return KILN_OK;
}
