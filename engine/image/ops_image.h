/* Image operations on the device, each an OpenCL kernel (cl/image_*.cl).
 * Every op allocates its output from the device pool and leaves its inputs
 * untouched; on error the output stays empty and nothing is leaked. */
#ifndef KILN_OPS_IMAGE_H
#define KILN_OPS_IMAGE_H

#include "dev_image.h"

typedef enum resize_filter {
    RESIZE_BILINEAR = 0,  /* half-pixel centres, no antialiasing */
    RESIZE_AREA,          /* box filter over the source footprint */
    RESIZE_LANCZOS3       /* Lanczos-3, kernel widened when downscaling */
} resize_filter;

/* Parses "bilinear", "area", "lanczos3"; returns -1 when unknown. */
int resize_filter_parse(const char *name);

/* Resizes every channel of `in` to width x height with `filter`.
 * Bilinear samples at half-pixel centres (as PIL/OpenCV INTER_LINEAR);
 * area and Lanczos-3 scale their support by the downscale factor so that
 * downscaling is antialiased (as PIL's resize; area is PIL's BOX filter,
 * nearest-like when upscaling).  Runs a horizontal then a vertical pass
 * through a temporary pool image; an axis whose size does not change is
 * skipped, and an unchanged size is a copy. */
kiln_status op_resize(kiln_device *dev, const dev_image *in, uint32_t width,
                      uint32_t height, resize_filter filter, dev_image *out);

/* out = (in - mean[c]) / std[c] per channel (normalisation for networks).
 * 1 to 4 channels; mean and std hold in->channels finite values, std
 * nonzero. */
kiln_status op_normalize(kiln_device *dev, const dev_image *in,
                         const float *mean, const float *std, dev_image *out);

/* Composites an RGBA image over a solid RGB colour (values in [0,1]).
 * premultiplied: whether in's colour is already multiplied by alpha.
 * Alpha is clamped to [0,1]; out = fg * a + bg * (1 - a) (straight) or
 * fg + bg * (1 - a) (premultiplied).  Output: 3 channels, straight colour. */
kiln_status op_composite_colour(kiln_device *dev, const dev_image *rgba,
                                const float colour[3], int premultiplied,
                                dev_image *out);

/* Composites an RGBA image over an RGB (or RGBA, alpha ignored) background
 * image of the same size.  Output: 3 channels. */
kiln_status op_composite_image(kiln_device *dev, const dev_image *rgba,
                               const dev_image *background, int premultiplied,
                               dev_image *out);

/* Multiplies colour by alpha (premultiply=1) or divides it back
 * (premultiply=0, where alpha > 0; colour 0 where alpha is 0).  `rgba` has
 * 4 channels, or 2 (gray + alpha); alpha is copied unchanged. */
kiln_status op_premultiply(kiln_device *dev, const dev_image *rgba,
                           int premultiply, dev_image *out);

/* Converts between channel layouts: 1 (gray), 2 (gray+alpha), 3 (RGB),
 * 4 (RGBA).  Gray from colour uses Rec. 601 luma (0.299, 0.587, 0.114);
 * an added alpha channel is 1; colour from gray replicates it. */
kiln_status op_convert_channels(kiln_device *dev, const dev_image *in,
                                uint32_t channels, dev_image *out);

/* Builds RGBA from a 3-channel colour image and a 1-channel alpha of the
 * same size (the cut-out of a mask). */
kiln_status op_attach_alpha(kiln_device *dev, const dev_image *rgb,
                            const dev_image *alpha, dev_image *out);

#endif
