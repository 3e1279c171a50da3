/* The splat rasterizer's host side (see splat_render.h). */
#include <math.h>
#include <string.h>

#include "host_alloc.h"
#include "launch.h"
#include "splat_render.h"
#include "splat_render_state.h"
#include "splat_sort.h"
#include "status.h"

#define PROJECT_SOURCE "splat_project.cl"
#define BLEND_SOURCE "splat_blend.cl"
#define SPLAT_TILE 16
#define SPLAT_MAX_SIDE 16384u
/* bytes of per-Gaussian frame state: xy 8, conic 16, depth 4, rgb 16,
 * rect 8, radius 4, counts 4 */
#define GAUSSIAN_FRAME_BYTES 60
/* bytes per tile instance: keys and values, twice */
#define INSTANCE_BYTES 24

static const char *const frame_tags[FB_COUNT] = {
    "splat.xy", "splat.conic", "splat.depth", "splat.rgb", "splat.rect", "splat.counts",
    "splat.scan", "splat.total", "splat.keys", "splat.keys", "splat.values", "splat.values",
    "splat.hist", "splat.scan", "splat.total", "splat.ranges", "splat.radius", "splat.final_t",
    "splat.last",
    "splat.grad_xy", "splat.grad_conic", "splat.grad_opacity", "splat.grad_rgb",
    "splat.grad_instances",
};
_Static_assert(sizeof(frame_tags) / sizeof(frame_tags[0]) == FB_COUNT, "a tag per frame buffer");

static const char *const step_names[SPLAT_STEP_COUNT] = {
    "project", "scan", "keys", "sort", "ranges", "blend",
};
_Static_assert(sizeof(step_names) / sizeof(step_names[0]) == SPLAT_STEP_COUNT,
               "a name per step");


/* Name of a step. */
const char *splat_step_name(splat_step step)
{
    return (unsigned)step < SPLAT_STEP_COUNT ? step_names[step] : "unknown";
}

/* Frame bytes for a scene and an instance count. */
size_t splat_frame_bytes(size_t count, uint64_t instances)
{
    return count * GAUSSIAN_FRAME_BYTES + (size_t)instances * INSTANCE_BYTES;
}

/* Creates a renderer. */
kiln_status splat_renderer_init(kiln_device *dev, splat_renderer **out)
{
    splat_renderer *r = kiln_calloc(1, sizeof(*r));
    kiln_status st;

    *out = NULL;
    if (!r)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory");
    r->dev = dev;
    st = splat_sort_shape_get(dev, &r->shape);
    if (st != KILN_OK) {
        kiln_free(r);
        return st;
    }
    if (dev->info.max_work_group < SPLAT_TILE * SPLAT_TILE) {
        kiln_free(r);
        return kiln_fail(KILN_E_CL, "%s runs work-groups of at most %zu items; splatting blends "
                         "16x16 tiles in groups of 256", dev->info.name, dev->info.max_work_group);
    }
    *out = r;
    return KILN_OK;
}

/* Releases the renderer's buffers. */
void splat_renderer_free(splat_renderer *r)
{
    if (!r)
        return;
    for (int i = 0; i < FB_COUNT; i++)
        pool_release(r->dev->pool, r->buf[i]);
    kiln_free(r);
}

/* Makes buffer `which` hold at least `bytes` (see splat_render_state.h). */
kiln_status splat_frame_buffer(splat_renderer *r, frame_buf which, size_t bytes)
{
    pool_buffer **b = &r->buf[which];
    if (bytes == 0)
        bytes = 4;
    if (*b && (*b)->capacity >= bytes)
        return KILN_OK;
    pool_release(r->dev->pool, *b);
    *b = NULL;
    if (bytes > r->dev->info.max_alloc)
        return kiln_fail(KILN_E_NOMEM, "a splat frame buffer (%s) of %zu bytes exceeds the "
                         "device's largest allocation (%llu bytes)", frame_tags[which], bytes,
                         (unsigned long long)r->dev->info.max_alloc);
    return pool_acquire(r->dev->pool, bytes, frame_tags[which], b);
}

/* The cl_mem of a frame buffer. */
static cl_mem fb(const splat_renderer *r, frame_buf which)
{
    return r->buf[which]->mem;
}

/* Opens the timer section of a step when profiling. */
static void step_begin(splat_renderer *r, const splat_render_options *opt, splat_step step)
{
    if (opt->profile_section >= 0)
        dev_timer_section(r->dev, opt->profile_section + (int)step);
}

/* Checks the camera and the options before any work. */
static kiln_status render_check(const splat_camera *cam, const splat_render_options *opt)
{
    if (cam->width < 1 || cam->height < 1 || cam->width > SPLAT_MAX_SIDE ||
        cam->height > SPLAT_MAX_SIDE)
        return kiln_fail(KILN_E_LIMIT, "view %s: %ux%u is outside 1..%u pixels a side", cam->name,
                         cam->width, cam->height, SPLAT_MAX_SIDE);
    if (!(cam->fx > 0) || !(cam->fy > 0) || !isfinite(cam->fx) || !isfinite(cam->fy) ||
        !isfinite(cam->cx) || !isfinite(cam->cy))
        return kiln_fail(KILN_E_INVAL, "view %s: intrinsics must be finite with fx, fy > 0",
                         cam->name);
    for (int k = 0; k < 9; k++)
        if (!isfinite(cam->rotation[k]) || (k < 3 && !isfinite(cam->translation[k])))
            return kiln_fail(KILN_E_INVAL, "view %s: the pose holds a non-finite value", cam->name);
    if (opt->max_instances < 1 || opt->profile_section >= DEV_TIMER_SECTIONS - SPLAT_STEP_COUNT)
        return kiln_fail(KILN_E_INVAL, "splat render: bad options");
    return KILN_OK;
}

/* Packs a camera for the kernels (see splat_render_state.h). */
void splat_camera_pack(const splat_camera *cam, splat_camera_args *out)
{
    double c[3];

    splat_camera_centre(cam, c);
    for (int i = 0; i < 3; i++) {
        for (int k = 0; k < 3; k++)
            out->row[i].s[k] = (cl_float)cam->rotation[i * 3 + k];
        out->row[i].s[3] = (cl_float)cam->translation[i];
    }
    out->intr = (cl_float4){ { (cl_float)cam->fx, (cl_float)cam->fy, (cl_float)cam->cx,
                               (cl_float)cam->cy } };
    out->campos = (cl_float4){ { (cl_float)c[0], (cl_float)c[1], (cl_float)c[2], 0.0f } };
}

/* Enqueues the projection of every Gaussian. */
static kiln_status render_project(splat_renderer *r, const splat_scene_dev *s,
                                  const splat_camera *cam, const splat_render_options *opt,
                                  cl_uint tiles_x, cl_uint tiles_y)
{
    splat_camera_args ca;
    cl_float4 clip;
    cl_uint4 size;
    cl_uint coeffs = s->sh_coeffs, active = s->sh_active, count = (cl_uint)s->count;
    cl_int mode = opt->mode, aa = opt->antialiased;
    size_t global = s->count;

    splat_camera_pack(cam, &ca);
    size = (cl_uint4){ { cam->width, cam->height, tiles_x, tiles_y } };
    clip = (cl_float4){ { opt->mode == SPLAT_MODE_INRIA ? 0.2f : 0.01f, 1e12f, 1.0f / 255.0f,
                          0.0f } };
    const dev_kernel_arg args[] = {
        DEV_ARG(s->means->mem), DEV_ARG(s->rotations->mem), DEV_ARG(s->scales->mem),
        DEV_ARG(s->opacity->mem), DEV_ARG(s->sh->mem), DEV_ARG(coeffs), DEV_ARG(active),
        DEV_ARG(count), DEV_ARG(ca.row[0]), DEV_ARG(ca.row[1]), DEV_ARG(ca.row[2]),
        DEV_ARG(ca.intr), DEV_ARG(ca.campos), DEV_ARG(size), DEV_ARG(clip), DEV_ARG(mode),
        DEV_ARG(aa),
        DEV_ARG(r->buf[FB_XY]->mem), DEV_ARG(r->buf[FB_CONIC]->mem),
        DEV_ARG(r->buf[FB_DEPTH]->mem), DEV_ARG(r->buf[FB_RGB]->mem),
        DEV_ARG(r->buf[FB_RECT]->mem), DEV_ARG(r->buf[FB_RADIUS]->mem),
    };
    return dev_kernel_launch(r->dev, PROJECT_SOURCE, s->sh_half ? "-DSPLAT_SH_HALF" : NULL,
                             "splat_project", args, DEV_NARGS(args), 1, &global, NULL);
}

/* Counts the instances of band [y0, y1): counts, offsets (in place) and
 * the total read back into *total. */
static kiln_status band_count(splat_renderer *r, const splat_scene_dev *s,
                              const splat_render_options *opt, cl_uint y0, cl_uint y1,
                              cl_uint *total)
{
    cl_uint count = (cl_uint)s->count;
    cl_uint2 band = { { y0, y1 } };
    size_t global = s->count;
    kiln_status st;

    step_begin(r, opt, SPLAT_STEP_SCAN);
    const dev_kernel_arg args[] = { DEV_ARG(r->buf[FB_RECT]->mem), DEV_ARG(count), DEV_ARG(band),
                                    DEV_ARG(r->buf[FB_COUNTS]->mem) };
    st = dev_kernel_launch_default(r->dev, PROJECT_SOURCE, "splat_count_tiles", args,
                                   DEV_NARGS(args), 1, &global);
    if (st == KILN_OK)
        st = splat_scan(r->dev, &r->shape, fb(r, FB_COUNTS), fb(r, FB_COUNTS), count,
                        fb(r, FB_SUMS), fb(r, FB_TOTAL));
    if (st == KILN_OK)
        st = dev_buffer_read(r->dev, fb(r, FB_TOTAL), 0, sizeof(*total), total,
                             "reading the tile instance count");
    return st;
}

/* Bits needed to number `n` values 0..n-1 (at least 1). */
static unsigned bits_for(uint32_t n)
{
    unsigned b = 1;
    while (b < 32 && (1u << b) < n)
        b++;
    return b;
}

/* Keys, sort, ranges and blend of band [y0, y1) with `total` instances. */
static kiln_status band_render(splat_renderer *r, const splat_scene_dev *s,
                               const splat_camera *cam, const splat_render_options *opt,
                               cl_uint tiles_x, cl_uint y0, cl_uint y1, cl_uint total,
                               dev_image *image)
{
    cl_uint count = (cl_uint)s->count, band_tiles = (y1 - y0) * tiles_x;
    cl_uint2 band = { { y0, y1 } };
    size_t global = s->count;
    splat_sort_buffers sb;
    int half = 0;
    kiln_status st;

    st = splat_frame_buffer(r, FB_KEYS0, (size_t)total * 8);
    if (st == KILN_OK)
        st = splat_frame_buffer(r, FB_KEYS1, (size_t)total * 8);
    if (st == KILN_OK)
        st = splat_frame_buffer(r, FB_VALUES0, (size_t)total * 4);
    if (st == KILN_OK)
        st = splat_frame_buffer(r, FB_VALUES1, (size_t)total * 4);
    if (st == KILN_OK)
        st = splat_frame_buffer(r, FB_HIST, splat_sort_hist_len(&r->shape, total) * 4);
    if (st == KILN_OK)
        st = splat_frame_buffer(r, FB_HIST_SUMS,
                          splat_scan_blocks(&r->shape, splat_sort_hist_len(&r->shape, total)) * 4);
    if (st == KILN_OK)
        st = splat_frame_buffer(r, FB_HIST_TOTAL, 4);
    if (st == KILN_OK)
        st = splat_frame_buffer(r, FB_RANGES, (size_t)band_tiles * 8);
    if (st != KILN_OK)
        return st;
    sb = (splat_sort_buffers){ { fb(r, FB_KEYS0), fb(r, FB_KEYS1) },
                               { fb(r, FB_VALUES0), fb(r, FB_VALUES1) },
                               fb(r, FB_HIST), fb(r, FB_HIST_SUMS), fb(r, FB_HIST_TOTAL) };
    if (total > 0) {
        const dev_kernel_arg args[] = {
            DEV_ARG(r->buf[FB_RECT]->mem), DEV_ARG(r->buf[FB_DEPTH]->mem),
            DEV_ARG(r->buf[FB_COUNTS]->mem), DEV_ARG(count), DEV_ARG(band), DEV_ARG(tiles_x),
            DEV_ARG(sb.keys[0]), DEV_ARG(sb.values[0]),
        };
        step_begin(r, opt, SPLAT_STEP_KEYS);
        st = dev_kernel_launch_default(r->dev, PROJECT_SOURCE, "splat_write_keys", args,
                                       DEV_NARGS(args), 1, &global);
        if (st == KILN_OK) {
            step_begin(r, opt, SPLAT_STEP_SORT);
            st = splat_sort_pairs(r->dev, &r->shape, &sb, total, 32 + bits_for(band_tiles), &half);
        }
    }
    r->values_half = half;
    step_begin(r, opt, SPLAT_STEP_RANGES);
    if (st == KILN_OK) {
        cl_uint zero = 0;
        st = dev_buffer_fill(r->dev, fb(r, FB_RANGES), &zero, sizeof(zero), 0,
                             (size_t)band_tiles * 8, "clearing tile ranges");
    }
    if (st == KILN_OK && total > 0) {
        size_t n = total;
        const dev_kernel_arg args[] = { DEV_ARG(sb.keys[half]), DEV_ARG(total),
                                        DEV_ARG(r->buf[FB_RANGES]->mem) };
        st = dev_kernel_launch_default(r->dev, PROJECT_SOURCE, "splat_tile_ranges", args,
                                       DEV_NARGS(args), 1, &n);
    }
    if (st == KILN_OK) {
        cl_uint4 size = { { cam->width, cam->height, tiles_x, 0 } };
        int strict = opt->mode == SPLAT_MODE_INRIA;
        cl_float4 blend = { { strict ? 0.99f : 0.999f, 1e-4f, 1.0f / 255.0f, strict ? 1.0f : 0.0f } };
        cl_float4 bg = { { opt->background[0], opt->background[1], opt->background[2], 0.0f } };
        cl_int kind = (cl_int)opt->output;
        cl_float depth_scale = opt->depth_scale;
        int rows = opt->blend_rows < 0 ? (r->dev->info.type & CL_DEVICE_TYPE_CPU) != 0
                                       : opt->blend_rows;
        size_t g2[2] = { (size_t)tiles_x * (rows ? 1 : SPLAT_TILE),
                         (size_t)(y1 - y0) * SPLAT_TILE };
        size_t l2[2] = { SPLAT_TILE, SPLAT_TILE };
        const dev_kernel_arg args[] = {
            DEV_ARG(r->buf[FB_RANGES]->mem), DEV_ARG(sb.values[half]),
            DEV_ARG(r->buf[FB_XY]->mem), DEV_ARG(r->buf[FB_CONIC]->mem),
            DEV_ARG(r->buf[FB_RGB]->mem), DEV_ARG(r->buf[FB_DEPTH]->mem), DEV_ARG(size),
            DEV_ARG(y0), DEV_ARG(blend), DEV_ARG(bg), DEV_ARG(image->buf->mem), DEV_ARG(kind),
            DEV_ARG(depth_scale),
            /* keep_state only: */
            DEV_ARG(r->buf[opt->keep_state ? FB_FINAL_T : FB_XY]->mem),
            DEV_ARG(r->buf[opt->keep_state ? FB_LAST : FB_XY]->mem),
        };
        step_begin(r, opt, SPLAT_STEP_BLEND);
        st = dev_kernel_launch(r->dev, BLEND_SOURCE, opt->keep_state ? "-DSPLAT_KEEP_STATE" : NULL,
                               rows ? "splat_blend_rows" : "splat_blend", args,
                               DEV_NARGS(args) - (opt->keep_state ? 0 : 2), 2, g2,
                               rows ? NULL : l2);
    }
    return st;
}

/* Channels of an output kind. */
static uint32_t output_channels(splat_output out)
{
    switch (out) {
    case SPLAT_OUT_RGB:
        return 3;
    case SPLAT_OUT_RGBA:
    case SPLAT_OUT_RGBA_PREMUL:
        return 4;
    default:
        return 1;
    }
}

/* The instances a band may hold: the caller's cap, lowered to what the
 * pool's budget leaves once the per-Gaussian state and the image are
 * held (the renderer's own instance buffers count as free: they are
 * resized, not added), with an eighth kept for the size classes'
 * rounding, so that a view the budget cannot hold at once renders in
 * bands instead of failing. */
static uint64_t instance_cap(const splat_renderer *r, uint64_t cap)
{
    static const frame_buf instance_bufs[] = { FB_KEYS0, FB_KEYS1, FB_VALUES0, FB_VALUES1,
                                               FB_HIST, FB_HIST_SUMS, FB_RANGES };
    pool_ledger ledger;
    size_t free_bytes, fit;

    pool_ledger_get(r->dev->pool, &ledger);
    free_bytes = ledger.budget > ledger.live_bytes ? ledger.budget - ledger.live_bytes : 0;
    for (size_t i = 0; i < sizeof(instance_bufs) / sizeof(instance_bufs[0]); i++)
        if (r->buf[instance_bufs[i]])
            free_bytes += r->buf[instance_bufs[i]]->capacity;
    fit = free_bytes / 8 * 7 / INSTANCE_BYTES;
    return fit < cap ? (fit > 0 ? fit : 1) : cap;
}

/* Renders one view (see splat_render.h). */
kiln_status splat_render(splat_renderer *r, const splat_scene_dev *s, const splat_camera *cam,
                         const splat_render_options *opt, dev_image *image,
                         splat_render_stats *stats)
{
    cl_uint tiles_x = (cam->width + SPLAT_TILE - 1) / SPLAT_TILE;
    cl_uint tiles_y = (cam->height + SPLAT_TILE - 1) / SPLAT_TILE;
    uint64_t cap = opt->max_instances;
    cl_uint y0 = 0;
    kiln_status st;

    memset(image, 0, sizeof(*image));
    memset(stats, 0, sizeof(*stats));
    r->kept = 0;
    st = render_check(cam, opt);
    if (st != KILN_OK)
        return st;
    if (cap > UINT32_MAX - 1)
        cap = UINT32_MAX - 1;
    if (cap * 8 > r->dev->info.max_alloc)
        cap = r->dev->info.max_alloc / 8;   /* the keys buffer stays one allocation */
    st = splat_frame_buffer(r, FB_XY, s->count * 8);
    if (st == KILN_OK)
        st = splat_frame_buffer(r, FB_CONIC, s->count * 16);
    if (st == KILN_OK)
        st = splat_frame_buffer(r, FB_DEPTH, s->count * 4);
    if (st == KILN_OK)
        st = splat_frame_buffer(r, FB_RGB, s->count * 16);
    if (st == KILN_OK)
        st = splat_frame_buffer(r, FB_RECT, s->count * 8);
    if (st == KILN_OK)
        st = splat_frame_buffer(r, FB_RADIUS, s->count * 4);
    if (st == KILN_OK)
        st = splat_frame_buffer(r, FB_COUNTS, s->count * 4);
    if (st == KILN_OK)
        st = splat_frame_buffer(r, FB_SUMS, splat_scan_blocks(&r->shape, s->count) * 4);
    if (st == KILN_OK)
        st = splat_frame_buffer(r, FB_TOTAL, 4);
    if (st == KILN_OK && opt->keep_state)
        st = splat_frame_buffer(r, FB_FINAL_T, (size_t)cam->width * cam->height * 4);
    if (st == KILN_OK && opt->keep_state)
        st = splat_frame_buffer(r, FB_LAST, (size_t)cam->width * cam->height * 4);
    if (st == KILN_OK)
        st = dev_image_acquire(r->dev, cam->width, cam->height, output_channels(opt->output),
                               "splat.frame", image);
    if (st != KILN_OK)
        goto out_fail;
    cap = instance_cap(r, cap);
    step_begin(r, opt, SPLAT_STEP_PROJECT);
    st = render_project(r, s, cam, opt, tiles_x, tiles_y);
    while (st == KILN_OK && y0 < tiles_y) {
        cl_uint y1 = tiles_y, total = 0;
        for (;;) {
            st = band_count(r, s, opt, y0, y1, &total);
            if (st != KILN_OK || total <= cap)
                break;
            if (y1 - y0 == 1 || opt->keep_state) {
                st = kiln_fail(KILN_E_NOMEM, "view %s: %s needs %s%u tile instances, over "
                               "[splat] max_instances (%llu)", cam->name,
                               opt->keep_state ? "a training frame (one band)" : "one row of tiles",
                               total == UINT32_MAX ? "at least " : "", total,
                               (unsigned long long)cap);
                break;
            }
            y1 = y0 + (y1 - y0) / 2;
        }
        if (st == KILN_OK)
            st = band_render(r, s, cam, opt, tiles_x, y0, y1, total, image);
        r->kept_instances = total;
        stats->instances += total;
        stats->bands++;
        y0 = y1;
    }
    if (opt->profile_section >= 0)
        dev_timer_stop(r->dev);
    if (st == KILN_OK) {
        r->kept = opt->keep_state;
        r->kept_width = cam->width;
        r->kept_height = cam->height;
        r->kept_count = s->count;
        return KILN_OK;
    }
out_fail:
    dev_image_release(r->dev, image);
    return kiln_fail_context(st, "rendering view %s", cam->name);
}
