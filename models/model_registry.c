/* The model registry and model file resolution (see model_registry.h).
 * The values are rembg's (danielgatis/rembg, the rembg/sessions/ modules):
 * u2net, u2netp, u2net_human_seg and silueta normalise to 320x320 with the
 * ImageNet mean/std; isnet-general-use and isnet-anime to 1024x1024 with
 * the ImageNet mean and std 1. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


#include "model_md5_cache.h"
#include "model_registry.h"
#include "status.h"

/* rembg's release assets; each model's file name there follows. */
#define REMBG_RELEASE_URL "https://github.com/danielgatis/rembg/releases/download/v0.0.0/"

/* The MD5 of each file is the one rembg's sessions check after download
 * (pooch's "md5:" hashes), so a published file is recognised whatever it
 * is named. */
static const model_spec registry[] = {
    { "u2net", 320, { 0.485f, 0.456f, 0.406f }, { 0.229f, 0.224f, 0.225f },
      "U^2-Net, general salient objects (rembg's default, 176 MB)",
      "60024c5c889badc19c04ad937298a77b" },
    { "u2netp", 320, { 0.485f, 0.456f, 0.406f }, { 0.229f, 0.224f, 0.225f },
      "U^2-Net small, general salient objects (4.7 MB)",
      "8e83ca70e441ab06c318d82300c84806" },
    { "u2net_human_seg", 320, { 0.485f, 0.456f, 0.406f }, { 0.229f, 0.224f, 0.225f },
      "U^2-Net trained for human segmentation",
      "c09ddc2e0104f800e3e1bb4652583d1f" },
    { "silueta", 320, { 0.485f, 0.456f, 0.406f }, { 0.229f, 0.224f, 0.225f },
      "U^2-Net reduced to 43 MB, general salient objects",
      "55e59e0d8062d2f5d013f4725ee84782" },
    { "isnet-general-use", 1024, { 0.485f, 0.456f, 0.406f }, { 1.0f, 1.0f, 1.0f },
      "IS-Net (DIS), general use, 1024x1024 input",
      "fc16ebd8b0c10d971d3513d564d01e29" },
    { "isnet-anime", 1024, { 0.485f, 0.456f, 0.406f }, { 1.0f, 1.0f, 1.0f },
      "IS-Net trained for anime characters, 1024x1024 input",
      "6f184e756bb3bd901c8849220a83e38e" },
};

#define REGISTRY_COUNT (sizeof(registry) / sizeof(registry[0]))

/* Returns the entry named `name`, or NULL. */
const model_spec *model_registry_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < REGISTRY_COUNT; i++)
        if (strcmp(registry[i].name, name) == 0)
            return &registry[i];
    return NULL;
}

/* Returns rembg's release URL. */
const char *model_release_url(void)
{
    return REMBG_RELEASE_URL;
}

/* Returns the number of entries. */
size_t model_registry_count(void)
{
    return REGISTRY_COUNT;
}

/* Returns entry i, or NULL past the end. */
const model_spec *model_registry_at(size_t i)
{
    return i < REGISTRY_COUNT ? &registry[i] : NULL;
}

/* Returns 1 when `s` ends with `suffix`. */
static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Checks that `path` is a readable regular file.  Returns 0, or an errno
 * value (EISDIR / EINVAL for a directory / another non-regular file). */
static int file_readable(const char *path)
{
    struct stat sb;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int err = 0;

    if (fd < 0)
        return errno;
    if (fstat(fd, &sb) != 0)
        err = errno;
    else if (S_ISDIR(sb.st_mode))
        err = EISDIR;
    else if (!S_ISREG(sb.st_mode))
        err = EINVAL;
    close(fd);
    return err;
}

/* Appends printf-formatted text to buf (len bytes, NUL-terminated),
 * truncating silently. */
static void append(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t len, const char *fmt, ...)
{
    size_t used = strlen(buf);
    va_list ap;

    if (used + 1 >= len)
        return;
    va_start(ap, fmt);
    vsnprintf(buf + used, len - used, fmt, ap);
    va_end(ap);
}

/* Writes the comma-separated list of registry names into buf. */
static void known_names(char *buf, size_t len)
{
    buf[0] = '\0';
    for (size_t i = 0; i < REGISTRY_COUNT; i++)
        append(buf, len, "%s%s", i ? ", " : "", registry[i].name);
}

/* Copies `src` into path[path_len]; KILN_E_INVAL when it does not fit. */
static kiln_status copy_path(char *path, size_t path_len, const char *src)
{
    size_t n = strlen(src);
    if (n + 1 > path_len)
        return kiln_fail(KILN_E_INVAL, "model path %s is longer than the %zu bytes "
                         "available", src, path_len ? path_len - 1 : 0);
    memcpy(path, src, n + 1);
    return KILN_OK;
}

/* Finds the entry whose published file has the MD5 of `file` (see
 * model_registry.h). */
kiln_status model_identify_file(const char *file, const model_spec **spec)
{
    char text[33];
    kiln_status st;

    *spec = NULL;
    st = model_file_md5_cached(file, text);
    if (st != KILN_OK)
        return st;
    for (size_t i = 0; i < REGISTRY_COUNT; i++)
        if (registry[i].md5 && strcmp(registry[i].md5, text) == 0)
            *spec = &registry[i];
    return KILN_OK;
}

/* Resolves an explicit file path (see model_resolve). */
static kiln_status resolve_file(const char *file, char *path, size_t path_len,
                                const model_spec **spec)
{
    const char *base = strrchr(file, '/');
    char stem[256];
    size_t n;
    int err = file_readable(file);

    if (err != 0)
        return kiln_fail(KILN_E_IO, "model file %s: %s", file, strerror(err));
    base = base ? base + 1 : file;
    n = strlen(base);
    if (ends_with(base, ".onnx"))
        n -= strlen(".onnx");
    if (n < sizeof(stem)) {
        memcpy(stem, base, n);
        stem[n] = '\0';
        *spec = model_registry_find(stem);
    }
    if (!*spec) {
        /* a published file under another name: known by its MD5 */
        kiln_status st = model_identify_file(file, spec);
        if (st != KILN_OK)
            return st;
    }
    return copy_path(path, path_len, file);
}

/* One directory to search: where it came from, and the directory (or
 * NULL when that source is unset). */
typedef struct search_dir {
    const char *origin;
    char dir[4096];
    int set;
} search_dir;

/* Fills *d from `value` (NULL or "" is unset), expanding a leading "~/"
 * with $HOME; `suffix` (may be NULL) is appended as a subdirectory. */
static void search_dir_set(search_dir *d, const char *origin, const char *value,
                           const char *suffix)
{
    const char *home = getenv("HOME");

    d->origin = origin;
    d->dir[0] = '\0';
    d->set = 0;
    if (!value || !*value)
        return;
    if (value[0] == '~' && (value[1] == '/' || value[1] == '\0') && home && *home)
        snprintf(d->dir, sizeof(d->dir), "%s%s", home, value + 1);
    else
        snprintf(d->dir, sizeof(d->dir), "%s", value);
    if (suffix)
        append(d->dir, sizeof(d->dir), "/%s", suffix);
    d->set = 1;
}

/* Resolves a model name or path (see model_registry.h). */
kiln_status model_resolve(const char *name_or_path, const char *model_dir,
                          char *path, size_t path_len, const model_spec **spec)
{
    const model_spec *found_spec = NULL;
    const model_spec *entry;
    search_dir dirs[5];
    char candidate[4200], looked[3072];
    kiln_status st;
    size_t ndirs = 0;

    if (spec)
        *spec = NULL;
    if (path && path_len)
        path[0] = '\0';
    if (!name_or_path || !*name_or_path)
        return kiln_fail(KILN_E_INVAL, "model: empty model name or path");
    if (!path || path_len == 0)
        return kiln_fail(KILN_E_INVAL, "model %s: no room for the resolved path",
                         name_or_path);

    if (strchr(name_or_path, '/') || ends_with(name_or_path, ".onnx")) {
        st = resolve_file(name_or_path, path, path_len, &found_spec);
        if (st != KILN_OK) {
            path[0] = '\0';
            return st;
        }
        if (spec)
            *spec = found_spec;
        return KILN_OK;
    }

    entry = model_registry_find(name_or_path);
    if (!entry) {
        char names[512];
        known_names(names, sizeof(names));
        return kiln_fail(KILN_E_INVAL, "unknown model '%s': known models are %s "
                         "(or give the path of an .onnx file)", name_or_path, names);
    }

    search_dir_set(&dirs[ndirs++], "model directory", model_dir, NULL);
    search_dir_set(&dirs[ndirs++], "$KILN_MODEL_DIR", getenv("KILN_MODEL_DIR"), NULL);
    search_dir_set(&dirs[ndirs++], "$U2NET_HOME", getenv("U2NET_HOME"), NULL);
    search_dir_set(&dirs[ndirs++], "$XDG_DATA_HOME/.u2net", getenv("XDG_DATA_HOME"), ".u2net");
    search_dir_set(&dirs[ndirs++], "~/.u2net", getenv("HOME"), ".u2net");

    looked[0] = '\0';
    for (size_t i = 0; i < ndirs; i++) {
        int err;
        if (!dirs[i].set)
            continue;
        snprintf(candidate, sizeof(candidate), "%s/%s.onnx", dirs[i].dir, entry->name);
        err = file_readable(candidate);
        if (err == 0) {
            st = copy_path(path, path_len, candidate);
            if (st != KILN_OK) {
                path[0] = '\0';
                return st;
            }
            if (spec)
                *spec = entry;
            return KILN_OK;
        }
        append(looked, sizeof(looked), "%s%s (%s: %s)", looked[0] ? ", " : "",
               candidate, dirs[i].origin, strerror(err));
    }
    if (!looked[0])
        snprintf(looked, sizeof(looked), "nowhere (no model directory given and "
                 "KILN_MODEL_DIR, U2NET_HOME, XDG_DATA_HOME and HOME are all unset)");
    return kiln_fail(KILN_E_IO, "model '%s' not found; looked for %s.onnx in: %s. "
                     "Run `kiln model pull %s` to download it from " REMBG_RELEASE_URL
                     "%s.onnx into $U2NET_HOME (default ~/.u2net), put the file in one "
                     "of these places, or pass its path", entry->name, entry->name, looked,
                     entry->name, entry->name);
}
