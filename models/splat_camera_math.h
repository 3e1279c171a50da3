/* The small rigid-body arithmetic the camera sources share: a rotation
 * from a quaternion, the inverse of a rigid transform, a look-at view, a
 * rotation test.  Matrices are 3x3, row-major, doubles. */
#ifndef KILN_SPLAT_CAMERA_MATH_H
#define KILN_SPLAT_CAMERA_MATH_H

/* Writes the rotation of the quaternion q = (w, x, y, z) (w first, as
 * COLMAP and the 3DGS PLY store it), normalised here, to r.  Returns 0,
 * or -1 (r untouched) when q is not finite or its norm is below 1e-12. */
int splat_quat_rotation(const double q[4], double r[9]);

/* Inverts the rigid transform x -> r x + t: ri = r^T, ti = -r^T t.  The
 * outputs may not alias the inputs. */
void splat_rigid_invert(const double r[9], const double t[3], double ri[9], double ti[3]);

/* The world-to-camera transform (COLMAP axes: x right, y down, z forward)
 * of a camera at `eye` looking at `target`, with the image's y axis along
 * -up projected on the image plane.  Returns 0, or -1 when eye and target
 * coincide or the view direction is parallel to up. */
int splat_look_at(const double eye[3], const double target[3], const double up[3], double r[9],
                  double t[3]);

/* Whether r is a proper rotation within `tol`: every entry of r r^T - I
 * at most tol in magnitude and det(r) > 0.  Returns the largest deviation
 * found in *err (when err is not NULL). */
int splat_rotation_valid(const double r[9], double tol, double *err);

#endif
