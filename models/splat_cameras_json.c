/* Camera sources in JSON (splat_camera.h): the reference trainer's
 * cameras.json and nerfstudio/Blender transforms*.json, with json-c. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "host_alloc.h"
#include "image_read.h"
#include "splat_camera_math.h"
#include "splat_camera_source.h"
#include "status.h"

/* The largest JSON nesting accepted (cameras.json needs 3, transforms 4). */
#define JSON_DEPTH_MAX 16

/* What a message says a view is: "camera 3 (img_0003)" or "frame 2". */
typedef struct view_label {
    char text[SPLAT_CAMERA_NAME_MAX + 32];
} view_label;

/* Reads the JSON number `v` (an integer or a double) into *out.
 * KILN_E_FORMAT naming the file, the view and the key when it is not a
 * number or not finite. */
static kiln_status number_read(json_object *v, const char *name, const view_label *view,
                               const char *key, double *out)
{
    if (!v || !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
        return kiln_fail(KILN_E_FORMAT, "%s: %s: \"%s\" is not a number", name, view->text, key);
    *out = json_object_get_double(v);
    if (!isfinite(*out))
        return kiln_fail(KILN_E_FORMAT, "%s: %s: \"%s\" is not finite", name, view->text, key);
    return KILN_OK;
}

/* Reads the optional number `key` of `obj`: *present 0 when absent,
 * else the value in *out (errors as number_read). */
static kiln_status key_number(json_object *obj, const char *key, const char *name,
                              const view_label *view, double *out, int *present)
{
    json_object *v;

    *present = json_object_object_get_ex(obj, key, &v);
    if (!*present)
        return KILN_OK;
    return number_read(v, name, view, key, out);
}

/* Reads the required number `key` of `obj`; its absence is an error. */
static kiln_status key_number_required(json_object *obj, const char *key, const char *name,
                                       const view_label *view, double *out)
{
    int present;
    kiln_status st = key_number(obj, key, name, view, out, &present);

    if (st == KILN_OK && !present)
        return kiln_fail(KILN_E_FORMAT, "%s: %s has no \"%s\"", name, view->text, key);
    return st;
}

/* Turns the image side `value` (read from `key`) into *out: a whole
 * number in 1..SPLAT_CAMERA_SIZE_MAX, else KILN_E_FORMAT. */
static kiln_status size_from(double value, const char *name, const view_label *view,
                             const char *key, uint32_t *out)
{
    if (!(value >= 1 && value <= SPLAT_CAMERA_SIZE_MAX) || value != floor(value))
        return kiln_fail(KILN_E_FORMAT, "%s: %s: \"%s\" %g is not a whole size in 1..%d", name,
                         view->text, key, value, SPLAT_CAMERA_SIZE_MAX);
    *out = (uint32_t)value;
    return KILN_OK;
}

/* Reads `key` of `obj` as an array of exactly n finite numbers. */
static kiln_status key_numbers(json_object *obj, const char *key, size_t n, const char *name,
                               const view_label *view, double *out)
{
    json_object *arr;

    if (!json_object_object_get_ex(obj, key, &arr))
        return kiln_fail(KILN_E_FORMAT, "%s: %s has no \"%s\"", name, view->text, key);
    if (!json_object_is_type(arr, json_type_array) || json_object_array_length(arr) != n)
        return kiln_fail(KILN_E_FORMAT, "%s: %s: \"%s\" is not a list of %zu numbers", name,
                         view->text, key, n);
    for (size_t i = 0; i < n; i++) {
        kiln_status st = number_read(json_object_array_get_idx(arr, i), name, view, key, &out[i]);
        if (st != KILN_OK)
            return st;
    }
    return KILN_OK;
}

/* Reads `key` of `obj` as `rows` (or, when rows_alt is not 0, rows_alt)
 * rows of `cols` finite numbers into out (row-major); *rows_read gets the
 * count found. */
static kiln_status key_matrix(json_object *obj, const char *key, size_t rows, size_t rows_alt,
                              size_t cols, const char *name, const view_label *view, double *out,
                              size_t *rows_read)
{
    json_object *arr;
    size_t n;

    if (!json_object_object_get_ex(obj, key, &arr))
        return kiln_fail(KILN_E_FORMAT, "%s: %s has no \"%s\"", name, view->text, key);
    n = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
    if (n != rows && (rows_alt == 0 || n != rows_alt))
        return kiln_fail(KILN_E_FORMAT, "%s: %s: \"%s\" is not a list of %zu rows", name,
                         view->text, key, rows);
    for (size_t i = 0; i < n; i++) {
        json_object *row = json_object_array_get_idx(arr, i);

        if (!row || !json_object_is_type(row, json_type_array) ||
            json_object_array_length(row) != cols)
            return kiln_fail(KILN_E_FORMAT, "%s: %s: \"%s\" row %zu is not a list of %zu numbers",
                             name, view->text, key, i, cols);
        for (size_t j = 0; j < cols; j++) {
            kiln_status st = number_read(json_object_array_get_idx(row, j), name, view, key,
                                         &out[i * cols + j]);
            if (st != KILN_OK)
                return st;
        }
    }
    *rows_read = n;
    return KILN_OK;
}

/* Reads the string `key` of `obj` into *out (json-c's storage) and its
 * length; its absence or another type is an error. */
static kiln_status key_string(json_object *obj, const char *key, const char *name,
                              const view_label *view, const char **out, size_t *len)
{
    json_object *v;

    if (!json_object_object_get_ex(obj, key, &v))
        return kiln_fail(KILN_E_FORMAT, "%s: %s has no \"%s\"", name, view->text, key);
    if (!json_object_is_type(v, json_type_string))
        return kiln_fail(KILN_E_FORMAT, "%s: %s: \"%s\" is not a string", name, view->text, key);
    *out = json_object_get_string(v);
    *len = (size_t)json_object_get_string_len(v);
    return KILN_OK;
}

/* One view of cameras.json: {img_name, width, height, position,
 * rotation (camera-to-world rows), fx, fy, optional cx, cy}. */
static kiln_status cameras_json_view(json_object *v, size_t index, const char *name,
                                     splat_camera *cam)
{
    view_label view;
    const char *img;
    size_t img_len;
    double w, h, pos[3], rot[9];
    size_t rows;
    int have_cx, have_cy;
    kiln_status st;

    snprintf(view.text, sizeof(view.text), "camera %zu", index);
    if (!json_object_is_type(v, json_type_object))
        return kiln_fail(KILN_E_FORMAT, "%s: %s is not an object", name, view.text);
    if ((st = key_string(v, "img_name", name, &view, &img, &img_len)) != KILN_OK ||
        (st = splat_camera_name_set(cam, img, img_len, name, index)) != KILN_OK)
        return st;
    snprintf(view.text, sizeof(view.text), "camera %zu (%s)", index, cam->name);
    if ((st = key_number_required(v, "width", name, &view, &w)) != KILN_OK ||
        (st = size_from(w, name, &view, "width", &cam->width)) != KILN_OK ||
        (st = key_number_required(v, "height", name, &view, &h)) != KILN_OK ||
        (st = size_from(h, name, &view, "height", &cam->height)) != KILN_OK ||
        (st = key_numbers(v, "position", 3, name, &view, pos)) != KILN_OK ||
        (st = key_matrix(v, "rotation", 3, 0, 3, name, &view, rot, &rows)) != KILN_OK ||
        (st = key_number_required(v, "fx", name, &view, &cam->fx)) != KILN_OK ||
        (st = key_number_required(v, "fy", name, &view, &cam->fy)) != KILN_OK ||
        (st = key_number(v, "cx", name, &view, &cam->cx, &have_cx)) != KILN_OK ||
        (st = key_number(v, "cy", name, &view, &cam->cy, &have_cy)) != KILN_OK)
        return st;
    if (!have_cx)
        cam->cx = 0.5 * cam->width;
    if (!have_cy)
        cam->cy = 0.5 * cam->height;
    splat_rigid_invert(rot, pos, cam->rotation, cam->translation);
    return splat_camera_check(cam, name);
}

/* Intrinsics of a transforms file, top level or per frame. */
enum {
    INTR_FL_X, INTR_FL_Y, INTR_CX, INTR_CY, INTR_W, INTR_H, INTR_ANGLE_X, INTR_ANGLE_Y,
    INTR_K1, INTR_K2, INTR_K3, INTR_K4, INTR_P1, INTR_P2, INTR_COUNT
};
static const char *const intr_keys[INTR_COUNT] = {
    "fl_x", "fl_y", "cx", "cy", "w", "h", "camera_angle_x", "camera_angle_y",
    "k1", "k2", "k3", "k4", "p1", "p2"
};
_Static_assert(sizeof(intr_keys) / sizeof(intr_keys[0]) == INTR_COUNT, "one key per intrinsic");

/* The values found so far and which keys were present. */
typedef struct intrinsics {
    double value[INTR_COUNT];
    int have[INTR_COUNT];
} intrinsics;

/* Overrides *intr with the intrinsic keys present in `obj`, and refuses a
 * camera_model other than a pinhole and any non-zero distortion. */
static kiln_status intrinsics_read(json_object *obj, const char *name, const view_label *view,
                                   intrinsics *intr)
{
    json_object *model;

    for (int k = 0; k < INTR_COUNT; k++) {
        double v;
        int present;
        kiln_status st = key_number(obj, intr_keys[k], name, view, &v, &present);

        if (st != KILN_OK)
            return st;
        if (present) {
            intr->value[k] = v;
            intr->have[k] = 1;
        }
    }
    for (int k = INTR_K1; k <= INTR_P2; k++)
        if (intr->have[k] && intr->value[k] != 0)
            return kiln_fail(KILN_E_FORMAT, "%s: %s: distortion %s = %g is not supported "
                             "(pinhole cameras only)", name, view->text, intr_keys[k],
                             intr->value[k]);
    if (json_object_object_get_ex(obj, "camera_model", &model)) {
        const char *m = json_object_is_type(model, json_type_string)
                            ? json_object_get_string(model) : NULL;
        if (!m)
            return kiln_fail(KILN_E_FORMAT, "%s: %s: \"camera_model\" is not a string", name,
                             view->text);
        if (strcmp(m, "PINHOLE") != 0 && strcmp(m, "SIMPLE_PINHOLE") != 0 &&
            strcmp(m, "OPENCV") != 0)
            return kiln_fail(KILN_E_FORMAT, "%s: %s: camera_model %.64s is not supported "
                             "(pinhole cameras only)", name, view->text, m);
    }
    return KILN_OK;
}

/* Whether `path` names an existing regular file. */
static int file_exists(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Fills the missing w and/or h of a frame from its image's header:
 * file_path relative to dir (or absolute), as is, then + .png, + .jpg. */
static kiln_status size_from_image(const char *file_path, const char *dir, const char *name,
                                   const view_label *view, intrinsics *intr)
{
    static const char *const exts[] = { "", ".png", ".jpg" };
    char path[4096];
    host_image info;
    kiln_status st;

    for (size_t e = 0; e < sizeof(exts) / sizeof(exts[0]); e++) {
        int n = file_path[0] == '/' ? snprintf(path, sizeof(path), "%s%s", file_path, exts[e])
                                    : snprintf(path, sizeof(path), "%s/%s%s", dir, file_path,
                                               exts[e]);
        if (n < 0 || (size_t)n >= sizeof(path) || !file_exists(path))
            continue;
        st = image_read_header(path, 0, &info);
        if (st != KILN_OK)
            return kiln_fail_context(st, "%s: %s has no w/h and its image cannot give them",
                                     name, view->text);
        if (!intr->have[INTR_W])
            intr->value[INTR_W] = info.width;
        if (!intr->have[INTR_H])
            intr->value[INTR_H] = info.height;
        intr->have[INTR_W] = intr->have[INTR_H] = 1;
        return KILN_OK;
    }
    return kiln_fail(KILN_E_FORMAT, "%s: %s has no w/h and its image %s/%s (as is, .png, .jpg) "
                     "is not found", name, view->text, dir, file_path);
}

/* The focal length along one axis (x: a = 0, y: a = 1) from fl_ and
 * camera_angle_ (see splat_camera.h): fl wins; a disagreement over 0.1 %
 * is described in note[] (empty otherwise).  *found 0 when neither key is
 * present. */
static void focal_resolve(const intrinsics *intr, int a, double size, double *f, int *found,
                          char *note, size_t note_size)
{
    int fl = a ? INTR_FL_Y : INTR_FL_X, ang = a ? INTR_ANGLE_Y : INTR_ANGLE_X;
    double from_angle = intr->have[ang] ? 0.5 * size / tan(0.5 * intr->value[ang]) : 0;

    note[0] = '\0';
    *found = 1;
    if (intr->have[fl]) {
        *f = intr->value[fl];
        if (intr->have[ang] && !(fabs(from_angle - *f) <= 1e-3 * fabs(*f)))
            snprintf(note, note_size,
                     "%s %g and %s %g (f%c %.4g) disagree; using %s as nerfstudio does",
                     intr_keys[fl], *f, intr_keys[ang], intr->value[ang], a ? 'y' : 'x',
                     from_angle, intr_keys[fl]);
    } else if (intr->have[ang]) {
        *f = from_angle;
    } else {
        *found = 0;
    }
}

/* One frame of a transforms file: intrinsics (the top level's, overridden
 * by the frame's), file_path, transform_matrix (camera-to-world, OpenGL
 * axes).  *disagree is set when fl and camera_angle disagree, with the
 * note written to warning[] when it is still empty. */
static kiln_status transforms_frame(json_object *fr, size_t index, const intrinsics *top,
                                    const char *name, const char *dir, splat_camera *cam,
                                    char *warning, size_t warning_size, int *disagree)
{
    view_label view;
    intrinsics intr = *top;
    const char *file_path, *base, *dot;
    size_t path_len, rows;
    double m[16], c2w[9], pos[3], fy_default;
    char note_x[160], note_y[160];
    int found;
    kiln_status st;

    snprintf(view.text, sizeof(view.text), "frame %zu", index);
    if (!json_object_is_type(fr, json_type_object))
        return kiln_fail(KILN_E_FORMAT, "%s: %s is not an object", name, view.text);
    if ((st = key_string(fr, "file_path", name, &view, &file_path, &path_len)) != KILN_OK)
        return st;
    if (strlen(file_path) != path_len)
        return kiln_fail(KILN_E_FORMAT, "%s: %s: \"file_path\" holds a NUL byte", name,
                         view.text);
    base = strrchr(file_path, '/');
    base = base ? base + 1 : file_path;
    dot = strrchr(base, '.');
    if ((st = splat_camera_name_set(cam, base, dot && dot > base ? (size_t)(dot - base)
                                                                : strlen(base),
                                    name, index)) != KILN_OK)
        return st;
    snprintf(view.text, sizeof(view.text), "frame %zu (%s)", index, cam->name);
    if ((st = intrinsics_read(fr, name, &view, &intr)) != KILN_OK ||
        (st = key_matrix(fr, "transform_matrix", 4, 3, 4, name, &view, m, &rows)) != KILN_OK)
        return st;
    if (!intr.have[INTR_W] || !intr.have[INTR_H]) {
        if (!dir)
            return kiln_fail(KILN_E_FORMAT, "%s: %s has no \"%s\"", name, view.text,
                             intr.have[INTR_W] ? "h" : "w");
        if ((st = size_from_image(file_path, dir, name, &view, &intr)) != KILN_OK)
            return st;
    }
    if ((st = size_from(intr.value[INTR_W], name, &view, "w", &cam->width)) != KILN_OK ||
        (st = size_from(intr.value[INTR_H], name, &view, "h", &cam->height)) != KILN_OK)
        return st;
    focal_resolve(&intr, 0, cam->width, &cam->fx, &found, note_x, sizeof(note_x));
    if (!found)
        return kiln_fail(KILN_E_FORMAT, "%s: %s has no \"fl_x\" or \"camera_angle_x\"", name,
                         view.text);
    fy_default = cam->fx;
    focal_resolve(&intr, 1, cam->height, &cam->fy, &found, note_y, sizeof(note_y));
    if (!found)
        cam->fy = fy_default;
    cam->cx = intr.have[INTR_CX] ? intr.value[INTR_CX] : 0.5 * cam->width;
    cam->cy = intr.have[INTR_CY] ? intr.value[INTR_CY] : 0.5 * cam->height;
    if (note_x[0] || note_y[0]) {
        *disagree = 1;
        if (!warning[0])
            snprintf(warning, warning_size, "%s: %s%s%s", name, note_x,
                     note_x[0] && note_y[0] ? "; " : "", note_y);
    }
    /* OpenGL (y up, z backwards) to COLMAP axes: negate columns 1 and 2 */
    for (int i = 0; i < 3; i++) {
        c2w[3 * i] = m[4 * i];
        c2w[3 * i + 1] = -m[4 * i + 1];
        c2w[3 * i + 2] = -m[4 * i + 2];
        pos[i] = m[4 * i + 3];
    }
    splat_rigid_invert(c2w, pos, cam->rotation, cam->translation);
    return splat_camera_check(cam, name);
}

/* Records what a dataset needs besides the views of a transforms file:
 * every frame's file_path and the top-level ply_file_path (kiln_
 * copies into *paths). */
static kiln_status transforms_paths_read(json_object *root, json_object *frames,
                                         const char *name, splat_transforms_paths *paths)
{
    size_t n = json_object_array_length(frames);
    json_object *ply;

    paths->file_paths = kiln_calloc(n, sizeof(*paths->file_paths));
    if (!paths->file_paths)
        return kiln_fail(KILN_E_HOSTMEM, "%s: out of host memory for %zu file paths", name, n);
    paths->count = n;
    for (size_t i = 0; i < n; i++) {
        json_object *fp = NULL;

        /* transforms_frame checked each file_path is a string */
        json_object_object_get_ex(json_object_array_get_idx(frames, i), "file_path", &fp);
        paths->file_paths[i] = kiln_strdup(json_object_get_string(fp));
        if (!paths->file_paths[i])
            return kiln_fail(KILN_E_HOSTMEM, "%s: out of host memory for file paths", name);
    }
    if (json_object_object_get_ex(root, "ply_file_path", &ply)) {
        if (!json_object_is_type(ply, json_type_string) ||
            strlen(json_object_get_string(ply)) != (size_t)json_object_get_string_len(ply) ||
            json_object_get_string_len(ply) == 0)
            return kiln_fail(KILN_E_FORMAT, "%s: \"ply_file_path\" is not a file name", name);
        paths->ply_file_path = kiln_strdup(json_object_get_string(ply));
        if (!paths->ply_file_path)
            return kiln_fail(KILN_E_HOSTMEM, "%s: out of host memory for ply_file_path", name);
    }
    return KILN_OK;
}

/* Frees the copies of a transforms file's paths and zeroes *paths. */
void splat_transforms_paths_free(splat_transforms_paths *paths)
{
    for (size_t i = 0; paths->file_paths && i < paths->count; i++)
        kiln_free(paths->file_paths[i]);
    kiln_free(paths->file_paths);
    kiln_free(paths->ply_file_path);
    memset(paths, 0, sizeof(*paths));
}

/* A transforms file: an object with "frames"; paths (may be NULL) gets
 * the frames' file paths. */
static kiln_status transforms_parse(json_object *root, const char *name, const char *dir,
                                    splat_camera_set *set, splat_transforms_paths *paths)
{
    json_object *frames;
    intrinsics top;
    view_label view;
    size_t n, disagreeing = 0;
    kiln_status st;

    memset(&top, 0, sizeof(top));
    snprintf(view.text, sizeof(view.text), "the top level");
    if ((st = intrinsics_read(root, name, &view, &top)) != KILN_OK)
        return st;
    json_object_object_get_ex(root, "frames", &frames);
    if (!json_object_is_type(frames, json_type_array))
        return kiln_fail(KILN_E_FORMAT, "%s: \"frames\" is not a list", name);
    n = json_object_array_length(frames);
    if (n == 0)
        return kiln_fail(KILN_E_FORMAT, "%s: \"frames\" is empty: no views", name);
    if ((st = splat_camera_set_alloc(set, n, name)) != KILN_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        int disagree = 0;

        st = transforms_frame(json_object_array_get_idx(frames, i), i, &top, name, dir,
                              &set->cameras[i], set->warning, sizeof(set->warning), &disagree);
        if (st != KILN_OK)
            return st;
        disagreeing += (size_t)disagree;
    }
    if (paths && (st = transforms_paths_read(root, frames, name, paths)) != KILN_OK)
        return st;
    if (disagreeing > 1) {
        size_t used = strlen(set->warning);
        snprintf(set->warning + used, sizeof(set->warning) - used, " (%zu of %zu frames)",
                 disagreeing, n);
    }
    return KILN_OK;
}

/* A cameras.json file: a list of views. */
static kiln_status cameras_json_parse(json_object *root, const char *name,
                                      splat_camera_set *set)
{
    size_t n = json_object_array_length(root);
    kiln_status st;

    if (n == 0)
        return kiln_fail(KILN_E_FORMAT, "%s: empty list: no views", name);
    if ((st = splat_camera_set_alloc(set, n, name)) != KILN_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        st = cameras_json_view(json_object_array_get_idx(root, i), i, name, &set->cameras[i]);
        if (st != KILN_OK)
            return st;
    }
    return KILN_OK;
}

/* Parses the text with json-c (whole input, nothing but white space
 * after the value) and hands the value to the parser its shape names;
 * with `paths` only a transforms file is accepted, and its paths are
 * kept there. */
static kiln_status json_parse(const char *text, size_t len, const char *name, const char *dir,
                              splat_camera_set *set, splat_transforms_paths *paths)
{
    json_tokener *tok;
    json_object *root = NULL, *frames;
    enum json_tokener_error err;
    size_t end;
    kiln_status st;

    memset(set, 0, sizeof(*set));
    if (len > INT_MAX)
        return kiln_fail(KILN_E_LIMIT, "%s: %zu bytes is too large for a camera file", name, len);
    tok = json_tokener_new_ex(JSON_DEPTH_MAX);
    if (!tok)
        return kiln_fail(KILN_E_HOSTMEM, "%s: out of host memory for the JSON parser", name);
    root = json_tokener_parse_ex(tok, text, (int)len);
    err = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    if (!root || err != json_tokener_success) {
        st = kiln_fail(KILN_E_FORMAT, "%s: not valid JSON: %s near byte %zu", name,
                       err == json_tokener_continue ? "unexpected end of the file"
                                                    : json_tokener_error_desc(err), end);
        goto out_free_tokener;
    }
    for (; end < len; end++)
        if (!strchr(" \t\r\n", text[end]) || text[end] == '\0') {
            st = kiln_fail(KILN_E_FORMAT, "%s: data after the JSON value at byte %zu", name, end);
            goto out_put_root;
        }
    if (paths && !(json_object_is_type(root, json_type_object) &&
                   json_object_object_get_ex(root, "frames", &frames)))
        st = kiln_fail(KILN_E_FORMAT, "%s: not a transforms file (an object with \"frames\")",
                       name);
    else if (json_object_is_type(root, json_type_array))
        st = cameras_json_parse(root, name, set);
    else if (json_object_is_type(root, json_type_object) &&
             json_object_object_get_ex(root, "frames", &frames))
        st = transforms_parse(root, name, dir, set, paths);
    else
        st = kiln_fail(KILN_E_FORMAT, "%s: neither a list of cameras (cameras.json) nor an "
                       "object with \"frames\" (transforms.json)", name);
    if (st != KILN_OK) {
        splat_camera_set_free(set);
        if (paths)
            splat_transforms_paths_free(paths);
    }
out_put_root:
    json_object_put(root);
out_free_tokener:
    json_tokener_free(tok);
    return st;
}

/* Parses any JSON camera file; see splat_camera_source.h. */
kiln_status splat_cameras_parse_json_at(const char *text, size_t len, const char *name,
                                        const char *dir, splat_camera_set *set)
{
    return json_parse(text, len, name, dir, set, NULL);
}

/* Parses a transforms file keeping its paths; see splat_camera_source.h. */
kiln_status splat_transforms_parse_at(const char *text, size_t len, const char *name,
                                      const char *dir, splat_camera_set *set,
                                      splat_transforms_paths *paths)
{
    memset(paths, 0, sizeof(*paths));
    return json_parse(text, len, name, dir, set, paths);
}

/* The memory version: no image headers to fall back on. */
kiln_status splat_cameras_parse_json(const char *text, size_t len, const char *name,
                                     splat_camera_set *set)
{
    return splat_cameras_parse_json_at(text, len, name, NULL, set);
}
