/* Separable resize of planar float images (channel c, row y, column x at
 * [(c * height + y) * width + x]).  The host runs a horizontal pass (rows
 * keep their count, columns change) and then a vertical pass, each kernel
 * one work-item per output sample.
 *
 * Bilinear samples the source at src = (dst + 0.5) * scale - 0.5 with
 * edges clamped (OpenCV INTER_LINEAR; PIL BILINEAR when upscaling).
 * Area (box) and Lanczos-3 follow PIL's resample: filterscale =
 * max(scale, 1), support = filter_support * filterscale, weights evaluated
 * at (i - centre + 0.5) / filterscale over the window [centre - support,
 * centre + support] clipped to the image, normalised to sum 1.  Those
 * weights are computed once per output coordinate by resize_weights into
 * a table of ksize floats per coordinate.
 *
 * scale = in_size / out_size.  Contraction into fma is off so that window
 * bounds and box weights match a host float loop exactly. */

#pragma OPENCL FP_CONTRACT OFF

/* Filter codes: the host's resize_filter values (engine/ops_image.h). */
#define FILTER_AREA 1
#define FILTER_LANCZOS3 2

/* Returns sin(pi x) / (pi x), and 1 at x = 0. */
float sinc_pi(float x)
{
    if (x == 0.0f)
        return 1.0f;
    return sinpi(x) / (M_PI_F * x);
}

/* Evaluates filter `filter` (FILTER_AREA or FILTER_LANCZOS3) at x, in
 * units of source pixels already divided by filterscale. */
float filter_eval(int filter, float x)
{
    if (filter == FILTER_AREA)
        return (x > -0.5f && x <= 0.5f) ? 1.0f : 0.0f;
    if (x >= -3.0f && x < 3.0f)
        return sinc_pi(x) * sinc_pi(x / 3.0f);
    return 0.0f;
}

/* Computes the source window of output coordinate o: its first source
 * index *first and the number of taps *count (0..ksize), rounding the
 * window ends as PIL does ((int)(centre -/+ support + 0.5), clipped). */
void filter_window(uint o, uint in_size, float scale, float support, uint ksize,
                   int *first, int *count)
{
    float centre = ((float)o + 0.5f) * scale;
    int lo = (int)(centre - support + 0.5f);
    int hi = (int)(centre + support + 0.5f);

    if (lo < 0)
        lo = 0;
    if (hi > (int)in_size)
        hi = (int)in_size;
    hi -= lo;
    if (hi < 0)
        hi = 0;
    if (hi > (int)ksize)
        hi = (int)ksize;
    *first = lo;
    *count = hi;
}

/* Fills table[o * ksize .. o * ksize + ksize - 1] with the normalised
 * weights of output coordinate o (zeros past its window), for o below
 * out_size.  inv_filterscale = 1 / max(scale, 1). */
__kernel void resize_weights(__global float *table, uint in_size, uint out_size,
                             float scale, float support, float inv_filterscale,
                             uint ksize, int filter)
{
    uint o = get_global_id(0);
    __global float *w;
    float centre, sum = 0.0f;
    int first, count, k;

    if (o >= out_size)
        return;
    w = table + (size_t)o * ksize;
    centre = ((float)o + 0.5f) * scale;
    filter_window(o, in_size, scale, support, ksize, &first, &count);
    for (k = 0; k < count; k++) {
        float x = ((float)(k + first) - centre + 0.5f) * inv_filterscale;
        w[k] = filter_eval(filter, x);
        sum += w[k];
    }
    for (k = 0; k < count; k++) {
        if (sum != 0.0f)
            w[k] /= sum;
    }
    for (; k < (int)ksize; k++)
        w[k] = 0.0f;
}

/* Horizontal filter pass: dst[row][ox] = sum_k table[ox][k] *
 * src[row][first + k] for every ox < out_w and row < rows (rows = height
 * * channels).  Global range (out_w, rows). */
__kernel void resize_h_filter(__global const float *src, __global const float *table,
                              __global float *dst, uint in_w, uint out_w, uint rows,
                              float scale, float support, uint ksize)
{
    uint ox = get_global_id(0), row = get_global_id(1);
    __global const float *in, *w;
    float acc = 0.0f;
    int first, count;

    if (ox >= out_w || row >= rows)
        return;
    filter_window(ox, in_w, scale, support, ksize, &first, &count);
    in = src + (size_t)row * in_w + first;
    w = table + (size_t)ox * ksize;
    for (int k = 0; k < count; k++)
        acc += w[k] * in[k];
    dst[(size_t)row * out_w + ox] = acc;
}

/* Vertical filter pass: dst[c][oy][x] = sum_k table[oy][k] *
 * src[c][first + k][x] for x < width, oy < out_h, c < channels.  Global
 * range (width, out_h, channels). */
__kernel void resize_v_filter(__global const float *src, __global const float *table,
                              __global float *dst, uint width, uint in_h, uint out_h,
                              uint channels, float scale, float support, uint ksize)
{
    uint x = get_global_id(0), oy = get_global_id(1), c = get_global_id(2);
    __global const float *in, *w;
    float acc = 0.0f;
    int first, count;

    if (x >= width || oy >= out_h || c >= channels)
        return;
    filter_window(oy, in_h, scale, support, ksize, &first, &count);
    in = src + ((size_t)c * in_h + (size_t)first) * width + x;
    w = table + (size_t)oy * ksize;
    for (int k = 0; k < count; k++)
        acc += w[k] * in[(size_t)k * width];
    dst[((size_t)c * out_h + oy) * width + x] = acc;
}

/* Computes the two bilinear taps of output coordinate o: source indices
 * *i0, *i1 and the weight *f of *i1, with OpenCV's edge rule (a position
 * before the first or past the last sample takes that sample alone). */
void linear_taps(uint o, uint in_size, float scale, uint *i0, uint *i1, float *f)
{
    float s = ((float)o + 0.5f) * scale - 0.5f;
    float fl = floor(s);
    int x0 = (int)fl;
    float frac = s - fl;

    if (x0 < 0) {
        x0 = 0;
        frac = 0.0f;
    }
    if (x0 >= (int)in_size - 1) {
        x0 = (int)in_size - 1;
        frac = 0.0f;
    }
    *i0 = (uint)x0;
    *i1 = x0 + 1 < (int)in_size ? (uint)x0 + 1 : (uint)x0;
    *f = frac;
}

/* Horizontal bilinear pass over rows = height * channels rows of in_w
 * samples into rows of out_w.  Global range (out_w, rows). */
__kernel void resize_h_bilinear(__global const float *src, __global float *dst,
                                uint in_w, uint out_w, uint rows, float scale)
{
    uint ox = get_global_id(0), row = get_global_id(1);
    __global const float *in;
    uint i0, i1;
    float f;

    if (ox >= out_w || row >= rows)
        return;
    linear_taps(ox, in_w, scale, &i0, &i1, &f);
    in = src + (size_t)row * in_w;
    dst[(size_t)row * out_w + ox] = in[i0] * (1.0f - f) + in[i1] * f;
}

/* Vertical bilinear pass: channels planes of in_h rows of `width` samples
 * into planes of out_h rows.  Global range (width, out_h, channels). */
__kernel void resize_v_bilinear(__global const float *src, __global float *dst,
                                uint width, uint in_h, uint out_h, uint channels,
                                float scale)
{
    uint x = get_global_id(0), oy = get_global_id(1), c = get_global_id(2);
    __global const float *plane;
    uint i0, i1;
    float f;

    if (x >= width || oy >= out_h || c >= channels)
        return;
    linear_taps(oy, in_h, scale, &i0, &i1, &f);
    plane = src + (size_t)c * in_h * width + x;
    dst[((size_t)c * out_h + oy) * width + x] =
        plane[(size_t)i0 * width] * (1.0f - f) + plane[(size_t)i1 * width] * f;
}
