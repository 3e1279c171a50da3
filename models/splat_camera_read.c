/* splat_cameras_read: a camera file or directory to views, the format
 * told from the content and the names (splat_camera.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "file_open.h"
#include "host_alloc.h"
#include "splat_camera_source.h"
#include "status.h"

/* The largest camera file read (a COLMAP images.bin with its 2D points
 * is the big one: about 24 bytes a point observation). */
#define CAMERA_FILE_MAX ((size_t)256 << 20)

/* Reads the whole regular file `path` (at most `max` bytes) into a new
 * kiln_ block *data (NUL-terminated, *len bytes before the NUL). */
kiln_status splat_file_read_whole(const char *path, size_t max, const char *what, char **data,
                                  size_t *len)
{
    struct stat sb;
    char *buf;
    kiln_status st = KILN_OK;
    FILE *fp;

    *data = NULL;
    *len = 0;
    if ((st = file_open_regular(path, &fp)) != KILN_OK)
        return st;
    if (fstat(fileno(fp), &sb) != 0) {
        st = kiln_fail(KILN_E_IO, "%s: cannot read: %s", path, strerror(errno));
        goto out_close;
    }
    if (sb.st_size < 0 || (unsigned long long)sb.st_size > max) {
        st = kiln_fail(KILN_E_LIMIT, "%s: %lld bytes is more than the %zu MiB %s may have",
                       path, (long long)sb.st_size, max >> 20, what);
        goto out_close;
    }
    buf = kiln_malloc((size_t)sb.st_size + 1);
    if (!buf) {
        st = kiln_fail(KILN_E_HOSTMEM, "%s: out of host memory for %lld bytes", path,
                       (long long)sb.st_size);
        goto out_close;
    }
    if (fread(buf, 1, (size_t)sb.st_size, fp) != (size_t)sb.st_size) {
        st = kiln_fail(KILN_E_IO, "%s: read failed", path);
        kiln_free(buf);
        goto out_close;
    }
    buf[sb.st_size] = '\0';
    *data = buf;
    *len = (size_t)sb.st_size;
out_close:
    fclose(fp);
    return st;
}

/* What `path` is: 'd' a directory, 'f' anything else that exists, 0
 * nothing (or not reachable). */
static char path_kind(const char *path)
{
    struct stat sb;

    if (stat(path, &sb) != 0)
        return 0;
    return S_ISDIR(sb.st_mode) ? 'd' : 'f';
}

/* Joins dir and leaf into buf; KILN_E_INVAL when it does not fit. */
static kiln_status path_join(char *buf, size_t size, const char *dir, const char *leaf)
{
    int n = snprintf(buf, size, "%s/%s", dir, leaf);

    if (n < 0 || (size_t)n >= size)
        return kiln_fail(KILN_E_INVAL, "%s/%s: path too long", dir, leaf);
    return KILN_OK;
}

/* Reads the COLMAP model of `dir` in format `ext` ("bin" or "txt"). */
static kiln_status colmap_read(const char *dir, const char *ext, splat_camera_set *set)
{
    char cam_path[4096], img_path[4096], leaf[16];
    char *cams = NULL, *imgs = NULL;
    size_t cams_len, imgs_len;
    kiln_status st;

    snprintf(leaf, sizeof(leaf), "cameras.%s", ext);
    if ((st = path_join(cam_path, sizeof(cam_path), dir, leaf)) != KILN_OK)
        return st;
    snprintf(leaf, sizeof(leaf), "images.%s", ext);
    if ((st = path_join(img_path, sizeof(img_path), dir, leaf)) != KILN_OK)
        return st;
    if ((st = splat_file_read_whole(cam_path, CAMERA_FILE_MAX, "a camera file", &cams,
                                    &cams_len)) != KILN_OK)
        return st;
    if ((st = splat_file_read_whole(img_path, CAMERA_FILE_MAX, "a camera file", &imgs,
                                    &imgs_len)) != KILN_OK)
        goto out_free_cameras;
    if (ext[0] == 'b')
        st = splat_cameras_parse_colmap_bin(cams, cams_len, imgs, imgs_len, dir, set);
    else
        st = splat_cameras_parse_colmap_text(cams, cams_len, imgs, imgs_len, dir, set);
    kiln_free(imgs);
out_free_cameras:
    kiln_free(cams);
    return st;
}

/* Reads a JSON camera file; a transforms frame without w/h looks for its
 * image beside the file.  With `paths`, only a transforms file is
 * accepted and its paths are kept. */
static kiln_status json_read(const char *path, splat_camera_set *set,
                             splat_transforms_paths *paths)
{
    char dir[4096], *slash, *text;
    size_t len;
    kiln_status st;

    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    if ((st = splat_file_read_whole(path, CAMERA_FILE_MAX, "a camera file", &text, &len)) !=
        KILN_OK)
        return st;
    if (paths)
        st = splat_transforms_parse_at(text, len, path, dir, set, paths);
    else
        st = splat_cameras_parse_json_at(text, len, path, dir, set);
    kiln_free(text);
    return st;
}

/* Reads a directory: a COLMAP model (binary first), sparse/0, then
 * cameras.json, then transforms.json. */
static kiln_status dir_read(const char *dir, splat_camera_set *set)
{
    static const char *const exts[] = { "bin", "txt" };
    char a[4096], b[4096];
    kiln_status st;

    for (size_t e = 0; e < 2; e++) {
        char leaf[16];

        snprintf(leaf, sizeof(leaf), "cameras.%s", exts[e]);
        if ((st = path_join(a, sizeof(a), dir, leaf)) != KILN_OK)
            return st;
        snprintf(leaf, sizeof(leaf), "images.%s", exts[e]);
        if ((st = path_join(b, sizeof(b), dir, leaf)) != KILN_OK)
            return st;
        if (path_kind(a) == 'f' && path_kind(b) == 'f')
            return colmap_read(dir, exts[e], set);
    }
    if ((st = path_join(a, sizeof(a), dir, "sparse/0")) != KILN_OK)
        return st;
    if (path_kind(a) == 'd') {
        for (size_t e = 0; e < 2; e++) {
            char leaf[16];

            snprintf(leaf, sizeof(leaf), "cameras.%s", exts[e]);
            if ((st = path_join(b, sizeof(b), a, leaf)) != KILN_OK)
                return st;
            if (path_kind(b) == 'f')
                return colmap_read(a, exts[e], set);
        }
    }
    if ((st = path_join(a, sizeof(a), dir, "cameras.json")) != KILN_OK)
        return st;
    if (path_kind(a) == 'f')
        return json_read(a, set, NULL);
    if ((st = path_join(a, sizeof(a), dir, "transforms.json")) != KILN_OK)
        return st;
    if (path_kind(a) == 'f')
        return json_read(a, set, NULL);
    return kiln_fail(KILN_E_IO, "%s: no cameras here: a camera directory holds a COLMAP model "
                     "(cameras.bin and images.bin, or the .txt pair), sparse/0, cameras.json "
                     "or transforms.json", dir);
}

/* Dispatches on what `path` is (see splat_camera.h). */
kiln_status splat_cameras_read(const char *path, splat_camera_set *set)
{
    static const char *const colmap_leaves[] = { "cameras.bin", "images.bin", "cameras.txt",
                                                 "images.txt" };
    const char *base = strrchr(path, '/');
    struct stat sb;

    memset(set, 0, sizeof(*set));
    if (stat(path, &sb) != 0)
        return kiln_fail(KILN_E_IO, "%s: cannot read camera file: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return dir_read(path, set);
    base = base ? base + 1 : path;
    for (size_t i = 0; i < sizeof(colmap_leaves) / sizeof(colmap_leaves[0]); i++)
        if (strcmp(base, colmap_leaves[i]) == 0) {
            char dir[4096];

            if (base == path)
                snprintf(dir, sizeof(dir), ".");
            else if (base == path + 1)
                snprintf(dir, sizeof(dir), "/");
            else
                snprintf(dir, sizeof(dir), "%.*s", (int)(base - path - 1), path);
            return colmap_read(dir, strchr(base, '.') + 1, set);
        }
    return json_read(path, set, NULL);
}

/* Reads a transforms file keeping its paths (splat_camera_source.h). */
kiln_status splat_transforms_read(const char *path, splat_camera_set *set,
                                  splat_transforms_paths *paths)
{
    memset(set, 0, sizeof(*set));
    memset(paths, 0, sizeof(*paths));
    return json_read(path, set, paths);
}
