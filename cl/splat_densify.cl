/* Densification of a splat scene (engine/splat/splat_densify.c): the
 * reference trainer's clone, split and prune, as a per-Gaussian plan
 * (flags), prefix sums of the survivors (cl/splat_scan.cl) and a
 * compaction into new buffers.
 *
 * Decisions are taken on the raw parameters, against thresholds the host
 * moves into their space: log scales against log sizes, opacity logits
 * against the logit of the minimum opacity.
 *
 * Output order: Gaussian i's survivors sit at offsets[i]: its original
 * (when it stays), then its copy or its two split children. */

/* Plan bits of one Gaussian. */
#define DENSIFY_KEEP 1u      /* survives the prune when not densified */
#define DENSIFY_CLONE 2u     /* a clone candidate */
#define DENSIFY_SPLIT 4u     /* a split candidate */
#define DENSIFY_NEW_KEEP 8u  /* its copy or children survive the prune */
#define DENSIFY_GRANTED 16u  /* its densification fits under the cap */

/* New Gaussians a candidate makes: 1 copy or 2 children. */
static uint densify_made(uint f)
{
    return (f & DENSIFY_CLONE) ? 1u : (f & DENSIFY_SPLIT) ? 2u : 0u;
}

/* Survivors of a Gaussian whose densification is granted: a clone's
 * original when it survives, the new ones when they do. */
static uint densify_grown(uint f)
{
    uint orig = (f & DENSIFY_CLONE) && (f & DENSIFY_KEEP) ? 1u : 0u;
    return orig + ((f & DENSIFY_NEW_KEEP) ? densify_made(f) : 0u);
}

/* The largest of a Gaussian's three log scales. */
static float densify_log_size(__global const float *scales, uint i)
{
    size_t b = (size_t)i * 3;
    return fmax(fmax(scales[b], scales[b + 1]), scales[b + 2]);
}

/* Per Gaussian: the plan in flags[i], keep[i] = its survivors when not
 * densified (0/1), growth[i] = the net Gaussians its densification adds
 * (survivors when granted minus keep[i]; 0 for non-candidates).
 * screen != 0 turns on the screen-size and world-size prunes; log_split
 * is log(0.8 * 2), what a child's log scales lose. */
__kernel void densify_mark(__global const float *accum, __global const float *denom,
                           __global const float *max_radius, __global const float *scales,
                           __global const float *opacity, uint n, float grad_threshold,
                           float log_dense, float logit_min, float max_screen, float log_big,
                           int screen, float log_split, __global uint *flags,
                           __global uint *growth, __global uint *keep)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    float d = denom[i];
    float grad = d > 0.0f ? accum[i] / d : 0.0f;
    float size = densify_log_size(scales, i);
    int faint = opacity[i] < logit_min;
    int big_screen = screen && max_radius[i] > max_screen;
    uint f = (faint || big_screen || (screen && size > log_big)) ? 0u : DENSIFY_KEEP;
    if (grad >= grad_threshold) {
        if (size <= log_dense) {
            f |= DENSIFY_CLONE;
            if (!faint && !(screen && size > log_big))
                f |= DENSIFY_NEW_KEEP;
        } else {
            f |= DENSIFY_SPLIT;
            if (!faint && !(screen && size - log_split > log_big))
                f |= DENSIFY_NEW_KEEP;
        }
    }
    flags[i] = f;
    keep[i] = f & DENSIFY_KEEP;
    growth[i] = densify_made(f) ? densify_grown(f) - (f & DENSIFY_KEEP) : 0u;
}

/* Per Gaussian, with prefix[i] the exclusive (saturating) prefix sum of
 * growth: a candidate is granted when prefix[i] + growth fits in `room`;
 * prefix[i] becomes the Gaussian's survivor count.  counters[0] and
 * counters[1] count the granted clones and splits. */
__kernel void densify_grant(__global uint *flags, __global uint *prefix, uint n, uint room,
                            volatile __global uint *counters)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    uint f = flags[i];
    uint pre = prefix[i];
    uint survivors = f & DENSIFY_KEEP;
    if (densify_made(f)) {
        uint w = densify_grown(f) - survivors;
        if (pre <= room && w <= room - pre) {
            f |= DENSIFY_GRANTED;
            flags[i] = f;
            survivors = densify_grown(f);
            atomic_inc(&counters[(f & DENSIFY_CLONE) ? 0 : 1]);
        }
    }
    prefix[i] = survivors;
}

/* Copies one array of `width` floats a Gaussian into its compacted
 * place: the original where it stays, the copy or children from the
 * original's values (zero_new == 0: parameters) or as zeros (zero_new
 * != 0: Adam moments). */
__kernel void densify_copy(__global const float *src, __global float *dst, uint width,
                           __global const uint *flags, __global const uint *offsets, uint n,
                           int zero_new)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    uint f = flags[i];
    uint orig, made;
    if (f & DENSIFY_GRANTED) {
        orig = (f & DENSIFY_CLONE) && (f & DENSIFY_KEEP) ? 1u : 0u;
        made = (f & DENSIFY_NEW_KEEP) ? densify_made(f) : 0u;
    } else {
        orig = f & DENSIFY_KEEP;
        made = 0u;
    }
    size_t s = (size_t)i * width, o = (size_t)offsets[i] * width;
    for (uint k = 0; k < width; k++) {
        float v = src[s + k];
        if (orig)
            dst[o + k] = v;
        for (uint c = 0; c < made; c++)
            dst[o + (size_t)(orig + c) * width + k] = zero_new ? 0.0f : v;
    }
}

/* splitmix64's finaliser. */
static ulong densify_mix(ulong x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9UL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebUL;
    return x ^ (x >> 31);
}

/* A uniform in (0, 1) from the hash of (seed, iteration, Gaussian, child,
 * component, draw): h = mix(mix(mix(seed ^ golden) ^ iteration) ^
 * (i * 256 + child * 16 + component * 2 + draw)), u = (h >> 41) + 0.5
 * times 2^-23 (exact in a float). */
static float densify_uniform(ulong seed, ulong iteration, uint i, uint child, uint comp,
                             uint draw)
{
    ulong h = densify_mix(densify_mix(densify_mix(seed ^ 0x9e3779b97f4a7c15UL) ^ iteration) ^
                          ((ulong)i * 256 + child * 16 + comp * 2 + draw));
    return ((float)(h >> 41) + 0.5f) * 0x1p-23f;
}

/* The standard normal of component `comp` of child `child`: Box-Muller,
 * sqrt(-2 log u0) cos(2 pi u1). */
static float densify_normal(ulong seed, ulong iteration, uint i, uint child, uint comp)
{
    float u0 = densify_uniform(seed, iteration, i, child, comp, 0);
    float u1 = densify_uniform(seed, iteration, i, child, comp, 1);
    return sqrt(-2.0f * log(u0)) * cos(6.283185307179586f * u1);
}

/* After densify_copy: the children of granted splits get their means
 * mean + R (s * n) (s = exp(log scales), R of the normalised quaternion
 * w x y z, n standard normals) and log scales minus log_split. */
__kernel void densify_split(__global const float *means, __global const float *scales,
                            __global const float *rotations, __global float *out_means,
                            __global float *out_scales, __global const uint *flags,
                            __global const uint *offsets, uint n, ulong seed, ulong iteration,
                            float log_split)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    uint f = flags[i];
    if (!(f & DENSIFY_GRANTED) || !(f & DENSIFY_SPLIT) || !(f & DENSIFY_NEW_KEEP))
        return;
    size_t b3 = (size_t)i * 3, b4 = (size_t)i * 4;
    float qw = rotations[b4], qx = rotations[b4 + 1], qy = rotations[b4 + 2],
          qz = rotations[b4 + 3];
    float inv = 1.0f / sqrt(qw * qw + qx * qx + qy * qy + qz * qz);
    qw *= inv;
    qx *= inv;
    qy *= inv;
    qz *= inv;
    float r00 = 1.0f - 2.0f * (qy * qy + qz * qz), r01 = 2.0f * (qx * qy - qw * qz),
          r02 = 2.0f * (qx * qz + qw * qy);
    float r10 = 2.0f * (qx * qy + qw * qz), r11 = 1.0f - 2.0f * (qx * qx + qz * qz),
          r12 = 2.0f * (qy * qz - qw * qx);
    float r20 = 2.0f * (qx * qz - qw * qy), r21 = 2.0f * (qy * qz + qw * qx),
          r22 = 1.0f - 2.0f * (qx * qx + qy * qy);
    float s0 = exp(scales[b3]), s1 = exp(scales[b3 + 1]), s2 = exp(scales[b3 + 2]);
    for (uint c = 0; c < 2; c++) {
        float p0 = s0 * densify_normal(seed, iteration, i, c, 0);
        float p1 = s1 * densify_normal(seed, iteration, i, c, 1);
        float p2 = s2 * densify_normal(seed, iteration, i, c, 2);
        size_t o = ((size_t)offsets[i] + c) * 3;
        out_means[o] = means[b3] + (r00 * p0 + r01 * p1 + r02 * p2);
        out_means[o + 1] = means[b3 + 1] + (r10 * p0 + r11 * p1 + r12 * p2);
        out_means[o + 2] = means[b3 + 2] + (r20 * p0 + r21 * p1 + r22 * p2);
        out_scales[o] = scales[b3] - log_split;
        out_scales[o + 1] = scales[b3 + 1] - log_split;
        out_scales[o + 2] = scales[b3 + 2] - log_split;
    }
}

/* Opacity reset: every opacity logit above `ceiling` (the logit of 0.01)
 * becomes it, as logit(min(sigmoid(o), 0.01)); NaN stays NaN. */
__kernel void splat_opacity_clamp(__global float *opacity, uint n, float ceiling)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    float o = opacity[i];
    opacity[i] = o > ceiling ? ceiling : o;
}
