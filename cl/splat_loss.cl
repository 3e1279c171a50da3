/* The training loss of Gaussian splatting and its gradient, on planar
 * float images (plane q of pixel p at [q * npix + p]):
 *
 *   L = (1 - lambda) * L1 + lambda * (1 - SSIM)
 *
 * with SSIM from an 11 x 11 Gaussian window applied as two separable
 * passes (horizontal, then vertical), zero outside the image, every
 * output pixel kept.  The host runs the pipeline one colour channel at a
 * time: loss_moments_h + loss_blur_v give the five moments (mu1, mu2,
 * E[x^2], E[y^2], E[xy]); loss_ssim_terms turns them into the per-pixel
 * loss terms and the partial derivatives of the SSIM map; loss_blur_h +
 * loss_blur_v apply the transposed window (the same blur: the window is
 * symmetric and the padding zero); loss_grad combines them into
 * dL/drender.  reduce_planes sums planes into per-work-group partial
 * sums that the host adds in double.
 *
 * Build options: LOSS_TAPS, the 11 window taps (the centre sixth),
 * normalised to sum 1 by the host and written to 9 significant digits;
 * REDUCE_WG, the work-group size of reduce_planes (a power of two). */

#pragma OPENCL FP_CONTRACT OFF

#define LOSS_RADIUS 5
#define LOSS_C1 (0.01f * 0.01f)
#define LOSS_C2 (0.03f * 0.03f)

/* The window's taps, -5 .. 5. */
__constant float loss_window[2 * LOSS_RADIUS + 1] = { LOSS_TAPS };

/* Tap k (-5 .. 5) of the window. */
static float window_tap(int k)
{
    return loss_window[k + LOSS_RADIUS];
}

/* Horizontal pass of the five moments of channel `chan` of x (render)
 * and y (target): out planes 0..4 get the blurred rows of x, y, x*x,
 * y*y and x*y.  Global range: width x height. */
__kernel void loss_moments_h(__global const float *x, __global const float *y,
                             __global float *out, uint width, uint height, uint chan)
{
    uint px = get_global_id(0), py = get_global_id(1);
    ulong npix = (ulong)width * height, row, base;
    float sx = 0.0f, sy = 0.0f, sxx = 0.0f, syy = 0.0f, sxy = 0.0f;

    if (px >= width || py >= height)
        return;
    row = (ulong)py * width;
    base = (ulong)chan * npix + row;
    for (int k = -LOSS_RADIUS; k <= LOSS_RADIUS; k++) {
        int sxk = (int)px + k;
        float wk, a, b;
        if (sxk < 0 || sxk >= (int)width)
            continue;
        wk = window_tap(k);
        a = x[base + (uint)sxk];
        b = y[base + (uint)sxk];
        sx += wk * a;
        sy += wk * b;
        sxx += wk * (a * a);
        syy += wk * (b * b);
        sxy += wk * (a * b);
    }
    out[row + px] = sx;
    out[npix + row + px] = sy;
    out[2 * npix + row + px] = sxx;
    out[3 * npix + row + px] = syy;
    out[4 * npix + row + px] = sxy;
}

/* Horizontal pass of planes 0 .. planes-1 of `in` into `out`.  Global
 * range: width x height x planes. */
__kernel void loss_blur_h(__global const float *in, __global float *out, uint width,
                          uint height)
{
    uint px = get_global_id(0), py = get_global_id(1), q = get_global_id(2);
    ulong base;
    float s = 0.0f;

    if (px >= width || py >= height)
        return;
    base = (ulong)q * width * height + (ulong)py * width;
    for (int k = -LOSS_RADIUS; k <= LOSS_RADIUS; k++) {
        int sxk = (int)px + k;
        if (sxk >= 0 && sxk < (int)width)
            s += window_tap(k) * in[base + (uint)sxk];
    }
    out[base + px] = s;
}

/* Vertical pass of planes 0 .. planes-1 of `in` into `out`.  Global
 * range: width x height x planes. */
__kernel void loss_blur_v(__global const float *in, __global float *out, uint width,
                          uint height)
{
    uint px = get_global_id(0), py = get_global_id(1), q = get_global_id(2);
    ulong plane;
    float s = 0.0f;

    if (px >= width || py >= height)
        return;
    plane = (ulong)q * width * height;
    for (int k = -LOSS_RADIUS; k <= LOSS_RADIUS; k++) {
        int syk = (int)py + k;
        if (syk >= 0 && syk < (int)height)
            s += window_tap(k) * in[plane + (ulong)(uint)syk * width + px];
    }
    out[plane + (ulong)py * width + px] = s;
}

/* From the five blurred moments `mom` of channel `chan`: the SSIM map S
 * and the L1 term, each multiplied by the mask weight m (1 without a
 * mask), added into terms plane 0 (m |x - y|) and plane 1 (m S) (chan 0
 * writes, later channels add).  With want_grad, writes into g planes
 * 0..2 the derivatives of m S with respect to mu1, E[x^2] and E[xy]
 * (mu2, E[y^2] fixed):
 *   dS/dE[x^2] = -S / B2,   dS/dE[xy] = 2 l / B2,
 *   dS/dmu1    = 2 cs (mu2 - mu1 l) / B1 + 2 (mu1 S - mu2 l) / B2,
 * where l = A1 / B1, cs = A2 / B2, S = l cs, A1 = 2 mu1 mu2 + C1,
 * A2 = 2 sigma12 + C2, B1 = mu1^2 + mu2^2 + C1, B2 = sigma1^2 +
 * sigma2^2 + C2 (dS/dmu1 carries the chain through sigma1^2 = E[x^2] -
 * mu1^2 and sigma12 = E[xy] - mu1 mu2).  Global range: npix. */
__kernel void loss_ssim_terms(__global const float *mom, __global const float *x,
                              __global const float *y, __global const float *mask,
                              int has_mask, __global float *terms, __global float *g,
                              int want_grad, uint npix, uint chan)
{
    uint p = get_global_id(0);
    ulong n = npix, at;
    float mu1, mu2, s1, s2, s12, a1, a2, b1, b2, l, cs, s, m, d;

    if (p >= npix)
        return;
    at = (ulong)chan * n + p;
    mu1 = mom[p];
    mu2 = mom[n + p];
    s1 = mom[2 * n + p] - mu1 * mu1;
    s2 = mom[3 * n + p] - mu2 * mu2;
    s12 = mom[4 * n + p] - mu1 * mu2;
    a1 = 2.0f * mu1 * mu2 + LOSS_C1;
    a2 = 2.0f * s12 + LOSS_C2;
    b1 = mu1 * mu1 + mu2 * mu2 + LOSS_C1;
    b2 = s1 + s2 + LOSS_C2;
    l = a1 / b1;
    cs = a2 / b2;
    s = l * cs;
    m = has_mask ? mask[p] : 1.0f;
    d = x[at] - y[at];
    if (chan == 0) {
        terms[p] = m * fabs(d);
        terms[n + p] = m * s;
    } else {
        terms[p] += m * fabs(d);
        terms[n + p] += m * s;
    }
    if (want_grad) {
        g[p] = m * (2.0f * cs * (mu2 - mu1 * l) / b1 + 2.0f * (mu1 * s - mu2 * l) / b2);
        g[n + p] = m * (-s / b2);
        g[2 * n + p] = m * (2.0f * l / b2);
    }
}

/* dL/dx for channel `chan`: grad = a m sign(x - y) + b (G0 + 2 x G1 +
 * y G2), where G0..G2 are the transposed-blurred derivative planes of
 * loss_ssim_terms, a = (1 - lambda) / N and b = -lambda / N (N the
 * weight of the means).  Global range: npix. */
__kernel void loss_grad(__global const float *gb, __global const float *x,
                        __global const float *y, __global const float *mask, int has_mask,
                        __global float *grad, uint npix, uint chan, float a, float b)
{
    uint p = get_global_id(0);
    ulong n = npix, at;
    float m, xv, yv, ssim_part;

    if (p >= npix)
        return;
    at = (ulong)chan * n + p;
    m = has_mask ? mask[p] : 1.0f;
    xv = x[at];
    yv = y[at];
    ssim_part = gb[p] + 2.0f * xv * gb[n + p] + yv * gb[2 * n + p];
    grad[at] = a * m * sign(xv - yv) + b * ssim_part;
}

/* terms[p] = the sum over `channels` planes of (x - y)^2 at pixel p.
 * Global range: npix. */
__kernel void loss_sq_terms(__global const float *x, __global const float *y,
                            __global float *terms, uint npix, uint channels)
{
    uint p = get_global_id(0);
    float s = 0.0f;

    if (p >= npix)
        return;
    for (uint c = 0; c < channels; c++) {
        float d = x[(ulong)c * npix + p] - y[(ulong)c * npix + p];
        s += d * d;
    }
    terms[p] = s;
}

/* Partial sums of `planes` planes of n floats: partial[group * planes +
 * q] = the sum of plane q over the group's REDUCE_WG elements (a tree in
 * local memory).  Global range: a multiple of REDUCE_WG covering n. */
__kernel __attribute__((reqd_work_group_size(REDUCE_WG, 1, 1)))
void reduce_planes(__global const float *in, uint n, uint planes, __global float *partial)
{
    __local float tmp[REDUCE_WG];
    uint i = get_global_id(0), lid = get_local_id(0);

    for (uint q = 0; q < planes; q++) {
        tmp[lid] = i < n ? in[(ulong)q * n + i] : 0.0f;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (uint stride = REDUCE_WG / 2; stride > 0; stride >>= 1) {
            if (lid < stride)
                tmp[lid] += tmp[lid + stride];
            barrier(CLK_LOCAL_MEM_FENCE);
        }
        if (lid == 0)
            partial[(ulong)get_group_id(0) * planes + q] = tmp[0];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
}
