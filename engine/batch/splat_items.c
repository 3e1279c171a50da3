/* Splat items in the batch (see splat_items.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "host_alloc.h"
#include "splat_items.h"
#include "stage_splat.h"
#include "status.h"

struct splat_item_cache {
    const job_config *job;
    char source[JOB_PATH_MAX];  /* "" when nothing is cached */
    splat_camera_set set;
};

/* The camera source of a scene into buf: [splat] cameras, or
 * scene_cameras from the scene's directory; "" for an orbit. */
static kiln_status camera_source(const job_splat *cfg, const char *scene, char *buf, size_t len)
{
    const char *slash = strrchr(scene, '/');
    int n;

    if (cfg->orbit_frames > 0)
        n = snprintf(buf, len, "%s", "");
    else if (cfg->cameras[0])
        n = snprintf(buf, len, "%s", cfg->cameras);
    else if (cfg->scene_cameras[0] == '/')
        n = snprintf(buf, len, "%s", cfg->scene_cameras);
    else if (slash)
        n = snprintf(buf, len, "%.*s/%s", (int)(slash - scene), scene, cfg->scene_cameras);
    else
        n = snprintf(buf, len, "%s", cfg->scene_cameras);
    if (n < 0 || (size_t)n >= len)
        return kiln_fail(KILN_E_INVAL, "%s: camera source path too long", scene);
    return KILN_OK;
}

/* The selected view indices of [splat] views ("" = all): a sorted list
 * in *out (kiln_free'd by the caller), *n entries, or *out NULL for all. */
static kiln_status views_parse(const char *spec, size_t **out, size_t *n)
{
    size_t cap = 0;
    const char *p = spec;

    *out = NULL;
    *n = 0;
    while (*p) {
        char *end;
        unsigned long long v;
        size_t *grown;
        while (*p == ',' || *p == ' ')
            p++;
        if (!*p)
            break;
        v = strtoull(p, &end, 10);
        if (end == p || v > 100000000ull) {
            kiln_free(*out);
            *out = NULL;
            return kiln_fail(KILN_E_CONFIG, "[splat] views: '%s' is not a list of view indices",
                             spec);
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            grown = kiln_realloc(*out, cap * sizeof(**out));
            if (!grown) {
                kiln_free(*out);
                *out = NULL;
                return kiln_fail(KILN_E_HOSTMEM, "out of host memory");
            }
            *out = grown;
        }
        (*out)[(*n)++] = (size_t)v;
        p = end;
    }
    return KILN_OK;
}

/* The file name of a view (see splat_items.h). */
void splat_item_view_name(const splat_camera_set *set, size_t index, char *buf, size_t len)
{
    char *dot;
    if (!set) {
        snprintf(buf, len, "orbit_%04zu", index);
        return;
    }
    snprintf(buf, len, "%s", set->cameras[index].name[0] ? set->cameras[index].name : "view");
    for (char *c = buf; *c; c++)
        if (*c == '/' || *c == '\\')
            *c = '_';
    dot = strrchr(buf, '.');
    if (dot && dot != buf && (strcasecmp(dot, ".png") == 0 || strcasecmp(dot, ".jpg") == 0 ||
                              strcasecmp(dot, ".jpeg") == 0))
        *dot = '\0';
}

/* The stem of a scene path (its base name without the extension). */
static void scene_stem(const char *scene, char *buf, size_t len)
{
    const char *base = strrchr(scene, '/');
    const char *dot;
    base = base ? base + 1 : scene;
    dot = strrchr(base, '.');
    snprintf(buf, len, "%.*s", dot && dot != base ? (int)(dot - base) : (int)strlen(base), base);
}

/* Appends one item and its output to the growing arrays. */
static kiln_status item_push(char ***items, char ***outs, size_t *count, size_t *cap,
                             const char *item, const char *out)
{
    if (*count == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        char **ni = kiln_realloc(*items, ncap * sizeof(*ni));
        char **no;
        if (!ni)
            return kiln_fail(KILN_E_HOSTMEM, "out of host memory");
        *items = ni;
        no = kiln_realloc(*outs, ncap * sizeof(*no));
        if (!no)
            return kiln_fail(KILN_E_HOSTMEM, "out of host memory");
        *outs = no;
        *cap = ncap;
    }
    (*items)[*count] = kiln_strdup(item);
    (*outs)[*count] = kiln_strdup(out);
    if (!(*items)[*count] || !(*outs)[*count]) {
        kiln_free((*items)[*count]);
        kiln_free((*outs)[*count]);
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory");
    }
    (*count)++;
    return KILN_OK;
}

/* Expands one scene into its items. */
static kiln_status scene_expand(const job_config *job, const char *scene, const size_t *sel,
                                size_t nsel, char ***items, char ***outs, size_t *count,
                                size_t *cap)
{
    const job_splat *cfg = &job->splat;
    char source[JOB_PATH_MAX], stem[512], name[SPLAT_CAMERA_NAME_MAX];
    char *item = NULL, *out = NULL;
    size_t views, item_len = strlen(scene) + 32;
    size_t out_len = strlen(job->output_dir) + sizeof(stem) + sizeof(name) +
                     strlen(job->output.suffix) + 8;
    splat_camera_set set = { 0 };
    kiln_status st;

    st = camera_source(cfg, scene, source, sizeof(source));
    if (st != KILN_OK)
        return st;
    if (source[0]) {
        st = splat_cameras_read(source, &set);
        if (st != KILN_OK)
            return kiln_fail_context(st, "scene %s: cameras", scene);
        views = set.count;
        if (set.warning[0])
            fprintf(stderr, "kiln: warning: %s\n", set.warning);
    } else {
        views = (size_t)cfg->orbit_frames;
    }
    item = kiln_malloc(item_len);
    out = kiln_malloc(out_len);
    if (!item || !out) {
        st = kiln_fail(KILN_E_HOSTMEM, "out of host memory");
        goto out_free;
    }
    scene_stem(scene, stem, sizeof(stem));
    for (size_t k = 0; k < (sel ? nsel : views) && st == KILN_OK; k++) {
        size_t v = sel ? sel[k] : k;
        if (v >= views) {
            st = kiln_fail(KILN_E_CONFIG, "[splat] views: scene %s has no view %zu (its "
                           "cameras %s hold %zu)", scene, v, source[0] ? source : "orbit", views);
            break;
        }
        splat_item_view_name(source[0] ? &set : NULL, v, name, sizeof(name));
        snprintf(item, item_len, "%s#%zu", scene, v);
        snprintf(out, out_len, "%s/%s_%s%s.png", job->output_dir, stem, name,
                 job->output.suffix);
        st = item_push(items, outs, count, cap, item, out);
    }
out_free:
    kiln_free(item);
    kiln_free(out);
    splat_camera_set_free(&set);
    return st;
}

/* Expands the scenes into items. */
kiln_status splat_items_expand(const job_config *job, input_list *list, char ***outputs)
{
    char **items = NULL, **outs = NULL;
    size_t count = 0, cap = 0, *sel = NULL, nsel = 0;
    kiln_status st;

    *outputs = NULL;
    st = views_parse(job->splat.views, &sel, &nsel);
    for (size_t i = 0; st == KILN_OK && i < list->count; i++)
        st = scene_expand(job, list->paths[i], sel, nsel, &items, &outs, &count, &cap);
    kiln_free(sel);
    if (st != KILN_OK) {
        for (size_t i = 0; i < count; i++) {
            kiln_free(items[i]);
            kiln_free(outs[i]);
        }
        kiln_free(items);
        kiln_free(outs);
        return st;
    }
    inputs_free(list);
    list->paths = items;
    list->count = count;
    *outputs = outs;
    return KILN_OK;
}

/* Splits an item path into its scene (into buf) and view index. */
static kiln_status item_parse(const char *path, char *scene, size_t len, size_t *index)
{
    const char *hash = strrchr(path, '#');
    char *end;
    unsigned long long v;

    if (!hash || hash == path || (size_t)(hash - path) >= len)
        return kiln_fail(KILN_E_INVAL, "%s: not a splat item (SCENE#VIEW)", path);
    v = strtoull(hash + 1, &end, 10);
    if (end == hash + 1 || *end != '\0')
        return kiln_fail(KILN_E_INVAL, "%s: not a splat item (SCENE#VIEW)", path);
    memcpy(scene, path, (size_t)(hash - path));
    scene[hash - path] = '\0';
    *index = (size_t)v;
    return KILN_OK;
}

/* A splat item's bytes: its payload. */
static kiln_status item_measure(const prefetch_loader *loader, size_t index, const char *path,
                                size_t *bytes)
{
    (void)loader;
    (void)index;
    (void)path;
    *bytes = sizeof(splat_view_item);
    return KILN_OK;
}

/* Reads a splat item's view into its payload. */
static kiln_status item_load(const prefetch_loader *loader, size_t index, const char *path,
                             prefetch_item *item)
{
    splat_item_cache *cache = loader->user;
    splat_view_item *view = kiln_calloc(1, sizeof(*view));
    char source[JOB_PATH_MAX];
    kiln_status st;

    (void)index;
    if (!view)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory");
    item->payload = view;
    item->payload_bytes = sizeof(*view);
    st = item_parse(path, view->scene, sizeof(view->scene), &view->index);
    if (st == KILN_OK)
        st = camera_source(&cache->job->splat, view->scene, source, sizeof(source));
    if (st != KILN_OK)
        return st;
    if (!source[0]) {
        view->orbit = 1;
        return KILN_OK;
    }
    if (strcmp(source, cache->source) != 0) {
        splat_camera_set_free(&cache->set);
        cache->source[0] = '\0';
        st = splat_cameras_read(source, &cache->set);
        if (st != KILN_OK)
            return kiln_fail_context(st, "cameras");
        snprintf(cache->source, sizeof(cache->source), "%s", source);
    }
    if (view->index >= cache->set.count)
        return kiln_fail(KILN_E_FORMAT, "%s: the cameras %s no longer hold view %zu", path,
                         source, view->index);
    view->camera = cache->set.cameras[view->index];
    return KILN_OK;
}

/* Frees a splat item's payload. */
static void item_release(const prefetch_loader *loader, prefetch_item *item)
{
    (void)loader;
    kiln_free(item->payload);
}

/* Makes the loader. */
kiln_status splat_item_loader(const job_config *job, splat_item_cache **cache,
                              prefetch_loader *loader)
{
    *cache = kiln_calloc(1, sizeof(**cache));
    if (!*cache)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory");
    (*cache)->job = job;
    memset(loader, 0, sizeof(*loader));
    loader->measure = item_measure;
    loader->load = item_load;
    loader->release = item_release;
    loader->user = *cache;
    return KILN_OK;
}

/* Frees the cache. */
void splat_item_cache_free(splat_item_cache *cache)
{
    if (!cache)
        return;
    splat_camera_set_free(&cache->set);
    kiln_free(cache);
}
