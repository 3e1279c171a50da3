/* Training one dataset end to end (see splat_train_run.h). */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic_file.h"
#include "clock.h"
#include "dir_create.h"
#include "host_alloc.h"
#include "image_read.h"
#include "launch.h"
#include "rss.h"
#include "splat_checkpoint.h"
#include "splat_dataset.h"
#include "splat_init.h"
#include "splat_loss.h"
#include "splat_train.h"
#include "splat_train_report.h"
#include "splat_train_run.h"
#include "status.h"
#include "train_images.h"
#include "view_order.h"

#define RUN_PATH_MAX (JOB_PATH_MAX + 128)
#define PROGRESS_EVERY 100
#define CURVE_EVERY 10

/* Everything one run holds. */
typedef struct run_state {
    const splat_train_run *run;
    const job_train *cfg;
    splat_dataset ds;
    size_t *train_views;        /* dataset indices of the training views */
    size_t ntrain;
    const char **train_paths;   /* their image files (borrowed from ds) */
    kiln_device *dev;
    splat_trainer *trainer;
    view_order order;
    uint64_t order_calls;       /* view_order_next calls so far (resume replays them) */
    train_images *images;
    splat_train_report report;
    float background[3];
    double extent;
    char path[RUN_PATH_MAX];
} run_state;

/* Whether `it` is in the comma-separated list `spec`. */
static int iteration_listed(const char *spec, uint64_t it)
{
    const char *p = spec;
    while (*p) {
        char *end;
        unsigned long long v = strtoull(p, &end, 10);
        if (end == p) {
            p++;
            continue;
        }
        if (v == it)
            return 1;
        p = end;
    }
    return 0;
}

/* The reference trainer's extent: 1.1 x the largest distance of a
 * training camera centre from their mean (1 when every centre is the
 * same point: a single view). */
static double cameras_extent(const run_state *rs)
{
    double mean[3] = { 0, 0, 0 }, far = 0.0;
    for (size_t i = 0; i < rs->ntrain; i++) {
        double c[3];
        splat_camera_centre(&rs->ds.views[rs->train_views[i]].camera, c);
        for (int k = 0; k < 3; k++)
            mean[k] += c[k] / (double)rs->ntrain;
    }
    for (size_t i = 0; i < rs->ntrain; i++) {
        double c[3], d = 0.0;
        splat_camera_centre(&rs->ds.views[rs->train_views[i]].camera, c);
        for (int k = 0; k < 3; k++)
            d += (c[k] - mean[k]) * (c[k] - mean[k]);
        far = fmax(far, sqrt(d));
    }
    return far > 0.0 ? 1.1 * far : 1.0;
}

/* The trainer's options from [train]. */
static void train_options(const job_train *c, splat_train_options *o)
{
    splat_train_options_default(o);
    o->iterations = c->iterations;
    o->mode = c->mode == SPLAT_JOB_GSPLAT ? SPLAT_MODE_GSPLAT : SPLAT_MODE_INRIA;
    for (int k = 0; k < 3; k++)
        o->background[k] = isnan(c->background[0]) ? 0.0f : c->background[k];
    o->lambda_dssim = c->lambda_dssim;
    o->densify = c->densify;
    o->densify_from = c->densify_from;
    o->densify_until = c->densify_until;
    o->densify_interval = c->densify_interval;
    o->densify_grad_threshold = c->densify_grad_threshold;
    o->percent_dense = c->percent_dense;
    o->opacity_reset_interval = c->opacity_reset_interval;
    o->sh_interval = c->sh_interval;
    o->sh_degree = (uint32_t)c->sh_degree;
    o->max_gaussians = c->max_gaussians;
    o->seed = c->seed;
    o->deterministic = c->deterministic;
    o->psnr_every = CURVE_EVERY;    /* the curve's and the progress line's iterations */
}

/* Sample c of pixel p of an image, in 0..1. */
static double sample_at(const host_image *img, size_t p, uint32_t c)
{
    uint32_t ch = img->channels;
    return img->bit_depth == 16 ? ((const uint16_t *)img->pixels)[p * ch + c] / 65535.0
                                : ((const uint8_t *)img->pixels)[p * ch + c] / 255.0;
}

/* Builds the planar RGB target (3 x H x W floats) of a training image and,
 * with alpha = ignore, the loss weights (H x W).  The subject's coverage
 * is the mask file's first channel when there is one (`mask`, the
 * image's size), else the image's alpha channel, else 1: alpha =
 * background composites the image over the background colour by it,
 * alpha = ignore keeps the colour and weighs the loss by it. */
static void image_to_target(const host_image *img, const host_image *mask_img,
                            const job_train *cfg, const float *bg, float *rgb, float *mask,
                            int *has_mask)
{
    size_t plane = (size_t)img->width * img->height;
    uint32_t ch = img->channels;
    int alpha = mask_img || ch == 2 || ch == 4;

    *has_mask = alpha && cfg->alpha == TRAIN_ALPHA_IGNORE;
    for (size_t p = 0; p < plane; p++) {
        double v[4] = { 0.0, 0.0, 0.0, 1.0 };
        for (uint32_t c = 0; c < ch && c < 4; c++)
            v[c] = sample_at(img, p, c);
        double a = mask_img ? sample_at(mask_img, p, 0) : alpha ? v[ch - 1] : 1.0;
        for (int k = 0; k < 3; k++) {
            double c = ch >= 3 ? v[k] : v[0];
            rgb[k * plane + p] = (float)(*has_mask || !alpha ? c : c * a + bg[k] * (1.0 - a));
        }
        if (*has_mask)
            mask[p] = (float)a;
    }
}

/* Reads the mask file of an image ([train] masks) into *mask; the
 * message names the file when it is missing, bad or of another size. */
static kiln_status mask_read(const job_train *cfg, const char *image, const host_image *img,
                             host_image *mask)
{
    char path[JOB_PATH_MAX * 2 + 64];
    const char *base = strrchr(image, '/'), *dot;
    kiln_status st;

    base = base ? base + 1 : image;
    dot = strrchr(base, '.');
    snprintf(path, sizeof(path), "%s/%.*s%s.png", cfg->masks,
             (int)(dot && dot != base ? (size_t)(dot - base) : strlen(base)), base,
             cfg->mask_suffix);
    st = image_read_file(path, 0, mask);
    if (st != KILN_OK)
        return kiln_fail_context(st, "mask of %s", image);
    if (mask->width != img->width || mask->height != img->height) {
        host_image_free(mask);
        return kiln_fail(KILN_E_FORMAT, "%s: the mask is %ux%u, its image %s is %ux%u", path,
                         mask->width, mask->height, image, img->width, img->height);
    }
    return KILN_OK;
}

/* Writes the target (and mask) of the image of a view on the device;
 * `reduce` > 1 averages reduce x reduce blocks of both first. */
static kiln_status target_upload(run_state *rs, const char *image_path, const host_image *full,
                                 uint32_t reduce, dev_image *target, dev_image *mask,
                                 int *has_mask)
{
    host_image mask_img = { 0 }, small = { 0 };
    const host_image *img = full;
    uint32_t w, h;
    size_t plane;
    float *rgb;
    kiln_status st;

    if (rs->cfg->masks[0]) {
        st = mask_read(rs->cfg, image_path, full, &mask_img);
        if (st != KILN_OK)
            return st;
    }
    if (reduce > 1) {
        host_image m = { 0 };
        st = host_image_reduce(full, reduce, &small);
        if (st == KILN_OK && mask_img.pixels)
            st = host_image_reduce(&mask_img, reduce, &m);
        host_image_free(&mask_img);
        mask_img = m;
        if (st != KILN_OK) {
            host_image_free(&small);
            host_image_free(&mask_img);
            return kiln_fail_context(st, "%s", image_path);
        }
        img = &small;
    }
    plane = (size_t)img->width * img->height;
    rgb = kiln_malloc(plane * 4 * sizeof(float));
    if (!rgb) {
        host_image_free(&mask_img);
        host_image_free(&small);
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory");
    }
    image_to_target(img, mask_img.pixels ? &mask_img : NULL, rs->cfg, rs->background, rgb,
                    rgb + 3 * plane, has_mask);
    w = img->width;
    h = img->height;
    host_image_free(&mask_img);
    host_image_free(&small);
    st = dev_image_acquire(rs->dev, w, h, 3, "train.target", target);
    if (st == KILN_OK)
        st = dev_buffer_write(rs->dev, target->buf->mem, 0, plane * 3 * sizeof(float), rgb,
                              "uploading a training image");
    if (st == KILN_OK && *has_mask)
        st = dev_image_acquire(rs->dev, w, h, 1, "train.mask", mask);
    if (st == KILN_OK && *has_mask)
        st = dev_buffer_write(rs->dev, mask->buf->mem, 0, plane * sizeof(float), rgb + 3 * plane,
                              "uploading a training mask");
    kiln_free(rgb);
    return st;
}

/* Writes OUT/point_cloud/iteration_N/point_cloud.ply. */
static kiln_status save_ply(run_state *rs, uint64_t it)
{
    splat_scene scene;
    kiln_status st;

    snprintf(rs->path, sizeof(rs->path), "%s/point_cloud/iteration_%llu", rs->run->out_dir,
             (unsigned long long)it);
    st = dir_create_parents(rs->path);
    if (st == KILN_OK)
        st = splat_trainer_download(rs->trainer, &scene);
    if (st != KILN_OK)
        return st;
    snprintf(rs->path, sizeof(rs->path), "%s/point_cloud/iteration_%llu/point_cloud.ply",
             rs->run->out_dir, (unsigned long long)it);
    st = splat_scene_write_ply(rs->path, &scene);
    splat_scene_free(&scene);
    return st;
}

/* Writes OUT/checkpoint.kck. */
static kiln_status save_checkpoint(run_state *rs)
{
    splat_checkpoint c;
    kiln_status st = splat_trainer_save(rs->trainer, &c);
    if (st != KILN_OK)
        return st;
    /* the view order is replayed from the seed: rng[0] counts its draws */
    c.rng[0] = rs->order_calls;
    c.rng[1] = rs->cfg->seed;
    snprintf(rs->path, sizeof(rs->path), "%s/checkpoint.kck", rs->run->out_dir);
    st = splat_checkpoint_write(rs->path, &c);
    splat_checkpoint_free(&c);
    return st;
}

/* Writes OUT/cameras.json (every view) and OUT/cfg_args. */
static kiln_status save_setup(run_state *rs)
{
    splat_camera_set set = { 0 };
    atomic_file af;
    kiln_status st;

    set.cameras = kiln_calloc(rs->ds.count, sizeof(*set.cameras));
    if (!set.cameras)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory");
    set.count = rs->ds.count;
    for (size_t i = 0; i < rs->ds.count; i++)
        set.cameras[i] = rs->ds.views[i].camera;
    snprintf(rs->path, sizeof(rs->path), "%s/cameras.json", rs->run->out_dir);
    st = splat_cameras_write_json(rs->path, &set);
    kiln_free(set.cameras);
    if (st != KILN_OK)
        return st;
    snprintf(rs->path, sizeof(rs->path), "%s/cfg_args", rs->run->out_dir);
    st = atomic_file_open(&af, rs->path);
    if (st != KILN_OK)
        return st;
    fprintf(af.fp, "Namespace(data_device='cuda', eval=%s, images='images', model_path='%s', "
            "resolution=%d, sh_degree=%llu, source_path='%s', white_background=%s)",
            rs->cfg->test_every ? "True" : "False", rs->run->out_dir,
            rs->cfg->downscale > 1 ? (int)rs->cfg->downscale : -1,
            (unsigned long long)rs->cfg->sh_degree, rs->run->dataset,
            rs->background[0] == 1.0f && rs->background[1] == 1.0f && rs->background[2] == 1.0f
                ? "True" : "False");
    return atomic_file_commit(&af);
}

/* Reads a test view's image (test views are not streamed: they are read
 * when scored). */
static kiln_status test_image_read(const splat_dataset_view *view, host_image *img)
{
    return image_read_file(view->image, 0, img);
}

/* Renders and scores the test views at iteration `it` into the report. */
static kiln_status run_tests(run_state *rs, uint64_t it)
{
    double sum_psnr = 0.0, sum_ssim = 0.0;
    size_t n = 0;
    kiln_status st = KILN_OK;

    for (size_t v = 0; v < rs->ds.count && st == KILN_OK; v++) {
        const splat_dataset_view *view = &rs->ds.views[v];
        const host_image *img = NULL;
        host_image held = { 0 };
        dev_image render = { 0 }, target = { 0 }, mask = { 0 };
        splat_loss_result lr;
        double psnr = 0.0;
        int has_mask = 0;
        if (!view->test)
            continue;
        st = test_image_read(view, &held);
        if (st != KILN_OK) {
            fprintf(rs->run->progress ? rs->run->progress : stderr,
                    "kiln: warning: test view %s skipped: %s\n", view->camera.name,
                    kiln_last_error());
            st = KILN_OK;
            continue;
        }
        img = &held;
        st = target_upload(rs, view->image, img, view->reduce, &target, &mask, &has_mask);
        host_image_free(&held);
        if (st == KILN_OK)
            st = splat_trainer_render(rs->trainer, &view->camera, &render);
        if (st == KILN_OK)
            st = splat_psnr(rs->dev, &render, &target, &psnr);
        if (st == KILN_OK)
            st = splat_loss(rs->dev, &render, &target, has_mask ? &mask : NULL, 1.0f, &lr, NULL);
        if (st == KILN_OK) {
            st = splat_train_report_add_test(&rs->report, it, view->camera.name, psnr, lr.ssim);
            sum_psnr += psnr;
            sum_ssim += lr.ssim;
            n++;
        }
        dev_image_release(rs->dev, &render);
        dev_image_release(rs->dev, &target);
        dev_image_release(rs->dev, &mask);
    }
    if (st == KILN_OK && n && rs->run->progress)
        fprintf(rs->run->progress, "kiln: iteration %llu: %zu test views, PSNR %.2f dB, SSIM "
                "%.4f\n", (unsigned long long)it, n, sum_psnr / (double)n, sum_ssim / (double)n);
    return st;
}

/* One training iteration: the next readable training view, its target,
 * the step. */
static kiln_status run_iteration(run_state *rs, splat_step_result *res)
{
    kiln_status st = KILN_E_IO;

    for (size_t tries = 0; tries < rs->ntrain && st != KILN_OK; tries++) {
        size_t k = view_order_next(&rs->order);
        size_t v = rs->train_views[k];
        const host_image *img = NULL;
        dev_image target = { 0 }, mask = { 0 };
        int has_mask = 0;
        rs->order_calls++;
        st = train_images_get(rs->images, k, &img);
        if (st != KILN_OK) {
            fprintf(rs->run->progress ? rs->run->progress : stderr,
                    "kiln: warning: training view %s skipped: %s\n",
                    rs->ds.views[v].camera.name, kiln_last_error());
            continue;
        }
        st = target_upload(rs, rs->ds.views[v].image, img, rs->ds.views[v].reduce, &target,
                           &mask, &has_mask);
        train_images_release(rs->images, img);
        if (st == KILN_OK)
            st = splat_trainer_step(rs->trainer, &rs->ds.views[v].camera, &target,
                                    has_mask ? &mask : NULL, res);
        dev_image_release(rs->dev, &target);
        dev_image_release(rs->dev, &mask);
        if (st != KILN_OK)
            return st;
    }
    if (st != KILN_OK)
        return kiln_fail(KILN_E_IO, "%s: no training image could be read", rs->run->dataset);
    return KILN_OK;
}

/* The report's closing figures. */
static void report_figures(run_state *rs, double seconds)
{
    splat_report_figures f;
    pool_ledger ledger;
    size_t parts[5];

    memset(&f, 0, sizeof(f));
    pool_ledger_get(rs->dev->pool, &ledger);
    splat_train_bytes_per_gaussian((uint32_t)rs->cfg->sh_degree, parts);
    f.iterations = splat_trainer_iteration(rs->trainer);
    f.seconds = seconds;
    f.device_pool_peak_bytes = ledger.peak_bytes;
    f.host_rss_peak_bytes = rss_peak_bytes();
    f.per_gaussian = (splat_report_bytes){ (double)parts[0], (double)parts[1], (double)parts[2],
                                           (double)parts[3], (double)parts[4] };
    f.device = rs->dev->info.name;
    f.final_count = splat_trainer_scene(rs->trainer)->count;
    splat_train_report_set_figures(&rs->report, &f);
}

/* The training loop from the trainer's iteration to [train] iterations. */
static kiln_status run_loop(run_state *rs)
{
    double start = kiln_clock_ms(), last = start;
    uint64_t it = splat_trainer_iteration(rs->trainer), last_it = it;
    kiln_status st = KILN_OK;

    while (st == KILN_OK && it < rs->cfg->iterations) {
        splat_step_result res;
        st = run_iteration(rs, &res);
        if (st != KILN_OK)
            break;
        it = splat_trainer_iteration(rs->trainer);
        if (it % CURVE_EVERY == 0 || it == 1)
            splat_train_report_add_loss(&rs->report, it, res.loss, res.psnr, res.count);
        if (rs->run->progress && (it % PROGRESS_EVERY == 0 || it == rs->cfg->iterations)) {
            pool_ledger ledger;
            double now = kiln_clock_ms();
            pool_ledger_get(rs->dev->pool, &ledger);
            fprintf(rs->run->progress, "kiln: iteration %llu/%llu: loss %.5f, PSNR %.2f dB, "
                    "%zu Gaussians, %.1f it/s, device memory %.1f MiB\n",
                    (unsigned long long)it, (unsigned long long)rs->cfg->iterations, res.loss,
                    res.psnr, res.count, (double)(it - last_it) * 1000.0 / fmax(now - last, 1e-3),
                    ledger.live_bytes / 1048576.0);
            last = now;
            last_it = it;
        }
        if (iteration_listed(rs->cfg->test_iterations, it) || it == rs->cfg->iterations)
            st = run_tests(rs, it);
        if (st == KILN_OK &&
            (iteration_listed(rs->cfg->save_iterations, it) || it == rs->cfg->iterations))
            st = save_ply(rs, it);
        if (st == KILN_OK && iteration_listed(rs->cfg->checkpoint_iterations, it))
            st = save_checkpoint(rs);
    }
    report_figures(rs, (kiln_clock_ms() - start) / 1000.0);
    snprintf(rs->path, sizeof(rs->path), "%s/report.json", rs->run->out_dir);
    if (st == KILN_OK)
        st = splat_train_report_write(rs->path, &rs->report);
    return st;
}

/* Opens the dataset and lists its training views. */
static kiln_status run_dataset(run_state *rs)
{
    splat_dataset_options dopt;
    kiln_status st;

    splat_dataset_options_default(&dopt);
    dopt.downscale = (uint32_t)rs->cfg->downscale;
    dopt.test_every = (uint32_t)rs->cfg->test_every;
    dopt.random_points = rs->cfg->random_points;
    dopt.seed = rs->cfg->seed;
    st = splat_dataset_open(rs->run->dataset, &dopt, &rs->ds);
    if (st != KILN_OK)
        return st;
    if (rs->ds.warning[0])
        fprintf(stderr, "kiln: warning: %s\n", rs->ds.warning);
    rs->train_views = kiln_calloc(rs->ds.count, sizeof(*rs->train_views));
    rs->train_paths = kiln_calloc(rs->ds.count, sizeof(*rs->train_paths));
    if (!rs->train_views || !rs->train_paths)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory");
    for (size_t v = 0; v < rs->ds.count; v++)
        if (!rs->ds.views[v].test) {
            rs->train_views[rs->ntrain] = v;
            rs->train_paths[rs->ntrain++] = rs->ds.views[v].image;
        }
    if (rs->ntrain == 0)
        return kiln_fail(KILN_E_FORMAT, "%s: every view is a test view ([train] test_every)",
                         rs->run->dataset);
    return KILN_OK;
}

/* Starts the trainer, from the checkpoint when resuming. */
static kiln_status run_trainer(run_state *rs, const splat_train_options *opt)
{
    splat_checkpoint c;
    splat_scene init;
    struct stat sb;
    kiln_status st;

    snprintf(rs->path, sizeof(rs->path), "%s/checkpoint.kck", rs->run->out_dir);
    if (rs->run->resume && stat(rs->path, &sb) == 0) {
        st = splat_checkpoint_read(rs->path, &c);
        if (st != KILN_OK)
            return st;
        st = splat_trainer_init_checkpoint(rs->dev, &c, rs->extent, opt, &rs->trainer);
        for (uint64_t i = 0; st == KILN_OK && i < c.rng[0]; i++)
            view_order_next(&rs->order);
        rs->order_calls = c.rng[0];
        splat_checkpoint_free(&c);
        return st;
    }
    st = splat_scene_from_points(rs->ds.points, rs->ds.colours, rs->ds.npoints,
                                 (uint32_t)rs->cfg->sh_degree, &init);
    if (st != KILN_OK)
        return kiln_fail_context(st, "%s: initial points", rs->run->dataset);
    st = splat_trainer_init(rs->dev, &init, rs->extent, opt, &rs->trainer);
    splat_scene_free(&init);
    return st;
}

/* Trains one dataset. */
kiln_status splat_train_dataset(const splat_train_run *run)
{
    run_state *rs = kiln_calloc(1, sizeof(*rs));
    splat_train_options opt;
    train_images_config tic;
    kiln_status st, close_st;

    if (!rs)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory");
    rs->run = run;
    rs->cfg = &run->job->train;
    for (int k = 0; k < 3; k++)
        rs->background[k] = isnan(rs->cfg->background[0]) ? 0.0f : rs->cfg->background[k];
    splat_train_report_init(&rs->report);
    train_options(rs->cfg, &opt);
    st = run_dataset(rs);
    if (st == KILN_OK)
        st = dir_create_parents(run->out_dir);
    if (st == KILN_OK) {
        /* temporary files a killed run left (its outputs are whole or absent) */
        atomic_file_remove_stale(run->out_dir);
        st = save_setup(rs);
    }
    if (st == KILN_OK) {
        rs->extent = cameras_extent(rs);
        st = view_order_init(&rs->order, rs->ntrain, rs->cfg->seed);
    }
    if (st == KILN_OK)
        st = device_open_selected(run->job->device.select, (size_t)run->job->memory.device_budget,
                                  &rs->dev);
    if (st == KILN_OK)
        st = run_trainer(rs, &opt);
    if (st == KILN_OK) {
        memset(&tic, 0, sizeof(tic));
        tic.cache_bytes = (size_t)rs->cfg->image_cache;
        tic.ahead = TRAIN_IMAGES_DEFAULT_AHEAD;
        st = train_images_init(&rs->images, rs->train_paths, rs->ntrain, &rs->order, &tic);
    }
    if (st == KILN_OK && rs->run->progress)
        fprintf(rs->run->progress, "kiln: training %s: %zu views (%zu for training), %zu "
                "Gaussians from iteration %llu, extent %.3g, on %s\n", run->dataset, rs->ds.count,
                rs->ntrain, splat_trainer_scene(rs->trainer)->count,
                (unsigned long long)splat_trainer_iteration(rs->trainer), rs->extent,
                rs->dev->info.name);
    if (st == KILN_OK)
        st = run_loop(rs);
    train_images_free(rs->images);
    splat_trainer_free(rs->trainer);
    close_st = rs->dev ? device_close(rs->dev) : KILN_OK;
    if (st == KILN_OK)
        st = close_st;
    view_order_free(&rs->order);
    splat_train_report_free(&rs->report);
    kiln_free(rs->train_views);
    kiln_free(rs->train_paths);
    splat_dataset_free(&rs->ds);
    kiln_free(rs);
    return st;
}

/* The dataset of a trained output: source_path='...' in OUT/cfg_args. */
static kiln_status eval_source(const char *out_dir, char *buf, size_t len)
{
    char path[RUN_PATH_MAX], text[8192];
    const char *p, *q;
    size_t n;
    FILE *fp;

    snprintf(path, sizeof(path), "%s/cfg_args", out_dir);
    fp = fopen(path, "rb");
    if (!fp)
        return kiln_fail(KILN_E_IO, "%s: cannot read: %s", path, strerror(errno));
    n = fread(text, 1, sizeof(text) - 1, fp);
    fclose(fp);
    text[n] = '\0';
    p = strstr(text, "source_path='");
    q = p ? strchr(p + 13, '\'') : NULL;
    if (!p || !q || (size_t)(q - p - 13) >= len)
        return kiln_fail(KILN_E_FORMAT, "%s: no source_path='...'", path);
    memcpy(buf, p + 13, (size_t)(q - p - 13));
    buf[q - p - 13] = '\0';
    return KILN_OK;
}

/* The last saved iteration of OUT/point_cloud (0 when none). */
static uint64_t eval_last_iteration(const char *out_dir)
{
    char path[RUN_PATH_MAX];
    const struct dirent *e;
    uint64_t best = 0;
    DIR *d;

    snprintf(path, sizeof(path), "%s/point_cloud", out_dir);
    d = opendir(path);
    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL) {
        unsigned long long v;
        if (sscanf(e->d_name, "iteration_%llu", &v) == 1 && v > best)
            best = v;
    }
    closedir(d);
    return best;
}

/* Scores one test view: PSNR and SSIM of the render against the image. */
static kiln_status eval_view(kiln_device *dev, splat_renderer *r, const splat_scene_dev *scene,
                             const splat_dataset_view *view, const job_train *cfg,
                             const float *bg, double *psnr, double *ssim)
{
    splat_render_options o;
    splat_render_stats rs;
    splat_loss_result lr;
    host_image img = { 0 };
    dev_image render = { 0 }, target = { 0 }, mask = { 0 };
    run_state fake;
    splat_train_run run;
    int has_mask = 0;
    kiln_status st;

    memset(&o, 0, sizeof(o));
    o.mode = cfg->mode == SPLAT_JOB_GSPLAT ? SPLAT_MODE_GSPLAT : SPLAT_MODE_INRIA;
    memcpy(o.background, bg, sizeof(o.background));
    o.output = SPLAT_OUT_RGB;
    o.max_instances = (uint64_t)32 << 20;
    o.blend_rows = -1;
    o.profile_section = -1;
    memset(&fake, 0, sizeof(fake));
    memset(&run, 0, sizeof(run));
    fake.run = &run;
    fake.cfg = cfg;
    fake.dev = dev;
    memcpy(fake.background, bg, sizeof(fake.background));
    st = test_image_read(view, &img);
    if (st == KILN_OK)
        st = target_upload(&fake, view->image, &img, view->reduce, &target, &mask, &has_mask);
    host_image_free(&img);
    if (st == KILN_OK)
        st = splat_render(r, scene, &view->camera, &o, &render, &rs);
    if (st == KILN_OK)
        st = splat_psnr(dev, &render, &target, psnr);
    if (st == KILN_OK)
        st = splat_loss(dev, &render, &target, has_mask ? &mask : NULL, 1.0f, &lr, NULL);
    if (st == KILN_OK)
        *ssim = lr.ssim;
    dev_image_release(dev, &render);
    dev_image_release(dev, &target);
    dev_image_release(dev, &mask);
    return st;
}

/* Scores the test views of a trained output. */
kiln_status splat_train_eval(const job_config *job, const char *out_dir, FILE *out)
{
    const job_train *cfg = &job->train;
    char source[JOB_PATH_MAX], path[RUN_PATH_MAX];
    splat_dataset_options dopt;
    splat_dataset ds = { 0 };
    splat_scene scene = { 0 };
    splat_scene_dev *d = NULL;
    splat_renderer *r = NULL;
    kiln_device *dev = NULL;
    float bg[3];
    double sum_psnr = 0.0, sum_ssim = 0.0;
    size_t n = 0;
    uint64_t it = eval_last_iteration(out_dir);
    kiln_status st, close_st;

    for (int k = 0; k < 3; k++)
        bg[k] = isnan(cfg->background[0]) ? 0.0f : cfg->background[k];
    if (it == 0)
        return kiln_fail(KILN_E_IO, "%s: no point_cloud/iteration_N/point_cloud.ply", out_dir);
    st = eval_source(out_dir, source, sizeof(source));
    if (st != KILN_OK)
        return st;
    splat_dataset_options_default(&dopt);
    dopt.downscale = (uint32_t)cfg->downscale;
    dopt.test_every = (uint32_t)cfg->test_every;
    dopt.random_points = cfg->random_points;
    st = splat_dataset_open(source, &dopt, &ds);
    snprintf(path, sizeof(path), "%s/point_cloud/iteration_%llu/point_cloud.ply", out_dir,
             (unsigned long long)it);
    if (st == KILN_OK)
        st = splat_scene_read(path, NULL, &scene, NULL);
    if (st == KILN_OK)
        st = device_open_selected(job->device.select, (size_t)job->memory.device_budget, &dev);
    if (st == KILN_OK)
        st = splat_scene_dev_upload(dev, &scene, 0, &d);
    if (st == KILN_OK)
        st = splat_renderer_init(dev, &r);
    for (size_t v = 0; st == KILN_OK && v < ds.count; v++) {
        double psnr = 0.0, ssim = 0.0;
        if (!ds.views[v].test)
            continue;
        st = eval_view(dev, r, d, &ds.views[v], cfg, bg, &psnr, &ssim);
        if (st == KILN_OK) {
            fprintf(out, "test view %s: PSNR %.3f dB, SSIM %.4f\n", ds.views[v].camera.name, psnr,
                    ssim);
            sum_psnr += psnr;
            sum_ssim += ssim;
            n++;
        }
    }
    if (st == KILN_OK && n == 0)
        st = kiln_fail(KILN_E_FORMAT, "%s: the dataset has no test views ([train] test_every)",
                       source);
    if (st == KILN_OK)
        fprintf(out, "%s, iteration %llu, %zu Gaussians: %zu test views, mean PSNR %.3f dB, "
                "mean SSIM %.4f\n", out_dir, (unsigned long long)it, scene.count, n,
                sum_psnr / (double)n, sum_ssim / (double)n);
    splat_renderer_free(r);
    splat_scene_dev_free(d);
    close_st = dev ? device_close(dev) : KILN_OK;
    if (st == KILN_OK)
        st = close_st;
    splat_scene_free(&scene);
    splat_dataset_free(&ds);
    return st;
}
