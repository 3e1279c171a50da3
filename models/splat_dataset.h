/* Training datasets for splatting, on the host: the views (camera, image
 * file, train or test) and the initial point cloud of a scene directory.
 *
 * Layouts of DIR (tried in this order):
 *   nerfstudio/Blender, split   DIR/transforms_train.json, and
 *                               DIR/transforms_test.json when present: the
 *                               train views then the test views (test = 1),
 *                               each group sorted by view name
 *   nerfstudio/Blender          DIR/transforms.json: views sorted by name;
 *                               view i is a test view when test_every > 0
 *                               and i % test_every == 0 (the reference
 *                               trainer's llffhold rule)
 *   COLMAP                      DIR/sparse/0/{cameras,images}.{bin,txt}
 *                               and DIR/images/: views sorted by name, the
 *                               same test rule
 * Views come from the camera readers (splat_camera.h; their warning, such
 * as fl_x disagreeing with camera_angle_x, is carried into `warning`).
 *
 * Images: COLMAP DIR/images/<name>; transforms DIR/<file_path> (or
 * file_path when absolute), as is, then with .png and .jpg appended.  With
 * downscale N > 1 and a folder DIR/images_N: DIR/images_N/<name> (COLMAP)
 * or DIR/images_N/<file_path's base name> (transforms, as nerfstudio);
 * then fx, fy, cx, cy are divided by N and the view takes the image's own
 * size, which must be within one pixel of the full size / N.  Without the
 * folder the full-size images are used and `warning` says so.  Every
 * image's header is read (not its pixels): a missing file, an unreadable
 * header or a size other than the camera's is an error naming the file
 * and the view.
 *
 * Points: COLMAP DIR/sparse/0/points3D.bin, else points3D.txt
 * (splat_point_cloud.h for the layouts).  Transforms: the first file's
 * "ply_file_path" (relative to DIR) when present (then it must exist),
 * else DIR/points3d.ply, else DIR/init.ply (a PLY point cloud, x y z +
 * red green blue).  Without a point cloud, or with one of 0 points, the
 * reference trainer's Blender rule: random_points points uniform in the
 * cube [-1.3, 1.3]^3 (side 2.6, centred at the origin), seeded by `seed`,
 * with uniform random colours (splat_point_cloud_random; the reference
 * draws SH values in [0, 1/255) instead, which are grey 127 once its PLY
 * round trip truncates them), and a warning.  random_points 0 then is an
 * error.
 *
 * Every error names the file and what is wrong.  Host memory only through
 * the kiln_ allocator. */
#ifndef KILN_SPLAT_DATASET_H
#define KILN_SPLAT_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "kiln.h"
#include "splat_camera.h"

/* One training or test view. */
typedef struct splat_dataset_view {
    splat_camera camera;
    char image[4096];           /* the image file */
    int test;                   /* 1: a test view */
    uint32_t reduce;            /* 1; N: the image is N times the camera's size
                                   (downscale without an images_N folder): the
                                   trainer averages N x N blocks */
} splat_dataset_view;

/* A dataset: views and the initial point cloud. */
typedef struct splat_dataset {
    splat_dataset_view *views;
    size_t count;
    float *points;              /* npoints * 3 */
    uint8_t *colours;           /* npoints * 3, RGB */
    size_t npoints;
    char warning[512];          /* "" or notes for the user, "; "-separated */
} splat_dataset;

/* How to open a dataset. */
typedef struct splat_dataset_options {
    uint32_t downscale;         /* 1, 2, 4 or 8 (0 reads as 1): use images_N/ when it exists */
    uint32_t test_every;        /* without a test split, every Nth view (sorted by name,
                                   from the first) is a test view; 0: none */
    uint64_t random_points;     /* points of the random init; 0: no random init */
    uint64_t seed;              /* of the random init */
} splat_dataset_options;

/* The defaults: downscale 1, test_every 8 (the reference trainer's
 * llffhold), random_points 100000, seed 0. */
void splat_dataset_options_default(splat_dataset_options *opt);

/* Opens the dataset in directory `path` (layouts above).  opt NULL: the
 * defaults.  KILN_E_INVAL for a downscale other than 0, 1, 2, 4, 8;
 * KILN_E_IO for a path that is not a directory, a missing images folder
 * or image file; KILN_E_FORMAT for a directory of no known layout, an
 * image of the wrong size, a corrupt camera or point file, no points and
 * no random init; KILN_E_HOSTMEM.  On error *out is zeroed; on success
 * release it with splat_dataset_free. */
kiln_status splat_dataset_open(const char *path, const splat_dataset_options *opt,
                               splat_dataset *out);

/* Frees the views and points and zeroes *ds; safe on a zeroed dataset. */
void splat_dataset_free(splat_dataset *ds);

#endif
