/* Training a splat scene (see splat_train.h). */
#include <math.h>
#include <string.h>

#include "host_alloc.h"
#include "launch.h"
#include "splat_checkpoint.h"
#include "splat_loss.h"
#include "splat_render_state.h"
#include "splat_train.h"
#include "status.h"

#define TRAIN_SOURCE "splat_train.cl"

struct splat_trainer {
    kiln_device *dev;
    splat_train_options opt;
    double extent;
    uint64_t iteration;
    splat_renderer *renderer;
    splat_scene_dev *scene;
    splat_grads grads;
    splat_adam adam;
    splat_densify_stats stats;
    int profile;
};

/* Turns per-phase timing on or off. */
void splat_trainer_profile(splat_trainer *t, int on)
{
    t->profile = on;
}

/* With profiling on, opens the device timer section of a kernel family
 * (launch.h): work enqueued from now on is timed in it. */
static void section_open(splat_trainer *t, int section)
{
    if (t->profile)
        dev_timer_section(t->dev, section);
}

/* Name of a training timing section. */
const char *splat_train_section_name(int i)
{
    static const char *const extra[4] = { "loss", "backward", "optimizer", "densify" };
    if (i < 0 || i >= SPLAT_TRAIN_SECTIONS)
        return "unknown";
    return i < SPLAT_STEP_COUNT ? splat_step_name((splat_step)i) : extra[i - SPLAT_STEP_COUNT];
}

/* The reference trainer's defaults. */
void splat_train_options_default(splat_train_options *opt)
{
    memset(opt, 0, sizeof(*opt));
    opt->iterations = 30000;
    opt->mode = SPLAT_MODE_INRIA;
    opt->lambda_dssim = SPLAT_LOSS_LAMBDA;
    opt->position_lr_init = 1.6e-4f;
    opt->position_lr_final = 1.6e-6f;
    opt->position_lr_max_steps = 30000;
    opt->scaling_lr = 5e-3f;
    opt->rotation_lr = 1e-3f;
    opt->opacity_lr = 2.5e-2f;
    opt->feature_lr = 2.5e-3f;
    opt->densify = 1;
    opt->densify_from = 500;
    opt->densify_until = 15000;
    opt->densify_interval = 100;
    opt->opacity_reset_interval = 3000;
    opt->densify_grad_threshold = 2e-4f;
    opt->percent_dense = 0.01f;
    opt->min_opacity = 0.005f;
    opt->sh_interval = 1000;
    opt->sh_degree = 3;
    opt->max_gaussians = (uint64_t)16 << 20;
    opt->max_instances = (uint64_t)32 << 20;
    opt->psnr_every = 1;
}

/* Device bytes a Gaussian costs while training. */
size_t splat_train_bytes_per_gaussian(uint32_t sh_degree, size_t parts[5])
{
    size_t params = splat_scene_dev_bytes(1, sh_degree, 0);
    size_t p[5] = { params, 2 * params, params, 3 * sizeof(float),
                    splat_frame_bytes(1, 0) + 9 * sizeof(float) };
    if (parts)
        memcpy(parts, p, sizeof(p));
    return p[0] + p[1] + p[2] + p[3] + p[4];
}

/* Releases everything the trainer holds. */
void splat_trainer_free(splat_trainer *t)
{
    if (!t)
        return;
    splat_densify_stats_release(t->dev, &t->stats);
    splat_adam_free(t->dev, &t->adam);
    splat_grads_release(t->dev, &t->grads);
    splat_renderer_free(t->renderer);
    splat_scene_dev_free(t->scene);
    kiln_free(t);
}

/* Starts training. */
kiln_status splat_trainer_init(kiln_device *dev, const splat_scene *init, double extent,
                               const splat_train_options *opt, splat_trainer **out)
{
    splat_trainer *t;
    kiln_status st;

    *out = NULL;
    if (init->sh_degree != opt->sh_degree)
        return kiln_fail(KILN_E_INVAL, "splat training: the initial scene has SH degree %u, "
                         "[train] sh_degree is %u", init->sh_degree, opt->sh_degree);
    if (!(extent > 0) || !isfinite(extent))
        return kiln_fail(KILN_E_INVAL, "splat training: scene extent %g is not positive", extent);
    if (init->count > opt->max_gaussians)
        return kiln_fail(KILN_E_LIMIT, "splat training: %zu initial Gaussians exceed "
                         "[train] max_gaussians (%llu)", init->count,
                         (unsigned long long)opt->max_gaussians);
    t = kiln_calloc(1, sizeof(*t));
    if (!t)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory");
    t->dev = dev;
    t->opt = *opt;
    t->extent = extent;
    st = splat_scene_dev_upload(dev, init, 0, &t->scene);
    if (st == KILN_OK) {
        t->scene->sh_active = 1;    /* the reference starts at degree 0 */
        st = splat_renderer_init(dev, &t->renderer);
    }
    if (st == KILN_OK)
        st = splat_grads_acquire(dev, init->count, init->sh_coeffs, &t->grads);
    if (st == KILN_OK)
        st = splat_adam_init(dev, init->count, init->sh_coeffs, &t->adam);
    if (st == KILN_OK)
        st = splat_densify_stats_acquire(dev, init->count, &t->stats);
    if (st != KILN_OK) {
        splat_trainer_free(t);
        return kiln_fail_context(st, "starting splat training");
    }
    *out = t;
    return KILN_OK;
}

/* The rates of an iteration: the means' exponential decay (the
 * reference's get_expon_lr_func without delay) scaled by the extent. */
static void train_rates(const splat_trainer *t, splat_adam_rates *rates)
{
    const splat_train_options *o = &t->opt;
    double x = o->position_lr_max_steps
                   ? (double)t->iteration / (double)o->position_lr_max_steps : 1.0;
    double frac = x < 0 ? 0 : x > 1 ? 1 : x;
    double lr = exp(log(o->position_lr_init) * (1.0 - frac) + log(o->position_lr_final) * frac);
    rates->means = (float)(lr * t->extent);
    rates->scales = o->scaling_lr;
    rates->rotations = o->rotation_lr;
    rates->opacity = o->opacity_lr;
    rates->sh_dc = o->feature_lr;
    rates->sh_rest = o->feature_lr / 20.0f;
}

/* Render options of a training frame. */
static void train_render_options(const splat_trainer *t, splat_render_options *o)
{
    memset(o, 0, sizeof(*o));
    o->mode = t->opt.mode;
    memcpy(o->background, t->opt.background, sizeof(o->background));
    o->output = SPLAT_OUT_RGB;
    o->max_instances = t->opt.max_instances;
    o->blend_rows = -1;
    o->keep_state = 1;
    o->deterministic = t->opt.deterministic;
    o->profile_section = -1;
}

/* Adds this iteration's densification statistics. */
static kiln_status train_stats(splat_trainer *t, const splat_camera *cam)
{
    cl_uint count = (cl_uint)t->scene->count;
    cl_float half_w = 0.5f * (float)cam->width, half_h = 0.5f * (float)cam->height;
    size_t global = t->scene->count;
    const dev_kernel_arg args[] = {
        DEV_ARG(t->renderer->buf[FB_G_XY]->mem), DEV_ARG(t->renderer->buf[FB_RADIUS]->mem),
        DEV_ARG(count), DEV_ARG(half_w), DEV_ARG(half_h), DEV_ARG(t->stats.grad_accum->mem),
        DEV_ARG(t->stats.denom->mem), DEV_ARG(t->stats.max_radius->mem),
    };
    return dev_kernel_launch_default(t->dev, TRAIN_SOURCE, "splat_train_stats", args,
                                     DEV_NARGS(args), 1, &global);
}

/* Clone/split/prune at this iteration when due; *ran says whether it did.
 * The gradient buffers follow the new count. */
static kiln_status train_densify(splat_trainer *t, splat_step_result *res)
{
    const splat_train_options *o = &t->opt;
    splat_densify_options d;
    kiln_status st;

    res->densified = 0;
    if (!o->densify || t->iteration >= o->densify_until || t->iteration <= o->densify_from ||
        o->densify_interval == 0 || t->iteration % o->densify_interval != 0)
        return KILN_OK;
    memset(&d, 0, sizeof(d));
    d.grad_threshold = o->densify_grad_threshold;
    d.percent_dense = o->percent_dense;
    d.min_opacity = o->min_opacity;
    d.scene_extent = (float)t->extent;
    d.max_screen_size = t->iteration > o->opacity_reset_interval ? 20.0f : 0.0f;
    d.max_gaussians = o->max_gaussians;
    d.seed = o->seed;
    d.iteration = t->iteration;
    st = splat_densify(t->dev, t->scene, &t->adam, &t->stats, &d, &res->densify);
    if (st != KILN_OK)
        return st;
    res->densified = 1;
    if (t->grads.count != t->scene->count) {
        splat_grads_release(t->dev, &t->grads);
        st = splat_grads_acquire(t->dev, t->scene->count, t->scene->sh_coeffs, &t->grads);
    }
    return st;
}

/* One iteration. */
kiln_status splat_trainer_step(splat_trainer *t, const splat_camera *cam, const dev_image *target,
                               const dev_image *mask, splat_step_result *res)
{
    const splat_train_options *o = &t->opt;
    splat_render_options ro;
    splat_render_stats rs;
    splat_loss_result lr = { 0.0, 0.0, 0.0 };
    splat_adam_rates rates;
    dev_image img = { 0 }, grad = { 0 };
    kiln_status st;

    memset(res, 0, sizeof(*res));
    t->iteration++;
    if (o->sh_interval && t->iteration % o->sh_interval == 0 &&
        t->scene->sh_active < t->scene->sh_coeffs) {
        uint32_t d = 0;
        while ((d + 1) * (d + 1) < t->scene->sh_active)
            d++;
        t->scene->sh_active = (d + 2) * (d + 2);
    }
    train_render_options(t, &ro);
    ro.profile_section = t->profile ? 0 : -1;
    st = splat_render(t->renderer, t->scene, cam, &ro, &img, &rs);
    section_open(t, SPLAT_STEP_COUNT);
    if (st == KILN_OK)
        st = splat_loss(t->dev, &img, target, mask, o->lambda_dssim, &lr, &grad);
    if (st == KILN_OK && o->psnr_every &&
        (t->iteration % o->psnr_every == 0 || t->iteration == 1 || t->iteration == o->iterations))
        st = splat_psnr(t->dev, &img, target, &res->psnr);
    section_open(t, SPLAT_STEP_COUNT + 1);
    if (st == KILN_OK)
        st = splat_render_backward(t->renderer, t->scene, cam, &ro, &grad, &t->grads);
    section_open(t, SPLAT_STEP_COUNT + 2);
    if (st == KILN_OK && o->densify && t->iteration < o->densify_until)
        st = train_stats(t, cam);
    dev_image_release(t->dev, &grad);
    dev_image_release(t->dev, &img);
    section_open(t, SPLAT_STEP_COUNT + 3);
    if (st == KILN_OK)
        st = train_densify(t, res);
    if (st == KILN_OK && o->densify && o->opacity_reset_interval &&
        t->iteration < o->densify_until && t->iteration % o->opacity_reset_interval == 0)
        st = splat_opacity_reset(t->dev, t->scene, &t->adam);
    section_open(t, SPLAT_STEP_COUNT + 2);
    if (st == KILN_OK && !res->densified) {
        train_rates(t, &rates);
        st = splat_adam_step(t->dev, t->scene, &t->grads, &rates, &t->adam);
    }
    if (t->profile)
        dev_timer_stop(t->dev);
    if (st == KILN_OK)
        st = device_finish(t->dev);
    if (t->profile) {
        double ms[DEV_TIMER_SECTIONS] = { 0 };
        if (st == KILN_OK && dev_timer_collect(t->dev, ms, NULL) == KILN_OK)
            memcpy(res->ms, ms, sizeof(res->ms));
        else
            device_timer_clear(t->dev);
    }
    res->loss = lr.loss;
    res->l1 = lr.l1;
    res->ssim = lr.ssim;
    res->count = t->scene->count;
    if (st != KILN_OK)
        kiln_fail_context(st, "training iteration %llu", (unsigned long long)t->iteration);
    return st;
}

/* Renders the current scene. */
kiln_status splat_trainer_render(splat_trainer *t, const splat_camera *cam, dev_image *out)
{
    splat_render_options ro;
    splat_render_stats rs;
    train_render_options(t, &ro);
    ro.keep_state = 0;
    return splat_render(t->renderer, t->scene, cam, &ro, out, &rs);
}

/* Iterations done. */
uint64_t splat_trainer_iteration(const splat_trainer *t)
{
    return t->iteration;
}

/* The scene being trained. */
const splat_scene_dev *splat_trainer_scene(const splat_trainer *t)
{
    return t->scene;
}

/* Copies the parameters to the host. */
kiln_status splat_trainer_download(splat_trainer *t, splat_scene *out)
{
    const splat_scene_dev *s = t->scene;
    kiln_status st = splat_scene_alloc(out, s->count, s->sh_degree);
    if (st == KILN_OK)
        st = dev_buffer_read(t->dev, s->means->mem, 0, s->count * 3 * sizeof(float), out->means,
                             "reading trained means");
    if (st == KILN_OK)
        st = dev_buffer_read(t->dev, s->rotations->mem, 0, s->count * 4 * sizeof(float),
                             out->rotations, "reading trained rotations");
    if (st == KILN_OK)
        st = dev_buffer_read(t->dev, s->scales->mem, 0, s->count * 3 * sizeof(float),
                             out->scales, "reading trained scales");
    if (st == KILN_OK)
        st = dev_buffer_read(t->dev, s->opacity->mem, 0, s->count * sizeof(float), out->opacity,
                             "reading trained opacities");
    if (st == KILN_OK)
        st = dev_buffer_read(t->dev, s->sh->mem, 0, s->count * s->sh_coeffs * 3 * sizeof(float),
                             out->sh, "reading trained SH");
    if (st != KILN_OK)
        splat_scene_free(out);
    return st;
}

/* One group's transfer between a device buffer and a host array. */
typedef struct group_io {
    pool_buffer *buf;
    float *host;
    size_t floats;
} group_io;

/* Reads (to_host) or writes every group of the table. */
static kiln_status groups_transfer(kiln_device *dev, const group_io *g, size_t n, int to_host)
{
    kiln_status st = KILN_OK;
    for (size_t i = 0; i < n && st == KILN_OK; i++)
        st = to_host ? dev_buffer_read(dev, g[i].buf->mem, 0, g[i].floats * sizeof(float),
                                       g[i].host, "reading the training state")
                     : dev_buffer_write(dev, g[i].buf->mem, 0, g[i].floats * sizeof(float),
                                        g[i].host, "restoring the training state");
    return st;
}

/* The moments' groups of a checkpoint against an Adam state, then the
 * densification statistics. */
static size_t moment_groups(const splat_adam *a, const splat_densify_stats *stats,
                            const splat_checkpoint *c, size_t n, uint32_t coeffs, group_io *g)
{
    const splat_grads *mv[2] = { &a->m, &a->v };
    float *host[2][5] = { { c->m_means, c->m_scales, c->m_rotations, c->m_opacity, c->m_sh },
                          { c->v_means, c->v_scales, c->v_rotations, c->v_opacity, c->v_sh } };
    size_t k = 0;
    for (int i = 0; i < 2; i++) {
        g[k++] = (group_io){ mv[i]->means, host[i][0], n * 3 };
        g[k++] = (group_io){ mv[i]->scales, host[i][1], n * 3 };
        g[k++] = (group_io){ mv[i]->rotations, host[i][2], n * 4 };
        g[k++] = (group_io){ mv[i]->opacity, host[i][3], n };
        g[k++] = (group_io){ mv[i]->sh, host[i][4], n * coeffs * 3 };
    }
    g[k++] = (group_io){ stats->grad_accum, c->grad_accum, n };
    g[k++] = (group_io){ stats->denom, c->denom, n };
    g[k++] = (group_io){ stats->max_radius, c->max_radius, n };
    return k;
}

/* The active SH degree of a coefficient count. */
static uint32_t active_degree(uint32_t active_coeffs)
{
    uint32_t d = 0;
    while ((d + 1) * (d + 1) < active_coeffs)
        d++;
    return d;
}

/* Copies the trainer's state into a checkpoint. */
kiln_status splat_trainer_save(splat_trainer *t, splat_checkpoint *c)
{
    const splat_scene_dev *s = t->scene;
    kiln_status st = splat_checkpoint_alloc(c, s->count, s->sh_degree);
    splat_scene params;

    if (st != KILN_OK)
        return st;
    c->iteration = t->iteration;
    c->sh_active_degree = active_degree(s->sh_active);
    c->adam_step = t->adam.step;
    st = splat_trainer_download(t, &params);
    if (st == KILN_OK) {
        size_t n = s->count;
        memcpy(c->scene.means, params.means, n * 3 * sizeof(float));
        memcpy(c->scene.rotations, params.rotations, n * 4 * sizeof(float));
        memcpy(c->scene.scales, params.scales, n * 3 * sizeof(float));
        memcpy(c->scene.opacity, params.opacity, n * sizeof(float));
        memcpy(c->scene.sh, params.sh, n * s->sh_coeffs * 3 * sizeof(float));
        group_io g[13];
        size_t ng = moment_groups(&t->adam, &t->stats, c, n, s->sh_coeffs, g);
        splat_scene_free(&params);
        st = groups_transfer(t->dev, g, ng, 1);
    }
    if (st != KILN_OK)
        splat_checkpoint_free(c);
    return st;
}

/* Starts from a checkpoint. */
kiln_status splat_trainer_init_checkpoint(kiln_device *dev, const splat_checkpoint *c,
                                          double extent, const splat_train_options *opt,
                                          splat_trainer **out)
{
    splat_trainer *t = NULL;
    group_io g[13];
    size_t ng;
    kiln_status st = splat_trainer_init(dev, &c->scene, extent, opt, &t);

    *out = NULL;
    if (st != KILN_OK)
        return st;
    if (c->sh_active_degree > c->scene.sh_degree) {
        splat_trainer_free(t);
        return kiln_fail(KILN_E_FORMAT, "the checkpoint's active SH degree %u exceeds its degree "
                         "%u", c->sh_active_degree, c->scene.sh_degree);
    }
    t->iteration = c->iteration;
    t->adam.step = c->adam_step;
    t->scene->sh_active = (c->sh_active_degree + 1) * (c->sh_active_degree + 1);
    ng = moment_groups(&t->adam, &t->stats, c, c->scene.count, c->scene.sh_coeffs, g);
    st = groups_transfer(dev, g, ng, 0);
    if (st != KILN_OK) {
        splat_trainer_free(t);
        return st;
    }
    *out = t;
    return KILN_OK;
}
