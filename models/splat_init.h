/* A splatting scene to start training from: one Gaussian per point of a
 * point cloud, as the reference trainer's create_from_pcd makes them
 * (its simple_knn distCUDA2 for the scales).  No OpenCL. */
#ifndef KILN_SPLAT_INIT_H
#define KILN_SPLAT_INIT_H

#include <stddef.h>
#include <stdint.h>

#include "kiln.h"
#include "splat_scene.h"

/* SH_C0, the degree-0 spherical harmonic. */
#define SPLAT_SH_C0 0.28209479177387814

/* For each of the n points (points[3 i + k]), the mean squared distance
 * to its 3 nearest other points, in float arithmetic as distCUDA2:
 * d = dx*dx + dy*dy + dz*dz with dx = p.x - q.x, the 3 smallest kept in
 * ascending order b0 <= b1 <= b2 and dist2 = (b0 + b1 + b2) / 3.0f
 * (exact: the same values as a brute-force search).  With fewer than 3
 * other points, the mean over those there are; a lone point gets 0.  A
 * duplicate of a point is another point at distance 0.  Runs a k-d tree,
 * O(n log n) for points in general position.  KILN_E_INVAL for a
 * coordinate that is not finite (naming the point), KILN_E_HOSTMEM. */
kiln_status splat_knn_dist2(const float *points, size_t n, float *dist2);

/* Makes *out of n Gaussians at SH degree `sh_degree` (0..3) from points
 * and RGB colours (colours[3 i + c]), float32 as the reference:
 *   means     the points
 *   f_dc      ((float)(colour / 255.0) - 0.5f) / (float)SH_C0; f_rest 0
 *   scales    logf(sqrtf(max(dist2, 1e-7f))) on all 3 axes (dist2 from
 *             splat_knn_dist2)
 *   rotation  (1, 0, 0, 0)
 *   opacity   logf(0.1f / (1 - 0.1f)) (logit of 0.1)
 *   normals   0
 * KILN_E_INVAL for a bad degree or a coordinate that is not finite,
 * KILN_E_HOSTMEM (*out zeroed on error). */
kiln_status splat_scene_from_points(const float *points, const uint8_t *colours, size_t n,
                                    uint32_t sh_degree, splat_scene *out);

#endif
