/* JPEG decoding through TurboJPEG (see jpeg_io.h).
 *
 * TurboJPEG decodes from memory.  The file is read in two steps: first a
 * prefix that normally holds every marker up to the first scan, from which
 * the header is parsed and the pixel limit checked; only then the rest of
 * the file, the pixel buffer and the decode.  A header that does not fit
 * in the prefix (large EXIF or ICC segments) is parsed again from the
 * whole file.  TurboJPEG reports a header cut short by the end of its
 * buffer as a failure (libjpeg warns, then finds no image), so a prefix
 * never yields a header made of invented bytes. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "host_alloc.h"
#include "file_open.h"
#include "exif_orient.h"
#include "jpeg_io.h"
#include "status.h"

/* Bytes read before the header is first parsed. */
#define JPEG_HEAD_BYTES ((size_t)64 * 1024)
/* Decode flags: the accurate integer IDCT (libjpeg's default, and PIL's);
 * stop at the first warning, since libjpeg only warns about data cut short
 * or corrupt and would fill the rest of the image with guesses; at most
 * 500 scans in a progressive file, so a hostile file cannot take hours.
 * Fancy upsampling stays on (TJFLAG_FASTUPSAMPLE not set), as in PIL. */
#define JPEG_DECODE_FLAGS (TJFLAG_ACCURATEDCT | TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS)

/* Everything one decode holds; owned by jpeg_decode's frame. */
typedef struct jpeg_decoder {
    const char *path;
    FILE *fp;
    tjhandle tj;
    unsigned char *data;   /* the file's bytes read so far */
    size_t len;
    size_t cap;
    int at_eof;            /* data holds the whole file */
    int orientation;       /* EXIF orientation, 1 (as stored) to 8 */
} jpeg_decoder;

/* Reads on until d->data holds at least `want` bytes or the whole file
 * (want SIZE_MAX: the whole file), growing the buffer by doubling.
 * KILN_E_IO on a read error, KILN_E_HOSTMEM when the buffer cannot grow,
 * KILN_E_LIMIT for a file larger than TurboJPEG can take. */
static kiln_status decoder_read(jpeg_decoder *d, size_t want)
{
    while (!d->at_eof && d->len < want) {
        size_t n, room;

        if (d->len == d->cap) {
            size_t grown = d->cap ? d->cap * 2 : JPEG_HEAD_BYTES;
            unsigned char *bigger;

            if (grown < d->cap || grown > (size_t)ULONG_MAX)
                return kiln_fail(KILN_E_LIMIT, "%s: file too large for the JPEG decoder",
                                 d->path);
            bigger = kiln_realloc(d->data, grown);
            if (!bigger)
                return kiln_fail(KILN_E_HOSTMEM, "%s: out of memory for %zu bytes of "
                                 "JPEG data", d->path, grown);
            d->data = bigger;
            d->cap = grown;
        }
        room = d->cap - d->len;
        n = fread(d->data + d->len, 1, room, d->fp);
        d->len += n;
        if (n < room) {
            if (ferror(d->fp))
                return kiln_fail(KILN_E_IO, "%s: read error: %s", d->path,
                                 strerror(errno ? errno : EIO));
            d->at_eof = 1;
        }
    }
    return KILN_OK;
}

/* Whether the last TurboJPEG call failed: it returned -1, or it returned
 * 0 but libjpeg warned (premature end of data, corrupt entropy data: the
 * pixels after that point would be guesses). */
static int tj_failed(tjhandle tj, int rc)
{
    return rc != 0 || tjGetErrorCode(tj) == TJERR_WARNING;
}

/* Turns a TurboJPEG failure into KILN_E_FORMAT with its message. */
static kiln_status decoder_failure(const jpeg_decoder *d)
{
    return kiln_fail(KILN_E_FORMAT, "%s: truncated or corrupt JPEG data: %s", d->path,
                     tjGetErrorStr2(d->tj));
}

/* Parses the header from the bytes read so far, reading the whole file
 * when they are not enough, and fills *shape (pixels NULL) with the
 * decoded layout after checking it: not a JPEG, CMYK, damaged header
 * (KILN_E_FORMAT); width*height above max_pixels, or a byte size that does
 * not fit in size_t (KILN_E_LIMIT). */
static kiln_status decoder_header(jpeg_decoder *d, uint64_t max_pixels, host_image *shape)
{
    int width = 0, height = 0, subsamp = -1, colorspace = -1;
    size_t needed = 0;

    memset(shape, 0, sizeof(*shape));
    if (d->len == 0)
        return kiln_fail(KILN_E_FORMAT, "%s: empty file, not a JPEG", d->path);
    if (d->data[0] != 0xff || (d->len > 1 && d->data[1] != 0xd8))
        return kiln_fail(KILN_E_FORMAT, "%s: not a JPEG file", d->path);
    while (tj_failed(d->tj, tjDecompressHeader3(d->tj, d->data, (unsigned long)d->len,
                                                &width, &height, &subsamp, &colorspace))) {
        kiln_status st;

        if (d->at_eof)
            return decoder_failure(d);
        st = decoder_read(d, SIZE_MAX);
        if (st != KILN_OK)
            return st;
    }
    d->orientation = exif_orientation(d->data, d->len, &needed);
    if (needed) {
        kiln_status st = decoder_read(d, needed);
        if (st != KILN_OK)
            return st;
        d->orientation = exif_orientation(d->data, d->len, &needed);
    }
    if (colorspace == TJCS_CMYK || colorspace == TJCS_YCCK)
        return kiln_fail(KILN_E_FORMAT, "%s: CMYK JPEG is not supported: convert it to RGB "
                         "first", d->path);
    if ((uint64_t)width * (uint64_t)height > max_pixels)
        return kiln_fail(KILN_E_LIMIT, "%s: image is %lux%lu = %llu pixels, more than "
                         "the limit of %llu (max_pixels)", d->path,
                         (unsigned long)width, (unsigned long)height,
                         (unsigned long long)((uint64_t)width * (uint64_t)height),
                         (unsigned long long)max_pixels);
    if (exif_orientation_swaps(d->orientation)) {
        int side = width;
        width = height;
        height = side;
    }
    shape->width = (uint32_t)width;
    shape->height = (uint32_t)height;
    shape->channels = colorspace == TJCS_GRAY ? 1 : 3;
    shape->bit_depth = 8;
    if (host_image_bytes(shape) == 0) {
        memset(shape, 0, sizeof(*shape));
        return kiln_fail(KILN_E_LIMIT, "%s: %dx%d JPEG is too large for this machine",
                         d->path, width, height);
    }
    return KILN_OK;
}

/* Decodes `path` into *out (header_only: the shape without pixels, from as
 * few bytes as the header needs).  The order is fixed: prefix, header and
 * pixel limit, rest of the file, pixel allocation, decode.  *out is zeroed
 * on every error.  With `given` not NULL, that open stream is read instead
 * of opening `path` (then only a name for messages) and left open. */
static kiln_status jpeg_decode(const char *path, FILE *given, uint64_t max_pixels,
                               int header_only, host_image *out)
{
    jpeg_decoder d;
    host_image img;
    kiln_status st;

    if (!out)
        return kiln_fail(KILN_E_INVAL, "jpeg_read: NULL output image");
    memset(out, 0, sizeof(*out));
    if (!path)
        return kiln_fail(KILN_E_INVAL, "jpeg_read: NULL path");
    if (max_pixels == 0)
        max_pixels = IMAGE_DEFAULT_MAX_PIXELS;
    memset(&d, 0, sizeof(d));
    d.path = path;
    if (given) {
        d.fp = given;
    } else {
        st = file_open_regular(path, &d.fp);
        if (st != KILN_OK)
            return st;
    }
    d.tj = tjInitDecompress();
    if (!d.tj) {
        st = kiln_fail(KILN_E_HOSTMEM, "%s: cannot create a TurboJPEG decompressor: %s",
                       path, tjGetErrorStr2(NULL));
        goto out_close_file;
    }
    st = decoder_read(&d, JPEG_HEAD_BYTES);
    if (st != KILN_OK)
        goto out_destroy_decoder;
    st = decoder_header(&d, max_pixels, &img);
    if (st != KILN_OK)
        goto out_destroy_decoder;
    if (header_only) {
        *out = img;
        goto out_destroy_decoder;
    }
    st = decoder_read(&d, SIZE_MAX);
    if (st != KILN_OK)
        goto out_destroy_decoder;
    if (exif_orientation_swaps(d.orientation)) {   /* decode as stored, then turn */
        uint32_t side = img.width;
        img.width = img.height;
        img.height = side;
    }
    st = host_image_alloc(&img, img.width, img.height, img.channels, img.bit_depth);
    if (st != KILN_OK) {
        kiln_fail_context(st, "%s", path);
        goto out_destroy_decoder;
    }
    if (tj_failed(d.tj, tjDecompress2(d.tj, d.data, (unsigned long)d.len, img.pixels,
                                      (int)img.width, 0, (int)img.height,
                                      img.channels == 1 ? TJPF_GRAY : TJPF_RGB,
                                      JPEG_DECODE_FLAGS))) {
        st = decoder_failure(&d);
        goto out_free_pixels;
    }
    st = exif_orient_apply(&img, d.orientation);
    if (st != KILN_OK) {
        kiln_fail_context(st, "%s", path);
        goto out_free_pixels;
    }
    *out = img;                    /* ownership of the pixels moves to *out */
    img.pixels = NULL;

out_free_pixels:
    host_image_free(&img);
out_destroy_decoder:
    kiln_free(d.data);
    tjDestroy(d.tj);
out_close_file:
    if (!given)
        fclose(d.fp);
    return st;
}

/* Reads a whole JPEG; see jpeg_io.h. */
kiln_status jpeg_read_file(const char *path, uint64_t max_pixels, host_image *img)
{
    return jpeg_decode(path, NULL, max_pixels, 0, img);
}

/* Reads only the header of a JPEG; see jpeg_io.h. */
kiln_status jpeg_read_info(const char *path, uint64_t max_pixels, host_image *info)
{
    return jpeg_decode(path, NULL, max_pixels, 1, info);
}

/* Reads a whole JPEG from an open stream; see jpeg_io.h. */
kiln_status jpeg_read_stream(FILE *fp, const char *name, uint64_t max_pixels, host_image *img)
{
    if (!fp)
        return kiln_fail(KILN_E_INVAL, "jpeg_read: NULL stream");
    return jpeg_decode(name, fp, max_pixels, 0, img);
}
