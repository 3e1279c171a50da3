/* `kiln tune [--device SEL]`: runs the convolution tuning search on one
 * device and saves its choice beside the program cache. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "device.h"
#include "nn_tune.h"
#include "status.h"

/* Prints the usage of the command. */
static void tune_usage(FILE *out)
{
    fprintf(out, "usage: kiln tune [--device SEL]\n"
                 "  searches the convolution kernel's parameters on one device (default\n"
                 "  auto; SEL as KILN_DEVICE) and saves them beside the program cache,\n"
                 "  where kiln model-info, segment and run find them.\n");
}

static const cli_command tune_command = { "tune", tune_usage };

/* Parses the options, opens the device, runs the search printing its
 * table on stdout, saves the result and prints where.  Returns 0, or 2 on
 * a usage error or any failure. */
int cli_tune(int argc, char **argv)
{
    const char *selector = "auto";
    kiln_device *dev = NULL;
    nn_conv_tuning t;
    kiln_status st, close_st;
    int rc = 2;

    for (int i = 0; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            return cli_help(&tune_command);
        } else if (strcmp(argv[i], "--device") == 0) {
            if (!(selector = cli_option_value(&tune_command, argc, argv, &i)))
                return 2;
        } else if (strncmp(argv[i], "--device=", 9) == 0) {
            selector = argv[i] + 9;
        } else if (argv[i][0] == '-') {
            return cli_usage_error(&tune_command, "unknown option '%s'", argv[i]);
        } else {
            return cli_usage_error(&tune_command, "unexpected argument '%s'", argv[i]);
        }
    }
    st = device_open_selected(selector, 0, &dev);
    if (st != KILN_OK) {
        fprintf(stderr, "kiln tune: %s\n", kiln_last_error());
        return 2;
    }
    st = nn_tune_run(dev, stdout, &t);
    if (st == KILN_OK)
        st = nn_tune_save(dev, &t);
    if (st == KILN_OK) {
        char path[4200];
        nn_tune_path(dev, path, sizeof(path));
        printf("saved to %s\n", path);
        rc = 0;
    } else {
        fprintf(stderr, "kiln tune: %s\n", kiln_last_error());
    }
    close_st = device_close(dev);
    if (close_st != KILN_OK) {
        fprintf(stderr, "kiln tune: %s\n", kiln_last_error());
        rc = 2;
    }
    return rc;
}
