/* The training report of a splatting run, as JSON: filled as the run goes
 * in bounded memory, written atomically at the end (or at any time).
 *
 * Memory: the loss curve and the Gaussian count over time share one
 * table of at most SPLAT_REPORT_POINTS samples.  add_loss keeps every
 * `interval`-th call (interval 1 at first); when the table is full, every
 * second sample is dropped and the interval doubles, so a run of any
 * length keeps between 500 and 1,000 evenly spaced samples (the first
 * call's always among them).  Test results grow with the number of test
 * iterations times views (one entry a view).
 *
 * The file (splat_train_report_write; json-c, pretty-printed):
 *   { "iterations": N, "seconds": s, "iterations_per_second": N / s,
 *     "final_count": n, "device": "name",
 *     "memory": { "device_pool_peak_bytes", "host_rss_peak_bytes",
 *                 "bytes_per_gaussian", "bytes_per_gaussian_breakdown":
 *                 { "parameters", "adam_moments", "gradients",
 *                   "densification", "frame_state" } },
 *     "loss_interval": k,
 *     "loss_curve": [ { "iteration", "loss", "psnr" } ... ],
 *     "gaussian_count": [ { "iteration", "count" } ... ],
 *     "tests": [ { "iteration", "views": [ { "name", "psnr", "ssim" } ... ],
 *                  "mean_psnr", "mean_ssim" } ... ] }
 * bytes_per_gaussian is the breakdown's sum; a number that is not finite
 * (an infinite PSNR of identical images) is written as null.  Every host
 * block comes from the kiln_ allocator, json-c's own while writing aside. */
#ifndef KILN_SPLAT_TRAIN_REPORT_H
#define KILN_SPLAT_TRAIN_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "kiln.h"

#define SPLAT_REPORT_POINTS 1000u
#define SPLAT_REPORT_NAME_MAX 256

/* One sample of the loss curve and the Gaussian count. */
typedef struct splat_report_point {
    uint64_t iteration;
    double loss, psnr;
    uint64_t count;
} splat_report_point;

/* One view's result at a test iteration. */
typedef struct splat_report_test {
    uint64_t iteration;
    double psnr, ssim;
    char name[SPLAT_REPORT_NAME_MAX];
} splat_report_test;

/* Device bytes per Gaussian, by what holds them. */
typedef struct splat_report_bytes {
    double parameters, adam_moments, gradients, densification, frame_state;
} splat_report_bytes;

/* The figures known at the end of a run (or so far). */
typedef struct splat_report_figures {
    uint64_t iterations;            /* iterations done */
    double seconds;                 /* wall time of the training */
    uint64_t device_pool_peak_bytes;
    uint64_t host_rss_peak_bytes;
    splat_report_bytes per_gaussian;
    const char *device;             /* copied (NULL: "") */
    uint64_t final_count;           /* Gaussians at the end */
} splat_report_figures;

/* A report being filled. */
typedef struct splat_train_report {
    splat_report_point points[SPLAT_REPORT_POINTS];
    size_t n_points;
    uint64_t interval;              /* add_loss calls per sample */
    uint64_t calls;                 /* add_loss calls so far */
    splat_report_test *tests;
    size_t n_tests, cap_tests;
    splat_report_figures figures;   /* device points into device_name */
    char device_name[SPLAT_REPORT_NAME_MAX];
} splat_train_report;

/* Starts an empty report (nothing allocated yet). */
void splat_train_report_init(splat_train_report *r);

/* Frees the test results and empties the report. */
void splat_train_report_free(splat_train_report *r);

/* Records one training iteration's loss, PSNR and Gaussian count, kept or
 * not by the decimation above.  Never allocates. */
void splat_train_report_add_loss(splat_train_report *r, uint64_t iteration, double loss,
                                 double psnr, uint64_t count);

/* Records one view's test result at test iteration `iteration` (name
 * truncated to SPLAT_REPORT_NAME_MAX - 1 bytes).  Iterations must not go
 * back: a lower one than the last is KILN_E_INVAL; KILN_E_HOSTMEM. */
kiln_status splat_train_report_add_test(splat_train_report *r, uint64_t iteration,
                                        const char *name, double psnr, double ssim);

/* Sets the end-of-run figures (copied, the device name included). */
void splat_train_report_set_figures(splat_train_report *r, const splat_report_figures *f);

/* Writes the report as JSON at `path`, atomically (atomic_file.h).
 * KILN_E_INVAL for NULL arguments, KILN_E_HOSTMEM when json-c runs out of
 * memory, atomic_file's errors, each naming the file. */
kiln_status splat_train_report_write(const char *path, const splat_train_report *r);

#endif
