/* Reading scene files: the whole file into host memory, the format told
 * apart by content, and the checks every format shares (splat_scene.h,
 * splat_readers.h). */
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

/* Refuses a count over the limit (see splat_readers.h). */
kiln_status splat_count_check(const char *name, uint64_t count, const splat_read_options *opt)
{
    if (opt->max_gaussians && count > opt->max_gaussians)
        return kiln_fail(KILN_E_LIMIT,
                         "%s: %llu Gaussians exceed the limit of %llu ([splat] max_gaussians)", name,
                         (unsigned long long)count, (unsigned long long)opt->max_gaussians);
    return KILN_OK;
}

/* Refuses non-finite Gaussians when the options say so (see
 * splat_readers.h). */
kiln_status splat_nonfinite_check(const char *name, size_t nonfinite, size_t file_count,
                                  const splat_read_options *opt)
{
    if (nonfinite && opt->nonfinite == SPLAT_NONFINITE_REFUSE)
        return kiln_fail(KILN_E_FORMAT,
                         "%s: %zu of %zu Gaussians hold NaN or infinite values (refused; the drop "
                         "policy leaves them out)", name, nonfinite, file_count);
    return KILN_OK;
}

/* Loads a little-endian float32. */
float splat_load_f32(const unsigned char *p)
{
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    float f;

    memcpy(&f, &u, sizeof(f));
    return f;
}

/* Loads a little-endian float64. */
double splat_load_f64(const unsigned char *p)
{
    uint64_t u = 0;
    double d;

    for (int i = 7; i >= 0; i--)
        u = u << 8 | p[i];
    memcpy(&d, &u, sizeof(d));
    return d;
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
