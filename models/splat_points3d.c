/* COLMAP's points3D.bin and points3D.txt to a point cloud
 * (splat_point_cloud.h), with the readers of colmap_io.h. */
#include <math.h>
#include <string.h>

#include "colmap_io.h"
#include "host_alloc.h"
#include "splat_point_cloud.h"
#include "status.h"

/* Bytes of a point of points3D.bin without its track. */
#define POINT_BIN_MIN (8 + 3 * 8 + 3 + 8 + 8)

/* Reads point `i` of points3D.bin into the cloud. */
static kiln_status point_bin_read(colmap_bin_reader *r, size_t i, splat_point_cloud *pc)
{
    uint64_t id, rgb[3], track;
    double xyz[3], error;
    kiln_status st;

    if ((st = colmap_bin_uint(r, 8, "a point id", &id)) != KILN_OK ||
        (st = colmap_bin_doubles(r, 3, "a point position", xyz)) != KILN_OK)
        return st;
    for (int c = 0; c < 3; c++)
        if ((st = colmap_bin_uint(r, 1, "a point colour", &rgb[c])) != KILN_OK)
            return st;
    if ((st = colmap_bin_doubles(r, 1, "a point error", &error)) != KILN_OK ||
        (st = colmap_bin_uint(r, 8, "a track length", &track)) != KILN_OK)
        return st;
    if (track > r->left / 8)
        return kiln_fail(KILN_E_FORMAT, "%s: truncated: point %zu (id %llu) has a track of %llu "
                         "observations, more than the %zu bytes that remain hold", r->file, i,
                         (unsigned long long)id, (unsigned long long)track, r->left);
    r->p += (size_t)track * 8;
    r->left -= (size_t)track * 8;
    for (int k = 0; k < 3; k++) {
        if (!isfinite(xyz[k]) || !isfinite((float)xyz[k]))
            return kiln_fail(KILN_E_FORMAT, "%s: point %zu (id %llu): coordinate %c = %g is not "
                             "a finite float", r->file, i, (unsigned long long)id, "xyz"[k],
                             xyz[k]);
        pc->points[3 * i + k] = (float)xyz[k];
        pc->colours[3 * i + k] = (uint8_t)rgb[k];
    }
    return KILN_OK;
}

/* Parses points3D.bin (splat_point_cloud.h). */
kiln_status splat_points3d_parse_bin(const void *data, size_t len, const char *name,
                                     splat_point_cloud *pc)
{
    colmap_bin_reader r = { data, len, name };
    size_t n;
    kiln_status st;

    memset(pc, 0, sizeof(*pc));
    if ((st = colmap_bin_count(&r, POINT_BIN_MIN, "points", &n)) != KILN_OK)
        return st;
    if ((st = splat_point_cloud_alloc(pc, n, name)) != KILN_OK)
        return st;
    for (size_t i = 0; i < n; i++)
        if ((st = point_bin_read(&r, i, pc)) != KILN_OK)
            goto out_free_cloud;
    if (r.left != 0) {
        st = kiln_fail(KILN_E_FORMAT, "%s: %zu bytes after the last point", name, r.left);
        goto out_free_cloud;
    }
    return KILN_OK;
out_free_cloud:
    splat_point_cloud_free(pc);
    return st;
}

/* Parses one line of points3D.txt into point `i`. */
static kiln_status point_text_read(char *line, const colmap_text *t, size_t i,
                                   splat_point_cloud *pc)
{
    static const char *const axes[] = { "X", "Y", "Z" }, *const chans[] = { "R", "G", "B" };
    uint64_t id, rgb;
    double v;
    size_t track = 0;
    kiln_status st;

    if ((st = colmap_token_uint(colmap_token_next(&line), UINT64_MAX, t, "POINT3D_ID", &id)) !=
        KILN_OK)
        return st;
    for (int k = 0; k < 3; k++) {
        if ((st = colmap_token_double(colmap_token_next(&line), t, axes[k], &v)) != KILN_OK)
            return st;
        if (!isfinite((float)v))
            return kiln_fail(KILN_E_FORMAT, "%s: line %zu: %s = %g is not a finite float",
                             t->file, t->line_no, axes[k], v);
        pc->points[3 * i + k] = (float)v;
    }
    for (int c = 0; c < 3; c++) {
        if ((st = colmap_token_uint(colmap_token_next(&line), 255, t, chans[c], &rgb)) !=
            KILN_OK)
            return st;
        pc->colours[3 * i + c] = (uint8_t)rgb;
    }
    if ((st = colmap_token_double(colmap_token_next(&line), t, "ERROR", &v)) != KILN_OK)
        return st;
    while (colmap_token_next(&line))
        track++;
    if (track % 2)
        return kiln_fail(KILN_E_FORMAT, "%s: line %zu: point %llu: a track of %zu values is not "
                         "(IMAGE_ID, POINT2D_IDX) pairs", t->file, t->line_no,
                         (unsigned long long)id, track);
    return KILN_OK;
}

/* Parses points3D.txt (splat_point_cloud.h). */
kiln_status splat_points3d_parse_text(const char *text, size_t len, const char *name,
                                      splat_point_cloud *pc)
{
    colmap_text t;
    size_t n = 0, lines = 0;
    char *line;
    kiln_status st;

    memset(pc, 0, sizeof(*pc));
    if ((st = colmap_text_init(&t, text, len, name)) != KILN_OK)
        return st;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    if ((st = splat_point_cloud_alloc(pc, lines + 1, name)) != KILN_OK)
        goto out_free_text;
    while ((line = colmap_text_line(&t)) != NULL) {
        int comment;

        if (colmap_line_blank(line, &comment) || comment)
            continue;
        if ((st = point_text_read(line, &t, n, pc)) != KILN_OK)
            goto out_free_cloud;
        n++;
    }
    pc->count = n;
    kiln_free(t.buf);
    return KILN_OK;
out_free_cloud:
    splat_point_cloud_free(pc);
out_free_text:
    kiln_free(t.buf);
    return st;
}
