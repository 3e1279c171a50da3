/* Camera sources: COLMAP sparse models, binary (cameras.bin, images.bin)
 * and text (cameras.txt, images.txt) (splat_camera.h).  Only pinhole
 * models are read; every count is checked against the bytes that remain
 * before anything is allocated. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "colmap_io.h"
#include "host_alloc.h"
#include "splat_camera_math.h"
#include "splat_camera_source.h"
#include "status.h"

/* COLMAP's camera models, by id, with their parameter counts. */
typedef struct colmap_model {
    const char *name;
    int params;
} colmap_model;

static const colmap_model colmap_models[] = {
    { "SIMPLE_PINHOLE", 3 }, { "PINHOLE", 4 }, { "SIMPLE_RADIAL", 4 }, { "RADIAL", 5 },
    { "OPENCV", 8 }, { "OPENCV_FISHEYE", 8 }, { "FULL_OPENCV", 12 }, { "FOV", 5 },
    { "SIMPLE_RADIAL_FISHEYE", 4 }, { "RADIAL_FISHEYE", 5 }, { "THIN_PRISM_FISHEYE", 12 },
};
#define COLMAP_MODEL_COUNT ((int)(sizeof(colmap_models) / sizeof(colmap_models[0])))
#define COLMAP_PARAMS_MAX 12

/* One camera of cameras.bin/.txt, as far as the views need it. */
typedef struct colmap_camera {
    uint32_t id;
    uint64_t width, height;
    double fx, fy, cx, cy;
} colmap_camera;

/* The labels of the two files in messages: "<name>/cameras.bin". */
typedef struct colmap_names {
    char cameras[4096];
    char images[4096];
} colmap_names;

/* Fills the labels for `name` and the extension ("bin" or "txt"). */
static void colmap_names_init(colmap_names *n, const char *name, const char *ext)
{
    snprintf(n->cameras, sizeof(n->cameras), "%s/cameras.%s", name, ext);
    snprintf(n->images, sizeof(n->images), "%s/images.%s", name, ext);
}

/* Turns a camera's model and parameters into pinhole intrinsics; any
 * model other than SIMPLE_PINHOLE (0) and PINHOLE (1) is refused by
 * name. */
static kiln_status colmap_camera_set(colmap_camera *cam, int model, const double *p,
                                     const char *file)
{
    if (model != 0 && model != 1)
        return kiln_fail(KILN_E_FORMAT, "%s: camera %u uses the %s model; only PINHOLE and "
                         "SIMPLE_PINHOLE are supported", file, cam->id,
                         colmap_models[model].name);
    cam->fx = p[0];
    cam->fy = model == 0 ? p[0] : p[1];
    cam->cx = model == 0 ? p[1] : p[2];
    cam->cy = model == 0 ? p[2] : p[3];
    return KILN_OK;
}

/* qsort order of cameras: their ids. */
static int camera_id_cmp(const void *a, const void *b)
{
    const colmap_camera *ca = a, *cb = b;

    return ca->id < cb->id ? -1 : ca->id > cb->id;
}

/* Sorts the cameras by id; a duplicate id is an error. */
static kiln_status cameras_index(colmap_camera *cams, size_t n, const char *file)
{
    qsort(cams, n, sizeof(*cams), camera_id_cmp);
    for (size_t i = 1; i < n; i++)
        if (cams[i].id == cams[i - 1].id)
            return kiln_fail(KILN_E_FORMAT, "%s: camera %u is defined twice", file, cams[i].id);
    return KILN_OK;
}

/* Finishes view `index` of an image: its camera (by id, from the sorted
 * table), quaternion and translation; then checks it. */
static kiln_status view_finish(splat_camera *view, const colmap_camera *cams, size_t ncams,
                               uint32_t camera_id, const double q[4], const double t[3],
                               const colmap_names *names)
{
    colmap_camera key = { .id = camera_id };
    const colmap_camera *cam;

    cam = bsearch(&key, cams, ncams, sizeof(*cams), camera_id_cmp);
    if (!cam)
        return kiln_fail(KILN_E_FORMAT, "%s: image %s refers to camera %u, which %s does not "
                         "define", names->images, view->name, camera_id, names->cameras);
    if (cam->width == 0 || cam->height == 0 || cam->width > SPLAT_CAMERA_SIZE_MAX ||
        cam->height > SPLAT_CAMERA_SIZE_MAX)
        return kiln_fail(KILN_E_FORMAT, "%s: camera %u: image size %llux%llu is not within "
                         "1..%d", names->cameras, cam->id, (unsigned long long)cam->width,
                         (unsigned long long)cam->height, SPLAT_CAMERA_SIZE_MAX);
    view->width = (uint32_t)cam->width;
    view->height = (uint32_t)cam->height;
    view->fx = cam->fx;
    view->fy = cam->fy;
    view->cx = cam->cx;
    view->cy = cam->cy;
    if (splat_quat_rotation(q, view->rotation) != 0)
        return kiln_fail(KILN_E_FORMAT, "%s: image %s: quaternion (%g, %g, %g, %g) is zero or "
                         "not finite", names->images, view->name, q[0], q[1], q[2], q[3]);
    memcpy(view->translation, t, sizeof(view->translation));
    return splat_camera_check(view, names->images);
}

/* ---- binary ---- */

/* Reads cameras.bin into a new table (*cams, *ncams), sorted by id. */
static kiln_status cameras_bin_read(const void *data, size_t len, const char *file,
                                    colmap_camera **cams, size_t *ncams)
{
    colmap_bin_reader r = { data, len, file };
    colmap_camera *tab;
    size_t n;
    kiln_status st;

    *cams = NULL;
    *ncams = 0;
    /* id, model, width, height and at least 3 parameters */
    if ((st = colmap_bin_count(&r, 4 + 4 + 8 + 8 + 3 * 8, "cameras", &n)) != KILN_OK)
        return st;
    if (n == 0)
        return kiln_fail(KILN_E_FORMAT, "%s: no cameras", file);
    tab = kiln_calloc(n, sizeof(*tab));
    if (!tab)
        return kiln_fail(KILN_E_HOSTMEM, "%s: out of host memory for %zu cameras", file, n);
    for (size_t i = 0; i < n; i++) {
        uint64_t id, model;
        double p[COLMAP_PARAMS_MAX];

        if ((st = colmap_bin_uint(&r, 4, "a camera id", &id)) != KILN_OK ||
            (st = colmap_bin_uint(&r, 4, "a camera model", &model)) != KILN_OK ||
            (st = colmap_bin_uint(&r, 8, "a camera width", &tab[i].width)) != KILN_OK ||
            (st = colmap_bin_uint(&r, 8, "a camera height", &tab[i].height)) != KILN_OK)
            goto out_free_table;
        tab[i].id = (uint32_t)id;
        if (model >= (uint64_t)COLMAP_MODEL_COUNT) {
            st = kiln_fail(KILN_E_FORMAT, "%s: camera %u: unknown model id %d", file,
                           tab[i].id, (int)(int32_t)(uint32_t)model);
            goto out_free_table;
        }
        if ((st = colmap_bin_doubles(&r, (size_t)colmap_models[model].params, "camera parameters",
                              p)) != KILN_OK ||
            (st = colmap_camera_set(&tab[i], (int)model, p, file)) != KILN_OK)
            goto out_free_table;
    }
    if (r.left != 0) {
        st = kiln_fail(KILN_E_FORMAT, "%s: %zu bytes after the last camera", file, r.left);
        goto out_free_table;
    }
    if ((st = cameras_index(tab, n, file)) != KILN_OK)
        goto out_free_table;
    *cams = tab;
    *ncams = n;
    return KILN_OK;
out_free_table:
    kiln_free(tab);
    return st;
}

/* Reads one image of images.bin into view `index`. */
static kiln_status image_bin_read(colmap_bin_reader *r, size_t index, const colmap_camera *cams,
                                  size_t ncams, const colmap_names *names, splat_camera *view)
{
    uint64_t image_id, camera_id, npoints;
    double q[4], t[3];
    const unsigned char *nul;
    size_t name_len;
    kiln_status st;

    if ((st = colmap_bin_uint(r, 4, "an image id", &image_id)) != KILN_OK ||
        (st = colmap_bin_doubles(r, 4, "a quaternion", q)) != KILN_OK ||
        (st = colmap_bin_doubles(r, 3, "a translation", t)) != KILN_OK ||
        (st = colmap_bin_uint(r, 4, "an image's camera id", &camera_id)) != KILN_OK)
        return st;
    nul = memchr(r->p, '\0', r->left);
    if (!nul)
        return kiln_fail(KILN_E_FORMAT, "%s: truncated: the file ends inside the name of "
                         "image %u", r->file, (uint32_t)image_id);
    name_len = (size_t)(nul - r->p);
    if ((st = splat_camera_name_set(view, (const char *)r->p, name_len, r->file, index)) !=
        KILN_OK)
        return st;
    r->p += name_len + 1;
    r->left -= name_len + 1;
    if ((st = colmap_bin_uint(r, 8, "a point count", &npoints)) != KILN_OK)
        return st;
    if (npoints > r->left / 24)
        return kiln_fail(KILN_E_FORMAT, "%s: image %s: %llu points cannot fit in the %zu bytes "
                         "that remain", r->file, view->name, (unsigned long long)npoints,
                         r->left);
    r->p += (size_t)npoints * 24;
    r->left -= (size_t)npoints * 24;
    return view_finish(view, cams, ncams, (uint32_t)camera_id, q, t, names);
}

/* Reads images.bin against the camera table into *set. */
static kiln_status images_bin_read(const void *data, size_t len, const colmap_camera *cams,
                                   size_t ncams, const colmap_names *names,
                                   splat_camera_set *set)
{
    colmap_bin_reader r = { data, len, names->images };
    size_t n;
    kiln_status st;

    /* id, quaternion, translation, camera id, a name of 1 byte and its NUL, point count */
    if ((st = colmap_bin_count(&r, 4 + 32 + 24 + 4 + 2 + 8, "images", &n)) != KILN_OK)
        return st;
    if (n == 0)
        return kiln_fail(KILN_E_FORMAT, "%s: no images: no views", names->images);
    if ((st = splat_camera_set_alloc(set, n, names->images)) != KILN_OK)
        return st;
    for (size_t i = 0; i < n; i++)
        if ((st = image_bin_read(&r, i, cams, ncams, names, &set->cameras[i])) != KILN_OK)
            return st;
    if (r.left != 0)
        return kiln_fail(KILN_E_FORMAT, "%s: %zu bytes after the last image", names->images,
                         r.left);
    return KILN_OK;
}

/* Ends a model's parse: the views sorted on success, freed on error; the
 * cameras freed either way.  Returns st. */
static kiln_status model_finish(kiln_status st, colmap_camera *cams, splat_camera_set *set)
{
    if (st != KILN_OK)
        splat_camera_set_free(set);
    else
        splat_camera_set_sort(set);
    kiln_free(cams);
    return st;
}

/* Parses a binary model: cameras, then images against them, sorted. */
kiln_status splat_cameras_parse_colmap_bin(const void *cameras_bin, size_t cameras_len,
                                           const void *images_bin, size_t images_len,
                                           const char *name, splat_camera_set *set)
{
    colmap_names names = { { 0 }, { 0 } };
    colmap_camera *cams;
    size_t ncams;
    kiln_status st;

    memset(set, 0, sizeof(*set));
    colmap_names_init(&names, name, "bin");
    st = cameras_bin_read(cameras_bin, cameras_len, names.cameras, &cams, &ncams);
    if (st != KILN_OK)
        return st;
    st = images_bin_read(images_bin, images_len, cams, ncams, &names, set);
    return model_finish(st, cams, set);
}

/* ---- text ---- */

/* Parses one line of cameras.txt: CAMERA_ID MODEL WIDTH HEIGHT PARAMS[]. */
static kiln_status camera_text_read(char *line, const colmap_text *t, colmap_camera *cam)
{
    double p[COLMAP_PARAMS_MAX];
    uint64_t id;
    const char *model_name;
    char *extra;
    int model = -1;
    kiln_status st;

    if ((st = colmap_token_uint(colmap_token_next(&line), UINT32_MAX, t, "camera id",
                                &id)) != KILN_OK)
        return st;
    cam->id = (uint32_t)id;
    model_name = colmap_token_next(&line);
    if (!model_name)
        return kiln_fail(KILN_E_FORMAT, "%s: line %zu: camera %u has no model", t->file,
                         t->line_no, cam->id);
    for (int m = 0; m < COLMAP_MODEL_COUNT; m++)
        if (strcmp(model_name, colmap_models[m].name) == 0)
            model = m;
    if (model < 0)
        return kiln_fail(KILN_E_FORMAT, "%s: line %zu: camera %u: unknown model %.32s", t->file,
                         t->line_no, cam->id, model_name);
    if ((st = colmap_token_uint(colmap_token_next(&line), UINT64_MAX, t, "width",
                                &cam->width)) != KILN_OK ||
        (st = colmap_token_uint(colmap_token_next(&line), UINT64_MAX, t, "height",
                                &cam->height)) != KILN_OK)
        return st;
    for (int i = 0; i < colmap_models[model].params; i++)
        if ((st = colmap_token_double(colmap_token_next(&line), t, "camera parameter",
                                      &p[i])) != KILN_OK)
            return st;
    extra = colmap_token_next(&line);
    if (extra)
        return kiln_fail(KILN_E_FORMAT, "%s: line %zu: camera %u: more than the %d parameters "
                         "of %s", t->file, t->line_no, cam->id, colmap_models[model].params,
                         model_name);
    return colmap_camera_set(cam, model, p, t->file);
}

/* Reads cameras.txt into a new table sorted by id. */
static kiln_status cameras_text_read(const char *text, size_t len, const char *file,
                                     colmap_camera **cams, size_t *ncams)
{
    colmap_text t;
    colmap_camera *tab = NULL;
    size_t n = 0, cap = 0;
    char *line;
    kiln_status st;

    *cams = NULL;
    *ncams = 0;
    if ((st = colmap_text_init(&t, text, len, file)) != KILN_OK)
        return st;
    /* one camera a line: at most as many as there are newlines, plus one */
    for (size_t i = 0; i < len; i++)
        cap += text[i] == '\n';
    tab = kiln_calloc(cap + 1, sizeof(*tab));
    if (!tab) {
        st = kiln_fail(KILN_E_HOSTMEM, "%s: out of host memory for %zu cameras", file, cap + 1);
        goto out_free_text;
    }
    while ((line = colmap_text_line(&t)) != NULL) {
        int comment;

        if (colmap_line_blank(line, &comment) || comment)
            continue;
        if ((st = camera_text_read(line, &t, &tab[n])) != KILN_OK)
            goto out_free_table;
        n++;
    }
    if (n == 0) {
        st = kiln_fail(KILN_E_FORMAT, "%s: no cameras", file);
        goto out_free_table;
    }
    if ((st = cameras_index(tab, n, file)) != KILN_OK)
        goto out_free_table;
    *cams = tab;
    *ncams = n;
    kiln_free(t.buf);
    return KILN_OK;
out_free_table:
    kiln_free(tab);
out_free_text:
    kiln_free(t.buf);
    return st;
}

/* Parses the first line of an image in images.txt:
 * IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME (the rest of the line). */
static kiln_status image_text_read(char *line, size_t index, const colmap_text *t,
                                   const colmap_camera *cams, size_t ncams,
                                   const colmap_names *names, splat_camera *view)
{
    uint64_t image_id, camera_id;
    double q[4], t3[3];
    const char *fields[] = { "QW", "QX", "QY", "QZ", "TX", "TY", "TZ" };
    char *img, *end;
    kiln_status st;

    if ((st = colmap_token_uint(colmap_token_next(&line), UINT32_MAX, t, "image id",
                                &image_id)) != KILN_OK)
        return st;
    for (int i = 0; i < 7; i++)
        if ((st = colmap_token_double(colmap_token_next(&line), t, fields[i],
                                      i < 4 ? &q[i] : &t3[i - 4])) != KILN_OK)
            return st;
    if ((st = colmap_token_uint(colmap_token_next(&line), UINT32_MAX, t, "camera id",
                                &camera_id)) != KILN_OK)
        return st;
    img = line + strspn(line, " \t");
    end = img + strlen(img);
    while (end > img && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (end == img)
        return kiln_fail(KILN_E_FORMAT, "%s: line %zu: image %u has no name", t->file,
                         t->line_no, (uint32_t)image_id);
    if ((st = splat_camera_name_set(view, img, (size_t)(end - img), t->file, index)) != KILN_OK)
        return st;
    return view_finish(view, cams, ncams, (uint32_t)camera_id, q, t3, names);
}

/* Reads images.txt (two lines an image, the second the points, possibly
 * empty) against the camera table into *set. */
static kiln_status images_text_read(const char *text, size_t len, const colmap_camera *cams,
                                    size_t ncams, const colmap_names *names,
                                    splat_camera_set *set)
{
    colmap_text t;
    size_t n = 0, lines = 0;
    char *line;
    kiln_status st;

    if ((st = colmap_text_init(&t, text, len, names->images)) != KILN_OK)
        return st;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    /* an image takes two lines, the last one's points line may be absent */
    if ((st = splat_camera_set_alloc(set, lines / 2 + 1, names->images)) != KILN_OK)
        goto out_free_text;
    while ((line = colmap_text_line(&t)) != NULL) {
        int comment;

        if (colmap_line_blank(line, &comment) || comment)
            continue;
        if ((st = image_text_read(line, n, &t, cams, ncams, names, &set->cameras[n])) != KILN_OK)
            goto out_free_text;
        n++;
        colmap_text_line(&t);    /* the image's points: not needed */
    }
    if (n == 0) {
        st = kiln_fail(KILN_E_FORMAT, "%s: no images: no views", names->images);
        goto out_free_text;
    }
    set->count = n;
out_free_text:
    kiln_free(t.buf);
    return st;
}

/* Parses a text model: cameras, then images against them, sorted. */
kiln_status splat_cameras_parse_colmap_text(const char *cameras_txt, size_t cameras_len,
                                            const char *images_txt, size_t images_len,
                                            const char *name, splat_camera_set *set)
{
    colmap_names names = { { 0 }, { 0 } };
    colmap_camera *cams;
    size_t ncams;
    kiln_status st;

    memset(set, 0, sizeof(*set));
    colmap_names_init(&names, name, "txt");
    st = cameras_text_read(cameras_txt, cameras_len, names.cameras, &cams, &ncams);
    if (st != KILN_OK)
        return st;
    st = images_text_read(images_txt, images_len, cams, ncams, &names, set);
    return model_finish(st, cams, set);
}
