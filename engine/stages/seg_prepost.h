/* rembg's pre- and post-processing of segmentation networks, on the device
 * (kernels in cl/seg_prepost.cl), reproducing on 8-bit values what rembg
 * computes with PIL, numpy and OpenCV:
 *
 *   normalize (rembg/sessions/base.py):
 *     im = img.convert("RGB").resize((S, S), Image.LANCZOS)
 *     im = np.array(im) / max(np.max(im), 1e-6)
 *     x[c] = (im[..., c] - mean[c]) / std[c]         -> 1x3xSxS float32
 *   predict (rembg/sessions/u2net.py and the others of model_registry.h):
 *     pred = out[0][:, 0]; pred = (pred - min) / (max - min)
 *     mask = Image.fromarray((pred * 255).astype(uint8)).resize(size, LANCZOS)
 *   post_process (rembg/bg.py, option post_process_mask):
 *     mask = morphologyEx(mask, MORPH_OPEN, ellipse 3x3)
 *     mask = GaussianBlur(mask, (5, 5), sigmaX=2, sigmaY=2)  (reflect-101)
 *     mask = np.where(mask < 127, 0, 255)
 *
 * The Lanczos resizes are PIL's 8-bit fixed-point resampler (coefficients
 * computed on the host in double exactly as Pillow's precompute_coeffs
 * and normalize_coeffs_8bpc do), so 8-bit results are bit-exact.  The
 * float normalisation of seg_preprocess is computed in float32 with
 * correctly rounded operations while numpy computes it in double (with
 * the exact decimal mean/std) and rounds once: the two agree within a
 * couple of ulp.
 *
 * Both functions enqueue their work and return without waiting; the
 * caller waits (device_finish) before reading results.  The resize weight
 * tables are written with blocking writes, which wait for work already
 * on the (in-order) queue.  Every temporary pool buffer is released
 * before returning, on every path. */
#ifndef KILN_SEG_PREPOST_H
#define KILN_SEG_PREPOST_H

#include <stdint.h>

#include "dev_image.h"
#include "model_registry.h"
#include "nn_ops.h"

/* Computes the network input of `spec` from `rgb`, a 3-channel planar
 * float image with values in [0,1] (k / 255 for 8-bit input, as
 * dev_image_upload makes them; other values are rounded to the nearest
 * k / 255, saturated): Lanczos resize to input_size x input_size (PIL on
 * uint8), division by the largest sample of the resized image (over all
 * channels; a device reduction; an all-black image divides by 1e-6 and
 * stays 0), then (x - mean[c]) / std[c], written planar 1x3xSxS as float
 * at dst (element offset dst.offset in dst.mem, which must hold 3*S*S
 * floats from there).  Returns KILN_E_INVAL for bad arguments, or the
 * pool / OpenCL error. */
kiln_status seg_preprocess(kiln_device *dev, const dev_image *rgb, const model_spec *spec,
                           nn_place dst);

/* Turns a network prediction into a mask of out_w x out_h: channel 0 of
 * the prediction (the first pred_w * pred_h floats at pred, row-major),
 * min-max normalised (a device reduction; NaN samples are ignored by the
 * min/max and give 0), quantised as (pred * 255).astype(uint8)
 * (truncation), resized with PIL's 8-bit Lanczos to out_w x out_h, then,
 * when post_process_mask is nonzero, rembg's post_process (opening by
 * the 3x3 cross, 5x5 Gaussian of sigma 2 with OpenCV's bit-exact 8-bit
 * arithmetic, threshold at 127).
 *
 * When max == min (a constant prediction) rembg divides 0 by 0 and casts
 * NaN to uint8, which numpy leaves undefined; here the quantised
 * prediction is then all zeros (an empty mask).
 *
 * *mask becomes a new 1-channel image (tag "segment.mask") holding k/255
 * (0 or 1 after post-processing).  On error *mask is empty. */
kiln_status seg_postprocess(kiln_device *dev, nn_place pred, uint32_t pred_w,
                            uint32_t pred_h, uint32_t out_w, uint32_t out_h,
                            int post_process_mask, dev_image *mask);

/* The 5 taps of OpenCV's 8-bit GaussianBlur kernel for (5, 5), sigma 2, in
 * 8-bit fixed point (sum 256), as getGaussianKernelBitExact and
 * getGaussianKernelFixedPoint_ED compute them: {39, 57, 64, 57, 39}. */
void seg_gaussian_taps(int taps[5]);

#endif
