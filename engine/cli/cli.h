/* The kiln command line. */
#ifndef KILN_CLI_H
#define KILN_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "stages.h"

/* A command as its usage errors and --help see it: its name ("refine")
 * and its one usage text. */
typedef struct cli_command {
    const char *name;
    void (*usage)(FILE *out);
} cli_command;

/* 1 when `arg` asks for help (--help or -h), else 0. */
int cli_is_help(const char *arg);

/* Prints the command's usage on stdout; returns 0, the exit status of an
 * answered --help. */
int cli_help(const cli_command *cmd);

/* Prints "kiln NAME: MESSAGE" (printf-style) and then the command's usage
 * on stderr; returns 2, the exit status of a usage error. */
int cli_usage_error(const cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Returns the value of the option at argv[*i] and advances *i past it;
 * NULL, after a usage error, when argv[*i] is the last argument. */
const char *cli_option_value(const cli_command *cmd, int argc, char **argv, int *i);

#define CLI_SINGLE_MAX_SETS 128

/* Options shared by the one-file commands (refine, segment): the output
 * path, job key overrides and a repeat count; the command's start time
 * and whether to print where its time went (segment's --verbose). */
typedef struct cli_single {
    const char *out_path;
    const char *sets[CLI_SINGLE_MAX_SETS];
    size_t nsets;
    unsigned long repeat;
    int verbose;
    double start_ms;                    /* kiln_clock_ms() at cli_single_init */
} cli_single;

/* Starts the options: defaults for the batch-only job keys, then `extra`
 * (a "section.key=value" set, or NULL). */
void cli_single_init(cli_single *o, const char *extra);

/* Takes -o FILE, --set K=V or --repeat N at argv[*i] (advancing *i past
 * its value): 1 when taken, 0 when argv[*i] is another argument, -1 after
 * printing why it is wrong (a missing value is a usage error of cmd). */
int cli_single_option(const cli_command *cmd, int argc, char **argv, int *i, cli_single *o);

/* One run's figures, for a one-file command's report line. */
typedef struct cli_single_figures {
    const char *in_path;
    const host_image *in;
    const stage_times *times;
    const stage_item *item;             /* the run's notes and figures */
    double pool_peak_mib;               /* device pool peak so far */
    double rss_peak_mib;                /* process peak RSS so far */
    const char *device;
    FILE *out;                          /* where the figures line goes */
} cli_single_figures;


/* Opens the job's device and stages, runs the stages on `in` (and
 * `mask`, may be NULL) o->repeat times with sub-step figures, calling
 * `print` after each run that succeeds, writes the last output to
 * o->out_path and closes everything; with o->verbose, then prints where
 * the time since o->start_ms went (cli_cold_print).  The run's warnings go to note.
 * Errors carry in_path as context; a device that kept buffers live at
 * close is an error too.  *at_start is set when the job failed before
 * any item ran (no device, a model that cannot be found or loaded): the
 * command then exits 2. */
kiln_status cli_single_stages(const cli_single *o, const job_config *job, const char *in_path,
                              const host_image *in, const host_image *mask, char *note,
                              size_t note_len, int *at_start,
                              void (*print)(const cli_single_figures *f));

/* The first run of a one-file command, for cli_cold_print. */
typedef struct cli_first_run {
    double wall_ms;                     /* pipeline_run of the first item */
    double program_ms;                  /* programs loaded or built during it */
    double network_ms;                  /* its segment.network_ms figure, 0 without */
    double later_ms;                    /* the runs after it (--repeat) */
} cli_first_run;

/* Prints where a one-file command's time went, from o->start_ms to now,
 * as one line "cold_ms total=... KEY=VALUE ...": the start-up phases
 * (phase_time.h), the device's programs (loaded from the cache or built),
 * the first run (and the programs loaded in it), the later runs of
 * --repeat, and the rest. */
void cli_cold_print(FILE *fp, const cli_single *o, const kiln_device *dev,
                    const cli_first_run *first);

/* The commands: each parses its own arguments (argv after the command
 * name), answers --help / -h with its usage on stdout and exit status 0,
 * and a usage error with the usage on stderr and exit status 2. */

/* `kiln devices [--json]`: lists platforms and devices.  Returns the exit
 * status. */
int cli_devices(int argc, char **argv);

/* `kiln refine IN.png MASK.png -o OUT.png [--trimap] [--set k=v ...]`:
 * refines one image.  Returns the exit status. */
int cli_refine(int argc, char **argv);

/* `kiln segment [-m MODEL] IN.png -o OUT.png [...]`: background removal
 * of one image.  Returns the exit status. */
int cli_segment(int argc, char **argv);

/* `kiln model-info MODEL [--size N] [--run N]`: a network's facts, its
 * activation plan and, with --run, its speed.  Returns the exit status. */
int cli_model_info(int argc, char **argv);

/* `kiln model pull NAME...|--all [...]` and `kiln model list [...]`:
 * downloads rembg's models, lists what is installed.  Returns the exit
 * status. */
int cli_model(int argc, char **argv);

/* `kiln tune [--device SEL]`: searches the convolution parameters on a
 * device and saves them beside the program cache.  Returns the exit
 * status. */
int cli_tune(int argc, char **argv);

/* `kiln serve [JOB.ini] [--host H] [--port P] [--set k=v ...]`: the
 * HTTP server (engine/serve).  Returns the exit status. */
int cli_serve(int argc, char **argv);

/* `kiln splat info|render ...`: a scene's figures, or views of a scene
 * rendered to files; returns the exit status. */
int cli_splat(int argc, char **argv);

#endif
