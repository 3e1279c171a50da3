/* The splat rasterizer on a device: the classic tile pipeline.
 *
 *   project   per Gaussian: mean2d, conic + opacity, depth, colour, tile
 *             rectangle (cl/splat_project.cl)
 *   scan      tiles touched per Gaussian -> offsets and the total
 *   keys      (tile, depth) keys and Gaussian indices, one per touched tile
 *   sort      radix sort over tile bits + 32 depth bits (splat_sort.h)
 *   ranges    first and end instance of each tile
 *   blend     front to back per pixel (cl/splat_blend.cl)
 *
 * Per-frame memory is bounded by construction: per-Gaussian state (48
 * bytes a Gaussian) plus 24 bytes per tile instance (keys and values,
 * twice for the sort), never more than `max_instances` instances at once.
 * When a view touches more, the frame is rendered in bands of tile rows,
 * each under the cap (a band is split in two until it fits; a single tile
 * row over the cap is KILN_E_NOMEM).  The instance total is counted with
 * saturating arithmetic, so NaN, huge or degenerate Gaussians never make
 * a huge or negative count (they are culled in `project` anyway).
 * Buffers come from the pool and stay with the renderer between frames
 * (grown when a frame needs more), so a run of views allocates nothing
 * after the first ones. */
#ifndef KILN_SPLAT_RENDER_H
#define KILN_SPLAT_RENDER_H

#include <stdint.h>

#include "dev_image.h"
#include "splat_camera.h"
#include "splat_scene_dev.h"

typedef enum splat_mode { SPLAT_MODE_INRIA = 0, SPLAT_MODE_GSPLAT = 1 } splat_mode;

/* What the frame's image holds (planar floats). */
typedef enum splat_output {
    SPLAT_OUT_RGB = 0,          /* 3: colour over the background */
    SPLAT_OUT_RGBA,             /* 4: straight colour (C / (1 - T)), alpha = 1 - T */
    SPLAT_OUT_RGBA_PREMUL,      /* 4: colour over the background as accumulated, 1 - T */
    SPLAT_OUT_ALPHA,            /* 1: 1 - T */
    SPLAT_OUT_DEPTH             /* 1: expected depth sum z a T / (1 - T) times depth_scale */
} splat_output;

/* Render settings. */
typedef struct splat_render_options {
    splat_mode mode;
    int antialiased;            /* opacity times sqrt(det(S) / det(S + 0.3 I)) */
    float background[3];
    splat_output output;
    float depth_scale;          /* SPLAT_OUT_DEPTH: factor on camera z */
    uint64_t max_instances;     /* cap of tile instances held at once */
    int blend_rows;             /* -1: by device type (rows on CPUs); 0: the
                                   work-group kernel; 1: the row kernel */
    int keep_state;             /* keep what splat_render_backward needs (the
                                   frame in one band; rgb output) */
    int deterministic;          /* splat_render_backward sums in a fixed order
                                   (bit-reproducible; slower, 36 more bytes a
                                   tile instance) */
    int profile_section;        /* >= 0: each step opens timer section
                                   profile_section + splat_step (launch.h) */
} splat_render_options;

/* The steps, for per-step timings. */
typedef enum splat_step {
    SPLAT_STEP_PROJECT = 0,
    SPLAT_STEP_SCAN,
    SPLAT_STEP_KEYS,
    SPLAT_STEP_SORT,
    SPLAT_STEP_RANGES,
    SPLAT_STEP_BLEND,
    SPLAT_STEP_COUNT
} splat_step;

/* Name of a step ("sort"). */
const char *splat_step_name(splat_step step);

/* What a frame did. */
typedef struct splat_render_stats {
    uint64_t instances;         /* tile instances sorted, all bands */
    uint32_t bands;             /* 1 unless the cap split the frame */
} splat_render_stats;

/* Per-device frame state. */
typedef struct splat_renderer splat_renderer;

/* Creates a renderer for `dev` (work-group shapes; no buffers yet). */
kiln_status splat_renderer_init(kiln_device *dev, splat_renderer **out);

/* Renders `scene` from `cam` into *image (acquired here, from the pool,
 * tag "splat.frame"; channels by opt->output).  The camera's size must be
 * 1..16384 a side.  On error *image is empty and the message says why
 * (KILN_E_NOMEM with the bytes when the frame cannot fit). */
kiln_status splat_render(splat_renderer *r, const splat_scene_dev *scene,
                         const splat_camera *cam, const splat_render_options *opt,
                         dev_image *image, splat_render_stats *stats);

/* Releases the renderer's buffers.  NULL is a no-op. */
void splat_renderer_free(splat_renderer *r);

/* Bytes a frame needs besides its image: per Gaussian state for `count`
 * Gaussians and `instances` tile instances. */
size_t splat_frame_bytes(size_t count, uint64_t instances);

#endif
