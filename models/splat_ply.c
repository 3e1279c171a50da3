/* Inria PLY scenes: reading (any property order, extra properties and
 * elements, float32 or float64 parameters) and writing (exactly the
 * reference trainer's layout), see splat_scene.h. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "atomic_file.h"
#include "host_alloc.h"
#include "ply_header.h"
#include "splat_readers.h"
#include "status.h"

/* The parameters of one Gaussian, in the writer's property order. */
enum {
    FIELD_X, FIELD_Y, FIELD_Z,
    FIELD_NX, FIELD_NY, FIELD_NZ,
    FIELD_DC0, FIELD_DC1, FIELD_DC2,
    FIELD_REST0,                        /* f_rest_0 .. f_rest_44 */
    FIELD_OPACITY = FIELD_REST0 + 45,
    FIELD_SCALE0, FIELD_SCALE1, FIELD_SCALE2,
    FIELD_ROT0, FIELD_ROT1, FIELD_ROT2, FIELD_ROT3,
    FIELD_COUNT
};
#define FIELD_NONE (-1)
#define REST_MAX 45

/* Names of the fields other than f_rest_*, FIELD_NONE-free by index. */
static const struct {
    int field;
    const char *name;
    int optional;
} named_fields[] = {
    { FIELD_X, "x", 0 },           { FIELD_Y, "y", 0 },           { FIELD_Z, "z", 0 },
    { FIELD_NX, "nx", 1 },         { FIELD_NY, "ny", 1 },         { FIELD_NZ, "nz", 1 },
    { FIELD_DC0, "f_dc_0", 0 },    { FIELD_DC1, "f_dc_1", 0 },    { FIELD_DC2, "f_dc_2", 0 },
    { FIELD_OPACITY, "opacity", 0 }, { FIELD_SCALE0, "scale_0", 0 }, { FIELD_SCALE1, "scale_1", 0 },
    { FIELD_SCALE2, "scale_2", 0 }, { FIELD_ROT0, "rot_0", 0 },   { FIELD_ROT1, "rot_1", 0 },
    { FIELD_ROT2, "rot_2", 0 },     { FIELD_ROT3, "rot_3", 0 },
};

/* How the vertex element's properties map onto fields. */
typedef struct vertex_map {
    int prop_field[FIELD_COUNT];    /* property index (in the element) of each field, or -1 */
    int *field_of;                  /* field of each property, or FIELD_NONE (n_props) */
    size_t n_rest;                  /* f_rest count: 0, 9, 24 or 45 */
    size_t n_rest_named;            /* properties whose name starts f_rest_ */
    uint32_t sh_degree;
    size_t min_row;                 /* bytes of a row whose lists are all empty */
} vertex_map;

/* The field a property named f_rest_<k> stands for, or FIELD_NONE when
 * the name is not f_rest_<k> with k < 45 written without leading zeros. */
static int rest_field(const ply_property *p)
{
    static const char prefix[] = "f_rest_";
    size_t n = sizeof(prefix) - 1, k = 0;

    if (p->name_len <= n || p->name_len > n + 2 || memcmp(p->name, prefix, n) != 0)
        return FIELD_NONE;
    if (p->name[n] == '0' && p->name_len > n + 1)
        return FIELD_NONE;
    for (size_t i = n; i < p->name_len; i++) {
        if (p->name[i] < '0' || p->name[i] > '9')
            return FIELD_NONE;
        k = k * 10 + (size_t)(p->name[i] - '0');
    }
    return k < REST_MAX ? FIELD_REST0 + (int)k : FIELD_NONE;
}

/* The field property p stands for, or FIELD_NONE for an extra property. */
static int property_field(const ply_property *p)
{
    for (size_t i = 0; i < sizeof(named_fields) / sizeof(named_fields[0]); i++)
        if (ply_property_is(p, named_fields[i].name))
            return named_fields[i].field;
    return rest_field(p);
}

/* Builds the map of the vertex element `el` of hdr.  KILN_E_FORMAT
 * naming the file and the problem: a missing property, a parameter that
 * is a list or not float/double, a property given twice, an f_rest count
 * that is no SH degree; KILN_E_HOSTMEM.  On error map->field_of is NULL. */
static kiln_status vertex_map_build(const ply_header *hdr, const ply_element *el, const char *name,
                                    vertex_map *map)
{
    kiln_status st;
    size_t i;

    memset(map, 0, sizeof(*map));
    for (i = 0; i < FIELD_COUNT; i++)
        map->prop_field[i] = -1;
    map->field_of = kiln_calloc(el->n_props ? el->n_props : 1, sizeof(*map->field_of));
    if (!map->field_of)
        return kiln_fail(KILN_E_HOSTMEM, "%s: out of host memory mapping PLY properties", name);
    for (i = 0; i < el->n_props; i++) {
        const ply_property *p = &hdr->props[el->first_prop + i];
        int f = property_field(p);

        map->min_row += ply_type_size(p->list_count != PLY_NONE ? p->list_count : p->type);
        map->field_of[i] = f;
        if (p->name_len > 7 && memcmp(p->name, "f_rest_", 7) == 0)
            map->n_rest_named++;
        if (f == FIELD_NONE)
            continue;
        if (map->prop_field[f] >= 0) {
            st = kiln_fail(KILN_E_FORMAT, "%s: vertex property %.*s appears twice", name,
                           (int)p->name_len, p->name);
            goto out_free_map;
        }
        if (p->list_count != PLY_NONE || (p->type != PLY_F32 && p->type != PLY_F64)) {
            st = kiln_fail(KILN_E_FORMAT, "%s: vertex property %.*s is %s%s, not float or double",
                           name, (int)p->name_len, p->name, p->list_count != PLY_NONE ? "a list of " : "",
                           ply_type_name(p->type));
            goto out_free_map;
        }
        map->prop_field[f] = (int)i;
    }
    for (i = 0; i < sizeof(named_fields) / sizeof(named_fields[0]); i++)
        if (!named_fields[i].optional && map->prop_field[named_fields[i].field] < 0) {
            st = kiln_fail(KILN_E_FORMAT, "%s: the vertex element has no property %s", name,
                           named_fields[i].name);
            goto out_free_map;
        }
    map->n_rest = map->n_rest_named;
    if (map->n_rest != 0 && map->n_rest != 9 && map->n_rest != 24 && map->n_rest != 45) {
        st = kiln_fail(KILN_E_FORMAT,
                       "%s: %zu f_rest_* properties fit no SH degree (0, 9, 24 or 45 for degrees 0-3)",
                       name, map->n_rest);
        goto out_free_map;
    }
    for (i = 0; i < map->n_rest; i++)
        if (map->prop_field[FIELD_REST0 + i] < 0) {
            st = kiln_fail(KILN_E_FORMAT, "%s: %zu f_rest_* properties but no f_rest_%zu", name,
                           map->n_rest, i);
            goto out_free_map;
        }
    map->sh_degree = map->n_rest == 0 ? 0 : map->n_rest == 9 ? 1 : map->n_rest == 24 ? 2 : 3;
    return KILN_OK;

out_free_map:
    kiln_free(map->field_of);
    map->field_of = NULL;
    return st;
}

/* Skips the elements before index `vertex`: sets *offset to where the
 * vertex data starts.  KILN_E_FORMAT when such an element has a list
 * property (its size cannot be known without reading it) or when its
 * bytes run past the end of the data (sizes computed without overflow). */
static kiln_status elements_skip(const ply_header *hdr, size_t vertex, size_t len, const char *name,
                                 size_t *offset)
{
    size_t at = hdr->size;

    for (size_t e = 0; e < vertex; e++) {
        const ply_element *el = &hdr->elements[e];
        uint64_t row = 0;

        for (size_t i = 0; i < el->n_props; i++) {
            const ply_property *p = &hdr->props[el->first_prop + i];
            if (p->list_count != PLY_NONE)
                return kiln_fail(KILN_E_FORMAT,
                                 "%s: element %.*s before the vertex element has a list property "
                                 "(%.*s): not supported", name, (int)el->name_len, el->name,
                                 (int)p->name_len, p->name);
            row += ply_type_size(p->type);
        }
        if (row && el->count > (uint64_t)(len - at) / row)
            return kiln_fail(KILN_E_FORMAT,
                             "%s: element %.*s (%llu rows of %llu bytes) runs past the end of the "
                             "file (truncated?)", name, (int)el->name_len, el->name,
                             (unsigned long long)el->count, (unsigned long long)row);
        at += (size_t)(el->count * row);
    }
    *offset = at;
    return KILN_OK;
}

/* Reads the integer list count of type t at p (t is an integer type);
 * a negative signed count reads as UINT64_MAX (refused by the caller). */
static uint64_t list_count_load(const unsigned char *p, ply_type t)
{
    switch (t) {
    case PLY_I8:
        return (int8_t)p[0] < 0 ? UINT64_MAX : p[0];
    case PLY_U8:
        return p[0];
    case PLY_I16:
    case PLY_U16: {
        uint16_t v = (uint16_t)(p[0] | p[1] << 8);
        return t == PLY_I16 && (v & 0x8000u) ? UINT64_MAX : v;
    }
    default: {
        uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24;
        return t == PLY_I32 && (v & 0x80000000u) ? UINT64_MAX : v;
    }
    }
}

/* Reads one vertex row starting at data[*at] into vals (indexed by
 * field) and advances *at past it.  KILN_E_FORMAT when a list runs past
 * len (the fixed part was checked by the caller for fixed rows only). */
static kiln_status row_read(const unsigned char *data, size_t len, size_t *at, const ply_header *hdr,
                            const ply_element *el, const vertex_map *map, const char *name,
                            uint64_t row, float *vals)
{
    size_t pos = *at;

    for (size_t i = 0; i < el->n_props; i++) {
        const ply_property *p = &hdr->props[el->first_prop + i];
        size_t sz;

        if (p->list_count != PLY_NONE) {
            size_t csz = ply_type_size(p->list_count), isz = ply_type_size(p->type);
            uint64_t n;

            if (len - pos < csz)
                goto out_truncated;
            n = list_count_load(data + pos, p->list_count);
            pos += csz;
            if (n > (uint64_t)(len - pos) / isz)
                goto out_truncated;
            pos += (size_t)n * isz;
            continue;
        }
        sz = ply_type_size(p->type);
        if (len - pos < sz)
            goto out_truncated;
        if (map->field_of[i] != FIELD_NONE)
            vals[map->field_of[i]] = p->type == PLY_F32 ? splat_load_f32(data + pos)
                                                        : (float)splat_load_f64(data + pos);
        pos += sz;
    }
    *at = pos;
    return KILN_OK;

out_truncated:
    return kiln_fail(KILN_E_FORMAT, "%s: vertex %llu runs past the end of the file (truncated?)",
                     name, (unsigned long long)row);
}

/* Stores the fields of one Gaussian at index i of scene. */
static void gaussian_store(splat_scene *s, size_t i, const float *vals, size_t n_rest)
{
    size_t coeffs = s->sh_coeffs;

    for (int a = 0; a < 3; a++) {
        s->means[i * 3 + a] = vals[FIELD_X + a];
        s->normals[i * 3 + a] = vals[FIELD_NX + a];
        s->scales[i * 3 + a] = vals[FIELD_SCALE0 + a];
        s->sh[i * coeffs * 3 + a] = vals[FIELD_DC0 + a];
    }
    for (size_t j = 0; j < n_rest; j++) {
        size_t c = j / (coeffs - 1), k = j % (coeffs - 1) + 1;
        s->sh[(i * coeffs + k) * 3 + c] = vals[FIELD_REST0 + j];
    }
    s->opacity[i] = vals[FIELD_OPACITY];
    for (int a = 0; a < 4; a++)
        s->rotations[i * 4 + a] = vals[FIELD_ROT0 + a];
}

/* Whether every field a Gaussian uses is finite. */
static int fields_finite(const float *vals, size_t n_rest)
{
    for (int f = 0; f < FIELD_COUNT; f++) {
        if (f >= FIELD_REST0 + (int)n_rest && f < FIELD_REST0 + REST_MAX)
            continue;
        if (!isfinite(vals[f]))
            return 0;
    }
    return 1;
}

/* Reads an Inria PLY from memory (see splat_readers.h). */
kiln_status splat_ply_read(const unsigned char *data, size_t len, const char *name,
                           const splat_read_options *opt, splat_scene *scene, splat_read_info *info)
{
    ply_header hdr;
    vertex_map map;
    const ply_element *el = NULL;
    size_t vertex = 0, at = 0, kept = 0, nonfinite = 0;
    kiln_status st;

    st = ply_header_parse(data, len, name, &hdr);
    if (st != KILN_OK)
        return st;
    for (vertex = 0; vertex < hdr.n_elements; vertex++)
        if (hdr.elements[vertex].name_len == 6 && memcmp(hdr.elements[vertex].name, "vertex", 6) == 0)
            break;
    if (vertex == hdr.n_elements) {
        st = kiln_fail(KILN_E_FORMAT, "%s: the PLY has no vertex element", name);
        goto out_free_header;
    }
    el = &hdr.elements[vertex];
    st = vertex_map_build(&hdr, el, name, &map);
    if (st != KILN_OK)
        goto out_free_header;
    st = elements_skip(&hdr, vertex, len, name, &at);
    if (st != KILN_OK)
        goto out_free_map;
    /* every row holds at least min_row bytes: a count the data cannot
     * hold is refused before anything is allocated for it */
    if (el->count > (uint64_t)(len - at) / map.min_row) {
        st = kiln_fail(KILN_E_FORMAT,
                       "%s: vertex count %llu needs at least %zu bytes a vertex, beyond the file's "
                       "%zu data bytes (truncated?)", name, (unsigned long long)el->count,
                       map.min_row, len - at);
        goto out_free_map;
    }
    info->file_count = (size_t)el->count;
    info->format = 0;
    st = splat_count_check(name, el->count, opt);
    if (st != KILN_OK)
        goto out_free_map;
    st = splat_scene_alloc(scene, (size_t)el->count, map.sh_degree);
    if (st != KILN_OK) {
        st = kiln_fail_context(st, "%s", name);
        goto out_free_map;
    }
    for (uint64_t r = 0; r < el->count; r++) {
        float vals[FIELD_COUNT] = { 0 };

        st = row_read(data, len, &at, &hdr, el, &map, name, r, vals);
        if (st != KILN_OK)
            goto out_free_scene;
        if (!fields_finite(vals, map.n_rest)) {
            nonfinite++;
            if (opt->nonfinite == SPLAT_NONFINITE_DROP)
                continue;
        }
        gaussian_store(scene, kept++, vals, map.n_rest);
    }
    info->nonfinite = nonfinite;
    st = splat_nonfinite_check(name, nonfinite, info->file_count, opt);
    if (st != KILN_OK)
        goto out_free_scene;
    scene->count = kept;
    kiln_free(map.field_of);
    ply_header_free(&hdr);
    return KILN_OK;

out_free_scene:
    splat_scene_free(scene);
out_free_map:
    kiln_free(map.field_of);
out_free_header:
    ply_header_free(&hdr);
    return st;
}

/* Stores v as a little-endian float32 at p. */
static void store_f32(unsigned char *p, float v)
{
    uint32_t u;

    memcpy(&u, &v, sizeof(u));
    p[0] = (unsigned char)u;
    p[1] = (unsigned char)(u >> 8);
    p[2] = (unsigned char)(u >> 16);
    p[3] = (unsigned char)(u >> 24);
}

/* Writes the header the reference trainer writes (plyfile, no comments). */
static void header_write(FILE *fp, const splat_scene *s)
{
    size_t n_rest = 3 * ((size_t)s->sh_coeffs - 1);

    fprintf(fp, "ply\nformat binary_little_endian 1.0\nelement vertex %zu\n", s->count);
    fputs("property float x\nproperty float y\nproperty float z\n"
          "property float nx\nproperty float ny\nproperty float nz\n"
          "property float f_dc_0\nproperty float f_dc_1\nproperty float f_dc_2\n", fp);
    for (size_t j = 0; j < n_rest; j++)
        fprintf(fp, "property float f_rest_%zu\n", j);
    fputs("property float opacity\n"
          "property float scale_0\nproperty float scale_1\nproperty float scale_2\n"
          "property float rot_0\nproperty float rot_1\nproperty float rot_2\nproperty float rot_3\n"
          "end_header\n", fp);
}

/* Writes one Gaussian's row (the header's property order) into row. */
static size_t row_fill(const splat_scene *s, size_t i, unsigned char *row)
{
    size_t coeffs = s->sh_coeffs, n = 0;

    for (int a = 0; a < 3; a++)
        store_f32(row + 4 * n++, s->means[i * 3 + a]);
    for (int a = 0; a < 3; a++)
        store_f32(row + 4 * n++, s->normals[i * 3 + a]);
    for (int c = 0; c < 3; c++)
        store_f32(row + 4 * n++, s->sh[i * coeffs * 3 + c]);
    for (size_t c = 0; c < 3; c++)
        for (size_t k = 1; k < coeffs; k++)
            store_f32(row + 4 * n++, s->sh[(i * coeffs + k) * 3 + c]);
    store_f32(row + 4 * n++, s->opacity[i]);
    for (int a = 0; a < 3; a++)
        store_f32(row + 4 * n++, s->scales[i * 3 + a]);
    for (int a = 0; a < 4; a++)
        store_f32(row + 4 * n++, s->rotations[i * 4 + a]);
    return 4 * n;
}

/* Writes the scene as an Inria PLY, atomically (see splat_scene.h). */
kiln_status splat_scene_write_ply(const char *path, const splat_scene *scene)
{
    unsigned char row[4 * FIELD_COUNT];
    atomic_file af;
    kiln_status st;

    if (!path || !scene)
        return kiln_fail(KILN_E_INVAL, "splat_scene_write_ply: NULL path or scene");
    if (scene->sh_degree > SPLAT_SH_DEGREE_MAX ||
        scene->sh_coeffs != (scene->sh_degree + 1) * (scene->sh_degree + 1))
        return kiln_fail(KILN_E_INVAL, "%s: scene has SH degree %u with %u coefficients", path,
                         scene->sh_degree, scene->sh_coeffs);
    st = atomic_file_open(&af, path);
    if (st != KILN_OK)
        return st;
    header_write(af.fp, scene);
    for (size_t i = 0; i < scene->count && !ferror(af.fp); i++) {
        size_t n = row_fill(scene, i, row);
        if (fwrite(row, 1, n, af.fp) != n)
            break;
    }
    return atomic_file_commit(&af);   /* reports a write error, removing the temporary */
}
