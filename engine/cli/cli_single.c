/* What `kiln refine` and `kiln segment` share: options and the run on
 * one device (see cli.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_alloc.h"
#include "atomic_file.h"
#include "cli.h"
#include "clock.h"
#include "phase_time.h"
#include "png_io.h"
#include "program.h"
#include "rss.h"
#include "status.h"

/* Starts the options of a one-file command: the job keys a batch would
 * need are given defaults, then `extra` sets (may be NULL). */
void cli_single_init(cli_single *o, const char *extra)
{
    memset(o, 0, sizeof(*o));
    o->repeat = 1;
    o->start_ms = kiln_clock_ms();
    o->sets[o->nsets++] = "job.inputs=-";
    o->sets[o->nsets++] = "job.output_dir=.";
    if (extra)
        o->sets[o->nsets++] = extra;
}

/* Takes -o FILE, --set K=V or --repeat N at argv[*i] (advancing *i past
 * its value): 1 when taken, 0 when argv[*i] is something else, -1 after
 * printing why it is wrong (a missing value, with cmd's usage; a bad
 * value; too many sets). */
int cli_single_option(const cli_command *cmd, int argc, char **argv, int *i, cli_single *o)
{
    const char *arg = argv[*i], *value;
    char *end = NULL;

    if (strcmp(arg, "-o") != 0 && strcmp(arg, "--set") != 0 && strcmp(arg, "--repeat") != 0)
        return 0;
    if (!(value = cli_option_value(cmd, argc, argv, i)))
        return -1;
    if (strcmp(arg, "-o") == 0) {
        o->out_path = value;
    } else if (strcmp(arg, "--set") == 0) {
        if (o->nsets == CLI_SINGLE_MAX_SETS) {
            fprintf(stderr, "kiln %s: too many --set options\n", cmd->name);
            return -1;
        }
        o->sets[o->nsets++] = value;
    } else {
        o->repeat = strtoul(value, &end, 10);
        if (!end || *end != '\0' || o->repeat < 1 || o->repeat > 1000) {
            fprintf(stderr, "kiln %s: --repeat wants 1..1000, not '%s'\n", cmd->name, value);
            return -1;
        }
    }
    return 1;
}

/* Runs the stages on one device `repeat` times and writes the output
 * (see cli.h). */
kiln_status cli_single_stages(const cli_single *o, const job_config *job, const char *in_path,
                              const host_image *in, const host_image *mask, char *note,
                              size_t note_len, int *at_start,
                              void (*print)(const cli_single_figures *f))
{
    const char *out_path = o->out_path;
    host_image out = { 0 };
    kiln_device *dev = NULL;
    pipeline *stages = NULL;
    stage_item *item = NULL;
    stage_times times;
    pool_ledger ledger;
    program_stats before, after;
    cli_first_run first = { 0, 0, 0, 0 };
    double t0;
    kiln_status st, close_st;

    *at_start = 1;
    st = atomic_file_check(out_path);
    if (st != KILN_OK)
        return kiln_fail_context(st, "-o");
    item = kiln_calloc(1, sizeof(*item));
    if (!item)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory");
    st = device_open_selected(job->device.select, (size_t)job->memory.device_budget, &dev);
    if (st != KILN_OK)
        goto out_free_item;
    st = pipeline_open(dev, job, &stages);
    if (st != KILN_OK)
        goto out_close_device;
    *at_start = 0;
    for (unsigned long run = 0; run < o->repeat && st == KILN_OK; run++) {
        memset(&times, 0, sizeof(times));
        memset(item, 0, sizeof(*item));
        item->path = in_path;
        item->profile = 1;
        item->host_mask = pipeline_needs_host_mask(job) ? mask : NULL;
        host_image_free(&out);
        program_stats_get(dev->programs, &before);
        t0 = kiln_clock_ms();
        st = pipeline_run(stages, in, item, &out, &times);
        snprintf(note, note_len, "%s", item->note);
        if (run == 0) {
            program_stats_get(dev->programs, &after);
            first.wall_ms = kiln_clock_ms() - t0;
            first.program_ms = after.load_ms + after.build_ms - before.load_ms - before.build_ms;
            first.network_ms = stage_figure_get(item, "segment.network_ms", 0);
        } else {
            first.later_ms += kiln_clock_ms() - t0;
        }
        if (st == KILN_OK) {
            /* with -o - the PNG is standard output: figures go to stderr */
            cli_single_figures f = { in_path, in, &times, item, 0, 0, dev->info.name,
                                     strcmp(out_path, "-") == 0 ? stderr : stdout };
            pool_ledger_get(dev->pool, &ledger);
            f.pool_peak_mib = ledger.peak_bytes / 1048576.0;
            f.rss_peak_mib = rss_peak_bytes() / 1048576.0;
            print(&f);
        }
    }
    t0 = kiln_clock_ms();
    if (st == KILN_OK)
        st = png_write_file(out_path, &out);
    kiln_phase_lap(KILN_PHASE_IMAGE_WRITE, &t0);
    if (st == KILN_OK && o->verbose)
        cli_cold_print(strcmp(out_path, "-") == 0 ? stderr : stdout, o, dev, &first);
    host_image_free(&out);
    pipeline_close(stages);
out_close_device:
    close_st = device_close(dev);
    if (st == KILN_OK)
        st = close_st;
out_free_item:
    kiln_free(item);
    if (st != KILN_OK)
        kiln_fail_context(st, "%s", in_path);
    return st;
}
