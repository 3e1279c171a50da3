/* Device images: planar float tensors in pool buffers, their upload from
 * and download to interleaved host images (kernels in cl/image_convert.cl),
 * and the launch helper the image ops share. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cl_status.h"
#include "dev_image.h"
#include "status.h"

#define CONVERT_SOURCE "image_convert.cl"
#define STAGING_TAG "image.staging"

/* Checks a width x height x channels shape: every dimension nonzero, each
 * side at most DEV_IMAGE_MAX_SIDE, the element count at most
 * DEV_IMAGE_MAX_ELEMENTS.  Returns KILN_E_INVAL naming `what` otherwise. */
static kiln_status shape_check(uint32_t width, uint32_t height, uint32_t channels,
                               const char *what)
{
    if (width == 0 || height == 0 || channels == 0)
        return kiln_fail(KILN_E_INVAL, "%s: image %ux%u with %u channels: "
                         "width, height and channels must be nonzero", what,
                         (unsigned)width, (unsigned)height, (unsigned)channels);
    if (width > DEV_IMAGE_MAX_SIDE || height > DEV_IMAGE_MAX_SIDE)
        return kiln_fail(KILN_E_INVAL, "%s: image %ux%u exceeds the largest side %u",
                         what, (unsigned)width, (unsigned)height,
                         (unsigned)DEV_IMAGE_MAX_SIDE);
    if ((unsigned long long)width * height * channels > DEV_IMAGE_MAX_ELEMENTS)
        return kiln_fail(KILN_E_INVAL, "%s: image %ux%u with %u channels exceeds "
                         "%llu elements", what, (unsigned)width, (unsigned)height,
                         (unsigned)channels, (unsigned long long)DEV_IMAGE_MAX_ELEMENTS);
    return KILN_OK;
}

/* Returns width * height * channels (0 for NULL). */
size_t dev_image_elements(const dev_image *img)
{
    if (!img)
        return 0;
    return (size_t)img->width * img->height * img->channels;
}

/* Validates an image's buffer and shape (see dev_image.h). */
kiln_status dev_image_check(const dev_image *img, const char *what)
{
    kiln_status st;

    if (!img)
        return kiln_fail(KILN_E_INVAL, "%s: NULL image", what);
    if (!img->buf)
        return kiln_fail(KILN_E_INVAL, "%s: empty image (no device buffer)", what);
    st = shape_check(img->width, img->height, img->channels, what);
    if (st != KILN_OK)
        return st;
    if (img->buf->bytes < dev_image_elements(img) * sizeof(float))
        return kiln_fail(KILN_E_INVAL, "%s: buffer of %zu bytes is too small for a "
                         "%ux%u image with %u channels", what, img->buf->bytes,
                         (unsigned)img->width, (unsigned)img->height,
                         (unsigned)img->channels);
    return KILN_OK;
}

/* Packs mean/std into kernel vectors after checking them (see
 * dev_image.h). */
kiln_status dev_image_norm_vectors(const float *mean, const float *std,
                                   uint32_t channels, const char *what,
                                   cl_float4 *mean_out, cl_float4 *std_out)
{
    if (channels < 1 || channels > 4)
        return kiln_fail(KILN_E_INVAL, "%s: %u channels, mean/std need 1 to 4",
                         what, (unsigned)channels);
    for (uint32_t c = 0; c < 4; c++) {
        float m = (mean && c < channels) ? mean[c] : 0.0f;
        float s = (std && c < channels) ? std[c] : 1.0f;
        if (!isfinite(m))
            return kiln_fail(KILN_E_INVAL, "%s: mean[%u] is not finite", what, (unsigned)c);
        if (!isfinite(s) || s == 0.0f)
            return kiln_fail(KILN_E_INVAL, "%s: std[%u] = %g must be finite and nonzero",
                             what, (unsigned)c, (double)s);
        mean_out->s[c] = m;
        std_out->s[c] = s;
    }
    return KILN_OK;
}

/* Acquires an image buffer of width*height*channels floats (see
 * dev_image.h). */
kiln_status dev_image_acquire(kiln_device *dev, uint32_t width, uint32_t height,
                              uint32_t channels, const char *tag, dev_image *img)
{
    const char *what = tag ? tag : "dev_image_acquire";
    kiln_status st;

    if (!img)
        return kiln_fail(KILN_E_INVAL, "%s: NULL output image", what);
    memset(img, 0, sizeof(*img));
    if (!dev)
        return kiln_fail(KILN_E_INVAL, "%s: NULL device", what);
    st = shape_check(width, height, channels, what);
    if (st != KILN_OK)
        return st;
    st = pool_acquire(dev->pool, (size_t)width * height * channels * sizeof(float),
                      tag, &img->buf);
    if (st != KILN_OK) {
        img->buf = NULL;
        return kiln_fail_context(st, "%s: %ux%u image with %u channels", what,
                                 (unsigned)width, (unsigned)height, (unsigned)channels);
    }
    img->width = width;
    img->height = height;
    img->channels = channels;
    return KILN_OK;
}

/* Gives the buffer back to the pool and empties the image. */
void dev_image_release(kiln_device *dev, dev_image *img)
{
    if (!img)
        return;
    if (img->buf && dev)
        pool_release(dev->pool, img->buf);
    memset(img, 0, sizeof(*img));
}

/* Uploads an interleaved host image and converts it to planar float;
 * `wait`: the write returns once the host pixels may be reused, else it
 * only enqueues (dev_image_upload, dev_image_upload_async). */
static kiln_status upload(kiln_device *dev, const host_image *host, const float *mean,
                          const float *std, dev_image *out, int wait)
{
    pool_buffer *raw = NULL;
    cl_float4 mean_v, std_v;
    cl_uint npix, channels;
    size_t bytes, global;
    kiln_status st;

    if (!out)
        return kiln_fail(KILN_E_INVAL, "upload: NULL output image");
    memset(out, 0, sizeof(*out));
    if (!dev || !host || !host->pixels)
        return kiln_fail(KILN_E_INVAL, "upload: NULL device, host image or pixels");
    if (host->channels < 1 || host->channels > 4)
        return kiln_fail(KILN_E_INVAL, "upload: %u channels, need 1 to 4",
                         (unsigned)host->channels);
    if (host->bit_depth != 8 && host->bit_depth != 16)
        return kiln_fail(KILN_E_INVAL, "upload: bit depth %u, need 8 or 16",
                         (unsigned)host->bit_depth);
    st = shape_check(host->width, host->height, host->channels, "upload");
    if (st != KILN_OK)
        return st;
    st = dev_image_norm_vectors(mean, std, host->channels, "upload", &mean_v, &std_v);
    if (st != KILN_OK)
        return st;
    bytes = host_image_bytes(host);
    npix = host->width * host->height;
    channels = host->channels;

    st = dev_image_acquire(dev, host->width, host->height, host->channels,
                           "image.upload", out);
    if (st != KILN_OK)
        return st;
    st = pool_acquire(dev->pool, bytes, STAGING_TAG, &raw);
    if (st != KILN_OK) {
        kiln_fail_context(st, "upload: staging %zu bytes", bytes);
        goto out_release_image;
    }
    st = wait ? dev_buffer_write(dev, raw->mem, 0, bytes, host->pixels,
                                 "upload: writing the host image to the device")
              : dev_buffer_write_async(dev, raw->mem, 0, bytes, host->pixels,
                                       "upload: writing the host image to the device");
    if (st != KILN_OK)
        goto out_release_raw;
    {
        const dev_kernel_arg args[] = {
            DEV_ARG(raw->mem), DEV_ARG(out->buf->mem), DEV_ARG(npix),
            DEV_ARG(channels), DEV_ARG(mean_v), DEV_ARG(std_v)
        };
        global = npix;
        st = dev_kernel_launch_default(dev, CONVERT_SOURCE,
                              host->bit_depth == 8 ? "upload_u8" : "upload_u16",
                              args, sizeof(args) / sizeof(args[0]), 1, &global);
    }

out_release_raw:
    /* The queue is in order: a later user of this buffer runs after the
     * conversion kernel. */
    pool_release(dev->pool, raw);
    if (st == KILN_OK)
        return KILN_OK;
out_release_image:
    dev_image_release(dev, out);
    return st;
}

/* Uploads, waiting until the host pixels may be reused. */
kiln_status dev_image_upload(kiln_device *dev, const host_image *host,
                             const float *mean, const float *std, dev_image *out)
{
    return upload(dev, host, mean, std, out, 1);
}

/* Uploads without waiting (see dev_image.h). */
kiln_status dev_image_upload_async(kiln_device *dev, const host_image *host,
                                   const float *mean, const float *std, dev_image *out)
{
    return upload(dev, host, mean, std, out, 0);
}

/* Enqueues the conversion of `img` into a staging buffer acquired here
 * (*raw) at bit_depth; *host_bytes is the size of the samples. */
static kiln_status download_convert(kiln_device *dev, const dev_image *img, uint32_t bit_depth,
                                    pool_buffer **raw, size_t *host_bytes)
{
    cl_uint npix = img->width * img->height, channels = img->channels;
    size_t bytes = (size_t)npix * channels * (bit_depth / 8), global = npix;
    kiln_status st;

    *raw = NULL;
    *host_bytes = bytes;
    st = pool_acquire(dev->pool, bytes, STAGING_TAG, raw);
    if (st != KILN_OK)
        return kiln_fail_context(st, "download: staging %zu bytes", bytes);
    {
        const dev_kernel_arg args[] = {
            DEV_ARG(img->buf->mem), DEV_ARG((*raw)->mem), DEV_ARG(npix), DEV_ARG(channels)
        };
        st = dev_kernel_launch_default(dev, CONVERT_SOURCE,
                                       bit_depth == 8 ? "download_u8" : "download_u16",
                                       args, sizeof(args) / sizeof(args[0]), 1, &global);
    }
    if (st != KILN_OK) {
        pool_release(dev->pool, *raw);
        *raw = NULL;
    }
    return st;
}

/* Checks a download's arguments (see dev_image_download). */
static kiln_status download_check(const kiln_device *dev, const dev_image *img, uint32_t bit_depth)
{
    kiln_status st;

    if (!dev)
        return kiln_fail(KILN_E_INVAL, "download: NULL device");
    st = dev_image_check(img, "download");
    if (st != KILN_OK)
        return st;
    if (img->channels > 4)
        return kiln_fail(KILN_E_INVAL, "download: %u channels, need 1 to 4",
                         (unsigned)img->channels);
    if (bit_depth != 8 && bit_depth != 16)
        return kiln_fail(KILN_E_INVAL, "download: bit depth %u, need 8 or 16",
                         (unsigned)bit_depth);
    return KILN_OK;
}

/* Starts a download into a caller's host image (see dev_image.h). */
kiln_status dev_image_download_start(kiln_device *dev, const dev_image *img,
                                     uint32_t bit_depth, host_image *host,
                                     pool_buffer **staging, cl_event *done)
{
    pool_buffer *raw = NULL;
    size_t bytes;
    kiln_status st;

    *staging = NULL;
    *done = NULL;
    st = download_check(dev, img, bit_depth);
    if (st != KILN_OK)
        return st;
    if (!host || !host->pixels || host->width != img->width || host->height != img->height ||
        host->channels != img->channels || host->bit_depth != bit_depth)
        return kiln_fail(KILN_E_INVAL, "download: the host image is not %ux%u, %u channels, "
                         "%u bits", (unsigned)img->width, (unsigned)img->height,
                         (unsigned)img->channels, (unsigned)bit_depth);
    st = download_convert(dev, img, bit_depth, &raw, &bytes);
    if (st != KILN_OK)
        return st;
    st = dev_buffer_read_async(dev, raw->mem, 0, bytes, host->pixels,
                               "download: reading the converted image from the device", done);
    if (st != KILN_OK) {
        /* nothing reads the buffer: the queue is in order and the read
           was not enqueued */
        pool_release(dev->pool, raw);
        return st;
    }
    *staging = raw;
    return KILN_OK;
}

/* Converts a planar float image to interleaved samples and reads them
 * into a newly allocated host image (see dev_image.h). */
kiln_status dev_image_download(kiln_device *dev, const dev_image *img,
                               uint32_t bit_depth, host_image *host)
{
    pool_buffer *raw = NULL;
    size_t bytes;
    kiln_status st;

    if (!host)
        return kiln_fail(KILN_E_INVAL, "download: NULL host image");
    memset(host, 0, sizeof(*host));
    st = download_check(dev, img, bit_depth);
    if (st != KILN_OK)
        return st;
    st = host_image_alloc(host, img->width, img->height, img->channels, bit_depth);
    if (st != KILN_OK)
        return kiln_fail_context(st, "download");
    st = download_convert(dev, img, bit_depth, &raw, &bytes);
    if (st != KILN_OK)
        goto out_free_host;
    st = dev_buffer_read(dev, raw->mem, 0, bytes, host->pixels,
                         "download: reading the converted image from the device");
    pool_release(dev->pool, raw);
    if (st == KILN_OK)
        return KILN_OK;
out_free_host:
    host_image_free(host);
    return st;
}

/* Copies one channel plane into a new 1-channel image. */
kiln_status dev_image_extract_channel(kiln_device *dev, const dev_image *in,
                                      uint32_t channel, dev_image *out)
{
    size_t plane;
    kiln_status st = dev_image_check(in, "extract channel: input");

    if (st != KILN_OK)
        return st;
    if (channel >= in->channels)
        return kiln_fail(KILN_E_INVAL, "extract channel: channel %u of a %u-channel image",
                         channel, in->channels);
    st = dev_image_acquire(dev, in->width, in->height, 1, "image.channel", out);
    if (st != KILN_OK)
        return st;
    plane = (size_t)in->width * in->height * sizeof(float);
    st = dev_buffer_copy(dev, in->buf->mem, plane * channel, out->buf->mem, 0, plane,
                         "extract channel: copying the plane");
    if (st != KILN_OK)
        dev_image_release(dev, out);
    return st;
}
