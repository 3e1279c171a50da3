/* Direct convolution of the network engine (engine/nn_conv_direct.c): any
 * Conv the graph allows, as models/graph_eval_spatial.c computes it, with
 * plain OIHW float32 weights.
 *
 * The window works over three spatial dims: a Conv with fewer has leading
 * dims of size 1 (kernel 1, stride 1, no pads), so one kernel serves 1-D,
 * 2-D and 3-D convolutions.  Vectors hold the dims in .s0 .s1 .s2
 * (outermost first): in, out, kernel, strides, dilations, begin pads.
 *
 * A work-item computes NN_CO_BLOCK (a build option: 1, 4 or 8) output
 * channels of one group at one output position, reading each input tap
 * once for all of them.  The channels of group g are blocks of NN_CO_BLOCK
 * from g * mg; the last block of a group may be partial (its extra lanes
 * read the block's first channel and store nothing).
 *
 * The tap loops have no branches (so that a CPU driver vectorizes them
 * across work-items): a tap in the padding reads the nearest input
 * element and adds 0 times its weight (only an infinite or NaN weight
 * there would differ from skipping it, as the host does).
 *
 * Each input channel's taps are summed apart before joining the total
 * (two-level summation keeps float rounding close to the host's double
 * accumulation on wide convolutions).
 *
 * Global size: [output plane (o0 * o1 * o2), batch * group * blocks per
 * group], rounded up to the work-group size.
 *
 * act: NN_ACT_NONE, NN_ACT_RELU or NN_ACT_SIGMOID (nn_opcodes.h).
 * has_res: res (at roff, the output's shape) is added after the
 * activation (a fused residual Add).
 * half_out: round results to half precision (a FLOAT16 output).
 * Storage of x, w, bias, res and out: NN_HALF (cl/nn_common.cl); the
 * products go through nn_mul, the sums are float. */

#ifndef NN_CO_BLOCK
#define NN_CO_BLOCK 4
#endif

#include "nn_opcodes.h"
#include "nn_common.cl"

__kernel void nn_conv_direct(__global const float *x, uint xoff, __global const float *w,
                             uint woff, __global const float *bias, uint boff, int has_bias,
                             __global float *out, uint ooff, __global const float *res,
                             uint roff, int has_res, int4 in, int4 osz, int4 k,
                             int4 s, int4 d, int4 pb, int cin, int cout, int cg, int mg,
                             int blocks, int groups, int batch, int act, int half_out)
{
    uint o = get_global_id(0), id = get_global_id(1);
    uint plane_out = (uint)(osz.s0 * osz.s1 * osz.s2);
    uint plane_in = (uint)(in.s0 * in.s1 * in.s2);
    uint ksize = (uint)(k.s0 * k.s1 * k.s2);
    int o0, o1, o2, bi, g, blk, m0, nvalid;
    uint wstride[NN_CO_BLOCK];
    float acc[NN_CO_BLOCK];

    if (o >= plane_out || id >= (uint)(batch * groups * blocks))
        return;
    blk = (int)(id % (uint)blocks);
    g = (int)((id / (uint)blocks) % (uint)groups);
    bi = (int)(id / (uint)(blocks * groups));
    m0 = g * mg + blk * NN_CO_BLOCK;
    nvalid = min(NN_CO_BLOCK, mg - blk * NN_CO_BLOCK);
    o2 = (int)(o % (uint)osz.s2);
    o1 = (int)((o / (uint)osz.s2) % (uint)osz.s1);
    o0 = (int)(o / (uint)(osz.s2 * osz.s1));

#pragma unroll
    for (int j = 0; j < NN_CO_BLOCK; j++) {
        wstride[j] = (uint)(j < nvalid ? j : 0) * (uint)cg * ksize;
        acc[j] = has_bias ? NN_LD(NN_R_B, bias, boff + (uint)(m0 + (j < nvalid ? j : 0))) : 0.0f;
    }
    for (int c = 0; c < cg; c++) {
        uint xp = xoff + ((uint)(bi * cin + g * cg + c)) * plane_in;
        uint wp = woff + ((uint)m0 * (uint)cg + (uint)c) * ksize;
        float part[NN_CO_BLOCK];
#pragma unroll
        for (int j = 0; j < NN_CO_BLOCK; j++)
            part[j] = 0.0f;
        for (int k0 = 0; k0 < k.s0; k0++) {
            int i0 = o0 * s.s0 - pb.s0 + k0 * d.s0;
            int ok0 = i0 >= 0 && i0 < in.s0;
            for (int k1 = 0; k1 < k.s1; k1++) {
                int i1 = o1 * s.s1 - pb.s1 + k1 * d.s1;
                int ok1 = ok0 && i1 >= 0 && i1 < in.s1;
                uint xr =
                    xp + (uint)((clamp(i0, 0, in.s0 - 1) * in.s1 + clamp(i1, 0, in.s1 - 1)) *
                                in.s2);
                uint kr = (uint)((k0 * k.s1 + k1) * k.s2);
                for (int k2 = 0; k2 < k.s2; k2++) {
                    int i2 = o2 * s.s2 - pb.s2 + k2 * d.s2;
                    float v = NN_LD(NN_R_X, x, xr + (uint)clamp(i2, 0, in.s2 - 1));
                    v = (ok1 && i2 >= 0 && i2 < in.s2) ? v : 0.0f;
#pragma unroll
                    for (int j = 0; j < NN_CO_BLOCK; j++)
                        part[j] += nn_mul(NN_LD(NN_R_W, w, wp + wstride[j] + kr + (uint)k2), v);
                }
            }
        }
#pragma unroll
        for (int j = 0; j < NN_CO_BLOCK; j++)
            acc[j] += part[j];
    }
#pragma unroll
    for (int j = 0; j < NN_CO_BLOCK; j++) {
        float r = acc[j];
        if (j >= nvalid)
            break;
        if (act == NN_ACT_RELU)
            r = r < 0.0f ? 0.0f : r;
        else if (act == NN_ACT_SIGMOID)
            r = 1.0f / (1.0f + exp(-r));
        uint at = ((uint)(bi * cout + m0 + j)) * plane_out + o;
        if (has_res)
            r += NN_LD(NN_R_RES, res, roff + at);
        NN_ST(NN_R_Y, out, ooff + at, nn_store_value(r, half_out));
    }
}
