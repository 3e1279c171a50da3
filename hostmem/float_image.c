/* Float image files (see float_image.h). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "atomic_file.h"
#include "float_image.h"
#include "status.h"

/* Whether name ends with ext, ignoring case. */
static int ends_with(const char *name, const char *ext)
{
    size_t n = strlen(name), e = strlen(ext);
    return n > e && strcasecmp(name + n - e, ext) == 0;
}

/* Whether path names a float image. */
int float_image_path(const char *path)
{
    return ends_with(path, ".f32") || ends_with(path, ".pfm");
}

/* Writes a uint32 little-endian. */
static void put_u32(FILE *fp, uint32_t v)
{
    unsigned char b[4] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                           (unsigned char)(v >> 24) };
    fwrite(b, 1, 4, fp);
}

/* Writes a float little-endian. */
static void put_f32(FILE *fp, float f)
{
    uint32_t v;
    memcpy(&v, &f, sizeof(v));
    put_u32(fp, v);
}

/* Writes a float image. */
kiln_status float_image_write(const char *path, const float *planar, uint32_t width,
                              uint32_t height, uint32_t channels)
{
    size_t plane = (size_t)width * height;
    int pfm = ends_with(path, ".pfm");
    atomic_file af;
    kiln_status st;

    if (pfm && channels != 1 && channels != 3)
        return kiln_fail(KILN_E_INVAL, "%s: a PFM file holds 1 or 3 channels, not %u (use .f32)",
                         path, channels);
    st = atomic_file_open(&af, path);
    if (st != KILN_OK)
        return st;
    if (pfm) {
        fprintf(af.fp, "%s\n%u %u\n-1.0\n", channels == 3 ? "PF" : "Pf", width, height);
        for (uint32_t y = height; y-- > 0;)
            for (uint32_t x = 0; x < width; x++)
                for (uint32_t c = 0; c < channels; c++)
                    put_f32(af.fp, planar[c * plane + (size_t)y * width + x]);
    } else {
        fwrite("F32I", 1, 4, af.fp);
        put_u32(af.fp, height);
        put_u32(af.fp, width);
        put_u32(af.fp, channels);
        for (size_t p = 0; p < plane; p++)
            for (uint32_t c = 0; c < channels; c++)
                put_f32(af.fp, planar[c * plane + p]);
    }
    return atomic_file_commit(&af);
}
