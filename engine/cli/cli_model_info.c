/* `kiln model-info MODEL [--size N] [--run N]`: what a network is (inputs,
 * outputs, operators, parameters, MACs), what its activations need (the
 * planned arena, the sum of all activations, the liveness lower bound)
 * and, with --run, how fast the device runs it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cli.h"
#include "graph_fold.h"
#include "graph_info.h"
#include "graph_lifetime.h"
#include "host_alloc.h"
#include "memory_plan.h"
#include "model_registry.h"
#include "nn_conv_tiled.h"
#include "nn_model.h"
#include "onnx_load.h"
#include "rss.h"
#include "stages.h"
#include "status.h"

/* Prints the usage of the command. */
static void model_info_usage(FILE *out)
{
    fprintf(out, "usage: kiln model-info MODEL [--size N] [--run N [--profile]] [--device SELECTOR]\n"
                 "                       [--precision auto|fp32|fp16]\n"
                 "  MODEL: a registry name (u2netp, isnet-general-use, ...) or an .onnx path.\n"
                 "  --size N   fix the input to 1x3xNxN (default: the model's registry size,\n"
                 "             else its own fixed shape)\n"
                 "  --run N    run the network N times on the device after one warm-up run\n"
                 "             and print the median, minimum and first-run times\n"
                 "  --profile  then N more runs waiting for each node: time per operator\n"
                 "  --device SELECTOR  the device of --run (default auto; as KILN_DEVICE)\n"
                 "  --precision P  the storage precision of --run, as [segment] precision\n"
                 "             (default auto); prints the arena at fp16 beside fp32\n");
}

static const cli_command model_info_command = { "model-info", model_info_usage };

/* Loads and folds the model on the host and prints its facts and plan. */
static kiln_status print_facts(const char *path, const onnx_input_shape *shape)
{
    onnx_load_options opt = { 0 };
    graph_fold_options fold = { 0 };
    graph_fold_stats stats;
    memory_plan plan;
    kiln_graph *g = NULL;
    kiln_status st;

    if (shape) {
        opt.inputs = shape;
        opt.ninputs = 1;
    }
    st = onnx_load(path, &opt, &g);
    if (st != KILN_OK)
        return st;
    fold.runtime_only = 1;
    st = graph_fold(g, &fold, &stats);
    if (st != KILN_OK) {
        kiln_fail_context(st, "%s", path);
        goto out_free;
    }
    printf("model: %s\n", path);
    printf("folded: %zu nodes evaluated, %zu BatchNormalizations folded into Conv, %zu "
           "activations and %zu residual Adds fused, %zu nodes lowered, %zu removed\n", stats.folded,
           stats.bn_folded, stats.fused, stats.residual_fused, stats.rewritten, stats.removed);
    st = graph_print_info(stdout, g);
    if (st != KILN_OK)
        goto out_free;
    st = memory_plan_graph(g, GRAPH_INPLACE_CONCAT_SHARED, &plan);   /* as nn_model plans */
    if (st != KILN_OK)
        goto out_free;
    memory_plan_print(stdout, &plan);
    memory_plan_free(&plan);
out_free:
    graph_free(g);
    return st;
}

/* Compares doubles for qsort. */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Prints where one profiled run's time went: per operator, and the
 * costliest Conv shapes. */
static void print_profile(const kiln_graph *g, const double *node_ms, unsigned runs)
{
    double by_op[GRAPH_OP_COUNT] = { 0 }, total = 0;
    size_t count[GRAPH_OP_COUNT] = { 0 };

    for (size_t i = 0; i < g->nnodes; i++) {
        by_op[g->nodes[i].op] += node_ms[i] / runs;
        count[g->nodes[i].op]++;
        total += node_ms[i] / runs;
    }
    printf("profile (each node waited for, mean of %u runs): %.1f ms\n", runs, total);
    for (int op = 0; op < GRAPH_OP_COUNT; op++) {
        if (count[op])
            printf("  %-12s %4zu nodes %9.2f ms %5.1f%%\n", graph_op_name((graph_op)op), count[op],
                   by_op[op], total > 0 ? 100.0 * by_op[op] / total : 0.0);
    }
    for (size_t i = 0; i < g->nnodes; i++) {
        const graph_node *n = &g->nodes[i];
        char in[64], out[64];
        if (node_ms[i] / runs < 0.03 * total)
            continue;
        printf("  node %-4zu %-8s %s -> %s %8.2f ms\n", i, graph_op_name(n->op),
               graph_shape_string(&g->tensors[n->inputs[0]], in, sizeof(in)),
               graph_shape_string(&g->tensors[n->outputs[0]], out, sizeof(out)), node_ms[i] / runs);
    }
}

/* Runs the network `runs` times (after one warm-up) on the selected
 * device with a fixed pseudo-random input and prints the timings; with
 * `profile`, then `runs` profiled runs and where their time went. */
static kiln_status run_timed(const char *path, const onnx_input_shape *shape,
                             const char *selector, nn_precision precision, unsigned runs,
                             int profile)
{
    kiln_device *dev = NULL;
    nn_model *model = NULL;
    nn_model_facts facts;
    pool_ledger ledger;
    double *ms = NULL, first = 0;
    float *input = NULL;
    size_t n;
    uint32_t seed = 12345;
    kiln_status st, close_st;

    st = device_open_selected(selector, 0, &dev);
    if (st != KILN_OK)
        return st;
    st = nn_model_acquire_at(dev, path, shape, shape ? 1 : 0, precision, &model);
    if (st != KILN_OK)
        goto out_close;
    n = (size_t)graph_tensor_elements(&nn_model_graph(model)->tensors[nn_model_graph(model)->inputs[0]]);
    input = kiln_malloc(n * sizeof(*input));
    ms = kiln_malloc((runs + 1) * sizeof(*ms));
    if (!input || !ms) {
        st = kiln_fail(KILN_E_HOSTMEM, "out of host memory for the input");
        goto out_release;
    }
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        input[i] = (float)(seed >> 8) / 16777216.0f * 4.0f - 2.0f;
    }
    st = nn_model_write_input(model, 0, input, n);
    for (unsigned r = 0; r <= runs && st == KILN_OK; r++) {
        double t0 = kiln_clock_ms();
        st = nn_model_run(model);
        if (st == KILN_OK)
            st = device_finish(dev);
        ms[r] = kiln_clock_ms() - t0;
    }
    if (st != KILN_OK)
        goto out_release;
    first = ms[0];
    qsort(ms + 1, runs, sizeof(*ms), cmp_double);
    if (profile) {
        const kiln_graph *g = nn_model_graph(model);
        double *node_ms = kiln_calloc(g->nnodes ? g->nnodes : 1, sizeof(*node_ms));
        if (!node_ms) {
            st = kiln_fail(KILN_E_HOSTMEM, "out of host memory for the profile");
            goto out_release;
        }
        for (unsigned r = 0; r < runs && st == KILN_OK; r++)
            st = nn_model_run_profiled(model, node_ms);
        if (st == KILN_OK)
            print_profile(g, node_ms, runs);
        kiln_free(node_ms);
        if (st != KILN_OK)
            goto out_release;
    }
    nn_model_facts_get(model, &facts);
    pool_ledger_get(dev->pool, &ledger);
    printf("device: %s; weights %.1f MiB, arena %.1f MiB, conv scratch %.1f MiB; Convs:",
           dev->info.name, facts.weight_bytes / 1048576.0, facts.arena_bytes / 1048576.0,
           facts.scratch_bytes / 1048576.0);
    for (int a = 0; a < NN_CONV_ALGOS; a++)
        if (facts.conv_algo[a])
            printf(" %s %zu", nn_conv_algo_name(a), facts.conv_algo[a]);
    printf(" (tuning: %s), built in %.0f ms\n",
           facts.tuning_origin == NN_TUNING_FILE ? "from kiln tune" :
           facts.tuning_origin == NN_TUNING_CORRUPT ? "defaults, the tuning file was unreadable" :
           "defaults", facts.build_ms);
    printf("precision %s (%s): arena %zu bytes (fp32 %zu bytes, ratio %.3f), %zu tensors "
           "half-stored, weights %zu bytes\n",
           nn_precision_name((nn_precision)facts.precision),
           facts.precision != NN_PRECISION_FP16 ? "float32 storage and arithmetic"
           : facts.half_products ? "half storage, half Conv products, float sums"
                                 : "half storage, float arithmetic: no cl_khr_fp16",
           facts.arena_bytes, facts.arena_bytes_fp32,
           facts.arena_bytes_fp32 ? (double)facts.arena_bytes / (double)facts.arena_bytes_fp32 : 1.0,
           facts.half_tensors, facts.weight_bytes);
    printf("run median_ms=%.2f min_ms=%.2f first_ms=%.2f rss_peak_mib=%.1f pool_peak_mib=%.1f\n",
           runs % 2 ? ms[1 + runs / 2] : 0.5 * (ms[runs / 2] + ms[1 + runs / 2]), ms[1], first,
           rss_peak_bytes() / 1048576.0, ledger.peak_bytes / 1048576.0);
out_release:
    kiln_free(ms);
    kiln_free(input);
    nn_model_release(model);
out_close:
    close_st = device_close(dev);
    if (st == KILN_OK)
        st = close_st;
    return st;
}

/* Parses the command line (see model_info_usage). */
int cli_model_info(int argc, char **argv)
{
    const char *model = NULL, *selector = "auto";
    const model_spec *spec = NULL;
    char path[4096];
    unsigned long size = 0, runs = 0;
    int profile = 0;
    nn_precision precision = NN_PRECISION_AUTO;
    onnx_input_shape shape = { NULL, 4, { 1, 3, 0, 0 } };
    kiln_status st;

    for (int i = 0; i < argc; i++) {
        int takes = strcmp(argv[i], "--size") == 0 || strcmp(argv[i], "--run") == 0 ||
                    strcmp(argv[i], "--device") == 0 || strcmp(argv[i], "--precision") == 0;
        char *end = NULL;
        if (cli_is_help(argv[i]))
            return cli_help(&model_info_command);
        if (takes && i + 1 >= argc)
            return cli_usage_error(&model_info_command, "%s needs a value", argv[i]);
        if (strcmp(argv[i], "--size") == 0) {
            size = strtoul(argv[++i], &end, 10);
            if (!end || *end || size < 1 || size > 16384) {
                fprintf(stderr, "kiln model-info: --size wants 1..16384, not '%s'\n", argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "--run") == 0) {
            runs = strtoul(argv[++i], &end, 10);
            if (!end || *end || runs < 1 || runs > 10000) {
                fprintf(stderr, "kiln model-info: --run wants 1..10000, not '%s'\n", argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "--device") == 0) {
            selector = argv[++i];
        } else if (strcmp(argv[i], "--precision") == 0) {
            const char *p = argv[++i];
            if (strcmp(p, "auto") == 0 || strcmp(p, "fp32") == 0 || strcmp(p, "fp16") == 0) {
                precision = strcmp(p, "fp32") == 0   ? NN_PRECISION_FP32
                            : strcmp(p, "fp16") == 0 ? NN_PRECISION_FP16
                                                     : NN_PRECISION_AUTO;
            } else {
                fprintf(stderr, "kiln model-info: --precision wants auto, fp32 or fp16, not "
                        "'%s'\n", p);
                return 2;
            }
        } else if (strcmp(argv[i], "--profile") == 0) {
            profile = 1;
        } else if (argv[i][0] == '-') {
            return cli_usage_error(&model_info_command, "unknown option '%s'", argv[i]);
        } else if (!model) {
            model = argv[i];
        } else {
            return cli_usage_error(&model_info_command, "one model ('%s' is a second)", argv[i]);
        }
    }
    if (!model)
        return cli_usage_error(&model_info_command, "missing MODEL");
    st = model_resolve(model, NULL, path, sizeof(path), &spec);
    if (st == KILN_OK) {
        if (!size && spec)
            size = spec->input_size;
        shape.dims[2] = shape.dims[3] = (int64_t)size;
        st = print_facts(path, size ? &shape : NULL);
    }
    if (st == KILN_OK && runs)
        st = run_timed(path, size ? &shape : NULL, selector, precision, (unsigned)runs, profile);
    if (st != KILN_OK) {
        fprintf(stderr, "kiln model-info: error: %s\n", kiln_last_error());
        return 1;
    }
    return 0;
}
