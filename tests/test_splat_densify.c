/* Splat densification (engine/splat/splat_densify.c) against a host
 * reference of the same rules in plain C: a seeded scene with hand-set
 * statistics and Adam moments; counts and every parameter and moment of
 * the result compared exactly (split children's means within 1e-6, from
 * the same hash computed here); the cap; prune-only and clone-only
 * cases; the opacity reset; a failed pool creation at every point of a
 * densification (KILN_E_NOMEM, the scene as it was, the same live
 * buffers); the ledger empty at the end. */
#include <math.h>

#include "pool.h"
#include "splat_densify.h"
#include "splat_synth.h"
#include "testutil.h"

#define GROUPS 5        /* means, scales, rotations, opacity, sh */
#define MEANS_TOL 1e-6

/* A host copy of a scene's parameters or of one Adam moment, group by
 * group, with `count` Gaussians. */
typedef struct host_set {
    float *g[GROUPS];
    size_t count;
} host_set;

/* Everything densification reads and writes, on the host. */
typedef struct host_state {
    host_set p, m, v;
    float *accum, *denom, *radius;
    size_t count;
    uint32_t sh_coeffs;
} host_state;

static const char *const group_names[GROUPS] = { "means", "scales", "rotations", "opacity",
                                                 "sh" };

/* Floats a Gaussian holds in group k. */
static size_t group_width(int k, uint32_t sh_coeffs)
{
    static const size_t widths[GROUPS - 1] = { 3, 3, 4, 1 };
    return k < GROUPS - 1 ? widths[k] : (size_t)sh_coeffs * 3;
}

/* Allocates a set of n Gaussians (zeroed). */
static void set_alloc(host_set *s, size_t n, uint32_t sh_coeffs)
{
    s->count = n;
    for (int k = 0; k < GROUPS; k++)
        s->g[k] = calloc(n ? n * group_width(k, sh_coeffs) : 1, sizeof(float));
}

/* Frees a set. */
static void set_free(host_set *s)
{
    for (int k = 0; k < GROUPS; k++)
        free(s->g[k]);
    memset(s, 0, sizeof(*s));
}

/* splitmix64's finaliser (as cl/splat_densify.cl). */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* The documented normal of (seed, iteration, Gaussian, child, component),
 * in double. */
static double hash_normal(uint64_t seed, uint64_t iteration, size_t i, unsigned c, unsigned k)
{
    double u[2];
    for (unsigned d = 0; d < 2; d++) {
        uint64_t h = mix64(mix64(mix64(seed ^ 0x9e3779b97f4a7c15ULL) ^ iteration) ^
                           ((uint64_t)i * 256 + c * 16 + k * 2 + d));
        u[d] = ((float)(h >> 41) + 0.5f) * 0x1p-23f;
    }
    return sqrt(-2.0 * log(u[0])) * cos(6.283185307179586 * u[1]);
}

/* Copies Gaussian i of every group of `src` to Gaussian o of `dst`, as
 * zeros when `zero`. */
static void set_copy(const host_set *src, size_t i, host_set *dst, size_t o, uint32_t coeffs,
                     int zero)
{
    for (int k = 0; k < GROUPS; k++) {
        size_t w = group_width(k, coeffs);
        for (size_t e = 0; e < w; e++)
            dst->g[k][o * w + e] = zero ? 0.0f : src->g[k][i * w + e];
    }
}

/* Writes child c of Gaussian i (already copied to o) its mean and scales. */
static void child_place(const host_set *src, size_t i, host_set *dst, size_t o, unsigned c,
                        const splat_densify_options *opt, float log_split)
{
    const float *q = src->g[2] + i * 4, *sc = src->g[1] + i * 3, *mu = src->g[0] + i * 3;
    double nq = sqrt((double)q[0] * q[0] + (double)q[1] * q[1] + (double)q[2] * q[2] +
                     (double)q[3] * q[3]);
    double w = q[0] / nq, x = q[1] / nq, y = q[2] / nq, z = q[3] / nq;
    double r[3][3] = { { 1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y) },
                       { 2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x) },
                       { 2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y) } };
    double p[3];
    for (unsigned k = 0; k < 3; k++)
        p[k] = exp((double)sc[k]) * hash_normal(opt->seed, opt->iteration, i, c, k);
    for (unsigned a = 0; a < 3; a++) {
        dst->g[0][o * 3 + a] = (float)(mu[a] + r[a][0] * p[0] + r[a][1] * p[1] + r[a][2] * p[2]);
        dst->g[1][o * 3 + a] = sc[a] - log_split;
    }
}

/* The host densification of `in` into `out` (allocated here), by the
 * rules of splat_densify.h. */
static void host_densify(const host_state *in, const splat_densify_options *opt, host_state *out,
                         splat_densify_result *res)
{
    size_t n = in->count, base = 0, growth_total = 0, pre = 0, o = 0;
    float log_dense = (float)log((double)opt->percent_dense * opt->scene_extent);
    float logit_min = (float)log((double)opt->min_opacity / (1.0 - opt->min_opacity));
    float log_big = (float)log(0.1 * opt->scene_extent);
    float log_split = (float)log(0.8 * 2.0);
    int screen = opt->max_screen_size > 0.0f;
    int *keep = calloc(n, sizeof(int)), *kind = calloc(n, sizeof(int));
    int *new_keep = calloc(n, sizeof(int)), *granted = calloc(n, sizeof(int));
    size_t *growth = calloc(n, sizeof(size_t)), room;

    memset(res, 0, sizeof(*res));
    for (size_t i = 0; i < n; i++) {
        float d = in->denom[i], grad = d > 0.0f ? in->accum[i] / d : 0.0f;
        const float *s = in->p.g[1] + i * 3;
        float size = fmaxf(fmaxf(s[0], s[1]), s[2]);
        int faint = in->p.g[3][i] < logit_min;
        int big = screen && size > log_big;
        keep[i] = !(faint || (screen && in->radius[i] > opt->max_screen_size) || big);
        if (grad >= opt->grad_threshold) {
            kind[i] = size <= log_dense ? 1 : 2;
            new_keep[i] = kind[i] == 1 ? !(faint || big)
                                      : !(faint || (screen && size - log_split > log_big));
            size_t grown = (kind[i] == 1 && keep[i]) + (new_keep[i] ? (size_t)kind[i] : 0);
            growth[i] = grown - (size_t)keep[i];
        }
        base += (size_t)keep[i];
        growth_total += growth[i];
    }
    room = opt->max_gaussians - base < growth_total ? opt->max_gaussians - base : growth_total;
    res->capped = growth_total > room;
    for (size_t i = 0; i < n; i++) {
        if (kind[i] && pre + growth[i] <= room) {
            granted[i] = 1;
            res->cloned += (size_t)(kind[i] == 1);
            res->split += (size_t)(kind[i] == 2);
        }
        pre += growth[i];
    }
    set_alloc(&out->p, n * 3, in->sh_coeffs);
    set_alloc(&out->m, n * 3, in->sh_coeffs);
    set_alloc(&out->v, n * 3, in->sh_coeffs);
    for (size_t i = 0; i < n; i++) {
        int orig = granted[i] ? kind[i] == 1 && keep[i] : keep[i];
        int made = granted[i] && new_keep[i] ? kind[i] : 0;
        if (orig) {
            set_copy(&in->p, i, &out->p, o, in->sh_coeffs, 0);
            set_copy(&in->m, i, &out->m, o, in->sh_coeffs, 0);
            set_copy(&in->v, i, &out->v, o, in->sh_coeffs, 0);
            o++;
        }
        for (int c = 0; c < made; c++, o++) {
            set_copy(&in->p, i, &out->p, o, in->sh_coeffs, 0);
            set_copy(&in->m, i, &out->m, o, in->sh_coeffs, 1);
            set_copy(&in->v, i, &out->v, o, in->sh_coeffs, 1);
            if (kind[i] == 2)
                child_place(&in->p, i, &out->p, o, (unsigned)c, opt, log_split);
        }
    }
    out->count = out->p.count = out->m.count = out->v.count = o;
    out->sh_coeffs = in->sh_coeffs;
    res->before = n;
    res->after = o;
    res->pruned = n + res->cloned + res->split - o;
    free(keep);
    free(kind);
    free(new_keep);
    free(granted);
    free(growth);
}

/* The device side of one case. */
typedef struct dev_state {
    splat_scene_dev *scene;
    splat_adam adam;
    splat_densify_stats stats;
} dev_state;

/* Pool buffers of a scene's groups, in group order. */
static void scene_groups(const splat_scene_dev *s, pool_buffer **b)
{
    b[0] = s->means;
    b[1] = s->scales;
    b[2] = s->rotations;
    b[3] = s->opacity;
    b[4] = s->sh;
}

/* Pool buffers of a moment's groups. */
static void grads_groups(const splat_grads *g, pool_buffer **b)
{
    b[0] = g->means;
    b[1] = g->scales;
    b[2] = g->rotations;
    b[3] = g->opacity;
    b[4] = g->sh;
}

/* Writes a host set into device group buffers. */
static void set_upload(kiln_device *dev, const host_set *s, pool_buffer *const *b, uint32_t c)
{
    for (int k = 0; k < GROUPS; k++)
        CHECK_OK(dev_buffer_write(dev, b[k]->mem, 0, s->count * group_width(k, c) * sizeof(float),
                                  s->g[k], "test upload"));
}

/* Reads device group buffers into a new host set of n Gaussians. */
static void set_download(kiln_device *dev, pool_buffer *const *b, size_t n, uint32_t c,
                         host_set *s)
{
    set_alloc(s, n, c);
    for (int k = 0; k < GROUPS; k++)
        CHECK_OK(dev_buffer_read(dev, b[k]->mem, 0, n * group_width(k, c) * sizeof(float),
                                 s->g[k], "test download"));
}

/* Uploads a host state: the scene (from `scene`, whose arrays the host
 * state's p shares), moments and statistics. */
static int state_upload(kiln_device *dev, const splat_scene *scene, const host_state *h,
                        dev_state *d)
{
    pool_buffer *b[GROUPS];

    memset(d, 0, sizeof(*d));
    CHECK_OK(splat_scene_dev_upload(dev, scene, 0, &d->scene));
    CHECK_OK(splat_adam_init(dev, h->count, h->sh_coeffs, &d->adam));
    CHECK_OK(splat_densify_stats_acquire(dev, h->count, &d->stats));
    if (!d->scene || !d->adam.v.sh || !d->stats.max_radius)
        return -1;
    grads_groups(&d->adam.m, b);
    set_upload(dev, &h->m, b, h->sh_coeffs);
    grads_groups(&d->adam.v, b);
    set_upload(dev, &h->v, b, h->sh_coeffs);
    CHECK_OK(dev_buffer_write(dev, d->stats.grad_accum->mem, 0, h->count * sizeof(float),
                              h->accum, "test stats"));
    CHECK_OK(dev_buffer_write(dev, d->stats.denom->mem, 0, h->count * sizeof(float), h->denom,
                              "test stats"));
    CHECK_OK(dev_buffer_write(dev, d->stats.max_radius->mem, 0, h->count * sizeof(float),
                              h->radius, "test stats"));
    return 0;
}

/* Releases a device state. */
static void state_release(kiln_device *dev, dev_state *d)
{
    splat_densify_stats_release(dev, &d->stats);
    splat_adam_free(dev, &d->adam);
    splat_scene_dev_free(d->scene);
    memset(d, 0, sizeof(*d));
}

/* Compares one device set with the host's: every value exactly, except
 * split children's means (group 0 when `means_tol`) within MEANS_TOL.
 * Returns the largest means difference. */
static double set_compare(const char *what, const host_set *want, const host_set *got,
                          uint32_t c, int means_tol)
{
    double worst = 0.0;
    for (int k = 0; k < GROUPS; k++) {
        size_t n = want->count * group_width(k, c), bad = 0;
        for (size_t e = 0; e < n; e++) {
            double diff = fabs((double)want->g[k][e] - got->g[k][e]);
            if (k == 0 && means_tol) {
                worst = fmax(worst, diff);
                bad += !(diff <= MEANS_TOL);
            } else {
                bad += memcmp(&want->g[k][e], &got->g[k][e], sizeof(float)) != 0;
            }
        }
        if (bad)
            fprintf(stderr, "%s %s: %zu of %zu values differ\n", what, group_names[k], bad, n);
        CHECK(bad == 0);
    }
    return worst;
}

/* Checks a device state after densification against the host
 * reference's. */
static void state_compare(kiln_device *dev, const char *name, const dev_state *d,
                          const host_state *want, const splat_densify_result *got_res,
                          const splat_densify_result *want_res)
{
    pool_buffer *b[GROUPS];
    host_set got;
    double worst;
    float *zeros;

    CHECK(got_res->before == want_res->before && got_res->cloned == want_res->cloned &&
          got_res->split == want_res->split && got_res->pruned == want_res->pruned &&
          got_res->after == want_res->after && got_res->capped == want_res->capped);
    CHECK(d->scene->count == want->count && d->adam.m.count == want->count &&
          d->adam.v.count == want->count && d->stats.count == want->count);
    printf("%-12s: %zu -> %zu (cloned %zu, split %zu, pruned %zu, capped %d); host %zu -> %zu "
           "(%zu, %zu, %zu, %d)\n", name, got_res->before, got_res->after, got_res->cloned,
           got_res->split, got_res->pruned, got_res->capped, want_res->before, want_res->after,
           want_res->cloned, want_res->split, want_res->pruned, want_res->capped);
    if (d->scene->count != want->count)
        return;
    scene_groups(d->scene, b);
    set_download(dev, b, want->count, want->sh_coeffs, &got);
    worst = set_compare("params", &want->p, &got, want->sh_coeffs, 1);
    set_free(&got);
    grads_groups(&d->adam.m, b);
    set_download(dev, b, want->count, want->sh_coeffs, &got);
    set_compare("adam m", &want->m, &got, want->sh_coeffs, 0);
    set_free(&got);
    grads_groups(&d->adam.v, b);
    set_download(dev, b, want->count, want->sh_coeffs, &got);
    set_compare("adam v", &want->v, &got, want->sh_coeffs, 0);
    set_free(&got);
    printf("%-12s: every value equal, means within %.2g\n", name, worst);
    /* the statistics are zeroed at the new count */
    zeros = test_xmalloc(want->count * 3, sizeof(float));
    CHECK_OK(dev_buffer_read(dev, d->stats.grad_accum->mem, 0, want->count * sizeof(float), zeros,
                             "stats"));
    CHECK_OK(dev_buffer_read(dev, d->stats.denom->mem, 0, want->count * sizeof(float),
                             zeros + want->count, "stats"));
    CHECK_OK(dev_buffer_read(dev, d->stats.max_radius->mem, 0, want->count * sizeof(float),
                             zeros + 2 * want->count, "stats"));
    {
        size_t nonzero = 0;
        for (size_t e = 0; e < want->count * 3; e++)
            nonzero += zeros[e] != 0.0f;
        CHECK(nonzero == 0);
    }
    free(zeros);
}

/* Runs one case: uploads, densifies on both sides, compares.  Returns
 * the device result. */
static splat_densify_result case_run(kiln_device *dev, const char *name, const splat_scene *scene,
                                     const host_state *h, const splat_densify_options *opt)
{
    dev_state d;
    host_state want = { 0 };
    splat_densify_result got = { 0 }, expect;

    host_densify(h, opt, &want, &expect);
    if (state_upload(dev, scene, h, &d) == 0) {
        CHECK_OK(splat_densify(dev, d.scene, &d.adam, &d.stats, opt, &got));
        state_compare(dev, name, &d, &want, &got, &expect);
    }
    state_release(dev, &d);
    set_free(&want.p);
    set_free(&want.m);
    set_free(&want.v);
    return got;
}

/* The opacity reset against min(o, logit(0.01)) and zeroed opacity
 * moments (the other moments untouched). */
static void case_opacity_reset(kiln_device *dev, const splat_scene *scene, const host_state *h)
{
    dev_state d;
    float ceiling = (float)log(0.01 / 0.99);

    if (state_upload(dev, scene, h, &d) == 0) {
        pool_buffer *b[GROUPS];
        host_set got, want_p = h->p, want_m = h->m;
        float *lowered = test_xmalloc(h->count, sizeof(float));
        size_t bad = 0, raised = 0;
        float *zeros = calloc(h->count, sizeof(float));

        CHECK_OK(splat_opacity_reset(dev, d.scene, &d.adam));
        scene_groups(d.scene, b);
        set_download(dev, b, h->count, h->sh_coeffs, &got);
        for (size_t i = 0; i < h->count; i++) {
            float o = h->p.g[3][i], want = o > ceiling ? ceiling : o;
            bad += memcmp(&want, &got.g[3][i], sizeof(float)) != 0;
            raised += o > ceiling;
            lowered[i] = want;
        }
        want_p.g[3] = lowered;
        CHECK(bad == 0);
        CHECK(raised > 0);
        set_compare("reset params", &want_p, &got, h->sh_coeffs, 0);
        free(lowered);
        set_free(&got);
        want_m.g[3] = zeros;
        grads_groups(&d.adam.m, b);
        set_download(dev, b, h->count, h->sh_coeffs, &got);
        set_compare("reset m", &want_m, &got, h->sh_coeffs, 0);
        set_free(&got);
        grads_groups(&d.adam.v, b);
        set_download(dev, b, h->count, h->sh_coeffs, &got);
        want_m = h->v;
        want_m.g[3] = zeros;
        set_compare("reset v", &want_m, &got, h->sh_coeffs, 0);
        set_free(&got);
        printf("opacity reset: %zu of %zu opacities lowered to logit(0.01), moments zeroed\n",
               raised, h->count);
        free(zeros);
    }
    state_release(dev, &d);
}

/* A failed pool creation at each point of a densification: KILN_E_NOMEM,
 * the scene, moments and statistics as they were, the same live buffers;
 * then a densification without faults matches the host. */
static void case_fault(kiln_device *dev, const splat_scene *scene, const host_state *h,
                       const splat_densify_options *opt)
{
    dev_state d;
    int failures = 0, done = 0;

    if (state_upload(dev, scene, h, &d) != 0) {
        state_release(dev, &d);
        return;
    }
    for (uint64_t nth = 1; nth <= 64 && !done; nth++) {
        pool_ledger before, after;
        splat_densify_result res = { 0 };
        pool_buffer *b[GROUPS], *b_after[GROUPS];
        kiln_status st;

        pool_ledger_get(dev->pool, &before);
        scene_groups(d.scene, b);
        pool_fail_nth_creation(dev->pool, nth);
        st = splat_densify(dev, d.scene, &d.adam, &d.stats, opt, &res);
        pool_fail_nth_creation(dev->pool, 0);
        if (st == KILN_OK) {
            done = 1;
            break;
        }
        failures++;
        CHECK_STATUS(st, KILN_E_NOMEM);
        pool_ledger_get(dev->pool, &after);
        CHECK(after.live_objects == before.live_objects &&
              after.live_bytes == before.live_bytes);
        scene_groups(d.scene, b_after);
        CHECK(memcmp(b, b_after, sizeof(b)) == 0);
        CHECK(d.scene->count == h->count && d.adam.m.count == h->count &&
              d.stats.count == h->count);
        {
            host_set got;
            set_download(dev, b_after, h->count, h->sh_coeffs, &got);
            set_compare("fault params", &h->p, &got, h->sh_coeffs, 0);
            set_free(&got);
        }
    }
    printf("fault: %d injected creation failures, each KILN_E_NOMEM with the scene unchanged\n",
           failures);
    CHECK(failures >= 3);
    CHECK(done);
    state_release(dev, &d);
    if (done) {
        /* the state the faults left is the original one: the result matches */
        case_run(dev, "after faults", scene, h, opt);
    }
}

int main(void)
{
    kiln_device *dev = test_device_open(0);
    splat_synth_options so = { 96, 11, 1, 1 };
    splat_scene scene;
    host_state h = { 0 };
    splat_densify_options opt = { 2e-4f, 0.01f, 0.005f, 1.0f, 20.0f, 1u << 20, 1234, 500 };
    splat_densify_result r;

    CHECK(splat_synth_scene(&so, &scene) == 0);
    h.count = scene.count;
    h.sh_coeffs = scene.sh_coeffs;
    /* hand-set cases: faint, huge in the world, non-unit quaternions */
    for (size_t i = 0; i < scene.count; i += 13)
        scene.opacity[i] = -7.0f;
    for (size_t i = 5; i < scene.count; i += 17)
        scene.scales[i * 3 + 1] = logf(0.15f);
    for (size_t i = 2; i < scene.count; i += 7)
        for (int k = 0; k < 4; k++)
            scene.rotations[i * 4 + k] *= 2.5f;
    h.p.g[0] = scene.means;
    h.p.g[1] = scene.scales;
    h.p.g[2] = scene.rotations;
    h.p.g[3] = scene.opacity;
    h.p.g[4] = scene.sh;
    h.p.count = scene.count;
    set_alloc(&h.m, scene.count, scene.sh_coeffs);
    set_alloc(&h.v, scene.count, scene.sh_coeffs);
    h.accum = test_xmalloc(scene.count, sizeof(float));
    h.denom = test_xmalloc(scene.count, sizeof(float));
    h.radius = test_xmalloc(scene.count, sizeof(float));
    test_rng_seed(29);
    for (int k = 0; k < GROUPS; k++)
        for (size_t e = 0; e < scene.count * group_width(k, scene.sh_coeffs); e++) {
            h.m.g[k][e] = 2.0f * test_rng_unit() - 1.0f;
            h.v.g[k][e] = test_rng_unit();
        }
    for (size_t i = 0; i < scene.count; i++) {
        /* gradients far from the threshold: 0.2 or 5 times it, or unseen */
        float views = (float)(test_rng_next() % 5);
        float grad = (test_rng_next() & 1) ? 5.0f * opt.grad_threshold
                                           : 0.2f * opt.grad_threshold;
        h.denom[i] = views;
        h.accum[i] = views * grad * (0.9f + 0.2f * test_rng_unit());
        h.radius[i] = 40.0f * test_rng_unit();
    }

    if (dev && scene.count) {
        /* everything: clones, splits, every prune */
        r = case_run(dev, "full", &scene, &h, &opt);
        CHECK(r.cloned > 0 && r.split > 0 && r.pruned > 0 && !r.capped);
        /* no screen-size prune (before the first opacity reset) */
        opt.max_screen_size = 0.0f;
        r = case_run(dev, "no screen", &scene, &h, &opt);
        CHECK(r.cloned > 0 && r.split > 0 && r.pruned > 0);
        /* prune only */
        opt.grad_threshold = 1e30f;
        opt.max_screen_size = 20.0f;
        r = case_run(dev, "prune only", &scene, &h, &opt);
        CHECK(r.cloned == 0 && r.split == 0 && r.pruned > 0 && r.after == r.before - r.pruned);
        /* clone only: every candidate small against a large extent */
        opt.grad_threshold = 2e-4f;
        opt.max_screen_size = 0.0f;
        opt.scene_extent = 100.0f;
        r = case_run(dev, "clone only", &scene, &h, &opt);
        CHECK(r.cloned > 0 && r.split == 0 && r.after == r.before + r.cloned - r.pruned);
        /* the cap, clones only: exactly the cap */
        opt.max_gaussians = r.before - r.pruned + r.cloned / 2;
        r = case_run(dev, "cap clones", &scene, &h, &opt);
        CHECK(r.capped && r.after == opt.max_gaussians);
        /* the cap with splits and prunes: never above it */
        opt.scene_extent = 1.0f;
        opt.max_gaussians = scene.count + 10;
        r = case_run(dev, "cap mixed", &scene, &h, &opt);
        CHECK(r.capped && r.after <= opt.max_gaussians && r.split > 0);
        opt.max_screen_size = 20.0f;
        /* a scene already over the cap is refused */
        {
            dev_state d;
            opt.max_gaussians = scene.count - 1;
            if (state_upload(dev, &scene, &h, &d) == 0)
                CHECK_STATUS(splat_densify(dev, d.scene, &d.adam, &d.stats, &opt, &r),
                             KILN_E_INVAL);
            state_release(dev, &d);
            opt.max_gaussians = 1u << 20;
        }
        case_opacity_reset(dev, &scene, &h);
        /* a fresh pool, so that the densification's buffers are creations */
        test_device_close(dev);
        dev = test_device_open(0);
        case_fault(dev, &scene, &h, &opt);
    }
    free(h.accum);
    free(h.denom);
    free(h.radius);
    set_free(&h.m);
    set_free(&h.v);
    splat_scene_free(&scene);
    test_device_close(dev);
    return test_summary("test_splat_densify");
}
