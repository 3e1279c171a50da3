/* Splatting, backward: the gradient of a loss on the rendered RGB (over
 * the background) with respect to the scene's raw parameters, in two
 * kernels after a forward render that kept its state (-DSPLAT_KEEP_STATE
 * in cl/splat_blend.cl: the final transmittance and the last blended
 * Gaussian of each pixel):
 *
 *   splat_blend_backward    per pixel, back to front over the Gaussians
 *                           the pixel blended: dL/d(mean2d, conic,
 *                           opacity, colour) of each Gaussian, summed
 *                           over pixels with float additions made atomic
 *                           by a compare-and-swap loop (OpenCL 1.2 has no
 *                           float atomics); or, deterministic,
 *                           splat_blend_backward_tiles (per tile, into
 *                           per-instance slots) then splat_gather_instances
 *                           (per Gaussian, in a fixed order): bit-
 *                           reproducible run to run;
 *   splat_project_backward  per Gaussian: through the conic, the 2D
 *                           covariance (EWA Jacobian), the 3D covariance
 *                           (scale, normalised quaternion), the
 *                           projection of the mean and the SH colour
 *                           (coefficients and the view direction back to
 *                           the mean), to the raw parameters (means, log
 *                           scales, raw quaternions, opacity logit, SH).
 *
 * Semantics: the exact derivative of the forward as implemented, with its
 * thresholds as constants: a clamped alpha (o G above the clamp) passes
 * no gradient to o and G, a skipped Gaussian (s < 0, alpha < 1/255)
 * none at all, a colour channel clamped at 0 none to its SH, and a
 * camera-space x/z (y/z) outside the Jacobian's clamp window is held
 * constant at the limit L, so that tx = L z moves with z only (gsplat's
 * derivative; the Inria backward holds tx itself constant instead).  The
 * antialiased mode is not differentiated (training refuses it). */

#pragma OPENCL FP_CONTRACT OFF

#include "splat_common.h"

#ifdef SPLAT_ATOMIC_PTX
/* *p += v for a float in global memory, atomically: the device's float
 * atomic (NVIDIA's OpenCL takes PTX inline; the host builds this variant
 * only where a test build succeeds). */
static void atomic_add_float(volatile __global float *p, float v)
{
    float old;
    if (v == 0.0f)
        return;
    asm volatile("atom.global.add.f32 %0, [%1], %2;" : "=f"(old) : "l"(p), "f"(v) : "memory");
}
#else
/* *p += v for a float in global memory, atomically (compare and swap:
 * OpenCL 1.2 has no float atomics). */
static void atomic_add_float(volatile __global float *p, float v)
{
    union {
        uint u;
        float f;
    } old, next;
    if (v == 0.0f)
        return;
    do {
        old.f = *p;
        next.f = old.f + v;
    } while (atomic_cmpxchg((volatile __global uint *)p, old.u, next.u) != old.u);
}
#endif

/* Adds v to a gradient slot: atomically into the per-Gaussian sums, or,
 * in the deterministic kernels, plainly into a per-instance slot that
 * only the calling work-item writes. */
#define GRAD_ADD(ptr, v) do { if (det) *(ptr) += (v); else atomic_add_float((ptr), (v)); } while (0)

/* Replays pixel (i, j)'s blending back to front from its last blended
 * Gaussian.  Not deterministic (det 0): adds each Gaussian's dL/dmean2d
 * (g_xy, 2 a Gaussian), dL/d(a, b, c) of the conic (g_conic, 3),
 * dL/dopacity (g_opacity) and dL/dcolour (g_rgb, 3) atomically.
 * Deterministic (det 1): adds the same 9 values into g_inst[9 k + ...]
 * of the instance k (xy 0-1, conic 2-4, opacity 5, colour 6-8). */
static void pixel_backward(uint i, uint j, uint2 range, __global const uint *values,
                           __global const float2 *xy, __global const float4 *conic_opacity,
                           __global const float4 *rgb, __global const float *final_t,
                           __global const uint *last_index, __global const float *dl_dimg,
                           uint4 size, float4 blend, float4 background, int det,
                           __global float *g_xy, __global float *g_conic,
                           __global float *g_opacity, __global float *g_rgb,
                           __global float *g_inst)
{
    uint W = size.x, H = size.y;
    size_t plane = (size_t)W * H, p = (size_t)i * W + j;
    float3 dC = (float3)(dl_dimg[p], dl_dimg[plane + p], dl_dimg[2 * plane + p]);
    float px = (float)j + 0.5f, py = (float)i + 0.5f;
    float T_final = final_t[p], T = T_final;
    float bg_dot = dot(background.xyz, dC);
    float3 accum = (float3)(0.0f), last_colour = (float3)(0.0f);
    float last_alpha = 0.0f;

    for (uint k = last_index[p]; k-- > range.x;) {
        uint g = values[k];
        __global float *gx = det ? g_inst + 9 * (size_t)k : g_xy + 2 * (size_t)g;
        __global float *gc = det ? g_inst + 9 * (size_t)k + 2 : g_conic + 3 * (size_t)g;
        __global float *go = det ? g_inst + 9 * (size_t)k + 5 : g_opacity + g;
        __global float *gr = det ? g_inst + 9 * (size_t)k + 6 : g_rgb + 3 * (size_t)g;
        float2 d = xy[g] - (float2)(px, py);
        float4 co = conic_opacity[g];
        float s = 0.5f * (co.x * d.x * d.x + co.z * d.y * d.y) + co.y * d.x * d.y;
        if (s < 0.0f)
            continue;
        float G = exp(-s);
        float a_raw = co.w * G;
        float alpha = fmin(blend.x, a_raw);
        if (alpha < blend.z)
            continue;
        T = T / (1.0f - alpha);
        float3 c = rgb[g].xyz;
        float w = alpha * T;
        GRAD_ADD(&gr[0], w * dC.x);
        GRAD_ADD(&gr[1], w * dC.y);
        GRAD_ADD(&gr[2], w * dC.z);
        accum = last_alpha * last_colour + (1.0f - last_alpha) * accum;
        last_colour = c;
        float dl_dalpha = dot(c - accum, dC) * T - T_final / (1.0f - alpha) * bg_dot;
        last_alpha = alpha;
        if (a_raw > blend.x)
            continue;   /* clamped: alpha does not move with o or G */
        float dl_dG = co.w * dl_dalpha;
        float gdx = G * d.x, gdy = G * d.y;
        GRAD_ADD(&gx[0], -dl_dG * (gdx * co.x + gdy * co.y));
        GRAD_ADD(&gx[1], -dl_dG * (gdy * co.z + gdx * co.y));
        GRAD_ADD(&gc[0], -0.5f * gdx * d.x * dl_dG);
        GRAD_ADD(&gc[1], -gdx * d.y * dl_dG);
        GRAD_ADD(&gc[2], -0.5f * gdy * d.y * dl_dG);
        GRAD_ADD(&go[0], G * dl_dalpha);
    }
}

/* Per pixel (global range W x H): pixel_backward with atomic sums.
 * dl_dimg: planar 3 x H x W.  size = (W, H, tiles_x, unused); blend as
 * splat_blend. */
__kernel void splat_blend_backward(__global const uint2 *ranges, __global const uint *values,
                                   __global const float2 *xy,
                                   __global const float4 *conic_opacity,
                                   __global const float4 *rgb, __global const float *final_t,
                                   __global const uint *last_index,
                                   __global const float *dl_dimg, uint4 size, float4 blend,
                                   float4 background, __global float *g_xy,
                                   __global float *g_conic, __global float *g_opacity,
                                   __global float *g_rgb)
{
    uint j = get_global_id(0), i = get_global_id(1);
    if (i >= size.y || j >= size.x)
        return;
    uint2 range = ranges[(i / SPLAT_TILE) * size.z + j / SPLAT_TILE];
    pixel_backward(i, j, range, values, xy, conic_opacity, rgb, final_t, last_index, dl_dimg,
                   size, blend, background, 0, g_xy, g_conic, g_opacity, g_rgb, g_xy);
}

/* Deterministic, per tile (global range tiles_x x tiles_y): one
 * work-item replays the tile's pixels in row-major order, adding into the
 * per-instance slots of the tile's instances (zeroed by the host), which
 * no other work-item touches: the sums come out in one fixed order. */
__kernel void splat_blend_backward_tiles(__global const uint2 *ranges,
                                         __global const uint *values, __global const float2 *xy,
                                         __global const float4 *conic_opacity,
                                         __global const float4 *rgb,
                                         __global const float *final_t,
                                         __global const uint *last_index,
                                         __global const float *dl_dimg, uint4 size, float4 blend,
                                         float4 background, __global float *g_inst)
{
    uint tx = get_global_id(0), ty = get_global_id(1);
    if (tx >= size.z || ty >= size.w)
        return;
    uint2 range = ranges[ty * size.z + tx];
    for (uint i = ty * SPLAT_TILE; i < min(size.y, (ty + 1) * SPLAT_TILE); i++)
        for (uint j = tx * SPLAT_TILE; j < min(size.x, (tx + 1) * SPLAT_TILE); j++)
            pixel_backward(i, j, range, values, xy, conic_opacity, rgb, final_t, last_index,
                           dl_dimg, size, blend, background, 1, g_inst, g_inst, g_inst, g_inst,
                           g_inst);
}

/* Deterministic, per Gaussian: sums its instances' slots over the tiles
 * of its rectangle in row-major order into g_xy, g_conic, g_opacity and
 * g_rgb (written, not added).  Gaussian g's instance in a tile is found
 * by binary search on its (tile, depth) key in the tile's sorted range,
 * then among equal keys by its index (the sort is stable and keys were
 * written in Gaussian order). */
__kernel void splat_gather_instances(__global const uint2 *rect, __global const float *depth,
                                     __global const uint2 *ranges, __global const ulong *keys,
                                     __global const uint *values, __global const float *g_inst,
                                     uint count, uint tiles_x, __global float *g_xy,
                                     __global float *g_conic, __global float *g_opacity,
                                     __global float *g_rgb)
{
    uint g = get_global_id(0);
    if (g >= count)
        return;
    float sum[9] = { 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    uint4 rb = rect_in_band(rect[g], (uint2)(0u, 0xFFFFu));
    uint xmin = rb.x, ymin = rb.y, xmax = rb.z, ymax = rb.w;
    ulong dbits = (ulong)as_uint(depth[g]);
    for (uint ty = ymin; ty < ymax; ty++)
        for (uint tx = xmin; tx < xmax; tx++) {
            uint tile = ty * tiles_x + tx;
            uint2 r = ranges[tile];
            ulong key = ((ulong)tile << 32) | dbits;
            uint lo = r.x, hi = r.y;
            while (lo < hi) {
                uint mid = lo + (hi - lo) / 2;
                if (keys[mid] < key)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            while (lo < r.y && keys[lo] == key && values[lo] != g)
                lo++;
            if (lo >= r.y || keys[lo] != key)
                continue;
            for (int c = 0; c < 9; c++)
                sum[c] += g_inst[9 * (size_t)lo + c];
        }
    g_xy[2 * g] = sum[0];
    g_xy[2 * g + 1] = sum[1];
    for (int c = 0; c < 3; c++) {
        g_conic[3 * g + c] = sum[2 + c];
        g_rgb[3 * g + c] = sum[6 + c];
    }
    g_opacity[g] = sum[5];
}

/* Adds the gradient of sum_c g[c] * colour_raw[c] with respect to the
 * unit direction (x, y, z) into *dd and writes the coefficients'
 * gradients g_sh[k] = basis_k * g (coefficient-major, 3 a coefficient);
 * the `active` first coefficients are evaluated, the others get 0. */
static void sh_backward(uint coeffs, uint active, float3 gc, float x, float y, float z,
                        __global const SH_T *sh, uint gi, __global float *g_sh, float3 *dd)
{
    float xx = x * x, yy = y * y, zz = z * z, xy = x * y, yz = y * z, xz = x * z;
    float basis[16];
    float3 db[16];
    basis[0] = SH_C0;
    db[0] = (float3)(0.0f);
    if (active > 1) {
        basis[1] = -SH_C1 * y;
        db[1] = (float3)(0.0f, -SH_C1, 0.0f);
        basis[2] = SH_C1 * z;
        db[2] = (float3)(0.0f, 0.0f, SH_C1);
        basis[3] = -SH_C1 * x;
        db[3] = (float3)(-SH_C1, 0.0f, 0.0f);
    }
    if (active > 4) {
        basis[4] = SH_C2_0 * xy;
        db[4] = SH_C2_0 * (float3)(y, x, 0.0f);
        basis[5] = SH_C2_1 * yz;
        db[5] = SH_C2_1 * (float3)(0.0f, z, y);
        basis[6] = SH_C2_2 * (2.0f * zz - xx - yy);
        db[6] = SH_C2_2 * (float3)(-2.0f * x, -2.0f * y, 4.0f * z);
        basis[7] = SH_C2_3 * xz;
        db[7] = SH_C2_3 * (float3)(z, 0.0f, x);
        basis[8] = SH_C2_4 * (xx - yy);
        db[8] = SH_C2_4 * (float3)(2.0f * x, -2.0f * y, 0.0f);
    }
    if (active > 9) {
        basis[9] = SH_C3_0 * y * (3.0f * xx - yy);
        db[9] = SH_C3_0 * (float3)(6.0f * xy, 3.0f * xx - 3.0f * yy, 0.0f);
        basis[10] = SH_C3_1 * xy * z;
        db[10] = SH_C3_1 * (float3)(yz, xz, xy);
        basis[11] = SH_C3_2 * y * (4.0f * zz - xx - yy);
        db[11] = SH_C3_2 * (float3)(-2.0f * xy, 4.0f * zz - xx - 3.0f * yy, 8.0f * yz);
        basis[12] = SH_C3_3 * z * (2.0f * zz - 3.0f * xx - 3.0f * yy);
        db[12] = SH_C3_3 * (float3)(-6.0f * xz, -6.0f * yz, 6.0f * zz - 3.0f * xx - 3.0f * yy);
        basis[13] = SH_C3_4 * x * (4.0f * zz - xx - yy);
        db[13] = SH_C3_4 * (float3)(4.0f * zz - 3.0f * xx - yy, -2.0f * xy, 8.0f * xz);
        basis[14] = SH_C3_5 * z * (xx - yy);
        db[14] = SH_C3_5 * (float3)(2.0f * xz, -2.0f * yz, xx - yy);
        basis[15] = SH_C3_6 * x * (xx - 3.0f * yy);
        db[15] = SH_C3_6 * (float3)(3.0f * xx - 3.0f * yy, -6.0f * xy, 0.0f);
    }
    for (uint k = 0; k < active; k++) {
        float3 c = SH_LOAD(sh, gi, coeffs, k);
        vstore3(basis[k] * gc, (size_t)gi * coeffs + k, g_sh);
        *dd += db[k] * dot(c, gc);
    }
    for (uint k = active; k < coeffs; k++)
        vstore3((float3)(0.0f), (size_t)gi * coeffs + k, g_sh);
}

/* Per Gaussian: from the blend gradients (g_xy, g_conic, g_opacity,
 * g_rgb) to the raw parameters' gradients, written (not added) into
 * d_means (3), d_scales (3, log scales), d_rots (4, raw quaternion),
 * d_opacity (logit) and d_sh (coeffs x 3); zero for a culled Gaussian
 * (empty rect).  Camera and options as splat_project. */
__kernel void splat_project_backward(__global const float *means, __global const float4 *rots,
                                     __global const float *scales,
                                     __global const float *opacities, __global const SH_T *sh,
                                     uint coeffs, uint active, uint count, float4 cam_r0, float4 cam_r1,
                                     float4 cam_r2, float4 intr, float4 campos, uint4 size,
                                     int mode, __global const uint2 *rect,
                                     __global const float *g_xy, __global const float *g_conic,
                                     __global const float *g_opacity,
                                     __global const float *g_rgb, __global float *d_means,
                                     __global float *d_scales, __global float *d_rots,
                                     __global float *d_opacity, __global float *d_sh)
{
    uint g = get_global_id(0);
    if (g >= count)
        return;
    uint2 rc = rect[g];
    if (rc.x == 0u && rc.y == 0u) {
        vstore3((float3)(0.0f), g, d_means);
        vstore3((float3)(0.0f), g, d_scales);
        vstore4((float4)(0.0f), g, d_rots);
        d_opacity[g] = 0.0f;
        for (uint k = 0; k < coeffs; k++)
            vstore3((float3)(0.0f), (size_t)g * coeffs + k, d_sh);
        return;
    }
    float fx = intr.x, fy = intr.y, cx = intr.z, cy = intr.w;
    float W = (float)size.x, H = (float)size.y;
    float3 m = vload3(g, means);
    float3 pc = (float3)(dot(cam_r0.xyz, m) + cam_r0.w, dot(cam_r1.xyz, m) + cam_r1.w,
                         dot(cam_r2.xyz, m) + cam_r2.w);

    /* the forward's 3D covariance */
    float4 q = rots[g];
    float qn = sqrt(q.x * q.x + q.y * q.y + q.z * q.z + q.w * q.w);
    float r = q.x / qn, x = q.y / qn, y = q.z / qn, z = q.w / qn;
    float3 s = exp(vload3(g, scales));
    float R[9] = { 1.f - 2.f * (y * y + z * z), 2.f * (x * y - r * z), 2.f * (x * z + r * y),
                   2.f * (x * y + r * z), 1.f - 2.f * (x * x + z * z), 2.f * (y * z - r * x),
                   2.f * (x * z - r * y), 2.f * (y * z + r * x), 1.f - 2.f * (x * x + y * y) };
    float sv[3] = { s.x, s.y, s.z };
    float M[9], S[9];
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            M[a * 3 + b] = R[a * 3 + b] * sv[b];
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            S[a * 3 + b] = M[a * 3] * M[b * 3] + M[a * 3 + 1] * M[b * 3 + 1] +
                           M[a * 3 + 2] * M[b * 3 + 2];

    /* the Jacobian and T = J W */
    float tan_fovx = 0.5f * W / fx, tan_fovy = 0.5f * H / fy;
    float txz = pc.x / pc.z, tyz = pc.y / pc.z, cxz, cyz;
    if (mode == 0) {
        float limx = 1.3f * tan_fovx, limy = 1.3f * tan_fovy;
        cxz = fmin(limx, fmax(-limx, txz));
        cyz = fmin(limy, fmax(-limy, tyz));
    } else {
        float lim_xp = (W - cx) / fx + 0.3f * tan_fovx, lim_xn = cx / fx + 0.3f * tan_fovx;
        float lim_yp = (H - cy) / fy + 0.3f * tan_fovy, lim_yn = cy / fy + 0.3f * tan_fovy;
        cxz = fmin(lim_xp, fmax(-lim_xn, txz));
        cyz = fmin(lim_yp, fmax(-lim_yn, tyz));
    }
    float x_free = cxz == txz ? 1.0f : 0.0f, y_free = cyz == tyz ? 1.0f : 0.0f;
    float tx = cxz * pc.z, ty = cyz * pc.z, iz = 1.0f / pc.z;
    float J00 = fx / pc.z, J02 = -fx * tx / (pc.z * pc.z);
    float J11 = fy / pc.z, J12 = -fy * ty / (pc.z * pc.z);
    float Wr[9] = { cam_r0.x, cam_r0.y, cam_r0.z, cam_r1.x, cam_r1.y, cam_r1.z,
                    cam_r2.x, cam_r2.y, cam_r2.z };
    float T0[3], T1[3];
    for (int b = 0; b < 3; b++) {
        T0[b] = J00 * Wr[b] + J02 * Wr[6 + b];
        T1[b] = J11 * Wr[3 + b] + J12 * Wr[6 + b];
    }
    float ST0[3], ST1[3];
    for (int a = 0; a < 3; a++) {
        ST0[a] = S[a * 3] * T0[0] + S[a * 3 + 1] * T0[1] + S[a * 3 + 2] * T0[2];
        ST1[a] = S[a * 3] * T1[0] + S[a * 3 + 1] * T1[1] + S[a * 3 + 2] * T1[2];
    }
    float ca = T0[0] * ST0[0] + T0[1] * ST0[1] + T0[2] * ST0[2] + 0.3f;
    float cb = T0[0] * ST1[0] + T0[1] * ST1[1] + T0[2] * ST1[2];
    float cc = T1[0] * ST1[0] + T1[1] * ST1[1] + T1[2] * ST1[2] + 0.3f;
    float det = ca * cc - cb * cb;
    float A = cc / det, B = -cb / det, C = ca / det;

    /* conic (A, B, C) = inverse(cov2d): dL/dcov2d = -Q G Q with G the
     * symmetric gradient [[gA, gB/2], [gB/2, gC]] */
    float gA = g_conic[3 * g], gB = 0.5f * g_conic[3 * g + 1], gC = g_conic[3 * g + 2];
    float QG00 = A * gA + B * gB, QG01 = A * gB + B * gC;
    float QG10 = B * gA + C * gB, QG11 = B * gB + C * gC;
    float ga = -(QG00 * A + QG01 * B);
    float gbh = -(QG00 * B + QG01 * C);           /* one off-diagonal entry */
    float gc = -(QG10 * B + QG11 * C);
    float gb = 2.0f * gbh;                        /* b appears twice */

    /* cov2d entries: a = T0 S T0, b = T0 S T1, c = T1 S T1 */
    float gT0[3], gT1[3], GS[9];
    for (int a = 0; a < 3; a++) {
        gT0[a] = 2.0f * ga * ST0[a] + gb * ST1[a];
        gT1[a] = gb * ST0[a] + 2.0f * gc * ST1[a];
    }
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            GS[a * 3 + b] = ga * T0[a] * T0[b] + gb * T0[a] * T1[b] + gc * T1[a] * T1[b];
    /* J entries */
    float gJ00 = gT0[0] * Wr[0] + gT0[1] * Wr[1] + gT0[2] * Wr[2];
    float gJ02 = gT0[0] * Wr[6] + gT0[1] * Wr[7] + gT0[2] * Wr[8];
    float gJ11 = gT1[0] * Wr[3] + gT1[1] * Wr[4] + gT1[2] * Wr[5];
    float gJ12 = gT1[0] * Wr[6] + gT1[1] * Wr[7] + gT1[2] * Wr[8];
    float iz2 = iz * iz, iz3 = iz2 * iz;
    float3 dpc;
    dpc.x = x_free * (-fx * iz2) * gJ02;
    dpc.y = y_free * (-fy * iz2) * gJ12;
    /* free: tx = x, J02 = -fx x / z^2; clamped: tx = L z, J02 = -fx L / z */
    dpc.z = -fx * iz2 * gJ00 - fy * iz2 * gJ11 + (1.0f + x_free) * fx * tx * iz3 * gJ02 +
            (1.0f + y_free) * fy * ty * iz3 * gJ12;
    /* the projected mean (fx x/z + cx, fy y/z + cy) */
    float gmx = g_xy[2 * g], gmy = g_xy[2 * g + 1];
    dpc.x += gmx * fx * iz;
    dpc.y += gmy * fy * iz;
    dpc.z -= (gmx * fx * pc.x + gmy * fy * pc.y) * iz2;
    /* camera space back to world: W^T */
    float3 dm = (float3)(Wr[0] * dpc.x + Wr[3] * dpc.y + Wr[6] * dpc.z,
                         Wr[1] * dpc.x + Wr[4] * dpc.y + Wr[7] * dpc.z,
                         Wr[2] * dpc.x + Wr[5] * dpc.y + Wr[8] * dpc.z);

    /* S = M M^T: dL/dM = (GS + GS^T) M; M = R diag(s) */
    float gM[9];
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            gM[a * 3 + b] = (GS[a * 3] + GS[a]) * M[b] + (GS[a * 3 + 1] + GS[3 + a]) * M[3 + b] +
                            (GS[a * 3 + 2] + GS[6 + a]) * M[6 + b];
    float3 dls;
    dls.x = (gM[0] * R[0] + gM[3] * R[3] + gM[6] * R[6]) * s.x;
    dls.y = (gM[1] * R[1] + gM[4] * R[4] + gM[7] * R[7]) * s.y;
    dls.z = (gM[2] * R[2] + gM[5] * R[5] + gM[8] * R[8]) * s.z;
    float gR[9];
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            gR[a * 3 + b] = gM[a * 3 + b] * sv[b];
    /* R of the normalised quaternion (r, x, y, z) */
    float gr = 2.f * (-z * gR[1] + y * gR[2] + z * gR[3] - x * gR[5] - y * gR[6] + x * gR[7]);
    float gx = 2.f * (y * gR[1] + z * gR[2] + y * gR[3] - 2.f * x * gR[4] - r * gR[5] +
                      z * gR[6] + r * gR[7] - 2.f * x * gR[8]);
    float gy = 2.f * (-2.f * y * gR[0] + x * gR[1] + r * gR[2] + x * gR[3] + z * gR[5] -
                      r * gR[6] + z * gR[7] - 2.f * y * gR[8]);
    float gz = 2.f * (-2.f * z * gR[0] - r * gR[1] + x * gR[2] + r * gR[3] - 2.f * z * gR[4] +
                      y * gR[5] + x * gR[6] + y * gR[7]);
    float4 qh = (float4)(r, x, y, z), gq = (float4)(gr, gx, gy, gz);
    float4 dq = (gq - qh * dot(qh, gq)) / qn;

    /* opacity = sigmoid(logit) */
    float o = 1.0f / (1.0f + exp(-opacities[g]));
    float dop = g_opacity[g] * o * (1.0f - o);

    /* colour = max(0, SH(dir) + 0.5), dir = (m - campos) / |m - campos| */
    float3 v = m - campos.xyz;
    float vn = length(v);
    float3 dir = vn > 0.0f ? v / vn : (float3)(0.0f);
    float3 raw = sh_colour_raw(sh, g, coeffs, active, dir.x, dir.y, dir.z);
    float3 gcol = vload3(g, g_rgb);
    gcol.x = raw.x < 0.0f ? 0.0f : gcol.x;
    gcol.y = raw.y < 0.0f ? 0.0f : gcol.y;
    gcol.z = raw.z < 0.0f ? 0.0f : gcol.z;
    float3 ddir = (float3)(0.0f);
    sh_backward(coeffs, active, gcol, dir.x, dir.y, dir.z, sh, g, d_sh, &ddir);
    if (vn > 0.0f)
        dm += (ddir - dir * dot(dir, ddir)) / vn;

    vstore3(dm, g, d_means);
    vstore3(dls, g, d_scales);
    vstore4(dq, g, d_rots);
    d_opacity[g] = dop;
}
