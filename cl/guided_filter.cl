/* Guided filter (He, Sun, Tang): q = mean_a * I + mean_b, with, per
 * window of (2r+1)^2 pixels clipped at the border and normalised by the
 * number of pixels inside,
 *   gray guide:   a = cov(I, p) / (var(I) + eps),
 *   colour guide: a = (Sigma + eps U)^-1 cov(I, p),
 *   b = mean(p) - a . mean(I).
 * GF_CH (1 or 3, a build option) is the number of guide channels.
 *
 * Every box sum is a sliding sum along a line (add the sample entering
 * the window, subtract the one leaving it), so the cost does not depend
 * on the radius.  The sums carry about twice the float precision: in
 * double where the device has it (build option GF_FP64), else
 * compensated (float-float: a float sum and a float holding its rounding
 * errors; products split exactly with fma).  Sums stored between passes
 * are float pairs (hi, lo) either way.  So the raw moments
 * E[I^2] - E[I]^2 cancel without losing the variance, the 3x3 system of
 * nearly dependent colour channels keeps its accuracy, and
 * mean_a * I + mean_b (where a and b can be large and of opposite sign)
 * does not lose q.
 *
 * Four passes, each one work-item per line walking along it, reading
 * records contiguously and writing them transposed (a work-item per row
 * then writes a column of records), which keeps every pass streaming on
 * a CPU:
 *   gf_rows_moments: guide, src -> T1 (transposed): horizontal sums of
 *       I_c, p, I_c I_d, I_c p (GF_K1 channels, hi and lo each);
 *   gf_cols_coeffs:  T1 -> AB (row-major): vertical sums, means, a, b;
 *   gf_rows_coeffs:  AB, guide -> T2 (transposed): horizontal sums of
 *       a_c and b, and the guide at the pixel;
 *   gf_cols_output:  T2 -> out: vertical sums, q.
 * Records: T1 2 GF_K1 floats, AB GF_RAB (a_c, b hi, b lo), T2 GF_R2
 * (sums of a_c and b, hi and lo, then I_c).  Indices into the records
 * use size_t: width * height * record exceeds 32 bits for large images.
 *
 * Contraction into fma is off: the compensated sums rely on exactly
 * rounded additions, the splits use fma explicitly. */

#pragma OPENCL FP_CONTRACT OFF

#ifdef GF_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double gf_acc;
#else
typedef float2 gf_acc;  /* x: the rounded sum, y: its rounding errors */
#endif

#ifndef GF_CH
#define GF_CH 1
#endif

#define GF_PAIRS (GF_CH * (GF_CH + 1) / 2)
#define GF_K1 (2 * GF_CH + 1 + GF_PAIRS)
#define GF_R1 (2 * GF_K1)
#define GF_RAB (GF_CH == 1 ? 4 : 8)
#define GF_K2 (GF_CH + 1)
#define GF_R2 (2 * GF_K2 + GF_CH)

/* Channel of the stage-1 sums: I_c at c, p at GF_CH, I_c I_d (c <= d,
 * row by row) from GF_CH + 1, I_c p from GF_CH + 1 + GF_PAIRS. */
#define GF_P GF_CH
#define GF_IP(c) (GF_CH + 1 + GF_PAIRS + (c))

/* Returns the channel of I_c I_d (c <= d) in the stage-1 sums. */
int gf_pair(int c, int d)
{
    return GF_CH + 1 + c * GF_CH - c * (c - 1) / 2 + (d - c);
}

/* Returns an empty sum. */
gf_acc acc_zero(void)
{
#ifdef GF_FP64
    return 0.0;
#else
    return (float2)(0.0f, 0.0f);
#endif
}

/* Adds hi + lo (lo much smaller, or 0) to the sum *s: in double, or as
 * Knuth's TwoSum with the rounding error and lo kept in s->y. */
void acc_add(gf_acc *s, float hi, float lo)
{
#ifdef GF_FP64
    *s += (double)hi + (double)lo;
#else
    float t = s->x + hi;
    float bb = t - s->x;

    s->y += ((s->x - (t - bb)) + (hi - bb)) + lo;
    s->x = t;
#endif
}

/* Stores the sum s as the float pair rec[0] (rounded) + rec[1]. */
void acc_store(gf_acc s, __global float *rec)
{
#ifdef GF_FP64
    float hi = (float)s;

    rec[0] = hi;
    rec[1] = (float)(s - (double)hi);
#else
    rec[0] = s.x;
    rec[1] = s.y;
#endif
}

/* Returns hi + lo renormalised as a float-float (x the rounded sum, y
 * the rest). */
float2 ff_norm(float hi, float lo)
{
    float s = hi + lo;
    float bb = s - hi;

    return (float2)(s, (hi - (s - bb)) + (lo - bb));
}

/* Returns a + b in float-float. */
float2 ff_add(float2 a, float2 b)
{
    float s = a.x + b.x;
    float bb = s - a.x;
    float e = (a.x - (s - bb)) + (b.x - bb);

    return ff_norm(s, e + (a.y + b.y));
}

/* Returns a - b in float-float. */
float2 ff_sub(float2 a, float2 b)
{
    return ff_add(a, -b);
}

/* Returns a * b in float-float (the product of the high parts exact
 * through fma). */
float2 ff_mul(float2 a, float2 b)
{
    float p = a.x * b.x;
    float e = fma(a.x, b.x, -p);

    return ff_norm(p, e + (a.x * b.y + a.y * b.x));
}

/* Returns a * f in float-float. */
float2 ff_mulf(float2 a, float f)
{
    float p = a.x * f;
    float e = fma(a.x, f, -p);

    return ff_norm(p, e + a.y * f);
}

/* Returns a / f in float-float (the remainder of the first quotient
 * exact through fma). */
float2 ff_divf(float2 a, float f)
{
    float q = a.x / f;
    float r = fma(-q, f, a.x);

    return ff_norm(q, (r + a.y) / f);
}

/* Returns how many of 0..size-1 lie within r of i. */
uint gf_count(uint i, uint r, uint size)
{
    uint lo = i > r ? i - r : 0;
    uint hi = i + r < size ? i + r : size - 1;

    return hi - lo + 1;
}

/* Splits the stage-1 values of pixel i (n pixels per plane) into
 * v[k] + e[k], exactly: I_c, p, the products I_c I_d and I_c p. */
void gf_elements(__global const float *guide, __global const float *src, uint n,
                 uint i, float *v, float *e)
{
    float g[GF_CH];
    float p = src[i];
    int k = 0;

    for (int c = 0; c < GF_CH; c++) {
        g[c] = guide[(size_t)c * n + i];
        v[k] = g[c];
        e[k++] = 0.0f;
    }
    v[k] = p;
    e[k++] = 0.0f;
    for (int c = 0; c < GF_CH; c++)
        for (int d = c; d < GF_CH; d++) {
            v[k] = g[c] * g[d];
            e[k] = fma(g[c], g[d], -v[k]);
            k++;
        }
    for (int c = 0; c < GF_CH; c++) {
        v[k] = g[c] * p;
        e[k] = fma(g[c], p, -v[k]);
        k++;
    }
}

/* Adds (sign 1) or subtracts (sign -1) the stage-1 values of pixel i to
 * the sums. */
void gf_moments_step(__global const float *guide, __global const float *src, uint n,
                     uint i, float sign, gf_acc *sum)
{
    float v[GF_K1], e[GF_K1];

    gf_elements(guide, src, n, i, v, e);
    for (int k = 0; k < GF_K1; k++)
        acc_add(&sum[k], sign * v[k], sign * e[k]);
}

/* Stage 1, horizontal: for row y, the sums of the stage-1 values over
 * the columns within r of each x, written as the record of (x, y) in T1,
 * transposed (record index x * h + y).  Global range: h (rounded up). */
__kernel void gf_rows_moments(__global const float *guide, __global const float *src,
                              __global float *T1, uint w, uint h, uint r)
{
    uint y = get_global_id(0);
    uint n = w * h, row;
    gf_acc sum[GF_K1];

    if (y >= h)
        return;
    row = y * w;
    for (int k = 0; k < GF_K1; k++)
        sum[k] = acc_zero();
    for (uint x = 0; x < min(r, w); x++)
        gf_moments_step(guide, src, n, row + x, 1.0f, sum);
    for (uint x = 0; x < w; x++) {
        __global float *rec = T1 + ((size_t)x * h + y) * GF_R1;
        if (x + r < w)
            gf_moments_step(guide, src, n, row + x + r, 1.0f, sum);
        if (x > r)
            gf_moments_step(guide, src, n, row + x - r - 1, -1.0f, sum);
        for (int k = 0; k < GF_K1; k++)
            acc_store(sum[k], rec + 2 * k);
    }
}

/* Adds (sign 1) or subtracts (sign -1) the `count` float pairs of record
 * rec to the sums. */
void gf_record_step(__global const float *rec, int count, float sign, gf_acc *sum)
{
    for (int k = 0; k < count; k++)
        acc_add(&sum[k], sign * rec[2 * k], sign * rec[2 * k + 1]);
}

#ifdef GF_FP64

/* Computes a (GF_CH floats) and b (as the pair *b_hi + *b_lo) from the
 * window sums of the stage-1 values over nx * ny pixels, in double:
 * a = cov / (var + eps) (gray) or (Sigma + eps U)^-1 cov through the
 * cofactors (colour), b = mean(p) - a . mean(I) with a as rounded to
 * float, so that a and b stay consistent. */
void gf_solve(const gf_acc *sum, float nx, float ny, float eps, float *a, float *b_hi,
              float *b_lo)
{
    double inv_n = 1.0 / ((double)nx * (double)ny);
    double m[GF_K1], b;

    for (int k = 0; k < GF_K1; k++)
        m[k] = sum[k] * inv_n;
#if GF_CH == 1
    a[0] = (float)((m[GF_IP(0)] - m[0] * m[GF_P]) /
                   (m[gf_pair(0, 0)] - m[0] * m[0] + (double)eps));
#else
    {
        double s[3][3], v[3], c[3][3], det;

        for (int k = 0; k < 3; k++) {
            v[k] = m[GF_IP(k)] - m[k] * m[GF_P];
            for (int l = k; l < 3; l++) {
                s[k][l] = m[gf_pair(k, l)] - m[k] * m[l] + (l == k ? (double)eps : 0.0);
                s[l][k] = s[k][l];
            }
        }
        c[0][0] = s[1][1] * s[2][2] - s[1][2] * s[1][2];
        c[0][1] = s[0][2] * s[1][2] - s[0][1] * s[2][2];
        c[0][2] = s[0][1] * s[1][2] - s[0][2] * s[1][1];
        c[1][1] = s[0][0] * s[2][2] - s[0][2] * s[0][2];
        c[1][2] = s[0][1] * s[0][2] - s[0][0] * s[1][2];
        c[2][2] = s[0][0] * s[1][1] - s[0][1] * s[0][1];
        c[1][0] = c[0][1];
        c[2][0] = c[0][2];
        c[2][1] = c[1][2];
        det = s[0][0] * c[0][0] + s[0][1] * c[0][1] + s[0][2] * c[0][2];
        for (int k = 0; k < 3; k++)
            a[k] = (float)((c[k][0] * v[0] + c[k][1] * v[1] + c[k][2] * v[2]) / det);
    }
#endif
    b = m[GF_P];
    for (int k = 0; k < GF_CH; k++)
        b -= (double)a[k] * m[k];
    *b_hi = (float)b;
    *b_lo = (float)(b - (double)*b_hi);
}

/* Returns q = (sum[GF_CH] + sum_c sum[c] I_c) / (nx ny) from the stage-2
 * window sums (of a_c, then b) and the guide I at the pixel, in double. */
float gf_output(const gf_acc *sum, __global const float *guide_at, float nx, float ny)
{
    double t = sum[GF_CH];

    for (int c = 0; c < GF_CH; c++)
        t += sum[c] * (double)guide_at[c];
    return (float)(t / ((double)nx * (double)ny));
}

#else

/* Computes a (GF_CH floats) and b (as the pair *b_hi + *b_lo) from the
 * window sums of the stage-1 values over nx * ny pixels, in float-float:
 * the means, the covariances from the raw moments, the solve (gray:
 * cov / (var + eps) in float; colour: cofactors, determinant and
 * products in float-float, as they cancel where the colour channels are
 * nearly dependent), b = mean(p) - a . mean(I) with a as rounded to
 * float. */
void gf_solve(const gf_acc *sum, float nx, float ny, float eps, float *a, float *b_hi,
              float *b_lo)
{
    float2 inv_n = ff_divf(ff_divf((float2)(1.0f, 0.0f), nx), ny);
    float2 m[GF_K1], dot, b;

    for (int k = 0; k < GF_K1; k++)
        m[k] = ff_mul(ff_norm(sum[k].x, sum[k].y), inv_n);
#if GF_CH == 1
    {
        float var = ff_sub(m[gf_pair(0, 0)], ff_mul(m[0], m[0])).x;
        float cov = ff_sub(m[GF_IP(0)], ff_mul(m[0], m[GF_P])).x;

        a[0] = cov / (var + eps);
    }
#else
    {
        float2 s[3][3], v[3], c[3][3], det;
        float2 e = (float2)(eps, 0.0f);

        for (int k = 0; k < 3; k++) {
            v[k] = ff_sub(m[GF_IP(k)], ff_mul(m[k], m[GF_P]));
            for (int l = k; l < 3; l++) {
                s[k][l] = ff_sub(m[gf_pair(k, l)], ff_mul(m[k], m[l]));
                if (l == k)
                    s[k][l] = ff_add(s[k][l], e);
                s[l][k] = s[k][l];
            }
        }
        c[0][0] = ff_sub(ff_mul(s[1][1], s[2][2]), ff_mul(s[1][2], s[1][2]));
        c[0][1] = ff_sub(ff_mul(s[0][2], s[1][2]), ff_mul(s[0][1], s[2][2]));
        c[0][2] = ff_sub(ff_mul(s[0][1], s[1][2]), ff_mul(s[0][2], s[1][1]));
        c[1][1] = ff_sub(ff_mul(s[0][0], s[2][2]), ff_mul(s[0][2], s[0][2]));
        c[1][2] = ff_sub(ff_mul(s[0][1], s[0][2]), ff_mul(s[0][0], s[1][2]));
        c[2][2] = ff_sub(ff_mul(s[0][0], s[1][1]), ff_mul(s[0][1], s[0][1]));
        c[1][0] = c[0][1];
        c[2][0] = c[0][2];
        c[2][1] = c[1][2];
        det = ff_add(ff_add(ff_mul(s[0][0], c[0][0]), ff_mul(s[0][1], c[0][1])),
                     ff_mul(s[0][2], c[0][2]));
        for (int k = 0; k < 3; k++) {
            float2 num = ff_add(ff_add(ff_mul(c[k][0], v[0]), ff_mul(c[k][1], v[1])),
                                ff_mul(c[k][2], v[2]));
            a[k] = num.x / det.x;
        }
    }
#endif
    dot = (float2)(0.0f, 0.0f);
    for (int k = 0; k < GF_CH; k++)
        dot = ff_add(dot, ff_mulf(m[k], a[k]));
    b = ff_sub(m[GF_P], dot);
    *b_hi = b.x;
    *b_lo = b.y;
}

/* Returns q = (sum[GF_CH] + sum_c sum[c] I_c) / (nx ny) from the stage-2
 * window sums (of a_c, then b) and the guide I at the pixel, the sum
 * formed in float-float. */
float gf_output(const gf_acc *sum, __global const float *guide_at, float nx, float ny)
{
    float2 t = ff_norm(sum[GF_CH].x, sum[GF_CH].y);

    for (int c = 0; c < GF_CH; c++)
        t = ff_add(t, ff_mulf(ff_norm(sum[c].x, sum[c].y), guide_at[c]));
    return (t.x + t.y) / nx / ny;
}

#endif

/* Stage 1, vertical, and the coefficients: for column x, the sums of the
 * T1 records over the rows within r of each y, and a and b of (x, y)
 * into the AB record y * w + x (a_c, b hi, b lo).  Global range: w
 * (rounded up). */
__kernel void gf_cols_coeffs(__global const float *T1, __global float *AB, uint w,
                             uint h, uint r, float eps)
{
    uint x = get_global_id(0);
    __global const float *col;
    gf_acc sum[GF_K1];
    float nx;

    if (x >= w)
        return;
    col = T1 + (size_t)x * h * GF_R1;
    nx = (float)gf_count(x, r, w);
    for (int k = 0; k < GF_K1; k++)
        sum[k] = acc_zero();
    for (uint y = 0; y < min(r, h); y++)
        gf_record_step(col + (size_t)y * GF_R1, GF_K1, 1.0f, sum);
    for (uint y = 0; y < h; y++) {
        __global float *rec = AB + ((size_t)y * w + x) * GF_RAB;
        float a[GF_CH], b_hi, b_lo;

        if (y + r < h)
            gf_record_step(col + (size_t)(y + r) * GF_R1, GF_K1, 1.0f, sum);
        if (y > r)
            gf_record_step(col + (size_t)(y - r - 1) * GF_R1, GF_K1, -1.0f, sum);
        gf_solve(sum, nx, (float)gf_count(y, r, h), eps, a, &b_hi, &b_lo);
        for (int c = 0; c < GF_CH; c++)
            rec[c] = a[c];
        rec[GF_CH] = b_hi;
        rec[GF_CH + 1] = b_lo;
    }
}

/* Adds (sign 1) or subtracts (sign -1) the AB record of pixel i to the
 * stage-2 sums: a_c, and b. */
void gf_coeffs_step(__global const float *AB, uint i, float sign, gf_acc *sum)
{
    __global const float *rec = AB + (size_t)i * GF_RAB;

    for (int c = 0; c < GF_CH; c++)
        acc_add(&sum[c], sign * rec[c], 0.0f);
    acc_add(&sum[GF_CH], sign * rec[GF_CH], sign * rec[GF_CH + 1]);
}

/* Stage 2, horizontal: for row y, the sums of a_c and b over the columns
 * within r of each x, and the guide at (x, y), into the T2 record of
 * (x, y), transposed (x * h + y).  Global range: h (rounded up). */
__kernel void gf_rows_coeffs(__global const float *AB, __global const float *guide,
                             __global float *T2, uint w, uint h, uint r)
{
    uint y = get_global_id(0);
    uint n = w * h, row;
    gf_acc sum[GF_K2];

    if (y >= h)
        return;
    row = y * w;
    for (int k = 0; k < GF_K2; k++)
        sum[k] = acc_zero();
    for (uint x = 0; x < min(r, w); x++)
        gf_coeffs_step(AB, row + x, 1.0f, sum);
    for (uint x = 0; x < w; x++) {
        __global float *rec = T2 + ((size_t)x * h + y) * GF_R2;
        if (x + r < w)
            gf_coeffs_step(AB, row + x + r, 1.0f, sum);
        if (x > r)
            gf_coeffs_step(AB, row + x - r - 1, -1.0f, sum);
        for (int k = 0; k < GF_K2; k++)
            acc_store(sum[k], rec + 2 * k);
        for (int c = 0; c < GF_CH; c++)
            rec[2 * GF_K2 + c] = guide[(size_t)c * n + row + x];
    }
}

/* Stage 2, vertical, and the output: for column x, the sums of the T2
 * records over the rows within r of each y, and q at (x, y).  Global
 * range: w (rounded up). */
__kernel void gf_cols_output(__global const float *T2, __global float *out, uint w,
                             uint h, uint r)
{
    uint x = get_global_id(0);
    __global const float *col;
    gf_acc sum[GF_K2];
    float nx;

    if (x >= w)
        return;
    col = T2 + (size_t)x * h * GF_R2;
    nx = (float)gf_count(x, r, w);
    for (int k = 0; k < GF_K2; k++)
        sum[k] = acc_zero();
    for (uint y = 0; y < min(r, h); y++)
        gf_record_step(col + (size_t)y * GF_R2, GF_K2, 1.0f, sum);
    for (uint y = 0; y < h; y++) {
        if (y + r < h)
            gf_record_step(col + (size_t)(y + r) * GF_R2, GF_K2, 1.0f, sum);
        if (y > r)
            gf_record_step(col + (size_t)(y - r - 1) * GF_R2, GF_K2, -1.0f, sum);
        out[(size_t)y * w + x] = gf_output(sum, col + (size_t)y * GF_R2 + 2 * GF_K2, nx,
                                           (float)gf_count(y, r, h));
    }
}
