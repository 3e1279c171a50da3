/* What the splat kernels share (included by cl/splat_project.cl and
 * cl/splat_backward.cl): the tile size, the SH constants and storage,
 * and the SH colour of a Gaussian. */

#define SPLAT_TILE 16

/* The tile rectangle packed by splat_project ((xmin | ymin << 16, xmax |
 * ymax << 16), max exclusive) as uint4 (xmin, ymin, xmax, ymax), its rows
 * clipped to the band [band.x, band.y); empty when xmax <= xmin or
 * ymax <= ymin. */
static uint4 rect_in_band(uint2 rc, uint2 band)
{
    return (uint4)(rc.x & 0xFFFFu, max(rc.x >> 16, band.x), rc.y & 0xFFFFu,
                   min(rc.y >> 16, band.y));
}

#define SH_C0 0.28209479177387814f
#define SH_C1 0.4886025119029199f
#define SH_C2_0 1.0925484305920792f
#define SH_C2_1 -1.0925484305920792f
#define SH_C2_2 0.31539156525252005f
#define SH_C2_3 -1.0925484305920792f
#define SH_C2_4 0.5462742152960396f
#define SH_C3_0 -0.5900435899266435f
#define SH_C3_1 2.890611442640554f
#define SH_C3_2 -0.4570457994644658f
#define SH_C3_3 0.3731763325901154f
#define SH_C3_4 -0.4570457994644658f
#define SH_C3_5 1.445305721320277f
#define SH_C3_6 -0.5900435899266435f

/* Coefficient k (RGB) of Gaussian g: float or half storage
 * (-DSPLAT_SH_HALF). */
#ifdef SPLAT_SH_HALF
#define SH_T half
#define SH_LOAD(sh, g, coeffs, k) vload_half3((size_t)(g) * (coeffs) + (k), (sh))
#else
#define SH_T float
#define SH_LOAD(sh, g, coeffs, k) vload3((size_t)(g) * (coeffs) + (k), (sh))
#endif

/* The view-dependent colour of Gaussian g seen along unit dir (x, y, z)
 * before the clamp: the reference's computeColorFromSH with the first
 * `active` of the `coeffs` stored coefficients (training raises the
 * active degree step by step), + 0.5. */
static float3 sh_colour_raw(__global const SH_T *sh, uint g, uint coeffs, uint active, float x,
                            float y, float z)
{
    float3 r = SH_C0 * SH_LOAD(sh, g, coeffs, 0);
    if (active > 1) {
        r = r - SH_C1 * y * SH_LOAD(sh, g, coeffs, 1) + SH_C1 * z * SH_LOAD(sh, g, coeffs, 2) -
            SH_C1 * x * SH_LOAD(sh, g, coeffs, 3);
        if (active > 4) {
            float xx = x * x, yy = y * y, zz = z * z;
            float xy = x * y, yz = y * z, xz = x * z;
            r = r + SH_C2_0 * xy * SH_LOAD(sh, g, coeffs, 4) +
                SH_C2_1 * yz * SH_LOAD(sh, g, coeffs, 5) +
                SH_C2_2 * (2.0f * zz - xx - yy) * SH_LOAD(sh, g, coeffs, 6) +
                SH_C2_3 * xz * SH_LOAD(sh, g, coeffs, 7) +
                SH_C2_4 * (xx - yy) * SH_LOAD(sh, g, coeffs, 8);
            if (active > 9) {
                r = r + SH_C3_0 * y * (3.0f * xx - yy) * SH_LOAD(sh, g, coeffs, 9) +
                    SH_C3_1 * xy * z * SH_LOAD(sh, g, coeffs, 10) +
                    SH_C3_2 * y * (4.0f * zz - xx - yy) * SH_LOAD(sh, g, coeffs, 11) +
                    SH_C3_3 * z * (2.0f * zz - 3.0f * xx - 3.0f * yy) * SH_LOAD(sh, g, coeffs, 12) +
                    SH_C3_4 * x * (4.0f * zz - xx - yy) * SH_LOAD(sh, g, coeffs, 13) +
                    SH_C3_5 * z * (xx - yy) * SH_LOAD(sh, g, coeffs, 14) +
                    SH_C3_6 * x * (xx - 3.0f * yy) * SH_LOAD(sh, g, coeffs, 15);
            }
        }
    }
    return r + 0.5f;
}

/* The colour itself: sh_colour_raw clamped below at 0. */
static float3 sh_colour(__global const SH_T *sh, uint g, uint coeffs, uint active, float x,
                        float y, float z)
{
    return fmax(sh_colour_raw(sh, g, coeffs, active, x, y, z), (float3)(0.0f));
}
