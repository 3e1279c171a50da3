/* Allocation of host scenes (splat_scene.h). */
#include <string.h>

#include "host_alloc.h"
#include "splat_scene.h"
#include "status.h"

/* Allocates a zeroed scene's arrays. */
kiln_status splat_scene_alloc(splat_scene *scene, size_t count, uint32_t sh_degree)
{
    size_t n = count ? count : 1;
    uint32_t coeffs = (sh_degree + 1) * (sh_degree + 1);

    memset(scene, 0, sizeof(*scene));
    if (sh_degree > SPLAT_SH_DEGREE_MAX)
        return kiln_fail(KILN_E_INVAL, "SH degree %u is not 0..3", sh_degree);
    scene->count = count;
    scene->sh_degree = sh_degree;
    scene->sh_coeffs = coeffs;
    scene->means = kiln_calloc(n * 3, sizeof(float));
    scene->normals = kiln_calloc(n * 3, sizeof(float));
    scene->sh = kiln_calloc(n * coeffs, 3 * sizeof(float));
    scene->opacity = kiln_calloc(n, sizeof(float));
    scene->scales = kiln_calloc(n * 3, sizeof(float));
    scene->rotations = kiln_calloc(n * 4, sizeof(float));
    if (!scene->means || !scene->normals || !scene->sh || !scene->opacity || !scene->scales ||
        !scene->rotations) {
        splat_scene_free(scene);
        return kiln_fail(KILN_E_HOSTMEM, "allocating a scene of %zu Gaussians: out of host memory",
                         count);
    }
    return KILN_OK;
}

/* Frees a scene's arrays. */
void splat_scene_free(splat_scene *scene)
{
    kiln_free(scene->means);
    kiln_free(scene->normals);
    kiln_free(scene->sh);
    kiln_free(scene->opacity);
    kiln_free(scene->scales);
    kiln_free(scene->rotations);
    memset(scene, 0, sizeof(*scene));
}
