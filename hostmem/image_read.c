/* Choosing the decoder of an input image by its signature (see
 * image_read.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "file_open.h"
#include "image_read.h"
#include "jpeg_io.h"
#include "png_io.h"
#include "status.h"

/* The formats image_read knows. */
typedef enum image_format {
    IMAGE_FORMAT_PNG,
    IMAGE_FORMAT_JPEG
} image_format;

/* Tells the format of an image from its first n bytes (head): a prefix
 * of a signature goes to that decoder, which reports the image as
 * truncated.  KILN_E_FORMAT naming `name` when n is 0 or the bytes are
 * of another kind. */
static kiln_status image_sniff_bytes(const char *name, const unsigned char *head, size_t n,
                                     image_format *format)
{
    static const unsigned char png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    static const unsigned char jpeg_soi[2] = { 0xff, 0xd8 };

    if (n == 0)
        return kiln_fail(KILN_E_FORMAT, "%s: empty file, not a PNG or JPEG file", name);
    if (memcmp(head, png_sig, n < sizeof(png_sig) ? n : sizeof(png_sig)) == 0) {
        *format = IMAGE_FORMAT_PNG;
        return KILN_OK;
    }
    if (memcmp(head, jpeg_soi, n < sizeof(jpeg_soi) ? n : sizeof(jpeg_soi)) == 0) {
        *format = IMAGE_FORMAT_JPEG;
        return KILN_OK;
    }
    return kiln_fail(KILN_E_FORMAT, "%s: not a PNG or JPEG file", name);
}

/* Reads the first bytes of `path` and tells its format.  KILN_E_IO when
 * it cannot be opened or read; else as image_sniff_bytes. */
static kiln_status image_sniff(const char *path, image_format *format)
{
    unsigned char head[8];
    size_t n;
    int read_errno = 0;
    FILE *fp;

    if (!path)
        return kiln_fail(KILN_E_INVAL, "image_read: NULL path");
    if (file_open_regular(path, &fp) != KILN_OK)
        return KILN_E_IO;
    n = fread(head, 1, sizeof(head), fp);
    if (n < sizeof(head) && ferror(fp))
        read_errno = errno ? errno : EIO;
    fclose(fp);
    if (read_errno)
        return kiln_fail(KILN_E_IO, "%s: read error: %s", path, strerror(read_errno));
    return image_sniff_bytes(path, head, n, format);
}

/* Sniffs, then decodes with the format's reader; see image_read.h. */
kiln_status image_read_file(const char *path, uint64_t max_pixels, host_image *img)
{
    image_format format;
    kiln_status st;

    if (!img)
        return kiln_fail(KILN_E_INVAL, "image_read: NULL output image");
    memset(img, 0, sizeof(*img));
    st = image_sniff(path, &format);
    if (st != KILN_OK)
        return st;
    if (format == IMAGE_FORMAT_JPEG)
        return jpeg_read_file(path, max_pixels, img);
    return png_read_file(path, max_pixels, img);
}

/* Sniffs, then reads the format's header; see image_read.h. */
kiln_status image_read_header(const char *path, uint64_t max_pixels, host_image *info)
{
    image_format format;
    kiln_status st;

    if (!info)
        return kiln_fail(KILN_E_INVAL, "image_read: NULL output image");
    memset(info, 0, sizeof(*info));
    st = image_sniff(path, &format);
    if (st != KILN_OK)
        return st;
    if (format == IMAGE_FORMAT_JPEG)
        return jpeg_read_info(path, max_pixels, info);
    return png_read_header(path, max_pixels, info);
}

/* Sniffs the bytes, then decodes them through a memory stream with the
 * format's reader; see image_read.h. */
kiln_status image_read_memory(const void *data, size_t len, const char *name,
                              uint64_t max_pixels, host_image *img)
{
    image_format format;
    kiln_status st;
    FILE *fp;

    if (!img)
        return kiln_fail(KILN_E_INVAL, "image_read: NULL output image");
    memset(img, 0, sizeof(*img));
    if (!data && len)
        return kiln_fail(KILN_E_INVAL, "image_read: NULL data");
    st = image_sniff_bytes(name, data, len < 8 ? len : 8, &format);
    if (st != KILN_OK)
        return st;
    fp = fmemopen((void *)(uintptr_t)data, len, "rb");
    if (!fp)
        return kiln_fail(KILN_E_HOSTMEM, "%s: cannot open a memory stream: %s", name,
                         strerror(errno));
    if (format == IMAGE_FORMAT_JPEG)
        st = jpeg_read_stream(fp, name, max_pixels, img);
    else
        st = png_read_stream(fp, name, max_pixels, img);
    fclose(fp);
    return st;
}
