/* Opening a training dataset: the layout, the views and their images,
 * the point cloud, the test split (splat_dataset.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "host_alloc.h"
#include "splat_camera_source.h"
#include "splat_dataset.h"
#include "splat_dataset_image.h"
#include "splat_point_cloud.h"
#include "status.h"

/* The largest point file read whole (points3D.bin holds tracks too). */
#define POINT_FILE_MAX ((size_t)4 << 30)

/* What a path is: 'd' a directory, 'f' a regular file, 0 else. */
static char path_kind(const char *path)
{
    struct stat sb;

    if (stat(path, &sb) != 0)
        return 0;
    return S_ISDIR(sb.st_mode) ? 'd' : S_ISREG(sb.st_mode) ? 'f' : 0;
}

/* Writes dir/leaf into buf; KILN_E_INVAL when it does not fit. */
static kiln_status path_join(char *buf, size_t size, const char *dir, const char *leaf)
{
    int n = snprintf(buf, size, "%s/%s", dir, leaf);

    if (n < 0 || (size_t)n >= size)
        return kiln_fail(KILN_E_INVAL, "%s/%s: path too long", dir, leaf);
    return KILN_OK;
}

/* Appends a note to ds->warning ("; " between notes; cut when full). */
static void warning_add(splat_dataset *ds, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void warning_add(splat_dataset *ds, const char *fmt, ...)
{
    size_t used = strlen(ds->warning);
    va_list ap;

    if (used && used + 2 < sizeof(ds->warning)) {
        memcpy(ds->warning + used, "; ", 3);
        used += 2;
    }
    if (used + 1 >= sizeof(ds->warning))
        return;
    va_start(ap, fmt);
    vsnprintf(ds->warning + used, sizeof(ds->warning) - used, fmt, ap);
    va_end(ap);
}

/* The defaults (splat_dataset.h). */
void splat_dataset_options_default(splat_dataset_options *opt)
{
    memset(opt, 0, sizeof(*opt));
    opt->downscale = 1;
    opt->test_every = 8;
    opt->random_points = 100000;
}

/* Frees the views and the points. */
void splat_dataset_free(splat_dataset *ds)
{
    kiln_free(ds->views);
    kiln_free(ds->points);
    kiln_free(ds->colours);
    memset(ds, 0, sizeof(*ds));
}

/* Takes the cloud's arrays into the dataset. */
static void points_take(splat_dataset *ds, splat_point_cloud *pc)
{
    ds->points = pc->points;
    ds->colours = pc->colours;
    ds->npoints = pc->count;
    memset(pc, 0, sizeof(*pc));
}

/* The random init when a dataset has no points (`why` says so in the
 * warning); KILN_E_FORMAT naming `dir` when random init is off. */
static kiln_status points_random(splat_dataset *ds, const splat_dataset_options *opt,
                                 const char *dir, const char *why)
{
    splat_point_cloud pc;
    kiln_status st;

    if (opt->random_points == 0)
        return kiln_fail(KILN_E_FORMAT, "%s: empty point cloud: %s, and random init is off "
                         "(random_points 0)", dir, why);
    if (opt->random_points > SIZE_MAX / 3)
        return kiln_fail(KILN_E_INVAL, "%s: random_points %llu is too many", dir,
                         (unsigned long long)opt->random_points);
    if ((st = splat_point_cloud_random(&pc, (size_t)opt->random_points, opt->seed)) != KILN_OK)
        return st;
    points_take(ds, &pc);
    warning_add(ds, "%s: %s: %llu random points in [-1.3, 1.3]^3", dir, why,
                (unsigned long long)opt->random_points);
    return KILN_OK;
}

/* Reads a point file of kind 'b' (points3D.bin), 't' (points3D.txt) or
 * 'p' (PLY) into the dataset; 0 points fall back to the random init. */
static kiln_status points_load(splat_dataset *ds, const splat_dataset_options *opt,
                               const char *dir, const char *path, char kind)
{
    splat_point_cloud pc;
    char *data;
    size_t len;
    kiln_status st;

    if ((st = splat_file_read_whole(path, POINT_FILE_MAX, "a point file", &data, &len)) !=
        KILN_OK)
        return st;
    if (kind == 'b')
        st = splat_points3d_parse_bin(data, len, path, &pc);
    else if (kind == 't')
        st = splat_points3d_parse_text(data, len, path, &pc);
    else
        st = splat_point_ply_parse(data, len, path, &pc);
    kiln_free(data);
    if (st != KILN_OK)
        return st;
    if (pc.count == 0) {
        char why[4200];

        splat_point_cloud_free(&pc);
        snprintf(why, sizeof(why), "%s holds no points", path);
        return points_random(ds, opt, dir, why);
    }
    points_take(ds, &pc);
    return KILN_OK;
}

/* qsort order of views: test flag, then name. */
static int view_cmp(const void *a, const void *b)
{
    const splat_dataset_view *va = a, *vb = b;

    if (va->test != vb->test)
        return va->test - vb->test;
    return strcmp(va->camera.name, vb->camera.name);
}

/* Sorts the views (train first, then test, each by name) and, when the
 * dataset has no split of its own, marks every test_every-th view. */
static void views_split(splat_dataset *ds, int has_split, uint32_t test_every)
{
    if (ds->count > 1)
        qsort(ds->views, ds->count, sizeof(*ds->views), view_cmp);
    if (has_split || test_every == 0)
        return;
    for (size_t i = 0; i < ds->count; i++)
        ds->views[i].test = i % test_every == 0;
}

/* The folder of downscaled images: sets `folder` to DIR/images_N and
 * returns N when downscale N > 1 and it exists; 1 otherwise, then with
 * *reduce = N when N > 1 was asked for (the full-size images are reduced
 * on the fly, with a note). */
static uint32_t scale_folder(splat_dataset *ds, const char *dir, uint32_t downscale,
                             char *folder, size_t size, uint32_t *reduce)
{
    char leaf[32];

    *reduce = 1;
    if (downscale <= 1)
        return 1;
    snprintf(leaf, sizeof(leaf), "images_%u", downscale);
    if (path_join(folder, size, dir, leaf) == KILN_OK && path_kind(folder) == 'd')
        return downscale;
    warning_add(ds, "%s/%s: no such folder: the full-size images are reduced %u times on the "
                "fly", dir, leaf, downscale);
    *reduce = downscale;
    return 1;
}

/* A view whose full-size image is reduced N times as it is read: its
 * camera becomes the reduced image's (floor(W / N) x floor(H / N), the
 * intrinsics divided by N; the cropped remainder does not move the
 * principal point). */
static void view_reduce(splat_dataset_view *v, uint32_t n)
{
    if (n <= 1)
        return;
    v->reduce = n;
    v->camera.width /= n;
    v->camera.height /= n;
    v->camera.fx /= n;
    v->camera.fy /= n;
    v->camera.cx /= n;
    v->camera.cy /= n;
}

/* Grows ds->views by the views of `set` (all with test flag `test`). */
static kiln_status views_append(splat_dataset *ds, const splat_camera_set *set, int test,
                                const char *source)
{
    splat_dataset_view *v = kiln_realloc(ds->views, (ds->count + set->count) * sizeof(*v));

    if (!v)
        return kiln_fail(KILN_E_HOSTMEM, "%s: out of host memory for %zu views", source,
                         ds->count + set->count);
    ds->views = v;
    for (size_t i = 0; i < set->count; i++) {
        memset(&v[ds->count + i], 0, sizeof(*v));
        v[ds->count + i].camera = set->cameras[i];
        v[ds->count + i].reduce = 1;
        v[ds->count + i].test = test;
    }
    ds->count += set->count;
    if (set->warning[0])
        warning_add(ds, "%s", set->warning);
    return KILN_OK;
}

/* Opens a COLMAP dataset: DIR/sparse/0 and DIR/images. */
static kiln_status colmap_open(const char *dir, const splat_dataset_options *opt,
                               splat_dataset *ds)
{
    char sparse[4096], images[4096], scaled[4096], points[4096];
    splat_camera_set set;
    uint32_t scale, reduce;
    kiln_status st;

    if ((st = path_join(sparse, sizeof(sparse), dir, "sparse/0")) != KILN_OK ||
        (st = path_join(images, sizeof(images), dir, "images")) != KILN_OK)
        return st;
    if (path_kind(images) != 'd')
        return kiln_fail(KILN_E_IO, "%s: missing images folder (a COLMAP dataset keeps its "
                         "images there)", images);
    if ((st = splat_cameras_read(sparse, &set)) != KILN_OK)
        return st;
    st = views_append(ds, &set, 0, sparse);
    splat_camera_set_free(&set);
    if (st != KILN_OK)
        return st;
    scale = scale_folder(ds, dir, opt->downscale, scaled, sizeof(scaled), &reduce);
    for (size_t i = 0; i < ds->count; i++) {
        splat_dataset_view *v = &ds->views[i];

        if ((st = splat_dataset_image_find(v, scale > 1 ? scaled : images, v->camera.name, 0,
                                           sparse)) != KILN_OK ||
            (st = splat_dataset_image_check(v, scale)) != KILN_OK)
            return st;
        view_reduce(v, reduce);
    }
    views_split(ds, 0, opt->test_every);
    if ((st = path_join(points, sizeof(points), sparse, "points3D.bin")) != KILN_OK)
        return st;
    if (path_kind(points) == 'f')
        return points_load(ds, opt, dir, points, 'b');
    if ((st = path_join(points, sizeof(points), sparse, "points3D.txt")) != KILN_OK)
        return st;
    if (path_kind(points) == 'f')
        return points_load(ds, opt, dir, points, 't');
    return points_random(ds, opt, dir, "no sparse/0/points3D.bin or .txt");
}

/* Reads one transforms file's views into the dataset (test flag `test`),
 * with their images; the first file's ply_file_path goes to ply[]. */
static kiln_status transforms_add(splat_dataset *ds, const char *dir, const char *file,
                                  int test, uint32_t downscale, char *ply, size_t ply_size)
{
    splat_camera_set set;
    splat_transforms_paths paths;
    char scaled[4096];
    size_t first = ds->count;
    uint32_t scale, reduce;
    kiln_status st;

    if ((st = splat_transforms_read(file, &set, &paths)) != KILN_OK)
        return st;
    if ((st = views_append(ds, &set, test, file)) != KILN_OK)
        goto out_free_paths;
    if (paths.ply_file_path && !ply[0] &&
        (st = path_join(ply, ply_size, dir, paths.ply_file_path)) != KILN_OK)
        goto out_free_paths;
    scale = scale_folder(ds, dir, downscale, scaled, sizeof(scaled), &reduce);
    for (size_t i = 0; i < set.count; i++) {
        splat_dataset_view *v = &ds->views[first + i];
        const char *rel = paths.file_paths[i], *base = strrchr(rel, '/');

        if (scale > 1)
            st = splat_dataset_image_find(v, scaled, base ? base + 1 : rel, 1, file);
        else
            st = splat_dataset_image_find(v, dir, rel, 1, file);
        if (st != KILN_OK || (st = splat_dataset_image_check(v, scale)) != KILN_OK)
            goto out_free_paths;
        view_reduce(v, reduce);
    }
out_free_paths:
    splat_transforms_paths_free(&paths);
    splat_camera_set_free(&set);
    return st;
}

/* Opens a nerfstudio/Blender dataset: transforms_train.json (+ _test)
 * or transforms.json, then its point cloud. */
static kiln_status transforms_open(const char *dir, const splat_dataset_options *opt,
                                   splat_dataset *ds)
{
    char file[4096], ply[4096] = "";
    int split;
    kiln_status st;

    if ((st = path_join(file, sizeof(file), dir, "transforms_train.json")) != KILN_OK)
        return st;
    split = path_kind(file) == 'f';
    if (!split && (st = path_join(file, sizeof(file), dir, "transforms.json")) != KILN_OK)
        return st;
    if ((st = transforms_add(ds, dir, file, 0, opt->downscale, ply, sizeof(ply))) != KILN_OK)
        return st;
    if (split) {
        if ((st = path_join(file, sizeof(file), dir, "transforms_test.json")) != KILN_OK)
            return st;
        if (path_kind(file) == 'f' &&
            (st = transforms_add(ds, dir, file, 1, opt->downscale, ply, sizeof(ply))) != KILN_OK)
            return st;
    }
    views_split(ds, split, opt->test_every);
    if (ply[0]) {
        if (path_kind(ply) != 'f')
            return kiln_fail(KILN_E_IO, "%s: the point cloud named by ply_file_path is missing",
                             ply);
        return points_load(ds, opt, dir, ply, 'p');
    }
    if ((st = path_join(ply, sizeof(ply), dir, "points3d.ply")) != KILN_OK)
        return st;
    if (path_kind(ply) == 'f')
        return points_load(ds, opt, dir, ply, 'p');
    if ((st = path_join(ply, sizeof(ply), dir, "init.ply")) != KILN_OK)
        return st;
    if (path_kind(ply) == 'f')
        return points_load(ds, opt, dir, ply, 'p');
    return points_random(ds, opt, dir, "no point cloud (ply_file_path, points3d.ply, init.ply)");
}

/* Opens a dataset directory (splat_dataset.h). */
kiln_status splat_dataset_open(const char *path, const splat_dataset_options *opt,
                               splat_dataset *out)
{
    splat_dataset_options o;
    char probe[4096];
    kiln_status st;

    memset(out, 0, sizeof(*out));
    if (opt)
        o = *opt;
    else
        splat_dataset_options_default(&o);
    if (o.downscale == 0)
        o.downscale = 1;
    if (o.downscale != 1 && o.downscale != 2 && o.downscale != 4 && o.downscale != 8)
        return kiln_fail(KILN_E_INVAL, "%s: downscale %u is not 1, 2, 4 or 8", path,
                         o.downscale);
    if (path_kind(path) != 'd')
        return kiln_fail(KILN_E_IO, "%s: not a dataset directory", path);
    if ((st = path_join(probe, sizeof(probe), path, "transforms_train.json")) != KILN_OK)
        return st;
    if (path_kind(probe) != 'f' &&
        (st = path_join(probe, sizeof(probe), path, "transforms.json")) != KILN_OK)
        return st;
    if (path_kind(probe) == 'f') {
        st = transforms_open(path, &o, out);
    } else {
        if ((st = path_join(probe, sizeof(probe), path, "sparse/0")) != KILN_OK)
            return st;
        if (path_kind(probe) == 'd')
            st = colmap_open(path, &o, out);
        else
            st = kiln_fail(KILN_E_FORMAT, "%s: no dataset here: a dataset directory holds "
                           "transforms_train.json, transforms.json or sparse/0 (COLMAP)", path);
    }
    if (st != KILN_OK)
        splat_dataset_free(out);
    return st;
}
