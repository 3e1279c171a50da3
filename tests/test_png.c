/* PNG decode/encode and atomic writes: round trips of every layout,
 * every PNG colour type and bit depth written by libpng directly, and
 * every kind of bad input (truncated, corrupt, not a PNG, empty, missing,
 * decompression bomb header), plus failed writes leaving nothing behind. */
#include <dirent.h>
#include <errno.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "image_read.h"
#include "png_io.h"
#include "rss.h"
#include "testutil.h"

static char tmpdir[2048];

/* A PNG written by libpng directly: rows are in file layout (packed low
 * bit depths, big-endian 16-bit samples). */
typedef struct fixture {
    uint32_t width;
    uint32_t height;
    int bit_depth;
    int color_type;
    int interlace;
    const png_color *palette;
    int npalette;
    const png_byte *trans_alpha;        /* palette tRNS, ntrans entries */
    int ntrans;
    const png_color_16 *trans_color;    /* gray/RGB tRNS, or NULL */
    const unsigned char *rows;
    size_t stride;
} fixture;

/* Formats "<tmpdir>/<name>" into buf (4096 bytes) and returns buf. */
static char *tmp_path(char *buf, const char *name)
{
    snprintf(buf, 4096, "%s/%s", tmpdir, name);
    return buf;
}

/* The PNG CRC-32 of n bytes. */
static uint32_t png_crc(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;

    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return c ^ 0xffffffffu;
}

/* Stores v big-endian at p. */
static void store_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Protected part of fixture_write: every libpng call that may longjmp. */
static int fixture_encode(png_structp png, png_infop info, FILE *fp, const fixture *f)
{
    int passes;

    if (setjmp(png_jmpbuf(png)))
        return -1;
    png_init_io(png, fp);
    png_set_IHDR(png, info, f->width, f->height, f->bit_depth, f->color_type,
                 f->interlace, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (f->palette)
        png_set_PLTE(png, info, f->palette, f->npalette);
    if (f->ntrans > 0 || f->trans_color)
        png_set_tRNS(png, info, f->trans_alpha, f->ntrans, f->trans_color);
    png_write_info(png, info);
    passes = png_set_interlace_handling(png);
    for (int pass = 0; pass < passes; pass++)
        for (uint32_t y = 0; y < f->height; y++)
            png_write_row(png, f->rows + (size_t)y * f->stride);
    png_write_end(png, NULL);
    return 0;
}

/* Writes fixture f to path with libpng; returns 0 on success. */
static int fixture_write(const char *path, const fixture *f)
{
    FILE *fp = fopen(path, "wb");
    png_structp png;
    png_infop info = NULL;
    int ok = 0;

    if (!fp)
        return -1;
    png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    if (png)
        info = png_create_info_struct(png);
    if (png && info)
        ok = fixture_encode(png, info, fp, f) == 0;
    png_destroy_write_struct(&png, &info);
    return (fclose(fp) == 0 && ok) ? 0 : -1;
}

/* Packs w*h sample values of `bits` bits (1, 2, 4 or 8) into PNG rows,
 * most significant bits first; returns the stride. */
static size_t pack_samples(const unsigned char *values, uint32_t w, uint32_t h, int bits,
                           unsigned char *rows)
{
    size_t stride = ((size_t)w * (size_t)bits + 7) / 8;

    memset(rows, 0, stride * h);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            size_t bit = (size_t)x * (size_t)bits;
            unsigned v = values[y * w + x];
            rows[y * stride + bit / 8] |= (unsigned char)(v << (8 - bits - (int)(bit % 8)));
        }
    return stride;
}

/* Counts the entries of dir other than . and .., and those whose name
 * contains ".tmp.". */
static void count_dir(const char *dir, int *entries, int *temps)
{
    DIR *d = opendir(dir);
    const struct dirent *e;

    *entries = 0;
    *temps = 0;
    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        (*entries)++;
        if (strstr(e->d_name, ".tmp."))
            (*temps)++;
    }
    closedir(d);
}

/* A deterministic sample for pixel (x, y), channel c at `depth` bits. */
static unsigned pattern(uint32_t x, uint32_t y, uint32_t c, uint32_t depth)
{
    unsigned v = x * 37u + y * 101u + c * 59u + x * y;
    return depth == 16 ? (v * 257u + x) & 0xffffu : v & 0xffu;
}

/* Fills img (allocated) with pattern(). */
static void fill_pattern(host_image *img)
{
    for (uint32_t y = 0; y < img->height; y++)
        for (uint32_t x = 0; x < img->width; x++)
            for (uint32_t c = 0; c < img->channels; c++) {
                size_t i = ((size_t)y * img->width + x) * img->channels + c;
                if (img->bit_depth == 16)
                    ((uint16_t *)img->pixels)[i] = (uint16_t)pattern(x, y, c, 16);
                else
                    ((uint8_t *)img->pixels)[i] = (uint8_t)pattern(x, y, c, 8);
            }
}

/* Sample i of an image, whatever its depth. */
static unsigned sample(const host_image *img, size_t i)
{
    if (img->bit_depth == 16)
        return ((const uint16_t *)img->pixels)[i];
    return ((const uint8_t *)img->pixels)[i];
}

/* Write then read every channel count at 8 and 16 bits; the header and
 * every sample must come back unchanged. */
static void test_round_trip(void)
{
    char path[4096];

    for (uint32_t depth = 8; depth <= 16; depth += 8)
        for (uint32_t ch = 1; ch <= 4; ch++) {
            host_image img, back, info;
            char name[64];

            snprintf(name, sizeof(name), "rt_%u_%u.png", (unsigned)ch, (unsigned)depth);
            tmp_path(path, name);
            CHECK_OK(host_image_alloc(&img, 17, 9, ch, depth));
            fill_pattern(&img);
            CHECK_OK(png_write_file(path, &img));
            CHECK_OK(png_read_header(path, 0, &info));
            CHECK(info.width == 17 && info.height == 9 && info.channels == ch &&
                  info.bit_depth == depth && info.pixels == NULL);
            CHECK_OK(png_read_file(path, 0, &back));
            CHECK(back.width == 17 && back.height == 9 && back.channels == ch &&
                  back.bit_depth == depth);
            CHECK(back.pixels && memcmp(back.pixels, img.pixels, host_image_bytes(&img)) == 0);
            host_image_free(&back);
            host_image_free(&img);
        }
}

/* In memory (kiln serve's uploads and answers): png_write_memory gives
 * the bytes png_write_file writes, image_read_memory decodes them back,
 * and its errors (empty, not an image, truncated, over max_pixels) name
 * the upload as the file readers name files. */
static void test_memory(void)
{
    char path[4096], msg[512];
    host_image img, back;
    unsigned char *data = NULL, *file = NULL;
    size_t len = 0, flen = 0;
    FILE *fp;

    tmp_path(path, "memory.png");
    CHECK_OK(host_image_alloc(&img, 23, 11, 4, 8));
    fill_pattern(&img);
    CHECK_OK(png_write_file(path, &img));
    CHECK_OK(png_write_memory("answer", &img, &data, &len));
    fp = fopen(path, "rb");
    CHECK(fp != NULL);
    if (fp) {
        fseek(fp, 0, SEEK_END);
        flen = (size_t)ftell(fp);
        rewind(fp);
        file = malloc(flen);
        CHECK(file && fread(file, 1, flen, fp) == flen);
        fclose(fp);
    }
    CHECK(data && file && len == flen && memcmp(data, file, len) == 0);
    CHECK_OK(image_read_memory(data, len, "upload.png", 0, &back));
    CHECK(back.width == 23 && back.height == 11 && back.channels == 4 &&
          memcmp(back.pixels, img.pixels, host_image_bytes(&img)) == 0);
    host_image_free(&back);
    CHECK(image_read_memory(data, 0, "upload.png", 0, &back) == KILN_E_FORMAT);
    CHECK(strstr(kiln_last_error(), "upload.png: empty file") != NULL);
    CHECK(image_read_memory("hello", 5, "upload.png", 0, &back) == KILN_E_FORMAT);
    CHECK(strstr(kiln_last_error(), "not a PNG or JPEG") != NULL);
    CHECK(image_read_memory(data, len / 2, "upload.png", 0, &back) == KILN_E_FORMAT);
    CHECK(back.pixels == NULL);
    CHECK(image_read_memory(data, len, "upload.png", 100, &back) == KILN_E_LIMIT);
    snprintf(msg, sizeof(msg), "%s", kiln_last_error());
    CHECK(strstr(msg, "upload.png: image is 23x11 = 253 pixels, more than the limit of 100 "
                      "(max_pixels)") != NULL);
    free(file);
    free(data);
    host_image_free(&img);
}

/* The image data is compressed at zlib level 4 (PNG_WRITE_ZLIB_LEVEL),
 * not zlib's slower default: the zlib header of the first IDAT chunk says
 * FLEVEL 1 (levels 2 to 5; the default, 6, would say 2). */
static void test_write_level(void)
{
    char path[4096];
    unsigned char buf[4096];
    host_image img;
    size_t n = 0, at = 8;
    int flevel = -1;
    FILE *fp;

    tmp_path(path, "level.png");
    CHECK_OK(host_image_alloc(&img, 31, 7, 4, 8));
    fill_pattern(&img);
    CHECK_OK(png_write_file(path, &img));
    host_image_free(&img);
    fp = fopen(path, "rb");
    CHECK(fp != NULL);
    if (fp) {
        n = fread(buf, 1, sizeof(buf), fp);
        fclose(fp);
    }
    while (at + 10 <= n) {          /* chunks: length, type, data, CRC */
        uint32_t len = (uint32_t)buf[at] << 24 | (uint32_t)buf[at + 1] << 16 |
                       (uint32_t)buf[at + 2] << 8 | buf[at + 3];
        if (memcmp(buf + at + 4, "IDAT", 4) == 0) {
            flevel = buf[at + 9] >> 6;
            break;
        }
        at += 12 + (size_t)len;
    }
    CHECK(flevel == 1);
}

/* Protected raw read of the first row of an open PNG, without any
 * transformation (so 16-bit samples keep the file's byte order). */
static int read_first_row_raw(png_structp png, png_infop info, FILE *fp, unsigned char *row)
{
    if (setjmp(png_jmpbuf(png)))
        return -1;
    png_init_io(png, fp);
    png_read_info(png, info);
    png_read_row(png, row, NULL);
    return 0;
}

/* A 16-bit file written by png_write_file is big-endian on disk as PNG
 * requires (a round trip alone would not notice a missing swap on both
 * sides): the raw first row of 0x1234, 0xff00 is 12 34 ff 00. */
static void test_write_16bit_byte_order(void)
{
    char path[4096];
    host_image img;
    FILE *fp;
    png_structp png;
    png_infop info = NULL;
    unsigned char row[4] = { 0 };

    tmp_path(path, "order16.png");
    CHECK_OK(host_image_alloc(&img, 2, 2, 1, 16));
    ((uint16_t *)img.pixels)[0] = 0x1234;
    ((uint16_t *)img.pixels)[1] = 0xff00;
    CHECK_OK(png_write_file(path, &img));
    host_image_free(&img);
    fp = fopen(path, "rb");
    CHECK(fp != NULL);
    if (!fp)
        return;
    png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    if (png)
        info = png_create_info_struct(png);
    CHECK(png && info && read_first_row_raw(png, info, fp, row) == 0);
    CHECK(row[0] == 0x12 && row[1] == 0x34 && row[2] == 0xff && row[3] == 0x00);
    png_destroy_read_struct(&png, &info, NULL);
    fclose(fp);
}

/* 1, 2 and 4-bit gray (also interlaced at 1 bit) decode to 8-bit gray
 * scaled to full range (v * 255 / (2^bits - 1)). */
static void test_low_bit_gray(void)
{
    enum { W = 13, H = 5 };
    unsigned char values[W * H], rows[W * H];
    char path[4096];

    for (int bits = 1; bits <= 4; bits *= 2)
        for (int interlace = 0; interlace <= (bits == 1 ? 1 : 0); interlace++) {
            unsigned maxv = (1u << bits) - 1u;
            fixture f;
            host_image img;
            char name[64];
            int exact = 1;

            for (uint32_t i = 0; i < W * H; i++)
                values[i] = (unsigned char)((i * 7u + i / W) & maxv);
            memset(&f, 0, sizeof(f));
            f.width = W;
            f.height = H;
            f.bit_depth = bits;
            f.color_type = PNG_COLOR_TYPE_GRAY;
            f.interlace = interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE;
            f.rows = rows;
            f.stride = pack_samples(values, W, H, bits, rows);
            snprintf(name, sizeof(name), "gray%d_%d.png", bits, interlace);
            CHECK(fixture_write(tmp_path(path, name), &f) == 0);
            CHECK_OK(png_read_file(path, 0, &img));
            CHECK(img.width == W && img.height == H && img.channels == 1 && img.bit_depth == 8);
            for (uint32_t i = 0; img.pixels && i < W * H; i++)
                if (((uint8_t *)img.pixels)[i] != values[i] * 255u / maxv)
                    exact = 0;
            CHECK(img.pixels && exact);
            host_image_free(&img);
        }
}

/* Palette images: without tRNS to RGB, with tRNS (shorter than the
 * palette) to RGBA with alpha 255 past the tRNS entries; 8 and 4 bits. */
static void test_palette(void)
{
    static const png_color palette[5] = {
        { 255, 0, 0 }, { 0, 255, 0 }, { 0, 0, 255 }, { 10, 20, 30 }, { 200, 100, 50 }
    };
    static const png_byte alpha[2] = { 0, 128 };
    enum { W = 9, H = 4 };
    unsigned char idx[W * H], rows[W * H];
    char path[4096];

    for (uint32_t i = 0; i < W * H; i++)
        idx[i] = (unsigned char)((i * 3u) % 5u);
    for (int with_trns = 0; with_trns <= 1; with_trns++)
        for (int bits = 4; bits <= 8; bits += 4) {
            fixture f;
            host_image img;
            char name[64];
            uint32_t ch = with_trns ? 4 : 3;
            int exact = 1;

            memset(&f, 0, sizeof(f));
            f.width = W;
            f.height = H;
            f.bit_depth = bits;
            f.color_type = PNG_COLOR_TYPE_PALETTE;
            f.palette = palette;
            f.npalette = 5;
            f.trans_alpha = with_trns ? alpha : NULL;
            f.ntrans = with_trns ? 2 : 0;
            f.rows = rows;
            f.stride = pack_samples(idx, W, H, bits, rows);
            snprintf(name, sizeof(name), "pal%d_%d.png", bits, with_trns);
            CHECK(fixture_write(tmp_path(path, name), &f) == 0);
            CHECK_OK(png_read_file(path, 0, &img));
            CHECK(img.channels == ch && img.bit_depth == 8 && img.width == W);
            for (uint32_t i = 0; img.pixels && img.channels == ch && i < W * H; i++) {
                const uint8_t *p = (const uint8_t *)img.pixels + i * ch;
                const png_color *c = &palette[idx[i]];
                if (p[0] != c->red || p[1] != c->green || p[2] != c->blue)
                    exact = 0;
                if (with_trns && p[3] != (idx[i] < 2 ? alpha[idx[i]] : 255))
                    exact = 0;
            }
            CHECK(img.pixels && exact);
            host_image_free(&img);
        }
}

/* tRNS on gray (8 and 16-bit) and RGB: the key colour gets alpha 0, all
 * else full alpha; 16-bit samples come back native-endian. */
static void test_trns_color(void)
{
    enum { W = 6, H = 3 };
    char path[4096];

    /* 8-bit gray, key 7 */
    {
        unsigned char rows[W * H];
        png_color_16 key;
        fixture f;
        host_image img;
        int exact = 1;

        for (uint32_t i = 0; i < W * H; i++)
            rows[i] = (unsigned char)(i % 3 == 0 ? 7 : i * 11);
        memset(&key, 0, sizeof(key));
        key.gray = 7;
        memset(&f, 0, sizeof(f));
        f.width = W;
        f.height = H;
        f.bit_depth = 8;
        f.color_type = PNG_COLOR_TYPE_GRAY;
        f.trans_color = &key;
        f.rows = rows;
        f.stride = W;
        CHECK(fixture_write(tmp_path(path, "gray8_trns.png"), &f) == 0);
        CHECK_OK(png_read_file(path, 0, &img));
        CHECK(img.channels == 2 && img.bit_depth == 8);
        for (uint32_t i = 0; img.pixels && img.channels == 2 && i < W * H; i++) {
            const uint8_t *p = (const uint8_t *)img.pixels + 2 * i;
            if (p[0] != rows[i] || p[1] != (rows[i] == 7 ? 0 : 255))
                exact = 0;
        }
        CHECK(img.pixels && exact);
        host_image_free(&img);
    }
    /* 16-bit gray, key 0x1234, file samples big-endian */
    {
        unsigned char rows[W * H * 2];
        uint16_t want[W * H];
        png_color_16 key;
        fixture f;
        host_image img;
        int exact = 1;

        for (uint32_t i = 0; i < W * H; i++) {
            want[i] = (uint16_t)(i % 2 ? 0x1234 : 0xa000 + i * 0x0101);
            rows[2 * i] = (unsigned char)(want[i] >> 8);
            rows[2 * i + 1] = (unsigned char)want[i];
        }
        memset(&key, 0, sizeof(key));
        key.gray = 0x1234;
        memset(&f, 0, sizeof(f));
        f.width = W;
        f.height = H;
        f.bit_depth = 16;
        f.color_type = PNG_COLOR_TYPE_GRAY;
        f.trans_color = &key;
        f.rows = rows;
        f.stride = 2 * W;
        CHECK(fixture_write(tmp_path(path, "gray16_trns.png"), &f) == 0);
        CHECK_OK(png_read_file(path, 0, &img));
        CHECK(img.channels == 2 && img.bit_depth == 16);
        for (uint32_t i = 0; img.pixels && img.channels == 2 && i < W * H; i++) {
            const uint16_t *p = (const uint16_t *)img.pixels + 2 * i;
            if (p[0] != want[i] || p[1] != (want[i] == 0x1234 ? 0 : 0xffff))
                exact = 0;
        }
        CHECK(img.pixels && exact);
        host_image_free(&img);
    }
    /* 8-bit RGB, key (10, 20, 30) */
    {
        unsigned char rows[W * H * 3];
        png_color_16 key;
        fixture f;
        host_image img;
        int exact = 1;

        for (uint32_t i = 0; i < W * H; i++) {
            int is_key = i % 4 == 1;
            rows[3 * i] = (unsigned char)(is_key ? 10 : i);
            rows[3 * i + 1] = 20;   /* key or not, green matches */
            rows[3 * i + 2] = (unsigned char)(is_key ? 30 : 31);
        }
        memset(&key, 0, sizeof(key));
        key.red = 10;
        key.green = 20;
        key.blue = 30;
        memset(&f, 0, sizeof(f));
        f.width = W;
        f.height = H;
        f.bit_depth = 8;
        f.color_type = PNG_COLOR_TYPE_RGB;
        f.trans_color = &key;
        f.rows = rows;
        f.stride = 3 * W;
        CHECK(fixture_write(tmp_path(path, "rgb8_trns.png"), &f) == 0);
        CHECK_OK(png_read_file(path, 0, &img));
        CHECK(img.channels == 4 && img.bit_depth == 8);
        for (uint32_t i = 0; img.pixels && img.channels == 4 && i < W * H; i++) {
            const uint8_t *p = (const uint8_t *)img.pixels + 4 * i;
            int is_key = i % 4 == 1;
            if (memcmp(p, rows + 3 * i, 3) != 0 || p[3] != (is_key ? 0 : 255))
                exact = 0;
        }
        CHECK(img.pixels && exact);
        host_image_free(&img);
    }
}

/* Adam7-interlaced 8-bit RGB and 16-bit RGBA decode to the same samples
 * as written. */
static void test_interlaced(void)
{
    enum { W = 13, H = 11 };
    char path[4096];

    for (int depth = 8; depth <= 16; depth += 8) {
        uint32_t ch = depth == 8 ? 3 : 4;
        size_t bps = (size_t)depth / 8;
        unsigned char rows[W * H * 4 * 2];
        fixture f;
        host_image img;
        int exact = 1;

        for (uint32_t y = 0; y < H; y++)
            for (uint32_t x = 0; x < W; x++)
                for (uint32_t c = 0; c < ch; c++) {
                    size_t at = (((size_t)y * W + x) * ch + c) * bps;
                    unsigned v = pattern(x, y, c, (uint32_t)depth);
                    if (depth == 16) {
                        rows[at] = (unsigned char)(v >> 8);
                        rows[at + 1] = (unsigned char)v;
                    } else {
                        rows[at] = (unsigned char)v;
                    }
                }
        memset(&f, 0, sizeof(f));
        f.width = W;
        f.height = H;
        f.bit_depth = depth;
        f.color_type = depth == 8 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_RGB_ALPHA;
        f.interlace = PNG_INTERLACE_ADAM7;
        f.rows = rows;
        f.stride = W * ch * bps;
        CHECK(fixture_write(tmp_path(path, depth == 8 ? "adam7_8.png" : "adam7_16.png"), &f) == 0);
        CHECK_OK(png_read_file(path, 0, &img));
        CHECK(img.width == W && img.height == H && img.channels == ch &&
              img.bit_depth == (uint32_t)depth);
        for (uint32_t y = 0; img.pixels && img.channels == ch && y < H; y++)
            for (uint32_t x = 0; x < W; x++)
                for (uint32_t c = 0; c < ch; c++)
                    if (sample(&img, ((size_t)y * W + x) * ch + c) !=
                        pattern(x, y, c, (uint32_t)depth))
                        exact = 0;
        CHECK(img.pixels && exact);
        host_image_free(&img);
    }
}

/* Writes a 64x64 RGB image of pseudo-random noise (so that its IDAT is
 * large) to path. */
static void write_noise_png(const char *path)
{
    host_image img;
    uint32_t state = 12345;

    CHECK_OK(host_image_alloc(&img, 64, 64, 3, 8));
    for (size_t i = 0; img.pixels && i < host_image_bytes(&img); i++) {
        state = state * 1103515245u + 12345u;
        ((uint8_t *)img.pixels)[i] = (uint8_t)(state >> 16);
    }
    CHECK_OK(png_write_file(path, &img));
    host_image_free(&img);
}

/* Finds the first IDAT chunk: returns the offset of its data (length at
 * -8) or 0 when there is none. */
static size_t find_idat(const unsigned char *data, size_t len)
{
    for (size_t i = 12; i + 4 <= len; i++)
        if (memcmp(data + i, "IDAT", 4) == 0)
            return i + 4;
    return 0;
}

/* Checks that reading `path` fails with `want` (and header reading too
 * when `header_too`), that the image is left zeroed, and that the
 * message names the path and contains `needle`. */
static void expect_read_failure(const char *path, kiln_status want, const char *needle,
                                int header_too)
{
    host_image img;

    memset(&img, 0xab, sizeof(img));
    CHECK_STATUS(png_read_file(path, 0, &img), want);
    CHECK_MSG(path);
    CHECK_MSG(needle);
    CHECK(img.pixels == NULL && img.width == 0 && img.height == 0);
    if (header_too) {
        CHECK_STATUS(png_read_header(path, 0, &img), want);
        CHECK_MSG(path);
    }
}

/* Truncated, corrupt (IDAT data, IDAT CRC, data with a fixed CRC), not a
 * PNG, empty, too short and missing files: each fails cleanly with the
 * right status and a message naming the file. */
static void test_bad_files(void)
{
    char good[4096], path[4096];
    unsigned char *data, *copy;
    size_t len, idat;

    write_noise_png(tmp_path(good, "noise.png"));
    data = test_read_whole(good, &len);
    CHECK(data && len > 1000);
    if (!data)
        return;
    idat = find_idat(data, len);
    CHECK(idat > 0);

    /* cut in half: the header is fine, the image data ends early */
    CHECK(test_write_whole(tmp_path(path, "half.png"), data, len / 2) == 0);
    expect_read_failure(path, KILN_E_FORMAT, "truncated or corrupt PNG data", 0);
    /* everything but IEND */
    CHECK(test_write_whole(tmp_path(path, "no_iend.png"), data, len - 12) == 0);
    expect_read_failure(path, KILN_E_FORMAT, "truncated or corrupt PNG data", 0);
    /* cut inside the IHDR */
    CHECK(test_write_whole(tmp_path(path, "cut_ihdr.png"), data, 20) == 0);
    expect_read_failure(path, KILN_E_FORMAT, "truncated or corrupt PNG data", 1);

    copy = malloc(len);
    CHECK(copy != NULL);
    if (copy && idat > 0) {
        uint32_t idat_len = ((uint32_t)data[idat - 8] << 24) | ((uint32_t)data[idat - 7] << 16) |
                            ((uint32_t)data[idat - 6] << 8) | data[idat - 5];

        /* flipped bytes inside IDAT: CRC mismatch */
        memcpy(copy, data, len);
        for (size_t i = 10; i < 20; i++)
            copy[idat + i] ^= 0x5a;
        CHECK(test_write_whole(tmp_path(path, "flip_idat.png"), copy, len) == 0);
        expect_read_failure(path, KILN_E_FORMAT, "truncated or corrupt PNG data", 0);
        /* flipped CRC only */
        memcpy(copy, data, len);
        copy[idat + idat_len] ^= 0xff;
        CHECK(test_write_whole(tmp_path(path, "flip_crc.png"), copy, len) == 0);
        expect_read_failure(path, KILN_E_FORMAT, "CRC", 0);
        /* garbage zlib stream with a correct CRC: inflate fails */
        memcpy(copy, data, len);
        memset(copy + idat, 0xff, 8);
        store_be32(copy + idat + idat_len, png_crc(copy + idat - 4, idat_len + 4));
        CHECK(test_write_whole(tmp_path(path, "bad_zlib.png"), copy, len) == 0);
        expect_read_failure(path, KILN_E_FORMAT, "truncated or corrupt PNG data", 0);
    }
    free(copy);
    free(data);

    /* not a PNG, with a .png name */
    CHECK(test_write_whole(tmp_path(path, "text.png"), "hello, I am not an image\n", 25) == 0);
    expect_read_failure(path, KILN_E_FORMAT, "not a PNG file", 1);
    /* empty */
    CHECK(test_write_whole(tmp_path(path, "empty.png"), "", 0) == 0);
    expect_read_failure(path, KILN_E_FORMAT, "empty", 1);
    /* only 5 bytes of the signature */
    CHECK(test_write_whole(tmp_path(path, "sig5.png"), "\x89PNG\r", 5) == 0);
    expect_read_failure(path, KILN_E_FORMAT, "truncated", 1);
    /* missing */
    expect_read_failure(tmp_path(path, "does-not-exist.png"), KILN_E_IO, "cannot open", 1);
    /* a directory */
    expect_read_failure(tmpdir, KILN_E_IO, "a directory, not a regular file", 1);
}

/* Writes a PNG signature and one IHDR chunk (valid CRC) announcing a
 * w x h 8-bit RGB image, then nothing. */
static void write_header_only(const char *path, uint32_t w, uint32_t h)
{
    unsigned char buf[33] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

    store_be32(buf + 8, 13);
    memcpy(buf + 12, "IHDR", 4);
    store_be32(buf + 16, w);
    store_be32(buf + 20, h);
    buf[24] = 8;     /* bit depth */
    buf[25] = 2;     /* RGB */
    buf[26] = 0;     /* deflate */
    buf[27] = 0;     /* adaptive filtering */
    buf[28] = 0;     /* not interlaced */
    store_be32(buf + 29, png_crc(buf + 12, 17));
    CHECK(test_write_whole(path, buf, sizeof(buf)) == 0);
}

/* A 100000x100000 header is refused with KILN_E_LIMIT before anything is
 * allocated (under ASan a 30 GB allocation would abort); with the limit
 * lifted the same file is merely truncated.  max_pixels is exact at the boundary. */
static void test_limits(void)
{
    char path[4096];
    host_image img, small;

    write_header_only(tmp_path(path, "bomb.png"), 100000, 100000);
    CHECK_STATUS(png_read_file(path, 0, &img), KILN_E_LIMIT);
    CHECK_MSG(path);
    CHECK_MSG("max_pixels");
    CHECK(img.pixels == NULL);
    CHECK_STATUS(png_read_header(path, 0, &img), KILN_E_LIMIT);
    CHECK_MSG(path);
    CHECK_STATUS(png_read_file(path, UINT64_MAX, &img), KILN_E_FORMAT);
    CHECK_MSG("unexpected end of file");
    CHECK(img.pixels == NULL);

    /* width or height beyond PNG's 2^31-1 */
    write_header_only(tmp_path(path, "too_wide.png"), 0x80000000u, 1);
    CHECK_STATUS(png_read_file(path, UINT64_MAX, &img), KILN_E_FORMAT);
    CHECK_MSG("invalid image size");

    CHECK_OK(host_image_alloc(&small, 20, 10, 3, 8));
    CHECK_OK(png_write_file(tmp_path(path, "20x10.png"), &small));
    host_image_free(&small);
    CHECK_STATUS(png_read_file(path, 199, &img), KILN_E_LIMIT);
    CHECK_MSG(path);
    CHECK_STATUS(png_read_header(path, 199, &img), KILN_E_LIMIT);
    CHECK_OK(png_read_file(path, 200, &img));
    CHECK(img.width == 20 && img.height == 10);
    host_image_free(&img);
}

/* Failed writes: a missing directory (KILN_E_IO naming it, no file), a
 * final path that cannot be renamed over (no temporary left behind), an
 * invalid image (KILN_E_INVAL, no file); a rewrite replaces the file. */
static void test_write_failures(void)
{
    char path[4096], dir[4096], inner[4096];
    host_image img, back;
    int entries, temps;

    CHECK_OK(host_image_alloc(&img, 4, 4, 3, 8));
    fill_pattern(&img);

    tmp_path(dir, "no-such-dir");
    tmp_path(path, "no-such-dir/out.png");
    CHECK_STATUS(png_write_file(path, &img), KILN_E_IO);
    CHECK_MSG(dir);
    CHECK_MSG("No such file or directory");
    CHECK(access(path, F_OK) != 0);

    /* out.png is a non-empty directory: refused before anything is written */
    tmp_path(dir, "wdir");
    CHECK(mkdir(dir, 0755) == 0 || errno == EEXIST);
    tmp_path(path, "wdir/out.png");
    CHECK(mkdir(path, 0755) == 0 || errno == EEXIST);
    tmp_path(inner, "wdir/out.png/keep");
    CHECK(test_write_whole(inner, "x", 1) == 0);
    CHECK_STATUS(png_write_file(path, &img), KILN_E_IO);
    CHECK_MSG(path);
    CHECK_MSG("a directory");
    count_dir(dir, &entries, &temps);
    CHECK(entries == 1 && temps == 0);

    /* invalid images leave nothing */
    tmp_path(path, "wdir/bad.png");
    img.channels = 5;
    CHECK_STATUS(png_write_file(path, &img), KILN_E_INVAL);
    CHECK_MSG(path);
    img.channels = 3;
    CHECK_STATUS(png_write_file(path, NULL), KILN_E_INVAL);
    count_dir(dir, &entries, &temps);
    CHECK(entries == 1 && temps == 0);

    /* a rewrite replaces the old file */
    tmp_path(path, "rewrite.png");
    CHECK_OK(png_write_file(path, &img));
    ((uint8_t *)img.pixels)[0] ^= 0xff;
    CHECK_OK(png_write_file(path, &img));
    CHECK_OK(png_read_file(path, 0, &back));
    CHECK(back.pixels && memcmp(back.pixels, img.pixels, host_image_bytes(&img)) == 0);
    host_image_free(&back);
    host_image_free(&img);
}

/* atomic_file: commit makes the file appear whole; abort removes the
 * temporary; both are idempotent; a second commit is refused. */
static void test_atomic_file(void)
{
    char dir[4096], path[4096];
    atomic_file af;
    int entries, temps;
    size_t len;
    unsigned char *data;

    tmp_path(dir, "atomic");
    CHECK(mkdir(dir, 0755) == 0 || errno == EEXIST);
    tmp_path(path, "atomic/a.txt");
    unlink(path);

    CHECK_OK(atomic_file_open(&af, path));
    CHECK(af.fp != NULL && strstr(af.tmp_path, "/.a.txt.tmp.") != NULL);
    CHECK(fputs("hello", af.fp) >= 0);
    CHECK(access(path, F_OK) != 0);
    count_dir(dir, &entries, &temps);
    CHECK(entries == 1 && temps == 1);
    atomic_file_abort(&af);
    atomic_file_abort(&af);
    count_dir(dir, &entries, &temps);
    CHECK(entries == 0 && temps == 0);

    CHECK_OK(atomic_file_open(&af, path));
    CHECK(fputs("hello", af.fp) >= 0);
    CHECK_OK(atomic_file_commit(&af));
    CHECK_STATUS(atomic_file_commit(&af), KILN_E_INVAL);
    atomic_file_abort(&af);
    data = test_read_whole(path, &len);
    CHECK(data && len == 5 && memcmp(data, "hello", 5) == 0);
    free(data);
    count_dir(dir, &entries, &temps);
    CHECK(entries == 1 && temps == 0);

    /* open failures leave a handle that abort accepts */
    tmp_path(path, "atomic/missing/a.txt");
    CHECK_STATUS(atomic_file_open(&af, path), KILN_E_IO);
    CHECK_MSG("missing");
    atomic_file_abort(&af);
    tmp_path(path, "atomic/");
    CHECK_STATUS(atomic_file_open(&af, path), KILN_E_INVAL);
    atomic_file_abort(&af);
}

/* Runs every PNG test from a fresh scratch directory. */
/* PNG's CRC-32 of a chunk's type and data. */
static uint32_t chunk_crc(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return c ^ 0xffffffffu;
}

/* Stores a big-endian 32-bit value. */
static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Appends a chunk (length, type, data, CRC) at buf + *at. */
static void put_chunk(unsigned char *buf, size_t *at, const char *type, const void *data,
                      uint32_t len)
{
    put_be32(buf + *at, len);
    memcpy(buf + *at + 4, type, 4);
    if (len)
        memcpy(buf + *at + 8, data, len);
    put_be32(buf + *at + 8 + len, chunk_crc(buf + *at + 4, 4 + (size_t)len));
    *at += 12 + len;
}

/* A 47-byte PNG whose ancillary chunk declares 2 GiB (the chunk bomb):
 * each such file fails alone, with a message, without allocating what the
 * chunk declares (peak RSS stays within 100 MB of the start). */
static void test_bomb_chunks(void)
{
    static const char *const types[] = { "tEXt", "zTXt", "iTXt", "iCCP", "sPLT", "eXIf", "quAk" };
    static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    unsigned char ihdr[13] = { 0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0 };
    size_t start_rss = rss_current_bytes();
    char path[4096];
    host_image img;

    for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
        unsigned char buf[64];
        size_t at = 8;
        memcpy(buf, sig, 8);
        put_chunk(buf, &at, "IHDR", ihdr, 13);
        put_be32(buf + at, 0x7fffffffu);
        memcpy(buf + at + 4, types[t], 4);
        memcpy(buf + at + 8, "abcdef", 6);
        at += 14;
        CHECK(at == 47);
        snprintf(path, sizeof(path), "%s/bomb-%s.png", tmpdir, types[t]);
        CHECK(test_write_whole(path, buf, at) == 0);
        CHECK_STATUS(png_read_file(path, 0, &img), KILN_E_FORMAT);
        CHECK_MSG(path);
        CHECK(img.pixels == NULL);
    }
    if (start_rss && rss_peak_bytes()) {
        double grew_mb = ((double)rss_peak_bytes() - (double)start_rss) / 1048576.0;
        printf("bomb chunks: peak RSS %.1f MB above the start\n", grew_mb);
        CHECK(grew_mb < 100.0);
    }
}

/* A valid PNG carrying the ancillary chunks kiln skips (text, gamma, an
 * unknown private chunk) still decodes to the same pixels. */
static void test_skipped_chunks_decode(void)
{
    unsigned char pixels[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
    host_image src = { 2, 2, 3, 8, pixels }, got;
    char path[4096], spliced[4096];
    unsigned char *file, *out;
    size_t len, at;

    tmp_path(path, "plain-for-chunks.png");
    tmp_path(spliced, "with-chunks.png");
    CHECK_OK(png_write_file(path, &src));
    file = test_read_whole(path, &len);
    CHECK(file != NULL);
    if (!file)
        return;
    out = malloc(len + 128);
    CHECK(out != NULL);
    if (out) {
        static const unsigned char gama[4] = { 0, 0, 0xb1, 0x8f };
        memcpy(out, file, 33);             /* signature and IHDR */
        at = 33;
        put_chunk(out, &at, "tEXt", "Comment\0hello", 13);
        put_chunk(out, &at, "gAMA", gama, 4);
        put_chunk(out, &at, "quAk", "xyz", 3);
        memcpy(out + at, file + 33, len - 33);
        CHECK(test_write_whole(spliced, out, at + len - 33) == 0);
        CHECK_OK(png_read_file(spliced, 0, &got));
        CHECK(got.width == 2 && got.height == 2 && got.channels == 3 &&
              memcmp(got.pixels, pixels, sizeof(pixels)) == 0);
        host_image_free(&got);
        free(out);
    }
    free(file);
}

int main(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "%s", test_tmpdir("png"));
    test_bomb_chunks();
    test_skipped_chunks_decode();
    test_round_trip();
    test_memory();
    test_write_16bit_byte_order();
    test_write_level();
    test_low_bit_gray();
    test_palette();
    test_trns_color();
    test_interlaced();
    test_bad_files();
    test_limits();
    test_write_failures();
    test_atomic_file();
    return test_summary("test_png");
}
