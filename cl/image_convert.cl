/* Image conversions: interleaved host samples <-> planar float, channel
 * layouts, per-channel normalisation.
 *
 * A planar image of npix = width*height pixels holds channel c of pixel p
 * at [c * npix + p]; an interleaved one holds it at [p * channels + c].
 * Every kernel here runs one work-item per pixel over a 1-D global range of
 * at least npix items (items past npix do nothing), and handles 1 to 4
 * channels.  Contraction into fma is off so that results match a plain
 * host float loop to the rounding of each operation. */

#pragma OPENCL FP_CONTRACT OFF

/* Rec. 601 luma weights for gray from RGB. */
#define LUMA_R 0.299f
#define LUMA_G 0.587f
#define LUMA_B 0.114f

/* Returns component c (0..3) of v; any other c reads component 3. */
float vec_component(float4 v, uint c)
{
    return c == 0 ? v.x : c == 1 ? v.y : c == 2 ? v.z : v.w;
}

/* Interleaved 8-bit samples to planar float:
 * dst = (src / 255 - mean[c]) / std[c] for each of `channels` channels. */
__kernel void upload_u8(__global const uchar *src, __global float *dst,
                        uint npix, uint channels, float4 mean, float4 std)
{
    uint p = get_global_id(0);
    if (p >= npix)
        return;
    for (uint c = 0; c < channels; c++) {
        float x = (float)src[p * channels + c] / 255.0f;
        dst[c * npix + p] = (x - vec_component(mean, c)) / vec_component(std, c);
    }
}

/* Interleaved 16-bit samples to planar float:
 * dst = (src / 65535 - mean[c]) / std[c] for each of `channels` channels. */
__kernel void upload_u16(__global const ushort *src, __global float *dst,
                         uint npix, uint channels, float4 mean, float4 std)
{
    uint p = get_global_id(0);
    if (p >= npix)
        return;
    for (uint c = 0; c < channels; c++) {
        float x = (float)src[p * channels + c] / 65535.0f;
        dst[c * npix + p] = (x - vec_component(mean, c)) / vec_component(std, c);
    }
}

/* Planar float in [0,1] to interleaved 8-bit: round(src * 255) to nearest
 * (ties to even), saturated to [0,255]; NaN becomes 0. */
__kernel void download_u8(__global const float *src, __global uchar *dst,
                          uint npix, uint channels)
{
    uint p = get_global_id(0);
    if (p >= npix)
        return;
    for (uint c = 0; c < channels; c++)
        dst[p * channels + c] = convert_uchar_sat_rte(src[c * npix + p] * 255.0f);
}

/* Planar float in [0,1] to interleaved 16-bit: round(src * 65535) to
 * nearest (ties to even), saturated to [0,65535]; NaN becomes 0. */
__kernel void download_u16(__global const float *src, __global ushort *dst,
                           uint npix, uint channels)
{
    uint p = get_global_id(0);
    if (p >= npix)
        return;
    for (uint c = 0; c < channels; c++)
        dst[p * channels + c] = convert_ushort_sat_rte(src[c * npix + p] * 65535.0f);
}

/* Converts planar `src` with cin channels to planar `dst` with cout
 * channels (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA).  Gray from colour is
 * Rec. 601 luma; colour from gray replicates it; a missing alpha is 1; an
 * alpha the output has no room for is dropped. */
__kernel void convert_channels(__global const float *src, __global float *dst,
                               uint npix, uint cin, uint cout)
{
    uint p = get_global_id(0);
    float r, g, b, a, gray;

    if (p >= npix)
        return;
    if (cin <= 2) {
        gray = src[p];
        r = gray;
        g = gray;
        b = gray;
    } else {
        r = src[p];
        g = src[npix + p];
        b = src[2 * npix + p];
        gray = LUMA_R * r + LUMA_G * g + LUMA_B * b;
    }
    a = cin == 2 ? src[npix + p] : cin == 4 ? src[3 * npix + p] : 1.0f;
    if (cout <= 2) {
        dst[p] = gray;
        if (cout == 2)
            dst[npix + p] = a;
    } else {
        dst[p] = r;
        dst[npix + p] = g;
        dst[2 * npix + p] = b;
        if (cout == 4)
            dst[3 * npix + p] = a;
    }
}

/* Builds planar RGBA `dst` from planar RGB `rgb` and a one-channel
 * `alpha` of the same npix. */
__kernel void attach_alpha(__global const float *rgb, __global const float *alpha,
                           __global float *dst, uint npix)
{
    uint p = get_global_id(0);
    if (p >= npix)
        return;
    dst[p] = rgb[p];
    dst[npix + p] = rgb[npix + p];
    dst[2 * npix + p] = rgb[2 * npix + p];
    dst[3 * npix + p] = alpha[p];
}

/* Per-channel normalisation of planar float:
 * dst = (src - mean[c]) / std[c] for each of `channels` channels. */
__kernel void normalize_channels(__global const float *src, __global float *dst,
                                 uint npix, uint channels, float4 mean, float4 std)
{
    uint p = get_global_id(0);
    if (p >= npix)
        return;
    for (uint c = 0; c < channels; c++)
        dst[c * npix + p] = (src[c * npix + p] - vec_component(mean, c)) /
                            vec_component(std, c);
}
