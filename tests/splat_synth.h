/* Seeded synthetic 3DGS scenes for tests and benchmarks, after gsplat's
 * benchmark recipe (random Gaussians in a box), and a camera that sees
 * them.
 *
 * Recipe (splat_synth_scene), all draws from one splitmix64 stream seeded
 * with `seed`, Gaussian by Gaussian in this order:
 *   - the scene is a k x k x k grid of cells (k = tiles, 0 counts as 1),
 *     cell (a, b, c) (c slowest, a fastest) centred at
 *     (2a - (k - 1), 2b - (k - 1), 2c - (k - 1)); the whole scene spans
 *     [-k, k]^3, centred at the origin.  Each cell holds `count` Gaussians
 *     drawn independently, so the scene holds count * k^3;
 *   - mean: the cell centre + 3 uniforms in [-1, 1);
 *   - scales: 3 uniforms in [1e-4, 0.02], stored as logs;
 *   - rotation: 4 standard normals (Box-Muller), normalised (uniform on
 *     S^3; a draw of norm < 1e-6 is redrawn), stored w x y z;
 *   - opacity: a uniform in [0, 1) clamped to [1e-4, 1 - 1e-4], stored as
 *     its logit;
 *   - SH, coefficient-major, channel by channel: dc uniform in
 *     [-0.4 / SH_C0, 0.4 / SH_C0) (degree-0 colour 0.5 + SH_C0 dc in
 *     [0.1, 0.9)), then for k = 1 .. (degree + 1)^2 - 1 each channel a
 *     normal with sigma 0.1;
 *   - normals zero.
 * A uniform in [0, 1) is the top 53 bits of a splitmix64 output times
 * 2^-53; a normal is Box-Muller on two uniforms (1 - u1 in the log), both
 * values of a pair used.
 *
 * Camera (splat_synth_camera): identity rotation, looking down +z from
 * (0, 0, -d), d = k (1 + 1 / tan(fov / 2)), so the front face of the
 * scene's box (z = -k, half-width k) just fills the horizontal field of
 * view; fx = fy = 0.5 w / tan(fov / 2); cx = w / 2 + cx_offset,
 * cy = h / 2. */
#ifndef KILN_SPLAT_SYNTH_H
#define KILN_SPLAT_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "splat_camera.h"
#include "splat_scene.h"

/* What to generate. */
typedef struct splat_synth_options {
    size_t count;           /* Gaussians per grid cell */
    uint64_t seed;
    uint32_t sh_degree;     /* 0..3 */
    uint32_t tiles;         /* k: a k x k x k grid of cells (0 or 1: one) */
} splat_synth_options;

/* Generates the scene of the recipe above into *scene (splat_scene_alloc;
 * free with splat_scene_free).  Returns 0, or -1 for a bad SH degree, a
 * size overflow or host memory running out (*scene is then zeroed). */
int splat_synth_scene(const splat_synth_options *opt, splat_scene *scene);

/* Sets *cam to the recipe's camera for opt's grid: w x h pixels,
 * horizontal field of view fov_deg (0 < fov_deg < 180), principal point
 * offset cx_offset pixels from the image centre along x. */
void splat_synth_camera(const splat_synth_options *opt, uint32_t w, uint32_t h, double fov_deg,
                        double cx_offset, splat_camera *cam);

#endif
