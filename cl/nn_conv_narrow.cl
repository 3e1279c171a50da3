/* Few-output-channel direct 2D convolution (group 1, OC <= 4), NCHW
 * float32, N = 1: the side-output and fuse convs of segmentation
 * networks (64 -> 1 3x3, 6 -> 1 1x1).
 *
 * The register-tiled kernel (nn_conv_tiled.cl) shares each input load
 * across a block of output channels; with one to four of them it has
 * little to share.  Here a work-item computes every output channel
 * (OCN) of a block of RY output rows x VW consecutive pixels: the
 * loops run over kernel rows, kernel columns and, innermost, input
 * channels, each step loading RY vectors (one per output row of the
 * block) and doing RY * OCN fused multiply-adds, so that the
 * work-item has many independent accumulators and a work-group walks
 * the input planes in long runs.  The weights stay plain OIHW (no
 * packing).
 *
 * A kernel column whose input pixels are all inside the row takes plain
 * vector loads; otherwise, at stride 1 (SX1), each vector loads the
 * nearest VW floats of the row and permutes them into place, zeroing
 * the lanes outside (the permutation computed once per kernel column);
 * other strides and rows narrower than a vector load lane by lane.  An
 * output row of the block outside the input's reach (or past OH) adds
 * nothing.  The last tile of a row is shifted left to end at the row's
 * end when the row holds a whole tile.
 *
 * Build options: -D OCN=n output channels (1..4), -D RY=n output rows
 * per work-item, -D VW=n vector width (4, 8 or 16), -D SX1=1 when the horizontal stride is 1.
 *
 * Arguments: x, y at element offsets; w plain OIHW; b with has_bias;
 * r with has_res (a residual in y's layout added after the activation);
 * shapes C x H x W -> OCN x OH x OW, kernel KH x KW, strides, dilations,
 * begin pads; act NN_ACT_NONE, NN_ACT_RELU or NN_ACT_SIGMOID
 * (nn_opcodes.h); half_out rounds results to half precision.
 * Storage (NN_HALF, cl/nn_common.cl): x, w, r and y are each float32 or
 * half (nn_conv_vec.cl), b through NN_LD; sums are float.
 * Global size: [ceil(OW / VW), ceil(OH / RY)]. */

#include "nn_opcodes.h"
#include "nn_common.cl"

#ifndef OCN
#define OCN 1
#endif
#ifndef RY
#define RY 4
#endif
#ifndef VW
#define VW 16
#endif
#ifndef SX1
#define SX1 1
#endif

#define TPX VW
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
typedef CAT(float, VW) vec;
typedef CAT(int, VW) ivec;
typedef CAT(uint, VW) uvec;
#define VLOAD(p) CAT(vload, VW)(0, (p))
#define VSTORE(v, p) CAT(vstore, VW)((v), 0, (p))
#define VROUND_HALF(v, h) (CAT(CAT(vstore_half, VW), _rte)((v), 0, (h)), CAT(vload_half, VW)(0, (h)))

#include "nn_conv_vec.cl"

__constant int narrow_iota[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

/* Reads lane l of a vector through a private array (edge paths only). */
typedef union narrow_lanes {
    vec v;
    float f[VW];
} narrow_lanes;

/* Adds the products of the OCN weights at wp (OIHW strides wstride) and
 * the input vectors xv[RY] to the accumulators; rows with ok[j] == 0
 * are left out. */
#define NARROW_FMA(xv, wp, ok)                                               \
    do {                                                                     \
        float wv_[OCN];                                                      \
        _Pragma("unroll") for (int o_ = 0; o_ < OCN; o_++)                   \
            wv_[o_] = W1((wp) + o_ * wstride);                               \
        _Pragma("unroll") for (int j_ = 0; j_ < RY; j_++) {                  \
            if (!(ok)[j_])                                                   \
                continue;                                                    \
            _Pragma("unroll") for (int o_ = 0; o_ < OCN; o_++)               \
                acc[j_][o_] = VMAC((vec)(wv_[o_]), (xv)[j_], acc[j_][o_]);   \
        }                                                                    \
    } while (0)

__kernel void conv_narrow(__global const XT *x, uint x_off, __global const WT *w,
                          uint w_off, __global const float *b, uint b_off, int has_bias,
                          __global YT *y, uint y_off, __global const RT *r, uint r_off,
                          int has_res, int C, int H, int W, int OH, int OW, int KH, int KW,
                          int sy, int sx, int dy, int dx, int py, int px, int act, int half_out)
{
    const int tx = get_global_id(0), ty = get_global_id(1);
    const int ntx = (OW + TPX - 1) / TPX;

    if (tx >= ntx || ty * RY >= OH)
        return;
    /* the last tile of a row ends at the row's end (overlapping its
       neighbour, which writes the same values) when the row holds one */
    const int ox0 = tx * TPX + TPX > OW && OW >= TPX ? OW - TPX : tx * TPX;
    const int oy0 = ty * RY;
    const int plane = H * W, ksz = KH * KW, wstride = C * ksz;
    const int full = ox0 + TPX <= OW;
    vec acc[RY][OCN];

#pragma unroll
    for (int j = 0; j < RY; j++)
#pragma unroll
        for (int o = 0; o < OCN; o++)
            acc[j][o] = (vec)(0.0f);

    for (int ky = 0; ky < KH; ky++) {
        /* the input row of each output row of the block; a row outside
           the input (or past OH) adds nothing */
        int rowat[RY], ok[RY];
#pragma unroll
        for (int j = 0; j < RY; j++) {
            const int iy = (oy0 + j) * sy - py + ky * dy;
            ok[j] = oy0 + j < OH && iy >= 0 && iy < H;
            rowat[j] = clamp(iy, 0, H - 1) * W;
        }
        for (int kx = 0; kx < KW; kx++) {
            __global const XT *xp = x + x_off;
            __global const WT *wp = w + w_off + ky * KW + kx;
            const int ixs = ox0 * sx - px + kx * dx;
#if SX1
            const int fast = ixs >= 0 && ixs + TPX <= W;
#else
            const int fast = ixs >= 0 && ixs + (TPX - 1) * sx < W;
#endif
            if (fast) {
                for (int c = 0; c < C; c++, xp += plane, wp += ksz) {
                    vec xv[RY];
#pragma unroll
                    for (int j = 0; j < RY; j++) {
#if SX1
                        xv[j] = XV(xp + rowat[j] + ixs);
#else
                        narrow_lanes t;
                        for (int l = 0; l < VW; l++)
                            t.f[l] = X1(xp + rowat[j] + ixs + l * sx);
                        xv[j] = t.v;
#endif
                    }
                    NARROW_FMA(xv, wp, ok);
                }
            }
#if SX1
            else if (W >= VW) {
                /* the VW floats of the row nearest to the pixels, permuted
                   into place; lanes outside the row are zeroed */
                const ivec pos = (ivec)(ixs) + CAT(vload, VW)(0, narrow_iota);
                const int base = clamp(ixs, 0, W - VW);
                const uvec idx = CAT(as_uint, VW)((pos - (ivec)(base)) & (ivec)(VW - 1));
                const ivec inside = pos >= (ivec)(0) & pos < (ivec)(W);
                for (int c = 0; c < C; c++, xp += plane, wp += ksz) {
                    vec xv[RY];
#pragma unroll
                    for (int j = 0; j < RY; j++)
                        xv[j] = select((vec)(0.0f), shuffle(XV(xp + rowat[j] + base), idx),
                                       inside);
                    NARROW_FMA(xv, wp, ok);
                }
            }
#endif
            else {
                for (int c = 0; c < C; c++, xp += plane, wp += ksz) {
                    vec xv[RY];
#pragma unroll
                    for (int j = 0; j < RY; j++) {
                        narrow_lanes t;
                        for (int l = 0; l < VW; l++) {
                            const int ix = ixs + l * sx;
                            t.f[l] = ix >= 0 && ix < W ? X1(xp + rowat[j] + ix) : 0.0f;
                        }
                        xv[j] = t.v;
                    }
                    NARROW_FMA(xv, wp, ok);
                }
            }
        }
    }

#pragma unroll
    for (int o = 0; o < OCN; o++) {
        const float bias = has_bias ? NN_LD(NN_R_B, b, b_off + o) : 0.0f;
#pragma unroll
        for (int j = 0; j < RY; j++) {
            const int oy = oy0 + j;
            if (oy >= OH)
                break;
            const size_t at = ((size_t)o * OH + oy) * OW + ox0;
            vec s = acc[j][o] + (vec)(bias);
            if (act == NN_ACT_RELU)
                s = fmax(s, (vec)(0.0f));
            else if (act == NN_ACT_SIGMOID)
                s = (vec)(1.0f) / ((vec)(1.0f) + exp(-s));
            if (has_res) {
                if (full) {
                    s += RV(r + r_off + at);
                } else {
                    narrow_lanes t;
                    for (int l = 0; l < VW; l++)
                        t.f[l] = ox0 + l < OW ? R1(r + r_off + at + l) : 0.0f;
                    s += t.v;
                }
            }
            if (half_out) {
                ushort hb[VW];
                s = VROUND_HALF(s, (__private half *)hb);
            }
            if (full) {
                YV(s, y + y_off + at);
            } else {
                narrow_lanes t;
                t.v = s;
                for (int l = 0; l < VW; l++)
                    if (ox0 + l < OW)
                        Y1(t.f[l], y + y_off + at + l);
            }
        }
    }
}
