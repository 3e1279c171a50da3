/* Trimaps from masks (rembg's recipe) and trimap pixel counts, on planar
 * one-channel float images (pixel (x, y) at [y * width + x]).
 *
 * A mask value m in [0,1] is compared on the 8-bit scale: v = m * 255,
 * snapped to the nearest integer when within 1e-3 of it so that masks
 * uploaded from 8-bit samples (k / 255) compare exactly as the integers
 * rembg compares.  Foreground: v > fg_threshold; background:
 * v < bg_threshold.  Erosion by a size x size square is separable: a row
 * pass ANDs each class over the offsets lo..hi along x (outside the image
 * counts as not-foreground and as background), a column pass does the same
 * along y and writes the trimap: 0 background (which wins when a pixel is
 * both, as rembg writes it last), 1 foreground, 0.5 unknown. */

/* Bits of the row pass's output. */
#define TRIMAP_ALL_FG 1u
#define TRIMAP_ALL_BG 2u

/* Returns m * 255, snapped to the nearest integer when within 1e-3. */
float mask_level(float m)
{
    float v = m * 255.0f;
    float r = rint(v);
    return fabs(v - r) < 1e-3f ? r : v;
}

/* Returns the failures of mask pixel xx of `row` (width pixels): bit 0
 * when it is not foreground (outside the image counts as not
 * foreground), bit 1 when it is inside and not background (outside
 * counts as background). */
uint trimap_fails(__global const float *row, int xx, uint width, float fg_threshold,
                  float bg_threshold)
{
    float v;

    if (xx < 0 || xx >= (int)width)
        return 1u;
    v = mask_level(row[xx]);
    return (v > fg_threshold ? 0u : 1u) | (v < bg_threshold ? 0u : 2u);
}

/* Row pass: rows[p] holds TRIMAP_ALL_FG when every pixel at offsets lo..hi
 * along x is foreground (all inside the image), TRIMAP_ALL_BG when every
 * one inside the image is background.  One work-item per row, sliding
 * counts of the failing pixels along it. */
__kernel void trimap_rows(__global const float *mask, __global uchar *rows,
                          uint width, uint height, float fg_threshold,
                          float bg_threshold, int lo, int hi)
{
    uint y = get_global_id(0);
    __global const float *row;
    __global uchar *out;
    uint not_fg = 0, not_bg = 0;

    if (y >= height)
        return;
    row = mask + (size_t)y * width;
    out = rows + (size_t)y * width;
    for (int d = lo; d <= hi; d++) {
        uint f = trimap_fails(row, d, width, fg_threshold, bg_threshold);
        not_fg += f & 1u;
        not_bg += f >> 1;
    }
    for (int x = 0; x < (int)width; x++) {
        uint add = trimap_fails(row, x + 1 + hi, width, fg_threshold, bg_threshold);
        uint drop = trimap_fails(row, x + lo, width, fg_threshold, bg_threshold);
        out[x] = (uchar)((not_fg == 0 ? TRIMAP_ALL_FG : 0u) | (not_bg == 0 ? TRIMAP_ALL_BG : 0u));
        not_fg += (add & 1u) - (drop & 1u);
        not_bg += (add >> 1) - (drop >> 1);
    }
}

/* Returns the row pass's bits at (x, yy), outside the image: not
 * foreground, background. */
uint trimap_bits(__global const uchar *rows, uint x, int yy, uint width, uint height)
{
    return yy < 0 || yy >= (int)height ? TRIMAP_ALL_BG : rows[(size_t)yy * width + x];
}

/* Column pass: ANDs the row pass's bits over offsets lo..hi along y
 * (outside the image: not foreground, background) and writes the trimap
 * value: 0 background (which wins), 1 foreground, 0.5 unknown.  One
 * work-item per column, sliding counts of the failing rows down it. */
__kernel void trimap_cols(__global const uchar *rows, __global float *trimap,
                          uint width, uint height, int lo, int hi)
{
    uint x = get_global_id(0);
    uint not_fg = 0, not_bg = 0;

    if (x >= width)
        return;
    for (int d = lo; d <= hi; d++) {
        uint b = trimap_bits(rows, x, d, width, height);
        not_fg += (b & TRIMAP_ALL_FG) == 0;
        not_bg += (b & TRIMAP_ALL_BG) == 0;
    }
    for (int y = 0; y < (int)height; y++) {
        uint add = trimap_bits(rows, x, y + 1 + hi, width, height);
        uint drop = trimap_bits(rows, x, y + lo, width, height);
        trimap[(size_t)y * width + x] = not_bg == 0 ? 0.0f : not_fg == 0 ? 1.0f : 0.5f;
        not_fg += ((add & TRIMAP_ALL_FG) == 0) - ((drop & TRIMAP_ALL_FG) == 0);
        not_bg += ((add & TRIMAP_ALL_BG) == 0) - ((drop & TRIMAP_ALL_BG) == 0);
    }
}

/* Counts one row of a trimap: counts[3 * row] foreground (>= 0.9),
 * [3 * row + 1] background (<= 0.1), [3 * row + 2] the rest (NaN
 * included).  One work-item per row. */
__kernel void trimap_count_rows(__global const float *trimap, __global uint *counts,
                                uint width, uint height)
{
    uint row = get_global_id(0);
    __global const float *t;
    uint fg = 0, bg = 0, unknown = 0;

    if (row >= height)
        return;
    t = trimap + (size_t)row * width;
    for (uint x = 0; x < width; x++) {
        float v = t[x];
        if (v >= 0.9f)
            fg++;
        else if (v <= 0.1f)
            bg++;
        else
            unknown++;
    }
    counts[3 * row] = fg;
    counts[3 * row + 1] = bg;
    counts[3 * row + 2] = unknown;
}
