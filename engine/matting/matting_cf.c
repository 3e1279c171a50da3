/* Closed-form alpha matting on the device (kernels in cl/matting_cf.cl):
 * pymatting's estimate_alpha_cf system (1.1.15), the matting Laplacian
 * restricted to the unknown pixels U with the known pixels K fixed at
 * their labels, L_UU x = -L_UK fg_K, solved by conjugate gradients with a
 * multigrid preconditioner.
 *
 * (1) The active set: the unknown pixels.  The device flags and counts
 * them per tile (4x4, 8x8 for r > 2); the host
 * orders the active tiles in Morton order, scans their counts and builds
 * the tile hierarchy (work and transfers of O(pixels / 16)); the device
 * numbers the pixels.
 * (2) One row of (4r+1)^2 float coefficients per active pixel, computed
 * on the device as pymatting does (windows in double where the device has
 * fp64), one work-group per tile sharing its colours and window factors.
 * (3) Conjugate gradients (Chronopoulos-Gear: one reduction per
 * iteration) on the device.  The preconditioner is additive at the pixel
 * level (weighted Jacobi plus a coarse correction) and a multiplicative
 * V-cycle above it: tiles of 4, 8, 16, ... pixels a side carry the four
 * functions affine in colour (1, R, G, B: the local null space of the
 * matting Laplacian), with Galerkin coarse matrices, block-Jacobi
 * smoothing and over-corrected prolongation, up to a single tile; levels
 * of at most CF_TAIL_TILES tiles run in one work-group; the last up-step
 * also runs the fine level.  Scalars stay on the device; the host reads
 * the residual every CF_CHECK_EVERY iterations.  Should the
 * preconditioner break down (non-positive curvature in float), CG
 * restarts from the current iterate with Jacobi alone.
 *
 * Memory: three image-sized buffers (the pixel numbering, the
 * preconditioned residual, the output),
 * per active pixel (4r+1)^2 + 10 floats and an index, per tile about 800
 * bytes; nothing per inactive pixel beyond the image-sized buffers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_status.h"
#include "launch.h"
#include "host_alloc.h"
#include "matting.h"
#include "status.h"

#define CF_SOURCE "matting_cf.cl"

#define CF_MAX_RADIUS 4u          /* rows of (4r+1)^2 = 289 coefficients */
#define CF_MAX_LEVELS 32u
#define CF_WG 64u                 /* work-group size of the reductions */
#define CF_CHECK_EVERY 4u         /* iterations between residual reads */
#define CF_OMEGA 0.6f             /* fine-level Jacobi weight */
#define CF_OMEGA_COARSE 0.7f      /* coarse block-Jacobi weight */
#define CF_OVER 1.8f              /* coarse over-correction (< 2) */
#define CF_TAIL_TILES 1024u       /* levels this small run in one work-group */
#define CF_JACOBI_TOL 0.03        /* tolerance factor of the Jacobi fallback */

/* Scalar slots and reduce modes: as in cl/matting_cf.cl. */
#define S_RR 3
#define S_BB 4
#define S_BREAK 5
#define CF_NSCALARS 8
#define REDUCE_NORMS 0
#define REDUCE_FIRST 1
#define REDUCE_NEXT 2

#define TAG_IMAGE "matting.cf.image"
#define TAG_ACTIVE "matting.cf.active"
#define TAG_LEVELS "matting.cf.levels"
#define TAG_SCRATCH "matting.cf.scratch"

/* The __local scratch argument of the reduction kernels: s->wg float2. */
#define CF_SCRATCH(s) { (s)->wg * sizeof(cl_float2), NULL }

/* The solver's device buffers. */
enum {
    B_MAP,      /* int per pixel: active number or -1 */
    B_UIMG,     /* float per pixel: preconditioned residual u */
    B_ACT,      /* uint per active pixel: its pixel */
    B_COEF,     /* (4r+1)^2 floats per active pixel */
    B_DIAG,     /* 1 / A_ii */
    B_X,
    B_R,
    B_W,        /* A u */
    B_P,        /* search direction */
    B_S,        /* A p */
    B_PHI,      /* float4 per active pixel: its level-1 basis values */
    B_TILES,    /* uint4 per level-1 tile */
    B_NBR,      /* 9 ints per tile of every level */
    B_CHILD,    /* uint2 per tile */
    B_PARENT,   /* uint per tile */
    B_STATS,    /* float8 per tile */
    B_RMAT,     /* float8 per tile */
    B_A,        /* 144 floats per tile */
    B_BINV,     /* 16 floats per tile */
    B_RV,       /* float4 per tile */
    B_ZV,
    B_ZZ,
    B_PART,     /* float2 per work-group */
    B_SCAL,     /* CF_NSCALARS floats */
    B_LEVELS,   /* uint2 per level: offset, tiles */
    B_COUNTS,   /* uint per grid tile, setup only */
    B_COUNT
};

/* The host's tile hierarchy: level k (0-based) has nt[k] tiles starting
 * at off[k] in the packed per-tile arrays. */
typedef struct cf_plan {
    uint32_t nlevels;
    uint32_t nt[CF_MAX_LEVELS];
    uint32_t off[CF_MAX_LEVELS];
    uint32_t total;           /* tiles of every level */
    uint32_t tail;            /* first level of at most CF_TAIL_TILES tiles */
    size_t nactive;
    size_t nunknown;
    cl_uint4 *tiles;          /* level-1 tiles: tx, ty, first pixel, count */
    cl_int *nbr;              /* total * 9 */
    cl_uint2 *children;       /* total: first child, count */
    cl_uint *parent;          /* total */
    uint64_t *codes;          /* total: Morton codes, sorted per level */
} cf_plan;

/* One solve: the device, its buffers and the bytes they hold. */
typedef struct cf_solver {
    kiln_device *dev;
    pool_buffer *buf[B_COUNT];
    size_t held;
    size_t peak;
    char options[64];
    size_t wg;
    cl_uint radius, tile, width, height, npix, n;
    cf_plan plan;
} cf_solver;

/* Fills the pymatting defaults and the solver settings chosen by
 * measurement.  The tolerance applies to the residual,
 * |b - A x| <= tolerance |b|, with pymatting's b (its rtol is 1e-7, in
 * double).  1e-5 lands within SAD/1000 0.003 of pymatting's alphas on
 * the reference images (the parity bar is 0.25) and, on the astronaut
 * at 1 MP, within a mean 4e-4 over the unknown pixels (84 iterations);
 * the cap leaves room for the Jacobi fallback. */
void cf_params_default(cf_params *p)
{
    if (!p)
        return;
    p->epsilon = 1e-7f;
    p->radius = 1;
    p->max_iterations = 2000;
    p->tolerance = 1e-5f;
}

/* ---- buffers and launches ---- */

/* Acquires buffer `which` of `bytes` bytes under `tag` and counts it in
 * the solve's held bytes. */
static kiln_status cf_acquire(cf_solver *s, int which, size_t bytes, const char *tag)
{
    kiln_status st;

    if (bytes == 0)
        bytes = 1;
    st = pool_acquire(s->dev->pool, bytes, tag, &s->buf[which]);
    if (st != KILN_OK) {
        s->buf[which] = NULL;
        return kiln_fail_context(st, "closed-form alpha: %zu bytes for %s", bytes, tag);
    }
    s->held += s->buf[which]->capacity;
    if (s->held > s->peak)
        s->peak = s->held;
    return KILN_OK;
}

/* Gives buffer `which` back (if held). */
static void cf_release(cf_solver *s, int which)
{
    if (!s->buf[which])
        return;
    s->held -= s->buf[which]->capacity;
    pool_release(s->dev->pool, s->buf[which]);
    s->buf[which] = NULL;
}

/* Gives every buffer back, last acquired first. */
static void cf_release_all(cf_solver *s)
{
    for (int b = B_COUNT - 1; b >= 0; b--)
        cf_release(s, b);
}

/* Returns the cl_mem of buffer `which`. */
static cl_mem cf_mem(const cf_solver *s, int which)
{
    return s->buf[which]->mem;
}

/* Chooses the reduction work-group size: CF_WG, lowered to a power of two
 * every reduction kernel accepts. */
static kiln_status cf_choose_wg(cf_solver *s)
{
    static const char *const names[] = { "cf_spmv", "cf_fine", "cf_reduce", "cf_tail",
                                         "cf_up_fine" };
    size_t wg = CF_WG;

    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        cl_kernel kernel;
        size_t most = 0;
        cl_int err;
        kiln_status st = device_kernel(s->dev, CF_SOURCE, s->options, names[k], &kernel);
        if (st != KILN_OK)
            return st;
        err = clGetKernelWorkGroupInfo(kernel, s->dev->info.id, CL_KERNEL_WORK_GROUP_SIZE,
                                       sizeof(most), &most, NULL);
        if (err != CL_SUCCESS)
            return kiln_fail_cl(err, "closed-form alpha: querying a work-group size");
        while (wg > 1 && wg > most)
            wg /= 2;
    }
    s->wg = wg;
    return KILN_OK;
}

/* ---- the tile hierarchy (host) ---- */

/* Spreads the low 32 bits of v to the even bits of a 64-bit value. */
static uint64_t morton_spread(uint32_t v)
{
    uint64_t x = v;
    x = (x | (x << 16)) & 0x0000FFFF0000FFFFull;
    x = (x | (x << 8)) & 0x00FF00FF00FF00FFull;
    x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0Full;
    x = (x | (x << 2)) & 0x3333333333333333ull;
    x = (x | (x << 1)) & 0x5555555555555555ull;
    return x;
}

/* Returns the Morton code of tile (tx, ty): x in the even bits, so that
 * a parent's code is its child's shifted right by two. */
static uint64_t morton(uint32_t tx, uint32_t ty)
{
    return morton_spread(tx) | (morton_spread(ty) << 1);
}

/* Returns the x (even bits) half of a Morton code. */
static uint32_t morton_x(uint64_t code)
{
    uint64_t x = code & 0x5555555555555555ull;
    x = (x | (x >> 1)) & 0x3333333333333333ull;
    x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0Full;
    x = (x | (x >> 4)) & 0x00FF00FF00FF00FFull;
    x = (x | (x >> 8)) & 0x0000FFFF0000FFFFull;
    x = (x | (x >> 16)) & 0x00000000FFFFFFFFull;
    return (uint32_t)x;
}

/* Orders two level-1 tile entries by Morton code (qsort). */
static int tile_compare(const void *a, const void *b)
{
    uint64_t ca = ((const uint64_t *)a)[0], cb = ((const uint64_t *)b)[0];
    return ca < cb ? -1 : ca > cb;
}

/* Frees the plan's host arrays. */
static void plan_free(cf_plan *plan)
{
    kiln_free(plan->tiles);
    kiln_free(plan->nbr);
    kiln_free(plan->children);
    kiln_free(plan->parent);
    kiln_free(plan->codes);
    plan->tiles = NULL;
    plan->nbr = NULL;
    plan->children = NULL;
    plan->parent = NULL;
    plan->codes = NULL;
}

/* Builds the hierarchy from the per-grid-tile counts of active (unknown)
 * pixels:
 * level-1 tiles with an active pixel in Morton order with their pixel
 * ranges, then parents (codes >> 2) until one tile remains, neighbour
 * tables, children ranges and parents.  Returns KILN_OK or
 * KILN_E_HOSTMEM (nothing allocated then). */
static kiln_status plan_build(cf_plan *plan, const cl_uint *counts, uint32_t grid_w,
                              uint32_t grid_h)
{
    size_t ngrid = (size_t)grid_w * grid_h, nt1 = 0, cap;
    uint64_t (*entries)[2] = NULL;   /* code, count */
    cl_int *grid = NULL;             /* tile index per grid position */
    uint32_t k;

    plan->nactive = 0;
    plan->nunknown = 0;
    for (size_t g = 0; g < ngrid; g++) {
        nt1 += counts[g] > 0;
        plan->nunknown += counts[g];
    }
    plan->nlevels = 0;
    plan->total = 0;
    if (nt1 == 0)
        return KILN_OK;
    /* Level k has at most the level-1 tiles, and at most the tiles of its
     * grid (halved per level) until the grid is one tile. */
    cap = 0;
    for (uint64_t gw = grid_w, gh = grid_h;; gw = (gw + 1) / 2, gh = (gh + 1) / 2) {
        cap += gw * gh < nt1 ? gw * gh : nt1;
        if (gw == 1 && gh == 1)
            break;
    }
    grid = kiln_malloc(ngrid * sizeof(*grid));
    entries = kiln_malloc(nt1 * sizeof(*entries));
    plan->tiles = kiln_malloc(nt1 * sizeof(*plan->tiles));
    plan->nbr = kiln_malloc(cap * 9 * sizeof(*plan->nbr));
    plan->children = kiln_calloc(cap, sizeof(*plan->children));
    plan->parent = kiln_calloc(cap, sizeof(*plan->parent));
    plan->codes = kiln_malloc(cap * sizeof(*plan->codes));
    if (!grid || !entries || !plan->tiles || !plan->nbr || !plan->children ||
        !plan->parent || !plan->codes) {
        kiln_free(grid);
        kiln_free(entries);
        plan_free(plan);
        return kiln_fail(KILN_E_HOSTMEM, "closed-form alpha: host memory for %zu tiles", nt1);
    }
    nt1 = 0;
    for (size_t g = 0; g < ngrid; g++) {
        if (counts[g] == 0)
            continue;
        entries[nt1][0] = morton((uint32_t)(g % grid_w), (uint32_t)(g / grid_w));
        entries[nt1][1] = counts[g];
        nt1++;
    }
    for (size_t g = 0; g < ngrid; g++)
        grid[g] = -1;
    qsort(entries, nt1, sizeof(*entries), tile_compare);
    for (size_t t = 0; t < nt1; t++) {
        uint64_t code = entries[t][0];
        plan->codes[t] = code;
        plan->tiles[t].s[0] = morton_x(code);
        plan->tiles[t].s[1] = morton_x(code >> 1);
        plan->tiles[t].s[2] = (cl_uint)plan->nactive;
        plan->tiles[t].s[3] = (cl_uint)entries[t][1];
        plan->nactive += entries[t][1];
    }
    kiln_free(entries);
    plan->nt[0] = (uint32_t)nt1;
    plan->off[0] = 0;
    plan->nlevels = 1;
    while (plan->nt[plan->nlevels - 1] > 1 && plan->nlevels < CF_MAX_LEVELS) {
        uint32_t lv = plan->nlevels, coff = plan->off[lv - 1], cnt = plan->nt[lv - 1];
        uint32_t off = coff + cnt, nt = 0;
        plan->off[lv] = off;
        for (uint32_t c = 0; c < cnt; c++) {
            uint64_t pc = plan->codes[coff + c] >> 2;
            if (nt == 0 || plan->codes[off + nt - 1] != pc) {
                plan->codes[off + nt] = pc;
                plan->children[off + nt].s[0] = c;
                plan->children[off + nt].s[1] = 0;
                nt++;
            }
            plan->children[off + nt - 1].s[1]++;
            plan->parent[coff + c] = nt - 1;
        }
        plan->nt[lv] = nt;
        plan->nlevels++;
    }
    plan->total = plan->off[plan->nlevels - 1] + plan->nt[plan->nlevels - 1];
    plan->tail = 0;
    while (plan->nt[plan->tail] > CF_TAIL_TILES)
        plan->tail++;
    /* Neighbours through a grid of tile indices (-1 where no tile), one
     * level at a time, entries reset after use. */
    for (k = 0; k < plan->nlevels; k++) {
        const uint64_t *codes = plan->codes + plan->off[k];
        uint64_t gw = ((uint64_t)grid_w + (1u << k) - 1) >> k;
        uint64_t gh = ((uint64_t)grid_h + (1u << k) - 1) >> k;
        for (uint32_t t = 0; t < plan->nt[k]; t++)
            grid[morton_x(codes[t] >> 1) * gw + morton_x(codes[t])] = (cl_int)t;
        for (uint32_t t = 0; t < plan->nt[k]; t++) {
            int64_t tx = morton_x(codes[t]), ty = morton_x(codes[t] >> 1);
            cl_int *nb = plan->nbr + ((size_t)plan->off[k] + t) * 9;
            for (int s = 0; s < 9; s++) {
                int64_t nx = tx + s % 3 - 1, ny = ty + s / 3 - 1;
                nb[s] = (nx < 0 || ny < 0 || (uint64_t)nx >= gw || (uint64_t)ny >= gh) ? -1 :
                        grid[(uint64_t)ny * gw + (uint64_t)nx];
            }
        }
        for (uint32_t t = 0; t < plan->nt[k]; t++)
            grid[morton_x(codes[t] >> 1) * gw + morton_x(codes[t])] = -1;
    }
    kiln_free(grid);
    return KILN_OK;
}

/* ---- the solve ---- */

/* Checks op_alpha_cf's arguments; fills *p from params (NULL: defaults). */
static kiln_status cf_check(const kiln_device *dev, const dev_image *image, const dev_image *trimap,
                            const cf_params *params, dev_image *alpha, cf_params *p)
{
    kiln_status st;

    if (!alpha)
        return kiln_fail(KILN_E_INVAL, "closed-form alpha: NULL output image");
    if (alpha == image || alpha == trimap)
        return kiln_fail(KILN_E_INVAL, "closed-form alpha: the output must not be an input");
    memset(alpha, 0, sizeof(*alpha));
    if (!dev)
        return kiln_fail(KILN_E_INVAL, "closed-form alpha: NULL device");
    st = dev_image_check(image, "closed-form alpha: image");
    if (st != KILN_OK)
        return st;
    if (image->channels != 3)
        return kiln_fail(KILN_E_INVAL, "closed-form alpha: image has %u channels, need 3",
                         (unsigned)image->channels);
    st = dev_image_check(trimap, "closed-form alpha: trimap");
    if (st != KILN_OK)
        return st;
    if (trimap->channels != 1)
        return kiln_fail(KILN_E_INVAL, "closed-form alpha: trimap has %u channels, need 1",
                         (unsigned)trimap->channels);
    if (image->width != trimap->width || image->height != trimap->height)
        return kiln_fail(KILN_E_INVAL, "closed-form alpha: image %ux%u and trimap %ux%u "
                         "differ in size", (unsigned)image->width, (unsigned)image->height,
                         (unsigned)trimap->width, (unsigned)trimap->height);
    if (params)
        *p = *params;
    else
        cf_params_default(p);
    if (!(p->epsilon > 0.0f) || !isfinite(p->epsilon))
        return kiln_fail(KILN_E_INVAL, "closed-form alpha: epsilon %g must be positive and "
                         "finite", (double)p->epsilon);
    if (p->radius < 1 || p->radius > CF_MAX_RADIUS)
        return kiln_fail(KILN_E_INVAL, "closed-form alpha: radius %u, need 1 to %u",
                         (unsigned)p->radius, (unsigned)CF_MAX_RADIUS);
    if (p->max_iterations < 1)
        return kiln_fail(KILN_E_INVAL, "closed-form alpha: max_iterations must be at least 1");
    if (!(p->tolerance > 0.0f && p->tolerance < 1.0f))
        return kiln_fail(KILN_E_INVAL, "closed-form alpha: tolerance %g must be in (0,1)",
                         (double)p->tolerance);
    if (image->width < 2 * p->radius + 1 || image->height < 2 * p->radius + 1)
        return kiln_fail(KILN_E_INVAL, "closed-form alpha: image %ux%u is smaller than a "
                         "%ux%u window", (unsigned)image->width, (unsigned)image->height,
                         2 * (unsigned)p->radius + 1, 2 * (unsigned)p->radius + 1);
    return KILN_OK;
}

/* Finds the active (unknown) pixels: flags and counts per grid tile on
 * the device, the hierarchy on the host, the numbering on the device.
 * Leaves B_MAP (numbered) and the plan; the setup buffer is released. */
static kiln_status cf_find_active(cf_solver *s, const dev_image *trimap)
{
    cl_uint tile = s->tile;
    cl_uint grid_w = (s->width + tile - 1) / tile, grid_h = (s->height + tile - 1) / tile;
    size_t ngrid = (size_t)grid_w * grid_h;
    cl_uint *counts;
    kiln_status st;

    st = cf_acquire(s, B_COUNTS, ngrid * sizeof(cl_uint), TAG_SCRATCH);
    if (st != KILN_OK)
        return st;
    {
        dev_kernel_arg args[] = {
            DEV_ARG(trimap->buf->mem), DEV_ARG(s->buf[B_MAP]->mem),
            DEV_ARG(s->buf[B_COUNTS]->mem), DEV_ARG(s->width), DEV_ARG(s->height),
            DEV_ARG(grid_w), DEV_ARG(grid_h)
        };
        size_t items = ngrid;
        st = dev_kernel_launch(s->dev, CF_SOURCE, s->options, "cf_tile_flags", args,
                               DEV_NARGS(args), 1, &items, NULL);
    }
    if (st != KILN_OK)
        return st;
    counts = kiln_malloc(ngrid * sizeof(*counts));
    if (!counts)
        return kiln_fail(KILN_E_HOSTMEM, "closed-form alpha: host memory for %zu tile counts",
                         ngrid);
    st = dev_buffer_read(s->dev, cf_mem(s, B_COUNTS), 0, ngrid * sizeof(*counts), counts,
                         "closed-form alpha: reading the tile counts");
    if (st == KILN_OK)
        st = plan_build(&s->plan, counts, grid_w, grid_h);
    kiln_free(counts);
    cf_release(s, B_COUNTS);
    return st;
}

/* Acquires the per-active-pixel and per-tile buffers, uploads the
 * hierarchy and numbers the active pixels. */
static kiln_status cf_prepare(cf_solver *s)
{
    static const char *const upload = "closed-form alpha: uploading the tile hierarchy";
    const cf_plan *plan = &s->plan;
    size_t n = s->n, total = plan->total, kk, groups;
    cl_uint nt1 = plan->nt[0];
    cl_uint2 levels[CF_MAX_LEVELS];
    kiln_status st;
    kk = (size_t)(4 * s->radius + 1) * (4 * s->radius + 1);
    {
        /* every buffer of the solve: which, how many elements, element size */
        const struct { int which; size_t count, size; const char *tag; } bufs[] = {
            { B_ACT, n, sizeof(cl_uint), TAG_ACTIVE },
            { B_COEF, n * kk, sizeof(cl_float), TAG_ACTIVE },
            { B_DIAG, n, sizeof(cl_float), TAG_ACTIVE },
            { B_X, n, sizeof(cl_float), TAG_ACTIVE },
            { B_R, n, sizeof(cl_float), TAG_ACTIVE },
            { B_W, n, sizeof(cl_float), TAG_ACTIVE },
            { B_P, n, sizeof(cl_float), TAG_ACTIVE },
            { B_S, n, sizeof(cl_float), TAG_ACTIVE },
            { B_PHI, n, sizeof(cl_float4), TAG_ACTIVE },
            { B_TILES, nt1, sizeof(cl_uint4), TAG_LEVELS },
            { B_NBR, total * 9, sizeof(cl_int), TAG_LEVELS },
            { B_CHILD, total, sizeof(cl_uint2), TAG_LEVELS },
            { B_PARENT, total, sizeof(cl_uint), TAG_LEVELS },
            { B_STATS, total, sizeof(cl_float8), TAG_LEVELS },
            { B_RMAT, total, sizeof(cl_float8), TAG_LEVELS },
            { B_A, total * 144, sizeof(cl_float), TAG_LEVELS },
            { B_BINV, total * 16, sizeof(cl_float), TAG_LEVELS },
            { B_RV, total, sizeof(cl_float4), TAG_LEVELS },
            { B_ZV, total, sizeof(cl_float4), TAG_LEVELS },
            { B_ZZ, total, sizeof(cl_float4), TAG_LEVELS },
        };
        st = KILN_OK;
        for (size_t k = 0; k < sizeof(bufs) / sizeof(bufs[0]) && st == KILN_OK; k++)
            st = cf_acquire(s, bufs[k].which, bufs[k].count * bufs[k].size, bufs[k].tag);
    }
    groups = n / s->wg + nt1 + 2;
    if (st == KILN_OK)
        st = cf_acquire(s, B_PART, groups * sizeof(cl_float2), TAG_SCRATCH);
    if (st == KILN_OK)
        st = cf_acquire(s, B_SCAL, CF_NSCALARS * sizeof(cl_float), TAG_SCRATCH);
    if (st == KILN_OK)
        st = cf_acquire(s, B_LEVELS, plan->nlevels * sizeof(cl_uint2), TAG_LEVELS);
    if (st != KILN_OK)
        return st;
    for (uint32_t k = 0; k < plan->nlevels; k++) {
        levels[k].s[0] = plan->off[k];
        levels[k].s[1] = plan->nt[k];
    }
    st = dev_buffer_write(s->dev, cf_mem(s, B_LEVELS), 0, plan->nlevels * sizeof(cl_uint2),
                          levels, upload);
    if (st == KILN_OK)
        st = dev_buffer_write(s->dev, cf_mem(s, B_TILES), 0, nt1 * sizeof(cl_uint4),
                              plan->tiles, upload);
    if (st == KILN_OK)
        st = dev_buffer_write(s->dev, cf_mem(s, B_NBR), 0, total * 9 * sizeof(cl_int),
                              plan->nbr, upload);
    if (st == KILN_OK)
        st = dev_buffer_write(s->dev, cf_mem(s, B_CHILD), 0, total * sizeof(cl_uint2),
                              plan->children, upload);
    if (st == KILN_OK)
        st = dev_buffer_write(s->dev, cf_mem(s, B_PARENT), 0, total * sizeof(cl_uint),
                              plan->parent, upload);
    if (st != KILN_OK)
        return st;
    {
        dev_kernel_arg args[] = {
            DEV_ARG(s->buf[B_MAP]->mem), DEV_ARG(s->buf[B_ACT]->mem),
            DEV_ARG(s->buf[B_TILES]->mem), DEV_ARG(nt1), DEV_ARG(s->width),
            DEV_ARG(s->height)
        };
        size_t items = nt1;
        st = dev_kernel_launch(s->dev, CF_SOURCE, s->options, "cf_scatter", args,
                               DEV_NARGS(args), 1, &items, NULL);
    }
    return st;
}

/* Enqueues cf_reduce over `count` (pair) and `count2` (single) partials
 * in `mode`. */
static kiln_status cf_reduce(cf_solver *s, size_t count, size_t count2, cl_int mode)
{
    cl_uint c = (cl_uint)count, c2 = (cl_uint)count2;
    const dev_kernel_arg args[] = {
        DEV_ARG(s->buf[B_PART]->mem), DEV_ARG(c), DEV_ARG(c2), DEV_ARG(s->buf[B_SCAL]->mem),
        DEV_ARG(mode), CF_SCRATCH(s)
    };
    return dev_kernel_launch(s->dev, CF_SOURCE, s->options, "cf_reduce", args,
                             DEV_NARGS(args), 1, &s->wg, &s->wg);
}

/* Work-groups of s->wg items over `items` items. */
static size_t cf_groups(const cf_solver *s, size_t items)
{
    return (items + s->wg - 1) / s->wg;
}

/* Builds the rows, the right-hand side, the start and its residual: one
 * work-group of tile^2 items per level-1 tile. */
static kiln_status cf_build_rows(cf_solver *s, const dev_image *image,
                                 const dev_image *trimap, const cf_params *p)
{
    cl_float eps = p->epsilon;
    size_t local = (size_t)s->tile * s->tile, global = (size_t)s->plan.nt[0] * local;
    kiln_status st;
    const dev_kernel_arg args[] = {
        DEV_ARG(image->buf->mem), DEV_ARG(trimap->buf->mem), DEV_ARG(s->buf[B_MAP]->mem),
        DEV_ARG(s->buf[B_TILES]->mem), DEV_ARG(s->buf[B_COEF]->mem),
        DEV_ARG(s->buf[B_DIAG]->mem), DEV_ARG(s->buf[B_X]->mem), DEV_ARG(s->buf[B_R]->mem),
        DEV_ARG(s->buf[B_PART]->mem), DEV_ARG(s->width), DEV_ARG(s->height), DEV_ARG(eps)
    };

    st = dev_kernel_launch(s->dev, CF_SOURCE, s->options, "cf_coef", args, DEV_NARGS(args), 1,
                           &global, &local);
    if (st != KILN_OK)
        return st;
    return cf_reduce(s, s->plan.nt[0], 0, REDUCE_NORMS);
}

/* Builds the multigrid levels: tile statistics and R, Galerkin blocks,
 * block inverses. */
static kiln_status cf_build_levels(cf_solver *s, const dev_image *image)
{
    const cf_plan *plan = &s->plan;
    cl_uint nt1 = plan->nt[0];
    kiln_status st;

    {
        dev_kernel_arg args[] = {
            DEV_ARG(image->buf->mem), DEV_ARG(s->buf[B_ACT]->mem),
            DEV_ARG(s->buf[B_TILES]->mem), DEV_ARG(s->buf[B_STATS]->mem), DEV_ARG(nt1),
            DEV_ARG(s->npix)
        };
        size_t items = nt1;
        st = dev_kernel_launch(s->dev, CF_SOURCE, s->options, "cf_stats_tiles", args,
                               DEV_NARGS(args), 1, &items, NULL);
    }
    for (uint32_t k = 1; k < plan->nlevels && st == KILN_OK; k++) {
        cl_uint coff = plan->off[k - 1], off = plan->off[k], nt = plan->nt[k];
        dev_kernel_arg args[] = {
            DEV_ARG(s->buf[B_STATS]->mem), DEV_ARG(s->buf[B_RMAT]->mem),
            DEV_ARG(s->buf[B_CHILD]->mem), DEV_ARG(coff), DEV_ARG(off), DEV_ARG(nt)
        };
        size_t items = nt;
        st = dev_kernel_launch(s->dev, CF_SOURCE, s->options, "cf_stats_parents", args,
                               DEV_NARGS(args), 1, &items, NULL);
    }
    if (st == KILN_OK) {
        const dev_kernel_arg args[] = {
            DEV_ARG(image->buf->mem), DEV_ARG(s->buf[B_ACT]->mem),
            DEV_ARG(s->buf[B_TILES]->mem), DEV_ARG(s->buf[B_STATS]->mem),
            DEV_ARG(s->buf[B_PHI]->mem), DEV_ARG(nt1), DEV_ARG(s->npix)
        };
        size_t items = nt1;
        st = dev_kernel_launch(s->dev, CF_SOURCE, s->options, "cf_phi", args,
                               DEV_NARGS(args), 1, &items, NULL);
    }
    if (st == KILN_OK) {
        const dev_kernel_arg args[] = {
            DEV_ARG(s->buf[B_COEF]->mem), DEV_ARG(s->buf[B_ACT]->mem),
            DEV_ARG(s->buf[B_MAP]->mem), DEV_ARG(s->buf[B_TILES]->mem),
            DEV_ARG(s->buf[B_NBR]->mem), DEV_ARG(s->buf[B_PHI]->mem),
            DEV_ARG(s->buf[B_A]->mem), DEV_ARG(nt1), DEV_ARG(s->width), DEV_ARG(s->height)
        };
        size_t items = (size_t)nt1 * 9;
        st = dev_kernel_launch(s->dev, CF_SOURCE, s->options, "cf_galerkin_tiles", args,
                               DEV_NARGS(args), 1, &items, NULL);
    }
    for (uint32_t k = 1; k < plan->nlevels && st == KILN_OK; k++) {
        cl_uint coff = plan->off[k - 1], off = plan->off[k], nt = plan->nt[k];
        dev_kernel_arg args[] = {
            DEV_ARG(s->buf[B_A]->mem), DEV_ARG(s->buf[B_RMAT]->mem),
            DEV_ARG(s->buf[B_NBR]->mem), DEV_ARG(s->buf[B_PARENT]->mem),
            DEV_ARG(s->buf[B_CHILD]->mem), DEV_ARG(coff), DEV_ARG(off), DEV_ARG(nt)
        };
        size_t items = (size_t)nt * 9;
        st = dev_kernel_launch(s->dev, CF_SOURCE, s->options, "cf_galerkin_parents", args,
                               DEV_NARGS(args), 1, &items, NULL);
    }
    for (uint32_t k = 0; k < plan->nlevels && st == KILN_OK; k++) {
        cl_uint off = plan->off[k], nt = plan->nt[k];
        dev_kernel_arg args[] = {
            DEV_ARG(s->buf[B_A]->mem), DEV_ARG(s->buf[B_BINV]->mem), DEV_ARG(off), DEV_ARG(nt)
        };
        size_t items = nt;
        st = dev_kernel_launch(s->dev, CF_SOURCE, s->options, "cf_block_inverse", args,
                               DEV_NARGS(args), 1, &items, NULL);
    }
    return st;
}

/* Runs the coarse levels of the preconditioner (the level-1 residual and
 * its smoothed correction are in place): down to the coarsest tile, then
 * back up, leaving level 1's correction in B_ZZ (B_ZV with one level).
 * Levels larger than CF_TAIL_TILES take one launch per step; the small
 * ones run in one work-group (cf_tail).  When level 1 is such a large
 * level, its up-step also runs the fine level (cf_up_fine: u into B_UIMG
 * and its partials) and *fine_done is set. */
static kiln_status cf_vcycle(cf_solver *s, int *fine_done)
{
    const cf_plan *plan = &s->plan;
    uint32_t nl = plan->nlevels, first = plan->tail;
    kiln_status st = KILN_OK;

    for (uint32_t k = 1; k < first && st == KILN_OK; k++) {
        cl_uint coff = plan->off[k - 1], off = plan->off[k], nt = plan->nt[k];
        cl_float w = CF_OMEGA_COARSE;
        dev_kernel_arg args[] = {
            DEV_ARG(s->buf[B_A]->mem), DEV_ARG(s->buf[B_BINV]->mem),
            DEV_ARG(s->buf[B_RMAT]->mem), DEV_ARG(s->buf[B_NBR]->mem),
            DEV_ARG(s->buf[B_CHILD]->mem), DEV_ARG(s->buf[B_RV]->mem),
            DEV_ARG(s->buf[B_ZV]->mem), DEV_ARG(coff), DEV_ARG(off), DEV_ARG(nt), DEV_ARG(w)
        };
        size_t items = nt;
        st = dev_kernel_launch(s->dev, CF_SOURCE, s->options, "cf_down", args,
                               DEV_NARGS(args), 1, &items, NULL);
    }
    if (st == KILN_OK && nl > 1) {
        cl_uint k0 = first, nlev = nl;
        cl_float over = CF_OVER, w = CF_OMEGA_COARSE;
        dev_kernel_arg args[] = {
            DEV_ARG(s->buf[B_A]->mem), DEV_ARG(s->buf[B_BINV]->mem),
            DEV_ARG(s->buf[B_RMAT]->mem), DEV_ARG(s->buf[B_NBR]->mem),
            DEV_ARG(s->buf[B_PARENT]->mem), DEV_ARG(s->buf[B_CHILD]->mem),
            DEV_ARG(s->buf[B_RV]->mem), DEV_ARG(s->buf[B_ZV]->mem),
            DEV_ARG(s->buf[B_ZZ]->mem), DEV_ARG(s->buf[B_LEVELS]->mem), DEV_ARG(k0),
            DEV_ARG(nlev), DEV_ARG(over), DEV_ARG(w)
        };
        st = dev_kernel_launch(s->dev, CF_SOURCE, s->options, "cf_tail", args,
                               DEV_NARGS(args), 1, &s->wg, &s->wg);
    }
    *fine_done = 0;
    for (uint32_t k = first < nl - 1 ? first : nl - 1; k-- > 0 && st == KILN_OK;) {
        cl_uint off = plan->off[k], coff = plan->off[k + 1], nt = plan->nt[k];
        cl_mem zc = k + 1 == nl - 1 ? cf_mem(s, B_ZV) : cf_mem(s, B_ZZ);
        cl_float over = CF_OVER, w = CF_OMEGA_COARSE;
        if (k == 0) {
            cl_float wf = CF_OMEGA;
            dev_kernel_arg args[] = {
                DEV_ARG(s->buf[B_A]->mem), DEV_ARG(s->buf[B_BINV]->mem),
                DEV_ARG(s->buf[B_RMAT]->mem), DEV_ARG(s->buf[B_NBR]->mem),
                DEV_ARG(s->buf[B_PARENT]->mem), DEV_ARG(s->buf[B_RV]->mem),
                DEV_ARG(s->buf[B_ZV]->mem), DEV_ARG(zc), DEV_ARG(s->buf[B_ZZ]->mem),
                DEV_ARG(coff), DEV_ARG(nt), DEV_ARG(over), DEV_ARG(w),
                DEV_ARG(s->buf[B_ACT]->mem), DEV_ARG(s->buf[B_TILES]->mem),
                DEV_ARG(s->buf[B_PHI]->mem), DEV_ARG(s->buf[B_R]->mem),
                DEV_ARG(s->buf[B_DIAG]->mem), DEV_ARG(s->buf[B_UIMG]->mem),
                DEV_ARG(s->buf[B_PART]->mem), CF_SCRATCH(s), DEV_ARG(wf)
            };
            size_t items = nt;
            st = dev_kernel_launch(s->dev, CF_SOURCE, s->options, "cf_up_fine", args,
                                   DEV_NARGS(args), 1, &items, &s->wg);
            *fine_done = 1;
            break;
        }
        dev_kernel_arg args[] = {
            DEV_ARG(s->buf[B_A]->mem), DEV_ARG(s->buf[B_BINV]->mem),
            DEV_ARG(s->buf[B_RMAT]->mem), DEV_ARG(s->buf[B_NBR]->mem),
            DEV_ARG(s->buf[B_PARENT]->mem), DEV_ARG(s->buf[B_RV]->mem),
            DEV_ARG(s->buf[B_ZV]->mem), DEV_ARG(zc), DEV_ARG(s->buf[B_ZZ]->mem),
            DEV_ARG(off), DEV_ARG(coff), DEV_ARG(nt), DEV_ARG(over), DEV_ARG(w)
        };
        size_t items = nt;
        st = dev_kernel_launch(s->dev, CF_SOURCE, s->options, "cf_up", args,
                               DEV_NARGS(args), 1, &items, NULL);
    }
    return st;
}

/* One iteration's work after the scalars are known: with update != 0,
 * p, s, x and r are stepped; then u = M r (multigrid when mg != 0, else
 * Jacobi), w = A u and the reduction in `mode` (alpha and beta for the
 * next step). */
static kiln_status cf_iterate(cf_solver *s, cl_int update, cl_int mg, cl_int mode)
{
    const cf_plan *plan = &s->plan;
    cl_uint nt1 = plan->nt[0];
    cl_float w1 = plan->nlevels == 1 ? 1.0f : CF_OMEGA_COARSE, wf = CF_OMEGA;
    cl_mem zc = plan->nlevels == 1 ? cf_mem(s, B_ZV) : cf_mem(s, B_ZZ);
    size_t g_tiles = cf_groups(s, nt1);
    int fine_done = 0;
    kiln_status st;

    {
        const dev_kernel_arg args[] = {
            DEV_ARG(s->buf[B_ACT]->mem), DEV_ARG(s->buf[B_TILES]->mem),
            DEV_ARG(s->buf[B_PHI]->mem), DEV_ARG(s->buf[B_UIMG]->mem),
            DEV_ARG(s->buf[B_W]->mem), DEV_ARG(s->buf[B_X]->mem), DEV_ARG(s->buf[B_R]->mem),
            DEV_ARG(s->buf[B_P]->mem), DEV_ARG(s->buf[B_S]->mem),
            DEV_ARG(s->buf[B_RV]->mem), DEV_ARG(s->buf[B_ZV]->mem),
            DEV_ARG(s->buf[B_BINV]->mem), DEV_ARG(s->buf[B_SCAL]->mem), DEV_ARG(nt1),
            DEV_ARG(update), DEV_ARG(mg), DEV_ARG(w1)
        };
        size_t items = nt1;
        st = dev_kernel_launch(s->dev, CF_SOURCE, s->options, "cf_update", args,
                               DEV_NARGS(args), 1, &items, NULL);
    }
    if (st == KILN_OK && mg)
        st = cf_vcycle(s, &fine_done);
    if (st == KILN_OK && !fine_done) {
        const dev_kernel_arg args[] = {
            DEV_ARG(s->buf[B_ACT]->mem), DEV_ARG(s->buf[B_TILES]->mem),
            DEV_ARG(s->buf[B_PHI]->mem), DEV_ARG(s->buf[B_R]->mem),
            DEV_ARG(s->buf[B_DIAG]->mem), DEV_ARG(zc), DEV_ARG(s->buf[B_UIMG]->mem),
            DEV_ARG(s->buf[B_PART]->mem), CF_SCRATCH(s), DEV_ARG(nt1), DEV_ARG(mg),
            DEV_ARG(wf)
        };
        size_t items = nt1;
        st = dev_kernel_launch(s->dev, CF_SOURCE, s->options, "cf_fine", args,
                               DEV_NARGS(args), 1, &items, &s->wg);
    }
    if (st == KILN_OK) {
        /* Its partials go after cf_fine's. */
        cl_uint part_off = (cl_uint)g_tiles;
        const dev_kernel_arg args[] = {
            DEV_ARG(s->buf[B_COEF]->mem), DEV_ARG(s->buf[B_ACT]->mem),
            DEV_ARG(s->buf[B_TILES]->mem), DEV_ARG(s->buf[B_UIMG]->mem),
            DEV_ARG(s->buf[B_W]->mem), DEV_ARG(s->buf[B_PART]->mem), DEV_ARG(part_off),
            CF_SCRATCH(s), DEV_ARG(nt1), DEV_ARG(s->width), DEV_ARG(s->height)
        };
        size_t items = nt1;
        st = dev_kernel_launch(s->dev, CF_SOURCE, s->options, "cf_spmv", args,
                               DEV_NARGS(args), 1, &items, &s->wg);
    }
    if (st == KILN_OK)
        st = cf_reduce(s, g_tiles, g_tiles, mode);
    return st;
}

/* Reads the scalars (waits for the queue). */
static kiln_status cf_read_scalars(cf_solver *s, cl_float *scalars)
{
    return dev_buffer_read(s->dev, cf_mem(s, B_SCAL), 0, CF_NSCALARS * sizeof(*scalars),
                           scalars, "closed-form alpha: reading the solver's scalars");
}

/* Runs CG until the residual falls to tolerance * |b| (|r0| when b is
 * 0), max_iterations, or a breakdown of the Jacobi fallback. *residual
 * is the last relative residual read. */
static kiln_status cf_solve(cf_solver *s, const cf_params *p, uint32_t *iterations,
                            float *residual)
{
    cl_float scalars[CF_NSCALARS];
    double ref = 0.0, rr, tol = p->tolerance;
    uint32_t it = 0;
    cl_int mg = 1;
    kiln_status st;

    st = cf_iterate(s, 0, mg, REDUCE_FIRST);
    for (;;) {
        if (st != KILN_OK)
            return st;
        if (it % CF_CHECK_EVERY == 0 || it == p->max_iterations) {
            st = cf_read_scalars(s, scalars);
            if (st != KILN_OK)
                return st;
            if (it == 0)
                ref = scalars[S_BB] > 0.0f ? scalars[S_BB] : scalars[S_RR];
            rr = scalars[S_RR];
            *residual = ref > 0.0 ? (float)sqrt(rr / ref) : 0.0f;
            if (!isfinite(rr) || rr <= tol * tol * ref)
                break;
            if (scalars[S_BREAK] != 0.0f) {
                if (!mg)
                    break;
                /* Restart from the current iterate with Jacobi alone,
                 * whose error at a given residual is larger (slow smooth
                 * modes): it stops at CF_JACOBI_TOL times the tolerance. */
                mg = 0;
                tol *= CF_JACOBI_TOL;
                scalars[S_BREAK] = 0.0f;
                st = dev_buffer_write(s->dev, cf_mem(s, B_SCAL), 0, sizeof(scalars), scalars,
                                      "closed-form alpha: resetting the solver's scalars");
                if (st == KILN_OK)
                    st = cf_iterate(s, 0, mg, REDUCE_FIRST);
                continue;
            }
        }
        if (it >= p->max_iterations)
            break;
        st = cf_iterate(s, 1, mg, REDUCE_NEXT);
        it++;
    }
    *iterations = it;
    return KILN_OK;
}

/* Writes the alpha image: clipped solution at active pixels, the trimap's
 * known value elsewhere. */
static kiln_status cf_write_alpha(cf_solver *s, const dev_image *trimap, dev_image *alpha)
{
    dev_kernel_arg args[] = {
        DEV_ARG(trimap->buf->mem), DEV_ARG(s->buf[B_MAP]->mem), DEV_ARG(s->buf[B_X]->mem),
        DEV_ARG(alpha->buf->mem), DEV_ARG(s->npix)
    };
    size_t items = s->npix;
    return dev_kernel_launch(s->dev, CF_SOURCE, s->options, "cf_alpha", args,
                             DEV_NARGS(args), 1, &items, NULL);
}

/* Closed-form alpha (see matting.h and the comment at the top). */
kiln_status op_alpha_cf(kiln_device *dev, const dev_image *image,
                        const dev_image *trimap, const cf_params *params,
                        dev_image *alpha, cf_stats *stats)
{
    cf_solver s;
    cf_params p;
    uint32_t iterations = 0;
    float residual = 0.0f;
    size_t alpha_bytes;
    kiln_status st;

    if (stats)
        memset(stats, 0, sizeof(*stats));
    cf_params_default(&p);
    st = cf_check(dev, image, trimap, params, alpha, &p);
    if (st != KILN_OK)
        return st;
    memset(&s, 0, sizeof(s));
    s.dev = dev;
    s.radius = p.radius;
    s.tile = p.radius <= 2 ? 4 : 8;
    s.width = image->width;
    s.height = image->height;
    s.npix = image->width * image->height;
    /* Level-1 tiles span at least a row's reach, so that rows couple
     * neighbouring tiles only. */
    snprintf(s.options, sizeof(s.options), "-DCF_R=%u -DCF_T=%u", (unsigned)p.radius,
             (unsigned)s.tile);

    st = dev_image_acquire(dev, s.width, s.height, 1, "matting.alpha", alpha);
    if (st != KILN_OK)
        return kiln_fail_context(st, "closed-form alpha");
    alpha_bytes = alpha->buf->capacity;
    s.held = s.peak = alpha_bytes;
    st = cf_choose_wg(&s);
    if (st == KILN_OK)
        st = cf_acquire(&s, B_MAP, (size_t)s.npix * sizeof(cl_int), TAG_IMAGE);
    if (st == KILN_OK)
        st = cf_find_active(&s, trimap);
    if (st != KILN_OK)
        goto out_release_work;
    s.n = (cl_uint)s.plan.nactive;
    if (s.plan.nunknown == 0) {
        st = dev_buffer_copy(dev, trimap->buf->mem, 0, alpha->buf->mem, 0,
                             (size_t)s.npix * sizeof(cl_float),
                             "closed-form alpha: copying a trimap without unknowns");
        goto out_release_work;
    }
    st = cf_acquire(&s, B_UIMG, (size_t)s.npix * sizeof(cl_float), TAG_IMAGE);
    if (st == KILN_OK) {
        const cl_float zero = 0.0f;
        st = dev_buffer_fill(dev, cf_mem(&s, B_UIMG), &zero, sizeof(zero), 0,
                             (size_t)s.npix * sizeof(cl_float),
                             "closed-form alpha: clearing the image-sized vector");
    }
    if (st == KILN_OK)
        st = cf_prepare(&s);
    if (st == KILN_OK)
        st = cf_build_rows(&s, image, trimap, &p);
    if (st == KILN_OK)
        st = cf_build_levels(&s, image);
    if (st == KILN_OK)
        st = cf_solve(&s, &p, &iterations, &residual);
    if (st == KILN_OK)
        st = cf_write_alpha(&s, trimap, alpha);

out_release_work:
    /* In-order queue: the last kernel has read every buffer before reuse. */
    cf_release_all(&s);
    plan_free(&s.plan);
    if (st != KILN_OK) {
        dev_image_release(dev, alpha);
        return kiln_fail_context(st, "closed-form alpha %ux%u", (unsigned)image->width,
                                 (unsigned)image->height);
    }
    if (stats) {
        stats->iterations = iterations;
        stats->residual = residual;
        stats->unknown = s.plan.nunknown;
        stats->active = s.plan.nunknown ? s.plan.nactive : 0;
        stats->device_bytes = s.peak;
    }
    return KILN_OK;
}
