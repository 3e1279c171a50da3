/* The host reference backward pass of the splat oracle (splat_oracle.h):
 * the exact derivative, in double precision, of the oracle's RGB output
 * as implemented, for training tests.
 *
 * Given dL/d(RGB) per pixel (RGB = sum c alpha T + T_final background),
 * it writes dL/d(raw parameter) for every Gaussian of the scene: means,
 * log scales, the raw unnormalised w-first quaternion, the opacity logit
 * and the SH coefficients (coefficient-major, as in splat_scene.h).
 *
 * Every discrete decision of the forward is taken from the forward itself
 * (splat_oracle_frame_build / splat_oracle_pixel_hits) and held constant:
 * the depth, det, non-finite and tile culls, the tile lists, the depth
 * order, the s < 0 and alpha < 1/255 skips, early termination.  A culled
 * or skipped Gaussian contributes nothing; the Gaussian that ends a pixel
 * is not blended and gets nothing from it.  Clamps are constants where
 * they bite: a clamped alpha (min(clamp, o exp(-s))) passes no gradient;
 * the colour max(0, SH + 0.5) passes none where it clamps; the Jacobian
 * clamp holds the clamped ratio x/z (y/z) constant: then tx = L z, so
 * dtx/dx = 0 and dtx/dz = L (gsplat's persp_proj_vjp; the Inria
 * backward.cu keeps tx itself constant and drops that L term on z); the
 * quaternion norm's 1e-12 floor and the antialias max(0, .) are constant
 * when they bite.  Differentiated through: the blend (back to front, the
 * suffix sums recursively, no division by 1 - alpha), alpha = o exp(-s)
 * w.r.t. the conic, mean2d and o; conic = inverse(cov2d + 0.3 I); cov2d =
 * J W Sigma W^T J^T with J from the camera-space mean; Sigma = R S S^T R^T,
 * R from the normalised quaternion (through the normalisation), S =
 * exp(log scale); o = sigmoid(logit), times sqrt(det(cov2d) /
 * det(cov2d + 0.3 I)) when antialiased; the colour through the SH basis
 * and dir = normalise(mean - camera centre) back to the means;
 * mean2d = (fx x/z + cx, fy y/z + cy).  Both modes; with opt->smooth the
 * derivative of the smooth variant. */
#ifndef KILN_SPLAT_ORACLE_GRAD_H
#define KILN_SPLAT_ORACLE_GRAD_H

#include "splat_oracle.h"

/* Gradients of a scene's raw parameters (arrays owned by the caller). */
typedef struct splat_oracle_grad {
    double *means;          /* count * 3 */
    double *scales;         /* count * 3, w.r.t. the log scales */
    double *rotations;      /* count * 4, w.r.t. the raw quaternion w x y z */
    double *opacity;        /* count, w.r.t. the logit */
    double *sh;             /* count * sh_coeffs * 3 */
} splat_oracle_grad;

/* Zeroes grad's arrays, then writes dL/d(parameters) of the scene
 * rendered from cam with opt, for dl_drgb (height * width * 3 doubles,
 * row-major, dL/dR dL/dG dL/dB).  Returns 0, or -1 when host memory runs
 * out (the arrays are then zero). */
int splat_oracle_backward(const splat_scene *scene, const splat_camera *cam,
                          const splat_oracle_options *opt, const double *dl_drgb,
                          splat_oracle_grad *grad);

#endif
