/* EXIF orientation of JPEG files (see exif_orient.h). */
#include <stdint.h>
#include <string.h>

#include "exif_orient.h"
#include "status.h"

/* The TIFF tag of the orientation, and its type SHORT. */
#define TAG_ORIENTATION 0x0112
#define TIFF_SHORT 3

/* A 16- or 32-bit value of TIFF data in its byte order. */
static uint32_t tiff_u16(const unsigned char *p, int big)
{
    return big ? ((uint32_t)p[0] << 8 | p[1]) : ((uint32_t)p[1] << 8 | p[0]);
}

static uint32_t tiff_u32(const unsigned char *p, int big)
{
    return big ? ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3])
               : ((uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0]);
}

/* The orientation in a TIFF block (the APP1 payload after "Exif\0\0"):
 * IFD0's tag 0x0112; 1 when absent or malformed. */
static int tiff_orientation(const unsigned char *t, size_t n)
{
    int big;
    uint32_t ifd, count;

    if (n < 8)
        return 1;
    if (memcmp(t, "II*\0", 4) == 0)
        big = 0;
    else if (memcmp(t, "MM\0*", 4) == 0)
        big = 1;
    else
        return 1;
    ifd = tiff_u32(t + 4, big);
    if (ifd > n - 2)
        return 1;
    count = tiff_u16(t + ifd, big);
    for (uint32_t i = 0; i < count; i++) {
        size_t at = (size_t)ifd + 2 + (size_t)i * 12;
        uint32_t value;
        if (at + 12 > n)
            return 1;
        if (tiff_u16(t + at, big) != TAG_ORIENTATION)
            continue;
        if (tiff_u16(t + at + 2, big) != TIFF_SHORT || tiff_u32(t + at + 4, big) < 1)
            return 1;
        value = tiff_u16(t + at + 8, big);
        return value >= 1 && value <= 8 ? (int)value : 1;
    }
    return 1;
}

/* Walks the markers before the first scan for APP1 "Exif". */
int exif_orientation(const unsigned char *data, size_t len, size_t *needed)
{
    size_t at = 2;

    *needed = 0;
    if (len < 4 || data[0] != 0xff || data[1] != 0xd8)
        return 1;
    while (at + 4 <= len) {
        unsigned marker, seglen;
        if (data[at] != 0xff)
            return 1;
        marker = data[at + 1];
        if (marker == 0xff) {          /* fill byte */
            at++;
            continue;
        }
        if (marker == 0xda || marker == 0xd9)   /* start of scan, end of image */
            return 1;
        seglen = (unsigned)data[at + 2] << 8 | data[at + 3];
        if (seglen < 2)
            return 1;
        if (marker == 0xe1 && seglen >= 8) {
            if (at + 2 + seglen > len) {
                *needed = at + 2 + seglen;
                return 1;
            }
            if (memcmp(data + at + 4, "Exif\0\0", 6) == 0)
                return tiff_orientation(data + at + 10, seglen - 8);
        }
        at += 2 + (size_t)seglen;
    }
    return 1;
}

/* Whether the turn swaps the sides. */
int exif_orientation_swaps(int orientation)
{
    return orientation >= 5 && orientation <= 8;
}

/* Turns the image upright. */
kiln_status exif_orient_apply(host_image *img, int orientation)
{
    host_image out;
    size_t px;
    uint32_t w = img->width, h = img->height;
    kiln_status st;

    if (orientation < 2 || orientation > 8)
        return KILN_OK;
    px = (size_t)img->channels * (img->bit_depth / 8u);
    st = exif_orientation_swaps(orientation)
             ? host_image_alloc(&out, h, w, img->channels, img->bit_depth)
             : host_image_alloc(&out, w, h, img->channels, img->bit_depth);
    if (st != KILN_OK)
        return kiln_fail_context(st, "turning the image upright (EXIF orientation %d)",
                                 orientation);
    for (uint32_t y = 0; y < h; y++) {
        const unsigned char *row = (const unsigned char *)img->pixels + (size_t)y * w * px;
        for (uint32_t x = 0; x < w; x++) {
            uint32_t ox, oy;
            switch (orientation) {
            case 2: ox = w - 1 - x; oy = y; break;
            case 3: ox = w - 1 - x; oy = h - 1 - y; break;
            case 4: ox = x; oy = h - 1 - y; break;
            case 5: ox = y; oy = x; break;
            case 6: ox = h - 1 - y; oy = x; break;
            case 7: ox = h - 1 - y; oy = w - 1 - x; break;
            default: ox = y; oy = w - 1 - x; break;   /* 8 */
            }
            memcpy((unsigned char *)out.pixels + ((size_t)oy * out.width + ox) * px,
                   row + (size_t)x * px, px);
        }
    }
    host_image_free(img);
    *img = out;
    return KILN_OK;
}
