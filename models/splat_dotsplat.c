/* The .splat format of the web viewers (antimatter15/splat): 32 bytes a
 * Gaussian, no header.  Bytes 0-11 position (3 x float32 LE), 12-23
 * linear scale (3 x float32 LE), 24-27 colour RGB and opacity A (u8), 28-31
 * rotation w x y z (u8, q * 128 + 128).  Read as SH degree 0:
 *   f_dc_c   = (c / 255 - 0.5) / SH_C0
 *   opacity  = logit(clamp(a / 255, 1e-6, 1 - 1e-6)), so a = 0 and a = 255
 *              give finite logits (-13.8155 and +13.8155)
 *   scale_i  = log(s_i); a zero, negative or non-finite s_i gives no
 *              finite log, and the Gaussian counts as non-finite
 *   rot_j    = (b_j - 128) / 128
 * normals zero.  Computed in double, stored as float. */
#include <math.h>
#include <string.h>

#include "splat_readers.h"
#include "status.h"

#define DOTSPLAT_BYTES 32
#define SH_C0 0.28209479177387814
#define OPACITY_EPS 1e-6

/* Converts one 32-byte record into Gaussian i of scene; returns 1 when
 * every value is finite, 0 otherwise (the values are stored anyway). */
static int record_convert(const unsigned char *r, splat_scene *s, size_t i)
{
    int finite = 1;
    double a = r[27] / 255.0;

    for (int k = 0; k < 3; k++) {
        float pos = splat_load_f32(r + 4 * k), lin = splat_load_f32(r + 12 + 4 * k);

        s->means[i * 3 + k] = pos;
        if (!isfinite(pos) || !isfinite(lin) || !(lin > 0.0f))
            finite = 0;
        s->scales[i * 3 + k] = lin > 0.0f && isfinite(lin) ? (float)log((double)lin) : NAN;
        s->sh[i * 3 + k] = (float)((r[24 + k] / 255.0 - 0.5) / SH_C0);
    }
    if (a < OPACITY_EPS)
        a = OPACITY_EPS;
    if (a > 1.0 - OPACITY_EPS)
        a = 1.0 - OPACITY_EPS;
    s->opacity[i] = (float)log(a / (1.0 - a));
    for (int k = 0; k < 4; k++)
        s->rotations[i * 4 + k] = (float)((r[28 + k] - 128) / 128.0);
    for (int k = 0; k < 3; k++)
        if (!isfinite(s->scales[i * 3 + k]))
            finite = 0;
    return finite;
}

/* Reads a .splat file from memory (see splat_readers.h). */
kiln_status splat_dotsplat_read(const unsigned char *data, size_t len, const char *name,
                                const splat_read_options *opt, splat_scene *scene,
                                splat_read_info *info)
{
    size_t count = len / DOTSPLAT_BYTES, kept = 0, nonfinite = 0;
    kiln_status st;

    if (len % DOTSPLAT_BYTES != 0)
        return kiln_fail(KILN_E_FORMAT,
                         "%s: .splat size %zu is not a multiple of %d bytes (truncated?)", name, len,
                         DOTSPLAT_BYTES);
    if (count == 0)
        return kiln_fail(KILN_E_FORMAT, "%s: empty .splat file", name);
    info->file_count = count;
    info->format = 1;
    st = splat_count_check(name, count, opt);
    if (st != KILN_OK)
        return st;
    st = splat_scene_alloc(scene, count, 0);
    if (st != KILN_OK)
        return kiln_fail_context(st, "%s", name);
    for (size_t i = 0; i < count; i++) {
        if (!record_convert(data + i * DOTSPLAT_BYTES, scene, kept)) {
            nonfinite++;
            if (opt->nonfinite == SPLAT_NONFINITE_DROP)
                continue;
        }
        kept++;
    }
    info->nonfinite = nonfinite;
    st = splat_nonfinite_check(name, nonfinite, count, opt);
    if (st != KILN_OK)
        goto out_free_scene;
    scene->count = kept;
    return KILN_OK;

out_free_scene:
    splat_scene_free(scene);
    return st;
}
