/* Splatting, per Gaussian: projection, 2D covariance, conic, screen
 * bounds, tile rectangle and colour (one work-item per Gaussian).
 *
 * The scene holds the trainer's raw parameters (log scales, logit
 * opacity, unnormalised w-first quaternions, coefficient-major SH); they
 * are activated here.  Two semantics (../shared/refdata/splat/README.md,
 * "Modes"), chosen by `mode`:
 *   0 inria   cull z <= near (0.2); Jacobian clamp |x/z| <= 1.3 tan_fovx;
 *             radius ceil(3 sqrt(lambda_max)); the tile rectangle of
 *             getRect on p = mean2d - 0.5
 *   1 gsplat  cull z < near (0.01) or z > far; the asymmetric clamp
 *             window of gsplat 1.5.3; opacity < 1/255 culled; the
 *             opacity-aware per-axis box; tiles floor((m - r)/16) ..
 *             ceil((m + r)/16)
 * mean2d is in pixel units with pixel (i, j) centred at (j + 0.5, i + 0.5).
 *
 * Outputs per Gaussian (index g): xy = mean2d, conic_opacity = (a, b, c,
 * opacity) of the inverse 2D covariance, depth = camera z, rgb (w = 0),
 * rect = the tile rectangle, packed (xmin | ymin << 16, xmax | ymax << 16)
 * with max exclusive; an empty rectangle (0, 0) culls the Gaussian;
 * radius = the screen radius in pixels (inria: ceil(3 sqrt(lambda_max)),
 * gsplat: the larger box half-side; 0 when culled), for densification.
 * SH: `coeffs` stored a Gaussian, the first `active` evaluated.
 * Anything non-finite along the way culls it, so no NaN reaches the tile
 * counts. */

#pragma OPENCL FP_CONTRACT OFF

#include "splat_common.h"

/* Whether every lane of v is finite. */
static int finite3(float3 v)
{
    return isfinite(v.x) && isfinite(v.y) && isfinite(v.z);
}

/* A tile bound clamped to [0, tiles] before the integer conversion (a
 * huge or negative float never reaches the cast). */
static uint tile_clamp(float v, uint tiles)
{
    return (uint)clamp(v, 0.0f, (float)tiles);
}

/* Projects every Gaussian (see the file comment).  cam_r0..2 hold the
 * world-to-camera rotation rows with the translation in .w; intr =
 * (fx, fy, cx, cy); campos = the camera centre; size = (W, H, tiles_x,
 * tiles_y); clip = (near, far, alpha threshold 1/255, unused). */
__kernel void splat_project(__global const float *means, __global const float4 *rots,
                            __global const float *scales, __global const float *opacities,
                            __global const SH_T *sh, uint coeffs, uint active, uint count,
                            float4 cam_r0, float4 cam_r1, float4 cam_r2, float4 intr,
                            float4 campos, uint4 size, float4 clip, int mode, int antialiased,
                            __global float2 *xy_out, __global float4 *conic_out,
                            __global float *depth_out, __global float4 *rgb_out,
                            __global uint2 *rect_out, __global float *radius_out)
{
    uint g = get_global_id(0);
    if (g >= count)
        return;
    rect_out[g] = (uint2)(0u, 0u);
    radius_out[g] = 0.0f;

    float3 m = vload3(g, means);
    float3 pc = (float3)(dot(cam_r0.xyz, m) + cam_r0.w, dot(cam_r1.xyz, m) + cam_r1.w,
                         dot(cam_r2.xyz, m) + cam_r2.w);
    float fx = intr.x, fy = intr.y, cx = intr.z, cy = intr.w;
    float W = (float)size.x, H = (float)size.y;
    if (!finite3(pc))
        return;
    if (mode == 0) {
        if (pc.z <= clip.x)
            return;
    } else if (pc.z < clip.x || pc.z > clip.y) {
        return;
    }

    /* 3D covariance: R S S^T R^T from the normalised quaternion. */
    float4 q = rots[g];
    float qn = sqrt(q.x * q.x + q.y * q.y + q.z * q.z + q.w * q.w);
    if (!(qn > 0.0f) || !isfinite(qn))
        return;
    float r = q.x / qn, x = q.y / qn, y = q.z / qn, z = q.w / qn;
    float3 s = exp(vload3(g, scales));
    if (!finite3(s))
        return;
    float R00 = 1.f - 2.f * (y * y + z * z), R01 = 2.f * (x * y - r * z), R02 = 2.f * (x * z + r * y);
    float R10 = 2.f * (x * y + r * z), R11 = 1.f - 2.f * (x * x + z * z), R12 = 2.f * (y * z - r * x);
    float R20 = 2.f * (x * z - r * y), R21 = 2.f * (y * z + r * x), R22 = 1.f - 2.f * (x * x + y * y);
    /* M = R S */
    float M00 = R00 * s.x, M01 = R01 * s.y, M02 = R02 * s.z;
    float M10 = R10 * s.x, M11 = R11 * s.y, M12 = R12 * s.z;
    float M20 = R20 * s.x, M21 = R21 * s.y, M22 = R22 * s.z;
    float S00 = M00 * M00 + M01 * M01 + M02 * M02;
    float S01 = M00 * M10 + M01 * M11 + M02 * M12;
    float S02 = M00 * M20 + M01 * M21 + M02 * M22;
    float S11 = M10 * M10 + M11 * M11 + M12 * M12;
    float S12 = M10 * M20 + M11 * M21 + M12 * M22;
    float S22 = M20 * M20 + M21 * M21 + M22 * M22;

    /* The Jacobian at the clamped camera-space mean. */
    float tan_fovx = 0.5f * W / fx, tan_fovy = 0.5f * H / fy;
    float txz = pc.x / pc.z, tyz = pc.y / pc.z;
    if (mode == 0) {
        float limx = 1.3f * tan_fovx, limy = 1.3f * tan_fovy;
        txz = fmin(limx, fmax(-limx, txz));
        tyz = fmin(limy, fmax(-limy, tyz));
    } else {
        float lim_xp = (W - cx) / fx + 0.3f * tan_fovx, lim_xn = cx / fx + 0.3f * tan_fovx;
        float lim_yp = (H - cy) / fy + 0.3f * tan_fovy, lim_yn = cy / fy + 0.3f * tan_fovy;
        txz = fmin(lim_xp, fmax(-lim_xn, txz));
        tyz = fmin(lim_yp, fmax(-lim_yn, tyz));
    }
    float tx = txz * pc.z, ty = tyz * pc.z;
    float J00 = fx / pc.z, J02 = -fx * tx / (pc.z * pc.z);
    float J11 = fy / pc.z, J12 = -fy * ty / (pc.z * pc.z);
    /* T = J W (2x3), W the camera rotation */
    float T00 = J00 * cam_r0.x + J02 * cam_r2.x;
    float T01 = J00 * cam_r0.y + J02 * cam_r2.y;
    float T02 = J00 * cam_r0.z + J02 * cam_r2.z;
    float T10 = J11 * cam_r1.x + J12 * cam_r2.x;
    float T11 = J11 * cam_r1.y + J12 * cam_r2.y;
    float T12 = J11 * cam_r1.z + J12 * cam_r2.z;
    /* cov2d = T S T^T */
    float U0 = T00 * S00 + T01 * S01 + T02 * S02;
    float U1 = T00 * S01 + T01 * S11 + T02 * S12;
    float U2 = T00 * S02 + T01 * S12 + T02 * S22;
    float V0 = T10 * S00 + T11 * S01 + T12 * S02;
    float V1 = T10 * S01 + T11 * S11 + T12 * S12;
    float V2 = T10 * S02 + T11 * S12 + T12 * S22;
    float a = U0 * T00 + U1 * T01 + U2 * T02;
    float b = U0 * T10 + U1 * T11 + U2 * T12;
    float c = V0 * T10 + V1 * T11 + V2 * T12;
    float det_orig = a * c - b * b;
    a += 0.3f;
    c += 0.3f;
    float det = a * c - b * b;
    if (!(det > 0.0f) || !isfinite(det) || !isfinite(a) || !isfinite(c))
        return;
    float opacity = 1.0f / (1.0f + exp(-opacities[g]));
    if (antialiased)
        opacity *= sqrt(fmax(0.0f, det_orig / det));
    if (!isfinite(opacity))
        return;
    float2 mean2d = (float2)(fx * pc.x / pc.z + cx, fy * pc.y / pc.z + cy);
    if (!isfinite(mean2d.x) || !isfinite(mean2d.y))
        return;

    uint xmin, ymin, xmax, ymax;
    float screen_radius;
    if (mode == 0) {
        float mid = 0.5f * (a + c);
        float disc = sqrt(fmax(0.1f, mid * mid - det));
        float l1 = mid + disc, l2 = mid - disc;
        float radius = ceil(3.0f * sqrt(fmax(l1, l2)));
        if (!isfinite(radius))
            return;
        /* getRect's int radius; bounds huge radii before the cast */
        radius = fmin(radius, 1.0e8f);
        screen_radius = radius;
        float px = mean2d.x - 0.5f, py = mean2d.y - 0.5f;
        xmin = tile_clamp(trunc((px - radius) / SPLAT_TILE), size.z);
        ymin = tile_clamp(trunc((py - radius) / SPLAT_TILE), size.w);
        xmax = tile_clamp(trunc((px + radius + SPLAT_TILE - 1) / SPLAT_TILE), size.z);
        ymax = tile_clamp(trunc((py + radius + SPLAT_TILE - 1) / SPLAT_TILE), size.w);
    } else {
        if (opacity < clip.z)
            return;
        float extend = fmin(3.33f, sqrt(2.0f * log(opacity / clip.z)));
        float rx = ceil(extend * sqrt(a)), ry = ceil(extend * sqrt(c));
        if (!isfinite(rx) || !isfinite(ry) || (rx <= 0.0f && ry <= 0.0f))
            return;
        screen_radius = fmax(rx, ry);
        if (mean2d.x + rx <= 0.0f || mean2d.x - rx >= W || mean2d.y + ry <= 0.0f ||
            mean2d.y - ry >= H)
            return;
        xmin = tile_clamp(floor((mean2d.x - rx) / SPLAT_TILE), size.z);
        ymin = tile_clamp(floor((mean2d.y - ry) / SPLAT_TILE), size.w);
        xmax = tile_clamp(ceil((mean2d.x + rx) / SPLAT_TILE), size.z);
        ymax = tile_clamp(ceil((mean2d.y + ry) / SPLAT_TILE), size.w);
    }
    if (xmax <= xmin || ymax <= ymin)
        return;

    float3 dir = m - campos.xyz;
    float dn = length(dir);
    float3 col = dn > 0.0f ? sh_colour(sh, g, coeffs, active, dir.x / dn, dir.y / dn, dir.z / dn)
                           : sh_colour(sh, g, coeffs, active, 0.0f, 0.0f, 0.0f);
    if (!finite3(col))
        return;
    xy_out[g] = mean2d;
    conic_out[g] = (float4)(c / det, -b / det, a / det, opacity);
    depth_out[g] = pc.z;
    rgb_out[g] = (float4)(col, 0.0f);
    rect_out[g] = (uint2)(xmin | (ymin << 16), xmax | (ymax << 16));
    radius_out[g] = screen_radius;
}

/* Tiles each Gaussian's rectangle covers within the band of tile rows
 * [band.x, band.y): counts[g] (0 for a culled Gaussian). */
__kernel void splat_count_tiles(__global const uint2 *rect, uint count, uint2 band,
                                __global uint *counts)
{
    uint g = get_global_id(0);
    if (g >= count)
        return;
    uint4 r = rect_in_band(rect[g], band);
    counts[g] = (r.z > r.x && r.w > r.y) ? (r.z - r.x) * (r.w - r.y) : 0u;
}

/* Writes each Gaussian's (tile, depth) keys and its index at its offset
 * (the exclusive scan of splat_count_tiles), for the tiles of its
 * rectangle within the band, row by row.  The key is (tile - band's first
 * tile) << 32 | the depth's float bits (positive depths order as their
 * bits).  tiles_x: tiles a row. */
__kernel void splat_write_keys(__global const uint2 *rect, __global const float *depth,
                               __global const uint *offsets, uint count, uint2 band,
                               uint tiles_x, __global ulong *keys, __global uint *values)
{
    uint g = get_global_id(0);
    if (g >= count)
        return;
    uint4 r = rect_in_band(rect[g], band);
    uint xmin = r.x, ymin = r.y, xmax = r.z, ymax = r.w;
    if (xmax <= xmin || ymax <= ymin)
        return;
    uint o = offsets[g];
    ulong dbits = (ulong)as_uint(depth[g]);
    for (uint ty = ymin; ty < ymax; ty++)
        for (uint tx = xmin; tx < xmax; tx++) {
            ulong tile = (ulong)((ty - band.x) * tiles_x + tx);
            keys[o] = (tile << 32) | dbits;
            values[o] = g;
            o++;
        }
}

/* Per-tile ranges of the sorted keys: ranges[tile] = (first, end) for
 * every tile with instances (the host zero-fills the array first). */
__kernel void splat_tile_ranges(__global const ulong *keys, uint n, __global uint2 *ranges)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    uint tile = (uint)(keys[i] >> 32);
    if (i == 0 || (uint)(keys[i - 1] >> 32) != tile)
        ranges[tile].x = i;
    if (i == n - 1 || (uint)(keys[i + 1] >> 32) != tile)
        ranges[tile].y = i + 1;
}
