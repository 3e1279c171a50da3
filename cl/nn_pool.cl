/* MaxPool and AveragePool of the network engine (engine/nn_pool.c), as
 * models/graph_eval_spatial.c computes them.
 *
 * The window works over three spatial dims: a pool with fewer has
 * leading dims of size 1 (kernel 1, stride 1, no pads), so one kernel
 * serves 1-D, 2-D and 3-D pools.  Vectors hold the dims in .s0 .s1 .s2
 * (outermost first): in, out, kernel, strides, dilations, begin pads
 * (pb) and end pads (pe).
 *
 * Max: the largest input inside the window; padding never wins (a window
 * with nothing inside gives -inf).  Average: the sum of the inputs inside
 * divided by the count of taps inside the input, or, with
 * count_include_pad, of taps inside the padded input (never the
 * ceil_mode overhang past the end pads); a count of 0 gives 0.
 *
 * op: NN_POOL_MAX or NN_POOL_AVG (nn_opcodes.h).  Storage of x and out:
 * NN_HALF (cl/nn_common.cl); the average sums in float.
 *
 * Global size: [output plane (o0 * o1 * o2), planes (batch * channels)],
 * rounded up to the work-group size. */

#include "nn_opcodes.h"
#include "nn_common.cl"

__kernel void nn_pool(__global const float *x, uint xoff, __global float *out, uint ooff,
                      uint planes, int4 in, int4 osz, int4 k, int4 s, int4 d, int4 pb, int4 pe,
                      int op, int include_pad, int half_out)
{
    uint o = get_global_id(0), p = get_global_id(1);
    uint plane_out = (uint)(osz.s0 * osz.s1 * osz.s2);
    uint plane_in = (uint)(in.s0 * in.s1 * in.s2);
    int o0, o1, o2, count = 0;
    float sum = 0.0f, best = -INFINITY, r;
    uint xp;

    if (o >= plane_out || p >= planes)
        return;
    o2 = (int)(o % (uint)osz.s2);
    o1 = (int)((o / (uint)osz.s2) % (uint)osz.s1);
    o0 = (int)(o / (uint)(osz.s2 * osz.s1));
    xp = xoff + p * plane_in;
    for (int k0 = 0; k0 < k.s0; k0++) {
        int i0 = o0 * s.s0 - pb.s0 + k0 * d.s0;
        int in0 = i0 >= 0 && i0 < in.s0;
        int pad0 = i0 >= -pb.s0 && i0 < in.s0 + pe.s0;
        for (int k1 = 0; k1 < k.s1; k1++) {
            int i1 = o1 * s.s1 - pb.s1 + k1 * d.s1;
            int in1 = in0 && i1 >= 0 && i1 < in.s1;
            int pad1 = pad0 && i1 >= -pb.s1 && i1 < in.s1 + pe.s1;
            for (int k2 = 0; k2 < k.s2; k2++) {
                int i2 = o2 * s.s2 - pb.s2 + k2 * d.s2;
                int inside = in1 && i2 >= 0 && i2 < in.s2;
                int padded = pad1 && i2 >= -pb.s2 && i2 < in.s2 + pe.s2;
                float v;
                count += include_pad ? padded : inside;
                if (!inside)
                    continue;
                v = NN_LD(NN_R_X, x, xp + (uint)((i0 * in.s1 + i1) * in.s2 + i2));
                sum += v;
                best = v > best ? v : best;
            }
        }
    }
    if (op == NN_POOL_MAX)
        r = best;
    else
        r = count ? sum / (float)count : 0.0f;
    NN_ST(NN_R_Y, out, ooff + p * plane_out + o, nn_store_value(r, half_out));
}

/* The U2-Net pool, fast: MaxPool 2x2, stride 2, no pads, no dilation over
 * 2 spatial dims (ceil_mode's overhang is the bounds check at the last
 * row and column).  One work-item per output element, (ox, oy, plane). */
__kernel void nn_maxpool_2x2(__global const float *x, uint xoff, __global float *out, uint ooff,
                             int ih, int iw, int oh, int ow, int planes, int half_out)
{
    int ox = get_global_id(0), oy = get_global_id(1), p = get_global_id(2);
    int ix = 2 * ox, iy = 2 * oy;
    uint r0;
    float best;

    if (ox >= ow || oy >= oh || p >= planes)
        return;
    r0 = xoff + ((uint)p * (uint)ih + (uint)iy) * (uint)iw + (uint)ix;
    best = NN_LD(NN_R_X, x, r0);
    if (ix + 1 < iw)
        best = fmax(best, NN_LD(NN_R_X, x, r0 + 1));
    if (iy + 1 < ih) {
        best = fmax(best, NN_LD(NN_R_X, x, r0 + (uint)iw));
        if (ix + 1 < iw)
            best = fmax(best, NN_LD(NN_R_X, x, r0 + (uint)iw + 1));
    }
    NN_ST(NN_R_Y, out, ooff + ((uint)p * (uint)oh + (uint)oy) * (uint)ow + (uint)ox,
          nn_store_value(best, half_out));
}
