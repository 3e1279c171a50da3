/* Storage-typed vector access for the vectorised Conv kernels
 * (nn_conv_tiled.cl, nn_conv_narrow.cl), which include it (cl/embed.sh
 * inlines it) after defining VW (vector width), CAT, vec (floatVW),
 * VLOAD and VSTORE, and after nn_common.cl (NN_HALF, the NN_R_* roles).
 *
 * Each tensor argument's pointer type follows its storage: XT (input),
 * WT (weights), RT (residual), YT (output) are half or float.  XV / RV
 * load VW consecutive elements, X1 / W1 / R1 one, YV / Y1 store (rounded
 * to nearest even when half); XEVEN2 takes the even elements of 2 * VW
 * (stride-2 pixels); VMAC is the multiply-add of the tap loops. */

#if VW == 1
#define HLOADV(p) vload_half(0, (p))
#define HSTOREV(v, p) vstore_half_rte((v), 0, (p))
#else
#define HLOADV(p) CAT(vload_half, VW)(0, (p))
#define HSTOREV(v, p) CAT(CAT(vstore_half, VW), _rte)((v), 0, (p))
#endif
#if (NN_HALF >> NN_R_X) & 1
#define XT half
#define XV(p) HLOADV(p)
#define X1(p) vload_half(0, (p))
#else
#define XT float
#define XV(p) VLOAD(p)
#define X1(p) (*(p))
#endif
#if (NN_HALF >> NN_R_W) & 1
#define WT half
#define W1(p) vload_half(0, (p))
#else
#define WT float
#define W1(p) (*(p))
#endif
#if (NN_HALF >> NN_R_RES) & 1
#define RT half
#define RV(p) HLOADV(p)
#define R1(p) vload_half(0, (p))
#else
#define RT float
#define RV(p) VLOAD(p)
#define R1(p) (*(p))
#endif
#if (NN_HALF >> NN_R_Y) & 1
#define YT half
#define YV(v, p) HSTOREV((v), (p))
#define Y1(v, p) vstore_half_rte((v), 0, (p))
#else
#define YT float
#define YV(v, p) VSTORE((v), (p))
#define Y1(v, p) (*(p) = (v))
#endif
#if VW == 1
#define XEVEN2(p) X1(p)
#else
#define XEVEN2(p) ((vec)(XV(p).even, XV((p) + VW).even))
#endif

/* acc + w * x: a fused multiply-add in float; with NN_HALF_PRODUCTS (a
 * device with cl_khr_fp16, half input and weights) the product is taken
 * in half and added in float (see nn_mul, cl/nn_common.cl). */
#if NN_HALF_PRODUCTS && defined(cl_khr_fp16)
#if VW == 1
#define VMAC(w, x, a) ((a) + (float)((half)(w) * (half)(x)))
#else
#define VMAC(w, x, a) \
    ((a) + CAT(convert_float, VW)(CAT(convert_half, VW)(w) * CAT(convert_half, VW)(x)))
#endif
#elif NN_HALF_PRODUCTS
/* emulated half products (see nn_mul): the exact float product rounded
   once to half */
vec nn_vec_round_half(vec v)
{
    ushort h[VW];
    return VROUND_HALF(v, (__private half *)h);
}
#define VMAC(w, x, a) ((a) + nn_vec_round_half((w) * (x)))
#else
#define VMAC(w, x, a) fma((w), (x), (a))
#endif

