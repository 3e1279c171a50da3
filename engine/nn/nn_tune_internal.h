/* What the tuning search (nn_tune.c) shares with its per-shape algorithm
 * timing (nn_tune_algo.c). */
#ifndef KILN_NN_TUNE_INTERNAL_H
#define KILN_NN_TUNE_INTERNAL_H

#include "device.h"
#include "graph.h"
#include "nn_conv_tiled.h"

/* Enqueues one run of a timed operation (does not wait). */
typedef kiln_status (*nn_tune_fn)(void *user);

/* Times run(user) on dev: one untimed run (it builds programs), then the
 * best of a few samples of back-to-back runs (a run slower than 40 ms is
 * timed once).  Writes milliseconds per run to *ms. */
kiln_status nn_tune_time(kiln_device *dev, nn_tune_fn run, void *user, double *ms);

/* Builds a one-Conv graph of shape s: tensors x (input), w, b (constants
 * without data), y; node 0 the Conv with s's activation.  *out NULL on
 * error. */
kiln_status nn_tune_conv_graph(const nn_conv_shape *s, kiln_graph **out);

#endif
