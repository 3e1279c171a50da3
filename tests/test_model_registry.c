/* Tests of the model registry and model_resolve (models/model_registry.c):
 * the entries and their rembg values, the search order (model directory,
 * $KILN_MODEL_DIR, $U2NET_HOME, $XDG_DATA_HOME/.u2net, $HOME/.u2net)
 * over fake NAME.onnx files in scratch directories, the error messages of
 * a missing model (every place looked, rembg's download URL) and of an
 * unknown name (the known names), explicit paths, and the cache of file
 * MD5s that identifies renamed published files. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model_md5_cache.h"
#include "model_registry.h"
#include "testutil.h"

static char base[2048];

/* Makes directory base/rel (and its parents below base); exits on error. */
static void make_dir(const char *rel)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", base, rel);
    for (char *p = path + strlen(base) + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(path, 0755) != 0 && errno != EEXIST) {
                fprintf(stderr, "mkdir %s: %s\n", path, strerror(errno));
                exit(1);
            }
            *p = '/';
        }
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "mkdir %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

/* Writes base/rel as a small fake model file. */
static void make_file(const char *rel)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", base, rel);
    test_write_text(path, "not really an onnx model\n");
}

/* Removes base/rel (a file); missing is fine. */
static void remove_file(const char *rel)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", base, rel);
    unlink(path);
}

/* Writes base/rel into out. */
static void full(const char *rel, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", base, rel);
}

/* Checks that model_resolve(name, dir) finds base/want_rel with `want`
 * spec. */
static void expect_found(const char *name, const char *dir, const char *want_rel,
                         const model_spec *want, int line)
{
    char path[4096], want_path[4096];
    const model_spec *spec = want ? NULL : model_registry_at(0);
    kiln_status st = model_resolve(name, dir, path, sizeof(path), &spec);

    full(want_rel, want_path, sizeof(want_path));
    test_checks++;
    if (st != KILN_OK || strcmp(path, want_path) != 0 || spec != want) {
        test_failures++;
        fprintf(stderr, "line %d: resolve %s: %s, path '%s' (want '%s'), spec %s: %s\n", line,
                name, kiln_status_name(st), path, want_path,
                spec ? spec->name : "NULL", kiln_last_error());
    }
}

/* The entries and their values. */
static void test_entries(void)
{
    static const char *names[] = {
        "u2net", "u2netp", "u2net_human_seg", "silueta", "isnet-general-use", "isnet-anime"
    };
    const model_spec *s;

    CHECK(model_registry_count() == 6);
    for (size_t i = 0; i < model_registry_count(); i++) {
        s = model_registry_at(i);
        CHECK(s != NULL);
        if (!s)
            continue;
        CHECK(model_registry_find(s->name) == s);
        CHECK(s->about && *s->about);
        CHECK(s->mean[0] == 0.485f && s->mean[1] == 0.456f && s->mean[2] == 0.406f);
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        CHECK(model_registry_find(names[i]) != NULL);
    CHECK(model_registry_at(model_registry_count()) == NULL);
    CHECK(model_registry_find("U2NET") == NULL);
    CHECK(model_registry_find(NULL) == NULL);

    s = model_registry_find("u2net");
    CHECK(s && s->input_size == 320 && s->std[0] == 0.229f && s->std[1] == 0.224f &&
          s->std[2] == 0.225f);
    s = model_registry_find("silueta");
    CHECK(s && s->input_size == 320);
    s = model_registry_find("isnet-general-use");
    CHECK(s && s->input_size == 1024 && s->std[0] == 1.0f && s->std[2] == 1.0f);
    s = model_registry_find("isnet-anime");
    CHECK(s && s->input_size == 1024 && s->std[1] == 1.0f);
}

/* The search order and the messages of a missing or unknown model. */
static void test_search(void)
{
    const model_spec *u2net = model_registry_find("u2net");
    char path[4096], dir[4096], env[4096];
    const model_spec *spec = NULL;

    make_dir("arg");
    make_dir("kiln");
    make_dir("u2home");
    make_dir("xdg/.u2net");
    make_dir("home/.u2net");
    make_dir("home/alt");

    unsetenv("KILN_MODEL_DIR");
    unsetenv("U2NET_HOME");
    unsetenv("XDG_DATA_HOME");
    full("home", env, sizeof(env));
    setenv("HOME", env, 1);

    /* Nothing anywhere: KILN_E_IO naming ~/.u2net and the download URL. */
    strcpy(path, "junk");
    spec = u2net;
    CHECK_STATUS(model_resolve("u2net", NULL, path, sizeof(path), &spec), KILN_E_IO);
    CHECK(spec == NULL && path[0] == '\0');
    CHECK_MSG("model 'u2net' not found");
    CHECK_MSG("home/.u2net/u2net.onnx (~/.u2net");
    CHECK_MSG("https://github.com/danielgatis/rembg/releases/download/v0.0.0/u2net.onnx");
    CHECK_MSG("Run `kiln model pull u2net`");

    /* Every source set, the file in all of them: the first wins, then
     * each next one as the earlier copies disappear. */
    full("arg", dir, sizeof(dir));
    full("kiln", env, sizeof(env));
    setenv("KILN_MODEL_DIR", env, 1);
    full("u2home", env, sizeof(env));
    setenv("U2NET_HOME", env, 1);
    full("xdg", env, sizeof(env));
    setenv("XDG_DATA_HOME", env, 1);
    make_file("arg/u2net.onnx");
    make_file("kiln/u2net.onnx");
    make_file("u2home/u2net.onnx");
    make_file("xdg/.u2net/u2net.onnx");
    make_file("home/.u2net/u2net.onnx");
    expect_found("u2net", dir, "arg/u2net.onnx", u2net, __LINE__);
    remove_file("arg/u2net.onnx");
    expect_found("u2net", dir, "kiln/u2net.onnx", u2net, __LINE__);
    remove_file("kiln/u2net.onnx");
    expect_found("u2net", dir, "u2home/u2net.onnx", u2net, __LINE__);
    remove_file("u2home/u2net.onnx");
    expect_found("u2net", dir, "xdg/.u2net/u2net.onnx", u2net, __LINE__);
    remove_file("xdg/.u2net/u2net.onnx");
    expect_found("u2net", dir, "home/.u2net/u2net.onnx", u2net, __LINE__);
    /* An empty model_dir is skipped like NULL. */
    expect_found("u2net", "", "home/.u2net/u2net.onnx", u2net, __LINE__);
    remove_file("home/.u2net/u2net.onnx");

    /* All set, none present: the message lists all five places. */
    CHECK_STATUS(model_resolve("u2net", dir, path, sizeof(path), &spec), KILN_E_IO);
    CHECK_MSG("arg/u2net.onnx (model directory");
    CHECK_MSG("kiln/u2net.onnx ($KILN_MODEL_DIR");
    CHECK_MSG("u2home/u2net.onnx ($U2NET_HOME");
    CHECK_MSG("xdg/.u2net/u2net.onnx ($XDG_DATA_HOME/.u2net");
    CHECK_MSG("home/.u2net/u2net.onnx (~/.u2net");
    CHECK_MSG("No such file or directory");

    /* A directory named NAME.onnx is not a model: the search goes on. */
    make_dir("arg/u2netp.onnx");
    make_file("home/.u2net/u2netp.onnx");
    expect_found("u2netp", dir, "home/.u2net/u2netp.onnx", model_registry_find("u2netp"),
                 __LINE__);
    CHECK_STATUS(model_resolve("u2netp", dir, path, 8, &spec), KILN_E_INVAL);
    CHECK_MSG("longer than");
    remove_file("home/.u2net/u2netp.onnx");
    CHECK_STATUS(model_resolve("u2netp", dir, path, sizeof(path), &spec), KILN_E_IO);
    CHECK_MSG("Is a directory");

    /* Empty variables are unset; "~/" expands with $HOME. */
    setenv("KILN_MODEL_DIR", "", 1);
    setenv("U2NET_HOME", "~/alt", 1);
    unsetenv("XDG_DATA_HOME");
    make_file("home/alt/silueta.onnx");
    expect_found("silueta", NULL, "home/alt/silueta.onnx", model_registry_find("silueta"),
                 __LINE__);
    CHECK_STATUS(model_resolve("isnet-anime", NULL, path, sizeof(path), &spec), KILN_E_IO);
    CHECK_MSG("home/alt/isnet-anime.onnx ($U2NET_HOME");
    CHECK_MSG("releases/download/v0.0.0/isnet-anime.onnx");

    /* Nothing set at all. */
    unsetenv("U2NET_HOME");
    unsetenv("HOME");
    CHECK_STATUS(model_resolve("u2net", NULL, path, sizeof(path), &spec), KILN_E_IO);
    CHECK_MSG("all unset");
    full("home", env, sizeof(env));
    setenv("HOME", env, 1);

    /* Unknown names list the known ones; empty / NULL are invalid. */
    spec = u2net;
    CHECK_STATUS(model_resolve("u2net-huge", NULL, path, sizeof(path), &spec), KILN_E_INVAL);
    CHECK(spec == NULL);
    CHECK_MSG("unknown model 'u2net-huge'");
    CHECK_MSG("u2net, u2netp, u2net_human_seg, silueta, isnet-general-use, isnet-anime");
    CHECK_STATUS(model_resolve("", NULL, path, sizeof(path), &spec), KILN_E_INVAL);
    CHECK_STATUS(model_resolve(NULL, NULL, path, sizeof(path), &spec), KILN_E_INVAL);
    CHECK_STATUS(model_resolve("u2net", NULL, NULL, 0, &spec), KILN_E_INVAL);
}

/* Explicit paths: a '/' or an ".onnx" ending. */
static void test_paths(void)
{
    char path[4096], file[4096], cwd[4096];
    const model_spec *spec = NULL;

    make_dir("files");
    make_file("files/u2net_human_seg.onnx");
    make_file("files/custom.onnx");
    make_file("files/u2netp");

    full("files/u2net_human_seg.onnx", file, sizeof(file));
    CHECK_OK(model_resolve(file, "/nonexistent", path, sizeof(path), &spec));
    CHECK(strcmp(path, file) == 0);
    CHECK(spec == model_registry_find("u2net_human_seg"));

    full("files/custom.onnx", file, sizeof(file));
    spec = model_registry_find("u2net");
    CHECK_OK(model_resolve(file, NULL, path, sizeof(path), &spec));
    CHECK(strcmp(path, file) == 0 && spec == NULL);

    /* A '/' makes it a path even without ".onnx"; the base name still
     * picks the entry. */
    full("files/u2netp", file, sizeof(file));
    CHECK_OK(model_resolve(file, NULL, path, sizeof(path), &spec));
    CHECK(spec == model_registry_find("u2netp"));
    CHECK_OK(model_resolve(file, NULL, path, sizeof(path), NULL));

    /* Missing file, directory. */
    full("files/missing.onnx", file, sizeof(file));
    CHECK_STATUS(model_resolve(file, NULL, path, sizeof(path), &spec), KILN_E_IO);
    CHECK_MSG("missing.onnx: No such file or directory");
    CHECK(path[0] == '\0');
    full("files", file, sizeof(file));
    CHECK_STATUS(model_resolve(file, NULL, path, sizeof(path), &spec), KILN_E_IO);
    CHECK_MSG("Is a directory");

    /* A bare "NAME.onnx" is a path relative to the working directory. */
    CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
    full("files", file, sizeof(file));
    CHECK(chdir(file) == 0);
    CHECK_OK(model_resolve("custom.onnx", NULL, path, sizeof(path), &spec));
    CHECK(strcmp(path, "custom.onnx") == 0 && spec == NULL);
    CHECK_OK(model_resolve("u2net_human_seg.onnx", NULL, path, sizeof(path), &spec));
    CHECK(spec == model_registry_find("u2net_human_seg"));
    CHECK_STATUS(model_resolve("u2net.onnx", NULL, path, sizeof(path), &spec), KILN_E_IO);
    CHECK(chdir(cwd) == 0);
}

/* rembg's published files are known by their MD5 whatever their name:
 * the digest agrees with md5sum's, every entry has one (32 hex digits),
 * and a file with another digest is no entry. */
static void test_md5(void)
{
    char path[2200], cmd[2300], got[33];
    const model_spec *spec = (const model_spec *)1;
    FILE *p;

    snprintf(path, sizeof(path), "%s/renamed-model.onnx", base);
    test_write_text(path, "not one of rembg's models\n");
    CHECK_OK(model_file_md5(path, got));
    snprintf(cmd, sizeof(cmd), "md5sum '%s'", path);
    p = popen(cmd, "r");
    if (p) {
        char want[64] = "";
        CHECK(fscanf(p, "%32s", want) == 1);
        pclose(p);
        CHECK(strcmp(got, want) == 0);
    }
    CHECK_OK(model_identify_file(path, &spec));
    CHECK(spec == NULL);
    for (size_t i = 0; i < model_registry_count(); i++) {
        const char *md5 = model_registry_at(i)->md5;
        CHECK(md5 && strlen(md5) == 32 && strspn(md5, "0123456789abcdef") == 32);
    }
    snprintf(path, sizeof(path), "%s/no-such-file.onnx", base);
    CHECK_STATUS(model_identify_file(path, &spec), KILN_E_IO);
}

/* The one model-md5-*.txt entry in dir into path; 0 when there is not
 * exactly one.  With `remove`, deletes every entry instead (a previous
 * run's). */
static int md5_entry(const char *dir, char *path, size_t len, int remove)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;

    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "model-md5-", 10) != 0)
            continue;
        snprintf(path, len, "%s/%s", dir, e->d_name);
        if (remove)
            unlink(path);
        found++;
    }
    closedir(d);
    return found == 1;
}

/* Identification goes through the cache: the first look hashes the file
 * and records its digest; a recorded digest is believed (an entry
 * rewritten to a published file's MD5 makes the file that entry); a
 * changed file gets a new entry; a malformed entry is recomputed. */
static void test_md5_cache(void)
{
    char cache[2100], path[2200], entry[2400], got[33], line[40];
    const model_spec *spec = NULL;
    const model_spec *u2netp = model_registry_find("u2netp");

    snprintf(cache, sizeof(cache), "%s/md5-cache", base);
    setenv("KILN_CACHE_DIR", cache, 1);
    md5_entry(cache, entry, sizeof(entry), 1);
    snprintf(path, sizeof(path), "%s/cached-model.onnx", base);
    test_write_text(path, "a model file identified once\n");
    CHECK_OK(model_identify_file(path, &spec));
    CHECK(spec == NULL);
    CHECK(md5_entry(cache, entry, sizeof(entry), 0));
    CHECK_OK(model_file_md5(path, got));
    snprintf(line, sizeof(line), "%s\n", got);
    CHECK(u2netp != NULL);
    /* the recorded digest is what identification believes */
    test_write_text(entry, line);
    CHECK_OK(model_identify_file(path, &spec));
    CHECK(spec == NULL);
    if (u2netp) {
        char forged[40];
        snprintf(forged, sizeof(forged), "%s\n", u2netp->md5);
        test_write_text(entry, forged);
        CHECK_OK(model_identify_file(path, &spec));
        CHECK(spec == u2netp);
    }
    /* a malformed entry is recomputed and rewritten */
    test_write_text(entry, "not a digest\n");
    CHECK_OK(model_identify_file(path, &spec));
    CHECK(spec == NULL);
    {
        char text[64] = "";
        FILE *fp = fopen(entry, "rb");
        CHECK(fp != NULL);
        if (fp) {
            CHECK(fgets(text, sizeof(text), fp) != NULL);
            fclose(fp);
        }
        CHECK(strcmp(text, line) == 0);
    }
    /* a changed file (another size) is hashed again under a new key */
    test_write_text(path, "the same file name, other contents\n");
    CHECK_OK(model_identify_file(path, &spec));
    CHECK(spec == NULL);
    CHECK(!md5_entry(cache, entry, sizeof(entry), 0));     /* two entries now */
    unsetenv("KILN_CACHE_DIR");
}

int main(void)
{
    const char *tmp = test_tmpdir("model_registry");

    if (tmp[0] == '/') {
        snprintf(base, sizeof(base), "%s", tmp);
    } else {
        char cwd[1024];
        if (!getcwd(cwd, sizeof(cwd))) {
            fprintf(stderr, "getcwd: %s\n", strerror(errno));
            return 1;
        }
        snprintf(base, sizeof(base), "%s/%s", cwd, tmp);
    }
    test_entries();
    test_search();
    test_paths();
    test_md5();
    test_md5_cache();
    return test_summary("test_model_registry");
}
