/* The convolution tuning search and its per-device file.
 *
 * nn_tune_run times a short list of tile candidates of the tiled
 * convolution (nn_conv_tiled.h) on representative U^2-Net conv shapes at
 * moderate sizes, class by class, and keeps the fastest; then, with those
 * tiles, it times each conv algorithm (nn_conv_algo.h) on each of those
 * shapes and records the fastest per shape (nn_tune_shape; nn_tune_model
 * does the same for each distinct conv shape of a model); it also times
 * the reference paths (the direct conv, im2col + CLBlast's direct GEMM
 * with a parameter override) for the log.  The choice (tiles and
 * per-shape records) is kept in a small text file in program_cache_dir()
 * named by a hash of the tuning format and the device's name, vendor,
 * driver and platform, so that a later process loads it with
 * nn_tune_load; a file of an older format has another name and is not
 * read (defaults). */
#ifndef KILN_NN_TUNE_H
#define KILN_NN_TUNE_H

#include <stdio.h>

#include "device.h"
#include "nn_conv_algo.h"
#include "nn_conv_tiled.h"
#include "onnx_load.h"

/* Version of the tuning file's layout; a file of another version is
 * ignored (defaults). */
#define NN_TUNE_FORMAT 2

/* What nn_tune_shape measured of one shape. */
typedef struct nn_tune_shape_result {
    int algo;                         /* the fastest (NN_CONV_ALGO_*) */
    double best_ms;                   /* its time */
    double ms[NN_CONV_ALGOS];         /* per algorithm; 0: not run */
    double err[NN_CONV_ALGOS];        /* max |y - y_tiled| per algorithm */
    double magnitude;                 /* max |y_tiled| */
} nn_tune_shape_result;

/* Times every algorithm that fits conv shape s (tiled with t's tiles,
 * Winograd F(2,3) and F(4,3), CLBlast GEMM; a GEMM CLBlast refuses is
 * skipped) on random data, prints one line per algorithm (`name`, time,
 * GFLOP/s, max difference from the tiled result) to `log` (may be NULL),
 * records the fastest for s in *t (an earlier algorithm of that list
 * keeps the choice unless a later one is 3% faster) and fills *r.
 * Every buffer is released on every path.  KILN_E_LIMIT when t's record
 * table is full. */
kiln_status nn_tune_shape(kiln_device *dev, FILE *log, const char *name, const nn_conv_shape *s,
                          nn_conv_tuning *t, nn_tune_shape_result *r);

/* Loads the ONNX model at `path` with its input fixed to *shape (NULL:
 * the model's own), folds it, and runs nn_tune_shape on each distinct
 * shape of its Convs that the tiled kernel fits, recording the winners
 * in *t; prints a summary with the largest Winograd differences.  Errors
 * name the file. */
kiln_status nn_tune_model(kiln_device *dev, FILE *log, const char *path,
                          const onnx_input_shape *shape, nn_conv_tuning *t);

/* Runs the search on `dev` (a few program builds and timed launches; a
 * minute or two on a CPU), printing one line per candidate with its
 * GFLOP/s to `log` (may be NULL), and writes the best tuning to *out
 * (origin NN_TUNING_SEARCHED).  Every buffer it acquires is released on
 * every path.  Returns KILN_OK or the error of a failing build, enqueue or
 * acquire. */
kiln_status nn_tune_run(kiln_device *dev, FILE *log, nn_conv_tuning *out);

/* Writes the path of the device's tuning file into buf. */
void nn_tune_path(const kiln_device *dev, char *buf, size_t len);

/* Saves a valid tuning to the device's tuning file atomically (temporary
 * file and rename), creating the directory.  Returns KILN_OK, KILN_E_INVAL
 * for an invalid tuning, or KILN_E_IO naming the path. */
kiln_status nn_tune_save(const kiln_device *dev, const nn_conv_tuning *t);

/* Loads the device's tuning into *t.  Never fails: a missing file gives
 * the device's defaults (origin NN_TUNING_DEFAULT); an unreadable,
 * corrupt, other-version or other-device file gives the defaults with
 * origin NN_TUNING_CORRUPT; a good one has origin NN_TUNING_FILE.
 * Returns KILN_OK. */
kiln_status nn_tune_load(const kiln_device *dev, nn_conv_tuning *t);

#endif
