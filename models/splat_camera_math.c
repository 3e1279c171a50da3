/* Rigid-body arithmetic for the camera sources (splat_camera_math.h). */
#include <math.h>

#include "splat_camera_math.h"

/* Writes the normalised rotation of a w-first quaternion. */
int splat_quat_rotation(const double q[4], double r[9])
{
    double n = sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
    double w, x, y, z;

    if (!isfinite(n) || n < 1e-12)
        return -1;
    w = q[0] / n;
    x = q[1] / n;
    y = q[2] / n;
    z = q[3] / n;
    r[0] = 1 - 2 * (y * y + z * z);
    r[1] = 2 * (x * y - w * z);
    r[2] = 2 * (x * z + w * y);
    r[3] = 2 * (x * y + w * z);
    r[4] = 1 - 2 * (x * x + z * z);
    r[5] = 2 * (y * z - w * x);
    r[6] = 2 * (x * z - w * y);
    r[7] = 2 * (y * z + w * x);
    r[8] = 1 - 2 * (x * x + y * y);
    return 0;
}

/* Transposes r and rotates -t by the transpose. */
void splat_rigid_invert(const double r[9], const double t[3], double ri[9], double ti[3])
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            ri[3 * i + j] = r[3 * j + i];
    for (int i = 0; i < 3; i++)
        ti[i] = -(ri[3 * i] * t[0] + ri[3 * i + 1] * t[1] + ri[3 * i + 2] * t[2]);
}

/* Writes a x b to out (out may not alias a or b). */
static void vec3_cross(const double a[3], const double b[3], double out[3])
{
    out[0] = a[1] * b[2] - a[2] * b[1];
    out[1] = a[2] * b[0] - a[0] * b[2];
    out[2] = a[0] * b[1] - a[1] * b[0];
}

/* Scales v to unit length; returns -1 (v untouched) when its norm is below
 * 1e-12 or not finite. */
static int vec3_normalise(double v[3])
{
    double n = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);

    if (!isfinite(n) || n < 1e-12)
        return -1;
    for (int i = 0; i < 3; i++)
        v[i] /= n;
    return 0;
}

/* Rows of R: x = f x up (right), y = f x x (down), z = f (forward). */
int splat_look_at(const double eye[3], const double target[3], const double up[3], double r[9],
                  double t[3])
{
    double f[3] = { target[0] - eye[0], target[1] - eye[1], target[2] - eye[2] };
    double u[3] = { up[0], up[1], up[2] };
    double x[3], y[3];

    if (vec3_normalise(f) != 0 || vec3_normalise(u) != 0)
        return -1;
    vec3_cross(f, u, x);
    if (vec3_normalise(x) != 0 || fabs(f[0] * u[0] + f[1] * u[1] + f[2] * u[2]) > 1 - 1e-9)
        return -1;
    vec3_cross(f, x, y);
    for (int j = 0; j < 3; j++) {
        r[j] = x[j];
        r[3 + j] = y[j];
        r[6 + j] = f[j];
    }
    for (int i = 0; i < 3; i++)
        t[i] = -(r[3 * i] * eye[0] + r[3 * i + 1] * eye[1] + r[3 * i + 2] * eye[2]);
    return 0;
}

/* Compares r r^T with the identity and checks the determinant's sign. */
int splat_rotation_valid(const double r[9], double tol, double *err)
{
    double worst = 0, det;

    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            double d = r[3 * i] * r[3 * j] + r[3 * i + 1] * r[3 * j + 1] +
                       r[3 * i + 2] * r[3 * j + 2] - (i == j ? 1.0 : 0.0);
            if (!(fabs(d) <= worst))   /* NaN counts as the worst */
                worst = isfinite(d) ? fabs(d) : INFINITY;
        }
    det = r[0] * (r[4] * r[8] - r[5] * r[7]) - r[1] * (r[3] * r[8] - r[5] * r[6]) +
          r[2] * (r[3] * r[7] - r[4] * r[6]);
    if (err)
        *err = worst;
    return worst <= tol && det > 0;
}
