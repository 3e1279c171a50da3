/* Densification of a resident splat scene (see splat_densify.h). */
#include <math.h>
#include <string.h>

#include "launch.h"
#include "splat_densify.h"
#include "splat_sort.h"
#include "status.h"

#define DENSIFY_SOURCE "splat_densify.cl"
#define DENSIFY_MAX_COUNT ((size_t)1 << 30)  /* growth sums stay within 32 bits */
#define DENSIFY_OPACITY_CEILING 0.01         /* reset_opacity's ceiling */

/* Zero-fills n floats of one buffer. */
static kiln_status floats_clear(kiln_device *dev, pool_buffer *b, size_t n, const char *what)
{
    cl_float zero = 0.0f;
    return dev_buffer_fill(dev, b->mem, &zero, sizeof(zero), 0, n * sizeof(float), what);
}

/* Acquires zeroed statistics. */
kiln_status splat_densify_stats_acquire(kiln_device *dev, size_t count,
                                        splat_densify_stats *stats)
{
    size_t n = count ? count : 1;
    kiln_status st;

    memset(stats, 0, sizeof(*stats));
    stats->count = count;
    st = pool_acquire(dev->pool, n * sizeof(float), "splat.densify.grad_accum",
                      &stats->grad_accum);
    if (st == KILN_OK)
        st = pool_acquire(dev->pool, n * sizeof(float), "splat.densify.denom", &stats->denom);
    if (st == KILN_OK)
        st = pool_acquire(dev->pool, n * sizeof(float), "splat.densify.max_radius",
                          &stats->max_radius);
    if (st == KILN_OK)
        st = floats_clear(dev, stats->grad_accum, n, "clearing densification statistics");
    if (st == KILN_OK)
        st = floats_clear(dev, stats->denom, n, "clearing densification statistics");
    if (st == KILN_OK)
        st = floats_clear(dev, stats->max_radius, n, "clearing densification statistics");
    if (st != KILN_OK)
        splat_densify_stats_release(dev, stats);
    return st;
}

/* Releases the statistics. */
void splat_densify_stats_release(kiln_device *dev, splat_densify_stats *stats)
{
    pool_release(dev->pool, stats->max_radius);
    pool_release(dev->pool, stats->denom);
    pool_release(dev->pool, stats->grad_accum);
    memset(stats, 0, sizeof(*stats));
}

/* The scratch of one densification: the plan, two uint arrays (growth,
 * then survivors, then offsets; survivors when not densified), the
 * scan's block sums, its total and the clone / split counters. */
typedef struct densify_scratch {
    pool_buffer *flags, *growth, *keep, *sums, *total, *counters;
} densify_scratch;

/* Releases the scratch buffers (NULL ones skipped). */
static void scratch_release(kiln_device *dev, densify_scratch *s)
{
    pool_release(dev->pool, s->counters);
    pool_release(dev->pool, s->total);
    pool_release(dev->pool, s->sums);
    pool_release(dev->pool, s->keep);
    pool_release(dev->pool, s->growth);
    pool_release(dev->pool, s->flags);
    memset(s, 0, sizeof(*s));
}

/* Acquires the scratch for n Gaussians; on error nothing stays. */
static kiln_status scratch_acquire(kiln_device *dev, const splat_sort_shape *shape, size_t n,
                                   densify_scratch *s)
{
    const char *tag = "splat.densify.scratch";
    cl_uint zero = 0;
    kiln_status st;

    memset(s, 0, sizeof(*s));
    st = pool_acquire(dev->pool, n * sizeof(cl_uint), tag, &s->flags);
    if (st == KILN_OK)
        st = pool_acquire(dev->pool, n * sizeof(cl_uint), tag, &s->growth);
    if (st == KILN_OK)
        st = pool_acquire(dev->pool, n * sizeof(cl_uint), tag, &s->keep);
    if (st == KILN_OK)
        st = pool_acquire(dev->pool, splat_scan_blocks(shape, n) * sizeof(cl_uint), tag,
                          &s->sums);
    if (st == KILN_OK)
        st = pool_acquire(dev->pool, sizeof(cl_uint), tag, &s->total);
    if (st == KILN_OK)
        st = pool_acquire(dev->pool, 2 * sizeof(cl_uint), tag, &s->counters);
    if (st == KILN_OK)
        st = dev_buffer_fill(dev, s->counters->mem, &zero, sizeof(zero), 0, 2 * sizeof(cl_uint),
                             "clearing densification counters");
    if (st != KILN_OK)
        scratch_release(dev, s);
    return st;
}

/* Scans n uints of `b` in place and reads its total back (waits). */
static kiln_status scan_total(kiln_device *dev, const splat_sort_shape *shape,
                              const densify_scratch *s, pool_buffer *b, size_t n, cl_uint *total)
{
    kiln_status st = splat_scan(dev, shape, b->mem, b->mem, (uint32_t)n, s->sums->mem,
                                s->total->mem);
    if (st == KILN_OK)
        st = dev_buffer_read(dev, s->total->mem, 0, sizeof(*total), total,
                             "reading a densification count");
    return st;
}

/* Checks the shapes and options of a densification. */
static kiln_status densify_check(const splat_scene_dev *scene, const splat_adam *adam,
                                 const splat_densify_stats *stats,
                                 const splat_densify_options *opt)
{
    size_t n = scene->count;

    if (scene->sh_half)
        return kiln_fail(KILN_E_INVAL, "splat densification keeps SH in fp32");
    if (adam->m.count != n || adam->v.count != n || adam->m.sh_coeffs != scene->sh_coeffs ||
        adam->v.sh_coeffs != scene->sh_coeffs || stats->count != n)
        return kiln_fail(KILN_E_INVAL, "splat densification: moments or statistics of another "
                         "shape than the scene's %zu Gaussians", n);
    if (n == 0 || n >= DENSIFY_MAX_COUNT)
        return kiln_fail(KILN_E_INVAL, "splat densification: %zu Gaussians (1 to %zu)", n,
                         DENSIFY_MAX_COUNT - 1);
    if (opt->max_gaussians < n)
        return kiln_fail(KILN_E_INVAL, "splat densification: the scene's %zu Gaussians are over "
                         "the cap of %llu", n, (unsigned long long)opt->max_gaussians);
    if (!(opt->scene_extent > 0.0f) || !(opt->percent_dense > 0.0f) ||
        !(opt->min_opacity > 0.0f && opt->min_opacity < 1.0f) || !(opt->max_screen_size >= 0.0f) ||
        !isfinite(opt->grad_threshold))
        return kiln_fail(KILN_E_INVAL, "splat densification: extent and percent_dense must be > "
                         "0, min_opacity in (0, 1), max_screen_size >= 0, a finite threshold");
    return KILN_OK;
}

/* Enqueues the plan: densify_mark over the scene. */
static kiln_status plan_mark(kiln_device *dev, const splat_scene_dev *scene,
                             const splat_densify_stats *stats, const splat_densify_options *opt,
                             const densify_scratch *s)
{
    cl_uint n = (cl_uint)scene->count;
    cl_float thr = opt->grad_threshold;
    cl_float log_dense = (cl_float)log((double)opt->percent_dense * opt->scene_extent);
    cl_float logit_min = (cl_float)log((double)opt->min_opacity / (1.0 - opt->min_opacity));
    cl_float max_screen = opt->max_screen_size;
    cl_float log_big = (cl_float)log(0.1 * opt->scene_extent);
    cl_int screen = opt->max_screen_size > 0.0f;
    cl_float log_split = (cl_float)log(0.8 * 2.0);
    size_t global = n;
    const dev_kernel_arg args[] = {
        DEV_ARG(stats->grad_accum->mem), DEV_ARG(stats->denom->mem),
        DEV_ARG(stats->max_radius->mem), DEV_ARG(scene->scales->mem),
        DEV_ARG(scene->opacity->mem), DEV_ARG(n), DEV_ARG(thr), DEV_ARG(log_dense),
        DEV_ARG(logit_min), DEV_ARG(max_screen), DEV_ARG(log_big), DEV_ARG(screen),
        DEV_ARG(log_split), DEV_ARG(s->flags->mem), DEV_ARG(s->growth->mem),
        DEV_ARG(s->keep->mem)
    };
    return dev_kernel_launch_default(dev, DENSIFY_SOURCE, "densify_mark", args, DEV_NARGS(args),
                                     1, &global);
}

/* Plans the densification: marks, sums, grants under the cap and turns
 * s->growth into the survivors' offsets.  Fills result (waits). */
static kiln_status plan_make(kiln_device *dev, const splat_sort_shape *shape,
                             const splat_scene_dev *scene, const splat_densify_stats *stats,
                             const splat_densify_options *opt, const densify_scratch *s,
                             splat_densify_result *result)
{
    size_t n = scene->count, global = n;
    cl_uint base = 0, growth = 0, after = 0, counts[2] = { 0, 0 };
    cl_uint count = (cl_uint)n, room;
    kiln_status st = plan_mark(dev, scene, stats, opt, s);

    if (st == KILN_OK)
        st = scan_total(dev, shape, s, s->keep, n, &base);
    if (st == KILN_OK)
        st = scan_total(dev, shape, s, s->growth, n, &growth);
    if (st != KILN_OK)
        return st;
    /* base <= n <= max_gaussians; growth <= 2n < 2^31 */
    room = opt->max_gaussians - base > growth ? growth : (cl_uint)(opt->max_gaussians - base);
    {
        const dev_kernel_arg args[] = { DEV_ARG(s->flags->mem), DEV_ARG(s->growth->mem),
                                        DEV_ARG(count), DEV_ARG(room),
                                        DEV_ARG(s->counters->mem) };
        st = dev_kernel_launch_default(dev, DENSIFY_SOURCE, "densify_grant", args,
                                       DEV_NARGS(args), 1, &global);
    }
    if (st == KILN_OK)
        st = scan_total(dev, shape, s, s->growth, n, &after);
    if (st == KILN_OK)
        st = dev_buffer_read(dev, s->counters->mem, 0, sizeof(counts), counts,
                             "reading densification counters");
    if (st != KILN_OK)
        return st;
    result->before = n;
    result->cloned = counts[0];
    result->split = counts[1];
    result->after = after;
    result->pruned = n + counts[0] + counts[1] - after;
    result->capped = growth > room;
    if (after == 0)
        return kiln_fail(KILN_E_INVAL, "splat densification would prune all %zu Gaussians", n);
    return KILN_OK;
}

/* Enqueues the compaction of one array of `width` floats a Gaussian. */
static kiln_status array_compact(kiln_device *dev, const densify_scratch *s, size_t n,
                                 cl_mem src, cl_mem dst, cl_uint width, cl_int zero_new)
{
    cl_uint count = (cl_uint)n;
    size_t global = n;
    const dev_kernel_arg args[] = { DEV_ARG(src), DEV_ARG(dst), DEV_ARG(width),
                                    DEV_ARG(s->flags->mem), DEV_ARG(s->growth->mem),
                                    DEV_ARG(count), DEV_ARG(zero_new) };
    return dev_kernel_launch_default(dev, DENSIFY_SOURCE, "densify_copy", args, DEV_NARGS(args),
                                     1, &global);
}

/* Enqueues the compaction of the five groups of a parameter set laid out
 * as splat_grads (the scene's arrays or a moment). */
static kiln_status grads_compact(kiln_device *dev, const densify_scratch *s, size_t n,
                                 const splat_grads *src, const splat_grads *dst, cl_int zero_new)
{
    kiln_status st = array_compact(dev, s, n, src->means->mem, dst->means->mem, 3, zero_new);
    if (st == KILN_OK)
        st = array_compact(dev, s, n, src->scales->mem, dst->scales->mem, 3, zero_new);
    if (st == KILN_OK)
        st = array_compact(dev, s, n, src->rotations->mem, dst->rotations->mem, 4, zero_new);
    if (st == KILN_OK)
        st = array_compact(dev, s, n, src->opacity->mem, dst->opacity->mem, 1, zero_new);
    if (st == KILN_OK)
        st = array_compact(dev, s, n, src->sh->mem, dst->sh->mem, src->sh_coeffs * 3, zero_new);
    return st;
}

/* Acquires the new scene arrays of `count` Gaussians (the scene's tags),
 * as a splat_grads; on error nothing stays. */
static kiln_status params_acquire(kiln_device *dev, size_t count, uint32_t sh_coeffs,
                                  splat_grads *p)
{
    kiln_status st;

    memset(p, 0, sizeof(*p));
    p->count = count;
    p->sh_coeffs = sh_coeffs;
    st = pool_acquire(dev->pool, count * 3 * sizeof(float), "splat.means", &p->means);
    if (st == KILN_OK)
        st = pool_acquire(dev->pool, count * 3 * sizeof(float), "splat.scales", &p->scales);
    if (st == KILN_OK)
        st = pool_acquire(dev->pool, count * 4 * sizeof(float), "splat.rotations",
                          &p->rotations);
    if (st == KILN_OK)
        st = pool_acquire(dev->pool, count * sizeof(float), "splat.opacity", &p->opacity);
    if (st == KILN_OK)
        st = pool_acquire(dev->pool, count * sh_coeffs * 3 * sizeof(float), "splat.sh", &p->sh);
    if (st != KILN_OK)
        splat_grads_release(dev, p);
    return st;
}

/* Enqueues the children's means and scales of the granted splits. */
static kiln_status split_write(kiln_device *dev, const splat_scene_dev *scene,
                               const densify_scratch *s, const splat_grads *out,
                               const splat_densify_options *opt)
{
    cl_uint n = (cl_uint)scene->count;
    cl_ulong seed = opt->seed, iteration = opt->iteration;
    cl_float log_split = (cl_float)log(0.8 * 2.0);
    size_t global = n;
    const dev_kernel_arg args[] = {
        DEV_ARG(scene->means->mem), DEV_ARG(scene->scales->mem), DEV_ARG(scene->rotations->mem),
        DEV_ARG(out->means->mem), DEV_ARG(out->scales->mem), DEV_ARG(s->flags->mem),
        DEV_ARG(s->growth->mem), DEV_ARG(n), DEV_ARG(seed), DEV_ARG(iteration),
        DEV_ARG(log_split)
    };
    return dev_kernel_launch_default(dev, DENSIFY_SOURCE, "densify_split", args,
                                     DEV_NARGS(args), 1, &global);
}

/* Densifies, prunes and compacts (see splat_densify.h). */
kiln_status splat_densify(kiln_device *dev, splat_scene_dev *scene, splat_adam *adam,
                          splat_densify_stats *stats, const splat_densify_options *opt,
                          splat_densify_result *result)
{
    splat_sort_shape shape;
    densify_scratch scratch;
    splat_grads params = { 0 }, m = { 0 }, v = { 0 }, old = { 0 };
    splat_densify_stats fresh = { 0 };
    splat_densify_result res = { 0 };
    kiln_status st;

    st = densify_check(scene, adam, stats, opt);
    if (st == KILN_OK)
        st = splat_sort_shape_get(dev, &shape);
    if (st != KILN_OK)
        return st;
    st = scratch_acquire(dev, &shape, scene->count, &scratch);
    if (st != KILN_OK)
        return st;
    st = plan_make(dev, &shape, scene, stats, opt, &scratch, &res);
    if (st != KILN_OK)
        goto release_scratch;
    st = params_acquire(dev, res.after, scene->sh_coeffs, &params);
    if (st != KILN_OK)
        goto release_scratch;
    st = splat_grads_acquire(dev, res.after, scene->sh_coeffs, &m);
    if (st != KILN_OK)
        goto release_params;
    st = splat_grads_acquire(dev, res.after, scene->sh_coeffs, &v);
    if (st != KILN_OK)
        goto release_m;
    st = splat_densify_stats_acquire(dev, res.after, &fresh);
    if (st != KILN_OK)
        goto release_v;
    old.means = scene->means;
    old.scales = scene->scales;
    old.rotations = scene->rotations;
    old.opacity = scene->opacity;
    old.sh = scene->sh;
    old.count = scene->count;
    old.sh_coeffs = scene->sh_coeffs;
    st = grads_compact(dev, &scratch, scene->count, &old, &params, 0);
    if (st == KILN_OK)
        st = split_write(dev, scene, &scratch, &params, opt);
    if (st == KILN_OK)
        st = grads_compact(dev, &scratch, scene->count, &adam->m, &m, 1);
    if (st == KILN_OK)
        st = grads_compact(dev, &scratch, scene->count, &adam->v, &v, 1);
    if (st != KILN_OK)
        goto release_fresh;
    /* everything is in hand: swap the new buffers in, the old ones out */
    scene->means = params.means;
    scene->scales = params.scales;
    scene->rotations = params.rotations;
    scene->opacity = params.opacity;
    scene->sh = params.sh;
    scene->count = res.after;
    params = old;
    splat_grads_release(dev, &adam->m);
    splat_grads_release(dev, &adam->v);
    adam->m = m;
    adam->v = v;
    memset(&m, 0, sizeof(m));
    memset(&v, 0, sizeof(v));
    splat_densify_stats_release(dev, stats);
    *stats = fresh;
    memset(&fresh, 0, sizeof(fresh));
    if (result)
        *result = res;
    /* on success these release the old parameters and nothing else */
release_fresh:
    splat_densify_stats_release(dev, &fresh);
release_v:
    splat_grads_release(dev, &v);
release_m:
    splat_grads_release(dev, &m);
release_params:
    splat_grads_release(dev, &params);
release_scratch:
    scratch_release(dev, &scratch);
    return st;
}

/* Clamps the opacity logits and zeroes their moments. */
kiln_status splat_opacity_reset(kiln_device *dev, splat_scene_dev *scene, splat_adam *adam)
{
    cl_uint n = (cl_uint)scene->count;
    cl_float ceiling = (cl_float)log(DENSIFY_OPACITY_CEILING / (1.0 - DENSIFY_OPACITY_CEILING));
    size_t global = n;
    kiln_status st;

    if (adam->m.count != scene->count || adam->v.count != scene->count || !adam->m.opacity ||
        !adam->v.opacity)
        return kiln_fail(KILN_E_INVAL, "splat opacity reset: moments of another count than the "
                         "scene's %zu Gaussians", scene->count);
    {
        const dev_kernel_arg args[] = { DEV_ARG(scene->opacity->mem), DEV_ARG(n),
                                        DEV_ARG(ceiling) };
        st = dev_kernel_launch_default(dev, DENSIFY_SOURCE, "splat_opacity_clamp", args,
                                       DEV_NARGS(args), 1, &global);
    }
    if (st == KILN_OK)
        st = floats_clear(dev, adam->m.opacity, scene->count, "clearing opacity moments");
    if (st == KILN_OK)
        st = floats_clear(dev, adam->v.opacity, scene->count, "clearing opacity moments");
    return st;
}
