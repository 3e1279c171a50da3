/* Reading scene files: the whole file into host memory, the format told
 * apart by content (splat_scene.h); the checks every format shares are in
 * splat_read_common.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "file_open.h"
#include "host_alloc.h"
#include "splat_readers.h"
#include "status.h"

/* Whether `name` ends in ".splat" (any case). */
static int name_is_dotsplat(const char *name)
{
    size_t n = strlen(name);

    return n >= 6 && strcasecmp(name + n - 6, ".splat") == 0;
}

/* Whether data starts with a PLY magic line ("ply\n" or "ply\r\n"). */
static int data_is_ply(const unsigned char *data, size_t len)
{
    return len >= 4 && memcmp(data, "ply", 3) == 0 &&
           (data[3] == '\n' || (len >= 5 && data[3] == '\r' && data[4] == '\n'));
}

/* Reads from memory, dispatching on the content (see splat_scene.h). */
kiln_status splat_scene_read_mem(const void *data, size_t len, const char *name,
                                 const splat_read_options *opt, splat_scene *scene,
                                 splat_read_info *info)
{
    static const splat_read_options defaults = { 0, SPLAT_NONFINITE_REFUSE };
    splat_read_info scratch;
    kiln_status st;

    if (scene)
        memset(scene, 0, sizeof(*scene));
    if (!info)
        info = &scratch;
    memset(info, 0, sizeof(*info));
    if (!name)
        name = "(memory)";
    if (!scene || (!data && len))
        return kiln_fail(KILN_E_INVAL, "%s: splat_scene_read_mem: NULL scene or data", name);
    if (!opt)
        opt = &defaults;
    if (opt->nonfinite != SPLAT_NONFINITE_REFUSE && opt->nonfinite != SPLAT_NONFINITE_DROP)
        return kiln_fail(KILN_E_INVAL, "%s: unknown non-finite policy %d", name, (int)opt->nonfinite);
    if (data_is_ply(data, len))
        st = splat_ply_read(data, len, name, opt, scene, info);
    else if (name_is_dotsplat(name))
        st = splat_dotsplat_read(data, len, name, opt, scene, info);
    else if (len == 0)
        st = kiln_fail(KILN_E_FORMAT, "%s: empty file, not a scene", name);
    else
        st = kiln_fail(KILN_E_FORMAT,
                       "%s: not a scene file (no \"ply\" first line, and not named .splat)", name);
    if (st != KILN_OK)
        memset(scene, 0, sizeof(*scene));
    return st;
}

/* Reads the whole file into host memory, then as splat_scene_read_mem. */
kiln_status splat_scene_read(const char *path, const splat_read_options *opt, splat_scene *scene,
                             splat_read_info *info)
{
    struct stat sb;
    unsigned char *buf;
    size_t len, got;
    FILE *fp;
    kiln_status st;

    if (scene)
        memset(scene, 0, sizeof(*scene));
    if (info)
        memset(info, 0, sizeof(*info));
    if (!path || !scene)
        return kiln_fail(KILN_E_INVAL, "splat_scene_read: NULL path or scene");
    st = file_open_regular(path, &fp);
    if (st != KILN_OK)
        return st;
    if (fstat(fileno(fp), &sb) != 0) {
        st = kiln_fail(KILN_E_IO, "%s: cannot stat: %s", path, strerror(errno));
        goto out_close_file;
    }
    if ((uintmax_t)sb.st_size > (uintmax_t)SIZE_MAX - 1) {
        st = kiln_fail(KILN_E_IO, "%s: %jd bytes do not fit in memory", path, (intmax_t)sb.st_size);
        goto out_close_file;
    }
    len = (size_t)sb.st_size;
    buf = kiln_malloc(len ? len : 1);
    if (!buf) {
        st = kiln_fail(KILN_E_HOSTMEM, "%s: out of host memory reading %zu bytes", path, len);
        goto out_close_file;
    }
    got = fread(buf, 1, len, fp);
    if (got != len || ferror(fp)) {
        st = kiln_fail(KILN_E_IO, "%s: read error after %zu of %zu bytes%s%s", path, got, len,
                       ferror(fp) ? ": " : " (file shrank while read)",
                       ferror(fp) ? strerror(errno) : "");
        goto out_free_buf;
    }
    st = splat_scene_read_mem(buf, len, path, opt, scene, info);

out_free_buf:
    kiln_free(buf);
out_close_file:
    fclose(fp);
    return st;
}
