/* The photometric training loss of Gaussian splatting, on the device, with
 * its gradient (cl/splat_loss.cl); and PSNR.
 *
 * The definition is the reference trainer's (graphdeco-inria
 * gaussian-splatting, utils/loss_utils.py):
 *
 *   L    = (1 - lambda) * L1 + lambda * (1 - SSIM)
 *   L1   = mean over the 3 * H * W values of |render - target|
 *   SSIM = mean of the SSIM map, computed per channel with an 11 x 11
 *          Gaussian window (sigma 1.5, normalised to sum 1) applied with
 *          zero padding, every pixel kept (F.conv2d(img, window,
 *          padding=5, groups=3)); C1 = 0.01^2, C2 = 0.03^2.
 *
 * With a mask m (1 x H x W, values 0..1) each pixel's loss terms are
 * weighted by m, and the means divide by N = 3 * sum(m) instead of
 * 3 * H * W:  L1 = sum(m |d|) / N,  SSIM = sum(m S) / N.  Pixels of
 * weight 0 contribute nothing to the loss or its gradient (their
 * values still enter their neighbours' window means, as in an unmasked
 * SSIM).  Without a mask this is the plain mean.
 *
 * The arithmetic is float on the device; the sums are taken per
 * work-group in float and added on the host in double. */
#ifndef KILN_SPLAT_LOSS_H
#define KILN_SPLAT_LOSS_H

#include "dev_image.h"
#include "device.h"

/* The value of the loss and its two parts. */
typedef struct splat_loss_result {
    double loss;    /* (1 - lambda) * l1 + lambda * (1 - ssim) */
    double l1;      /* (weighted) mean absolute difference */
    double ssim;    /* (weighted) mean of the SSIM map */
} splat_loss_result;

/* The default weight of the SSIM part (the reference trainer's
 * lambda_dssim). */
#define SPLAT_LOSS_LAMBDA 0.2f

/* Computes the loss of `render` against `target` (both 3 x H x W, the
 * same size) with SSIM weight `lambda` (in [0, 1]), weighted by `mask`
 * (NULL, or 1 x H x W with values in 0..1 and a positive sum), into
 * *out.  When `grad` is not NULL, also acquires *grad (3 x H x W, tag
 * "splat.loss.grad", owned by the caller) holding dL/drender; grad must
 * not be an input.  Scratch buffers come from the pool and are released
 * before returning.  Waits for the result.  Returns KILN_OK;
 * KILN_E_INVAL naming the bad argument (shape, channels, lambda, a mask
 * summing to 0) with nothing acquired; KILN_E_NOMEM or KILN_E_CL with
 * *grad empty and nothing leaked. */
kiln_status splat_loss(kiln_device *dev, const dev_image *render, const dev_image *target,
                       const dev_image *mask, float lambda, splat_loss_result *out,
                       dev_image *grad);

/* Computes *psnr = 10 log10(1 / MSE), MSE the mean over every value of
 * (a - b)^2 (a and b of the same shape, any channel count), for images
 * in [0, 1]; +infinity when the images are equal.  Waits for the result.
 * Returns KILN_OK, KILN_E_INVAL for mismatched shapes, or KILN_E_NOMEM /
 * KILN_E_CL with nothing leaked. */
kiln_status splat_psnr(kiln_device *dev, const dev_image *a, const dev_image *b, double *psnr);

#endif
