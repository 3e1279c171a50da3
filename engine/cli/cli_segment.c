/* `kiln segment [-m MODEL] IN.png -o OUT.png`: background removal of one
 * image outside a batch, with the same [segment] keys as jobs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "phase_time.h"
#include "image_read.h"
#include "host_alloc.h"
#include "job.h"
#include "stages.h"
#include "status.h"

/* Prints the usage of the command. */
static void segment_usage(FILE *out)
{
    fprintf(out, "usage: kiln segment [-m MODEL] IN.png -o OUT.png [--mask] [--post-process-mask]\n"
                 "                    [--repeat N] [--verbose] [--set section.key=value ...]\n"
                 "  MODEL is a registry name (u2net, u2netp, u2net_human_seg, silueta,\n"
                 "  isnet-general-use, isnet-anime: NAME.onnx in $KILN_MODEL_DIR,\n"
                 "  $U2NET_HOME, $XDG_DATA_HOME/.u2net or ~/.u2net) or an .onnx path;\n"
                 "  default u2netp.\n"
                 "  Writes the RGBA cut-out, or with --mask the 8-bit mask; the [segment],\n"
                 "  [refine] and [composite] keys of a job apply (kiln config --reference).\n"
                 "  --repeat N segments N times in one process (for benchmarks).\n"
                 "  --verbose  then prints where the command's time went: device open, model\n"
                 "             read, decode, convert, fold, arena plan, weight pack and upload,\n"
                 "             programs (from the cache or built), the first run, image I/O.\n");
}

static const cli_command segment_command = { "segment", segment_usage };

/* Prints one segmentation's line. */
static void segment_print(const cli_single_figures *f)
{
    const double *ms = f->times->ms;
    fprintf(f->out, "segment %s: %ux%u: %.1f ms (segment %.1f, refine %.1f); device pool peak %.1f MiB, "
           "process peak RSS %.1f MiB on %s\n", f->in_path, f->in->width, f->in->height,
           ms[STAGE_UPLOAD] + ms[STAGE_SEGMENT] + ms[STAGE_REFINE] + ms[STAGE_RESIZE] +
           ms[STAGE_COMPOSITE] + ms[STAGE_DOWNLOAD], ms[STAGE_SEGMENT], ms[STAGE_REFINE],
           f->pool_peak_mib, f->rss_peak_mib, f->device);
}

/* Loads IN, segments it on one device, writes OUT. */
static kiln_status segment_file(const cli_single *o, const job_config *job, const char *in_path,
                                char *note, size_t note_len, int *at_start)
{
    host_image in = { 0 };
    double t0 = kiln_clock_ms();
    kiln_status st = image_read_file(in_path, job->max_pixels, &in);

    kiln_phase_lap(KILN_PHASE_IMAGE_READ, &t0);
    if (st == KILN_OK)
        st = cli_single_stages(o, job, in_path, &in, NULL, note, note_len, at_start,
                               segment_print);
    host_image_free(&in);
    return st;
}

/* Parses the command line and segments one image. */
int cli_segment(int argc, char **argv)
{
    cli_single o;
    const char *in_path = NULL, *model = NULL;
    int mask = 0, post = 0;
    job_config *job;
    char note[1024] = "";
    int at_start = 0;
    kiln_status st;

    cli_single_init(&o, "segment.enabled=yes");
    for (int i = 0; i < argc; i++) {
        int taken;
        if (cli_is_help(argv[i]))
            return cli_help(&segment_command);
        taken = cli_single_option(&segment_command, argc, argv, &i, &o);
        if (taken < 0)
            return 2;
        if (taken)
            continue;
        if (strcmp(argv[i], "-m") == 0) {
            if (!(model = cli_option_value(&segment_command, argc, argv, &i)))
                return 2;
        } else if (strcmp(argv[i], "--mask") == 0) {
            mask = 1;
        } else if (strcmp(argv[i], "--post-process-mask") == 0) {
            post = 1;
        } else if (strcmp(argv[i], "--verbose") == 0) {
            o.verbose = 1;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage_error(&segment_command, "unknown option '%s'", argv[i]);
        } else if (!in_path) {
            in_path = argv[i];
        } else {
            return cli_usage_error(&segment_command,
                                   "one input image ('%s' is a second file)", argv[i]);
        }
    }
    if (!in_path)
        return cli_usage_error(&segment_command, "missing IN.png");
    if (!o.out_path)
        return cli_usage_error(&segment_command, "missing -o OUT.png");
    job = kiln_malloc(sizeof(*job));
    if (!job) {
        fprintf(stderr, "kiln segment: out of host memory\n");
        return 2;
    }
    st = job_load(NULL, o.sets, o.nsets, job);
    if (st == KILN_OK) {
        if (model)
            snprintf(job->segment.model, sizeof(job->segment.model), "%s", model);
        if (mask)
            job->segment.output = SEGMENT_OUTPUT_MASK;
        if (post)
            job->segment.post_process = 1;
        st = segment_file(&o, job, in_path, note, sizeof(note), &at_start);
    }
    kiln_free(job);
    if (note[0])
        fprintf(stderr, "kiln segment: warning: %s: %s\n", in_path, note);
    if (st != KILN_OK) {
        fprintf(stderr, "kiln segment: error: %s\n", kiln_last_error());
        return st == KILN_E_CONFIG || st == KILN_E_NODEV || at_start ? 2 : 1;
    }
    return 0;
}
