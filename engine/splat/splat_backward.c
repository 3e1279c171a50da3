/* The splat backward pass's host side (see splat_backward.h). */
#include <stdio.h>
#include <string.h>

#include "launch.h"
#include "splat_backward.h"
#include "splat_render_state.h"
#include "status.h"

#define BACKWARD_SOURCE "splat_backward.cl"

/* Picks the float atomic of the backward once per renderer: the device's
 * own (NVIDIA: PTX atom.add.f32) when its vendor has one and a build of
 * that variant succeeds, else the compare-and-swap loop.  Writes the
 * program options for the scene's SH storage into buf. */
static const char *backward_options(splat_renderer *r, const splat_scene_dev *s, char *buf,
                                    size_t len)
{
    if (!r->atomics_checked) {
        cl_kernel k;
        r->atomics_checked = 1;
        r->atomics_native = strstr(r->dev->info.vendor, "NVIDIA") != NULL &&
                            device_kernel(r->dev, BACKWARD_SOURCE, "-DSPLAT_ATOMIC_PTX",
                                          "splat_blend_backward", &k) == KILN_OK;
        kiln_clear_error();
    }
    snprintf(buf, len, "%s%s", s->sh_half ? "-DSPLAT_SH_HALF " : "",
             r->atomics_native ? "-DSPLAT_ATOMIC_PTX" : "");
    return buf;
}

/* Acquires the gradient buffers. */
kiln_status splat_grads_acquire(kiln_device *dev, size_t count, uint32_t sh_coeffs,
                                splat_grads *grads)
{
    size_t n = count ? count : 1;
    kiln_status st;

    memset(grads, 0, sizeof(*grads));
    grads->count = count;
    grads->sh_coeffs = sh_coeffs;
    st = pool_acquire(dev->pool, n * 3 * sizeof(float), "splat.grad.means", &grads->means);
    if (st == KILN_OK)
        st = pool_acquire(dev->pool, n * 3 * sizeof(float), "splat.grad.scales", &grads->scales);
    if (st == KILN_OK)
        st = pool_acquire(dev->pool, n * 4 * sizeof(float), "splat.grad.rotations",
                          &grads->rotations);
    if (st == KILN_OK)
        st = pool_acquire(dev->pool, n * sizeof(float), "splat.grad.opacity", &grads->opacity);
    if (st == KILN_OK)
        st = pool_acquire(dev->pool, n * sh_coeffs * 3 * sizeof(float), "splat.grad.sh",
                          &grads->sh);
    if (st != KILN_OK)
        splat_grads_release(dev, grads);
    return st;
}

/* Releases the gradient buffers. */
void splat_grads_release(kiln_device *dev, splat_grads *grads)
{
    pool_release(dev->pool, grads->sh);
    pool_release(dev->pool, grads->opacity);
    pool_release(dev->pool, grads->rotations);
    pool_release(dev->pool, grads->scales);
    pool_release(dev->pool, grads->means);
    memset(grads, 0, sizeof(*grads));
}

/* Checks that the renderer kept the frame the backward replays. */
static kiln_status backward_check(const splat_renderer *r, const splat_scene_dev *s,
                                  const splat_camera *cam, const splat_render_options *opt,
                                  const dev_image *dl, const splat_grads *grads)
{
    if (!r->kept || r->kept_width != cam->width || r->kept_height != cam->height ||
        r->kept_count != s->count)
        return kiln_fail(KILN_E_INVAL, "splat backward: the renderer's last frame is not this "
                         "view rendered with keep_state");
    if (opt->output != SPLAT_OUT_RGB || opt->antialiased)
        return kiln_fail(KILN_E_INVAL, "splat backward: only the rgb output without the "
                         "antialiased mode is differentiated");
    if (!dl->buf || dl->channels != 3 || dl->width != cam->width || dl->height != cam->height)
        return kiln_fail(KILN_E_INVAL, "splat backward: dL/dRGB must be 3 x %u x %u", cam->width,
                         cam->height);
    if (grads->count != s->count || grads->sh_coeffs != s->sh_coeffs || !grads->sh)
        return kiln_fail(KILN_E_INVAL, "splat backward: gradients of another scene's shape");
    return KILN_OK;
}

/* Zero-fills the per-Gaussian blend gradients (9 floats a Gaussian). */
static kiln_status blend_grads_clear(splat_renderer *r, size_t count)
{
    static const frame_buf bufs[4] = { FB_G_XY, FB_G_CONIC, FB_G_OPACITY, FB_G_RGB };
    static const size_t floats[4] = { 2, 3, 1, 3 };
    cl_float zero = 0.0f;
    kiln_status st = KILN_OK;

    for (int i = 0; i < 4 && st == KILN_OK; i++) {
        st = splat_frame_buffer(r, bufs[i], count * floats[i] * sizeof(float));
        if (st == KILN_OK)
            st = dev_buffer_fill(r->dev, r->buf[bufs[i]]->mem, &zero, sizeof(zero), 0,
                                 count * floats[i] * sizeof(float), "clearing splat gradients");
    }
    return st;
}

/* The deterministic blend backward: per-tile sums into per-instance
 * slots, then a per-Gaussian gather in a fixed order, into the blend
 * gradients. */
static kiln_status blend_backward_deterministic(splat_renderer *r, const splat_scene_dev *s,
                                                const splat_camera *cam,
                                                const splat_render_options *opt,
                                                const dev_image *dl)
{
    static const frame_buf bufs[4] = { FB_G_XY, FB_G_CONIC, FB_G_OPACITY, FB_G_RGB };
    static const size_t floats[4] = { 2, 3, 1, 3 };
    cl_uint tiles_x = (cam->width + 15) / 16, tiles_y = (cam->height + 15) / 16;
    cl_uint4 size = { { cam->width, cam->height, tiles_x, tiles_y } };
    int strict = opt->mode == SPLAT_MODE_INRIA;
    cl_float4 blend = { { strict ? 0.99f : 0.999f, 1e-4f, 1.0f / 255.0f, strict ? 1.0f : 0.0f } };
    cl_float4 bg = { { opt->background[0], opt->background[1], opt->background[2], 0.0f } };
    size_t inst_bytes = (size_t)(r->kept_instances ? r->kept_instances : 1) * 9 * sizeof(float);
    cl_uint count = (cl_uint)s->count;
    cl_float zero = 0.0f;
    kiln_status st = splat_frame_buffer(r, FB_G_INST, inst_bytes);

    for (int i = 0; i < 4 && st == KILN_OK; i++)
        st = splat_frame_buffer(r, bufs[i], s->count * floats[i] * sizeof(float));
    if (st == KILN_OK)
        st = dev_buffer_fill(r->dev, r->buf[FB_G_INST]->mem, &zero, sizeof(zero), 0, inst_bytes,
                             "clearing splat instance gradients");
    if (st == KILN_OK) {
        size_t tiles[2] = { tiles_x, tiles_y };
        const dev_kernel_arg args[] = {
            DEV_ARG(r->buf[FB_RANGES]->mem), DEV_ARG(r->buf[FB_VALUES0 + r->values_half]->mem),
            DEV_ARG(r->buf[FB_XY]->mem), DEV_ARG(r->buf[FB_CONIC]->mem),
            DEV_ARG(r->buf[FB_RGB]->mem), DEV_ARG(r->buf[FB_FINAL_T]->mem),
            DEV_ARG(r->buf[FB_LAST]->mem), DEV_ARG(dl->buf->mem), DEV_ARG(size), DEV_ARG(blend),
            DEV_ARG(bg), DEV_ARG(r->buf[FB_G_INST]->mem),
        };
        st = dev_kernel_launch(r->dev, BACKWARD_SOURCE, s->sh_half ? "-DSPLAT_SH_HALF" : NULL,
                               "splat_blend_backward_tiles", args, DEV_NARGS(args), 2, tiles,
                               NULL);
    }
    if (st == KILN_OK) {
        size_t global = s->count;
        const dev_kernel_arg args[] = {
            DEV_ARG(r->buf[FB_RECT]->mem), DEV_ARG(r->buf[FB_DEPTH]->mem),
            DEV_ARG(r->buf[FB_RANGES]->mem), DEV_ARG(r->buf[FB_KEYS0 + r->values_half]->mem),
            DEV_ARG(r->buf[FB_VALUES0 + r->values_half]->mem), DEV_ARG(r->buf[FB_G_INST]->mem),
            DEV_ARG(count), DEV_ARG(tiles_x), DEV_ARG(r->buf[FB_G_XY]->mem),
            DEV_ARG(r->buf[FB_G_CONIC]->mem), DEV_ARG(r->buf[FB_G_OPACITY]->mem),
            DEV_ARG(r->buf[FB_G_RGB]->mem),
        };
        st = dev_kernel_launch(r->dev, BACKWARD_SOURCE, s->sh_half ? "-DSPLAT_SH_HALF" : NULL,
                               "splat_gather_instances", args, DEV_NARGS(args), 1, &global, NULL);
    }
    return st;
}

/* Runs the two backward kernels. */
kiln_status splat_render_backward(splat_renderer *r, const splat_scene_dev *s,
                                  const splat_camera *cam, const splat_render_options *opt,
                                  const dev_image *dl_drgb, splat_grads *grads)
{
    cl_uint tiles_x = (cam->width + 15) / 16, tiles_y = (cam->height + 15) / 16;
    cl_uint4 size = { { cam->width, cam->height, tiles_x, tiles_y } };
    int strict = opt->mode == SPLAT_MODE_INRIA;
    cl_float4 blend = { { strict ? 0.99f : 0.999f, 1e-4f, 1.0f / 255.0f, strict ? 1.0f : 0.0f } };
    cl_float4 bg = { { opt->background[0], opt->background[1], opt->background[2], 0.0f } };
    size_t global = s->count;
    kiln_status st = backward_check(r, s, cam, opt, dl_drgb, grads);

    char options[64];
    backward_options(r, s, options, sizeof(options));
    if (st == KILN_OK && !opt->deterministic)
        st = blend_grads_clear(r, s->count);
    if (st == KILN_OK && opt->deterministic)
        st = blend_backward_deterministic(r, s, cam, opt, dl_drgb);
    else if (st == KILN_OK) {
        const dev_kernel_arg args[] = {
            DEV_ARG(r->buf[FB_RANGES]->mem), DEV_ARG(r->buf[FB_VALUES0 + r->values_half]->mem),
            DEV_ARG(r->buf[FB_XY]->mem), DEV_ARG(r->buf[FB_CONIC]->mem),
            DEV_ARG(r->buf[FB_RGB]->mem), DEV_ARG(r->buf[FB_FINAL_T]->mem),
            DEV_ARG(r->buf[FB_LAST]->mem), DEV_ARG(dl_drgb->buf->mem), DEV_ARG(size),
            DEV_ARG(blend), DEV_ARG(bg), DEV_ARG(r->buf[FB_G_XY]->mem),
            DEV_ARG(r->buf[FB_G_CONIC]->mem), DEV_ARG(r->buf[FB_G_OPACITY]->mem),
            DEV_ARG(r->buf[FB_G_RGB]->mem),
        };
        size_t pixels[2] = { cam->width, cam->height };
        st = dev_kernel_launch(r->dev, BACKWARD_SOURCE, options, "splat_blend_backward", args,
                               DEV_NARGS(args), 2, pixels, NULL);
    }
    if (st == KILN_OK) {
        splat_camera_args ca;
        cl_uint coeffs = s->sh_coeffs, active = s->sh_active, count = (cl_uint)s->count;
        cl_int mode = opt->mode;
        splat_camera_pack(cam, &ca);
        const dev_kernel_arg args[] = {
            DEV_ARG(s->means->mem), DEV_ARG(s->rotations->mem), DEV_ARG(s->scales->mem),
            DEV_ARG(s->opacity->mem), DEV_ARG(s->sh->mem), DEV_ARG(coeffs), DEV_ARG(active),
            DEV_ARG(count), DEV_ARG(ca.row[0]), DEV_ARG(ca.row[1]), DEV_ARG(ca.row[2]),
            DEV_ARG(ca.intr), DEV_ARG(ca.campos),
            DEV_ARG(size), DEV_ARG(mode), DEV_ARG(r->buf[FB_RECT]->mem),
            DEV_ARG(r->buf[FB_G_XY]->mem), DEV_ARG(r->buf[FB_G_CONIC]->mem),
            DEV_ARG(r->buf[FB_G_OPACITY]->mem), DEV_ARG(r->buf[FB_G_RGB]->mem),
            DEV_ARG(grads->means->mem), DEV_ARG(grads->scales->mem),
            DEV_ARG(grads->rotations->mem), DEV_ARG(grads->opacity->mem), DEV_ARG(grads->sh->mem),
        };
        st = dev_kernel_launch(r->dev, BACKWARD_SOURCE, options, "splat_project_backward", args,
                               DEV_NARGS(args), 1, &global, NULL);
    }
    if (st != KILN_OK)
        kiln_fail_context(st, "splat backward of view %s", cam->name);
    return st;
}
