/* Generated views: an orbit around a point (splat_camera.h).
 *
 * Convention: u = up normalised; e1 = the world axis least aligned with
 * u (the first of x, y, z on a tie) made orthogonal to u and normalised;
 * e2 = u x e1, so azimuth turns counter-clockwise seen from above (a
 * right-handed turn about up).  View k has azimuth a = 360 k / frames
 * degrees and the orbit's elevation e, and sits at
 *     centre + radius (cos e (cos a e1 + sin a e2) + sin e u),
 * so a positive elevation puts the camera above the plane (towards up).
 * It looks at the centre (z forward), its y axis is -up projected on the
 * image plane (y down, so up is at the top of the image) and x = y x z
 * points right; fx = fy = 0.5 width / tan(fov / 2), cx = width / 2,
 * cy = height / 2. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "splat_camera_math.h"
#include "splat_camera_source.h"
#include "status.h"

/* Writes the unit up vector u and the basis e1, e2 of the plane normal
 * to it.  Returns -1 when up is zero or not finite. */
static int orbit_basis(const double up[3], double u[3], double e1[3], double e2[3])
{
    double n = sqrt(up[0] * up[0] + up[1] * up[1] + up[2] * up[2]), d;
    int axis = 0;

    if (!isfinite(n) || n < 1e-12)
        return -1;
    for (int i = 0; i < 3; i++)
        u[i] = up[i] / n;
    for (int i = 1; i < 3; i++)
        if (fabs(u[i]) < fabs(u[axis]))
            axis = i;
    d = u[axis];
    for (int i = 0; i < 3; i++)
        e1[i] = (i == axis ? 1.0 : 0.0) - d * u[i];
    n = sqrt(e1[0] * e1[0] + e1[1] * e1[1] + e1[2] * e1[2]);
    for (int i = 0; i < 3; i++)
        e1[i] /= n;
    e2[0] = u[1] * e1[2] - u[2] * e1[1];
    e2[1] = u[2] * e1[0] - u[0] * e1[2];
    e2[2] = u[0] * e1[1] - u[1] * e1[0];
    return 0;
}

/* Checks an orbit's parameters. */
static kiln_status orbit_check(const splat_orbit *orbit)
{
    if (orbit->frames == 0)
        return kiln_fail(KILN_E_INVAL, "orbit: 0 frames");
    if (!(orbit->radius > 0) || !isfinite(orbit->radius))
        return kiln_fail(KILN_E_INVAL, "orbit: radius %g is not positive and finite",
                         orbit->radius);
    if (!(orbit->fov_deg > 0 && orbit->fov_deg < 180))
        return kiln_fail(KILN_E_INVAL, "orbit: field of view %g degrees is not within (0, 180)",
                         orbit->fov_deg);
    if (!(orbit->elevation_deg > -90 && orbit->elevation_deg < 90))
        return kiln_fail(KILN_E_INVAL, "orbit: elevation %g degrees is not within (-90, 90)",
                         orbit->elevation_deg);
    if (orbit->width == 0 || orbit->height == 0 || orbit->width > SPLAT_CAMERA_SIZE_MAX ||
        orbit->height > SPLAT_CAMERA_SIZE_MAX)
        return kiln_fail(KILN_E_INVAL, "orbit: image size %ux%u is not within 1..%d",
                         orbit->width, orbit->height, SPLAT_CAMERA_SIZE_MAX);
    for (int i = 0; i < 3; i++)
        if (!isfinite(orbit->centre[i]))
            return kiln_fail(KILN_E_INVAL, "orbit: the centre is not finite");
    return KILN_OK;
}

/* The camera of one orbit frame (convention above). */
kiln_status splat_orbit_camera(const splat_orbit *orbit, uint32_t frame, splat_camera *cam)
{
    const double deg = M_PI / 180.0;
    double u[3], e1[3], e2[3], el, az, eye[3];
    kiln_status st = orbit_check(orbit);

    if (st != KILN_OK)
        return st;
    if (frame >= orbit->frames)
        return kiln_fail(KILN_E_INVAL, "orbit: no frame %u in %u", frame, orbit->frames);
    if (orbit_basis(orbit->up, u, e1, e2) != 0)
        return kiln_fail(KILN_E_INVAL, "orbit: the up vector is zero or not finite");
    memset(cam, 0, sizeof(*cam));
    el = orbit->elevation_deg * deg;
    az = 2.0 * M_PI * frame / orbit->frames;
    for (int i = 0; i < 3; i++)
        eye[i] = orbit->centre[i] +
                 orbit->radius * (cos(el) * (cos(az) * e1[i] + sin(az) * e2[i]) + sin(el) * u[i]);
    if (splat_look_at(eye, orbit->centre, u, cam->rotation, cam->translation) != 0)
        return kiln_fail(KILN_E_INVAL, "orbit: view %u cannot look at the centre "
                         "(radius too small for the centre's magnitude)", frame);
    cam->fx = cam->fy = 0.5 * orbit->width / tan(0.5 * orbit->fov_deg * deg);
    cam->cx = 0.5 * orbit->width;
    cam->cy = 0.5 * orbit->height;
    cam->width = orbit->width;
    cam->height = orbit->height;
    snprintf(cam->name, sizeof(cam->name), "orbit_%04u", frame);
    return KILN_OK;
}

/* Generates the views of an orbit (convention above). */
kiln_status splat_orbit_cameras(const splat_orbit *orbit, splat_camera_set *set)
{
    kiln_status st;

    memset(set, 0, sizeof(*set));
    if ((st = orbit_check(orbit)) != KILN_OK)
        return st;
    if ((st = splat_camera_set_alloc(set, orbit->frames, "orbit")) != KILN_OK)
        return st;
    for (uint32_t k = 0; k < orbit->frames; k++) {
        st = splat_orbit_camera(orbit, k, &set->cameras[k]);
        if (st != KILN_OK) {
            splat_camera_set_free(set);
            return st;
        }
    }
    return KILN_OK;
}
