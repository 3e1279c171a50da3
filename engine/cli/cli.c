/* kiln: the command-line entry point. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "cli.h"
#include "job.h"
#include "status.h"

#define CLI_MAX_SETS 256

/* Prints the usage text to `out`. */
static void usage(FILE *out)
{
    fprintf(out,
            "usage: kiln COMMAND [ARGS]\n"
            "\n"
            "commands:\n"
            "  devices [--json]           list OpenCL platforms and devices\n"
            "  run JOB.ini [options]      run a batch job\n"
            "      --set section.key=value  override a job key (repeatable)\n"
            "      --report FILE            write a JSON report\n"
            "      --shard i/n              take every n-th input starting at i (0-based)\n"
            "      --progress | --no-progress  force the progress line on or off\n"
            "      --quiet                  only errors\n"
            "  refine IN.png MASK.png -o OUT.png [--trimap] [--set k=v ...]\n"
            "                             refine one image's mask into alpha / a cut-out\n"
            "  segment [-m MODEL] IN.png -o OUT.png [--mask] [--post-process-mask] [--set k=v ...]\n"
            "                             remove one image's background (rembg's models)\n"
            "  model-info MODEL [--size N] [--run N]\n"
            "                             a network's parameters, MACs, activation plan, speed\n"
            "  tune [--device SEL]        search convolution parameters for a device, save them\n"
            "  config --reference         print every job key with its default\n"
            "  version                    print the version\n"
            "\n"
            "environment: KILN_DEVICE (device selector), KILN_CACHE_DIR (program cache),\n"
            "KILN_MODEL_DIR, U2NET_HOME (models; then $XDG_DATA_HOME/.u2net, ~/.u2net),\n"
            "SLURM_ARRAY_TASK_ID/COUNT/MIN/STEP, JOB_COMPLETION_INDEX + KILN_SHARD_COUNT (shards).\n"
            "exit status: 0 all items done, 1 some items failed, 2 the job could not run.\n");
}

/* Returns the value of an option that takes one argument, advancing *i;
 * NULL (after a message) when it is missing. */
static const char *option_value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "kiln run: %s needs a value\n", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

/* `kiln run`: parses options, loads the job, runs the batch. */
static int cli_run(int argc, char **argv)
{
    const char *sets[CLI_MAX_SETS];
    size_t nsets = 0;
    const char *job_path = NULL;
    batch_options options = { NULL, NULL, -1, 0, NULL, NULL };
    batch_result result;
    job_config *job;
    kiln_status st;
    int status;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--set") == 0) {
            const char *v = option_value(argc, argv, &i);
            if (!v)
                return 2;
            if (nsets == CLI_MAX_SETS) {
                fprintf(stderr, "kiln run: too many --set options (at most %d)\n", CLI_MAX_SETS);
                return 2;
            }
            sets[nsets++] = v;
        } else if (strcmp(argv[i], "--report") == 0) {
            if (!(options.report_path = option_value(argc, argv, &i)))
                return 2;
        } else if (strcmp(argv[i], "--shard") == 0) {
            if (!(options.shard = option_value(argc, argv, &i)))
                return 2;
        } else if (strcmp(argv[i], "--progress") == 0) {
            options.progress = 1;
        } else if (strcmp(argv[i], "--no-progress") == 0) {
            options.progress = 0;
        } else if (strcmp(argv[i], "--quiet") == 0) {
            options.quiet = 1;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "kiln run: unknown option '%s'\n", argv[i]);
            return 2;
        } else if (!job_path) {
            job_path = argv[i];
        } else {
            fprintf(stderr, "kiln run: one job file at a time ('%s' and '%s')\n", job_path, argv[i]);
            return 2;
        }
    }
    if (!job_path) {
        fprintf(stderr, "kiln run: missing JOB.ini\n");
        usage(stderr);
        return 2;
    }
    job = malloc(sizeof(*job));
    if (!job) {
        fprintf(stderr, "kiln run: out of host memory\n");
        return 2;
    }
    st = job_load(job_path, sets, nsets, job);
    if (st == KILN_OK)
        st = batch_run(job, &options, &result);
    free(job);
    if (st != KILN_OK) {
        fprintf(stderr, "kiln: error: %s\n", kiln_last_error());
        return 2;
    }
    status = result.failed ? 1 : 0;
    if (result.failed)
        fprintf(stderr, "kiln: %zu of %zu items failed\n", result.failed, result.listed - result.skipped);
    return status;
}

/* `kiln config --reference`: the documented reference of every key. */
static int cli_config(int argc, char **argv)
{
    if (argc != 1 || strcmp(argv[0], "--reference") != 0) {
        fprintf(stderr, "usage: kiln config --reference\n");
        return 2;
    }
    job_write_reference(stdout);
    return 0;
}

/* Dispatches to a command. */
int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "devices") == 0)
        return cli_devices(argc - 2, argv + 2);
    if (strcmp(argv[1], "run") == 0)
        return cli_run(argc - 2, argv + 2);
    if (strcmp(argv[1], "refine") == 0)
        return cli_refine(argc - 2, argv + 2);
    if (strcmp(argv[1], "segment") == 0)
        return cli_segment(argc - 2, argv + 2);
    if (strcmp(argv[1], "model-info") == 0)
        return cli_model_info(argc - 2, argv + 2);
    if (strcmp(argv[1], "tune") == 0)
        return cli_tune(argc - 2, argv + 2);
    if (strcmp(argv[1], "config") == 0)
        return cli_config(argc - 2, argv + 2);
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("kiln %s\n", kiln_version());
        return 0;
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "kiln: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
