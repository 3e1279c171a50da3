/* kiln: the command-line entry point, the command table and the small
 * commands (run, config, version). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "train_batch.h"
#include "cli.h"
#include "host_alloc.h"
#include "job.h"
#include "status.h"

#define CLI_MAX_SETS 256

/* Prints the usage of `kiln run`. */
static void run_usage(FILE *out)
{
    fprintf(out,
            "usage: kiln run JOB.ini [options]\n"
            "  --set section.key=value      override a job key (repeatable)\n"
            "  --report FILE                write a JSON report\n"
            "  --shard i/n                  take every n-th input starting at i (0-based)\n"
            "  --progress | --no-progress   force the progress line on or off\n"
            "  --quiet                      only errors\n"
            "  exit status: 0 all items done, 1 some items failed, 2 the job could not run.\n");
}

static const cli_command run_command = { "run", run_usage };

/* `kiln run`: parses options, loads the job, runs the batch. */
static int cli_run(int argc, char **argv)
{
    const char *sets[CLI_MAX_SETS];
    size_t nsets = 0;
    const char *job_path = NULL;
    batch_options options = { NULL, NULL, -1, 0, NULL, NULL, 1 };
    batch_result result;
    job_config *job;
    kiln_status st;
    int status;

    for (int i = 0; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            return cli_help(&run_command);
        } else if (strcmp(argv[i], "--set") == 0) {
            const char *v = cli_option_value(&run_command, argc, argv, &i);
            if (!v)
                return 2;
            if (nsets == CLI_MAX_SETS) {
                fprintf(stderr, "kiln run: too many --set options (at most %d)\n", CLI_MAX_SETS);
                return 2;
            }
            sets[nsets++] = v;
        } else if (strcmp(argv[i], "--report") == 0) {
            if (!(options.report_path = cli_option_value(&run_command, argc, argv, &i)))
                return 2;
        } else if (strcmp(argv[i], "--shard") == 0) {
            if (!(options.shard = cli_option_value(&run_command, argc, argv, &i)))
                return 2;
        } else if (strcmp(argv[i], "--progress") == 0) {
            options.progress = 1;
        } else if (strcmp(argv[i], "--no-progress") == 0) {
            options.progress = 0;
        } else if (strcmp(argv[i], "--quiet") == 0) {
            options.quiet = 1;
        } else if (argv[i][0] == '-') {
            return cli_usage_error(&run_command, "unknown option '%s'", argv[i]);
        } else if (!job_path) {
            job_path = argv[i];
        } else {
            return cli_usage_error(&run_command, "one job file at a time ('%s' and '%s')",
                                   job_path, argv[i]);
        }
    }
    if (!job_path)
        return cli_usage_error(&run_command, "missing JOB.ini");
    job = kiln_malloc(sizeof(*job));
    if (!job) {
        fprintf(stderr, "kiln run: out of host memory\n");
        return 2;
    }
    st = job_load(job_path, sets, nsets, job);
    if (st == KILN_OK)
        st = job_run(job, &options, &result);
    kiln_free(job);
    if (st != KILN_OK) {
        fprintf(stderr, "kiln: error: %s\n", kiln_last_error());
        return 2;
    }
    status = result.failed ? 1 : 0;
    if (result.failed)
        fprintf(stderr, "kiln: %zu of %zu items failed\n", result.failed, result.listed - result.skipped);
    if (result.signal) {
        fprintf(stderr, "kiln: interrupted by %s after %zu items\n",
                result.signal == SIGINT ? "SIGINT" : "SIGTERM", result.succeeded + result.failed);
        status = 128 + result.signal;   /* 130 or 143, as a shell reports it */
    }
    return status;
}

/* Prints the usage of `kiln config`. */
static void config_usage(FILE *out)
{
    fprintf(out, "usage: kiln config --reference\n"
                 "  prints every job key with its type, range and default (an INI file)\n");
}

static const cli_command config_command = { "config", config_usage };

/* `kiln config --reference`: the documented reference of every key. */
static int cli_config(int argc, char **argv)
{
    int reference = 0;

    for (int i = 0; i < argc; i++) {
        if (cli_is_help(argv[i]))
            return cli_help(&config_command);
        if (strcmp(argv[i], "--reference") == 0)
            reference = 1;
        else if (argv[i][0] == '-')
            return cli_usage_error(&config_command, "unknown option '%s'", argv[i]);
        else
            return cli_usage_error(&config_command, "unexpected argument '%s'", argv[i]);
    }
    if (!reference)
        return cli_usage_error(&config_command, "missing --reference");
    job_write_reference(stdout);
    return 0;
}

/* Prints the usage of `kiln version`. */
static void version_usage(FILE *out)
{
    fprintf(out, "usage: kiln version (or kiln --version)\n"
                 "  prints the version\n");
}

static const cli_command version_command = { "version", version_usage };

/* `kiln version`: prints the version. */
static int cli_version(int argc, char **argv)
{
    if (argc > 0 && cli_is_help(argv[0]))
        return cli_help(&version_command);
    if (argc > 0 && argv[0][0] == '-')
        return cli_usage_error(&version_command, "unknown option '%s'", argv[0]);
    if (argc > 0)
        return cli_usage_error(&version_command, "unexpected argument '%s'", argv[0]);
    printf("kiln %s\n", kiln_version());
    return 0;
}

/* One command of the table: its name, its entry point and its line in
 * the general usage. */
typedef struct cli_entry {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} cli_entry;

static const cli_entry commands[] = {
    { "devices", cli_devices, "list OpenCL platforms and devices" },
    { "run", cli_run, "run a batch job (JOB.ini)" },
    { "refine", cli_refine, "refine one image's mask into alpha / a cut-out" },
    { "segment", cli_segment, "remove one image's background (rembg's models)" },
    { "splat", cli_splat, "render views of a 3DGS scene (PLY/.splat), or print its figures" },
    { "model", cli_model, "download rembg's models (pull), list the installed ones (list)" },
    { "serve", cli_serve, "serve background removal over HTTP (rembg's API, /v1/run)" },
    { "model-info", cli_model_info, "a network's parameters, MACs, activation plan, speed" },
    { "tune", cli_tune, "search convolution parameters for a device, save them" },
    { "config", cli_config, "print every job key with its default" },
    { "version", cli_version, "print the version" },
};

/* Prints the general usage: the commands and the environment. */
static void usage(FILE *out)
{
    fprintf(out, "usage: kiln COMMAND [ARGS]\n"
                 "\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\n"
            "kiln COMMAND --help prints a command's arguments and options;\n"
            "kiln --version prints the version.\n"
            "\n"
            "environment: KILN_DEVICE (device selector), KILN_CACHE_DIR (program cache),\n"
            "KILN_MODEL_DIR, U2NET_HOME (models; then $XDG_DATA_HOME/.u2net, ~/.u2net),\n"
            "https_proxy, http_proxy, all_proxy, no_proxy (kiln model pull),\n"
            "SLURM_ARRAY_TASK_ID/COUNT/MIN/STEP, JOB_COMPLETION_INDEX + KILN_SHARD_COUNT (shards).\n"
            "exit status: 0 done, 1 some items failed, 2 a usage error or the job could not run.\n");
}

/* Dispatches to a command; answers help, --version and a missing or
 * unknown command. */
int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "kiln: missing COMMAND\n");
        usage(stderr);
        return 2;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 2, argv + 2);
    }
    if (strcmp(argv[1], "--version") == 0)
        return cli_version(argc - 2, argv + 2);
    if (strcmp(argv[1], "help") == 0 || cli_is_help(argv[1])) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "kiln: unknown %s '%s'\n", argv[1][0] == '-' ? "option" : "command", argv[1]);
    usage(stderr);
    return 2;
}
