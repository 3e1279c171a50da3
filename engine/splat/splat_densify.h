/* Densification of a resident splat scene during training
 * (cl/splat_densify.cl), after the reference trainer's densify_and_prune
 * (graphdeco-inria gaussian-splatting, scene/gaussian_model.py:
 * densify_and_clone, densify_and_split, prune_points) and reset_opacity.
 *
 * Rules, for each Gaussian i of the scene before the call:
 *   grad = grad_accum / denom (0 where denom is 0); size = max(exp(scale));
 *   - clone where grad >= grad_threshold and size <= percent_dense *
 *     scene_extent: i stays and a copy is added (the same parameters; the
 *     copy's Adam moments are 0, i keeps its own);
 *   - split where grad >= grad_threshold and size > percent_dense *
 *     scene_extent: i is removed and 2 children are made at mean + R (s *
 *     n), s = exp(scale), R the rotation of i's normalised quaternion, n
 *     3 standard normals per child; log scales scale - log(0.8 * 2) (the
 *     reference's log(s / 1.6), without its exp/log round trip); the same
 *     rotation, opacity and SH; Adam moments 0;
 *   - then the prune, over everything (the new Gaussians included):
 *     sigmoid(opacity) < min_opacity; and when max_screen_size > 0,
 *     max_radius > max_screen_size (new Gaussians have max_radius 0) or
 *     size > 0.1 * scene_extent (the reference prunes big world-space
 *     points only then).
 * The size and opacity tests are done on the raw parameters against
 * thresholds moved into their space in double and rounded to float once:
 * max log scale <= (float)log(percent_dense * scene_extent), opacity <
 * (float)logit(min_opacity), max log scale > (float)log(0.1 *
 * scene_extent).
 *
 * Randomness: n comes from a counter-based hash, so a split is the same
 * on every device and every run: for Gaussian i, child c (0, 1),
 * component k (0..2) and draw d (0, 1),
 *   h = mix(mix(mix(seed ^ 0x9e3779b97f4a7c15) ^ iteration) ^
 *           (i * 256 + c * 16 + k * 2 + d))
 * with mix splitmix64's finaliser, u_d = ((h >> 41) + 0.5) 2^-23 in
 * (0, 1), and n = sqrt(-2 log u_0) cos(2 pi u_1) (Box-Muller).
 *
 * Cap: the result never holds more than max_gaussians.  Each candidate's
 * net growth (its survivors when densified minus its survivors when not:
 * 0, 1 or 2) is granted in index order while the running total of the
 * growth fits the room left by the survivors of the undensified scene:
 * candidate i is densified when (the sum of the growth of candidates
 * before i) + (its own) <= max_gaussians - (survivors with no
 * densification).  The granted candidates are the first ones in index
 * order; the others stay as they are (and are pruned by the same rules).
 * result->capped is 1 when a candidate was refused.
 *
 * Order of the result: Gaussian i's survivors in index order, each its
 * original (when it stays) followed by its copy or its two children
 * (the reference appends the new Gaussians at the end instead: the same
 * set in another order).
 *
 * Memory: the new parameters and Adam moments go to new pool buffers
 * sized for the new count; only when every one is in hand are the
 * scene's and the optimizer's buffers replaced (the old ones back to the
 * pool), and the statistics are replaced by zeroed ones of the new count
 * (the reference resets them after densification).  The scene's centre
 * and bounding box keep their upload values. */
#ifndef KILN_SPLAT_DENSIFY_H
#define KILN_SPLAT_DENSIFY_H

#include <stddef.h>
#include <stdint.h>

#include "splat_adam.h"
#include "splat_scene_dev.h"

/* Densification statistics, one float per Gaussian in each pool buffer:
 * the sum of the view-space positional gradient norms, the number of
 * views that saw the Gaussian, its largest screen radius in pixels. */
typedef struct splat_densify_stats {
    pool_buffer *grad_accum, *denom, *max_radius;
    size_t count;
} splat_densify_stats;

/* Acquires zeroed statistics for `count` Gaussians (tags
 * "splat.densify.*").  On error nothing stays acquired and *stats is
 * zeroed. */
kiln_status splat_densify_stats_acquire(kiln_device *dev, size_t count,
                                        splat_densify_stats *stats);

/* Releases the statistics and zeroes *stats.  Safe on a zeroed struct. */
void splat_densify_stats_release(kiln_device *dev, splat_densify_stats *stats);

/* What one densification does. */
typedef struct splat_densify_options {
    float grad_threshold;   /* the reference: 2e-4 */
    float percent_dense;    /* 0.01 */
    float min_opacity;      /* 0.005 */
    float scene_extent;     /* > 0 */
    float max_screen_size;  /* pixels; 0 turns the screen and world-size
                               prunes off (the trainer passes 20 after the
                               first opacity reset) */
    uint64_t max_gaussians; /* hard cap on the result (>= the scene's count) */
    uint64_t seed, iteration;
} splat_densify_options;

/* What one densification did.  pruned counts every Gaussian the prune
 * removed, originals and new ones: after = before + cloned + split -
 * pruned.  cloned and split count the granted candidates. */
typedef struct splat_densify_result {
    size_t before, cloned, split, pruned, after;
    int capped;             /* 1 when the cap refused a candidate */
} splat_densify_result;

/* Densifies and prunes `scene` by the rules above, carrying `adam`'s
 * moments (m and v of the scene's count) along, and replaces `stats`
 * (of the scene's count) by zeroed statistics of the new count, and
 * writes what it did into *result (may be NULL).
 * KILN_E_INVAL for fp16 SH, shapes that differ, a scene over the cap or
 * of 2^30 Gaussians or more, bad options, or a result with no Gaussian
 * left.  On error the scene, the moments and the statistics are as they
 * were and nothing else stays acquired.  Waits for the device (it reads
 * the new count back). */
kiln_status splat_densify(kiln_device *dev, splat_scene_dev *scene, splat_adam *adam,
                          splat_densify_stats *stats, const splat_densify_options *opt,
                          splat_densify_result *result);

/* The reference's reset_opacity: every opacity becomes logit(min(
 * sigmoid(o), 0.01)), done as min(o, (float)logit(0.01)) on the logits,
 * and the opacity group's Adam m and v become 0.  KILN_E_INVAL when the
 * moments are of another count.  Enqueues only. */
kiln_status splat_opacity_reset(kiln_device *dev, splat_scene_dev *scene, splat_adam *adam);

#endif
