/* Cameras for splatting: one internal camera, read from the formats
 * trainers write, or generated (an orbit).
 *
 * The internal camera (DESIGN.md "Splatting"): a world-to-camera rigid
 * transform in COLMAP/OpenCV axes (x right, y down, z forward), pinhole
 * intrinsics fx, fy, cx, cy in pixels, and the image size.  A world point
 * X maps to camera space x = R X + t and to pixel coordinates
 * (fx x/z + cx, fy y/z + cy), where pixel (i, j) (row i, column j) covers
 * [j, j+1) x [i, i+1) and is sampled at its centre (j + 0.5, i + 0.5).
 *
 * Sources (splat_cameras_read):
 *   cameras.json      the reference trainer's list of {id, img_name, width,
 *                     height, position (camera centre), rotation (3x3
 *                     camera-to-world, rows), fx, fy} plus optional cx, cy
 *                     (default: the image centre, width/2 and height/2)
 *   transforms*.json  nerfstudio/Blender: frames of {file_path,
 *                     transform_matrix (camera-to-world, OpenGL axes:
 *                     y up, z backwards; flipped to COLMAP's)}; intrinsics
 *                     fl_x/fl_y/cx/cy/w/h at the top or per frame.  Rule:
 *                     fl_x (fl_y) wins when present, as in nerfstudio;
 *                     camera_angle_x (_y) is used only without it
 *                     (fx = 0.5 w / tan(camera_angle_x / 2)); a
 *                     disagreement of more than 0.1 % is reported in
 *                     `warning`.  fl_y missing: fl_y = fl_x (or from
 *                     camera_angle_y).  cx, cy missing: w/2, h/2.  w, h
 *                     missing: read from the image file's header
 *                     (file_path relative to the JSON's directory, as
 *                     is, then with .png and .jpg appended).  A
 *                     camera_model other than PINHOLE, SIMPLE_PINHOLE or
 *                     OPENCV, or a non-zero k1..k4, p1, p2, is refused.
 *                     View names: file_path's base name without its
 *                     extension.
 *   COLMAP            a sparse model directory (cameras + images, .bin or
 *                     .txt; a directory holding sparse/0 is accepted too);
 *                     PINHOLE and SIMPLE_PINHOLE; any other model is
 *                     refused by name.  Views sorted by image name.
 * Every host block comes from the kiln_ allocator. */
#ifndef KILN_SPLAT_CAMERA_H
#define KILN_SPLAT_CAMERA_H

#include <stddef.h>
#include <stdint.h>

#include "kiln.h"

#define SPLAT_CAMERA_NAME_MAX 256

/* One view. */
typedef struct splat_camera {
    double rotation[9];         /* world-to-camera R, row-major */
    double translation[3];      /* world-to-camera t */
    double fx, fy, cx, cy;      /* pixels */
    uint32_t width, height;
    char name[SPLAT_CAMERA_NAME_MAX]; /* img_name / file stem / "orbit_0007" */
} splat_camera;

/* A list of views. */
typedef struct splat_camera_set {
    splat_camera *cameras;
    size_t count;
    char warning[512];          /* "" or a note for the user (intrinsics
                                   that disagree) */
} splat_camera_set;

/* Reads the views of a camera file or directory (see above; the format
 * is told from the content and the names: a JSON list is cameras.json, a
 * JSON object with "frames" is transforms; a directory is a COLMAP model
 * or holds sparse/0, or holds cameras.json or transforms.json; a path
 * naming cameras.bin/.txt or images.bin/.txt reads its directory).  Files
 * above 256 MiB are refused (KILN_E_LIMIT).  Errors
 * name the file and what is wrong (KILN_E_IO, KILN_E_FORMAT, KILN_E_HOSTMEM).
 * A view whose values are not finite, whose size is 0 or above 65536, or
 * whose focal length is not positive, whose rotation is not one (1e-3),
 * or a source without views is refused.  On error *set is zeroed. */
kiln_status splat_cameras_read(const char *path, splat_camera_set *set);

/* Writes the views as the reference trainer's cameras.json, atomically
 * (atomic_file.h): a JSON list with, per view, id (the index), img_name
 * (the name), width, height, position (the camera centre), rotation (the
 * camera-to-world rotation, 3 rows), fy, fx, in the order and with the
 * separators its camera_to_JSON and json.dump give; cx and cy follow only
 * when they differ from width/2, height/2.  Numbers have 17 significant
 * digits: splat_cameras_read gives back the same matrices to rounding
 * (splat_cameras_write.c).  KILN_E_INVAL for a NULL argument or a value
 * that is not finite (naming the view), else atomic_file's errors. */
kiln_status splat_cameras_write_json(const char *path, const splat_camera_set *set);

/* The parsers from memory, for tests and fuzzing; `name` is for
 * messages.  For transforms the image header fallback is not used: a
 * frame without w/h is an error. */
kiln_status splat_cameras_parse_json(const char *text, size_t len, const char *name,
                                     splat_camera_set *set);
kiln_status splat_cameras_parse_colmap_text(const char *cameras_txt, size_t cameras_len,
                                            const char *images_txt, size_t images_len,
                                            const char *name, splat_camera_set *set);
kiln_status splat_cameras_parse_colmap_bin(const void *cameras_bin, size_t cameras_len,
                                           const void *images_bin, size_t images_len,
                                           const char *name, splat_camera_set *set);

/* An orbit (turntable): `frames` views on a circle of `radius` around
 * `centre`, at `elevation_deg` above the plane normal to `up` (a world
 * direction, normalised here; COLMAP scenes usually have up = (0,-1,0)),
 * starting at azimuth 0 and turning by 360/frames degrees, each looking at
 * the centre with horizontal field of view `fov_deg`, width x height,
 * principal point at the centre.  Names "orbit_0000"..  Convention
 * (splat_camera_orbit.c): e1 = the world axis least aligned with up
 * (first of x, y, z on a tie) made normal to it, e2 = up x e1; view k at
 * azimuth a = 360 k / frames sits at centre + radius (cos(el) (cos(a) e1
 * + sin(a) e2) + sin(el) up); elevation > 0 is towards up; the image's
 * y axis is -up projected (up at the top of the image), z looks at the
 * centre; fx = fy = width / (2 tan(fov / 2)). */
typedef struct splat_orbit {
    uint32_t frames;
    double centre[3];
    double up[3];
    double radius;
    double elevation_deg;
    double fov_deg;
    uint32_t width, height;
} splat_orbit;

/* Generates the views of an orbit.  KILN_E_INVAL for 0 frames, a radius
 * <= 0, a field of view outside (0, 180), an elevation outside (-90, 90)
 * (the view would look along up), a zero up vector, a centre not finite
 * or a size of 0 or above 65536; KILN_E_HOSTMEM. */
kiln_status splat_orbit_cameras(const splat_orbit *orbit, splat_camera_set *set);

/* The camera of frame `frame` (< orbit->frames) of an orbit, as
 * splat_orbit_cameras makes it, without making the others.  Same errors. */
kiln_status splat_orbit_camera(const splat_orbit *orbit, uint32_t frame, splat_camera *cam);

/* Frees the views and zeroes the set.  Safe on a zeroed set. */
void splat_camera_set_free(splat_camera_set *set);

/* The camera centre in world coordinates: -R^T t. */
void splat_camera_centre(const splat_camera *cam, double centre[3]);

#endif
