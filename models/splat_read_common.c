/* The checks and loads the scene readers share (splat_readers.h). */
#include <string.h>

#include "splat_readers.h"
#include "status.h"

/* Refuses a count over the limit (see splat_readers.h). */
kiln_status splat_count_check(const char *name, uint64_t count, const splat_read_options *opt)
{
    if (opt->max_gaussians && count > opt->max_gaussians)
        return kiln_fail(KILN_E_LIMIT,
                         "%s: %llu Gaussians exceed the limit of %llu ([splat] max_gaussians)", name,
                         (unsigned long long)count, (unsigned long long)opt->max_gaussians);
    return KILN_OK;
}

/* Refuses non-finite Gaussians when the options say so (see
 * splat_readers.h). */
kiln_status splat_nonfinite_check(const char *name, size_t nonfinite, size_t file_count,
                                  const splat_read_options *opt)
{
    if (nonfinite && opt->nonfinite == SPLAT_NONFINITE_REFUSE)
        return kiln_fail(KILN_E_FORMAT,
                         "%s: %zu of %zu Gaussians hold NaN or infinite values (refused; the drop "
                         "policy leaves them out)", name, nonfinite, file_count);
    return KILN_OK;
}

/* Loads a little-endian float32. */
float splat_load_f32(const unsigned char *p)
{
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    float f;

    memcpy(&f, &u, sizeof(f));
    return f;
}

/* Loads a little-endian float64. */
double splat_load_f64(const unsigned char *p)
{
    uint64_t u = 0;
    double d;

    for (int i = 7; i >= 0; i--)
        u = u << 8 | p[i];
    memcpy(&d, &u, sizeof(d));
    return d;
}
