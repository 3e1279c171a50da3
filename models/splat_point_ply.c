/* A PLY point cloud to a point cloud (splat_point_cloud.h): x y z and
 * red green blue of the vertex element, through ply_header.h. */
#include <math.h>
#include <string.h>

#include "ply_header.h"
#include "splat_point_cloud.h"
#include "splat_readers.h"
#include "status.h"

/* The properties read: x y z red green blue. */
#define CLOUD_FIELDS 6
static const char *const cloud_names[CLOUD_FIELDS] = { "x", "y", "z", "red", "green", "blue" };

/* Where each field lies in a vertex row, and the row's size. */
typedef struct cloud_map {
    size_t offset[CLOUD_FIELDS];
    ply_type type[CLOUD_FIELDS];
    size_t row;
} cloud_map;

/* Maps the vertex element's properties; lists, missing fields and
 * wrong types are refused. */
static kiln_status cloud_map_build(const ply_header *hdr, const ply_element *el,
                                   const char *name, cloud_map *map)
{
    int found[CLOUD_FIELDS] = { 0 };

    memset(map, 0, sizeof(*map));
    for (size_t p = 0; p < el->n_props; p++) {
        const ply_property *prop = &hdr->props[el->first_prop + p];

        if (prop->list_count != PLY_NONE)
            return kiln_fail(KILN_E_FORMAT, "%s: vertex property %.*s is a list; a point cloud "
                             "holds scalars only", name, (int)prop->name_len, prop->name);
        for (int f = 0; f < CLOUD_FIELDS; f++)
            if (ply_property_is(prop, cloud_names[f])) {
                found[f] = 1;
                map->offset[f] = map->row;
                map->type[f] = prop->type;
            }
        map->row += ply_type_size(prop->type);
    }
    for (int f = 0; f < CLOUD_FIELDS; f++) {
        int want_float = f < 3;

        if (!found[f])
            return kiln_fail(KILN_E_FORMAT, "%s: the vertex element has no %s property (a point "
                             "cloud needs x y z red green blue)", name, cloud_names[f]);
        if (want_float ? (map->type[f] != PLY_F32 && map->type[f] != PLY_F64)
                       : map->type[f] != PLY_U8)
            return kiln_fail(KILN_E_FORMAT, "%s: vertex property %s is %s, not %s", name,
                             cloud_names[f], ply_type_name(map->type[f]),
                             want_float ? "float or double" : "uchar");
    }
    return KILN_OK;
}

/* Finds the vertex element and the byte offset of its rows (elements
 * before it skipped; a list among them is refused). */
static kiln_status vertex_find(const ply_header *hdr, const char *name, size_t len,
                               const ply_element **vertex, size_t *offset)
{
    size_t at = hdr->size;

    for (size_t e = 0; e < hdr->n_elements; e++) {
        const ply_element *el = &hdr->elements[e];
        size_t row = 0;

        if (el->name_len == 6 && memcmp(el->name, "vertex", 6) == 0) {
            *vertex = el;
            *offset = at;
            return KILN_OK;
        }
        for (size_t p = 0; p < el->n_props; p++) {
            const ply_property *prop = &hdr->props[el->first_prop + p];

            if (prop->list_count != PLY_NONE)
                return kiln_fail(KILN_E_FORMAT, "%s: element %.*s before the vertex element "
                                 "holds a list", name, (int)el->name_len, el->name);
            row += ply_type_size(prop->type);
        }
        if (row && el->count > (len - at) / row)
            return kiln_fail(KILN_E_FORMAT, "%s: truncated: element %.*s of %llu rows does not "
                             "fit in the file", name, (int)el->name_len, el->name,
                             (unsigned long long)el->count);
        at += (size_t)el->count * row;
    }
    return kiln_fail(KILN_E_FORMAT, "%s: no vertex element", name);
}

/* Loads a float or double field. */
static double field_load(const unsigned char *p, ply_type type)
{
    return type == PLY_F32 ? (double)splat_load_f32(p) : splat_load_f64(p);
}

/* Parses a PLY point cloud (splat_point_cloud.h). */
kiln_status splat_point_ply_parse(const void *data, size_t len, const char *name,
                                  splat_point_cloud *pc)
{
    const unsigned char *bytes = data;
    const ply_element *vertex = NULL;
    ply_header hdr;
    cloud_map map;
    size_t at = 0, n;
    kiln_status st;

    memset(pc, 0, sizeof(*pc));
    if ((st = ply_header_parse(data, len, name, &hdr)) != KILN_OK)
        return st;
    if ((st = vertex_find(&hdr, name, len, &vertex, &at)) != KILN_OK ||
        (st = cloud_map_build(&hdr, vertex, name, &map)) != KILN_OK)
        goto out_free_header;
    if (vertex->count > (len - at) / map.row) {
        st = kiln_fail(KILN_E_FORMAT, "%s: truncated: %llu vertices of %zu bytes do not fit in "
                       "the %zu bytes after the header", name,
                       (unsigned long long)vertex->count, map.row, len - at);
        goto out_free_header;
    }
    n = (size_t)vertex->count;
    if ((st = splat_point_cloud_alloc(pc, n, name)) != KILN_OK)
        goto out_free_header;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *row = bytes + at + i * map.row;

        for (int k = 0; k < 3; k++) {
            double v = field_load(row + map.offset[k], map.type[k]);

            if (!isfinite((float)v)) {
                st = kiln_fail(KILN_E_FORMAT, "%s: point %zu: %s = %g is not a finite float",
                               name, i, cloud_names[k], v);
                goto out_free_cloud;
            }
            pc->points[3 * i + k] = (float)v;
            pc->colours[3 * i + k] = row[map.offset[3 + k]];
        }
    }
    ply_header_free(&hdr);
    return KILN_OK;
out_free_cloud:
    splat_point_cloud_free(pc);
out_free_header:
    ply_header_free(&hdr);
    return st;
}
