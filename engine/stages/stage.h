/* The stage interface: a stage is a method table (compare sqlite3_module
 * and ggml's backend interface), listed once in the pipeline table of
 * stages.c.
 *
 * Life of a stage on one device:
 *   open(dev, ctx, &state)   once per job and device: resolve and load the
 *                            model, read and upload fixed inputs, check the
 *                            section.  A failure here fails the job at
 *                            start, once (the batch exits 2).
 *   run(state, item)         once per item: takes item->image (and
 *                            item->mask) on the device and leaves its
 *                            result in item->image (a source stage makes
 *                            item->image from item->payload).  On error the item is
 *                            left releasable (stage_item_release) and the
 *                            message says which stage failed.
 *   close(state)             releases what open acquired; NULL-safe.
 *
 * A stage sees only its own section of the job (ctx->section) plus the
 * few job-wide facts in stage_context.  Adding a stage is one stage file
 * with its ops, its section struct and keys (job.h, job_keys.c), its
 * kernels, one row in the pipeline table and its tests. */
#ifndef KILN_STAGE_H
#define KILN_STAGE_H

#include <stddef.h>
#include <stdint.h>

#include "dev_image.h"
#include "job.h"

#define STAGE_NOTE_MAX 1024
#define STAGE_FIGURES_MAX 16

/* One named figure a stage reports for an item ("refine.iterations"). */
typedef struct stage_figure {
    const char *name;   /* a string constant */
    double value;
} stage_figure;

/* One item travelling through the stages on a device. */
typedef struct stage_item {
    dev_image image;            /* the current image; each stage replaces it */
    dev_image mask;             /* a mask on the device for a later stage
                                   (segment -> refine), or empty */
    const host_image *host_mask; /* the item's mask or trimap file as the
                                   loader read it, or NULL */
    const void *payload;        /* what the loader read for a source stage
                                   (a splat view: stage_splat.h), or NULL */
    const char *path;           /* the input, for messages */
    uint32_t width, height;     /* the input's size */
    int profile;                /* 1: time sub-steps (waits for the device
                                   between them), as benchmarks want */
    char note[STAGE_NOTE_MAX];  /* warnings for the item ("; "-separated) */
    stage_figure figures[STAGE_FIGURES_MAX];
    size_t nfigures;
} stage_item;

/* What open receives: the stage's own section and the job-wide facts. */
typedef struct stage_context {
    const void *section;        /* the stage's job section (job_segment...) */
    const char *job_path;       /* the job file, for messages */
    uint64_t max_pixels;        /* the job's decoded-image limit */
    int mask_consumed;          /* a later enabled stage takes item->mask */
    int host_mask;              /* items carry a host mask (stage_item.host_mask) */
} stage_context;

/* A stage's methods. */
typedef struct stage_ops {
    const char *name;           /* its job section and its name in reports */
    size_t section_offset;      /* offsetof(job_config, <section>) */
    int makes_mask;             /* may leave a mask in item->mask for a
                                   later stage (when ctx->mask_consumed) */
    int takes_mask;             /* consumes item->mask when an earlier stage
                                   leaves one */
    int needs_host_mask;        /* when no earlier stage leaves a mask, each
                                   item needs a mask file (the loader's) */
    int makes_image;            /* a source: run makes item->image from
                                   item->payload (nothing is uploaded) */
    int (*enabled)(const job_config *job);
    kiln_status (*open)(kiln_device *dev, const stage_context *ctx, void **state);
    kiln_status (*run)(void *state, stage_item *item);
    void (*close)(void *state);
} stage_ops;

/* Appends a warning sentence to item->note. */
void stage_note(stage_item *item, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records a figure (ignored past STAGE_FIGURES_MAX). */
void stage_figure_add(stage_item *item, const char *name, double value);

/* Returns the figure `name` or `fallback` when the item has none. */
double stage_figure_get(const stage_item *item, const char *name, double fallback);

/* Replaces item->image by *next (releasing the old image and emptying
 * *next). */
void stage_item_replace(kiln_device *dev, stage_item *item, dev_image *next);

/* Releases the item's device images (image and mask).  Safe twice. */
void stage_item_release(kiln_device *dev, stage_item *item);

/* For a stage's profiled sub-steps: when item->profile is set, waits for
 * the device and adds the milliseconds since *t0 to figure `name`, then
 * restarts *t0.  Without profile does nothing (no queue drain). */
kiln_status stage_step_done(kiln_device *dev, stage_item *item, const char *name, double *t0);

#endif
