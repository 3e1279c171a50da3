/* Seeded synthetic scenes (splat_synth.h). */
#include <math.h>
#include <string.h>

#include "splat_synth.h"

#define SYNTH_SH_C0 0.28209479177387814
#define SYNTH_PI 3.14159265358979323846

/* A splitmix64 stream and the spare value of the last Box-Muller pair. */
typedef struct synth_rng {
    uint64_t state;
    double spare;
    int has_spare;
} synth_rng;

/* Returns the next splitmix64 output. */
static uint64_t rng_next(synth_rng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Returns a uniform in [0, 1): the top 53 bits times 2^-53. */
static double rng_unit(synth_rng *r)
{
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Returns a uniform in [lo, hi). */
static double rng_range(synth_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * rng_unit(r);
}

/* Returns a standard normal (Box-Muller; both values of a pair used). */
static double rng_normal(synth_rng *r)
{
    double u1, u2, m;

    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    u1 = rng_unit(r);
    u2 = rng_unit(r);
    m = sqrt(-2.0 * log(1.0 - u1));
    r->spare = m * sin(2.0 * SYNTH_PI * u2);
    r->has_spare = 1;
    return m * cos(2.0 * SYNTH_PI * u2);
}

/* Draws Gaussian i of the scene around `centre` (the recipe's order). */
static void gaussian_draw(synth_rng *r, splat_scene *scene, size_t i, const double centre[3])
{
    double q[4], n, o;
    uint32_t coeffs = scene->sh_coeffs;

    for (int a = 0; a < 3; a++)
        scene->means[i * 3 + a] = (float)(centre[a] + rng_range(r, -1.0, 1.0));
    for (int a = 0; a < 3; a++)
        scene->scales[i * 3 + a] = (float)log(rng_range(r, 1e-4, 0.02));
    do {
        for (int a = 0; a < 4; a++)
            q[a] = rng_normal(r);
        n = sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
    } while (n < 1e-6);
    for (int a = 0; a < 4; a++)
        scene->rotations[i * 4 + a] = (float)(q[a] / n);
    o = fmin(fmax(rng_unit(r), 1e-4), 1.0 - 1e-4);
    scene->opacity[i] = (float)log(o / (1.0 - o));
    for (int c = 0; c < 3; c++)
        scene->sh[(i * coeffs) * 3 + c] =
            (float)rng_range(r, -0.4 / SYNTH_SH_C0, 0.4 / SYNTH_SH_C0);
    for (uint32_t k = 1; k < coeffs; k++)
        for (int c = 0; c < 3; c++)
            scene->sh[(i * coeffs + k) * 3 + c] = (float)(0.1 * rng_normal(r));
}

/* Generates the recipe's scene (splat_synth.h). */
int splat_synth_scene(const splat_synth_options *opt, splat_scene *scene)
{
    uint32_t k = opt->tiles ? opt->tiles : 1;
    size_t cells = (size_t)k * k * k, i = 0;
    synth_rng r = {opt->seed, 0.0, 0};

    memset(scene, 0, sizeof(*scene));
    if (opt->sh_degree > SPLAT_SH_DEGREE_MAX || k > 1024 ||
        (opt->count && cells > SIZE_MAX / 64 / opt->count))
        return -1;
    if (splat_scene_alloc(scene, opt->count * cells, opt->sh_degree) != KILN_OK)
        return -1;
    for (uint32_t c = 0; c < k; c++)
        for (uint32_t b = 0; b < k; b++)
            for (uint32_t a = 0; a < k; a++) {
                double centre[3] = {2.0 * a - (k - 1.0), 2.0 * b - (k - 1.0),
                                    2.0 * c - (k - 1.0)};
                for (size_t g = 0; g < opt->count; g++)
                    gaussian_draw(&r, scene, i++, centre);
            }
    return 0;
}

/* Sets the recipe's camera (splat_synth.h). */
void splat_synth_camera(const splat_synth_options *opt, uint32_t w, uint32_t h, double fov_deg,
                        double cx_offset, splat_camera *cam)
{
    double k = opt->tiles ? opt->tiles : 1, tan_half = tan(0.5 * fov_deg * SYNTH_PI / 180.0);

    memset(cam, 0, sizeof(*cam));
    cam->rotation[0] = cam->rotation[4] = cam->rotation[8] = 1.0;
    cam->translation[2] = k * (1.0 + 1.0 / tan_half);
    cam->fx = cam->fy = 0.5 * w / tan_half;
    cam->cx = 0.5 * w + cx_offset;
    cam->cy = 0.5 * h;
    cam->width = w;
    cam->height = h;
    strcpy(cam->name, "synthetic");
}
