/* The kernels around the GEMM convolution (engine/nn/nn_conv_gemm.c).
 *
 * conv_gemm_im2col: col[(c * KH + ky) * KW + kx][oy * OW + ox] =
 *   x[c][iy][ix] (0 in the padding); global (OH * OW, C * KH * KW).
 * conv_gemm_epilogue: in place over y[OC][npix]:
 *   y = act(y + bias[oc]) (+ res), rounded to half when half_out;
 *   global (npix, OC).
 * Storage (NN_HALF, cl/nn_common.cl): im2col reads x (role x) and writes
 * float columns; the epilogue's y is float32 (the GEMM writes float),
 * its bias and res may be half. */

#include "nn_opcodes.h"
#include "nn_common.cl"

__kernel void conv_gemm_im2col(__global const float *x, uint x_off, __global float *col,
                               uint col_off, int C, int H, int W, int OH, int OW, int KH, int KW,
                               int sy, int sx, int dy, int dx, int py, int px)
{
    const int p = get_global_id(0), r = get_global_id(1);
    const int npix = OH * OW;

    if (p >= npix || r >= C * KH * KW)
        return;
    const int kx = r % KW, ky = (r / KW) % KH, c = r / (KW * KH);
    const int oy = p / OW, ox = p % OW;
    const int iy = oy * sy - py + ky * dy, ix = ox * sx - px + kx * dx;
    float v = 0.0f;

    if (iy >= 0 && iy < H && ix >= 0 && ix < W)
        v = NN_LD(NN_R_X, x, x_off + ((size_t)c * H + iy) * W + ix);
    col[col_off + (size_t)r * npix + p] = v;
}

__kernel void conv_gemm_epilogue(__global float *y, uint y_off, __global const float *b,
                                 uint b_off, int has_bias, __global const float *res,
                                 uint res_off, int has_res, int npix, int OC, int act,
                                 int half_out)
{
    const int p = get_global_id(0), o = get_global_id(1);

    if (p >= npix || o >= OC)
        return;
    const size_t at = (size_t)o * npix + p;
    float r = y[y_off + at] + (has_bias ? NN_LD(NN_R_B, b, b_off + o) : 0.0f);
    if (act == NN_ACT_RELU)
        r = fmax(r, 0.0f);
    else if (act == NN_ACT_SIGMOID)
        r = 1.0f / (1.0f + exp(-r));
    if (has_res)
        r += NN_LD(NN_R_RES, res, res_off + at);
    if (half_out) {
        ushort h;
        vstore_half_rte(r, 0, (__private half *)&h);
        r = vload_half(0, (const __private half *)&h);
    }
    y[y_off + at] = r;
}
