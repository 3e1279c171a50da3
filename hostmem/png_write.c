/* PNG encoding through libpng, written via an atomic_file so that the
 * final path only ever holds a complete PNG.  As in png_read.c, the calls
 * that may longjmp run in one protected function whose state lives in a
 * png_encoder owned by the caller. */
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "png_failure.h"
#include "png_io.h"
#include "status.h"

/* PNG's own limit on width and height (2^31 - 1). */
#define PNG_DIM_MAX 0x7fffffffu

/* zlib level of the image data.  Level 4 encodes a 640x480 RGBA cut-out
 * about 2.5x faster than zlib's default (6) for files 2-8% larger: at
 * the default, encoding the output took as long as loading a small
 * network.  Filters stay libpng's adaptive choice per row. */
#define PNG_WRITE_ZLIB_LEVEL 4

/* Everything one encode needs; owned by png_write_file's frame. */
typedef struct png_encoder {
    const char *path;
    FILE *fp;                 /* borrowed from the atomic_file */
    png_structp png;
    png_infop info;
    int write_errno;          /* errno of a failed fwrite, 0 if none */
    png_failure failure;                /* what libpng reported */
} png_encoder;

/* libpng write callback: fwrite; a short write is a libpng error with
 * write_errno set. */
static void encoder_write(png_structp png, png_bytep data, size_t length)
{
    png_encoder *e = png_get_io_ptr(png);

    if (fwrite(data, 1, length, e->fp) != length) {
        e->write_errno = errno ? errno : EIO;
        png_error(png, "write error");
    }
}

/* libpng flush callback: fflush (a failure stays in ferror, which
 * atomic_file_commit checks). */
static void encoder_flush(png_structp png)
{
    png_encoder *e = png_get_io_ptr(png);

    (void)fflush(e->fp);
}

/* The PNG colour type for 1-4 interleaved channels. */
static int color_type_for(uint32_t channels)
{
    switch (channels) {
    case 1: return PNG_COLOR_TYPE_GRAY;
    case 2: return PNG_COLOR_TYPE_GRAY_ALPHA;
    case 3: return PNG_COLOR_TYPE_RGB;
    default: return PNG_COLOR_TYPE_RGB_ALPHA;
    }
}

/* Hands the rows of img to libpng one at a time (no row-pointer array). */
static void encoder_write_rows(png_structp png, const host_image *img)
{
    size_t stride = (size_t)img->width * img->channels * (img->bit_depth / 8u);
    const unsigned char *row = img->pixels;

    for (uint32_t y = 0; y < img->height; y++, row += stride)
        png_write_row(png, row);
}

/* Protected: writes the whole PNG stream.  Returns 0, or -1 when libpng
 * failed (see e). */
static int encoder_write_protected(png_encoder *e, const host_image *img)
{
    if (setjmp(png_jmpbuf(e->png)))
        return -1;
    png_set_write_fn(e->png, e, encoder_write, encoder_flush);
    png_set_IHDR(e->png, e->info, img->width, img->height, (int)img->bit_depth,
                 color_type_for(img->channels), PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(e->png, PNG_WRITE_ZLIB_LEVEL);
    png_write_info(e->png, e->info);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (img->bit_depth == 16)
        png_set_swap(e->png);
#endif
    encoder_write_rows(e->png, img);
    png_write_end(e->png, NULL);
    return 0;
}

/* Turns a libpng failure recorded in e into a KILN_E_IO (or
 * KILN_E_HOSTMEM) status and message. */
static kiln_status encoder_failure(const png_encoder *e)
{
    if (e->write_errno)
        return kiln_fail(atomic_file_write_status(e->write_errno), "%s: write error: %s", e->path,
                         strerror(e->write_errno));
    if (e->failure.out_of_memory)
        return kiln_fail(KILN_E_HOSTMEM, "%s: out of memory while encoding: %s",
                         e->path, e->failure.message);
    return kiln_fail(KILN_E_IO, "%s: PNG encoding failed: %s", e->path, e->failure.message);
}

/* Checks that img is something png_write_file can encode. */
static kiln_status check_image(const char *path, const host_image *img)
{
    if (!img || !img->pixels)
        return kiln_fail(KILN_E_INVAL, "%s: no image to write", path);
    if (img->width == 0 || img->height == 0 || img->width > PNG_DIM_MAX ||
        img->height > PNG_DIM_MAX || img->channels < 1 || img->channels > 4 ||
        (img->bit_depth != 8 && img->bit_depth != 16))
        return kiln_fail(KILN_E_INVAL, "%s: cannot write a %lux%lu image with %u channels "
                         "of %u bits", path, (unsigned long)img->width,
                         (unsigned long)img->height, (unsigned)img->channels,
                         (unsigned)img->bit_depth);
    return KILN_OK;
}

/* Encodes img through e (e->path and e->fp set, the rest zeroed): creates
 * libpng's writer and info, writes, destroys them.  Returns KILN_OK, or
 * the error naming e->path; the caller owns and closes e->fp. */
static kiln_status encoder_run(png_encoder *e, const host_image *img)
{
    kiln_status st = KILN_OK;

    e->png = png_create_write_struct_2(PNG_LIBPNG_VER_STRING, &e->failure, png_failure_error,
                                       png_failure_warning, &e->failure, png_failure_malloc,
                                       png_failure_free);
    if (!e->png)
        return kiln_fail(KILN_E_HOSTMEM, "%s: out of host memory creating a libpng writer",
                         e->path);
    e->info = png_create_info_struct(e->png);
    if (!e->info)
        st = kiln_fail(KILN_E_HOSTMEM, "%s: out of host memory creating a libpng info struct",
                       e->path);
    else if (encoder_write_protected(e, img) != 0)
        st = encoder_failure(e);
    png_destroy_write_struct(&e->png, &e->info);
    return st;
}

/* Encodes img into path through a temporary file; see png_io.h.  The
 * temporary file is committed only when libpng finished without error,
 * and removed otherwise. */
kiln_status png_write_file(const char *path, const host_image *img)
{
    png_encoder e;
    atomic_file af;
    kiln_status st;

    if (!path)
        return kiln_fail(KILN_E_INVAL, "png_write_file: NULL path");
    st = check_image(path, img);
    if (st != KILN_OK)
        return st;
    st = atomic_file_open(&af, path);
    if (st != KILN_OK)
        return st;
    memset(&e, 0, sizeof(e));
    e.path = path;
    e.fp = af.fp;
    st = encoder_run(&e, img);
    if (st == KILN_OK)
        return atomic_file_commit(&af);   /* removes the temporary on failure */
    atomic_file_abort(&af);
    return st;
}

/* Encodes img into a malloc'd buffer through open_memstream, with the
 * same encoder (and so the same bytes) as png_write_file; see png_io.h. */
kiln_status png_write_memory(const char *name, const host_image *img, unsigned char **data,
                             size_t *len)
{
    png_encoder e;
    char *buf = NULL;
    size_t size = 0;
    kiln_status st;

    if (!data || !len)
        return kiln_fail(KILN_E_INVAL, "png_write_memory: NULL output");
    *data = NULL;
    *len = 0;
    st = check_image(name, img);
    if (st != KILN_OK)
        return st;
    memset(&e, 0, sizeof(e));
    e.path = name;
    e.fp = open_memstream(&buf, &size);
    if (!e.fp)
        return kiln_fail(KILN_E_HOSTMEM, "%s: cannot open a memory stream: %s", name,
                         strerror(errno));
    st = encoder_run(&e, img);
    if (fclose(e.fp) != 0 && st == KILN_OK)
        st = kiln_fail(KILN_E_HOSTMEM, "%s: out of host memory encoding the PNG", name);
    if (st != KILN_OK) {
        free(buf);
        return st;
    }
    *data = (unsigned char *)buf;
    *len = size;
    return KILN_OK;
}
