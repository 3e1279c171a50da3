/* The options `kiln refine` and `kiln segment` share (see cli.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Starts the options of a one-file command: the job keys a batch would
 * need are given defaults, then `extra` sets (may be NULL). */
void cli_single_init(cli_single *o, const char *extra)
{
    memset(o, 0, sizeof(*o));
    o->repeat = 1;
    o->sets[o->nsets++] = "job.inputs=-";
    o->sets[o->nsets++] = "job.output_dir=.";
    if (extra)
        o->sets[o->nsets++] = extra;
}

/* Takes -o FILE, --set K=V or --repeat N at argv[*i] (advancing *i past
 * its value): 1 when taken, 0 when argv[*i] is something else, -1 after
 * printing why it is wrong (a missing or bad value, too many sets). */
int cli_single_option(const char *cmd, int argc, char **argv, int *i, cli_single *o)
{
    const char *arg = argv[*i];
    char *end = NULL;

    if (strcmp(arg, "-o") != 0 && strcmp(arg, "--set") != 0 && strcmp(arg, "--repeat") != 0)
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "kiln %s: %s needs a value\n", cmd, arg);
        return -1;
    }
    ++*i;
    if (strcmp(arg, "-o") == 0) {
        o->out_path = argv[*i];
    } else if (strcmp(arg, "--set") == 0) {
        if (o->nsets == CLI_SINGLE_MAX_SETS) {
            fprintf(stderr, "kiln %s: too many --set options\n", cmd);
            return -1;
        }
        o->sets[o->nsets++] = argv[*i];
    } else {
        o->repeat = strtoul(argv[*i], &end, 10);
        if (!end || *end != '\0' || o->repeat < 1 || o->repeat > 1000) {
            fprintf(stderr, "kiln %s: --repeat wants 1..1000, not '%s'\n", cmd, argv[*i]);
            return -1;
        }
    }
    return 1;
}
