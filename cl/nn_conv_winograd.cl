/* Winograd convolution F(m x m, 3 x 3) for 3x3 stride-1 dilation-1 Conv
 * (group 1), NCHW float32, N = 1, m = 2 (alpha = 4) or m = 4 (alpha = 6).
 *
 * Three kernels, run in order by nn_conv_winograd.c:
 *   wino_input   V[a][c][p] = (B^T d B)[a] for input tile p of channel c
 *                (tiles are m x m output blocks, p = ty * tiles_xp + tx
 *                in a band of tile rows, with tiles_xp the tiles of a row
 *                rounded up to NT; the
 *                alpha x alpha input patch reads zero outside the image,
 *                so tiles past it are zero); NT tiles per work-item.
 *   wino_gemm    M[a][o][p] = sum_c U[a][o][c] V[a][c][p], a batched
 *                product over the alpha^2 points, register-tiled: each
 *                work-item holds TOC output channels x NV vectors of VW
 *                tiles (TOC * NV accumulators of VW floats), the inner
 *                loop over c is NV vector loads and TOC * NV fused
 *                multiply-adds with TOC consecutive weights.  U is packed
 *                (nn_conv_winograd_pack) as [a][OCpad/TOC][C][TOC], M has
 *                OCpad rows of Ppad (a multiple of NV * VW and of NT)
 *                columns.
 *   wino_output  y = act((A^T M A) + bias) (+ residual), the m x m block
 *                of each tile clipped to the output; NT tiles per
 *                work-item.
 *
 * The host runs the three over bands of tile rows, so that V and M of a
 * band stay in cache.  A fourth kernel, wino_fused (below), does all
 * three per block of tiles without V and M in global memory.
 *
 * Build options: -D WM=2|4 (m), -D NT=2|4|8|16 (tiles per work-item of
 * the transforms), and for wino_gemm -D TOC, NV, VW.
 *
 * Storage (NN_HALF, cl/nn_common.cl): wino_input's x, wino_gemm's U
 * (the transformed weights, role w: transformed in float at upload, then
 * rounded to half) and wino_output's b, res and y may be half; V and M
 * (scratch, not arena) stay float32, and so do the sums. */

#include "nn_opcodes.h"
#include "nn_common.cl"

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

/* Transforms run on NT tiles side by side, one per lane of a tvec: the
 * NT tiles of a strip along a tile row. */
#ifndef NT
#define NT 4
#endif
typedef CAT(float, NT) tvec;
#define TLOAD(p) CAT(vload, NT)(0, (p))
#define TSTORE(v, p) CAT(vstore, NT)((v), 0, (p))
#define SPAN (NT * WM + 2)

/* Lane access through a private union (the compiler turns it into
 * shuffles). */
typedef union tvec_lanes {
    tvec v;
    float f[NT];
} tvec_lanes;

/* The 1D input transform t = B^T d of ALPHA values. */
static inline void wino_bt(const tvec *d, tvec *t)
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

/* The 1D output transform o = A^T m of ALPHA values into WM values. */
static inline void wino_at(const tvec *m, tvec *o)
{
#if WM == 2
    o[0] = m[0] + m[1] + m[2];
    o[1] = m[1] - m[2] - m[3];
#else
    const tvec s12 = m[1] + m[2], d12 = m[1] - m[2];
    const tvec s34 = m[3] + m[4], d34 = m[3] - m[4];
    o[0] = m[0] + s12 + s34;
    o[1] = d12 + 2.0f * d34;
    o[2] = s12 + 4.0f * s34;
    o[3] = d12 + 8.0f * d34 + m[5];
#endif
}

/* One work-item per strip of NT tiles of one tile row of one channel, in
 * the band of tile rows from ty0: global (tiles_xp / NT, ceil(Ppad /
 * tiles_xp), C).  Tile p = (ty - ty0) * tiles_xp + tx; tiles past the
 * image (tx >= tiles_x, ty >= tiles_y) read zeros, so every column of V
 * below Ppad is written. */
__kernel void wino_input(__global const float *x, uint x_off, __global float *v, uint v_off,
                         int C, int H, int W, int py, int px, int tiles_xp, int ty0, int Ppad)
{
    const int sx = get_global_id(0), c = get_global_id(2);
    const int p0 = get_global_id(1) * tiles_xp + sx * NT, ty = ty0 + get_global_id(1);

    if (sx * NT >= tiles_xp || p0 >= Ppad || c >= C)
        return;
    const int iy0 = ty * WM - py, ix0 = sx * NT * WM - px;
    const int inner = ix0 >= 0 && ix0 + SPAN <= W;
    const uint xc = x_off + (uint)c * (uint)H * (uint)W;
    tvec d[ALPHA][ALPHA], r[ALPHA][ALPHA];

#pragma unroll
    for (int i = 0; i < ALPHA; i++) {
        const int iy = iy0 + i;
        float buf[SPAN];
        if (iy < 0 || iy >= H) {
#pragma unroll
            for (int k = 0; k < SPAN; k++)
                buf[k] = 0.0f;
        } else if (inner) {
            const uint row = xc + (uint)iy * (uint)W + (uint)ix0;
#pragma unroll
            for (int k = 0; k < SPAN; k++)
                buf[k] = NN_LD(NN_R_X, x, row + (uint)k);
        } else {
            const uint row = xc + (uint)iy * (uint)W;
#pragma unroll
            for (int k = 0; k < SPAN; k++) {
                const int ix = ix0 + k;
                buf[k] = ix >= 0 && ix < W ? NN_LD(NN_R_X, x, row + (uint)ix) : 0.0f;
            }
        }
#pragma unroll
        for (int j = 0; j < ALPHA; j++) {
            tvec_lanes u;
#pragma unroll
            for (int l = 0; l < NT; l++)
                u.f[l] = buf[l * WM + j];
            d[i][j] = u.v;
        }
    }
#pragma unroll
    for (int i = 0; i < ALPHA; i++)
        wino_bt(d[i], r[i]);
    __global float *vp = v + v_off + (size_t)c * Ppad + p0;
    const size_t vstride = (size_t)C * Ppad;
#pragma unroll
    for (int j = 0; j < ALPHA; j++) {
        tvec col[ALPHA], t[ALPHA];
#pragma unroll
        for (int i = 0; i < ALPHA; i++)
            col[i] = r[i][j];
        wino_bt(col, t);
#pragma unroll
        for (int i = 0; i < ALPHA; i++)
            TSTORE(t[i], vp + (i * ALPHA + j) * vstride);
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
/* U's storage: half or float (role w). */
#if (NN_HALF >> NN_R_W) & 1
#define UT half
#define U1(p) vload_half(0, (p))
#else
#define UT float
#define U1(p) (*(p))
#endif

__kernel void wino_gemm(__global const UT *u, uint u_off, __global const float *v, uint v_off,
                        __global float *m, uint m_off, int C, int OCpad, int Ppad)
{
    const int ocb = get_global_id(0), pt = get_global_id(1), a = get_global_id(2);

    if (ocb * TOC >= OCpad || pt * TP >= Ppad || a >= A2)
        return;
    __global const UT *up = u + u_off + ((size_t)a * OCpad + (size_t)ocb * TOC) * C;
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
            const vec wv = (vec)(U1(up + j));
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

/* One work-item per strip of NT tiles of one tile row (of the band from
 * ty0 to tiles_y) of one output channel o: global (tiles_xp / NT,
 * tiles_y - ty0, OC).  has_res: add res (the
 * output's shape, at res_off) after the activation; half_out: results
 * rounded to half precision. */
__kernel void wino_output(__global const float *m, uint m_off, __global const float *b,
                          uint b_off, int has_bias, __global const float *res, uint res_off,
                          int has_res, __global float *y, uint y_off, int OC, int OCpad,
                          int OH, int OW, int tiles_xp, int ty0, int tiles_y, int Ppad,
                          int act, int half_out)
{
    const int sx = get_global_id(0), ty = ty0 + get_global_id(1), o = get_global_id(2);
    const int ox0 = sx * NT * WM;

    if (sx * NT >= tiles_xp || ty >= tiles_y || o >= OC || ox0 >= OW)
        return;
    __global const float *mp = m + m_off + (size_t)o * Ppad + (ty - ty0) * tiles_xp + sx * NT;
    const size_t mstride = (size_t)OCpad * Ppad;
    tvec t[ALPHA][WM], out[WM][WM];

#pragma unroll
    for (int i = 0; i < ALPHA; i++) {
        tvec row[ALPHA];
#pragma unroll
        for (int j = 0; j < ALPHA; j++)
            row[j] = TLOAD(mp + (i * ALPHA + j) * mstride);
        wino_at(row, t[i]);
    }
    const tvec bias = (tvec)(has_bias ? NN_LD(NN_R_B, b, b_off + o) : 0.0f);
#pragma unroll
    for (int j = 0; j < WM; j++) {
        tvec col[ALPHA], oj[WM];
#pragma unroll
        for (int i = 0; i < ALPHA; i++)
            col[i] = t[i][j];
        wino_at(col, oj);
#pragma unroll
        for (int i = 0; i < WM; i++) {
            tvec r = oj[i] + bias;
            if (act == NN_ACT_RELU)
                r = fmax(r, (tvec)(0.0f));
            else if (act == NN_ACT_SIGMOID)
                r = (tvec)(1.0f) / ((tvec)(1.0f) + exp(-r));
            out[i][j] = r;
        }
    }
    const int n = min(NT * WM, OW - ox0);
#pragma unroll
    for (int i = 0; i < WM; i++) {
        const int oy = ty * WM + i;
        if (oy >= OH)
            break;
        const size_t at = ((size_t)o * OH + oy) * OW + ox0;
        float vals[NT * WM];
#pragma unroll
        for (int j = 0; j < WM; j++) {
            tvec_lanes u;
            u.v = out[i][j];
#pragma unroll
            for (int l = 0; l < NT; l++)
                vals[l * WM + j] = u.f[l];
        }
        if (has_res) {
            for (int k = 0; k < n; k++)
                vals[k] += NN_LD(NN_R_RES, res, res_off + (uint)(at + k));
        }
        if (half_out) {
            for (int k = 0; k < n; k++)
                vals[k] = nn_store_value(vals[k], 1);
        }
        const uint yp = y_off + (uint)at;
        if (n == NT * WM) {
#pragma unroll
            for (int k = 0; k < NT * WM; k++)
                NN_ST(NN_R_Y, y, yp + (uint)k, vals[k]);
        } else {
            for (int k = 0; k < n; k++)
                NN_ST(NN_R_Y, y, yp + (uint)k, vals[k]);
        }
    }
}

/* The fused kernel: input transform, product and output transform of one
 * block of tiles in one work-group, V and M kept in the work-item's
 * private arrays (on a CPU: cache), never written to global memory.
 * (Not __local memory: under POCL 3.1 the kernel's __local buffers were
 * corrupted once another kernel had run with a larger work-group.)
 *
 * A work-group (one work-item) owns FNV tile rows x NT tiles of a row
 * (lanes of a tvec) and FOCB output channels: global (ceil(tiles_x /
 * NT), ceil(tiles_y / FNV), ceil(OC / FOCB) * DIL^2).  Over chunks of FCK input
 * channels it transforms the chunk's input tiles into vl[a][c][tile],
 * then adds the chunk's product into ml[a][o][tile], FTOC channels x FNV
 * vectors in registers per step; after the last chunk it transforms ml
 * into the outputs, with the bias / activation / residual / half_out
 * epilogue of wino_output.  U is packed as for wino_gemm with TOC = FTOC
 * ([a][OCpad/FTOC][C][FTOC]).
 *
 * Dilation DIL (3x3 taps DIL apart, stride 1): the output splits into
 * DIL x DIL phases (rows ry mod DIL, columns rx mod DIL), each an
 * undilated 3x3 conv of the input's same phase, so the kernel runs
 * F(4,3) on each phase's sub-grid: a tile's pixel (i, j) is output pixel
 * ((ty * WM + i) * DIL + ry, (tx * WM + j) * DIL + rx).  Global dim 2
 * walks the output-channel blocks x the DIL^2 phases; tiles_x and
 * tiles_y count the tiles of the largest phase.
 *
 * Build options: -D WM, NT as above; -D FNV, FTOC, FCK, FOCB (FOCB a
 * multiple of FTOC), -D DIL (default 1).  Storage (NN_HALF): x, U, b,
 * res and y may be half, read and written by element index; the
 * transformed tiles and products stay float. */
#ifndef DIL
#define DIL 1
#endif
#ifndef FNV
#define FNV 2
#endif
#ifndef FTOC
#define FTOC 6
#endif
#ifndef FCK
#define FCK 32
#endif
#ifndef FOCB
#define FOCB 48
#endif
#define FTP (FNV * NT)

/* Transforms input channel c's tiles of tile rows ty0 .. ty0 + FNV - 1
 * (strip from tile column tx0) of phase (ry, rx) into dst[a * FCK * FTP
 * + v * NT + lane]. */
static inline void fused_input(__global const float *x, size_t xc, int H, int W, int py,
                               int px, int tx0, int ty0, int ry, int rx, float *dst)
{
    const int ix0 = tx0 * WM * DIL + rx - px;
    const int inner = ix0 >= 0 && ix0 + (SPAN - 1) * DIL < W;

    for (int v = 0; v < FNV; v++) {
        const int iy0 = (ty0 + v) * WM * DIL + ry - py;
        tvec d[ALPHA][ALPHA], r[ALPHA][ALPHA];
#pragma unroll
        for (int i = 0; i < ALPHA; i++) {
            const int iy = iy0 + i * DIL;
            float buf[SPAN];
            if (iy < 0 || iy >= H) {
#pragma unroll
                for (int k = 0; k < SPAN; k++)
                    buf[k] = 0.0f;
            } else if (inner) {
                const size_t row = xc + (size_t)iy * W + ix0;
#pragma unroll
                for (int k = 0; k < SPAN; k++)
                    buf[k] = NN_LD(NN_R_X, x, row + k * DIL);
            } else {
                const size_t row = xc + (size_t)iy * W;
#pragma unroll
                for (int k = 0; k < SPAN; k++) {
                    const int ix = ix0 + k * DIL;
                    buf[k] = ix >= 0 && ix < W ? NN_LD(NN_R_X, x, row + ix) : 0.0f;
                }
            }
#pragma unroll
            for (int j = 0; j < ALPHA; j++) {
                tvec_lanes u;
#pragma unroll
                for (int l = 0; l < NT; l++)
                    u.f[l] = buf[l * WM + j];
                d[i][j] = u.v;
            }
        }
#pragma unroll
        for (int i = 0; i < ALPHA; i++)
            wino_bt(d[i], r[i]);
#pragma unroll
        for (int j = 0; j < ALPHA; j++) {
            tvec col[ALPHA], t[ALPHA];
#pragma unroll
            for (int i = 0; i < ALPHA; i++)
                col[i] = r[i][j];
            wino_bt(col, t);
#pragma unroll
            for (int i = 0; i < ALPHA; i++)
                TSTORE(t[i], dst + (i * ALPHA + j) * FCK * FTP + v * NT);
        }
    }
}

__kernel void wino_fused(__global const float *x, uint x_off, __global const float *u,
                         uint u_off, __global const float *b, uint b_off, int has_bias,
                         __global const float *res, uint res_off, int has_res,
                         __global float *y, uint y_off, int C, int H, int W, int py, int px,
                         int OC, int OCpad, int OH, int OW, int act, int half_out)
{
    float vl[A2 * FCK * FTP];
    float ml[A2 * FOCB * FTP];
    const int tiles_x = ((OW + DIL - 1) / DIL + WM - 1) / WM;
    const int tiles_y = ((OH + DIL - 1) / DIL + WM - 1) / WM;
    const int tx0 = get_global_id(0) * NT, ty0 = get_global_id(1) * FNV;
    const int ob = get_global_id(2) / (DIL * DIL) * FOCB;
    const int phase = get_global_id(2) % (DIL * DIL), ry = phase / DIL, rx = phase % DIL;
    const int nblk = min(FOCB, OCpad - ob) / FTOC;

    if (tx0 >= tiles_x || ty0 >= tiles_y || ob >= OC)
        return;
    for (int c0 = 0; c0 < C; c0 += FCK) {
        const int ck = min(FCK, C - c0);
        for (int c = 0; c < ck; c++)
            fused_input(x, x_off + (size_t)(c0 + c) * H * W, H, W, py, px, tx0, ty0, ry, rx,
                        vl + c * FTP);
        for (int a = 0; a < A2; a++) {
            const float *va = vl + a * FCK * FTP;
            for (int k = 0; k < nblk; k++) {
                size_t up = u_off +
                            (((size_t)a * (OCpad / FTOC) + ob / FTOC + k) * C + c0) * FTOC;
                float *ma = ml + (a * FOCB + k * FTOC) * FTP;
                tvec acc[FTOC][FNV];
                if (c0 == 0) {
#pragma unroll
                    for (int j = 0; j < FTOC; j++)
#pragma unroll
                        for (int v = 0; v < FNV; v++)
                            acc[j][v] = (tvec)(0.0f);
                } else {
#pragma unroll
                    for (int j = 0; j < FTOC; j++)
#pragma unroll
                        for (int v = 0; v < FNV; v++)
                            acc[j][v] = TLOAD(ma + j * FTP + v * NT);
                }
                for (int c = 0; c < ck; c++, up += FTOC) {
                    tvec xv[FNV];
#pragma unroll
                    for (int v = 0; v < FNV; v++)
                        xv[v] = TLOAD(va + c * FTP + v * NT);
#pragma unroll
                    for (int j = 0; j < FTOC; j++) {
                        const tvec wv = (tvec)(NN_LD(NN_R_W, u, up + j));
#pragma unroll
                        for (int v = 0; v < FNV; v++)
                            acc[j][v] = fma(wv, xv[v], acc[j][v]);
                    }
                }
#pragma unroll
                for (int j = 0; j < FTOC; j++)
#pragma unroll
                    for (int v = 0; v < FNV; v++)
                        TSTORE(acc[j][v], ma + j * FTP + v * NT);
            }
        }
    }

    /* the phase's columns from ox0, DIL apart: n of them inside */
    const int ox0 = tx0 * WM * DIL + rx, n = min(NT * WM, (OW - ox0 + DIL - 1) / DIL);
    const int oend = min(ob + FOCB, OC);

    if (n <= 0)
        return;
    for (int o = ob; o < oend; o++) {
        const tvec bias = (tvec)(has_bias ? NN_LD(NN_R_B, b, b_off + o) : 0.0f);
        for (int v = 0; v < FNV; v++) {
            const int ty = ty0 + v;
            if (ty >= tiles_y)
                break;
            const float *mp = ml + (o - ob) * FTP + v * NT;
            tvec t[ALPHA][WM], out[WM][WM];
#pragma unroll
            for (int i = 0; i < ALPHA; i++) {
                tvec row[ALPHA];
#pragma unroll
                for (int j = 0; j < ALPHA; j++)
                    row[j] = TLOAD(mp + (i * ALPHA + j) * FOCB * FTP);
                wino_at(row, t[i]);
            }
#pragma unroll
            for (int j = 0; j < WM; j++) {
                tvec col[ALPHA], oj[WM];
#pragma unroll
                for (int i = 0; i < ALPHA; i++)
                    col[i] = t[i][j];
                wino_at(col, oj);
#pragma unroll
                for (int i = 0; i < WM; i++) {
                    tvec r = oj[i] + bias;
                    if (act == NN_ACT_RELU)
                        r = fmax(r, (tvec)(0.0f));
                    else if (act == NN_ACT_SIGMOID)
                        r = (tvec)(1.0f) / ((tvec)(1.0f) + exp(-r));
                    out[i][j] = r;
                }
            }
#pragma unroll
            for (int i = 0; i < WM; i++) {
                const int oy = (ty * WM + i) * DIL + ry;
                if (oy >= OH)
                    break;
                const size_t at = ((size_t)o * OH + oy) * OW + ox0;
                float vals[NT * WM];
#pragma unroll
                for (int j = 0; j < WM; j++) {
                    tvec_lanes q;
                    q.v = out[i][j];
#pragma unroll
                    for (int l = 0; l < NT; l++)
                        vals[l * WM + j] = q.f[l];
                }
                if (has_res) {
                    for (int k = 0; k < n; k++)
                        vals[k] += NN_LD(NN_R_RES, res, res_off + at + k * DIL);
                }
                if (half_out) {
                    for (int k = 0; k < n; k++)
                        vals[k] = nn_store_value(vals[k], 1);
                }
                const size_t yp = y_off + at;
                if (n == NT * WM) {
#pragma unroll
                    for (int k = 0; k < NT * WM; k++)
                        NN_ST(NN_R_Y, y, yp + k * DIL, vals[k]);
                } else {
                    for (int k = 0; k < n; k++)
                        NN_ST(NN_R_Y, y, yp + k * DIL, vals[k]);
                }
            }
        }
    }
}
