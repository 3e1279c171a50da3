/* Alpha matting on the device: trimaps from masks, closed-form alpha
 * (Levin, Lischinski, Weiss), multi-level foreground estimation (Germer,
 * Uelwer, Conrad, Harmeling 2020) and the guided filter (He, Sun, Tang).
 * Images are dev_image planar float: colour images 3 channels in [0,1],
 * masks, trimaps and alpha 1 channel in [0,1].  Every op allocates its
 * outputs from the device pool and leaves its inputs untouched; on error
 * outputs stay empty and nothing is leaked. */
#ifndef KILN_MATTING_H
#define KILN_MATTING_H

#include "dev_image.h"

/* Builds a trimap from a mask as rembg does: foreground where
 * mask*255 > fg_threshold, background where mask*255 < bg_threshold, both
 * eroded by an erode_size x erode_size square (scipy.ndimage
 * binary_erosion semantics: footprint offsets -size/2 .. size-1-size/2;
 * outside the image counts as not-foreground for the foreground and as
 * background for the background), the rest unknown.  Output values: 0,
 * 0.5, 1.  erode_size 0 means no erosion. */
kiln_status op_trimap_from_mask(kiln_device *dev, const dev_image *mask,
                                float fg_threshold, float bg_threshold,
                                uint32_t erode_size, dev_image *trimap);

/* Counts trimap pixels: foreground (>= 0.9), background (<= 0.1), unknown. */
kiln_status op_trimap_counts(kiln_device *dev, const dev_image *trimap,
                             size_t *foreground, size_t *background,
                             size_t *unknown);

typedef struct cf_params {
    float epsilon;           /* regularisation, pymatting default 1e-7 */
    uint32_t radius;         /* window radius, default 1 */
    uint32_t max_iterations; /* solver iteration cap */
    float tolerance;         /* relative residual to stop at */
} cf_params;

typedef struct cf_stats {
    uint32_t iterations;     /* solver iterations run */
    float residual;          /* final relative residual */
    size_t unknown;          /* unknown pixels */
    size_t active;           /* pixels the solver worked on */
    size_t device_bytes;     /* peak pool bytes the solve held */
} cf_stats;

/* Fills the pymatting defaults (epsilon 1e-7, radius 1, and the solver
 * settings that reach its accuracy). */
void cf_params_default(cf_params *p);

/* Closed-form alpha for `image` (3 channels) constrained by `trimap`
 * (1 channel, 0/0.5/1): solves L_UU x_U = -L_UK fg_K (the matting Laplacian
 * restricted to the unknown pixels U, the known pixels K fixed at their
 * labels) as pymatting's estimate_alpha_cf does since 1.1.2, on the
 * device, without storing anything per known pixel beyond image-sized
 * buffers; clips to [0,1].  stats may be
 * NULL.  A trimap without unknown pixels returns it as the alpha. */
kiln_status op_alpha_cf(kiln_device *dev, const dev_image *image,
                        const dev_image *trimap, const cf_params *params,
                        dev_image *alpha, cf_stats *stats);

typedef struct fg_params {
    float regularization;     /* 1e-5 */
    uint32_t small_iterations; /* 10 */
    uint32_t big_iterations;   /* 2 */
    uint32_t small_size;       /* 32 */
    float gradient_weight;     /* 1 */
} fg_params;

/* Fills the pymatting defaults. */
void fg_params_default(fg_params *p);

/* Multi-level foreground (and background) estimation from an image and
 * its alpha, as pymatting's estimate_foreground_ml.  background may be
 * NULL when not wanted. */
kiln_status op_foreground_ml(kiln_device *dev, const dev_image *image,
                             const dev_image *alpha, const fg_params *params,
                             dev_image *foreground, dev_image *background);

/* Guided filter of `src` (1 channel) with `guide` (1 or 3 channels, same
 * size): box windows of the given radius (clipped at the borders, as
 * normalised box filters), regulariser eps.  Output 1 channel. */
kiln_status op_guided_filter(kiln_device *dev, const dev_image *guide,
                             const dev_image *src, uint32_t radius, float eps,
                             dev_image *out);

#endif
