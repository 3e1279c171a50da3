/* The splat renderer's state, shared by the forward (splat_render.c)
 * and the backward (splat_backward.c) of engine/splat: the frame buffers
 * it keeps between frames.  Internal to engine/splat. */
#ifndef KILN_SPLAT_RENDER_STATE_H
#define KILN_SPLAT_RENDER_STATE_H

#include "splat_render.h"
#include "splat_sort.h"

/* The buffers a frame uses, kept between frames. */
typedef enum frame_buf {
    FB_XY = 0, FB_CONIC, FB_DEPTH, FB_RGB, FB_RECT, FB_COUNTS, FB_SUMS, FB_TOTAL,
    FB_KEYS0, FB_KEYS1, FB_VALUES0, FB_VALUES1, FB_HIST, FB_HIST_SUMS, FB_HIST_TOTAL,
    FB_RANGES, FB_RADIUS, FB_FINAL_T, FB_LAST, FB_G_XY, FB_G_CONIC, FB_G_OPACITY, FB_G_RGB, FB_G_INST,
    FB_COUNT
} frame_buf;

/* The renderer: its device, the sort's shapes, its buffers (NULL until a
 * frame needs them), and the shape of the last frame rendered with
 * keep_state (what the backward replays). */
struct splat_renderer {
    kiln_device *dev;
    splat_sort_shape shape;
    pool_buffer *buf[FB_COUNT];
    int kept;                   /* the last frame kept its state */
    uint32_t kept_width, kept_height;
    size_t kept_count;
    uint32_t kept_instances;    /* tile instances of the kept frame */
    int values_half;            /* which of FB_VALUES0/1 holds the last band's
                                   sorted Gaussian indices */
    int atomics_checked;        /* the backward's float atomic was chosen */
    int atomics_native;         /* 1: the device's own float atomic add */
};

/* A camera as the kernels take it: the world-to-camera rows with the
 * translation in .w, (fx, fy, cx, cy) and the camera centre. */
typedef struct splat_camera_args {
    cl_float4 row[3];
    cl_float4 intr;
    cl_float4 campos;
} splat_camera_args;

/* Packs `cam` for the kernels. */
void splat_camera_pack(const splat_camera *cam, splat_camera_args *out);

/* Makes buffer `which` hold at least `bytes` (keeps a large enough one;
 * KILN_E_NOMEM beyond the device's largest allocation). */
kiln_status splat_frame_buffer(splat_renderer *r, frame_buf which, size_t bytes);

#endif
