/* PNG decoding through libpng.
 *
 * libpng reports errors by longjmp.  Every call that may longjmp runs in a
 * small "protected" function whose only state lives in a png_decoder owned
 * by the caller (reached through an unmodified pointer parameter), so no
 * automatic variable is modified between setjmp and longjmp and nothing is
 * clobbered.  Pixel memory is allocated outside those functions, after the
 * header was checked against the pixel limit. */
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file_open.h"
#include "host_alloc.h"
#include "png_failure.h"
#include "png_io.h"
#include "status.h"

/* Signature (8) + IHDR length (4), type (4), data (13) and CRC (4). */
#define PNG_HEAD_BYTES 33
/* PNG's own limit on width and height (2^31 - 1). */
#define PNG_DIM_MAX 0x7fffffffu
/* Largest ancillary chunk libpng may buffer (ICC profiles, text). */
#define PNG_CHUNK_MALLOC_MAX (8u * 1024u * 1024u)
/* Most ancillary chunks (text, sPLT, unknown) kept from one file. */
#define PNG_CHUNK_CACHE_MAX 256u

/* Everything one decode needs; owned by png_decode's frame. */
typedef struct png_decoder {
    const char *path;
    FILE *fp;
    png_structp png;
    png_infop info;
    unsigned char head[PNG_HEAD_BYTES]; /* read by the pre-check, served first */
    size_t head_len;
    size_t head_pos;
    int read_errno;                     /* errno of a failed fread, 0 if none */
    png_failure failure;                /* what libpng reported */
} png_decoder;

/* libpng read callback: serves the bytes the pre-check already read, then
 * the file.  A short read is a libpng error: "unexpected end of file", or
 * "read error" with read_errno set. */
static void decoder_read(png_structp png, png_bytep data, size_t length)
{
    png_decoder *d = png_get_io_ptr(png);
    size_t done = 0;

    if (d->head_pos < d->head_len) {
        done = d->head_len - d->head_pos;
        if (done > length)
            done = length;
        memcpy(data, d->head + d->head_pos, done);
        d->head_pos += done;
    }
    if (done < length && fread(data + done, 1, length - done, d->fp) != length - done) {
        if (ferror(d->fp)) {
            d->read_errno = errno ? errno : EIO;
            png_error(png, "read error");
        }
        png_error(png, "unexpected end of file");
    }
}

/* Big-endian 32-bit value at p. */
static uint32_t load_be32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

/* Reads the signature and the IHDR chunk into d->head and checks them
 * before libpng is involved: empty file, not a PNG, truncated header
 * (KILN_E_FORMAT), and width*height against max_pixels (KILN_E_LIMIT), so
 * a hostile header is refused before anything is allocated. */
static kiln_status decoder_read_head(png_decoder *d, uint64_t max_pixels)
{
    size_t n = fread(d->head, 1, sizeof(d->head), d->fp);
    uint32_t width, height;

    if (n < sizeof(d->head) && ferror(d->fp))
        return kiln_fail(KILN_E_IO, "%s: read error: %s", d->path, strerror(errno));
    if (n == 0)
        return kiln_fail(KILN_E_FORMAT, "%s: empty file, not a PNG", d->path);
    if (png_sig_cmp(d->head, 0, n < 8 ? n : 8) != 0)
        return kiln_fail(KILN_E_FORMAT, "%s: not a PNG file", d->path);
    if (n < sizeof(d->head))
        return kiln_fail(KILN_E_FORMAT, "%s: truncated or corrupt PNG data: "
                         "file ends after %zu bytes, inside the header", d->path, n);
    if (load_be32(d->head + 8) != 13 || memcmp(d->head + 12, "IHDR", 4) != 0)
        return kiln_fail(KILN_E_FORMAT, "%s: truncated or corrupt PNG data: "
                         "the first chunk is not IHDR", d->path);
    width = load_be32(d->head + 16);
    height = load_be32(d->head + 20);
    if (width == 0 || height == 0 || width > PNG_DIM_MAX || height > PNG_DIM_MAX)
        return kiln_fail(KILN_E_FORMAT, "%s: truncated or corrupt PNG data: "
                         "invalid image size %lux%lu", d->path,
                         (unsigned long)width, (unsigned long)height);
    if ((uint64_t)width * height > max_pixels)
        return kiln_fail(KILN_E_LIMIT, "%s: image is %lux%lu = %llu pixels, more than "
                         "the limit of %llu (max_pixels)", d->path,
                         (unsigned long)width, (unsigned long)height,
                         (unsigned long long)((uint64_t)width * height),
                         (unsigned long long)max_pixels);
    d->head_len = n;
    return KILN_OK;
}

/* Creates the libpng read and info structs with our callbacks. */
static kiln_status decoder_create(png_decoder *d)
{
    d->png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, &d->failure, png_failure_error,
                                      png_failure_warning, &d->failure, png_failure_malloc, png_failure_free);
    if (!d->png)
        return kiln_fail(KILN_E_HOSTMEM, "%s: out of host memory creating a libpng reader", d->path);
    d->info = png_create_info_struct(d->png);
    if (!d->info) {
        png_destroy_read_struct(&d->png, NULL, NULL);
        return kiln_fail(KILN_E_HOSTMEM, "%s: out of host memory creating a libpng info struct", d->path);
    }
    return KILN_OK;
}

/* Asks libpng for the output layout png_io.h promises: palette to RGB(A),
 * low-bit gray to 8 bits, tRNS to an alpha channel, 16-bit samples in
 * native byte order, interlaced passes combined. */
static void decoder_set_transforms(png_structp png, png_infop info)
{
    int color_type = png_get_color_type(png, info);
    int bit_depth = png_get_bit_depth(png, info);

    if (color_type == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha(png);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (bit_depth == 16)
        png_set_swap(png);
#endif
    (void)png_set_interlace_handling(png);
}

/* The ancillary chunks kiln does not use: skipped by reading past them
 * in small pieces, never buffered (a tEXt, zTXt, iTXt or iCCP chunk can
 * declare 2 GiB in a 47-byte file).  Only IHDR, PLTE, tRNS, IDAT and IEND
 * are read. */
static const png_byte ignored_chunks[] = {
    'b', 'K', 'G', 'D', '\0', 'c', 'H', 'R', 'M', '\0', 'e', 'X', 'I', 'f', '\0',
    'g', 'A', 'M', 'A', '\0', 'h', 'I', 'S', 'T', '\0', 'i', 'C', 'C', 'P', '\0',
    'i', 'T', 'X', 't', '\0', 'o', 'F', 'F', 's', '\0', 'p', 'C', 'A', 'L', '\0',
    'p', 'H', 'Y', 's', '\0', 's', 'B', 'I', 'T', '\0', 's', 'C', 'A', 'L', '\0',
    's', 'P', 'L', 'T', '\0', 's', 'R', 'G', 'B', '\0', 't', 'E', 'X', 't', '\0',
    't', 'I', 'M', 'E', '\0', 'z', 'T', 'X', 't', '\0',
};

/* Makes every limit a hard error: benign errors (libpng 1.6 treats "chunk
 * data is too large" as one) are errors, unknown and unused ancillary
 * chunks are skipped before anything is allocated for them, and what is
 * read stays under the chunk size and count caps. */
static void decoder_set_limits(png_structp png)
{
    png_set_benign_errors(png, 0);
    png_set_user_limits(png, PNG_DIM_MAX, PNG_DIM_MAX); /* max_pixels rules */
    png_set_chunk_malloc_max(png, PNG_CHUNK_MALLOC_MAX);
    png_set_chunk_cache_max(png, PNG_CHUNK_CACHE_MAX);
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, 0);
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, ignored_chunks,
                                (int)(sizeof(ignored_chunks) / 5));
}

/* Protected: reads every chunk before the image data and sets up the
 * transformations.  Returns 0, or -1 when libpng failed (see d). */
static int decoder_read_info_protected(png_decoder *d)
{
    if (setjmp(png_jmpbuf(d->png)))
        return -1;
    png_set_read_fn(d->png, d, decoder_read);
    decoder_set_limits(d->png);
    png_read_info(d->png, d->info);
    decoder_set_transforms(d->png, d->info);
    png_read_update_info(d->png, d->info);
    return 0;
}

/* Protected: decodes all rows into `rows` and reads to IEND, so data cut
 * short anywhere is an error.  Returns 0, or -1 when libpng failed. */
static int decoder_read_rows_protected(png_decoder *d, png_bytepp rows)
{
    if (setjmp(png_jmpbuf(d->png)))
        return -1;
    png_read_image(d->png, rows);
    png_read_end(d->png, NULL);
    return 0;
}

/* Turns a libpng failure recorded in d into a status and message. */
static kiln_status decoder_failure(const png_decoder *d)
{
    if (d->read_errno)
        return kiln_fail(KILN_E_IO, "%s: read error: %s", d->path, strerror(d->read_errno));
    if (d->failure.out_of_memory)
        return kiln_fail(KILN_E_HOSTMEM, "%s: out of memory while decoding: %s",
                         d->path, d->failure.message);
    return kiln_fail(KILN_E_FORMAT, "%s: truncated or corrupt PNG data: %s",
                     d->path, d->failure.message);
}

/* Fills *shape (pixels NULL) with the decoded layout libpng reports after
 * the transformations, and checks that its byte size fits in size_t. */
static kiln_status decoder_shape(const png_decoder *d, host_image *shape)
{
    size_t row_bytes;

    memset(shape, 0, sizeof(*shape));
    shape->width = png_get_image_width(d->png, d->info);
    shape->height = png_get_image_height(d->png, d->info);
    shape->channels = png_get_channels(d->png, d->info);
    shape->bit_depth = png_get_bit_depth(d->png, d->info);
    if (shape->channels < 1 || shape->channels > 4 ||
        (shape->bit_depth != 8 && shape->bit_depth != 16))
        return kiln_fail(KILN_E_FORMAT, "%s: unsupported layout after conversion: "
                         "%u channels, %u-bit", d->path, (unsigned)shape->channels,
                         (unsigned)shape->bit_depth);
    if (host_image_bytes(shape) == 0)
        return kiln_fail(KILN_E_LIMIT, "%s: %lux%lu image with %u channels of %u bits "
                         "is too large for this machine", d->path,
                         (unsigned long)shape->width, (unsigned long)shape->height,
                         (unsigned)shape->channels, (unsigned)shape->bit_depth);
    row_bytes = (size_t)shape->width * shape->channels * (shape->bit_depth / 8u);
    if (png_get_rowbytes(d->png, d->info) != row_bytes)
        return kiln_fail(KILN_E_FORMAT, "%s: libpng row size %zu, expected %zu",
                         d->path, (size_t)png_get_rowbytes(d->png, d->info), row_bytes);
    return KILN_OK;
}

/* Decodes `path` into *out (header_only: the shape without pixels); with
 * `given` not NULL, reads that open stream instead of opening `path` (then
 * only a name for messages) and leaves it open.  The
 * order is fixed: pre-check of signature and IHDR with the pixel limit,
 * libpng header parse, then pixel and row allocation, then the rows.
 * *out is zeroed on every error. */
static kiln_status png_decode(const char *path, FILE *given, uint64_t max_pixels,
                              int header_only, host_image *out)
{
    png_decoder d;
    host_image img;
    png_bytep *rows;
    size_t stride;
    kiln_status st;

    if (!out)
        return kiln_fail(KILN_E_INVAL, "png_read: NULL output image");
    memset(out, 0, sizeof(*out));
    if (!path)
        return kiln_fail(KILN_E_INVAL, "png_read: NULL path");
    if (max_pixels == 0)
        max_pixels = PNG_DEFAULT_MAX_PIXELS;
    memset(&d, 0, sizeof(d));
    d.path = path;
    if (given) {
        d.fp = given;
    } else {
        st = file_open_regular(path, &d.fp);
        if (st != KILN_OK)
            return st;
    }
    st = decoder_read_head(&d, max_pixels);
    if (st != KILN_OK)
        goto out_close_file;
    st = decoder_create(&d);
    if (st != KILN_OK)
        goto out_close_file;
    if (decoder_read_info_protected(&d) != 0) {
        st = decoder_failure(&d);
        goto out_destroy_reader;
    }
    st = decoder_shape(&d, &img);
    if (st != KILN_OK)
        goto out_destroy_reader;
    if (header_only) {
        *out = img;
        goto out_destroy_reader;
    }
    st = host_image_alloc(&img, img.width, img.height, img.channels, img.bit_depth);
    if (st != KILN_OK) {
        kiln_fail_context(st, "%s", path);
        goto out_destroy_reader;
    }
    rows = kiln_calloc(img.height, sizeof(*rows));
    if (!rows) {
        st = kiln_fail(KILN_E_HOSTMEM, "%s: out of memory for %lu row pointers", path,
                       (unsigned long)img.height);
        goto out_free_pixels;
    }
    stride = host_image_bytes(&img) / img.height;
    for (uint32_t y = 0; y < img.height; y++)
        rows[y] = (png_bytep)img.pixels + (size_t)y * stride;
    if (decoder_read_rows_protected(&d, rows) != 0) {
        st = decoder_failure(&d);
        goto out_free_rows;
    }
    *out = img;                    /* ownership of the pixels moves to *out */
    img.pixels = NULL;

out_free_rows:
    kiln_free(rows);
out_free_pixels:
    host_image_free(&img);
out_destroy_reader:
    png_destroy_read_struct(&d.png, &d.info, NULL);
out_close_file:
    if (!given)
        fclose(d.fp);
    return st;
}

/* Reads a whole PNG; see png_io.h. */
kiln_status png_read_file(const char *path, uint64_t max_pixels, host_image *img)
{
    return png_decode(path, NULL, max_pixels, 0, img);
}

/* Reads only the header of a PNG; see png_io.h. */
kiln_status png_read_header(const char *path, uint64_t max_pixels, host_image *info)
{
    return png_decode(path, NULL, max_pixels, 1, info);
}

/* Reads a whole PNG from an open stream; see png_io.h. */
kiln_status png_read_stream(FILE *fp, const char *name, uint64_t max_pixels, host_image *img)
{
    if (!fp)
        return kiln_fail(KILN_E_INVAL, "png_read: NULL stream");
    return png_decode(name, fp, max_pixels, 0, img);
}
