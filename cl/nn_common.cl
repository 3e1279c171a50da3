/* Shared by the network kernels (nn_*.cl): cl/embed.sh inlines this file
 * where a kernel source says #include "nn_common.cl".
 *
 * Tensor storage.  A tensor argument is either float32 or half storage
 * (segment precision fp16: 2 bytes an element, read with vload_half and
 * written with vstore_half_rte, core OpenCL 1.2 with no extension).  The
 * launcher builds the kernel with -D NN_HALF=MASK, bit k set when the
 * tensor of storage role k (NN_R_*, nn_opcodes.h, included before this
 * file) is half: the choice is a build-time
 * constant, folded away by the compiler, and part of the program's cache
 * key.  Kernels index tensors by element (never by pointer arithmetic on
 * the declared float pointer), so one index serves both storages; every
 * value is float once loaded, so arithmetic and accumulation stay float
 * (nn_mul below is the one product that may run in half). */

#ifndef NN_HALF
#define NN_HALF 0
#endif

#define NN_IS_HALF(role) ((NN_HALF >> (role)) & 1)

/* Element i of tensor p of storage role `role`, as float. */
#define NN_LD(role, p, i) \
    (NN_IS_HALF(role) ? vload_half((i), (const __global half *)(p)) : (p)[(i)])

/* Stores float v as element i of tensor p of storage role `role`
 * (rounded to nearest even when half). */
#define NN_ST(role, p, i, v) \
    do { \
        if (NN_IS_HALF(role)) \
            vstore_half_rte((v), (i), (__global half *)(p)); \
        else \
            (p)[(i)] = (v); \
    } while (0)

/* Four consecutive elements from element 4 * i (vload4 / vload_half4). */
#define NN_LD4(role, p, i) \
    (NN_IS_HALF(role) ? vload_half4((i), (const __global half *)(p)) : vload4((i), (p)))

/* Rounds v to half precision when half_out is set (round to nearest
 * even, overflow to infinity), else returns it unchanged: how a FLOAT16
 * tensor held in float32 storage stores a result. */
float nn_store_value(float v, int half_out)
{
    ushort h;

    if (!half_out)
        return v;
    vstore_half_rte(v, 0, (__private half *)&h);
    return vload_half(0, (const __private half *)&h);
}

/* The products of a Conv's taps: with -D NN_HALF_MATH (segment precision
 * fp16 on a device with cl_khr_fp16), when both the input and the
 * weights are half-stored (so both factors are exact halves), the
 * product of a weight and an input is taken in half and widened for a
 * float accumulation; otherwise in float (a float32 network input, say).
 * Accumulation is float in both.  NN_HALF_PRODUCTS says which.  Without
 * cl_khr_fp16 the half product is emulated (slowly, for measuring on a
 * CPU what a half device computes): the float product of two halves is
 * exact (22 significant bits), so rounding it once to half is the half
 * product. */
#if defined(NN_HALF_MATH) && ((NN_HALF >> NN_R_X) & 1) && ((NN_HALF >> NN_R_W) & 1)
#define NN_HALF_PRODUCTS 1
#else
#define NN_HALF_PRODUCTS 0
#endif
#if NN_HALF_PRODUCTS && defined(cl_khr_fp16)
#pragma OPENCL EXTENSION cl_khr_fp16 : enable
#define nn_mul(a, b) ((float)((half)(a) * (half)(b)))
#elif NN_HALF_PRODUCTS
#define nn_mul(a, b) nn_store_value((a) * (b), 1)
#else
#define nn_mul(a, b) ((a) * (b))
#endif

