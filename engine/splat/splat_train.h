/* Training a splat scene on one device: the reference trainer's loop
 * (graphdeco-inria gaussian-splatting, train.py) one iteration at a time:
 *
 *   learning rates of the iteration (the means' decays exponentially from
 *   1.6e-4 to 1.6e-6 times the scene extent over position_lr_max_steps);
 *   the active SH degree raised every sh_interval iterations;
 *   render the view (keeping the state the backward replays);
 *   loss (1 - lambda) L1 + lambda (1 - SSIM) against the target, its
 *   gradient, the backward to the raw parameters;
 *   densification statistics, and every densify_interval iterations in
 *   (densify_from, densify_until) clone / split / prune under the
 *   max_gaussians cap (splat_densify.h); opacity reset every
 *   opacity_reset_interval;
 *   Adam (skipped on a densification iteration, as the reference's
 *   optimizer finds the new parameters without gradients).
 *
 * Device memory is set by the Gaussian count: parameters, Adam moments,
 * gradients, densification statistics and one frame's state; the targets
 * are the caller's (one or two images on the device at a time). */
#ifndef KILN_SPLAT_TRAIN_H
#define KILN_SPLAT_TRAIN_H

#include "dev_image.h"
#include "splat_adam.h"
#include "splat_backward.h"
#include "splat_densify.h"
#include "splat_render.h"

/* Training settings (the reference trainer's defaults in
 * splat_train_options_default). */
typedef struct splat_train_options {
    uint64_t iterations;                /* 30000 */
    splat_mode mode;                    /* inria */
    float background[3];                /* black */
    float lambda_dssim;                 /* 0.2 */
    float position_lr_init;             /* 1.6e-4 (times the extent) */
    float position_lr_final;            /* 1.6e-6 (times the extent) */
    uint64_t position_lr_max_steps;     /* 30000 */
    float scaling_lr;                   /* 5e-3 */
    float rotation_lr;                  /* 1e-3 */
    float opacity_lr;                   /* 2.5e-2 */
    float feature_lr;                   /* 2.5e-3 (SH rest: / 20) */
    int densify;                        /* 1 */
    uint64_t densify_from;              /* 500 */
    uint64_t densify_until;             /* 15000 */
    uint64_t densify_interval;          /* 100 */
    uint64_t opacity_reset_interval;    /* 3000 */
    float densify_grad_threshold;       /* 2e-4 */
    float percent_dense;                /* 0.01 */
    float min_opacity;                  /* 0.005 */
    uint64_t sh_interval;               /* 1000 */
    uint32_t sh_degree;                 /* 3 */
    uint64_t max_gaussians;             /* 16M */
    uint64_t max_instances;             /* 32M */
    uint64_t seed;                      /* 0 */
    int deterministic;                  /* 0; 1: bit-reproducible gradients */
    uint64_t psnr_every;                /* 1: the step's PSNR at iterations that are
                                           multiples of it, the first and the last
                                           (an extra reduction); 0: never */
} splat_train_options;

/* Fills *opt with the reference trainer's defaults. */
void splat_train_options_default(splat_train_options *opt);

/* The kernel families an iteration is timed in: the render's steps
 * (splat_step), then the loss, the backward, the optimizer (statistics
 * and Adam) and densification. */
#define SPLAT_TRAIN_SECTIONS (SPLAT_STEP_COUNT + 4)

/* Name of timing section i of a training iteration ("sort", "loss"...). */
const char *splat_train_section_name(int i);

/* What one iteration did. */
typedef struct splat_step_result {
    double loss, l1, ssim;
    double psnr;                        /* of the training view's render, when
                                           psnr_every asks for it; else 0 */
    size_t count;                       /* Gaussians after the iteration */
    int densified;                      /* clone/split/prune ran */
    double ms[SPLAT_TRAIN_SECTIONS];    /* with splat_trainer_profile on: device
                                           milliseconds of each kernel family
                                           (splat_train_section_name), from
                                           profiling events; else 0 */
    splat_densify_result densify;       /* its figures when it ran */
} splat_step_result;

typedef struct splat_trainer splat_trainer;

/* Starts training `init` (its SH degree must be opt->sh_degree; the
 * active degree starts at 0) on `dev`, `extent` the scene's extent (the
 * reference: 1.1 x the largest distance of a camera centre from their
 * mean).  Uploads the scene and acquires gradients, moments and
 * statistics.  Errors leave nothing acquired. */
kiln_status splat_trainer_init(kiln_device *dev, const splat_scene *init, double extent,
                               const splat_train_options *opt, splat_trainer **out);

/* One iteration on view `cam` with `target` (3 x H x W, the camera's
 * size, values 0..1) and `mask` (NULL or 1 x H x W weights).  Waits for
 * the device.  On error the parameters may have been partly updated by
 * this iteration; the trainer stays usable and releasable. */
kiln_status splat_trainer_step(splat_trainer *t, const splat_camera *cam, const dev_image *target,
                               const dev_image *mask, splat_step_result *res);

/* Turns per-kernel-family timing on (profiling events in the device
 * timer's sections; for benchmarks) or off. */
void splat_trainer_profile(splat_trainer *t, int on);

/* Renders the current scene (all active SH) into *out (rgb over the
 * training background, acquired here). */
kiln_status splat_trainer_render(splat_trainer *t, const splat_camera *cam, dev_image *out);

/* Iterations done so far. */
uint64_t splat_trainer_iteration(const splat_trainer *t);

/* The resident scene being trained (for figures and saving). */
const splat_scene_dev *splat_trainer_scene(const splat_trainer *t);

/* Copies the current parameters into a host scene (allocated here). */
kiln_status splat_trainer_download(splat_trainer *t, splat_scene *out);

/* Device bytes a Gaussian costs while training (parameters, Adam
 * moments, gradients, densification statistics, frame state), with the
 * parts in *parts (may be NULL): [0] parameters, [1] moments, [2]
 * gradients, [3] statistics, [4] frame state. */
size_t splat_train_bytes_per_gaussian(uint32_t sh_degree, size_t parts[5]);

/* A trainer's state as a checkpoint holds it (models/splat_checkpoint.h):
 * parameters, Adam moments and step, densification statistics, iteration
 * and active SH degree. */
typedef struct splat_checkpoint splat_checkpoint;

/* Copies the trainer's state into *c (allocated here with
 * splat_checkpoint_alloc; the caller sets c->rng and frees it). */
kiln_status splat_trainer_save(splat_trainer *t, splat_checkpoint *c);

/* Starts training from a checkpoint instead of an initial scene: the
 * parameters, moments, statistics, iteration and active degree as saved
 * (gradients fresh).  Same contract as splat_trainer_init. */
kiln_status splat_trainer_init_checkpoint(kiln_device *dev, const splat_checkpoint *c,
                                          double extent, const splat_train_options *opt,
                                          splat_trainer **out);

/* Releases everything.  NULL is a no-op. */
void splat_trainer_free(splat_trainer *t);

#endif
