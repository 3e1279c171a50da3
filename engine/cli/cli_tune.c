/* `kiln tune [--device SEL] [--model FILE [--size N]]`: runs the
 * convolution tuning search (or one model's per-shape algorithm timing)
 * on one device and saves the choice beside the program cache. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "device.h"
#include "nn_tune.h"
#include "status.h"

/* Prints the usage of the command. */
static void tune_usage(FILE *out)
{
    fprintf(out, "usage: kiln tune [--device SEL] [--model FILE [--size N]]\n"
                 "  searches the convolution kernel's parameters on one device (default\n"
                 "  auto; SEL as KILN_DEVICE), times each conv algorithm (tiled, Winograd\n"
                 "  F(2,3) and F(4,3), fused F(4,3), CLBlast GEMM, narrow) on\n"
                 "  representative shapes, and saves\n"
                 "  the choice beside the program cache, where kiln model-info, segment\n"
                 "  and run find it.\n"
                 "  --model FILE  instead, keeps the saved tuning (or the defaults) and\n"
                 "                times the algorithms on each distinct conv shape of the\n"
                 "                ONNX model FILE, adding the winners to the saved file\n"
                 "  --size N      the model's input fixed to 1x3xNxN (default: its own)\n");
}

static const cli_command tune_command = { "tune", tune_usage };

/* Runs the search (no model) or the model's per-shape timing on an open
 * device and saves the result. */
static kiln_status tune_device(kiln_device *dev, const char *model, unsigned long size)
{
    nn_conv_tuning t;
    kiln_status st;

    if (model) {
        onnx_input_shape shape = { NULL, 4, { 1, 3, (int64_t)size, (int64_t)size } };
        nn_tune_load(dev, &t);
        if (t.origin == NN_TUNING_DEFAULT || t.origin == NN_TUNING_CORRUPT)
            printf("no saved tuning for this device: the tiles are the defaults "
                   "(run kiln tune first)\n");
        st = nn_tune_model(dev, stdout, model, size ? &shape : NULL, &t);
        t.origin = NN_TUNING_SEARCHED;
    } else {
        st = nn_tune_run(dev, stdout, &t);
    }
    if (st == KILN_OK)
        st = nn_tune_save(dev, &t);
    if (st == KILN_OK) {
        char path[4200];
        nn_tune_path(dev, path, sizeof(path));
        printf("saved to %s (%d per-shape records)\n", path, t.nchoices);
    }
    return st;
}

/* Parses the options, opens the device, runs the search printing its
 * table on stdout, saves the result and prints where.  Returns 0, or 2 on
 * a usage error or any failure. */
int cli_tune(int argc, char **argv)
{
    const char *selector = "auto", *model = NULL;
    unsigned long size = 0;
    kiln_device *dev = NULL;
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
        } else if (strcmp(argv[i], "--model") == 0) {
            if (!(model = cli_option_value(&tune_command, argc, argv, &i)))
                return 2;
        } else if (strcmp(argv[i], "--size") == 0) {
            const char *v = cli_option_value(&tune_command, argc, argv, &i);
            char *end = NULL;
            if (!v)
                return 2;
            size = strtoul(v, &end, 10);
            if (!end || *end || size < 1 || size > 16384)
                return cli_usage_error(&tune_command, "--size wants 1..16384, not '%s'", v);
        } else if (argv[i][0] == '-') {
            return cli_usage_error(&tune_command, "unknown option '%s'", argv[i]);
        } else {
            return cli_usage_error(&tune_command, "unexpected argument '%s'", argv[i]);
        }
    }
    if (size && !model)
        return cli_usage_error(&tune_command, "--size needs --model");
    st = device_open_selected(selector, 0, &dev);
    if (st != KILN_OK) {
        fprintf(stderr, "kiln tune: %s\n", kiln_last_error());
        return 2;
    }
    st = tune_device(dev, model, size);
    if (st == KILN_OK)
        rc = 0;
    else
        fprintf(stderr, "kiln tune: %s\n", kiln_last_error());
    close_st = device_close(dev);
    if (close_st != KILN_OK) {
        fprintf(stderr, "kiln tune: %s\n", kiln_last_error());
        rc = 2;
    }
    return rc;
}
