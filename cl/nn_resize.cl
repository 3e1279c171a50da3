/* Resize (and Upsample) of the network engine (engine/nn_resize.c), as
 * models/graph_eval_spatial.c computes it: per axis, the node's
 * coordinate transformation maps an output coordinate to an input one,
 * which gives up to four (input index, weight) taps: nearest (the node's
 * rounding mode), linear or cubic weights over edge-clamped neighbours
 * (exclude_outside renormalizes over the inside ones, and drops zero
 * weights); tf_crop_and_resize gives the extrapolation value outside the
 * input.  The output element is the sum over every combination of its
 * axes' taps of the product of their weights times the input there.
 *
 * Two kernels:
 *  - nn_resize_table: one work-item per output coordinate of every axis
 *    (axis a's coordinates start at entry bases[a]) computes its taps,
 *    in double where the device has it (as the host reference does),
 *    into itab (6 ints per entry: count, outside, 4 indices) and wtab (4
 *    weights per entry);
 *  - nn_resize: one work-item per output element sums its taps.
 *
 * Shapes come as int8 vectors (rank <= 8 dims); scales and the region of
 * interest (begin roi0, end roi1, as fractions) as float8 vectors.  Mode,
 * coordinate and rounding codes are NN_RESIZE_*, NN_COORD_* and
 * NN_NEAREST_* (nn_opcodes.h: the graph's enum values). */

#pragma OPENCL FP_CONTRACT OFF

#ifdef cl_khr_fp64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double real;
#else
typedef float real;
#endif

#include "nn_opcodes.h"
#include "nn_common.cl"

#ifndef RESIZE_TAPS
#define RESIZE_TAPS 4
#endif

/* The input coordinate of output coordinate o on an axis of `in` input
 * and `out` output elements (graph_eval_spatial.c's resize_coord). */
real resize_coord(int coord, real scale, int sized, int in, int out, real r0, real r1, real o)
{
    real length = sized ? (real)out : scale * (real)in;

    switch (coord) {
    case NN_COORD_ALIGN_CORNERS:
        return length == (real)1 ? (real)0 : o * (real)(in - 1) / (length - (real)1);
    case NN_COORD_ASYMMETRIC:
        return o / scale;
    case NN_COORD_TF_CROP_AND_RESIZE:
        return (length == (real)1 ? (r1 - r0) * (real)(in - 1) / (real)2
                                  : o * (r1 - r0) * (real)(in - 1) / (length - (real)1)) +
               r0 * (real)(in - 1);
    case NN_COORD_PYTORCH_HALF_PIXEL:
        return length == (real)1 ? (real)-0.5 : (o + (real)0.5) / scale - (real)0.5;
    case NN_COORD_HALF_PIXEL_SYMMETRIC: {
        real adjust = (real)out / length;
        real offset = (real)in / (real)2 * ((real)1 - adjust);
        return offset + (o + (real)0.5) / scale - (real)0.5;
    }
    case NN_COORD_TF_HALF_PIXEL_FOR_NN:
        return (o + (real)0.5) / scale;
    default:
        return (o + (real)0.5) / scale - (real)0.5;
    }
}

/* The interpolation weights for fraction `ratio` in (0, 1] into c;
 * returns how many (2 or 4). */
int resize_coeffs(int mode, int nearest, real A, real ratio, real *c)
{
    int up;

    if (mode == NN_RESIZE_CUBIC) {
        real r = ratio, q = (real)1 - ratio;
        c[0] = ((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A;
        c[1] = ((A + 2) * r - (A + 3)) * r * r + 1;
        c[2] = ((A + 2) * q - (A + 3)) * q * q + 1;
        c[3] = ((A * (q + 1) - 5 * A) * (q + 1) + 8 * A) * (q + 1) - 4 * A;
        return 4;
    }
    if (mode == NN_RESIZE_LINEAR) {
        c[0] = (real)1 - ratio;
        c[1] = ratio;
        return 2;
    }
    if (ratio == (real)1) {
        up = 1;
    } else {
        switch (nearest) {
        case NN_NEAREST_ROUND_PREFER_CEIL: up = ratio >= (real)0.5; break;
        case NN_NEAREST_FLOOR: up = 0; break;
        case NN_NEAREST_CEIL: up = 1; break;
        default: up = ratio > (real)0.5; break;
        }
    }
    c[0] = up ? (real)0 : (real)1;
    c[1] = up ? (real)1 : (real)0;
    return 2;
}

__kernel void nn_resize_table(__global int *itab, __global float *wtab, uint wtab_off,
                              uint total, int rank, int8 in_dims, int8 out_dims, int8 bases,
                              float8 scales, float8 roi0, float8 roi1, int mode, int coord,
                              int nearest, float cubic_a, int exclude_outside, int sized)
{
    uint t = get_global_id(0);
    int din[8], dout[8], base_of[8];
    float sc[8], r0[8], r1[8];
    int a = 0, in, k = 0, n;
    real x, fl, ratio, sum = 0, c[4];
    long base;
    __global int *ip;
    __global float *wp;

    if (t >= total)
        return;
    vstore8(in_dims, 0, din);
    vstore8(out_dims, 0, dout);
    vstore8(bases, 0, base_of);
    vstore8(scales, 0, sc);
    vstore8(roi0, 0, r0);
    vstore8(roi1, 0, r1);
    for (int i = 1; i < rank; i++)
        if ((uint)base_of[i] <= t)
            a = i;
    in = din[a];
    x = resize_coord(coord, (real)sc[a], sized, in, dout[a], (real)r0[a], (real)r1[a],
                     (real)(t - (uint)base_of[a]));
    fl = floor(x);
    ratio = x == fl ? (real)1 : x - fl;
    n = resize_coeffs(mode, nearest, (real)cubic_a, ratio, c);
    base = (long)fl - (n == 4 ? 1 : 0) - (ratio == (real)1 ? 1 : 0);
    ip = itab + t * 6;
    wp = wtab + wtab_off + t * 4;
    ip[1] = coord == NN_COORD_TF_CROP_AND_RESIZE && (x < (real)0 || x > (real)(in - 1));
    for (int j = 0; j < n; j++) {
        long i = base + j;
        if (exclude_outside && (i < 0 || i >= in))
            c[j] = 0;
        sum += c[j];
    }
    for (int j = 0; j < n; j++) {
        long i = base + j;
        real wj = exclude_outside && sum != (real)0 ? c[j] / sum : c[j];
        if (wj == (real)0)
            continue;
        ip[2 + k] = i < 0 ? 0 : (i >= in ? in - 1 : (int)i);
        wp[k] = (float)wj;
        k++;
    }
    if (k == 0) {
        ip[2] = 0;
        wp[0] = 0.0f;
        k = 1;
    }
    for (int j = k; j < 4; j++) {
        ip[2 + j] = 0;
        wp[j] = 0.0f;
    }
    ip[0] = k;
}

__kernel void nn_resize(__global const float *x, uint xoff, __global float *out, uint ooff,
                        __global const int *itab, __global const float *wtab, uint wtab_off,
                        uint n, int rank, int8 in_dims, int8 out_dims, int8 bases,
                        float extrapolation, int half_out)
{
    uint i = get_global_id(0);
    int din[8], dout[8], base_of[8], entry[8], cnt[8], pos[8];
    uint stride[8], rem = i, acc = 1;
    int outside = 0;
    float total = 0.0f;

    if (i >= n)
        return;
    vstore8(in_dims, 0, din);
    vstore8(out_dims, 0, dout);
    vstore8(bases, 0, base_of);
    for (int a = rank - 1; a >= 0; a--) {
        int c = (int)(rem % (uint)dout[a]);
        rem /= (uint)dout[a];
        entry[a] = base_of[a] + c;
        cnt[a] = itab[entry[a] * 6];
        outside |= itab[entry[a] * 6 + 1];
        pos[a] = 0;
        stride[a] = acc;
        acc *= (uint)din[a];
    }
    if (outside) {
        NN_ST(NN_R_Y, out, ooff + i, nn_store_value(extrapolation, half_out));
        return;
    }
    for (;;) {
        float w = 1.0f;
        uint off = 0;
        int a;
        for (a = 0; a < rank; a++) {
            int e = entry[a];
            w *= wtab[wtab_off + (uint)(e * 4 + pos[a])];
            off += (uint)itab[e * 6 + 2 + pos[a]] * stride[a];
        }
        total += w * NN_LD(NN_R_X, x, xoff + off);
        a = rank - 1;
        while (a >= 0 && ++pos[a] == cnt[a]) {
            pos[a] = 0;
            a--;
        }
        if (a < 0)
            break;
    }
    NN_ST(NN_R_Y, out, ooff + i, nn_store_value(total, half_out));
}

/* The common case, fast: only the last two axes are resized (every
 * leading axis maps each output index to itself) and nothing is
 * extrapolated, so each output element of plane p sums its row taps
 * (entry ybase + oy) times its column taps (entry xbase + ox) of plane p.
 * One work-item per output pixel (ox, oy) and block of `pstep`
 * consecutive planes: it reads the pixel's taps from the tables once and
 * applies them to every plane of the block (the tables cost one read per
 * block, not per element).  The tap loops run to RESIZE_TAPS (a build
 * option: 2 for nearest and linear, 4 for cubic) without branches, so
 * that a CPU driver vectorizes them across work-items.  Global size:
 * (ow, oh, ceil(planes / pstep)). */
__kernel void nn_resize_planes(__global const float *x, uint xoff, __global float *out,
                               uint ooff, __global const int *itab, __global const float *wtab,
                               uint wtab_off, int ih, int iw, int oh, int ow, int ybase,
                               int xbase, int planes, int pstep, int half_out)
{
    int ox = get_global_id(0), oy = get_global_id(1), p0 = get_global_id(2) * pstep;
    uint in_plane = (uint)ih * (uint)iw, out_plane = (uint)oh * (uint)ow;
    float wy[RESIZE_TAPS], wx[RESIZE_TAPS];
    uint ry[RESIZE_TAPS], cxo[RESIZE_TAPS];
    int ey, ex, cy, cx, pend;

    if (ox >= ow || oy >= oh || p0 >= planes)
        return;
    ey = ybase + oy;
    ex = xbase + ox;
    cy = itab[ey * 6];
    cx = itab[ex * 6];
    /* a tap past the entry's count weighs 0 (and reads nothing) */
#pragma unroll
    for (int j = 0; j < RESIZE_TAPS; j++) {
        wy[j] = j < cy ? wtab[wtab_off + (uint)(ey * 4 + j)] : 0.0f;
        ry[j] = j < cy ? (uint)itab[ey * 6 + 2 + j] * (uint)iw : 0u;
        wx[j] = j < cx ? wtab[wtab_off + (uint)(ex * 4 + j)] : 0.0f;
        cxo[j] = j < cx ? (uint)itab[ex * 6 + 2 + j] : 0u;
    }
    pend = min(planes, p0 + pstep);
    uint src = xoff + (uint)p0 * in_plane;
    uint dst = ooff + (uint)p0 * out_plane + (uint)oy * (uint)ow + (uint)ox;
    for (int p = p0; p < pend; p++, src += in_plane, dst += out_plane) {
        float total = 0.0f;
#pragma unroll
        for (int j = 0; j < RESIZE_TAPS; j++)
#pragma unroll
            for (int k = 0; k < RESIZE_TAPS; k++) {
                float v = NN_LD(NN_R_X, x, src + ry[j] + cxo[k]);
                total += wy[j] * wx[k] * (j < cy && k < cx ? v : 0.0f);
            }
        NN_ST(NN_R_Y, out, dst, nn_store_value(total, half_out));
    }
}
