/* Register-tiled direct 2D convolution (group 1), NCHW float32, N = 1.
 *
 * Each work-item computes a tile of TOC output channels x TPX = NV * VW
 * consecutive output pixels of one output row: TOC * NV accumulators of
 * VW-wide vectors.  The loops run over kernel rows, kernel columns and,
 * innermost, input channels, so that the inner loop is a tight sequence
 * of NV vector loads and TOC * NV fused multiply-adds whose weights are
 * TOC consecutive floats.
 *
 * Weights are packed (nn_conv_tiled_pack) as [OC/TOC][KH][KW][C][TOC],
 * zero-padded to a multiple of TOC output channels.
 *
 * A kernel row that falls outside the input is skipped whole; a kernel
 * column whose TPX input pixels are all inside the row takes the fast
 * path (plain vector loads); otherwise, at stride 1, each vector loads the
 * nearest VW floats of the row and permutes them into place, zeroing the
 * lanes outside (pad columns); other strides and rows narrower than a
 * vector load lane by lane with bounds checks.  The last
 * tile of a row is shifted left to end at the row's end.
 *
 * Build options (all optional):
 *   -D TOC=n     output channels per work-item (default 8)
 *   -D NV=n      vectors per work-item along the row (default 2)
 *   -D VW=n      vector width: 1, 2, 4, 8 or 16 (default 16)
 *   -D SX=n      horizontal stride specialisation: 1, 2, or 0 = any
 *                stride through lane-wise loads (default 0)
 *   -D OC_FIRST=1  dimension 0 walks output-channel blocks (CPUs: the
 *                input rows stay in cache across all of them); 0: dim 0
 *                walks pixel tiles (GPUs: neighbouring work-items read
 *                neighbouring pixels)
 *
 * Arguments: x, y at element offsets; w packed; b with has_bias; shapes
 * C x H x W -> OC x OH x OW, kernel KH x KW, strides, dilations, begin
 * pads; act NN_ACT_NONE, NN_ACT_RELU or NN_ACT_SIGMOID (nn_opcodes.h);
 * half_out: results rounded to half precision (a FLOAT16 output);
 * has_res: r (at r_off, the output's layout) is added after the
 * activation (a fused residual Add).
 *
 * Storage (NN_HALF, cl/nn_common.cl): x, w, r and y are each float32 or
 * half (pointers of type XT, WT, RT, YT; vload_half / vstore_half_rte
 * move them), b through NN_LD; the products go through nn_mul (half on
 * devices with cl_khr_fp16 under NN_HALF_MATH), the sums are float. */

#include "nn_opcodes.h"
#include "nn_common.cl"

#ifndef TOC
#define TOC 8
#endif
#ifndef NV
#define NV 2
#endif
#ifndef VW
#define VW 16
#endif
#ifndef SX
#define SX 0
#endif
#ifndef OC_FIRST
#define OC_FIRST 1
#endif

#define TPX (NV * VW)
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)

#if VW == 1
typedef float vec;
#define VLOAD(p) (*(p))
#define VSTORE(v, p) (*(p) = (v))
#define VROUND_HALF(v, h) (vstore_half_rte((v), 0, (h)), vload_half(0, (h)))
#else
typedef CAT(float, VW) vec;
#define VLOAD(p) CAT(vload, VW)(0, (p))
#define VSTORE(v, p) CAT(vstore, VW)((v), 0, (p))
#define VROUND_HALF(v, h) (CAT(CAT(vstore_half, VW), _rte)((v), 0, (h)), CAT(vload_half, VW)(0, (h)))
#endif

#if VW > 1
typedef CAT(int, VW) ivec;
typedef CAT(uint, VW) uvec;
__constant int lane_iota[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
#endif

#include "nn_conv_vec.cl"

/* Reads lane l of a vector through a private array (edge path only). */
typedef union vec_lanes {
    vec v;
    float f[VW];
} vec_lanes;

__kernel void conv_tiled(__global const XT *x, uint x_off,
                         __global const WT *w, uint w_off,
                         __global const float *b, uint b_off, int has_bias,
                         __global YT *y, uint y_off,
                         __global const RT *r, uint r_off, int has_res,
                         int C, int H, int W, int OC, int OH, int OW,
                         int KH, int KW, int sy, int sx, int dy, int dx,
                         int py, int px, int act, int half_out)
{
#if OC_FIRST
    const int ocb = get_global_id(0), tx = get_global_id(1), oy = get_global_id(2);
#else
    const int tx = get_global_id(0), oy = get_global_id(1), ocb = get_global_id(2);
#endif
    const int ntx = (OW + TPX - 1) / TPX;

    if (ocb * TOC >= OC || tx >= ntx || oy >= OH)
        return;

    /* the last tile of a row ends at the row's end, overlapping its
       neighbour (which writes the same values), so that it stays a full
       tile when the row holds at least one */
    const int ox0 = tx * TPX + TPX > OW && OW >= TPX ? OW - TPX : tx * TPX;
    const int plane = H * W;
    const int ix0 = ox0 * sx - px;
    const int ctoc = C * TOC;
    __global const XT *xb = x + x_off;
    __global const WT *wb = w + w_off + (size_t)ocb * KH * KW * ctoc;
    vec acc[TOC][NV];

#pragma unroll
    for (int j = 0; j < TOC; j++)
#pragma unroll
        for (int v = 0; v < NV; v++)
            acc[j][v] = (vec)(0.0f);

    for (int ky = 0; ky < KH; ky++) {
        const int iy = oy * sy - py + ky * dy;
        if (iy < 0 || iy >= H)
            continue;
        __global const XT *row = xb + (size_t)iy * W;
        for (int kx = 0; kx < KW; kx++) {
            const int ixs = ix0 + kx * dx;
            __global const WT *wp = wb + (size_t)(ky * KW + kx) * ctoc;
#if SX == 1
            const int fast = ixs >= 0 && ixs + TPX <= W;
#elif SX == 2
            const int fast = ixs >= 0 && ixs + 2 * TPX <= W;
#else
            const int fast = ixs >= 0 && ixs + (TPX - 1) * sx < W;
#endif
            if (fast) {
                __global const XT *p = row + ixs;
                for (int c = 0; c < C; c++, p += plane, wp += TOC) {
                    vec xv[NV];
#pragma unroll
                    for (int v = 0; v < NV; v++) {
#if SX == 1
                        xv[v] = XV(p + v * VW);
#elif SX == 2
                        xv[v] = XEVEN2(p + 2 * v * VW);
#else
                        vec_lanes t;
                        for (int l = 0; l < VW; l++)
                            t.f[l] = X1(p + (v * VW + l) * sx);
                        xv[v] = t.v;
#endif
                    }
#pragma unroll
                    for (int j = 0; j < TOC; j++) {
                        const vec wv = (vec)(W1(wp + j));
#pragma unroll
                        for (int v = 0; v < NV; v++)
                            acc[j][v] = VMAC(wv, xv[v], acc[j][v]);
                    }
                }
            }
#if SX == 1 && VW > 1
            else if (W >= VW) {
                /* each vector loads the VW floats of the row nearest to its
                   pixels and moves them into place with a lane permutation
                   (one per kernel column, outside the channel loop); lanes
                   outside the row are zeroed */
                int base[NV];
                uvec idx[NV];
                ivec inside[NV];
#pragma unroll
                for (int v = 0; v < NV; v++) {
                    const int sv = ixs + v * VW;
                    const ivec pos = (ivec)(sv) + CAT(vload, VW)(0, lane_iota);
                    base[v] = clamp(sv, 0, W - VW);
                    idx[v] = CAT(as_uint, VW)((pos - (ivec)(base[v])) & (ivec)(VW - 1));
                    inside[v] = pos >= (ivec)(0) & pos < (ivec)(W);
                }
                __global const XT *p = row;
                for (int c = 0; c < C; c++, p += plane, wp += TOC) {
                    vec xv[NV];
#pragma unroll
                    for (int v = 0; v < NV; v++)
                        xv[v] = select((vec)(0.0f), shuffle(XV(p + base[v]), idx[v]), inside[v]);
#pragma unroll
                    for (int j = 0; j < TOC; j++) {
                        const vec wv = (vec)(W1(wp + j));
#pragma unroll
                        for (int v = 0; v < NV; v++)
                            acc[j][v] = VMAC(wv, xv[v], acc[j][v]);
                    }
                }
            }
#endif
            else {
                __global const XT *p = row;
                for (int c = 0; c < C; c++, p += plane, wp += TOC) {
                    vec xv[NV];
#pragma unroll
                    for (int v = 0; v < NV; v++) {
                        vec_lanes t;
                        for (int l = 0; l < VW; l++) {
                            const int ix = ixs + (v * VW + l) * sx;
                            t.f[l] = ix >= 0 && ix < W ? X1(p + ix) : 0.0f;
                        }
                        xv[v] = t.v;
                    }
#pragma unroll
                    for (int j = 0; j < TOC; j++) {
                        const vec wv = (vec)(W1(wp + j));
#pragma unroll
                        for (int v = 0; v < NV; v++)
                            acc[j][v] = VMAC(wv, xv[v], acc[j][v]);
                    }
                }
            }
        }
    }

    const int full = ox0 + TPX <= OW;
    __global YT *yb = y + y_off + (size_t)oy * OW + ox0;
    __global const RT *rb = r + r_off + (size_t)oy * OW + ox0;
#pragma unroll
    for (int j = 0; j < TOC; j++) {
        const int oc = ocb * TOC + j;
        if (oc >= OC)
            break;
        const float bias = has_bias ? NN_LD(NN_R_B, b, b_off + oc) : 0.0f;
        __global YT *yp = yb + (size_t)oc * OH * OW;
        __global const RT *rp = rb + (size_t)oc * OH * OW;
#pragma unroll
        for (int v = 0; v < NV; v++) {
            vec o = acc[j][v] + (vec)(bias);
            if (act == NN_ACT_RELU)
                o = fmax(o, (vec)(0.0f));
            else if (act == NN_ACT_SIGMOID)
                o = (vec)(1.0f) / ((vec)(1.0f) + exp(-o));
            if (has_res) {
                if (full) {
                    o += RV(rp + v * VW);
                } else {
                    vec_lanes t;
                    for (int l = 0; l < VW; l++)
                        t.f[l] = ox0 + v * VW + l < OW ? R1(rp + v * VW + l) : 0.0f;
                    o += t.v;
                }
            }
            if (half_out) {
                ushort hb[VW];
                o = VROUND_HALF(o, (__private half *)hb);
            }
            if (full) {
                YV(o, yp + v * VW);
            } else {
                vec_lanes t;
                t.v = o;
                for (int l = 0; l < VW; l++)
                    if (ox0 + v * VW + l < OW)
                        Y1(t.f[l], yp + v * VW + l);
            }
        }
    }
}
