/* Writing the reference trainer's cameras.json (splat_camera.h): the
 * list its camera_to_JSON builds and json.dump writes, one object a view
 * with the keys in its order: id, img_name, width, height, position (the
 * camera centre), rotation (camera-to-world, 3 rows), fy, fx; then cx and
 * cy, which the reference leaves out, only when the principal point is not
 * the image centre.  Separators ", " and ": " as json.dump's; strings
 * escaped as with ensure_ascii (non-ASCII as \uXXXX, surrogate pairs above
 * U+FFFF; a byte that is not UTF-8 becomes U+FFFD).  Numbers are printed
 * with 17 significant digits, so that every double reads back exactly. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "atomic_file.h"
#include "splat_camera.h"
#include "splat_camera_math.h"
#include "status.h"

/* The length of the UTF-8 sequence starting at s (at most `left` bytes)
 * and its code point in *cp; 0 when the bytes there are not UTF-8
 * (overlong forms, surrogates and values above U+10FFFF included). */
static size_t utf8_decode(const unsigned char *s, size_t left, unsigned long *cp)
{
    size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
    static const unsigned long min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    unsigned long v;

    if (n == 0 || n > left || s[0] >= 0xf8)
        return 0;
    v = s[0] & (0x7fu >> n);
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[k] & 0x3fu);
    }
    if (v < min[n] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return n;
}

/* Writes `s` (up to its NUL or `max` bytes) as a JSON string, quoted and escaped as Python's json.dump
 * with ensure_ascii. */
static void string_write(FILE *fp, const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    const char *nul = memchr(s, '\0', max);
    size_t len = nul ? (size_t)(nul - s) : max;

    fputc('"', fp);
    for (size_t i = 0; i < len;) {
        unsigned char c = p[i];
        unsigned long cp;
        size_t n;

        if (c == '"' || c == '\\') {
            fprintf(fp, "\\%c", c);
        } else if (c == '\n') {
            fputs("\\n", fp);
        } else if (c == '\r') {
            fputs("\\r", fp);
        } else if (c == '\t') {
            fputs("\\t", fp);
        } else if (c == '\b') {
            fputs("\\b", fp);
        } else if (c == '\f') {
            fputs("\\f", fp);
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(fp, "\\u%04x", c);
        } else if (c < 0x80) {
            fputc(c, fp);
        } else {
            n = utf8_decode(p + i, len - i, &cp);
            if (n == 0) {
                fputs("\\ufffd", fp);
                i++;
                continue;
            }
            if (cp >= 0x10000) {
                cp -= 0x10000;
                fprintf(fp, "\\u%04lx\\u%04lx", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
            } else {
                fprintf(fp, "\\u%04lx", cp);
            }
            i += n;
            continue;
        }
        i++;
    }
    fputc('"', fp);
}

/* Writes one view as the object camera_to_JSON makes (the head comment). */
static void view_write(FILE *fp, const splat_camera *cam, size_t id)
{
    double c2w[9], pos[3];

    splat_rigid_invert(cam->rotation, cam->translation, c2w, pos);
    fprintf(fp, "{\"id\": %zu, \"img_name\": ", id);
    string_write(fp, cam->name, sizeof(cam->name));
    fprintf(fp, ", \"width\": %u, \"height\": %u, \"position\": [%.17g, %.17g, %.17g], "
            "\"rotation\": [", cam->width, cam->height, pos[0], pos[1], pos[2]);
    for (int r = 0; r < 3; r++)
        fprintf(fp, "%s[%.17g, %.17g, %.17g]", r ? ", " : "", c2w[3 * r], c2w[3 * r + 1],
                c2w[3 * r + 2]);
    fprintf(fp, "], \"fy\": %.17g, \"fx\": %.17g", cam->fy, cam->fx);
    if (cam->cx != 0.5 * cam->width || cam->cy != 0.5 * cam->height)
        fprintf(fp, ", \"cx\": %.17g, \"cy\": %.17g", cam->cx, cam->cy);
    fputc('}', fp);
}

/* Whether every number of a view is finite (JSON has no NaN or Inf). */
static int view_finite(const splat_camera *cam)
{
    for (int k = 0; k < 9; k++)
        if (!isfinite(cam->rotation[k]))
            return 0;
    for (int k = 0; k < 3; k++)
        if (!isfinite(cam->translation[k]))
            return 0;
    return isfinite(cam->fx) && isfinite(cam->fy) && isfinite(cam->cx) && isfinite(cam->cy);
}

/* Writes the set as cameras.json, atomically (see splat_camera.h). */
kiln_status splat_cameras_write_json(const char *path, const splat_camera_set *set)
{
    atomic_file af;
    kiln_status st;

    if (!path || !set || (set->count && !set->cameras))
        return kiln_fail(KILN_E_INVAL, "splat_cameras_write_json: NULL path or cameras");
    for (size_t i = 0; i < set->count; i++)
        if (!view_finite(&set->cameras[i]))
            return kiln_fail(KILN_E_INVAL, "%s: camera %zu (%s) has a value that is not finite",
                             path, i, set->cameras[i].name);
    st = atomic_file_open(&af, path);
    if (st != KILN_OK)
        return st;
    fputc('[', af.fp);
    for (size_t i = 0; i < set->count && !ferror(af.fp); i++) {
        if (i)
            fputs(", ", af.fp);
        view_write(af.fp, &set->cameras[i], i);
    }
    fputc(']', af.fp);
    return atomic_file_commit(&af);   /* reports a write error, removing the temporary */
}
