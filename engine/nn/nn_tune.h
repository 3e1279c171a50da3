/* The convolution tuning search and its per-device file.
 *
 * nn_tune_run times a short list of tile candidates of the tiled
 * convolution (nn_conv_tiled.h) on representative U^2-Net conv shapes at
 * moderate sizes, class by class, and keeps the fastest; it also times the
 * reference paths (the direct conv when the engine has one, im2col +
 * CLBlast's direct GEMM) for the log.  The choice is kept in a small text
 * file in program_cache_dir() named by a hash of the device's name,
 * vendor, driver and platform, so that a later process loads it with
 * nn_tune_load. */
#ifndef KILN_NN_TUNE_H
#define KILN_NN_TUNE_H

#include <stdio.h>

#include "device.h"
#include "nn_conv_tiled.h"

/* Version of the tuning file's layout; a file of another version is
 * ignored (defaults). */
#define NN_TUNE_FORMAT 1

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
