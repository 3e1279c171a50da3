/* `kiln refine IN.png MASK.png -o OUT.png`: one refinement, outside a
 * batch, with the same [refine] keys as jobs (--set refine.key=value). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "image_read.h"
#include "host_alloc.h"
#include "job.h"
#include "stages.h"
#include "status.h"

/* Prints the usage of the command. */
static void refine_usage(FILE *out)
{
    fprintf(out, "usage: kiln refine IN.png MASK.png -o OUT.png [--trimap] [--repeat N] [--set section.key=value ...]\n"
                 "  MASK.png is a coarse mask (or, with --trimap, a trimap: 0 background,\n"
                 "  255 foreground, other values unknown).  The [refine] keys of a job\n"
                 "  apply (kiln config --reference); --set refine.output=alpha writes the\n"
                 "  alpha matte, --set composite.enabled=yes composites the cut-out.\n"
                 "  --repeat N refines N times in one process (for benchmarks: the first\n"
                 "  run pays for first-touch allocations, the others reuse the pool).\n");
}

static const cli_command refine_command = { "refine", refine_usage };

/* Prints one refinement's line. */
static void refine_print(const cli_single_figures *f)
{
    fprintf(f->out, "refine %s: %ux%u, %zu unknown pixels: %.1f ms (trimap %.1f, alpha %.1f in %u "
           "iterations, foreground %.1f); device pool peak %.1f MiB, process peak RSS %.1f MiB "
           "on %s\n", f->in_path, f->in->width, f->in->height,
           (size_t)stage_figure_get(f->item, "refine.unknown", 0), f->times->ms[STAGE_REFINE],
           stage_figure_get(f->item, "refine.trimap_ms", 0),
           stage_figure_get(f->item, "refine.alpha_ms", 0),
           (unsigned)stage_figure_get(f->item, "refine.iterations", 0),
           stage_figure_get(f->item, "refine.foreground_ms", 0), f->pool_peak_mib,
           f->rss_peak_mib, f->device);
}

/* Loads the image and its mask, refines on one device, writes OUT. */
static kiln_status refine_files(const cli_single *o, const job_config *job, const char *in_path,
                                const char *mask_path, char *note, size_t note_len,
                                int *at_start)
{
    host_image in = { 0 }, mask = { 0 };
    kiln_status st = image_read_file(in_path, job->max_pixels, &in);

    if (st != KILN_OK)
        return st;
    st = image_read_file(mask_path, job->max_pixels, &mask);
    if (st == KILN_OK)
        st = cli_single_stages(o, job, in_path, &in, &mask, note, note_len, at_start,
                               refine_print);
    host_image_free(&mask);
    host_image_free(&in);
    return st;
}

/* Parses the command line and refines one image. */
int cli_refine(int argc, char **argv)
{
    cli_single o;
    const char *files[2] = { NULL, NULL };
    size_t nfiles = 0;
    int trimap = 0;
    job_config *job;
    char note[1024] = "";
    int at_start = 0;
    kiln_status st;

    cli_single_init(&o, NULL);
    for (int i = 0; i < argc; i++) {
        int taken;
        if (cli_is_help(argv[i]))
            return cli_help(&refine_command);
        taken = cli_single_option(&refine_command, argc, argv, &i, &o);
        if (taken < 0)
            return 2;
        if (taken)
            continue;
        if (strcmp(argv[i], "--trimap") == 0) {
            trimap = 1;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage_error(&refine_command, "unknown option '%s'", argv[i]);
        } else if (nfiles < 2) {
            files[nfiles++] = argv[i];
        } else {
            return cli_usage_error(&refine_command,
                                   "one image and one mask ('%s' is a third file)", argv[i]);
        }
    }
    if (nfiles != 2)
        return cli_usage_error(&refine_command, "missing %s", nfiles ? "MASK.png" : "IN.png");
    if (!o.out_path)
        return cli_usage_error(&refine_command, "missing -o OUT.png");
    job = kiln_malloc(sizeof(*job));
    if (!job) {
        fprintf(stderr, "kiln refine: out of host memory\n");
        return 2;
    }
    st = job_load(NULL, o.sets, o.nsets, job);
    if (st == KILN_OK) {
        job->refine.enabled = 1;
        if (trimap)
            snprintf(job->refine.trimaps, sizeof(job->refine.trimaps), "%s", files[1]);
        st = refine_files(&o, job, files[0], files[1], note, sizeof(note), &at_start);
    }
    kiln_free(job);
    if (note[0])
        fprintf(stderr, "kiln refine: warning: %s: %s\n", files[0], note);
    if (st != KILN_OK) {
        fprintf(stderr, "kiln refine: error: %s\n", kiln_last_error());
        return st == KILN_E_CONFIG || st == KILN_E_NODEV || at_start ? 2 : 1;
    }
    return 0;
}
