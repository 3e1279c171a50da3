/* Device images: planar float32 tensors (channels x height x width) held
 * in a pool buffer. */
#ifndef KILN_DEV_IMAGE_H
#define KILN_DEV_IMAGE_H

#include <stdint.h>

#include "device.h"
#include "launch.h"
#include "image.h"

typedef struct dev_image {
    pool_buffer *buf;     /* channels*height*width floats */
    uint32_t width;
    uint32_t height;
    uint32_t channels;
} dev_image;

/* Acquires a zero-initialised-size (contents undefined) planar image from
 * the device pool under `tag`.  On error *img stays empty. */
kiln_status dev_image_acquire(kiln_device *dev, uint32_t width, uint32_t height,
                              uint32_t channels, const char *tag, dev_image *img);

/* Gives the image's buffer back to the pool and empties *img.  Safe on an
 * empty image. */
void dev_image_release(kiln_device *dev, dev_image *img);

/* Uploads a host image and converts it to planar float on the device:
 * out = (sample / max_value - mean[c]) / std[c], with max_value 255 or
 * 65535.  mean/std may be NULL (0 and 1).  The raw upload buffer is
 * released before returning. */
kiln_status dev_image_upload(kiln_device *dev, const host_image *host,
                             const float *mean, const float *std, dev_image *out);

/* dev_image_upload without waiting for the write: host->pixels must stay
 * valid and unchanged until the queue has run it (the completion of any
 * later command's event, or a later blocking call, proves it). */
kiln_status dev_image_upload_async(kiln_device *dev, const host_image *host,
                                   const float *mean, const float *std, dev_image *out);

/* Converts planar float [0,1] to interleaved samples at bit_depth (8 or
 * 16), rounding and clamping, and downloads into *host (allocated here). */
kiln_status dev_image_download(kiln_device *dev, const dev_image *img,
                               uint32_t bit_depth, host_image *host);

/* Starts dev_image_download without waiting: enqueues the conversion into
 * a staging buffer acquired from the pool (*staging, tag "image.staging")
 * and its read into host->pixels, which the caller allocated for img's
 * width x height x channels at bit_depth (KILN_E_INVAL otherwise).  *done
 * completes when host holds the samples.  The caller owns both: it waits
 * for *done, then clReleaseEvent(*done) and pool_release(staging) (any
 * thread: the pool takes its lock).  `img` may be released
 * at once (the queue is in order).  On error *staging and *done are NULL. */
kiln_status dev_image_download_start(kiln_device *dev, const dev_image *img,
                                     uint32_t bit_depth, host_image *host,
                                     pool_buffer **staging, cl_event *done);

/* Largest width or height of a device image (window arithmetic in the
 * kernels uses int and float coordinates). */
#define DEV_IMAGE_MAX_SIDE (1u << 24)

/* Largest width * height * channels of a device image (kernels index with
 * 32-bit unsigned integers). */
#define DEV_IMAGE_MAX_ELEMENTS 0xFFFFFFFFull

/* Floats held by an image: width * height * channels. */
size_t dev_image_elements(const dev_image *img);

/* Checks that `img` holds a buffer of a valid shape (dimensions nonzero and
 * within DEV_IMAGE_MAX_SIDE / DEV_IMAGE_MAX_ELEMENTS, buffer large enough).
 * Returns KILN_OK, or KILN_E_INVAL with a message starting with `what`. */
kiln_status dev_image_check(const dev_image *img, const char *what);

/* Packs per-channel mean and std (arrays of `channels` floats, 1 to 4; NULL
 * means 0 and 1) into vectors for a kernel; unused lanes get 0 and 1.
 * Returns KILN_E_INVAL, the message starting with `what`, when a value is
 * not finite or a std is 0. */
kiln_status dev_image_norm_vectors(const float *mean, const float *std,
                                   uint32_t channels, const char *what,
                                   cl_float4 *mean_out, cl_float4 *std_out);

/* Copies channel `channel` of `in` into a new 1-channel image (tag
 * "image.channel"). */
kiln_status dev_image_extract_channel(kiln_device *dev, const dev_image *in,
                                      uint32_t channel, dev_image *out);

#endif
