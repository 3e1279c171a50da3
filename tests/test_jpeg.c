/* JPEG decoding (jpeg_read_file, jpeg_read_info) and the format dispatcher
 * (image_read_file, image_read_header): round trips of RGB (4:4:4, 4:2:0,
 * progressive) and gray JPEGs written by tjCompress2, the decode settings
 * (accurate IDCT, fancy upsampling), a header beyond the first read, EXIF
 * orientation left alone, the pixel limit checked before any decoding,
 * truncated and garbage data failing without a partial image, CMYK
 * refused, and the choice of decoder by signature rather than name. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "image_read.h"
#include "jpeg_io.h"
#include "png_io.h"
#include "rss.h"
#include "testutil.h"

#define W 64
#define H 48

static char tmpdir[2048];

/* Formats "<tmpdir>/<name>" into buf (4096 bytes) and returns buf. */
static char *tmp_path(char *buf, const char *name)
{
    snprintf(buf, 4096, "%s/%s", tmpdir, name);
    return buf;
}

/* Fills an 8-bit image of `channels` (1 or 3) with smooth gradients. */
static void make_gradient(host_image *img, uint32_t channels)
{
    CHECK_OK(host_image_alloc(img, W, H, channels, 8));
    if (!img->pixels)
        return;
    for (uint32_t y = 0; y < H; y++) {
        for (uint32_t x = 0; x < W; x++) {
            uint8_t *p = (uint8_t *)img->pixels + ((size_t)y * W + x) * channels;

            if (channels == 1) {
                p[0] = (uint8_t)(40 + (x * 150) / (W - 1) + (y * 50) / (H - 1));
            } else {
                p[0] = (uint8_t)((x * 255) / (W - 1));
                p[1] = (uint8_t)((y * 255) / (H - 1));
                p[2] = (uint8_t)(((x + y) * 255) / (W + H - 2));
            }
        }
    }
}

/* Largest absolute difference between two images' samples, or 256 when
 * their shapes differ. */
static int max_abs_diff(const host_image *a, const host_image *b)
{
    size_t n = host_image_bytes(a);
    int worst = 0;

    if (!a->pixels || !b->pixels || a->width != b->width || a->height != b->height ||
        a->channels != b->channels || a->bit_depth != b->bit_depth)
        return 256;
    for (size_t i = 0; i < n; i++) {
        int d = abs((int)((const uint8_t *)a->pixels)[i] - (int)((const uint8_t *)b->pixels)[i]);
        if (d > worst)
            worst = d;
    }
    return worst;
}

/* Whether an image is all zero fields (what a failed read leaves). */
static int is_zeroed(const host_image *img)
{
    return img->pixels == NULL && img->width == 0 && img->height == 0 &&
           img->channels == 0 && img->bit_depth == 0;
}

/* Decodes `path` with TurboJPEG directly using `flags`, into a
 * malloc'd buffer of the image's size; NULL on failure. */
static unsigned char *tj_decode(const char *path, int channels, int flags)
{
    size_t len;
    unsigned char *jpeg = test_read_whole(path, &len);
    unsigned char *pixels = malloc((size_t)W * H * (size_t)channels);
    tjhandle tj = tjInitDecompress();
    int ok = jpeg && pixels && tj &&
             tjDecompress2(tj, jpeg, (unsigned long)len, pixels, W, 0, H,
                           channels == 1 ? TJPF_GRAY : TJPF_RGB, flags) == 0;

    if (tj)
        tjDestroy(tj);
    free(jpeg);
    if (!ok) {
        free(pixels);
        return NULL;
    }
    return pixels;
}

/* RGB at quality 100 comes back close to the source (4:4:4 closer than
 * 4:2:0, progressive as close as baseline), as 8-bit RGB, with the shape
 * jpeg_read_info and image_read_header announce; the decode is TurboJPEG's
 * accurate IDCT with fancy upsampling, not the fast variants. */
static void test_rgb_round_trip(void)
{
    static const struct { const char *name; int subsamp, flags, tolerance; } cases[] = {
        { "rgb444.jpg", TJSAMP_444, 0, 5 },    /* 4 seen: colour conversion rounding */
        { "rgb420.jpg", TJSAMP_420, 0, 8 },    /* 4 seen: smooth chroma upsamples well */
        { "rgb422.jpg", TJSAMP_422, 0, 8 },
        { "progressive.jpg", TJSAMP_420, TJFLAG_PROGRESSIVE, 8 },
    };
    host_image src, img, info;
    char path[4096];

    make_gradient(&src, 3);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned char *accurate, *fast;
        int diff;

        tmp_path(path, cases[i].name);
        if (cases[i].flags) {
            /* progressive: compressed here with the flag */
            tjhandle tj = tjInitCompress();
            unsigned char *jpeg = NULL;
            unsigned long size = 0;

            CHECK(tj && tjCompress2(tj, src.pixels, W, 0, H, TJPF_RGB, &jpeg, &size,
                                    cases[i].subsamp, 100,
                                    TJFLAG_ACCURATEDCT | cases[i].flags) == 0);
            CHECK(jpeg && test_write_whole(path, jpeg, size) == 0);
            tjFree(jpeg);
            if (tj)
                tjDestroy(tj);
        } else {
            CHECK(test_write_jpeg(path, &src, 100, cases[i].subsamp) == 0);
        }
        CHECK_OK(jpeg_read_info(path, 0, &info));
        CHECK(info.width == W && info.height == H && info.channels == 3 &&
              info.bit_depth == 8 && info.pixels == NULL);
        CHECK_OK(image_read_header(path, 0, &info));
        CHECK(info.width == W && info.height == H && info.channels == 3 && info.pixels == NULL);
        CHECK_OK(jpeg_read_file(path, 0, &img));
        diff = max_abs_diff(&src, &img);
        CHECK(diff <= cases[i].tolerance);
        if (diff > cases[i].tolerance)
            fprintf(stderr, "  %s: max abs diff %d > %d\n", cases[i].name, diff,
                    cases[i].tolerance);
        accurate = tj_decode(path, 3, TJFLAG_ACCURATEDCT);
        fast = tj_decode(path, 3, TJFLAG_FASTUPSAMPLE | TJFLAG_FASTDCT);
        CHECK(accurate && img.pixels && memcmp(accurate, img.pixels, host_image_bytes(&img)) == 0);
        if (cases[i].subsamp == TJSAMP_420)
            CHECK(fast && img.pixels && memcmp(fast, img.pixels, host_image_bytes(&img)) != 0);
        free(accurate);
        free(fast);
        host_image_free(&img);
        CHECK_OK(image_read_file(path, 0, &img));
        CHECK(max_abs_diff(&src, &img) == diff);
        host_image_free(&img);
    }
    host_image_free(&src);
}

/* A grayscale JPEG decodes to one 8-bit channel. */
static void test_gray(void)
{
    host_image src, img, info;
    char path[4096];
    int diff;

    make_gradient(&src, 1);
    tmp_path(path, "gray.jpg");
    CHECK(test_write_jpeg(path, &src, 100, TJSAMP_444) == 0);
    CHECK_OK(image_read_header(path, 0, &info));
    CHECK(info.width == W && info.height == H && info.channels == 1 && info.bit_depth == 8);
    CHECK_OK(image_read_file(path, 0, &img));
    CHECK(img.channels == 1 && img.bit_depth == 8);
    diff = max_abs_diff(&src, &img);
    CHECK(diff <= 2);
    if (diff > 2)
        fprintf(stderr, "  gray: max abs diff %d\n", diff);
    host_image_free(&img);
    host_image_free(&src);
}

/* Offset of the first SOFn marker (FF C0..CF but C4, C8, CC) in a JPEG
 * walked segment by segment from SOI; 0 when there is none. */
static size_t find_sof(const unsigned char *d, size_t len)
{
    size_t pos = 2;

    while (pos + 4 <= len && d[pos] == 0xff) {
        unsigned char m = d[pos + 1];
        size_t seg = ((size_t)d[pos + 2] << 8) | d[pos + 3];

        if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc)
            return pos;
        pos += 2 + seg;
    }
    return 0;
}

/* Writes the gradient as `name` with the SOF's height and width replaced,
 * so the header claims a size the data does not have. */
static void write_patched_size(const char *name, uint16_t width, uint16_t height, char *path)
{
    host_image src;
    unsigned char *data;
    size_t len, sof;

    make_gradient(&src, 3);
    tmp_path(path, name);
    CHECK(test_write_jpeg(path, &src, 90, TJSAMP_420) == 0);
    host_image_free(&src);
    data = test_read_whole(path, &len);
    CHECK(data != NULL);
    if (!data)
        return;
    sof = find_sof(data, len);
    CHECK(sof > 0 && sof + 9 <= len);
    if (sof > 0 && sof + 9 <= len) {
        data[sof + 5] = (unsigned char)(height >> 8);
        data[sof + 6] = (unsigned char)height;
        data[sof + 7] = (unsigned char)(width >> 8);
        data[sof + 8] = (unsigned char)width;
    }
    CHECK(test_write_whole(path, data, len) == 0);
    free(data);
}

/* A header claiming 65000x65000 pixels is refused from the header alone,
 * before any pixel buffer exists (a 12 GB one would be needed): the
 * status is the limit's, not an allocation failure or a decode error, and
 * the peak RSS does not move.  A claim within the limit but larger than
 * the data fails as truncated data. */
static void test_pixel_limit(void)
{
    host_image img;
    char path[4096];
    size_t peak_before;

    write_patched_size("huge.jpg", 65000, 65000, path);
    peak_before = rss_peak_bytes();
    memset(&img, 0xab, sizeof(img));
    CHECK_STATUS(jpeg_read_file(path, 0, &img), KILN_E_LIMIT);
    CHECK(is_zeroed(&img));
    CHECK_MSG(path);
    CHECK_MSG("image is 65000x65000 = 4225000000 pixels, more than the limit of "
              "256000000 (max_pixels)");
    CHECK_STATUS(jpeg_read_info(path, 0, &img), KILN_E_LIMIT);
    CHECK_STATUS(image_read_file(path, 0, &img), KILN_E_LIMIT);
    CHECK_MSG("max_pixels");
    CHECK_STATUS(image_read_header(path, 0, &img), KILN_E_LIMIT);
    CHECK(is_zeroed(&img));
    CHECK(rss_peak_bytes() < peak_before + ((size_t)64 << 20));

    /* the limit is the caller's: exactly W*H passes, one less does not */
    tmp_path(path, "limit.jpg");
    {
        host_image src;

        make_gradient(&src, 3);
        CHECK(test_write_jpeg(path, &src, 90, TJSAMP_444) == 0);
        host_image_free(&src);
    }
    CHECK_STATUS(jpeg_read_file(path, (uint64_t)W * H - 1, &img), KILN_E_LIMIT);
    CHECK_MSG("max_pixels");
    CHECK_OK(jpeg_read_file(path, (uint64_t)W * H, &img));
    host_image_free(&img);

    /* 300x200 claimed, 64x48 of data: within the limit, then truncated */
    write_patched_size("tall.jpg", 300, 200, path);
    CHECK_STATUS(jpeg_read_file(path, 0, &img), KILN_E_FORMAT);
    CHECK(is_zeroed(&img));
    CHECK_MSG(path);
    CHECK_STATUS(jpeg_read_file(path, 300 * 200 - 1, &img), KILN_E_LIMIT);
}

/* A file cut anywhere fails with KILN_E_FORMAT naming it (never a crash or
 * a partial image); cut after the header, jpeg_read_info still gives the
 * shape and only the decode fails.  Baseline and progressive alike. */
static void test_truncated(void)
{
    static const char *const sources[] = { "rgb420.jpg", "progressive.jpg", "gray.jpg" };
    char src_path[4096], path[4096];

    for (size_t s = 0; s < sizeof(sources) / sizeof(sources[0]); s++) {
        size_t len, sof;
        unsigned char *data = test_read_whole(tmp_path(src_path, sources[s]), &len);
        size_t cuts[10];

        CHECK(data != NULL && len > 400);
        if (!data || len <= 400) {
            free(data);
            continue;
        }
        sof = find_sof(data, len);
        cuts[0] = 1;
        cuts[1] = 2;
        cuts[2] = 3;
        cuts[3] = sof + 4;          /* inside the SOF */
        cuts[4] = len / 4;
        cuts[5] = len / 2;
        cuts[6] = (3 * len) / 4;
        cuts[7] = len - 40;
        cuts[8] = len - 2;          /* all scan data, no EOI */
        cuts[9] = len - 1;
        tmp_path(path, "cut.jpg");
        for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
            host_image img;

            CHECK(test_write_whole(path, data, cuts[c]) == 0);
            memset(&img, 0xab, sizeof(img));
            CHECK_STATUS(jpeg_read_file(path, 0, &img), KILN_E_FORMAT);
            CHECK(is_zeroed(&img));
            CHECK_MSG(path);
            if (cuts[c] > 3)
                CHECK_MSG("truncated or corrupt JPEG data");
            CHECK_STATUS(image_read_file(path, 0, &img), KILN_E_FORMAT);
            CHECK(is_zeroed(&img));
            if (cuts[c] >= len / 2) {
                CHECK_OK(jpeg_read_info(path, 0, &img));
                CHECK(img.width == W && img.height == H && img.pixels == NULL);
            }
        }
        free(data);
    }
}

/* Garbage after an SOI marker, an empty file, a missing file and a PNG
 * given to the JPEG reader fail with the right status and the path. */
static void test_garbage(void)
{
    unsigned char junk[300];
    host_image img;
    char path[4096];

    junk[0] = 0xff;
    junk[1] = 0xd8;
    test_rng_seed(7);
    for (size_t i = 2; i < sizeof(junk); i++)
        junk[i] = (unsigned char)test_rng_next();
    tmp_path(path, "garbage.jpg");
    CHECK(test_write_whole(path, junk, sizeof(junk)) == 0);
    CHECK_STATUS(jpeg_read_file(path, 0, &img), KILN_E_FORMAT);
    CHECK(is_zeroed(&img));
    CHECK_MSG(path);
    CHECK_MSG("truncated or corrupt JPEG data");
    CHECK_STATUS(jpeg_read_info(path, 0, &img), KILN_E_FORMAT);
    CHECK_STATUS(image_read_file(path, 0, &img), KILN_E_FORMAT);
    CHECK_MSG("JPEG");

    /* SOI, then a valid marker with nonsense inside */
    junk[2] = 0xff;
    junk[3] = 0xdb;          /* DQT */
    junk[4] = 0x00;
    junk[5] = 0x05;          /* too short for a table */
    CHECK(test_write_whole(path, junk, sizeof(junk)) == 0);
    CHECK_STATUS(jpeg_read_file(path, 0, &img), KILN_E_FORMAT);
    CHECK(is_zeroed(&img));

    tmp_path(path, "empty.jpg");
    CHECK(test_write_whole(path, junk, 0) == 0);
    CHECK_STATUS(jpeg_read_file(path, 0, &img), KILN_E_FORMAT);
    CHECK_MSG("empty file");
    CHECK_STATUS(image_read_file(path, 0, &img), KILN_E_FORMAT);
    CHECK_MSG("empty file, not a PNG or JPEG file");

    tmp_path(path, "missing.jpg");
    CHECK_STATUS(jpeg_read_file(path, 0, &img), KILN_E_IO);
    CHECK_MSG(path);
    CHECK_STATUS(image_read_header(path, 0, &img), KILN_E_IO);
    CHECK_MSG(path);

    make_gradient(&img, 3);
    tmp_path(path, "real_png.png");
    CHECK_OK(png_write_file(path, &img));
    host_image_free(&img);
    CHECK_STATUS(jpeg_read_file(path, 0, &img), KILN_E_FORMAT);
    CHECK_MSG("not a JPEG file");
}

/* A CMYK (Adobe YCCK) JPEG is refused with a message that says so. */
static void test_cmyk(void)
{
    unsigned char *cmyk = calloc((size_t)W * H, 4), *jpeg = NULL;
    unsigned long size = 0;
    tjhandle tj = tjInitCompress();
    host_image img;
    char path[4096];

    CHECK(cmyk && tj);
    if (!cmyk || !tj)
        goto out;
    CHECK(tjCompress2(tj, cmyk, W, 0, H, TJPF_CMYK, &jpeg, &size, TJSAMP_444, 90, 0) == 0);
    tmp_path(path, "cmyk.jpg");
    CHECK(jpeg && test_write_whole(path, jpeg, size) == 0);
    CHECK_STATUS(jpeg_read_file(path, 0, &img), KILN_E_FORMAT);
    CHECK(is_zeroed(&img));
    CHECK_MSG(path);
    CHECK_MSG("CMYK JPEG is not supported");
    CHECK_STATUS(image_read_header(path, 0, &img), KILN_E_FORMAT);
    CHECK_MSG("CMYK");
out:
    tjFree(jpeg);
    if (tj)
        tjDestroy(tj);
    free(cmyk);
}

/* Writes `base` (a JPEG in tmpdir) as `name` with `segments` inserted
 * right after its SOI marker. */
static void insert_after_soi(const char *base, const char *name, const unsigned char *segments,
                             size_t nseg, char *path)
{
    char base_path[4096];
    size_t len;
    unsigned char *data = test_read_whole(tmp_path(base_path, base), &len);
    unsigned char *out = malloc(len + nseg);

    CHECK(data && out);
    if (data && out) {
        memcpy(out, data, 2);
        memcpy(out + 2, segments, nseg);
        memcpy(out + 2 + nseg, data + 2, len - 2);
        CHECK(test_write_whole(tmp_path(path, name), out, len + nseg) == 0);
    }
    free(out);
    free(data);
}

/* The source pixel that output pixel (ox, oy) of an image turned upright
 * for EXIF `orientation` shows, as PIL's exif_transpose maps it (an
 * inverse mapping, written apart from the decoder's forward one). */
static void exif_source(int orientation, uint32_t ox, uint32_t oy, uint32_t *sx, uint32_t *sy)
{
    switch (orientation) {
    case 2: *sx = W - 1 - ox; *sy = oy; break;              /* FLIP_LEFT_RIGHT */
    case 3: *sx = W - 1 - ox; *sy = H - 1 - oy; break;      /* ROTATE_180 */
    case 4: *sx = ox; *sy = H - 1 - oy; break;              /* FLIP_TOP_BOTTOM */
    case 5: *sx = oy; *sy = ox; break;                      /* TRANSPOSE */
    case 6: *sx = oy; *sy = H - 1 - ox; break;              /* ROTATE_270 (90 cw) */
    case 7: *sx = W - 1 - oy; *sy = H - 1 - ox; break;      /* TRANSVERSE */
    case 8: *sx = W - 1 - oy; *sy = ox; break;              /* ROTATE_90 (90 ccw) */
    default: *sx = ox; *sy = oy; break;
    }
}

/* Whether `turned` is `plain` turned upright for `orientation`. */
static int is_turned(const host_image *plain, const host_image *turned, int orientation)
{
    int swaps = orientation >= 5;
    if (!turned->pixels || turned->width != (swaps ? H : W) || turned->height != (swaps ? W : H) ||
        turned->channels != plain->channels)
        return 0;
    for (uint32_t oy = 0; oy < turned->height; oy++) {
        for (uint32_t ox = 0; ox < turned->width; ox++) {
            uint32_t sx, sy;
            exif_source(orientation, ox, oy, &sx, &sy);
            if (memcmp((const uint8_t *)turned->pixels + ((size_t)oy * turned->width + ox) * 3,
                       (const uint8_t *)plain->pixels + ((size_t)sy * W + sx) * 3, 3) != 0)
                return 0;
        }
    }
    return 1;
}

/* The EXIF orientation is applied, as rembg's remove() applies it: for
 * each tag 1..8, in little- and big-endian TIFF, the image comes back
 * turned upright (sides swapped for 5..8, in the header too); a malformed
 * tag leaves the stored pixels.  Two 64 KB APP segments before the frame
 * header push it past the first read: the header is found in the whole
 * file. */
static void test_exif_and_big_header(void)
{
    unsigned char exif[] = {
        0xff, 0xe1, 0x00, 0x22,                      /* APP1, 34 bytes */
        'E', 'x', 'i', 'f', 0, 0,
        'I', 'I', 0x2a, 0x00, 0x08, 0x00, 0x00, 0x00, /* TIFF, IFD at 8 */
        0x01, 0x00,                                  /* one entry */
        0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00                       /* no next IFD */
    };
    static const unsigned char exif_be[] = {
        0xff, 0xe1, 0x00, 0x22, 'E', 'x', 'i', 'f', 0, 0,
        'M', 'M', 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08, 0x00, 0x01,
        0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x08, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00
    };
    size_t big = 2 * (2 + 65535);
    unsigned char *segments = calloc(big, 1);
    host_image plain, rotated, img;
    char path[4096];

    CHECK_OK(jpeg_read_file(tmp_path(path, "rgb420.jpg"), 0, &plain));
    for (int o = 1; o <= 8; o++) {
        exif[28] = (unsigned char)o;
        insert_after_soi("rgb420.jpg", "exif.jpg", exif, sizeof(exif), path);
        CHECK_OK(jpeg_read_file(path, 0, &rotated));
        CHECK(is_turned(&plain, &rotated, o));
        host_image_free(&rotated);
        CHECK_OK(image_read_header(path, 0, &img));
        CHECK(img.width == (o >= 5 ? H : W) && img.height == (o >= 5 ? W : H));
    }
    insert_after_soi("rgb420.jpg", "exif_be.jpg", exif_be, sizeof(exif_be), path);
    CHECK_OK(jpeg_read_file(path, 0, &rotated));
    CHECK(is_turned(&plain, &rotated, 8));
    host_image_free(&rotated);
    exif[22] = 0x04;                                 /* type LONG: malformed */
    exif[28] = 6;
    insert_after_soi("rgb420.jpg", "exif_bad.jpg", exif, sizeof(exif), path);
    CHECK_OK(jpeg_read_file(path, 0, &rotated));
    CHECK(is_turned(&plain, &rotated, 1));
    host_image_free(&rotated);

    CHECK(segments != NULL);
    if (segments) {
        for (size_t s = 0; s < 2; s++) {
            unsigned char *seg = segments + s * (2 + 65535);
            seg[0] = 0xff;
            seg[1] = (unsigned char)(0xe2 + s);   /* APP2, APP3 */
            seg[2] = 0xff;
            seg[3] = 0xff;                        /* 65535 bytes with the length */
        }
        insert_after_soi("rgb420.jpg", "big_header.jpg", segments, big, path);
        CHECK_OK(jpeg_read_info(path, 0, &img));
        CHECK(img.width == W && img.height == H);
        CHECK_OK(image_read_file(path, 0, &img));
        CHECK(max_abs_diff(&plain, &img) == 0);
        host_image_free(&img);
        CHECK_STATUS(jpeg_read_info(path, W * H - 1, &img), KILN_E_LIMIT);
    }
    free(segments);
    host_image_free(&plain);
}

/* The dispatcher goes by signature: a PNG named .jpg reads as the PNG
 * (16-bit RGBA here, which no JPEG gives), a JPEG named .png as the JPEG;
 * anything else is "not a PNG or JPEG file" naming it. */
static void test_dispatch(void)
{
    host_image src, img;
    char path[4096], png_path[4096];
    unsigned char *data;
    size_t len;

    CHECK_OK(host_image_alloc(&src, 9, 7, 4, 16));
    if (src.pixels)
        for (size_t i = 0; i < (size_t)9 * 7 * 4; i++)
            ((uint16_t *)src.pixels)[i] = (uint16_t)(i * 997);
    tmp_path(path, "really_png.jpg");
    CHECK_OK(png_write_file(path, &src));
    CHECK_OK(image_read_header(path, 0, &img));
    CHECK(img.width == 9 && img.channels == 4 && img.bit_depth == 16);
    CHECK_OK(image_read_file(path, 0, &img));
    CHECK(img.pixels && memcmp(img.pixels, src.pixels, host_image_bytes(&src)) == 0);
    host_image_free(&img);
    host_image_free(&src);

    /* a JPEG named .png */
    data = test_read_whole(tmp_path(path, "gray.jpg"), &len);
    CHECK(data != NULL);
    tmp_path(png_path, "really_jpeg.png");
    CHECK(data && test_write_whole(png_path, data, len) == 0);
    free(data);
    CHECK_OK(image_read_file(png_path, 0, &img));
    CHECK(img.width == W && img.height == H && img.channels == 1 && img.bit_depth == 8);
    host_image_free(&img);

    /* unknown signatures */
    tmp_path(path, "anim.gif");
    test_write_text(path, "GIF89a and more");
    CHECK_STATUS(image_read_file(path, 0, &img), KILN_E_FORMAT);
    CHECK(is_zeroed(&img));
    CHECK_MSG(path);
    CHECK_MSG("not a PNG or JPEG file");
    CHECK_STATUS(image_read_header(path, 0, &img), KILN_E_FORMAT);
    CHECK_MSG("not a PNG or JPEG file");
    tmp_path(path, "text.png");
    test_write_text(path, "x");
    CHECK_STATUS(image_read_file(path, 0, &img), KILN_E_FORMAT);
    CHECK_MSG("not a PNG or JPEG file");

    /* a start of a PNG signature goes to the PNG reader: truncated */
    tmp_path(path, "short.png");
    CHECK(test_write_whole(path, "\x89PN", 3) == 0);
    CHECK_STATUS(image_read_file(path, 0, &img), KILN_E_FORMAT);
    CHECK_MSG("PNG");

    CHECK_STATUS(image_read_file(NULL, 0, &img), KILN_E_INVAL);
    CHECK_STATUS(image_read_file(path, 0, NULL), KILN_E_INVAL);
    CHECK_STATUS(jpeg_read_file(NULL, 0, &img), KILN_E_INVAL);
}

/* Runs every JPEG test in a scratch directory. */
int main(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "%s", test_tmpdir("jpeg"));
    test_rgb_round_trip();
    test_gray();
    test_pixel_limit();
    test_truncated();
    test_garbage();
    test_cmyk();
    test_exif_and_big_header();
    test_dispatch();
    return test_summary("test_jpeg");
}
