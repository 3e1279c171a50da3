/* Splatting, per pixel: front-to-back blending of each tile's sorted
 * Gaussians.  One work-group of 16 x 16 work-items per tile of the band;
 * the group loads its tile's Gaussians into local memory a batch of 256
 * at a time and every work-item blends its pixel (i, j), sampled at
 * (j + 0.5, i + 0.5):
 *   s = 0.5 (a dx^2 + c dy^2) + b dx dy, skipped when s < 0;
 *   alpha = min(alpha_max, o exp(-s)), skipped when alpha < 1/255;
 *   T' = T (1 - alpha): the pixel ends without blending this Gaussian
 *        when T' < t_min (strict, inria) or T' <= t_min (gsplat);
 *   C += c alpha T, D += z alpha T, T = T'.
 * Output (planar W x H images) by out_kind: 0 RGB = C + T background;
 * 1 RGBA straight = C / (1 - T) (0 where nothing blended), 1 - T; 2 RGBA
 * premultiplied = C + T background, 1 - T; 3 alpha = 1 - T; 4 depth =
 * D / (1 - T) * depth_scale (0 where nothing blended).
 * The group stops loading batches once all its pixels are done. */

#pragma OPENCL FP_CONTRACT OFF

#define SPLAT_TILE 16
#define SPLAT_BATCH (SPLAT_TILE * SPLAT_TILE)

/* -DSPLAT_KEEP_STATE (training): each kernel also stores, per pixel, the
 * final transmittance and one past the index (into values) of the last
 * Gaussian blended, for the backward pass (cl/splat_backward.cl). */
#ifdef SPLAT_KEEP_STATE
#define KEEP_STATE_ARGS , __global float *final_t, __global uint *last_index
#define KEEP_STATE_STORE(p, t, l) do { final_t[p] = (t); last_index[p] = (l); } while (0)
#else
#define KEEP_STATE_ARGS
#define KEEP_STATE_STORE(p, t, l) do { } while (0)
#endif

/* Stores one pixel's result at p of each plane (see out_kind above). */
static void blend_store(__global float *out, size_t plane, size_t p, float3 C, float D, float T,
                        float4 background, int out_kind, float depth_scale)
{
    float a = 1.0f - T;
    if (out_kind == 3) {
        out[p] = a;
    } else if (out_kind == 4) {
        out[p] = a > 0.0f ? D / a * depth_scale : 0.0f;
    } else {
        float3 rgb = out_kind == 1 ? (a > 0.0f ? C / a : (float3)(0.0f)) : C + T * background.xyz;
        out[p] = rgb.x;
        out[plane + p] = rgb.y;
        out[2 * plane + p] = rgb.z;
        if (out_kind != 0)
            out[3 * plane + p] = a;
    }
}

/* Blends the tiles of the band starting at tile row band_y0.  ranges:
 * per band tile (first, end) into values; values: Gaussian indices in
 * blend order.  size = (W, H, tiles_x, unused); blend = (alpha_max,
 * t_min, alpha_min 1/255, strict: 1 for T' < t_min). */
__kernel __attribute__((reqd_work_group_size(SPLAT_TILE, SPLAT_TILE, 1)))
void splat_blend(__global const uint2 *ranges, __global const uint *values,
                 __global const float2 *xy, __global const float4 *conic_opacity,
                 __global const float4 *rgb, __global const float *depth, uint4 size,
                 uint band_y0, float4 blend, float4 background, __global float *out,
                 int out_kind, float depth_scale KEEP_STATE_ARGS)
{
    __local float2 l_xy[SPLAT_BATCH];
    __local float4 l_co[SPLAT_BATCH];
    __local float4 l_rgb[SPLAT_BATCH];
    __local float l_z[SPLAT_BATCH];
    __local int l_done;

    uint tx = get_group_id(0), ty = get_group_id(1);
    uint lx = get_local_id(0), ly = get_local_id(1);
    uint lid = ly * SPLAT_TILE + lx;
    uint W = size.x, H = size.y;
    uint j = tx * SPLAT_TILE + lx;
    uint i = (band_y0 + ty) * SPLAT_TILE + ly;
    int inside = i < H && j < W;
    int done = !inside;
    float px = (float)j + 0.5f, py = (float)i + 0.5f;
    float T = 1.0f;
    float3 C = (float3)(0.0f);
    float D = 0.0f;
    int strict = blend.w > 0.5f;
    uint2 range = ranges[ty * size.z + tx];
    uint last = range.x;

    for (uint base = range.x; base < range.y; base += SPLAT_BATCH) {
        barrier(CLK_LOCAL_MEM_FENCE);
        if (lid == 0)
            l_done = 0;
        barrier(CLK_LOCAL_MEM_FENCE);
        if (done)
            atomic_inc(&l_done);
        barrier(CLK_LOCAL_MEM_FENCE);
        if (l_done == SPLAT_BATCH)
            break;
        uint k = base + lid;
        if (k < range.y) {
            uint g = values[k];
            l_xy[lid] = xy[g];
            l_co[lid] = conic_opacity[g];
            l_rgb[lid] = rgb[g];
            l_z[lid] = depth[g];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        uint n = min((uint)SPLAT_BATCH, range.y - base);
        for (uint e = 0; e < n && !done; e++) {
            float2 d = l_xy[e] - (float2)(px, py);
            float4 co = l_co[e];
            float s = 0.5f * (co.x * d.x * d.x + co.z * d.y * d.y) + co.y * d.x * d.y;
            if (s < 0.0f)
                continue;
            float alpha = fmin(blend.x, co.w * exp(-s));
            if (alpha < blend.z)
                continue;
            float next_t = T * (1.0f - alpha);
            if (strict ? next_t < blend.y : next_t <= blend.y) {
                done = 1;
                break;
            }
            float w = alpha * T;
            C += l_rgb[e].xyz * w;
            D += l_z[e] * w;
            T = next_t;
            last = base + e + 1;
        }
    }
    if (!inside)
        return;
    KEEP_STATE_STORE((size_t)i * W + j, T, last);
    blend_store(out, (size_t)W * H, (size_t)i * W + j, C, D, T, background, out_kind,
                depth_scale);
}

/* The same blending for CPUs: one work-item per row of 16 pixels of a
 * tile, with no local memory and no barrier; the 16 pixels are one
 * branch-free inner loop (a vector loop for the compiler), and the row
 * stops when all of its pixels are done.  Global range (tiles_x, band
 * rows of tiles * 16); same arguments and results as splat_blend.  A
 * Gaussian that cannot reach the 1/255 cut anywhere on the row is skipped
 * whole. */
__kernel void splat_blend_rows(__global const uint2 *ranges, __global const uint *values,
                               __global const float2 *xy, __global const float4 *conic_opacity,
                               __global const float4 *rgb, __global const float *depth,
                               uint4 size, uint band_y0, float4 blend, float4 background,
                               __global float *out, int out_kind,
                               float depth_scale KEEP_STATE_ARGS)
{
    uint tx = get_global_id(0), row = get_global_id(1);
    uint W = size.x, H = size.y;
    uint i = band_y0 * SPLAT_TILE + row;
    if (tx >= size.z || i >= H)
        return;
    uint2 range = ranges[(row / SPLAT_TILE) * size.z + tx];
    float T[SPLAT_TILE], Cr[SPLAT_TILE], Cg[SPLAT_TILE], Cb[SPLAT_TILE], Dz[SPLAT_TILE];
    int done[SPLAT_TILE];
    uint last[SPLAT_TILE];
    float py = (float)i + 0.5f;
    int strict = blend.w > 0.5f;
    uint j0 = tx * SPLAT_TILE;
    int live = 0;
    for (uint x = 0; x < SPLAT_TILE; x++) {
        T[x] = 1.0f;
        Cr[x] = Cg[x] = Cb[x] = Dz[x] = 0.0f;
        done[x] = j0 + x >= W;
        last[x] = range.x;
        live += !done[x];
    }
    for (uint k = range.x; k < range.y && live > 0; k++) {
        uint g = values[k];
        float2 m = xy[g];
        float4 co = conic_opacity[g];
        float4 c = rgb[g];
        float z = depth[g];
        float dy = m.y - py;
        /* the row's smallest exponent, 0.5 dy^2 (c - b^2 / a) at the best
         * dx: a Gaussian whose alpha stays below the 1/255 cut along the
         * whole row (with a 1 % margin for rounding) touches no pixel of
         * it and is skipped without the 16-pixel loop */
        float s_row = 0.5f * dy * dy * (co.z - co.y * co.y / co.x);
        if (co.w * exp(-s_row) < 0.99f * blend.z)
            continue;
        live = 0;
        for (uint x = 0; x < SPLAT_TILE; x++) {
            float dx = m.x - ((float)(j0 + x) + 0.5f);
            float s = 0.5f * (co.x * dx * dx + co.z * dy * dy) + co.y * dx * dy;
            float alpha = fmin(blend.x, co.w * exp(-s));
            int valid = s >= 0.0f && alpha >= blend.z && !done[x];
            float next_t = T[x] * (1.0f - alpha);
            int stop = valid && (strict ? next_t < blend.y : next_t <= blend.y);
            int take = valid && !stop;
            float w = take ? alpha * T[x] : 0.0f;
            Cr[x] += c.x * w;
            Cg[x] += c.y * w;
            Cb[x] += c.z * w;
            Dz[x] += z * w;
            T[x] = take ? next_t : T[x];
            last[x] = take ? k + 1 : last[x];
            done[x] = done[x] || stop;
            live += !done[x];
        }
    }
    size_t plane = (size_t)W * H;
    for (uint x = 0; x < SPLAT_TILE; x++)
        if (j0 + x < W) {
            KEEP_STATE_STORE((size_t)i * W + j0 + x, T[x], last[x]);
            blend_store(out, plane, (size_t)i * W + j0 + x, (float3)(Cr[x], Cg[x], Cb[x]), Dz[x],
                        T[x], background, out_kind, depth_scale);
        }
}
