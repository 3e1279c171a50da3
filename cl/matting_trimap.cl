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

/* Row pass: rows[p] holds TRIMAP_ALL_FG when every pixel at offsets lo..hi
 * along x is foreground (all inside the image), TRIMAP_ALL_BG when every
 * one inside the image is background.  One work-item per pixel over a 1-D
 * range of at least width * height items. */
__kernel void trimap_rows(__global const float *mask, __global uchar *rows,
                          uint width, uint height, float fg_threshold,
                          float bg_threshold, int lo, int hi)
{
    uint p = get_global_id(0);
    uint all_fg = 1, all_bg = 1;
    int x, y;

    if (p >= width * height)
        return;
    x = (int)(p % width);
    y = (int)(p / width);
    for (int d = lo; d <= hi && (all_fg || all_bg); d++) {
        int xx = x + d;
        float v;
        if (xx < 0 || xx >= (int)width) {
            all_fg = 0;
            continue;
        }
        v = mask_level(mask[(size_t)y * width + (size_t)xx]);
        if (!(v > fg_threshold))
            all_fg = 0;
        if (!(v < bg_threshold))
            all_bg = 0;
    }
    rows[p] = (uchar)((all_fg ? TRIMAP_ALL_FG : 0u) | (all_bg ? TRIMAP_ALL_BG : 0u));
}

/* Column pass: ANDs the row pass's bits over offsets lo..hi along y
 * (outside the image: not foreground, background) and writes the trimap
 * value.  One work-item per pixel. */
__kernel void trimap_cols(__global const uchar *rows, __global float *trimap,
                          uint width, uint height, int lo, int hi)
{
    uint p = get_global_id(0);
    uint bits = TRIMAP_ALL_FG | TRIMAP_ALL_BG;
    int x, y;

    if (p >= width * height)
        return;
    x = (int)(p % width);
    y = (int)(p / width);
    for (int d = lo; d <= hi && bits; d++) {
        int yy = y + d;
        if (yy < 0 || yy >= (int)height) {
            bits &= TRIMAP_ALL_BG;
            continue;
        }
        bits &= rows[(size_t)yy * width + (size_t)x];
    }
    trimap[p] = (bits & TRIMAP_ALL_BG) ? 0.0f : (bits & TRIMAP_ALL_FG) ? 1.0f : 0.5f;
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
