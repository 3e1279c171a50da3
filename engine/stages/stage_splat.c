/* The splat stage (see stage_splat.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "host_alloc.h"
#include "resident.h"
#include "stage_splat.h"
#include "status.h"

#define DEG (3.14159265358979323846 / 180.0)

/* The stage's state on one device. */
typedef struct splat_state {
    kiln_device *dev;
    const job_splat *cfg;
    splat_renderer *renderer;
    splat_render_options opt;
    splat_scene_load load;
} splat_state;

/* The render options of a section. */
void stage_splat_options(const job_splat *cfg, splat_render_options *opt)
{
    static const splat_output outputs[] = { SPLAT_OUT_RGB, SPLAT_OUT_RGBA, SPLAT_OUT_ALPHA,
                                            SPLAT_OUT_DEPTH };
    memset(opt, 0, sizeof(*opt));
    opt->mode = cfg->mode == SPLAT_JOB_GSPLAT ? SPLAT_MODE_GSPLAT : SPLAT_MODE_INRIA;
    opt->antialiased = cfg->antialiased;
    for (int k = 0; k < 3; k++)
        opt->background[k] = isnan(cfg->background[0]) ? 0.0f : cfg->background[k];
    opt->output = outputs[cfg->output];
    /* depth goes out as 16-bit samples: the sample is depth * depth_scale */
    opt->depth_scale = cfg->depth_scale / 65535.0f;
    opt->max_instances = cfg->max_instances;
    opt->blend_rows = -1;
    opt->profile_section = -1;
}

/* How a section reads scenes. */
void stage_splat_load(const job_splat *cfg, splat_scene_load *load)
{
    memset(load, 0, sizeof(*load));
    load->read.max_gaussians = cfg->max_gaussians;
    load->read.nonfinite = cfg->nonfinite == SPLAT_JOB_DROP ? SPLAT_NONFINITE_DROP
                                                             : SPLAT_NONFINITE_REFUSE;
    load->sh_half = cfg->sh_precision == SPLAT_JOB_FP16;
}

/* The camera of one orbit frame. */
kiln_status stage_splat_orbit_camera(const job_splat *cfg, const splat_scene_dev *scene,
                                     size_t index, splat_camera *cam)
{
    splat_orbit orbit;
    double half_diag = 0.0, aspect, fov_min;

    memset(&orbit, 0, sizeof(orbit));
    orbit.frames = (uint32_t)cfg->orbit_frames;
    orbit.width = (uint32_t)cfg->width;
    orbit.height = (uint32_t)cfg->height;
    orbit.fov_deg = cfg->orbit_fov;
    orbit.elevation_deg = cfg->orbit_elevation;
    for (int k = 0; k < 3; k++) {
        double e = 0.5 * (scene->bbox_max[k] - scene->bbox_min[k]);
        half_diag += e * e;
        orbit.centre[k] = isnan(cfg->orbit_centre[0]) ? scene->centre[k] : cfg->orbit_centre[k];
        orbit.up[k] = isnan(cfg->orbit_up[0]) ? (k == 1 ? -1.0 : 0.0) : cfg->orbit_up[k];
    }
    /* fit the box of the means in the narrower field of view */
    aspect = (double)orbit.height / orbit.width;
    fov_min = 2.0 * atan(tan(0.5 * orbit.fov_deg * DEG) * (aspect < 1.0 ? aspect : 1.0));
    orbit.radius = cfg->orbit_radius > 0 ? cfg->orbit_radius
                                         : 1.05 * sqrt(half_diag) / sin(0.5 * fov_min);
    if (!(orbit.radius > 0))
        orbit.radius = 1.0;
    return splat_orbit_camera(&orbit, (uint32_t)index, cam);
}

/* [splat] enabled. */
static int splat_enabled(const job_config *job)
{
    return job->splat.enabled;
}

/* Creates the renderer and keeps the section's settings. */
static kiln_status splat_open(kiln_device *dev, const stage_context *ctx, void **state)
{
    splat_state *s = kiln_calloc(1, sizeof(*s));
    kiln_status st;

    if (!s)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory");
    s->dev = dev;
    s->cfg = ctx->section;
    stage_splat_options(s->cfg, &s->opt);
    stage_splat_load(s->cfg, &s->load);
    st = splat_renderer_init(dev, &s->renderer);
    if (st != KILN_OK) {
        kiln_free(s);
        return kiln_fail_context(st, "[splat]");
    }
    *state = s;
    return KILN_OK;
}

/* Renders the item's view of its scene into item->image. */
static kiln_status splat_run(void *state, stage_item *item)
{
    splat_state *s = state;
    const splat_view_item *view = item->payload;
    splat_scene_dev *scene = NULL;
    splat_render_stats stats;
    splat_camera orbit_cam;
    const splat_camera *cam;
    kiln_status st;

    if (!view)
        return kiln_fail(KILN_E_INVAL, "splat: the item carries no view");
    st = splat_scene_dev_acquire(s->dev, view->scene, &s->load, &scene);
    if (st != KILN_OK)
        return st;
    if (s->load.nonfinite) {
        stage_note(item, "%zu Gaussians with NaN/Inf values dropped", s->load.nonfinite);
        s->load.nonfinite = 0;
    }
    cam = &view->camera;
    if (view->orbit) {
        st = stage_splat_orbit_camera(s->cfg, scene, view->index, &orbit_cam);
        cam = &orbit_cam;
    }
    if (st == KILN_OK)
        st = splat_render(s->renderer, scene, cam, &s->opt, &item->image, &stats);
    resident_release(s->dev, scene);
    if (st != KILN_OK)
        return st;
    item->width = cam->width;
    item->height = cam->height;
    stage_figure_add(item, "splat.instances", (double)stats.instances);
    stage_figure_add(item, "splat.bands", (double)stats.bands);
    return KILN_OK;
}

/* Frees the renderer and the state. */
static void splat_close(void *state)
{
    splat_state *s = state;
    if (!s)
        return;
    splat_renderer_free(s->renderer);
    kiln_free(s);
}

const stage_ops stage_splat_ops = {
    .name = "splat",
    .section_offset = offsetof(job_config, splat),
    .makes_image = 1,
    .enabled = splat_enabled,
    .open = splat_open,
    .run = splat_run,
    .close = splat_close,
};
