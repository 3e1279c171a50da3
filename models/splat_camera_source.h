/* What the camera sources (splat_cameras_json.c, splat_cameras_colmap.c,
 * splat_camera_read.c, splat_camera_orbit.c) share: allocating a set,
 * naming and checking a view, sorting by name, and the JSON parser with
 * the directory its image files are looked up in.  Internal to models/. */
#ifndef KILN_SPLAT_CAMERA_SOURCE_H
#define KILN_SPLAT_CAMERA_SOURCE_H

#include "splat_camera.h"

/* The largest image side a view may have. */
#define SPLAT_CAMERA_SIZE_MAX 65536

/* Allocates `count` zeroed views in *set (warning empty).  `name` is the
 * source, for the message.  KILN_E_HOSTMEM (set zeroed) on failure. */
kiln_status splat_camera_set_alloc(splat_camera_set *set, size_t count, const char *name);

/* Copies `len` bytes of `text` into cam->name.  KILN_E_FORMAT naming the
 * source `name` and view `index` when the name is empty, longer than
 * SPLAT_CAMERA_NAME_MAX - 1 bytes or holds a NUL byte. */
kiln_status splat_camera_name_set(splat_camera *cam, const char *text, size_t len,
                                  const char *name, size_t index);

/* Checks a finished view: every value finite, width and height in
 * 1..SPLAT_CAMERA_SIZE_MAX, fx and fy positive, R a rotation (within
 * 1e-3).  KILN_E_FORMAT naming the source and the view otherwise. */
kiln_status splat_camera_check(const splat_camera *cam, const char *name);

/* Sorts the views by name (strcmp order; equal names keep no set
 * order). */
void splat_camera_set_sort(splat_camera_set *set);

/* splat_cameras_parse_json, where a transforms frame without w or h takes
 * them from its image's header: file_path relative to `dir` (as is, then
 * with .png and .jpg appended).  dir NULL: such a frame is an error. */
kiln_status splat_cameras_parse_json_at(const char *text, size_t len, const char *name,
                                        const char *dir, splat_camera_set *set);

/* What a dataset needs from a transforms file besides its views. */
typedef struct splat_transforms_paths {
    char **file_paths;      /* each frame's file_path as written, in frame
                               order (the views' order before any sort) */
    size_t count;
    char *ply_file_path;    /* the top-level "ply_file_path", or NULL */
} splat_transforms_paths;

/* splat_cameras_parse_json_at for a transforms file only (anything else
 * is KILN_E_FORMAT), keeping the paths in *paths (zeroed first; zeroed
 * again on error).  A ply_file_path that is not a non-empty string is
 * KILN_E_FORMAT. */
kiln_status splat_transforms_parse_at(const char *text, size_t len, const char *name,
                                      const char *dir, splat_camera_set *set,
                                      splat_transforms_paths *paths);

/* The same from the file `path` (image headers looked up beside it). */
kiln_status splat_transforms_read(const char *path, splat_camera_set *set,
                                  splat_transforms_paths *paths);

/* Frees the copies in *paths and zeroes it; safe on a zeroed one. */
void splat_transforms_paths_free(splat_transforms_paths *paths);

/* Reads the whole regular file `path` (at most `max` bytes; more is
 * KILN_E_LIMIT saying `what` the file is, "a camera file") into a new
 * kiln_ block *data, NUL-terminated, *len bytes before the NUL.
 * KILN_E_IO naming the file when it cannot be read (file_open.h). */
kiln_status splat_file_read_whole(const char *path, size_t max, const char *what, char **data,
                                  size_t *len);

#endif
