/* The splat stage ([splat]): a source stage.  Each item is one view of
 * one scene (a splat_view_item the batch's loader reads); the stage
 * takes the scene from the device's resident cache (read and uploaded
 * once), renders the view and leaves the frame in item->image for the
 * later stages (resize, composite) and the PNG writer. */
#ifndef KILN_STAGE_SPLAT_H
#define KILN_STAGE_SPLAT_H

#include "splat_camera.h"
#include "splat_render.h"
#include "splat_scene_dev.h"
#include "stage.h"

extern const stage_ops stage_splat_ops;

/* One item of a splat job: a view of a scene. */
typedef struct splat_view_item {
    char scene[JOB_PATH_MAX];   /* the scene file */
    size_t index;               /* the view's index in its camera source */
    int orbit;                  /* 1: orbit frame `index`, made from the scene */
    splat_camera camera;        /* the view when !orbit */
} splat_view_item;

/* The render options a [splat] section asks for, for an image at
 * `bit_depth` (depth samples are scaled to it). */
void stage_splat_options(const job_splat *cfg, splat_render_options *opt);

/* How a [splat] section reads scenes. */
void stage_splat_load(const job_splat *cfg, splat_scene_load *load);

/* The camera of orbit frame `index` of `scene` as the section sets the
 * orbit up (the centre and radius from the scene when not given). */
kiln_status stage_splat_orbit_camera(const job_splat *cfg, const splat_scene_dev *scene,
                                     size_t index, splat_camera *cam);

#endif
