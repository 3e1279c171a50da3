/* Alpha compositing on planar float images (channel c of pixel p at
 * [c * npix + p]).  Every kernel runs one work-item per pixel over a 1-D
 * global range of at least npix items.
 *
 * Input RGBA colour is straight (premultiplied = 0) or already multiplied
 * by alpha (premultiplied != 0).  Compositing clamps alpha to [0,1] and
 * writes straight RGB: out = fg * a + bg * (1 - a), or fg + bg * (1 - a)
 * for premultiplied fg.  Contraction into fma is off so that results match
 * a host float loop to the rounding of each operation. */

#pragma OPENCL FP_CONTRACT OFF

/* Returns one composited sample: fg over bg with alpha a in [0,1]. */
float over(float fg, float bg, float a, int premultiplied)
{
    float front = premultiplied ? fg : fg * a;
    return front + bg * (1.0f - a);
}

/* Composites planar RGBA `rgba` over the solid colour (colour.x, .y, .z)
 * into planar RGB `dst`. */
__kernel void composite_colour(__global const float *rgba, __global float *dst,
                               uint npix, float4 colour, int premultiplied)
{
    uint p = get_global_id(0);
    float a;

    if (p >= npix)
        return;
    a = clamp(rgba[3 * npix + p], 0.0f, 1.0f);
    dst[p] = over(rgba[p], colour.x, a, premultiplied);
    dst[npix + p] = over(rgba[npix + p], colour.y, a, premultiplied);
    dst[2 * npix + p] = over(rgba[2 * npix + p], colour.z, a, premultiplied);
}

/* Composites planar RGBA `rgba` over the first three planes of `bg` (same
 * npix; a fourth background plane is ignored) into planar RGB `dst`. */
__kernel void composite_image(__global const float *rgba, __global const float *bg,
                              __global float *dst, uint npix, int premultiplied)
{
    uint p = get_global_id(0);
    float a;

    if (p >= npix)
        return;
    a = clamp(rgba[3 * npix + p], 0.0f, 1.0f);
    for (uint c = 0; c < 3; c++)
        dst[c * npix + p] = over(rgba[c * npix + p], bg[c * npix + p], a, premultiplied);
}

/* Copies planar `src` of `channels` channels (2 or 4; alpha last) into
 * `dst`, multiplying each colour plane by alpha (multiply != 0) or
 * dividing it by alpha (multiply = 0; colour 0 where alpha <= 0).
 * Alpha is copied unchanged. */
__kernel void premultiply(__global const float *src, __global float *dst,
                          uint npix, uint channels, int multiply)
{
    uint p = get_global_id(0);
    uint last = channels - 1;
    float a;

    if (p >= npix)
        return;
    a = src[last * npix + p];
    for (uint c = 0; c < last; c++) {
        float v = src[c * npix + p];
        if (multiply)
            dst[c * npix + p] = v * a;
        else
            dst[c * npix + p] = a > 0.0f ? v / a : 0.0f;
    }
    dst[last * npix + p] = a;
}
