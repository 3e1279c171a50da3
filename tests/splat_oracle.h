/* The host reference renderer for splatting tests: plain C, double
 * precision, the same semantics as the device rasterizer in each mode
 * (../shared/refdata/splat/README.md, "Modes"):
 *
 *   inria   (diff-gaussian-rasterization 59f5f77) cull z <= 0.2; Jacobian
 *           clamp |x/z| <= 1.3 (W/2)/fx, |y/z| <= 1.3 (H/2)/fy; radius
 *           ceil(3 sqrt(lambda_max)), lambda_max = mid + sqrt(max(0.1,
 *           mid^2 - det)); tile rectangle on p = mean2d - 0.5: x tiles
 *           trunc((p.x - r)/16) .. trunc((p.x + r + 15)/16) (exclusive),
 *           clamped to [0, tiles], culled when empty; alpha clamp 0.99;
 *           a Gaussian whose T (1 - alpha) < 1e-4 is not blended and ends
 *           the pixel.
 *   gsplat  (gsplat 1.5.3 classic) cull z < 0.01 or z > 1e12; Jacobian
 *           clamp -(cx/fx + 0.3 (W/2)/fx) <= x/z <= (W - cx)/fx + 0.3
 *           (W/2)/fx (same for y); opacity < 1/255 culled; per-axis box
 *           r_i = ceil(e sqrt(S_ii)), e = min(3.33, sqrt(2 ln(255 o)));
 *           culled when the box misses the image or both r_i are 0
 *           (o = 1/255 exactly); tiles floor((m - r)/16) ..
 *           ceil((m + r)/16) (exclusive), clamped; alpha clamp 0.999;
 *           a Gaussian whose T (1 - alpha) <= 1e-4 is not blended and ends
 *           the pixel.
 *
 * Both: colour = max(0, SH(dir) + 0.5) with dir = mean - camera centre
 * (normalised), all sh_coeffs coefficients, the standard SH constants;
 * EWA 2D covariance J W S W^T J^T + 0.3 I, culled when det <= 0; conic =
 * inverse; a Gaussian whose opacity, mean2d or conic is not finite is
 * culled; pixel (i, j) sampled at (j + 0.5, i + 0.5); per pixel, alpha =
 * min(clamp, o exp(-s)), s = 0.5 (a dx^2 + c dy^2) + b dx dy, skipped when
 * s < 0 or alpha < 1/255; order ascending camera z, ties by index; only
 * Gaussians whose tile range covers the pixel's 16x16 tile contribute.
 * antialiased: o *= sqrt(max(0, det(S) / det(S + 0.3 I))) (before the
 * 1/255 cull in gsplat mode).
 * Output: RGB = sum c alpha T + T_final background, A = 1 - T_final,
 * depth = sum z alpha T / (1 - T_final) (0 where nothing was blended).
 *
 * smooth (opt-in, for finite-difference gradient tests): the same
 * projection without its hard discontinuities, so the output is a smooth
 * function of the parameters wherever the colour clamp max(0, .) and the
 * culls below are inactive: no Jacobian clamp (tx = x, ty = y), no tile
 * culling (every projected Gaussian is in every tile's list, gsplat's
 * opacity and box culls dropped too), alpha = o exp(-s) unclamped, no
 * s < 0 or 1/255 skip, no early termination.  The depth cull, the det <= 0
 * cull and the non-finite cull stay. */
#ifndef KILN_SPLAT_ORACLE_H
#define KILN_SPLAT_ORACLE_H

#include "splat_camera.h"
#include "splat_scene.h"

typedef enum splat_oracle_mode { SPLAT_ORACLE_INRIA = 0, SPLAT_ORACLE_GSPLAT = 1 } splat_oracle_mode;

typedef struct splat_oracle_options {
    splat_oracle_mode mode;
    int antialiased;
    double background[3];
    int smooth;             /* 0: the mode's semantics; 1: the smooth variant */
} splat_oracle_options;

/* Renders `scene` from `cam` into rgba (height * width * 4 doubles,
 * row-major, R G B A) and depth (height * width, may be NULL).  Returns
 * 0, or -1 when host memory runs out. */
int splat_oracle_render(const splat_scene *scene, const splat_camera *cam,
                        const splat_oracle_options *opt, double *rgba, double *depth);

/* Internals shared with the backward pass (splat_oracle_grad.c). */

/* One Gaussian after projection: what the blend needs. */
typedef struct splat_oracle_splat {
    double mx, my;          /* mean2d, pixels (sampled at j + 0.5, i + 0.5) */
    double ca, cb, cc;      /* conic: inverse of the dilated 2D covariance */
    double opacity;         /* activated (antialias-compensated) */
    double rgb[3];
    double z;               /* camera depth */
    size_t index;           /* in the scene (the sort's tie-break) */
    int tx0, tx1, ty0, ty1; /* tile range, exclusive ends */
} splat_oracle_splat;

/* A projected frame: the surviving Gaussians in blend order and the
 * per-tile lists (list t is items[start[t] .. start[t + 1]), indices into
 * splats). */
typedef struct splat_oracle_frame {
    const splat_camera *cam;
    const splat_oracle_options *opt;
    double centre[3];       /* camera centre in world space */
    int tiles_x, tiles_y;
    splat_oracle_splat *splats;
    size_t count;
    size_t *start, *items;
} splat_oracle_frame;

/* One Gaussian blended into a pixel. */
typedef struct splat_oracle_hit {
    size_t splat;           /* index into frame->splats */
    double alpha;           /* as blended */
    double gauss;           /* exp(-s) */
    double t;               /* transmittance in front of it */
    int clamped;            /* alpha is the clamp value, not o exp(-s) */
} splat_oracle_hit;

/* Writes the 16 SH basis values at unit direction d, in the reference
 * rasterizer's order (computeColorFromSH): colour = sum basis_k sh_k. */
void splat_oracle_sh_basis(const double d[3], double basis[16]);

/* Projects, sorts and bins the scene into *frame (zeroed first).
 * Returns 0, or -1 when host memory runs out (nothing stays allocated). */
int splat_oracle_frame_build(const splat_scene *scene, const splat_camera *cam,
                             const splat_oracle_options *opt, splat_oracle_frame *frame);

/* Frees the frame's arrays and zeroes it.  Safe on a zeroed frame. */
void splat_oracle_frame_free(splat_oracle_frame *frame);

/* Walks pixel (i, j) front to back as the blend does and writes the
 * Gaussians it blends, in order, into hits (room for frame->count).
 * Returns their number; *t_final is the transmittance left behind. */
size_t splat_oracle_pixel_hits(const splat_oracle_frame *frame, uint32_t i, uint32_t j,
                               splat_oracle_hit *hits, double *t_final);

#endif
