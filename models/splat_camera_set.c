/* Sets of views: allocation, names, checks, order, centres
 * (splat_camera.h, splat_camera_source.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host_alloc.h"
#include "splat_camera_math.h"
#include "splat_camera_source.h"
#include "status.h"

/* Allocates the zeroed views of a set. */
kiln_status splat_camera_set_alloc(splat_camera_set *set, size_t count, const char *name)
{
    memset(set, 0, sizeof(*set));
    set->cameras = kiln_calloc(count ? count : 1, sizeof(*set->cameras));
    if (!set->cameras)
        return kiln_fail(KILN_E_HOSTMEM, "%s: out of host memory for %zu views", name, count);
    set->count = count;
    return KILN_OK;
}

/* Frees the views and zeroes the set. */
void splat_camera_set_free(splat_camera_set *set)
{
    kiln_free(set->cameras);
    memset(set, 0, sizeof(*set));
}

/* Copies a view's name, refusing empty, overlong or NUL-holding names. */
kiln_status splat_camera_name_set(splat_camera *cam, const char *text, size_t len,
                                  const char *name, size_t index)
{
    if (len == 0)
        return kiln_fail(KILN_E_FORMAT, "%s: view %zu has an empty image name", name, index);
    if (len >= sizeof(cam->name))
        return kiln_fail(KILN_E_FORMAT, "%s: view %zu: image name of %zu bytes (at most %zu)",
                         name, index, len, sizeof(cam->name) - 1);
    if (memchr(text, '\0', len))
        return kiln_fail(KILN_E_FORMAT, "%s: view %zu: image name holds a NUL byte", name,
                         index);
    memcpy(cam->name, text, len);
    cam->name[len] = '\0';
    return KILN_OK;
}

/* Checks the values of a finished view. */
kiln_status splat_camera_check(const splat_camera *cam, const char *name)
{
    double err;

    for (int i = 0; i < 9; i++)
        if (!isfinite(cam->rotation[i]))
            return kiln_fail(KILN_E_FORMAT, "%s: view \"%s\": rotation value is not finite", name,
                             cam->name);
    for (int i = 0; i < 3; i++)
        if (!isfinite(cam->translation[i]))
            return kiln_fail(KILN_E_FORMAT, "%s: view \"%s\": position value is not finite", name,
                             cam->name);
    if (!isfinite(cam->fx) || !isfinite(cam->fy) || !isfinite(cam->cx) || !isfinite(cam->cy))
        return kiln_fail(KILN_E_FORMAT, "%s: view \"%s\": intrinsics are not finite "
                         "(fx %g, fy %g, cx %g, cy %g)", name, cam->name, cam->fx, cam->fy,
                         cam->cx, cam->cy);
    if (cam->width == 0 || cam->height == 0 || cam->width > SPLAT_CAMERA_SIZE_MAX ||
        cam->height > SPLAT_CAMERA_SIZE_MAX)
        return kiln_fail(KILN_E_FORMAT, "%s: view \"%s\": image size %ux%u is not within 1..%d",
                         name, cam->name, cam->width, cam->height, SPLAT_CAMERA_SIZE_MAX);
    if (!(cam->fx > 0) || !(cam->fy > 0))
        return kiln_fail(KILN_E_FORMAT,
                         "%s: view \"%s\": focal length fx %g, fy %g is not positive", name,
                         cam->name, cam->fx, cam->fy);
    if (!splat_rotation_valid(cam->rotation, 1e-3, &err))
        return kiln_fail(KILN_E_FORMAT, "%s: view \"%s\": the rotation is not a rotation "
                         "(R R^T - I up to %g, or a reflection)", name, cam->name, err);
    return KILN_OK;
}

/* qsort order of views: their names. */
static int camera_name_cmp(const void *a, const void *b)
{
    const splat_camera *ca = a, *cb = b;

    return strcmp(ca->name, cb->name);
}

/* Sorts the views by name. */
void splat_camera_set_sort(splat_camera_set *set)
{
    if (set->count > 1)
        qsort(set->cameras, set->count, sizeof(*set->cameras), camera_name_cmp);
}

/* The camera centre: -R^T t. */
void splat_camera_centre(const splat_camera *cam, double centre[3])
{
    double ri[9];

    splat_rigid_invert(cam->rotation, cam->translation, ri, centre);
}
