/* `kiln splat info SCENE` and `kiln splat render SCENE ...`: a scene's
 * figures, and views of one scene rendered outside a batch with the same
 * [splat] keys as jobs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "clock.h"
#include "dir_create.h"
#include "float_image.h"
#include "host_alloc.h"
#include "job.h"
#include "launch.h"
#include "png_io.h"
#include "resident.h"
#include "rss.h"
#include "splat_items.h"
#include "splat_train_run.h"
#include "stage_splat.h"
#include "status.h"

#define SPLAT_MAX_VIEW_ARGS 1024
/* the device timer sections of the render steps (launch.h) */
#define SPLAT_TIMER_BASE 0

/* Prints the usage of `kiln splat`. */
static void splat_usage(FILE *out)
{
    fprintf(out,
            "usage: kiln splat info SCENE [--set section.key=value ...]\n"
            "       kiln splat render SCENE (--cameras FILE|DIR | --orbit N) [--view N ...]\n"
            "                         -o OUT.png|OUT.f32|OUT.pfm|DIR [--format png|f32|pfm]\n"
            "                         [--repeat N] [--set section.key=value ...]\n"
            "       kiln splat train DATASET -o OUTDIR [--resume] [--set train.key=value ...]\n"
            "       kiln splat eval OUTDIR [--set train.key=value ...]\n"
            "  SCENE is a 3DGS PLY (the reference trainer's layout) or a .splat file.\n"
            "  info prints the Gaussian count, SH degree, bounding box, opacity and scale\n"
            "  percentiles and the device memory the scene needs.\n"
            "  render draws the views of a camera file (cameras.json, transforms*.json, a\n"
            "  COLMAP model) or an orbit of N frames around the scene; without --view,\n"
            "  every view, one file per view in DIR named after the view (--format, default\n"
            "  png).  A single view may go to one file: .png (8 or 16 bit by [output]\n"
            "  bit_depth), .f32 or .pfm (floats; rgba there is premultiplied, over the\n"
            "  background).  The [splat] keys of a job apply (mode, antialiased, background,\n"
            "  output, max_instances...: kiln config).  --repeat N renders each view N\n"
            "  times and prints per-step device times (benchmarks).\n"
            "  train fits a scene to a capture dataset (COLMAP images/ + sparse/0, or\n"
            "  nerfstudio/Blender transforms*.json) with the [train] keys (the reference\n"
            "  trainer's defaults: 30,000 iterations...), streaming the images; OUTDIR gets\n"
            "  the reference trainer's layout (point_cloud/iteration_N/point_cloud.ply,\n"
            "  cameras.json, cfg_args) and report.json; --resume continues from\n"
            "  OUTDIR/checkpoint.kck ([train] checkpoint_iterations).\n"
            "  eval renders the test views of a trained OUTDIR and prints PSNR and SSIM.\n");
}

static const cli_command splat_command = { "splat", splat_usage };

/* Options of `kiln splat render`. */
typedef struct render_args {
    cli_single single;
    const char *scene;
    const char *format;
    size_t views[SPLAT_MAX_VIEW_ARGS];
    size_t nviews;
    char cameras_set[JOB_PATH_MAX + 32];
    char orbit_set[64];
} render_args;

/* Loads the job of a splat command: defaults, [splat] on, then the sets. */
static kiln_status splat_job(const cli_single *o, job_config *job)
{
    return job_load(NULL, o->sets, o->nsets, job);
}

/* ---- info ---- */

/* Prints a scene's figures. */
static int splat_info(int argc, char **argv)
{
    cli_single o;
    const char *scene_path = NULL;
    job_config *job;
    splat_scene scene;
    splat_read_info info;
    splat_scene_stats stats;
    splat_scene_load load;
    kiln_status st;

    cli_single_init(&o, "splat.enabled=yes");
    o.sets[o.nsets++] = "splat.orbit_frames=1";
    for (int i = 0; i < argc; i++) {
        int taken;
        if (cli_is_help(argv[i]))
            return cli_help(&splat_command);
        taken = cli_single_option(&splat_command, argc, argv, &i, &o);
        if (taken < 0)
            return 2;
        if (taken)
            continue;
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cli_usage_error(&splat_command, "unknown option '%s'", argv[i]);
        if (scene_path)
            return cli_usage_error(&splat_command, "one scene ('%s' is a second)", argv[i]);
        scene_path = argv[i];
    }
    if (!scene_path)
        return cli_usage_error(&splat_command, "missing SCENE");
    job = kiln_malloc(sizeof(*job));
    if (!job) {
        fprintf(stderr, "kiln splat: out of host memory\n");
        return 2;
    }
    st = splat_job(&o, job);
    if (st == KILN_OK) {
        stage_splat_load(&job->splat, &load);
        st = splat_scene_read(scene_path, &load.read, &scene, &info);
    }
    if (st == KILN_OK && scene.count == 0) {
        splat_scene_free(&scene);
        st = kiln_fail(KILN_E_FORMAT, "%s: the scene holds no Gaussians", scene_path);
    }
    if (st == KILN_OK) {
        st = splat_scene_stats_get(&scene, &stats);
        if (st == KILN_OK) {
            size_t n = scene.count;
            printf("scene %s (%s)\n", scene_path, info.format ? ".splat" : "PLY");
            printf("  gaussians      %zu (file: %zu; with NaN/Inf: %zu%s)\n", n, info.file_count,
                   info.nonfinite, info.nonfinite ? ", dropped" : "");
            printf("  sh degree      %u (%u coefficients a channel)\n", scene.sh_degree,
                   scene.sh_coeffs);
            printf("  bounding box   [%.4g, %.4g] x [%.4g, %.4g] x [%.4g, %.4g]\n",
                   stats.bbox_min[0], stats.bbox_max[0], stats.bbox_min[1], stats.bbox_max[1],
                   stats.bbox_min[2], stats.bbox_max[2]);
            printf("  centre         %.4g %.4g %.4g\n", stats.centre[0], stats.centre[1],
                   stats.centre[2]);
            printf("  opacity        min %.3g, 25%% %.3g, median %.3g, 75%% %.3g, max %.3g\n",
                   stats.opacity_pct[0], stats.opacity_pct[1], stats.opacity_pct[2],
                   stats.opacity_pct[3], stats.opacity_pct[4]);
            printf("  largest scale  min %.3g, 25%% %.3g, median %.3g, 75%% %.3g, max %.3g\n",
                   stats.scale_pct[0], stats.scale_pct[1], stats.scale_pct[2],
                   stats.scale_pct[3], stats.scale_pct[4]);
            printf("  device memory  scene %.1f MiB resident (%zu bytes a Gaussian; fp16 SH: "
                   "%.1f MiB), frame %.1f MiB + 24 bytes a tile instance (at most %llu: "
                   "[splat] max_instances)\n",
                   splat_scene_dev_bytes(n, scene.sh_degree, 0) / 1048576.0,
                   splat_scene_dev_bytes(1, scene.sh_degree, 0),
                   splat_scene_dev_bytes(n, scene.sh_degree, 1) / 1048576.0,
                   splat_frame_bytes(n, 0) / 1048576.0,
                   (unsigned long long)job->splat.max_instances);
        }
        splat_scene_free(&scene);
    }
    kiln_free(job);
    if (st != KILN_OK) {
        fprintf(stderr, "kiln splat info: error: %s\n", kiln_last_error());
        return st == KILN_E_CONFIG ? 2 : 1;
    }
    return 0;
}

/* ---- render ---- */

/* Parses the render command line into *a; returns -1 when it is fine,
 * else the exit status (after printing why). */
static int render_parse(int argc, char **argv, render_args *a)
{
    int have_cameras = 0, have_orbit = 0;

    memset(a, 0, sizeof(*a));
    cli_single_init(&a->single, "splat.enabled=yes");
    for (int i = 0; i < argc; i++) {
        const char *v;
        int taken;
        if (cli_is_help(argv[i]))
            return cli_help(&splat_command);
        taken = cli_single_option(&splat_command, argc, argv, &i, &a->single);
        if (taken < 0)
            return 2;
        if (taken)
            continue;
        if (strcmp(argv[i], "--cameras") == 0 || strcmp(argv[i], "--orbit") == 0 ||
            strcmp(argv[i], "--view") == 0 || strcmp(argv[i], "--format") == 0) {
            const char *opt = argv[i];
            char *end;
            if (!(v = cli_option_value(&splat_command, argc, argv, &i)))
                return 2;
            if (strcmp(opt, "--cameras") == 0) {
                snprintf(a->cameras_set, sizeof(a->cameras_set), "splat.cameras=%s", v);
                have_cameras = 1;
            } else if (strcmp(opt, "--orbit") == 0) {
                snprintf(a->orbit_set, sizeof(a->orbit_set), "splat.orbit_frames=%s", v);
                have_orbit = 1;
            } else if (strcmp(opt, "--format") == 0) {
                if (strcmp(v, "png") != 0 && strcmp(v, "f32") != 0 && strcmp(v, "pfm") != 0)
                    return cli_usage_error(&splat_command, "--format png, f32 or pfm, not '%s'", v);
                a->format = v;
            } else {
                unsigned long long n = strtoull(v, &end, 10);
                if (!*v || *end || v[0] == '-')
                    return cli_usage_error(&splat_command, "--view wants a view index, not '%s'",
                                           v);
                if (a->nviews == SPLAT_MAX_VIEW_ARGS)
                    return cli_usage_error(&splat_command, "at most %d --view options",
                                           SPLAT_MAX_VIEW_ARGS);
                a->views[a->nviews++] = (size_t)n;
            }
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage_error(&splat_command, "unknown option '%s'", argv[i]);
        } else if (!a->scene) {
            a->scene = argv[i];
        } else {
            return cli_usage_error(&splat_command, "one scene ('%s' is a second)", argv[i]);
        }
    }
    if (!a->scene)
        return cli_usage_error(&splat_command, "missing SCENE");
    if (have_cameras == have_orbit)
        return cli_usage_error(&splat_command, "give --cameras FILE or --orbit N");
    if (!a->single.out_path)
        return cli_usage_error(&splat_command, "missing -o OUT");
    if (a->single.nsets + 1 >= CLI_SINGLE_MAX_SETS)
        return cli_usage_error(&splat_command, "too many --set options");
    a->single.sets[a->single.nsets++] = have_cameras ? a->cameras_set : a->orbit_set;
    return -1;
}

/* Whether `path` is an existing directory or ends in '/'. */
static int is_dir_path(const char *path)
{
    struct stat sb;
    size_t n = strlen(path);
    return (n > 0 && path[n - 1] == '/') || (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode));
}

/* Everything one render run holds. */
typedef struct render_run {
    job_config *job;
    kiln_device *dev;
    splat_renderer *renderer;
    splat_scene_dev *scene;
    splat_camera_set cameras;
    splat_render_options opt;
} render_run;

/* The camera of view v. */
static kiln_status view_camera(const render_run *run, size_t v, splat_camera *cam)
{
    if (run->job->splat.orbit_frames > 0)
        return stage_splat_orbit_camera(&run->job->splat, run->scene, v, cam);
    *cam = run->cameras.cameras[v];
    return KILN_OK;
}

/* Prints one render's line from the collected step times. */
static void render_print(const render_run *run, const splat_camera *cam,
                         const splat_render_stats *stats, const double *ms, FILE *out)
{
    pool_ledger ledger;
    double total = 0.0;

    pool_ledger_get(run->dev->pool, &ledger);
    for (int k = 0; k < SPLAT_STEP_COUNT; k++)
        total += ms[SPLAT_TIMER_BASE + k];
    fprintf(out, "splat %s: %ux%u: %.1f ms (", cam->name, cam->width, cam->height, total);
    for (int k = 0; k < SPLAT_STEP_COUNT; k++)
        fprintf(out, "%s%s %.1f", k ? ", " : "", splat_step_name((splat_step)k),
                ms[SPLAT_TIMER_BASE + k]);
    fprintf(out, "); %zu Gaussians, %llu tile instances in %u band%s; device pool peak %.1f "
            "MiB, process peak RSS %.1f MiB on %s\n", run->scene->count,
            (unsigned long long)stats->instances, stats->bands, stats->bands == 1 ? "" : "s",
            ledger.peak_bytes / 1048576.0, rss_peak_bytes() / 1048576.0, run->dev->info.name);
}

/* Renders view v `repeat` times and writes the last frame to out_path. */
static kiln_status render_view(render_run *run, size_t v, const char *out_path, unsigned repeat,
                               FILE *figures)
{
    int floats = float_image_path(out_path);
    splat_render_options opt = run->opt;
    splat_render_stats stats;
    splat_camera cam;
    dev_image img = { 0 };
    host_image host = { 0 };
    float *planar = NULL;
    kiln_status st;

    if (!floats && opt.output == SPLAT_OUT_DEPTH && run->job->output.bit_depth != 16)
        return kiln_fail(KILN_E_CONFIG, "%s: [splat] output = depth in a PNG needs [output] "
                         "bit_depth = 16 (or write .f32 / .pfm)", out_path);
    st = view_camera(run, v, &cam);
    if (st != KILN_OK)
        return st;
    if (floats) {
        if (opt.output == SPLAT_OUT_RGBA)
            opt.output = SPLAT_OUT_RGBA_PREMUL;
        if (opt.output == SPLAT_OUT_DEPTH)
            opt.depth_scale = 1.0f;   /* floats hold the depth itself */
    }
    opt.profile_section = SPLAT_TIMER_BASE;
    for (unsigned run_i = 0; run_i < repeat && st == KILN_OK; run_i++) {
        double ms[DEV_TIMER_SECTIONS] = { 0 };
        dev_image_release(run->dev, &img);
        st = splat_render(run->renderer, run->scene, &cam, &opt, &img, &stats);
        if (st == KILN_OK)
            st = device_finish(run->dev);
        if (st == KILN_OK && dev_timer_collect(run->dev, ms, NULL) == KILN_OK)
            render_print(run, &cam, &stats, ms, figures);
        else
            device_timer_clear(run->dev);
    }
    if (st == KILN_OK && floats) {
        planar = kiln_malloc(dev_image_elements(&img) * sizeof(float));
        st = planar ? dev_buffer_read(run->dev, img.buf->mem, 0,
                                      dev_image_elements(&img) * sizeof(float), planar,
                                      "reading the frame")
                    : kiln_fail(KILN_E_HOSTMEM, "out of host memory");
        if (st == KILN_OK)
            st = float_image_write(out_path, planar, img.width, img.height, img.channels);
        kiln_free(planar);
    } else if (st == KILN_OK) {
        st = dev_image_download(run->dev, &img, (uint32_t)run->job->output.bit_depth, &host);
        if (st == KILN_OK)
            st = png_write_file(out_path, &host);
        host_image_free(&host);
    }
    dev_image_release(run->dev, &img);
    if (st != KILN_OK)
        kiln_fail_context(st, "view %zu (%s)", v, cam.name);
    return st;
}

/* Opens the device, the scene and the cameras of a run. */
static kiln_status render_open(render_run *run, const char *scene_path)
{
    splat_scene_load load;
    kiln_status st;

    stage_splat_options(&run->job->splat, &run->opt);
    stage_splat_load(&run->job->splat, &load);
    if (run->opt.output == SPLAT_OUT_DEPTH)
        run->opt.depth_scale = run->job->splat.depth_scale / 65535.0f;
    if (run->job->splat.cameras[0]) {
        st = splat_cameras_read(run->job->splat.cameras, &run->cameras);
        if (st != KILN_OK)
            return kiln_fail_context(st, "--cameras");
        if (run->cameras.warning[0])
            fprintf(stderr, "kiln splat: warning: %s\n", run->cameras.warning);
    }
    st = device_open_selected(run->job->device.select, (size_t)run->job->memory.device_budget,
                              &run->dev);
    if (st == KILN_OK)
        st = splat_renderer_init(run->dev, &run->renderer);
    if (st == KILN_OK)
        st = splat_scene_dev_acquire(run->dev, scene_path, &load, &run->scene);
    if (st == KILN_OK && load.nonfinite)
        fprintf(stderr, "kiln splat: warning: %s: %zu Gaussians with NaN/Inf values dropped\n",
                scene_path, load.nonfinite);
    return st;
}

/* Releases what render_open acquired; returns the device's close status. */
static kiln_status render_close(render_run *run)
{
    kiln_status st = KILN_OK;
    if (run->scene)
        resident_release(run->dev, run->scene);
    splat_renderer_free(run->renderer);
    if (run->dev)
        st = device_close(run->dev);
    splat_camera_set_free(&run->cameras);
    return st;
}

/* Renders the selected views into their files. */
static kiln_status render_views(render_run *run, const render_args *a)
{
    size_t count = run->job->splat.orbit_frames > 0 ? (size_t)run->job->splat.orbit_frames
                                                     : run->cameras.count;
    size_t nviews = a->nviews ? a->nviews : count;
    const char *out = a->single.out_path;
    int to_dir = is_dir_path(out) || nviews > 1;
    FILE *figures = strcmp(out, "-") == 0 ? stderr : stdout;
    kiln_status st = KILN_OK;

    for (size_t k = 0; k < a->nviews; k++)
        if (a->views[k] >= count)
            return kiln_fail(KILN_E_INVAL, "--view %zu: the cameras hold %zu view%s (0..%zu)",
                             a->views[k], count, count == 1 ? "" : "s", count ? count - 1 : 0);
    if (to_dir && !is_dir_path(out)) {
        st = dir_create_parents(out);
        if (st != KILN_OK)
            return kiln_fail_context(st, "-o");
    }
    for (size_t k = 0; k < nviews && st == KILN_OK; k++) {
        size_t v = a->nviews ? a->views[k] : k;
        char path[JOB_PATH_MAX + SPLAT_CAMERA_NAME_MAX + 16];
        if (to_dir) {
            char name[SPLAT_CAMERA_NAME_MAX];
            splat_item_view_name(run->job->splat.orbit_frames > 0 ? NULL : &run->cameras, v, name,
                                 sizeof(name));
            snprintf(path, sizeof(path), "%s/%s.%s", out, name, a->format ? a->format : "png");
        } else {
            snprintf(path, sizeof(path), "%s", out);
        }
        st = render_view(run, v, path, (unsigned)a->single.repeat, figures);
    }
    return st;
}

/* Renders views of one scene. */
static int splat_render_cmd(int argc, char **argv)
{
    render_args *a = kiln_calloc(1, sizeof(*a));
    render_run run;
    kiln_status st, close_st;
    int parsed;

    if (!a) {
        fprintf(stderr, "kiln splat: out of host memory\n");
        return 2;
    }
    parsed = render_parse(argc, argv, a);
    if (parsed >= 0) {
        kiln_free(a);
        return parsed;
    }
    memset(&run, 0, sizeof(run));
    run.job = kiln_malloc(sizeof(*run.job));
    st = run.job ? splat_job(&a->single, run.job) : kiln_fail(KILN_E_HOSTMEM, "out of host memory");
    if (st == KILN_OK)
        st = render_open(&run, a->scene);
    if (st == KILN_OK)
        st = render_views(&run, a);
    close_st = render_close(&run);
    if (st == KILN_OK)
        st = close_st;
    kiln_free(run.job);
    kiln_free(a);
    if (st != KILN_OK) {
        fprintf(stderr, "kiln splat render: error: %s\n", kiln_last_error());
        return st == KILN_E_CONFIG || st == KILN_E_NODEV || st == KILN_E_INVAL ? 2 : 1;
    }
    return 0;
}

/* ---- train and eval ---- */

/* Trains a dataset, or scores a trained output (eval: no dataset, no -o). */
static int splat_train_cmd(int argc, char **argv, int eval)
{
    cli_single o;
    const char *target = NULL;
    int resume = 0;
    job_config *job;
    kiln_status st;

    cli_single_init(&o, NULL);
    for (int i = 0; i < argc; i++) {
        int taken;
        if (cli_is_help(argv[i]))
            return cli_help(&splat_command);
        taken = cli_single_option(&splat_command, argc, argv, &i, &o);
        if (taken < 0)
            return 2;
        if (taken)
            continue;
        if (!eval && strcmp(argv[i], "--resume") == 0)
            resume = 1;
        else if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cli_usage_error(&splat_command, "unknown option '%s'", argv[i]);
        else if (target)
            return cli_usage_error(&splat_command, "one %s ('%s' is a second)",
                                   eval ? "OUTDIR" : "DATASET", argv[i]);
        else
            target = argv[i];
    }
    if (!target)
        return cli_usage_error(&splat_command, "missing %s", eval ? "OUTDIR" : "DATASET");
    if (!eval && !o.out_path)
        return cli_usage_error(&splat_command, "missing -o OUTDIR");
    if (eval && o.out_path)
        return cli_usage_error(&splat_command, "eval writes no file (no -o)");
    job = kiln_malloc(sizeof(*job));
    if (!job) {
        fprintf(stderr, "kiln splat: out of host memory\n");
        return 2;
    }
    st = job_load(NULL, o.sets, o.nsets, job);
    if (st == KILN_OK && eval) {
        st = splat_train_eval(job, target, stdout);
    } else if (st == KILN_OK) {
        splat_train_run run = { job, target, o.out_path, resume, stderr };
        st = splat_train_dataset(&run);
    }
    kiln_free(job);
    if (st != KILN_OK) {
        fprintf(stderr, "kiln splat %s: error: %s\n", eval ? "eval" : "train", kiln_last_error());
        return st == KILN_E_CONFIG || st == KILN_E_NODEV || st == KILN_E_INVAL ? 2 : 1;
    }
    return 0;
}

/* `kiln splat info|render|train|eval ...`. */
int cli_splat(int argc, char **argv)
{
    if (argc < 1)
        return cli_usage_error(&splat_command, "missing info, render, train or eval");
    if (cli_is_help(argv[0]))
        return cli_help(&splat_command);
    if (strcmp(argv[0], "info") == 0)
        return splat_info(argc - 1, argv + 1);
    if (strcmp(argv[0], "render") == 0)
        return splat_render_cmd(argc - 1, argv + 1);
    if (strcmp(argv[0], "train") == 0)
        return splat_train_cmd(argc - 1, argv + 1, 0);
    if (strcmp(argv[0], "eval") == 0)
        return splat_train_cmd(argc - 1, argv + 1, 1);
    if (argv[0][0] == '-')
        return cli_usage_error(&splat_command, "unknown option '%s'", argv[0]);
    return cli_usage_error(&splat_command, "unknown subcommand '%s' (info, render, train or "
                           "eval)", argv[0]);
}
