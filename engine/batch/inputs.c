/* Expanding a batch's input specification (a directory, a list file or a
 * glob) into a sorted list of paths without duplicates.  Duplicates are
 * equal strings: "a/./x.png" and "a/x.png" are two items. */
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "host_alloc.h"
#include "inputs.h"
#include "status.h"

#define LIST_INITIAL_CAPACITY 16

/* Returns a kiln_malloc'd "dir/rel", or a copy of rel when rel is absolute or
 * dir is NULL or empty; NULL when out of memory. */
static char *path_join(const char *dir, const char *rel)
{
    size_t dlen, rlen;
    int slash;
    char *joined;

    if (!dir || dir[0] == '\0' || rel[0] == '/')
        return kiln_strdup(rel);
    dlen = strlen(dir);
    rlen = strlen(rel);
    slash = dir[dlen - 1] != '/';
    joined = kiln_malloc(dlen + (size_t)slash + rlen + 1);
    if (!joined)
        return NULL;
    memcpy(joined, dir, dlen);
    if (slash)
        joined[dlen] = '/';
    memcpy(joined + dlen + (size_t)slash, rel, rlen + 1);
    return joined;
}

/* Returns a kiln_malloc'd copy of the directory part of path ("a/b" for
 * "a/b/c.txt", "/" for "/c.txt"), or NULL with *failed = 0 when path has
 * no '/' (the current directory), or NULL with *failed = 1 when out of
 * memory. */
static char *path_dir(const char *path, int *failed)
{
    const char *slash = strrchr(path, '/');
    size_t len;
    char *dir;

    *failed = 0;
    if (!slash)
        return NULL;
    len = slash == path ? 1 : (size_t)(slash - path);
    dir = kiln_malloc(len + 1);
    if (!dir) {
        *failed = 1;
        return NULL;
    }
    memcpy(dir, path, len);
    dir[len] = '\0';
    return dir;
}

/* Appends "dir/name" (see path_join) to list, growing it (*cap is its
 * capacity).  Returns KILN_OK or KILN_E_HOSTMEM. */
static kiln_status list_push(input_list *list, size_t *cap, const char *dir,
                             const char *name)
{
    char *path;

    if (list->count == *cap) {
        size_t grown = *cap ? *cap * 2 : LIST_INITIAL_CAPACITY;
        char **paths;
        if (grown > SIZE_MAX / sizeof(*paths))
            return kiln_fail(KILN_E_HOSTMEM, "inputs: too many paths");
        paths = kiln_realloc(list->paths, grown * sizeof(*paths));
        if (!paths)
            return kiln_fail(KILN_E_HOSTMEM, "inputs: out of memory for %zu paths", grown);
        list->paths = paths;
        *cap = grown;
    }
    path = path_join(dir, name);
    if (!path)
        return kiln_fail(KILN_E_HOSTMEM, "inputs: out of memory");
    list->paths[list->count++] = path;
    return KILN_OK;
}

/* Tells whether path names a directory (following links). */
static int is_directory(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Tells whether name ends with `ext` (".png"), ignoring case. */
static int has_extension(const char *name, const char *ext)
{
    size_t len = strlen(name), elen = strlen(ext);
    return len > elen && strcasecmp(name + len - elen, ext) == 0;
}

/* Tells whether name has the extension of an input of `kind`: .png,
 * .jpg or .jpeg for images, .ply or .splat for scenes, in any case.
 * (The readers go by the file's content; the extension only picks the
 * files of a directory.) */
static int is_input_name(const char *name, input_kind kind)
{
    if (kind == INPUT_SCENES)
        return has_extension(name, ".ply") || has_extension(name, ".splat");
    return has_extension(name, ".png") || has_extension(name, ".jpg") ||
           has_extension(name, ".jpeg");
}

/* Whether `dir` is a capture dataset itself: it holds sparse/,
 * transforms.json or transforms_train.json. */
static int is_dataset_dir(const char *dir)
{
    static const char *const marks[] = { "sparse", "transforms.json", "transforms_train.json" };
    char path[4096];
    struct stat sb;
    for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, marks[i]);
        if (stat(path, &sb) == 0)
            return 1;
    }
    return 0;
}

/* Appends the input files of `kind` (any case of the extension; hidden
 * files and directories skipped) of directory `dir`, not recursively.  An
 * unreadable directory is KILN_E_IO naming it. */
static kiln_status expand_directory(const char *dir, input_kind kind, input_list *list,
                                    size_t *cap)
{
    DIR *d = opendir(dir);
    kiln_status st = KILN_OK;
    const struct dirent *entry;

    if (!d)
        return kiln_fail(KILN_E_IO, "%s: cannot read directory: %s", dir, strerror(errno));
    errno = 0;
    while ((entry = readdir(d)) != NULL) {
        size_t before = list->count;
        if (entry->d_name[0] == '.' ||
            (kind != INPUT_DATASETS && !is_input_name(entry->d_name, kind)))
            continue;
        st = list_push(list, cap, dir, entry->d_name);
        if (st != KILN_OK)
            goto out_close_dir;
        if (is_directory(list->paths[before]) != (kind == INPUT_DATASETS)) {
            kiln_free(list->paths[before]);
            list->count = before;
        }
        errno = 0;
    }
    if (errno != 0)
        st = kiln_fail(KILN_E_IO, "%s: cannot read directory: %s", dir, strerror(errno));
out_close_dir:
    closedir(d);
    return st;
}

/* Appends the paths listed in `file`, one a line; surrounding white space
 * is dropped, empty lines and lines starting with '#' are skipped, and
 * relative paths are taken from the file's directory.  An unreadable
 * file is KILN_E_IO naming it. */
static kiln_status expand_list_file(const char *file, input_list *list, size_t *cap)
{
    kiln_status st = KILN_OK;
    char *line = NULL, *dir;
    size_t line_cap = 0;
    int failed;
    FILE *f;

    dir = path_dir(file, &failed);
    if (failed)
        return kiln_fail(KILN_E_HOSTMEM, "%s: out of memory", file);
    f = fopen(file, "r");
    if (!f) {
        st = kiln_fail(KILN_E_IO, "%s: cannot read list file: %s", file, strerror(errno));
        goto out_free_dir;
    }
    while (getline(&line, &line_cap, f) >= 0) {
        char *start = line, *end = line + strlen(line);
        while (*start == ' ' || *start == '\t')
            start++;
        while (end > start && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' ||
                               end[-1] == '\t'))
            *--end = '\0';
        if (*start == '\0' || *start == '#')
            continue;
        st = list_push(list, cap, dir, start);
        if (st != KILN_OK)
            goto out_close_file;
    }
    if (ferror(f))
        st = kiln_fail(KILN_E_IO, "%s: cannot read list file: %s", file, strerror(errno));
out_close_file:
    free(line);                  /* getline's buffer: the C library's malloc */
    fclose(f);
out_free_dir:
    kiln_free(dir);
    return st;
}

/* Appends the non-directory paths matching the glob `pattern` (in glob's
 * sorted order; a pattern matching nothing adds nothing). */
static kiln_status expand_glob(const char *pattern, input_list *list, size_t *cap)
{
    kiln_status st = KILN_OK;
    glob_t g;
    int r;

    memset(&g, 0, sizeof(g));
    r = glob(pattern, 0, NULL, &g);
    if (r == GLOB_NOMATCH)
        goto out_free_glob;
    if (r == GLOB_NOSPACE) {
        st = kiln_fail(KILN_E_HOSTMEM, "%s: out of memory expanding the pattern", pattern);
        goto out_free_glob;
    }
    if (r != 0) {
        st = kiln_fail(KILN_E_IO, "%s: cannot expand the pattern", pattern);
        goto out_free_glob;
    }
    for (size_t i = 0; i < g.gl_pathc; i++) {
        if (is_directory(g.gl_pathv[i]))
            continue;
        st = list_push(list, cap, NULL, g.gl_pathv[i]);
        if (st != KILN_OK)
            goto out_free_glob;
    }
out_free_glob:
    if (r != GLOB_NOMATCH)
        globfree(&g);
    return st;
}

/* qsort comparator: orders two char* by strcmp. */
static int path_compare(const void *a, const void *b)
{
    const char *const *pa = a;
    const char *const *pb = b;
    return strcmp(*pa, *pb);
}

/* Sorts list by strcmp and drops (frees) repeated paths. */
static void list_sort_unique(input_list *list)
{
    size_t kept = 0;

    if (list->count < 2)
        return;
    qsort(list->paths, list->count, sizeof(*list->paths), path_compare);
    for (size_t i = 1; i < list->count; i++) {
        if (strcmp(list->paths[i], list->paths[kept]) == 0)
            kiln_free(list->paths[i]);
        else
            list->paths[++kept] = list->paths[i];
    }
    list->count = kept + 1;
}

/* Expands spec into a sorted list without duplicates; see inputs.h.  What
 * spec is decides how: "@FILE", or a name ending in .txt or .list (any
 * case) that is not a directory, is a list file; an existing directory is
 * scanned; any other existing path is one item (even with glob
 * characters in its name); a missing path without glob characters (*?[)
 * is KILN_E_IO; anything else is a glob pattern. */
kiln_status inputs_expand(const char *spec, const char *base_dir, input_list *out)
{
    return inputs_expand_kind(spec, base_dir, INPUT_IMAGES, out);
}

/* Expands `spec` into inputs of `kind` (see inputs.h). */
kiln_status inputs_expand_kind(const char *spec, const char *base_dir, input_kind kind,
                               input_list *out)
{
    input_list list = { NULL, 0 };
    size_t cap = 0;
    char *resolved;
    int is_list;
    kiln_status st;
    struct stat sb;

    if (!out)
        return kiln_fail(KILN_E_INVAL, "inputs_expand: NULL argument");
    memset(out, 0, sizeof(*out));
    if (!spec || spec[0] == '\0')
        return kiln_fail(KILN_E_INVAL, "inputs: empty specification");
    is_list = spec[0] == '@';
    resolved = path_join(base_dir, is_list ? spec + 1 : spec);
    if (!resolved)
        return kiln_fail(KILN_E_HOSTMEM, "inputs: out of memory");
    if (!is_list && kind == INPUT_DATASETS && is_dataset_dir(resolved))
        st = list_push(&list, &cap, NULL, resolved);
    else if (!is_list && is_directory(resolved))
        st = expand_directory(resolved, kind, &list, &cap);
    else if (is_list || has_extension(resolved, ".txt") || has_extension(resolved, ".list"))
        st = expand_list_file(resolved, &list, &cap);
    else if (stat(resolved, &sb) == 0)
        st = list_push(&list, &cap, NULL, resolved);
    else if (strpbrk(resolved, "*?[") == NULL)
        st = kiln_fail(KILN_E_IO, "%s: cannot read: %s", resolved, strerror(errno));
    else
        st = expand_glob(resolved, &list, &cap);
    if (st != KILN_OK) {
        inputs_free(&list);
        goto out_free_resolved;
    }
    list_sort_unique(&list);
    *out = list;
out_free_resolved:
    kiln_free(resolved);
    return st;
}

/* Frees every path and the array, and zeroes the list. */
void inputs_free(input_list *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->count; i++)
        kiln_free(list->paths[i]);
    kiln_free(list->paths);
    list->paths = NULL;
    list->count = 0;
}
