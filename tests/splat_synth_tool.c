/* Writes a synthetic scene (splat_synth.h) as an Inria PLY:
 *   splat_synth_tool OUT.ply N SEED [SH_DEGREE] [TILES]
 * N Gaussians per grid cell, TILES^3 cells (default 1), SH degree
 * default 3.  The bytes are written here (binary little-endian float32,
 * x y z nx ny nz f_dc_0..2 f_rest_* opacity scale_0..2 rot_0..3, f_rest
 * channel-major). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "splat_synth.h"

/* Appends float v little-endian to out[*at]. */
static void f32_put(unsigned char *out, size_t *at, float v)
{
    uint32_t u;

    memcpy(&u, &v, sizeof(u));
    for (int b = 0; b < 4; b++)
        out[(*at)++] = (unsigned char)(u >> (8 * b));
}

/* Writes the PLY header for `scene` to f.  Returns 0, or -1 on a write
 * error. */
static int header_write(FILE *f, const splat_scene *scene)
{
    static const char *const head[] = {"x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1",
                                       "f_dc_2"};
    static const char *const tail[] = {"opacity", "scale_0", "scale_1", "scale_2",
                                       "rot_0",   "rot_1",   "rot_2",   "rot_3"};
    uint32_t rest = 3 * (scene->sh_coeffs - 1);
    int bad = fprintf(f, "ply\nformat binary_little_endian 1.0\nelement vertex %zu\n",
                      scene->count) < 0;

    for (size_t p = 0; p < sizeof(head) / sizeof(head[0]); p++)
        bad |= fprintf(f, "property float %s\n", head[p]) < 0;
    for (uint32_t p = 0; p < rest; p++)
        bad |= fprintf(f, "property float f_rest_%u\n", p) < 0;
    for (size_t p = 0; p < sizeof(tail) / sizeof(tail[0]); p++)
        bad |= fprintf(f, "property float %s\n", tail[p]) < 0;
    bad |= fputs("end_header\n", f) < 0;
    return bad ? -1 : 0;
}

/* Writes the vertex records of `scene` to f.  Returns 0, or -1 on a
 * write or memory error. */
static int body_write(FILE *f, const splat_scene *scene)
{
    uint32_t coeffs = scene->sh_coeffs;
    size_t per = 4 * (size_t)(3 + 3 + 3 * coeffs + 1 + 3 + 4);
    unsigned char *rec = malloc(per);
    int bad = 0;

    if (!rec)
        return -1;
    for (size_t i = 0; i < scene->count && !bad; i++) {
        size_t at = 0;
        for (int a = 0; a < 3; a++)
            f32_put(rec, &at, scene->means[i * 3 + a]);
        for (int a = 0; a < 3; a++)
            f32_put(rec, &at, scene->normals[i * 3 + a]);
        for (int c = 0; c < 3; c++)
            f32_put(rec, &at, scene->sh[(i * coeffs) * 3 + c]);
        for (int c = 0; c < 3; c++)
            for (uint32_t k = 1; k < coeffs; k++)
                f32_put(rec, &at, scene->sh[(i * coeffs + k) * 3 + c]);
        f32_put(rec, &at, scene->opacity[i]);
        for (int a = 0; a < 3; a++)
            f32_put(rec, &at, scene->scales[i * 3 + a]);
        for (int a = 0; a < 4; a++)
            f32_put(rec, &at, scene->rotations[i * 4 + a]);
        bad = fwrite(rec, 1, per, f) != per;
    }
    free(rec);
    return bad ? -1 : 0;
}

/* Parses the decimal argument `text` into *out.  Returns 0, or -1 when it
 * is not a whole non-negative number. */
static int arg_parse(const char *text, unsigned long long *out)
{
    char *end;

    if (!*text || *text == '-')
        return -1;
    *out = strtoull(text, &end, 10);
    return *end ? -1 : 0;
}

/* Parses the arguments, generates and writes.  Exit 0, 1 on error, 2 on
 * usage. */
int main(int argc, char **argv)
{
    splat_synth_options opt;
    unsigned long long v[4] = {0, 0, 3, 1};
    splat_scene scene;
    FILE *f;
    int bad;

    if (argc < 4 || argc > 6) {
        fprintf(stderr, "usage: %s OUT.ply N SEED [SH_DEGREE] [TILES]\n", argv[0]);
        return 2;
    }
    if (arg_parse(argv[2], &v[0]) || arg_parse(argv[3], &v[1]) ||
        (argc > 4 && arg_parse(argv[4], &v[2])) || (argc > 5 && arg_parse(argv[5], &v[3])) ||
        v[0] > SIZE_MAX || v[2] > SPLAT_SH_DEGREE_MAX || v[3] > 1024) {
        fprintf(stderr, "%s: N, SEED, SH_DEGREE (0..3) and TILES (0..1024) are whole numbers\n",
                argv[0]);
        return 2;
    }
    opt.count = (size_t)v[0];
    opt.seed = v[1];
    opt.sh_degree = (uint32_t)v[2];
    opt.tiles = (uint32_t)v[3];
    if (splat_synth_scene(&opt, &scene) != 0) {
        fprintf(stderr, "%s: cannot generate %s x %s^3 Gaussians at SH degree %u\n", argv[0],
                argv[2], argc > 5 ? argv[5] : "1", opt.sh_degree);
        return 1;
    }
    f = fopen(argv[1], "wb");
    if (!f) {
        fprintf(stderr, "%s: cannot open %s\n", argv[0], argv[1]);
        splat_scene_free(&scene);
        return 1;
    }
    bad = header_write(f, &scene) != 0 || body_write(f, &scene) != 0;
    bad |= fclose(f) != 0;
    if (bad)
        fprintf(stderr, "%s: writing %s failed\n", argv[0], argv[1]);
    else
        printf("%s: %zu Gaussians, SH degree %u\n", argv[1], scene.count, scene.sh_degree);
    splat_scene_free(&scene);
    return bad ? 1 : 0;
}
