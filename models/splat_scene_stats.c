/* Summary figures of a host scene (splat_scene.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host_alloc.h"
#include "splat_scene.h"
#include "status.h"

/* Orders doubles ascending, NaN last. */
static int double_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    if (isnan(x) || isnan(y))
        return isnan(x) - isnan(y);
    return (x > y) - (x < y);
}

/* Fills pct[0..4] with the 0, 25, 50, 75 and 100 % points of the n
 * values v (sorted in place), interpolating linearly between ranks. */
static void percentiles_fill(double *v, size_t n, double *pct)
{
    qsort(v, n, sizeof(*v), double_cmp);
    for (int q = 0; q < 5; q++) {
        double pos = (double)(n - 1) * q / 4.0;
        size_t lo = (size_t)pos, hi = lo + 1 < n ? lo + 1 : lo;
        double t = pos - (double)lo;

        pct[q] = v[lo] + (v[hi] - v[lo]) * t;
    }
}

/* Computes the figures (see splat_scene.h). */
kiln_status splat_scene_stats_get(const splat_scene *scene, splat_scene_stats *out)
{
    size_t n;
    double *v;

    memset(out, 0, sizeof(*out));
    if (!scene || scene->count == 0)
        return kiln_fail(KILN_E_INVAL, "scene statistics: the scene holds no Gaussians");
    n = scene->count;
    v = kiln_calloc(n, sizeof(*v));
    if (!v)
        return kiln_fail(KILN_E_HOSTMEM, "scene statistics of %zu Gaussians: out of host memory", n);
    for (int a = 0; a < 3; a++) {
        double lo = INFINITY, hi = -INFINITY, sum = 0.0;

        for (size_t i = 0; i < n; i++) {
            double m = scene->means[i * 3 + a];
            lo = m < lo ? m : lo;
            hi = m > hi ? m : hi;
            sum += m;
        }
        out->bbox_min[a] = lo;
        out->bbox_max[a] = hi;
        out->centre[a] = sum / (double)n;
    }
    for (size_t i = 0; i < n; i++)
        v[i] = 1.0 / (1.0 + exp(-(double)scene->opacity[i]));
    percentiles_fill(v, n, out->opacity_pct);
    for (size_t i = 0; i < n; i++) {
        const float *s = &scene->scales[i * 3];
        double m = s[0] > s[1] ? s[0] : s[1];

        v[i] = exp(m > s[2] ? m : s[2]);
    }
    percentiles_fill(v, n, out->scale_pct);
    kiln_free(v);
    return KILN_OK;
}
