/* rembg's pre- and post-processing of segmentation networks on 8-bit
 * values, bit-exact with the Python libraries it uses (engine/seg_prepost.h):
 *
 * - PIL's Image.resize(LANCZOS) on 8-bit images (Pillow's
 *   src/libImaging/Resample.c, ImagingResample{Horizontal,Vertical}_8bpc):
 *   separable, horizontal pass first; fixed-point coefficients with 22
 *   fractional bits (computed on the host, in double, as PIL does); each
 *   pass accumulates in int from 1 << 21 and clips (acc >> 22) to 0..255,
 *   so each pass rounds half up to uint8.
 * - OpenCV's morphologyEx(MORPH_OPEN) with the 3x3 ellipse (a cross) and
 *   GaussianBlur((5,5), sigma 2, BORDER_REFLECT_101) on CV_8U, which runs
 *   the bit-exact fixed-point path: 8-bit fractional kernel taps, the row
 *   pass exact in 16 bits, the column pass in 32 bits rounded as
 *   (acc + (1 << 15)) >> 16.
 *
 * 8-bit intermediates live in uchar buffers; planar layout everywhere
 * (channel c, row y, column x at [(c * height + y) * width + x]).
 * Resize weight tables hold, per output coordinate o, stride = ksize + 2
 * ints: [first source index, tap count, ksize coefficients].
 *
 * Contraction into fma is off; divisions that decide a truncation are
 * made correctly rounded by div_rn, so float results match numpy's
 * float32 arithmetic on any conforming device. */

#pragma OPENCL FP_CONTRACT OFF

#define SEG_PRECISION_BITS 22

/* Quantises x (nominally k / 255) to 0..255: round to nearest even of
 * x * 255, saturated; NaN and values <= 0 give 0. */
int seg_quantise8(float x)
{
    if (!(x > 0.0f))
        return 0;
    if (x >= 1.0f)
        return 255;
    return convert_int_rte(x * 255.0f);
}

/* PIL's clip8: acc >> 22 clamped to 0..255 (negative sums give 0). */
int seg_clip8(int acc)
{
    if (acc < 0)
        return 0;
    return min(acc >> SEG_PRECISION_BITS, 255);
}

/* a / b correctly rounded (finite a, nonzero finite b): the device
 * quotient, then the best of it and its two neighbours by exact fma
 * residual (OpenCL allows float division 2.5 ulp of error). */
float div_rn(float a, float b)
{
    float q = a / b;
    float lo = nextafter(q, -INFINITY), hi = nextafter(q, INFINITY);
    float best = q;
    float r = fabs(fma(-q, b, a));
    float rl = fabs(fma(-lo, b, a)), rh = fabs(fma(-hi, b, a));

    if (rl < r) {
        best = lo;
        r = rl;
    }
    if (rh < r)
        best = hi;
    return best;
}

/* Order-preserving map of a float to a uint key (for atomic min/max). */
uint seg_float_key(float f)
{
    uint u = as_uint(f);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

/* Inverse of seg_float_key. */
float seg_key_float(uint k)
{
    return as_float((k & 0x80000000u) ? (k & 0x7FFFFFFFu) : ~k);
}

/* Horizontal Lanczos pass from planar float [0,1] (quantised to 8 bits
 * on load): dst[row][o] = clip8(1 << 21 + sum table[o] * q(src[row][first + k]))
 * for o < out_w, row < rows.  Global range (out_w, rows). */
__kernel void seg_resize_h_f32(__global const float *src, __global const int *table,
                               __global uchar *dst, uint in_w, uint out_w, uint rows,
                               uint ksize)
{
    uint o = get_global_id(0), row = get_global_id(1);
    __global const int *t;
    __global const float *in;
    int acc = 1 << (SEG_PRECISION_BITS - 1);
    int count;

    if (o >= out_w || row >= rows)
        return;
    t = table + (size_t)o * (ksize + 2);
    in = src + (size_t)row * in_w + t[0];
    count = t[1];
    for (int k = 0; k < count; k++)
        acc += seg_quantise8(in[k]) * t[2 + k];
    dst[(size_t)row * out_w + o] = (uchar)seg_clip8(acc);
}

/* The same pass from 8-bit samples. */
__kernel void seg_resize_h_u8(__global const uchar *src, __global const int *table,
                              __global uchar *dst, uint in_w, uint out_w, uint rows,
                              uint ksize)
{
    uint o = get_global_id(0), row = get_global_id(1);
    __global const int *t;
    __global const uchar *in;
    int acc = 1 << (SEG_PRECISION_BITS - 1);
    int count;

    if (o >= out_w || row >= rows)
        return;
    t = table + (size_t)o * (ksize + 2);
    in = src + (size_t)row * in_w + t[0];
    count = t[1];
    for (int k = 0; k < count; k++)
        acc += (int)in[k] * t[2 + k];
    dst[(size_t)row * out_w + o] = (uchar)seg_clip8(acc);
}

/* Vertical Lanczos pass over 8-bit planes: `width` columns, in_h rows to
 * out_h rows, `channels` planes; one item per output sample over a 1-D
 * range of n = width * out_h * channels (rounded up to the work-group
 * size, a power of two equal to the size of `scratch`).  Also raises
 * maxes[max_index] (atomic) to the largest output sample. */
__kernel void seg_resize_v(__global const uchar *src, __global const int *table,
                           __global uchar *dst, __global uint *maxes, uint max_index,
                           __local uint *scratch, uint width, uint in_h, uint out_h,
                           uint n, uint ksize)
{
    uint i = get_global_id(0), lid = get_local_id(0), lsize = get_local_size(0);
    uint v = 0;

    if (i < n) {
        uint x = i % width, rest = i / width;
        uint oy = rest % out_h, c = rest / out_h;
        __global const int *t = table + (size_t)oy * (ksize + 2);
        __global const uchar *in = src + ((size_t)c * in_h + (size_t)t[0]) * width + x;
        int acc = 1 << (SEG_PRECISION_BITS - 1);
        int count = t[1];
        for (int k = 0; k < count; k++)
            acc += (int)in[(size_t)k * width] * t[2 + k];
        v = (uint)seg_clip8(acc);
        dst[i] = (uchar)v;
    }
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = lsize / 2; s > 0; s >>= 1) {
        if (lid < s)
            scratch[lid] = max(scratch[lid], scratch[lid + s]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0 && scratch[0] > 0)
        atomic_max(maxes + max_index, scratch[0]);
}

/* rembg's normalisation of the resized 8-bit RGB image into the network
 * input: q = k / max(m, 1e-6) with m = maxes[0], then (q - mean[c]) /
 * std[c], written planar at dst + dst_offset.  One item per pixel. */
__kernel void seg_normalize(__global const uchar *src, __global const uint *maxes,
                            __global float *dst, uint dst_offset, uint npix,
                            float4 mean, float4 std)
{
    uint p = get_global_id(0);
    uint m;
    float mf;

    if (p >= npix)
        return;
    m = maxes[0];
    mf = m > 0 ? (float)m : 1e-6f;
    for (uint c = 0; c < 3; c++) {
        float q = div_rn((float)src[c * npix + p], mf);
        float mc = c == 0 ? mean.x : c == 1 ? mean.y : mean.z;
        float sc = c == 0 ? std.x : c == 1 ? std.y : std.z;
        dst[dst_offset + c * npix + p] = div_rn(q - mc, sc);
    }
}

/* Min and max of n floats at pred + offset, NaNs ignored: keys[0] and
 * keys[1] (seg_float_key, preset to 0xFFFFFFFF and 0) take the atomic
 * min / max of the work-groups'.  Grid-stride loop; `smin` and `smax`
 * are __local arrays of the work-group size (a power of two). */
__kernel void seg_minmax(__global const float *pred, uint offset, uint n,
                         __global uint *keys, __local uint *smin, __local uint *smax)
{
    uint lid = get_local_id(0), lsize = get_local_size(0);
    uint lo = 0xFFFFFFFFu, hi = 0u;

    for (uint i = get_global_id(0); i < n; i += get_global_size(0)) {
        float f = pred[offset + i];
        if (!isnan(f)) {
            uint k = seg_float_key(f);
            lo = min(lo, k);
            hi = max(hi, k);
        }
    }
    smin[lid] = lo;
    smax[lid] = hi;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = lsize / 2; s > 0; s >>= 1) {
        if (lid < s) {
            smin[lid] = min(smin[lid], smin[lid + s]);
            smax[lid] = max(smax[lid], smax[lid + s]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) {
        atomic_min(keys, smin[0]);
        atomic_max(keys + 1, smax[0]);
    }
}

/* rembg's (pred - mi) / (ma - mi) then (x * 255).astype(uint8) in float32:
 * truncation toward zero.  All zeros when ma == mi or no sample is a
 * number; a NaN sample gives 0. */
__kernel void seg_quantise_pred(__global const float *pred, uint offset, uint n,
                                __global const uint *keys, __global uchar *dst)
{
    uint i = get_global_id(0);
    float mi, ma, x, v;

    if (i >= n)
        return;
    if (keys[0] > keys[1]) {
        dst[i] = 0;
        return;
    }
    mi = seg_key_float(keys[0]);
    ma = seg_key_float(keys[1]);
    x = pred[offset + i];
    if (!(ma > mi) || isnan(x)) {
        dst[i] = 0;
        return;
    }
    v = div_rn(x - mi, ma - mi) * 255.0f;
    dst[i] = (v >= 0.0f && v < 256.0f) ? (uchar)convert_int_rtz(v) : (uchar)0;
}

/* OpenCV's erode (dilate = 0) or dilate (dilate = 1) of an 8-bit w x h
 * image by the 3x3 cross; neighbours outside the image are ignored (the
 * default border value).  Global range (w, h). */
__kernel void seg_morph_cross(__global const uchar *src, __global uchar *dst,
                              uint w, uint h, int dilate)
{
    uint x = get_global_id(0), y = get_global_id(1);
    size_t i;
    uchar v;

    if (x >= w || y >= h)
        return;
    i = (size_t)y * w + x;
    v = src[i];
    if (dilate) {
        if (x > 0)
            v = max(v, src[i - 1]);
        if (x + 1 < w)
            v = max(v, src[i + 1]);
        if (y > 0)
            v = max(v, src[i - w]);
        if (y + 1 < h)
            v = max(v, src[i + w]);
    } else {
        if (x > 0)
            v = min(v, src[i - 1]);
        if (x + 1 < w)
            v = min(v, src[i + 1]);
        if (y > 0)
            v = min(v, src[i - w]);
        if (y + 1 < h)
            v = min(v, src[i + w]);
    }
    dst[i] = v;
}

/* OpenCV's borderInterpolate for BORDER_REFLECT_101 (gfedcb|abcdefgh|gfedcba). */
int seg_reflect101(int p, int len)
{
    if (len == 1)
        return 0;
    while (p < 0 || p >= len)
        p = p < 0 ? -p : 2 * len - 2 - p;
    return p;
}

/* Row pass of the 5-tap fixed-point Gaussian: dst = sum k[j] * src[x + j - 2]
 * (reflect-101), exact in 16 bits (8 fractional).  Global range (w, h). */
__kernel void seg_blur_h(__global const uchar *src, __global ushort *dst, uint w, uint h,
                         int4 k0123, int k4)
{
    uint x = get_global_id(0), y = get_global_id(1);
    __global const uchar *row;
    int acc;

    if (x >= w || y >= h)
        return;
    row = src + (size_t)y * w;
    acc = k0123.x * row[seg_reflect101((int)x - 2, (int)w)]
        + k0123.y * row[seg_reflect101((int)x - 1, (int)w)]
        + k0123.z * row[x]
        + k0123.w * row[seg_reflect101((int)x + 1, (int)w)]
        + k4 * row[seg_reflect101((int)x + 2, (int)w)];
    dst[(size_t)y * w + x] = (ushort)acc;
}

/* Column pass of the Gaussian, rounded to 8 bits as OpenCV does
 * ((acc + (1 << 15)) >> 16), then rembg's threshold np.where(v < 127, 0,
 * 255) written as float 0 or 1.  Global range (w, h). */
__kernel void seg_blur_v_threshold(__global const ushort *src, __global float *dst,
                                   uint w, uint h, int4 k0123, int k4)
{
    uint x = get_global_id(0), y = get_global_id(1);
    __global const ushort *col;
    uint acc;
    uint v;

    if (x >= w || y >= h)
        return;
    col = src + x;
    acc = (uint)k0123.x * col[(size_t)seg_reflect101((int)y - 2, (int)h) * w]
        + (uint)k0123.y * col[(size_t)seg_reflect101((int)y - 1, (int)h) * w]
        + (uint)k0123.z * col[(size_t)y * w]
        + (uint)k0123.w * col[(size_t)seg_reflect101((int)y + 1, (int)h) * w]
        + (uint)k4 * col[(size_t)seg_reflect101((int)y + 2, (int)h) * w];
    v = min((acc + (1u << 15)) >> 16, 255u);
    dst[(size_t)y * w + x] = v < 127u ? 0.0f : 1.0f;
}

/* 8-bit samples to float k / 255 (correctly rounded).  One item each. */
__kernel void seg_u8_to_float(__global const uchar *src, __global float *dst, uint n)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    dst[i] = div_rn((float)src[i], 255.0f);
}
