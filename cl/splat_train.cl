/* Splat training helpers per Gaussian: the densification statistics of
 * one iteration, as the reference trainer's add_densification_stats:
 * for every Gaussian the view saw (screen radius > 0), grad_accum += the
 * norm of its view-space positional gradient in normalised device
 * coordinates (dL/dpixel times W/2 and H/2), denom += 1, and max_radius =
 * max(max_radius, radius). */

__kernel void splat_train_stats(__global const float2 *g_xy, __global const float *radius,
                                uint count, float half_w, float half_h,
                                __global float *grad_accum, __global float *denom,
                                __global float *max_radius)
{
    uint g = get_global_id(0);
    if (g >= count)
        return;
    float r = radius[g];
    if (!(r > 0.0f))
        return;
    float2 d = g_xy[g] * (float2)(half_w, half_h);
    grad_accum[g] += length(d);
    denom[g] += 1.0f;
    max_radius[g] = fmax(max_radius[g], r);
}
