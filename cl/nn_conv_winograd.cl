/* Winograd convolution F(m x m, 3 x 3) for 3x3 stride-1 dilation-1 Conv
 * (group 1), NCHW float32, N = 1, m = 2 (alpha = 4) or m = 4 (alpha = 6).
 *
 * Three kernels, run in order by nn_conv_winograd.c:
 *   wino_input   V[a][c][p] = (B^T d B)[a] for input tile p of channel c
 *                (tiles are m x m output blocks in row-major order; the
 *                alpha x alpha input patch reads zero outside the image);
 *                columns p >= P up to Ppad are written as zero.
 *   wino_gemm    M[a][o][p] = sum_c U[a][o][c] V[a][c][p], a batched
 *                product over the alpha^2 points, register-tiled: each
 *                work-item holds TOC output channels x NV vectors of VW
 *                tiles (TOC * NV accumulators of VW floats), the inner
 *                loop over c is NV vector loads and TOC * NV fused
 *                multiply-adds with TOC consecutive weights.  U is packed
 *                (nn_conv_winograd_pack) as [a][OCpad/TOC][C][TOC], M has
 *                OCpad rows of Ppad (a multiple of NV * VW) columns.
 *   wino_output  y = act((A^T M A) + bias) (+ residual), the m x m block
 *                of each tile clipped to the output.
 *
 * Build options: -D WM=2|4 (m), and for wino_gemm -D TOC, NV, VW. */

#include "nn_opcodes.h"

#ifndef WM
#define WM 4
#endif
#ifndef TOC
#define TOC 16
#endif
#ifndef NV
#define NV 1
#endif
#ifndef VW
#define VW 16
#endif

#define ALPHA (WM + 2)
#define A2 (ALPHA * ALPHA)
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)

/* The 1D input transform B^T d of ALPHA values (in place into t). */
static inline void wino_bt(const float *d, float *t)
{
#if WM == 2
    t[0] = d[0] - d[2];
    t[1] = d[1] + d[2];
    t[2] = d[2] - d[1];
    t[3] = d[1] - d[3];
#else
    t[0] = 4.0f * d[0] - 5.0f * d[2] + d[4];
    t[1] = -4.0f * (d[1] + d[2]) + d[3] + d[4];
    t[2] = 4.0f * (d[1] - d[2]) - d[3] + d[4];
    t[3] = 2.0f * (d[3] - d[1]) - d[2] + d[4];
    t[4] = 2.0f * (d[1] - d[3]) - d[2] + d[4];
    t[5] = 4.0f * d[1] - 5.0f * d[3] + d[5];
#endif
}

/* The 1D output transform A^T m of ALPHA values into WM values. */
static inline void wino_at(const float *m, float *o)
{
#if WM == 2
    o[0] = m[0] + m[1] + m[2];
    o[1] = m[1] - m[2] - m[3];
#else
    const float s12 = m[1] + m[2], d12 = m[1] - m[2];
    const float s34 = m[3] + m[4], d34 = m[3] - m[4];
    o[0] = m[0] + s12 + s34;
    o[1] = d12 + 2.0f * d34;
    o[2] = s12 + 4.0f * s34;
    o[3] = d12 + 8.0f * d34 + m[5];
#endif
}

/* One work-item per (tile p of Ppad, channel c): global (Ppad, C). */
__kernel void wino_input(__global const float *x, uint x_off, __global float *v, uint v_off,
                         int C, int H, int W, int py, int px, int tiles_x, int P, int Ppad)
{
    const int p = get_global_id(0), c = get_global_id(1);

    if (p >= Ppad || c >= C)
        return;
    __global float *vp = v + v_off + (size_t)c * Ppad + p;
    const size_t vstride = (size_t)C * Ppad;
    if (p >= P) {
        for (int a = 0; a < A2; a++)
            vp[a * vstride] = 0.0f;
        return;
    }
    const int iy0 = (p / tiles_x) * WM - py, ix0 = (p % tiles_x) * WM - px;
    __global const float *xc = x + x_off + (size_t)c * H * W;
    float d[ALPHA][ALPHA], r[ALPHA][ALPHA];

    if (iy0 >= 0 && ix0 >= 0 && iy0 + ALPHA <= H && ix0 + ALPHA <= W) {
#pragma unroll
        for (int i = 0; i < ALPHA; i++)
#pragma unroll
            for (int j = 0; j < ALPHA; j++)
                d[i][j] = xc[(iy0 + i) * W + ix0 + j];
    } else {
#pragma unroll
        for (int i = 0; i < ALPHA; i++)
#pragma unroll
            for (int j = 0; j < ALPHA; j++) {
                const int iy = iy0 + i, ix = ix0 + j;
                d[i][j] = iy >= 0 && iy < H && ix >= 0 && ix < W ? xc[iy * W + ix] : 0.0f;
            }
    }
    /* rows: r[i] = B^T applied along each row, then columns */
#pragma unroll
    for (int i = 0; i < ALPHA; i++)
        wino_bt(d[i], r[i]);
#pragma unroll
    for (int j = 0; j < ALPHA; j++) {
        float col[ALPHA], t[ALPHA];
#pragma unroll
        for (int i = 0; i < ALPHA; i++)
            col[i] = r[i][j];
        wino_bt(col, t);
#pragma unroll
        for (int i = 0; i < ALPHA; i++)
            vp[(i * ALPHA + j) * vstride] = t[i];
    }
}

#if VW == 1
typedef float vec;
#define VLOAD(p) (*(p))
#define VSTORE(v, p) (*(p) = (v))
#else
typedef CAT(float, VW) vec;
#define VLOAD(p) CAT(vload, VW)(0, (p))
#define VSTORE(v, p) CAT(vstore, VW)((v), 0, (p))
#endif
#define TP (NV * VW)

/* global (OCpad / TOC, Ppad / TP, A2). */
__kernel void wino_gemm(__global const float *u, uint u_off, __global const float *v, uint v_off,
                        __global float *m, uint m_off, int C, int OCpad, int Ppad)
{
    const int ocb = get_global_id(0), pt = get_global_id(1), a = get_global_id(2);

    if (ocb * TOC >= OCpad || pt * TP >= Ppad || a >= A2)
        return;
    __global const float *up = u + u_off + ((size_t)a * OCpad + (size_t)ocb * TOC) * C;
    __global const float *vp = v + v_off + (size_t)a * C * Ppad + (size_t)pt * TP;
    vec acc[TOC][NV];

#pragma unroll
    for (int j = 0; j < TOC; j++)
#pragma unroll
        for (int k = 0; k < NV; k++)
            acc[j][k] = (vec)(0.0f);
    for (int c = 0; c < C; c++, vp += Ppad, up += TOC) {
        vec xv[NV];
#pragma unroll
        for (int k = 0; k < NV; k++)
            xv[k] = VLOAD(vp + k * VW);
#pragma unroll
        for (int j = 0; j < TOC; j++) {
            const vec wv = (vec)(up[j]);
#pragma unroll
            for (int k = 0; k < NV; k++)
                acc[j][k] = fma(wv, xv[k], acc[j][k]);
        }
    }
    __global float *mp = m + m_off + ((size_t)a * OCpad + (size_t)ocb * TOC) * Ppad +
                         (size_t)pt * TP;
#pragma unroll
    for (int j = 0; j < TOC; j++)
#pragma unroll
        for (int k = 0; k < NV; k++)
            VSTORE(acc[j][k], mp + (size_t)j * Ppad + k * VW);
}

/* One work-item per (tile p < P, output channel o): global (P, OC).
 * has_res: add res (the output's shape, at res_off) after the
 * activation; half_out: results rounded to half precision. */
__kernel void wino_output(__global const float *m, uint m_off, __global const float *b,
                          uint b_off, int has_bias, __global const float *res, uint res_off,
                          int has_res, __global float *y, uint y_off, int OC, int OCpad,
                          int OH, int OW, int tiles_x, int P, int Ppad, int act, int half_out)
{
    const int p = get_global_id(0), o = get_global_id(1);

    if (p >= P || o >= OC)
        return;
    __global const float *mp = m + m_off + (size_t)o * Ppad + p;
    const size_t mstride = (size_t)OCpad * Ppad;
    float t[ALPHA][WM], out[WM][WM];

#pragma unroll
    for (int i = 0; i < ALPHA; i++) {
        float row[ALPHA];
#pragma unroll
        for (int j = 0; j < ALPHA; j++)
            row[j] = mp[(i * ALPHA + j) * mstride];
        wino_at(row, t[i]);
    }
#pragma unroll
    for (int j = 0; j < WM; j++) {
        float col[ALPHA], o4[WM];
#pragma unroll
        for (int i = 0; i < ALPHA; i++)
            col[i] = t[i][j];
        wino_at(col, o4);
#pragma unroll
        for (int i = 0; i < WM; i++)
            out[i][j] = o4[i];
    }
    const float bias = has_bias ? b[b_off + o] : 0.0f;
    const int oy0 = (p / tiles_x) * WM, ox0 = (p % tiles_x) * WM;
    const size_t plane = (size_t)o * OH * OW;
#pragma unroll
    for (int i = 0; i < WM; i++) {
        const int oy = oy0 + i;
        if (oy >= OH)
            break;
#pragma unroll
        for (int j = 0; j < WM; j++) {
            const int ox = ox0 + j;
            if (ox >= OW)
                break;
            const size_t at = plane + (size_t)oy * OW + ox;
            float r = out[i][j] + bias;
            if (act == NN_ACT_RELU)
                r = fmax(r, 0.0f);
            else if (act == NN_ACT_SIGMOID)
                r = 1.0f / (1.0f + exp(-r));
            if (has_res)
                r += res[res_off + at];
            if (half_out) {
                ushort h;
                vstore_half_rte(r, 0, (__private half *)&h);
                r = vload_half(0, (const __private half *)&h);
            }
            y[y_off + at] = r;
        }
    }
}
