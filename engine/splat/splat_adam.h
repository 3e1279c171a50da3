/* Adam for splat training (cl/splat_adam.cl): the moments of every raw
 * parameter of a resident scene in pool buffers, and one fused update
 * per parameter group (means, log scales, quaternions, opacity logits,
 * SH with its DC and rest rates), as the reference trainer's optimizer
 * (torch.optim.Adam, betas 0.9 / 0.999, eps 1e-15). */
#ifndef KILN_SPLAT_ADAM_H
#define KILN_SPLAT_ADAM_H

#include "splat_backward.h"
#include "splat_scene_dev.h"

/* The learning rates of one step. */
typedef struct splat_adam_rates {
    float means;        /* the reference: 1.6e-4 x scene extent, decayed */
    float scales;       /* 5e-3 */
    float rotations;    /* 1e-3 */
    float opacity;      /* 2.5e-2 (5e-2 in later reference versions) */
    float sh_dc;        /* 2.5e-3 */
    float sh_rest;      /* sh_dc / 20 */
} splat_adam_rates;

/* First and second moments of a scene's parameters (zero at the start). */
typedef struct splat_adam {
    splat_grads m, v;   /* the same layout as the gradients */
    uint64_t step;      /* steps taken */
} splat_adam;

/* Acquires zeroed moments for a scene of `count` Gaussians with
 * `sh_coeffs` coefficients.  On error nothing stays acquired. */
kiln_status splat_adam_init(kiln_device *dev, size_t count, uint32_t sh_coeffs, splat_adam *adam);

/* Releases the moments.  Safe on a zeroed struct. */
void splat_adam_free(kiln_device *dev, splat_adam *adam);

/* One step: updates the scene's parameters in place from `grads`
 * (step + 1 for the bias corrections).  fp16 SH storage is refused
 * (KILN_E_INVAL): training keeps fp32 parameters.  Enqueues only. */
kiln_status splat_adam_step(kiln_device *dev, splat_scene_dev *scene, const splat_grads *grads,
                            const splat_adam_rates *rates, splat_adam *adam);

#endif
