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
 * centre + support] clipped to the image, normalised to sum 1.  The host
 * computes those windows and weights once per output coordinate, in
 * double precision as PIL does (a window edge can fall exactly on the box
 * filter's boundary, which float rounding would move), into a table the
 * filter passes read.
 *
 * scale = in_size / out_size.  Contraction into fma is off so that window
 * bounds and box weights match a host float loop exactly. */

#pragma OPENCL FP_CONTRACT OFF

/* The weight table (computed on the host in double precision, as PIL
 * computes it): per output coordinate, `stride` floats: the window's
 * first source index, its tap count (both exact integers), then the
 * normalised weights. */

/* Horizontal filter pass: dst[row][ox] = sum_k w[ox][k] *
 * src[row][first + k] for every ox < out_w and row < rows (rows = height
 * * channels).  Global range (out_w, rows). */
__kernel void resize_h_filter(__global const float *src, __global const float *table,
                              __global float *dst, uint in_w, uint out_w, uint rows,
                              uint stride)
{
    uint ox = get_global_id(0), row = get_global_id(1);
    __global const float *in, *w;
    float acc = 0.0f;
    int first, count;

    if (ox >= out_w || row >= rows)
        return;
    w = table + (size_t)ox * stride;
    first = (int)w[0];
    count = (int)w[1];
    w += 2;
    in = src + (size_t)row * in_w + first;
    for (int k = 0; k < count; k++)
        acc += w[k] * in[k];
    dst[(size_t)row * out_w + ox] = acc;
}

/* Vertical filter pass: dst[c][oy][x] = sum_k w[oy][k] *
 * src[c][first + k][x] for x < width, oy < out_h, c < channels.  Global
 * range (width, out_h, channels). */
__kernel void resize_v_filter(__global const float *src, __global const float *table,
                              __global float *dst, uint width, uint in_h, uint out_h,
                              uint channels, uint stride)
{
    uint x = get_global_id(0), oy = get_global_id(1), c = get_global_id(2);
    __global const float *in, *w;
    float acc = 0.0f;
    int first, count;

    if (x >= width || oy >= out_h || c >= channels)
        return;
    w = table + (size_t)oy * stride;
    first = (int)w[0];
    count = (int)w[1];
    w += 2;
    in = src + ((size_t)c * in_h + (size_t)first) * width + x;
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
