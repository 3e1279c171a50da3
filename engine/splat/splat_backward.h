/* The splat rasterizer's backward pass (cl/splat_backward.cl): after
 * splat_render with keep_state, the gradient of a loss on the rendered
 * RGB with respect to the scene's raw parameters (means, log scales, raw
 * quaternions, opacity logits, SH coefficients), for training.
 *
 * Gradients across pixels are summed with a compare-and-swap float
 * addition (portable to every OpenCL 1.2 device), so their last bits
 * depend on the order the device runs pixels in. */
#ifndef KILN_SPLAT_BACKWARD_H
#define KILN_SPLAT_BACKWARD_H

#include "splat_render.h"

/* Gradients of a scene's raw parameters, laid out as the scene's arrays
 * (splat_scene.h); each a pool buffer owned by the holder. */
typedef struct splat_grads {
    pool_buffer *means, *scales, *rotations, *opacity, *sh;
    size_t count;
    uint32_t sh_coeffs;
} splat_grads;

/* Acquires gradient buffers for a scene of `count` Gaussians with
 * `sh_coeffs` coefficients (tags "splat.grad.*").  On error nothing stays
 * acquired. */
kiln_status splat_grads_acquire(kiln_device *dev, size_t count, uint32_t sh_coeffs,
                                splat_grads *grads);

/* Releases the buffers and zeroes *grads.  Safe on a zeroed struct. */
void splat_grads_release(kiln_device *dev, splat_grads *grads);

/* Writes into `grads` (acquired for scene's count and coefficients) the
 * gradient of a loss L with respect to the scene's raw parameters, given
 * dl_drgb = dL/d(rendered RGB) (a planar 3 x H x W image).  The renderer's
 * last frame must be this scene from this camera with these options,
 * rendered with keep_state and SPLAT_OUT_RGB.  KILN_E_INVAL when it was
 * not (or antialiased, or the shapes differ).  Enqueues only. */
kiln_status splat_render_backward(splat_renderer *r, const splat_scene_dev *scene,
                                  const splat_camera *cam, const splat_render_options *opt,
                                  const dev_image *dl_drgb, splat_grads *grads);

#endif
