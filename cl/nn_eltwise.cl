/* Elementwise and data-movement kernels of the network engine
 * (engine/nn_eltwise.c): arithmetic with numpy broadcasting, the
 * one-input activations, and strided copies (Transpose, Slice, Concat).
 *
 * Tensors are dense float32 at an element offset inside a buffer.  Shapes
 * come as arguments: up to 8 dims in an int8 (the host has merged the
 * axes it could and dropped those of size 1), with per-axis element
 * strides for each operand (0 on a broadcast axis, negative for a Slice
 * with a negative step).  A work-item handles one output element; the
 * global size is rounded up to the work-group size, so every kernel
 * checks its index against the count.
 *
 * half_out: the output is a FLOAT16 tensor, whose float32 storage holds
 * values rounded to half precision (nearest even).  Storage (float32 or
 * half) per tensor: NN_HALF, cl/nn_common.cl (x: a / in, res: b, y: out). */

/* op: NN_BIN_* and NN_UN_* */
#include "nn_opcodes.h"
#include "nn_common.cl"

/* a op b with broadcasting: element i of the output (dims, row-major)
 * reads a at sum(coord * astr) and b at sum(coord * bstr). */
__kernel void nn_binary(__global const float *a, uint aoff, __global const float *b, uint boff,
                        __global float *out, uint ooff, uint n, int rank, int8 dims,
                        int8 astr, int8 bstr, int op, int half_out)
{
    uint i = get_global_id(0);
    int d[8], sa[8], sb[8];
    uint rem = i;
    int ia = 0, ib = 0;
    float x, y, r;

    if (i >= n)
        return;
    vstore8(dims, 0, d);
    vstore8(astr, 0, sa);
    vstore8(bstr, 0, sb);
    for (int k = rank - 1; k > 0; k--) {
        int c = (int)(rem % (uint)d[k]);
        rem /= (uint)d[k];
        ia += c * sa[k];
        ib += c * sb[k];
    }
    ia += (int)rem * sa[0];
    ib += (int)rem * sb[0];
    x = NN_LD(NN_R_X, a, aoff + (uint)ia);
    y = NN_LD(NN_R_RES, b, boff + (uint)ib);
    switch (op) {
    case NN_BIN_ADD: r = x + y; break;
    case NN_BIN_SUB: r = x - y; break;
    case NN_BIN_MUL: r = x * y; break;
    default: r = x / y; break;
    }
    NN_ST(NN_R_Y, out, ooff + i, nn_store_value(r, half_out));
}

/* One-input elementwise op over n elements: copy (with the half rounding
 * of a Cast), Relu, Sigmoid, Clip to [lo, hi]. */
__kernel void nn_unary(__global const float *in, uint ioff, __global float *out, uint ooff,
                       uint n, int op, float lo, float hi, int half_out)
{
    uint i = get_global_id(0);
    float v;

    if (i >= n)
        return;
    v = NN_LD(NN_R_X, in, ioff + i);
    switch (op) {
    case NN_UN_RELU: v = v > 0.0f ? v : 0.0f; break;
    case NN_UN_SIGMOID: v = 1.0f / (1.0f + exp(-v)); break;
    case NN_UN_CLIP:
        if (v < lo)
            v = lo;
        if (v > hi)
            v = hi;
        break;
    default: break;
    }
    NN_ST(NN_R_Y, out, ooff + i, nn_store_value(v, half_out));
}

/* Strided copy of n elements: element i (row-major over dims) reads
 * in[ioff + ibase + sum(coord * istr)] and writes
 * out[ooff + sum(coord * ostr)]. */
__kernel void nn_copy_strided(__global const float *in, uint ioff, int ibase,
                              __global float *out, uint ooff, uint n, int rank, int8 dims,
                              int8 istr, int8 ostr)
{
    uint i = get_global_id(0);
    int d[8], si[8], so[8];
    uint rem = i;
    int ii = ibase, io = 0;

    if (i >= n)
        return;
    vstore8(dims, 0, d);
    vstore8(istr, 0, si);
    vstore8(ostr, 0, so);
    for (int k = rank - 1; k > 0; k--) {
        int c = (int)(rem % (uint)d[k]);
        rem /= (uint)d[k];
        ii += c * si[k];
        io += c * so[k];
    }
    ii += (int)rem * si[0];
    io += (int)rem * so[0];
    NN_ST(NN_R_Y, out, ooff + (uint)io, NN_LD(NN_R_X, in, ioff + (uint)ii));
}
