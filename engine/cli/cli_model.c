/* `kiln model pull` and `kiln model list`: downloading rembg's models
 * into the model directory, and what is installed where. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "model_download.h"
#include "model_md5_cache.h"
#include "model_pull.h"
#include "model_pull_dir.h"
#include "model_registry.h"
#include "model_verify.h"
#include "status.h"

#define MODEL_URL_MAX 4096
#define MODEL_PATH_MAX 4200

/* Prints the usage of `kiln model`. */
static void model_usage(FILE *out)
{
    fprintf(out,
            "usage: kiln model pull NAME... | --all [--url URL] [--md5 HEX] [--dir DIR]\n"
            "                       [--connect-timeout SECONDS]\n"
            "       kiln model list [--dir DIR] [--no-check]\n"
            "  pull downloads rembg's models (NAME is one of kiln model list's names) from\n"
            "  rembg's release files into DIR, else $U2NET_HOME, else $XDG_DATA_HOME/.u2net,\n"
            "  else ~/.u2net (where rembg keeps them; created when missing), checks each\n"
            "  file's MD5 and only then moves it into place as NAME.onnx.  A download goes\n"
            "  to NAME.onnx.part first: an interrupted one (Ctrl-C, a lost connection) is\n"
            "  continued by the next pull (HTTP Range).  A file already there with the\n"
            "  right MD5 is left alone.  The proxy variables http_proxy, https_proxy,\n"
            "  all_proxy and no_proxy apply.\n"
            "  --url URL    download from a mirror: a URL ending in '/' is a base to which\n"
            "               NAME.onnx is appended (any number of names); any other URL is\n"
            "               the file itself (one NAME).\n"
            "  --md5 HEX    the MD5 the file must have instead of rembg's (one NAME: a\n"
            "               mirror's own build of the model); kept in NAME.onnx.md5 beside\n"
            "               it, which kiln model list then checks against.\n"
            "  --connect-timeout SECONDS  give up connecting after this long (default 300).\n"
            "  list prints every model: installed or not, its size, whether its MD5 is\n"
            "  the expected one (hashes are cached; --no-check reports an uncached file\n"
            "  as not checked instead of reading it) and the file segment would use\n"
            "  (looked for as kiln segment does: DIR, $KILN_MODEL_DIR, then as above).\n"
            "  exit status: 0 done, 1 a model failed, 2 a usage error or no usable\n"
            "  directory, 130 interrupted.\n");
}

static const cli_command model_command = { "model", model_usage };

/* The options of `kiln model pull`. */
typedef struct pull_args {
    const model_spec *models[64];
    size_t count;
    int all;
    const char *url;
    const char *dir;
    char md5[33];
    int md5_given;
    long connect_timeout_s;
} pull_args;

/* Writes a file size for people ("4.7 MB", "1.5 kB", "12 bytes") into
 * buf[len]; returns buf. */
static const char *size_text(uint64_t bytes, char *buf, size_t len)
{
    if (bytes >= 1000000)
        snprintf(buf, len, "%.1f MB", (double)bytes / 1e6);
    else if (bytes >= 1000)
        snprintf(buf, len, "%.1f kB", (double)bytes / 1e3);
    else
        snprintf(buf, len, "%llu bytes", (unsigned long long)bytes);
    return buf;
}

/* Takes the stop request of SIGINT / SIGTERM; a second one kills (the
 * handler is reset after the first). */
static void on_stop_signal(int signo)
{
    (void)signo;
    model_download_interrupt();
}

/* Installs on_stop_signal for SIGINT and SIGTERM. */
static void catch_stop_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Parses pull's arguments into *a; returns -1 when they are fine, else
 * the exit status of the usage error already printed. */
static int pull_parse(int argc, char **argv, pull_args *a)
{
    memset(a, 0, sizeof(*a));
    for (int i = 0; i < argc; i++) {
        const char *v;
        if (cli_is_help(argv[i]))
            return cli_help(&model_command);
        if (strcmp(argv[i], "--all") == 0) {
            a->all = 1;
        } else if (strcmp(argv[i], "--url") == 0) {
            if (!(a->url = cli_option_value(&model_command, argc, argv, &i)))
                return 2;
        } else if (strcmp(argv[i], "--dir") == 0) {
            if (!(a->dir = cli_option_value(&model_command, argc, argv, &i)))
                return 2;
        } else if (strcmp(argv[i], "--md5") == 0) {
            if (!(v = cli_option_value(&model_command, argc, argv, &i)))
                return 2;
            if (!model_md5_parse(v, a->md5))
                return cli_usage_error(&model_command, "--md5 '%s' is not 32 hex digits", v);
            a->md5_given = 1;
        } else if (strcmp(argv[i], "--connect-timeout") == 0) {
            char *end;
            if (!(v = cli_option_value(&model_command, argc, argv, &i)))
                return 2;
            a->connect_timeout_s = strtol(v, &end, 10);
            if (*end || end == v || a->connect_timeout_s < 1 || a->connect_timeout_s > 3600)
                return cli_usage_error(&model_command, "--connect-timeout '%s' is not a "
                                       "whole number of seconds from 1 to 3600", v);
        } else if (argv[i][0] == '-') {
            return cli_usage_error(&model_command, "unknown option '%s'", argv[i]);
        } else {
            const model_spec *spec = model_registry_find(argv[i]);
            if (!spec) {
                char names[512] = "";
                for (size_t k = 0; k < model_registry_count(); k++)
                    snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
                             k ? ", " : "", model_registry_at(k)->name);
                return cli_usage_error(&model_command, "unknown model '%s' (known: %s)",
                                       argv[i], names);
            }
            if (a->count == sizeof(a->models) / sizeof(a->models[0]))
                return cli_usage_error(&model_command, "too many names");
            a->models[a->count++] = spec;
        }
    }
    if (a->all && a->count)
        return cli_usage_error(&model_command, "give names or --all, not both");
    if (a->all)
        for (size_t k = 0; k < model_registry_count(); k++)
            a->models[a->count++] = model_registry_at(k);
    if (a->count == 0)
        return cli_usage_error(&model_command, "pull: missing NAME (or --all)");
    if (a->md5_given && a->count != 1)
        return cli_usage_error(&model_command, "--md5 is the hash of one file: give one NAME");
    if (a->url && a->url[0] && a->url[strlen(a->url) - 1] != '/' && a->count != 1)
        return cli_usage_error(&model_command, "--url %s names one file: give one NAME (or a "
                               "base URL ending in '/')", a->url);
    if (a->url && !a->url[0])
        return cli_usage_error(&model_command, "--url is empty");
    return -1;
}

/* Writes the URL of `spec` into url[len]: --url as it is when it names
 * the file, else the base (--url or rembg's) + NAME.onnx. */
static int pull_url(const pull_args *a, const model_spec *spec, char *url, size_t len)
{
    const char *base = a->url ? a->url : model_release_url();
    int n;

    if (a->url && base[strlen(base) - 1] != '/')
        n = snprintf(url, len, "%s", base);
    else
        n = snprintf(url, len, "%s%s.onnx", base, spec->name);
    return n > 0 && (size_t)n < len;
}

/* Pulls one model and prints what happened; returns its status. */
static kiln_status pull_one(const pull_args *a, const model_spec *spec, const char *dir)
{
    char url[MODEL_URL_MAX], sizes[32];
    model_download_opts opts = { a->connect_timeout_s, isatty(STDERR_FILENO), spec->name };
    model_pull_request rq;
    model_pull_outcome outcome;
    model_download_result dl;
    uint64_t size;
    kiln_status st;

    if (!pull_url(a, spec, url, sizeof(url)))
        return kiln_fail(KILN_E_INVAL, "%s: the download URL is too long", spec->name);
    rq.name = spec->name;
    rq.url = url;
    rq.md5 = a->md5_given ? a->md5 : spec->md5;
    rq.md5_noted = a->md5_given && strcmp(a->md5, spec->md5) != 0;
    rq.dir = dir;
    st = model_pull(&rq, &opts, &outcome, &size, &dl);
    if (st != KILN_OK)
        return st;
    if (outcome == MODEL_PULL_PRESENT) {
        printf("%s: %s/%s.onnx is already there (%s, md5 ok)\n", spec->name, dir, spec->name,
               size_text(size, sizes, sizeof(sizes)));
    } else {
        printf("%s: %s %s/%s.onnx from %s (%s, md5 ok", spec->name,
               outcome == MODEL_PULL_REPLACED ? "replaced" : "saved", dir, spec->name, url,
               size_text(size, sizes, sizeof(sizes)));
        if (dl.resumed_from)
            printf(", continued after %llu bytes", (unsigned long long)dl.resumed_from);
        if (dl.restarted)
            printf(", downloaded whole: the server ignored the range");
        printf(")\n");
    }
    fflush(stdout);
    return KILN_OK;
}

/* `kiln model pull`: returns the exit status. */
static int model_pull_cmd(int argc, char **argv)
{
    char dir[4096];
    const char *origin;
    pull_args a;
    size_t failed = 0;
    int status = pull_parse(argc, argv, &a);

    if (status >= 0)
        return status;
    if (model_pull_dir_choose(a.dir, dir, sizeof(dir), &origin) != KILN_OK ||
        model_pull_dir_prepare(dir, origin) != KILN_OK) {
        fprintf(stderr, "kiln model pull: error: %s\n", kiln_last_error());
        return 2;
    }
    if (model_download_init() != KILN_OK) {
        fprintf(stderr, "kiln model pull: error: %s\n", kiln_last_error());
        return 2;
    }
    catch_stop_signals();
    for (size_t i = 0; i < a.count && !model_download_interrupted(); i++) {
        if (pull_one(&a, a.models[i], dir) != KILN_OK) {
            fprintf(stderr, "kiln model pull: error: %s: %s\n", a.models[i]->name,
                    kiln_last_error());
            failed++;
        }
    }
    model_download_cleanup();
    if (model_download_interrupted()) {
        fprintf(stderr, "kiln model pull: interrupted\n");
        return 130;
    }
    return failed ? 1 : 0;
}

/* The MD5 state of an installed file against `expected`: "ok",
 * "mismatch", "not checked" (--no-check and not cached) or "unreadable". */
static const char *md5_state(const char *path, const char *expected, int check)
{
    char actual[33];

    if (!model_file_md5_lookup(path, actual)) {
        if (!check)
            return "not checked";
        if (model_file_md5_cached(path, actual) != KILN_OK)
            return "unreadable";
    }
    return strcmp(actual, expected) == 0 ? "ok" : "mismatch";
}

/* Prints one registry model's line of `kiln model list`. */
static void list_one(const model_spec *spec, const char *dir, const char *pull_dir, int check)
{
    char path[MODEL_PATH_MAX], part[MODEL_PATH_MAX], sizes[32];
    const model_spec *found;
    struct stat sb;

    if (model_resolve(spec->name, dir, path, sizeof(path), &found) == KILN_OK &&
        stat(path, &sb) == 0) {
        char expected[33];
        const char *state;
        int noted = model_md5_note_read(path, expected);
        if (!noted)
            memcpy(expected, spec->md5, sizeof(expected));
        state = md5_state(path, expected, check);
        printf("%-18s %-10s %11s  %-12s %s%s\n", spec->name, "installed",
               size_text((uint64_t)sb.st_size, sizes, sizeof(sizes)), state, path,
               noted ? " (md5 from its .md5 note)" : "");
        return;
    }
    kiln_clear_error();
    if (pull_dir[0] &&
        snprintf(part, sizeof(part), "%s/%s.onnx.part", pull_dir, spec->name) <
            (int)sizeof(part) &&
        stat(part, &sb) == 0 && S_ISREG(sb.st_mode)) {
        printf("%-18s %-10s %11s  %-12s %s (kiln model pull %s continues it)\n", spec->name,
               "partial", size_text((uint64_t)sb.st_size, sizes, sizeof(sizes)), "-", part,
               spec->name);
        return;
    }
    printf("%-18s %-10s %11s  %-12s (kiln model pull %s)\n", spec->name, "missing", "-", "-",
           spec->name);
}

/* `kiln model list`: returns the exit status. */
static int model_list_cmd(int argc, char **argv)
{
    char pull_dir[4096];
    const char *dir = NULL, *origin;
    int check = 1;

    for (int i = 0; i < argc; i++) {
        if (cli_is_help(argv[i]))
            return cli_help(&model_command);
        if (strcmp(argv[i], "--dir") == 0) {
            if (!(dir = cli_option_value(&model_command, argc, argv, &i)))
                return 2;
        } else if (strcmp(argv[i], "--no-check") == 0) {
            check = 0;
        } else if (argv[i][0] == '-') {
            return cli_usage_error(&model_command, "unknown option '%s'", argv[i]);
        } else {
            return cli_usage_error(&model_command, "list: unexpected argument '%s'", argv[i]);
        }
    }
    if (model_pull_dir_choose(dir, pull_dir, sizeof(pull_dir), &origin) != KILN_OK) {
        pull_dir[0] = '\0';
        kiln_clear_error();
    }
    printf("%-18s %-10s %11s  %-12s %s\n", "NAME", "STATE", "SIZE", "MD5", "PATH");
    for (size_t i = 0; i < model_registry_count(); i++)
        list_one(model_registry_at(i), dir, pull_dir, check);
    if (pull_dir[0])
        printf("kiln model pull downloads into %s (%s)\n", pull_dir, origin);
    return 0;
}

/* `kiln model pull|list` (see cli.h). */
int cli_model(int argc, char **argv)
{
    if (argc < 1)
        return cli_usage_error(&model_command, "missing pull or list");
    if (cli_is_help(argv[0]))
        return cli_help(&model_command);
    if (strcmp(argv[0], "pull") == 0)
        return model_pull_cmd(argc - 1, argv + 1);
    if (strcmp(argv[0], "list") == 0)
        return model_list_cmd(argc - 1, argv + 1);
    if (argv[0][0] == '-')
        return cli_usage_error(&model_command, "unknown option '%s'", argv[0]);
    return cli_usage_error(&model_command, "unknown subcommand '%s' (pull or list)", argv[0]);
}
