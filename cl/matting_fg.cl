/* Multi-level foreground and background estimation (Germer, Uelwer,
 * Conrad, Harmeling 2020), as pymatting 1.1.15's estimate_foreground_ml.
 *
 * Inputs and outputs are planar float (channel c, row y, column x at
 * [c * w * h + y * w + x]); colour images have 3 channels, alpha 1.
 * While a level is worked on, F, B and alpha are kept as one record of 8
 * floats per pixel, (F0, F1, F2, a, B0, B1, B2, a), so that a neighbour
 * is one vector load; fg_unpack writes the top level back to planes.
 *
 * For each level, from 1x1 up to the input size, the image and alpha are
 * resized from the input and F, B from the previous level by nearest
 * neighbour (source index x * w_src / w_dst), then every pixel is updated
 * in raster order, in place (Gauss-Seidel, as pymatting's CPU loop):
 * pixel (x, y) sees the values of (x - 1, y) and (x, y - 1) from the
 * current sweep and those of (x + 1, y) and (x, y + 1) from the previous
 * one.  Any order in which each pixel follows its left and upper
 * neighbours and precedes its right and lower ones gives the same result
 * (up to float rounding), so the host runs rectangular tiles along
 * anti-diagonal wavefronts, each tile swept in raster order by one
 * work-item, and overlaps sweep t + 1 two diagonals behind sweep t
 * (fg_wave).
 *
 * The per-pixel 2x2 system of pymatting,
 *   [a^2 + s     a(1-a)  ] [F]   [a I + P]
 *   [a(1-a)    (1-a)^2 + s] [B] = [(1-a) I + Q],
 * with s = sum of the four neighbour weights da, P = sum da * F_n and
 * Q = sum da * B_n, is solved in the algebraically equal form
 *   F = (a I + ((1-a)^2 + s) p - a (1-a) q) / (a^2 + (1-a)^2 + s),
 *   B = ((1-a) I + (a^2 + s) q - a (1-a) p) / (a^2 + (1-a)^2 + s),
 * p = P / s, q = Q / s, whose determinant s (a^2 + (1-a)^2 + s) carries
 * no cancellation in float (the direct form loses up to ~1e-3 relative
 * where a is near 0.5 and s is small).  s >= 4 * regularization > 0. */

/* Sweeps rows y0..y1-1, columns x0..x1-1 of a w x h level in raster
 * order, updating each pixel in place: solves its 2x2 system from the
 * current F and B of its four neighbours (clamped at the border; weights
 * da = reg + gw |a - a_n|) and stores F and B clipped to [0,1].  FB holds
 * one record per pixel, (F0, F1, F2, a, B0, B1, B2, a); I holds the
 * level's colour in 3 planes of n = w * h floats.  The left neighbour's
 * new values are carried in registers from one pixel to the next, and
 * everything that does not depend on them is computed first, so that the
 * dependency from one pixel to the next is a few multiply-adds. */
void fg_sweep_rect(__global float8 *FB, __global const float *I, uint w, uint h,
                   uint x0, uint x1, uint y0, uint y1, float reg, float gw)
{
    uint n = w * h;

    for (uint y = y0; y < y1; y++) {
        uint row = y * w;
        uint up = (y > 0 ? y - 1 : 0) * w;
        uint down = (y + 1 < h ? y + 1 : h - 1) * w;
        float8 left = FB[row + (x0 > 0 ? x0 - 1 : 0)];
        float a = FB[row + x0].s3;
        float dl = reg + gw * fabs(a - left.s3);

        for (uint x = x0; x < x1; x++) {
            uint i = row + x;
            float8 r = FB[row + (x + 1 < w ? x + 1 : w - 1)];
            float8 u = FB[up + x];
            float8 d = FB[down + x];
            float a1 = 1.0f - a;
            float dr = reg + gw * fabs(a - r.s3);
            float du = reg + gw * fabs(a - u.s3);
            float dd = reg + gw * fabs(a - d.s3);
            float s = ((dl + dr) + du) + dd;
            float m = a * a + a1 * a1 + s;
            /* One division: 1 / (m s), and 1 / m from it. */
            float inv = 1.0f / (m * s);
            float inv_m = inv * s;
            float kf = (a1 * a1 + s) * inv, kb = (a * a + s) * inv, kx = a * a1 * inv;
            float cf = a * inv_m, cb = a1 * inv_m;
            float i0 = I[i], i1 = I[n + i], i2 = I[2 * n + i];
            float8 base = (float8)(cf * i0, cf * i1, cf * i2, 0.0f,
                                   cb * i0, cb * i1, cb * i2, 0.0f);
            float8 k = (float8)(kf, kf, kf, 0.0f, kb, kb, kb, 0.0f);
            float8 pq = dr * r + du * u + dd * d;
            float8 rest = base + k * pq - kx * pq.s45670123;
            float8 out;

            /* The only dependency on the pixel just before. */
            out = clamp(rest + (k * dl) * left - (kx * dl) * left.s45670123, 0.0f, 1.0f);
            out.s3 = a;
            out.s7 = a;
            FB[i] = out;
            left = out;
            /* The right neighbour is the next pixel: its alpha and its
             * left weight (this pixel's right weight) carry over. */
            a = r.s3;
            dl = dr;
        }
    }
}

/* Sums one row of the input for the initial colours: sums[8 y + 0..2]
 * the colour of pixels with alpha > 0.9, sums[8 y + 3] their count,
 * sums[8 y + 4..6] and sums[8 y + 7] the same for alpha < 0.1.  Global
 * range: height. */
__kernel void fg_row_sums(__global const float *image, __global const float *alpha,
                          __global float *sums, uint width, uint height)
{
    uint y = get_global_id(0);
    uint n = width * height;
    float f0 = 0.0f, f1 = 0.0f, f2 = 0.0f, fc = 0.0f;
    float b0 = 0.0f, b1 = 0.0f, b2 = 0.0f, bc = 0.0f;

    if (y >= height)
        return;
    for (uint x = 0; x < width; x++) {
        uint i = y * width + x;
        float a = alpha[i];
        if (a > 0.9f) {
            f0 += image[i];
            f1 += image[n + i];
            f2 += image[2 * n + i];
            fc += 1.0f;
        }
        if (a < 0.1f) {
            b0 += image[i];
            b1 += image[n + i];
            b2 += image[2 * n + i];
            bc += 1.0f;
        }
    }
    sums[8 * y + 0] = f0;
    sums[8 * y + 1] = f1;
    sums[8 * y + 2] = f2;
    sums[8 * y + 3] = fc;
    sums[8 * y + 4] = b0;
    sums[8 * y + 5] = b1;
    sums[8 * y + 6] = b2;
    sums[8 * y + 7] = bc;
}

/* Adds up the row sums of fg_row_sums over `height` rows and writes the
 * initial 1x1 level record of FB: the mean colour of the pixels with
 * alpha > 0.9 as F, of those with alpha < 0.1 as B, each sum divided by
 * its count plus 1e-5 (so 0 when there is none), as pymatting.  The alpha
 * slots are left 0: fg_prepare takes alpha from the input.  Global
 * range: 1. */
__kernel void fg_init(__global const float *sums, uint height, __global float8 *FB)
{
    float acc[8];
    float8 rec;

    if (get_global_id(0) != 0)
        return;
    for (int k = 0; k < 8; k++)
        acc[k] = 0.0f;
    for (uint y = 0; y < height; y++)
        for (int k = 0; k < 8; k++)
            acc[k] += sums[8 * y + k];
    rec.s0 = acc[0] / (acc[3] + 1e-5f);
    rec.s1 = acc[1] / (acc[3] + 1e-5f);
    rec.s2 = acc[2] / (acc[3] + 1e-5f);
    rec.s3 = 0.0f;
    rec.s4 = acc[4] / (acc[7] + 1e-5f);
    rec.s5 = acc[5] / (acc[7] + 1e-5f);
    rec.s6 = acc[6] / (acc[7] + 1e-5f);
    rec.s7 = 0.0f;
    FB[0] = rec;
}

/* Prepares a w x h level by nearest-neighbour resizes (source index
 * min(x * w_src / w_dst, w_src - 1), as pymatting's _resize_nearest): the
 * F and B of each record from the previous level's records FBp (wp x hp),
 * its alpha slots from the w0 x h0 input alpha, and, when copy_image is
 * nonzero, the level's colour I (3 planes) from the input image (the top
 * level reads the input itself).  Global range: (w, h). */
__kernel void fg_prepare(__global const float *image, __global const float *alpha,
                         uint w0, uint h0, __global const float8 *FBp, uint wp, uint hp,
                         __global float *I, __global float8 *FB, uint w, uint h,
                         int copy_image)
{
    uint x = get_global_id(0), y = get_global_id(1);
    uint n = w * h, i, xs, ys, j;
    float8 rec;
    float a;

    if (x >= w || y >= h)
        return;
    i = y * w + x;
    xs = min((uint)((ulong)x * wp / w), wp - 1);
    ys = min((uint)((ulong)y * hp / h), hp - 1);
    rec = FBp[ys * wp + xs];
    xs = min((uint)((ulong)x * w0 / w), w0 - 1);
    ys = min((uint)((ulong)y * h0 / h), h0 - 1);
    j = ys * w0 + xs;
    a = alpha[j];
    rec.s3 = a;
    rec.s7 = a;
    FB[i] = rec;
    if (copy_image) {
        for (uint c = 0; c < 3; c++)
            I[c * n + i] = image[c * w0 * h0 + j];
    }
}

/* Runs `iterations` raster sweeps over a whole w x h level in one
 * work-item (for levels that fit in a single tile).  Global range: 1. */
__kernel void fg_sweep_level(__global float8 *FB, __global const float *I, uint w,
                             uint h, uint iterations, float reg, float gw)
{
    if (get_global_id(0) != 0)
        return;
    for (uint t = 0; t < iterations; t++)
        fg_sweep_rect(FB, I, w, h, 0, w, 0, h, reg, gw);
}

/* One wavefront step over a w x h level cut into tiles_x x tiles_y tiles
 * of tile x tile pixels: sweep t of tile (i, j) runs at step
 * i + j + 2 t, so that a tile follows sweep t of its left and upper
 * tiles and precedes it in its right and lower ones, and sweep t + 1 of
 * a tile follows sweep t of its right and lower tiles.  Work-item
 * (k, u) takes sweep t = t_lo + u and the k-th tile of anti-diagonal
 * step - 2 t, and sweeps it in raster order.  Global range: (longest
 * diagonal, number of sweeps active at this step). */
__kernel void fg_wave(__global float8 *FB, __global const float *I, uint w, uint h,
                      uint tile_w, uint tile_h, uint tiles_x, uint tiles_y, uint step,
                      uint t_lo, uint iterations, float reg, float gw)
{
    uint k = get_global_id(0), t = t_lo + get_global_id(1);
    uint d, i_lo, i_hi, ti, tj, x0, y0;

    if (t >= iterations || 2 * t > step)
        return;
    d = step - 2 * t;
    if (d > tiles_x + tiles_y - 2)
        return;
    i_lo = d >= tiles_y ? d - (tiles_y - 1) : 0;
    i_hi = min(d, tiles_x - 1);
    ti = i_lo + k;
    if (ti > i_hi)
        return;
    tj = d - ti;
    x0 = ti * tile_w;
    y0 = tj * tile_h;
    fg_sweep_rect(FB, I, w, h, x0, min(w, x0 + tile_w), y0, min(h, y0 + tile_h), reg, gw);
}

/* Writes the top level's records FB (n pixels) to the planar outputs:
 * F to `foreground` and, when want_background is nonzero, B to
 * `background` (3 planes of n floats each).  Global range: n. */
__kernel void fg_unpack(__global const float8 *FB, __global float *foreground,
                        __global float *background, uint n, int want_background)
{
    uint i = get_global_id(0);
    float8 rec;

    if (i >= n)
        return;
    rec = FB[i];
    foreground[i] = rec.s0;
    foreground[n + i] = rec.s1;
    foreground[2 * n + i] = rec.s2;
    if (want_background) {
        background[i] = rec.s4;
        background[n + i] = rec.s5;
        background[2 * n + i] = rec.s6;
    }
}
