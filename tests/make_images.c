/* make_images: writes synthetic test images (deterministic patterns).
 * Usage: make_images DIR COUNT WIDTH HEIGHT KIND [PREFIX [START STEP]]
 * KIND: gray8 ga8 rgb8 rgba8 gray16 rgb16 rgba16: colour gradients,
 * rings and a soft-edged disc in alpha, shifted per image; black8 /
 * white8: constant gray (masks without foreground or background); scene8:
 * RGB, a ringed disc with a wavy soft edge over a checkered background;
 * disc8: the hard (binary) mask of scene8's disc, as a coarse network mask
 * would give it.  Image i is named PREFIX%05d.png with the number START +
 * i * STEP (PREFIX default "img", START 0, STEP 1), so several kinds can
 * interleave in sorted order.  A KIND ending in ".jpg" (gray8.jpg,
 * rgb8.jpg, scene8.jpg, ...: 8-bit gray or RGB kinds only) writes JPEGs
 * instead (quality 90, 4:2:0 chroma), named PREFIX%05d.jpg.  The demo
 * images in conf/demo were made with it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "png_io.h"
#include "status.h"
#include "testutil.h"

/* Parses a kind into channels and bit depth; 0 when unknown. */
static int parse_kind(const char *kind, uint32_t *channels, uint32_t *depth)
{
    static const struct { const char *name; uint32_t channels, depth; } kinds[] = {
        { "gray8", 1, 8 }, { "ga8", 2, 8 }, { "rgb8", 3, 8 }, { "rgba8", 4, 8 },
        { "gray16", 1, 16 }, { "rgb16", 3, 16 }, { "rgba16", 4, 16 },
        { "black8", 1, 8 }, { "white8", 1, 8 }, { "scene8", 3, 8 }, { "disc8", 1, 8 },
    };
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (strcmp(kinds[i].name, kind) == 0) {
            *channels = kinds[i].channels;
            *depth = kinds[i].depth;
            return 1;
        }
    }
    return 0;
}

/* The value in [0,1] of channel c at (x, y) of image n. */
static double pattern(uint32_t n, uint32_t c, uint32_t channels, double x, double y)
{
    double cx = 0.5 + 0.2 * sin(n * 0.7), cy = 0.5 + 0.2 * cos(n * 1.3);
    double r = sqrt((x - cx) * (x - cx) + (y - cy) * (y - cy));
    int is_alpha = (channels == 2 && c == 1) || (channels == 4 && c == 3);
    if (is_alpha) {
        double edge = (0.35 - r) / 0.04; /* soft disc edge */
        return edge > 1 ? 1 : edge < 0 ? 0 : edge;
    }
    double ring = 0.5 + 0.5 * cos(r * 40.0 + n);
    switch (channels >= 3 ? c : 3) {
    case 0: return 0.2 + 0.6 * x * ring;
    case 1: return 0.1 + 0.8 * y;
    case 2: return 0.5 + 0.5 * sin(6.28 * (x + y) + n);
    default: return 0.3 + 0.4 * ring * y + 0.3 * x;
    }
}

/* The scene's alpha at (x, y) of image n: a disc with a wavy soft edge. */
static double scene_alpha(uint32_t n, double x, double y)
{
    double cx = 0.5 + 0.1 * sin(n * 0.7), cy = 0.5 + 0.1 * cos(n * 1.3);
    double r = sqrt((x - cx) * (x - cx) + (y - cy) * (y - cy));
    double edge = 0.3 + 0.03 * sin(12 * atan2(y - cy, x - cx) + n);
    double a = (edge - r) / 0.03;
    return a > 1 ? 1 : a < 0 ? 0 : a;
}

/* The value in [0,1] of channel c at (x, y) of image n of `kind`. */
static double kind_value(const char *kind, uint32_t n, uint32_t c, uint32_t channels, double x, double y)
{
    if (strcmp(kind, "white8") == 0)
        return 1.0;
    if (strcmp(kind, "black8") == 0)
        return 0.0;
    if (strcmp(kind, "disc8") == 0)
        return scene_alpha(n, x, y) >= 0.5 ? 1.0 : 0.0;
    if (strcmp(kind, "scene8") == 0) {
        double a = scene_alpha(n, x, y);
        double check = ((int)floor(x * 8) + (int)floor(y * 8)) % 2 ? 0.75 : 0.35;
        double background = check * (c == 0 ? 0.9 : c == 1 ? 0.8 : 0.5);
        return a * pattern(n, c, channels, x, y) + (1 - a) * background;
    }
    return pattern(n, c, channels, x, y);
}

/* Writes COUNT images into DIR. */
int main(int argc, char **argv)
{
    uint32_t channels, depth;
    host_image img = { 0 };
    char kind[64] = "";
    size_t kind_len = argc > 5 ? strlen(argv[5]) : 0;
    int jpeg = kind_len > 4 && strcmp(argv[5] + kind_len - 4, ".jpg") == 0;
    const char *prefix = argc > 6 ? argv[6] : "img";
    unsigned long start = argc > 7 ? strtoul(argv[7], NULL, 10) : 0;
    unsigned long step = argc > 8 ? strtoul(argv[8], NULL, 10) : 1;
    char path[4096];

    if (argc > 5)
        snprintf(kind, sizeof(kind), "%.*s", (int)(jpeg ? kind_len - 4 : kind_len), argv[5]);
    if (argc < 6 || !parse_kind(kind, &channels, &depth) ||
        (jpeg && (depth != 8 || (channels != 1 && channels != 3)))) {
        fprintf(stderr, "usage: make_images DIR COUNT WIDTH HEIGHT "
                "gray8|ga8|rgb8|rgba8|gray16|rgb16|rgba16|black8|white8|scene8|disc8"
                "[.jpg: 8-bit gray or RGB kinds] [PREFIX [START STEP]]\n");
        return 2;
    }
    unsigned long count = strtoul(argv[2], NULL, 10);
    uint32_t w = (uint32_t)strtoul(argv[3], NULL, 10), h = (uint32_t)strtoul(argv[4], NULL, 10);
    if (host_image_alloc(&img, w, h, channels, depth) != KILN_OK) {
        fprintf(stderr, "make_images: %s\n", kiln_last_error());
        return 1;
    }
    for (unsigned long n = 0; n < count; n++) {
        for (uint32_t y = 0; y < h; y++) {
            for (uint32_t x = 0; x < w; x++) {
                for (uint32_t c = 0; c < channels; c++) {
                    double v = kind_value(kind, (uint32_t)(start + n * step), c, channels,
                                          (x + 0.5) / w, (y + 0.5) / h);
                    size_t i = ((size_t)y * w + x) * channels + c;
                    if (depth == 8)
                        ((uint8_t *)img.pixels)[i] = (uint8_t)lrint(v * 255.0);
                    else
                        ((uint16_t *)img.pixels)[i] = (uint16_t)lrint(v * 65535.0);
                }
            }
        }
        snprintf(path, sizeof(path), "%s/%s%05lu.%s", argv[1], prefix, start + n * step,
                 jpeg ? "jpg" : "png");
        if (jpeg) {
            if (test_write_jpeg(path, &img, 90, TJSAMP_420) != 0) {
                host_image_free(&img);
                return 1;
            }
        } else if (png_write_file(path, &img) != KILN_OK) {
            fprintf(stderr, "make_images: %s\n", kiln_last_error());
            host_image_free(&img);
            return 1;
        }
    }
    host_image_free(&img);
    return 0;
}
