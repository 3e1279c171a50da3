/* The refine stage. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_alloc.h"
#include "clock.h"
#include "matting.h"
#include "ops_image.h"
#include "stage_refine.h"
#include "status.h"

/* Uploads the mask as one channel at the image's size (resizing, or
 * failing, on a mismatch as the job says). */
static kiln_status mask_upload(kiln_device *dev, const job_refine *cfg, const dev_image *img,
                               const host_image *mask, dev_image *out, stage_item *item)
{
    dev_image raw = { 0 }, gray = { 0 };
    kiln_status st = dev_image_upload(dev, mask, NULL, NULL, &raw);

    if (st != KILN_OK)
        return st;
    if (raw.channels == 1) {
        gray = raw;
        memset(&raw, 0, sizeof(raw));
    } else {
        /* as PIL's convert("L"), which rembg and pymatting use: luma of the
         * colour, alpha ignored */
        st = op_convert_channels(dev, &raw, 1, &gray);
    }
    dev_image_release(dev, &raw);
    if (st != KILN_OK)
        return st;
    if (gray.width == img->width && gray.height == img->height) {
        *out = gray;
        return KILN_OK;
    }
    if (cfg->mask_mismatch == REFINE_MISMATCH_FAIL) {
        st = kiln_fail(KILN_E_FORMAT, "mask is %ux%u but the image is %ux%u "
                       "([refine] mask_size_mismatch = fail)", gray.width, gray.height,
                       img->width, img->height);
    } else {
        stage_note(item, "mask %ux%u resized to the image's %ux%u", gray.width, gray.height,
                   img->width, img->height);
        st = op_resize(dev, &gray, img->width, img->height, RESIZE_BILINEAR, out);
    }
    dev_image_release(dev, &gray);
    return st;
}

/* The erosion side: erode_size, scaled by the image's longest side over
 * erode_reference_size when that is set. */
static uint32_t erode_side(const job_refine *cfg, const dev_image *img)
{
    uint32_t longest = img->width > img->height ? img->width : img->height;
    double side = (double)cfg->erode_size;
    if (cfg->erode_reference && cfg->erode_size)
        side = side * longest / (double)cfg->erode_reference;
    return side > 0 && side < 1 ? 1 : (uint32_t)lround(side);
}

/* Computes the alpha: the trimap's closed-form solution, or the guided
 * filter of the mask, or (empty trimap, fallback mask) the mask itself. */
static kiln_status alpha_compute(kiln_device *dev, const job_refine *cfg, const dev_image *rgb,
                                 const dev_image *mask, dev_image *alpha, stage_item *item)
{
    dev_image trimap = { 0 };
    size_t fg = 0, bg = 0, unknown = 0;
    cf_params params;
    cf_stats cf = { 0 };
    double t0 = kiln_clock_ms();
    kiln_status st;

    if (cfg->method == REFINE_METHOD_GUIDED) {
        st = op_guided_filter(dev, rgb, mask, (uint32_t)cfg->guided_radius,
                              cfg->guided_epsilon, alpha);
        if (st == KILN_OK)
            st = stage_step_done(dev, item, "refine.alpha_ms", &t0);
        return st;
    }
    if (cfg->trimaps[0])
        st = dev_image_extract_channel(dev, mask, 0, &trimap);
    else
        st = op_trimap_from_mask(dev, mask, (float)cfg->fg_threshold,
                                 (float)cfg->bg_threshold, erode_side(cfg, rgb), &trimap);
    if (st == KILN_OK)
        st = op_trimap_counts(dev, &trimap, &fg, &bg, &unknown);
    if (st == KILN_OK)
        st = stage_step_done(dev, item, "refine.trimap_ms", &t0);
    if (st != KILN_OK)
        goto out_release_trimap;
    stage_figure_add(item, "refine.unknown", (double)unknown);
    if (fg == 0 || bg == 0) {
        const char *side = fg == 0 ? "foreground" : "background";
        if (cfg->on_empty_trimap == REFINE_EMPTY_FAIL) {
            st = kiln_fail(KILN_E_FORMAT, "the trimap has no %s pixel ([refine] on_empty_trimap "
                           "= fail)", side);
            goto out_release_trimap;
        }
        stage_note(item, "the trimap has no %s pixel", side);
        stage_note(item, "the mask is used as alpha (on_empty_trimap = mask)");
        stage_figure_add(item, "refine.used_mask", 1);
        st = dev_image_extract_channel(dev, mask, 0, alpha);
        goto out_release_trimap;
    }
    cf_params_default(&params);
    params.epsilon = cfg->epsilon;
    params.radius = (uint32_t)cfg->radius;
    params.max_iterations = (uint32_t)cfg->max_iterations;
    params.tolerance = cfg->tolerance;
    st = op_alpha_cf(dev, rgb, &trimap, &params, alpha, &cf);
    if (st == KILN_OK)
        st = stage_step_done(dev, item, "refine.alpha_ms", &t0);
    stage_figure_add(item, "refine.iterations", cf.iterations);
out_release_trimap:
    dev_image_release(dev, &trimap);
    return st;
}

/* Refines item->image with `mask` (on the device, the image's size) and
 * replaces the image by the alpha or the cut-out. */
static kiln_status refine_with_mask(kiln_device *dev, const job_refine *cfg, stage_item *item,
                                    const dev_image *mask)
{
    dev_image *img = &item->image;
    dev_image rgb = { 0 }, alpha = { 0 }, fg = { 0 }, out = { 0 };
    const dev_image *colour = img;
    fg_params fgp;
    kiln_status st;

    if (mask->width != img->width || mask->height != img->height)
        return kiln_fail(KILN_E_INVAL, "refine: the mask is %ux%u but the image is %ux%u",
                         (unsigned)mask->width, (unsigned)mask->height,
                         (unsigned)img->width, (unsigned)img->height);
    if (img->channels != 3) {
        st = op_convert_channels(dev, img, 3, &rgb);
        if (st != KILN_OK)
            return kiln_fail_context(st, "refine: colour guide");
        colour = &rgb;
    }
    st = alpha_compute(dev, cfg, colour, mask, &alpha, item);
    if (st != KILN_OK) {
        kiln_fail_context(st, "refine: alpha");
        goto out_release;
    }
    if (cfg->output == REFINE_OUTPUT_ALPHA) {
        stage_item_replace(dev, item, &alpha);
        goto out_release;
    }
    if (cfg->foreground == REFINE_FOREGROUND_ML) {
        double t0 = kiln_clock_ms();
        fg_params_default(&fgp);
        fgp.regularization = cfg->fg_regularization;
        fgp.small_iterations = (uint32_t)cfg->fg_small_iterations;
        fgp.big_iterations = (uint32_t)cfg->fg_big_iterations;
        fgp.small_size = (uint32_t)cfg->fg_small_size;
        st = op_foreground_ml(dev, colour, &alpha, &fgp, &fg, NULL);
        if (st == KILN_OK)
            st = stage_step_done(dev, item, "refine.foreground_ms", &t0);
        if (st != KILN_OK) {
            kiln_fail_context(st, "refine: foreground");
            goto out_release;
        }
        colour = &fg;
    }
    st = op_attach_alpha(dev, colour, &alpha, &out);
    if (st != KILN_OK) {
        kiln_fail_context(st, "refine: cut-out");
        goto out_release;
    }
    stage_item_replace(dev, item, &out);
out_release:
    dev_image_release(dev, &fg);
    dev_image_release(dev, &alpha);
    dev_image_release(dev, &rgb);
    return st;
}

/* The stage's state: its device and section. */
typedef struct refine_state {
    kiln_device *dev;
    const job_refine *cfg;
} refine_state;

/* [refine] enabled. */
static int refine_enabled(const job_config *job)
{
    return job->refine.enabled;
}

/* Keeps the device and section: refinement loads nothing per job. */
static kiln_status refine_open(kiln_device *dev, const stage_context *ctx, void **state)
{
    refine_state *s = kiln_calloc(1, sizeof(*s));
    if (!s)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory");
    s->dev = dev;
    s->cfg = ctx->section;
    *state = s;
    return KILN_OK;
}

/* Refines the item with the mask [segment] left, else its mask file. */
static kiln_status refine_run(void *state, stage_item *item)
{
    refine_state *s = state;
    kiln_device *dev = s->dev;
    dev_image rgb = { 0 }, m = { 0 };
    const dev_image *colour = &item->image;
    kiln_status st;

    if (item->mask.buf)
        return refine_with_mask(dev, s->cfg, item, &item->mask);
    if (!item->host_mask)
        return kiln_fail(KILN_E_INVAL, "refine: no mask for this item");
    if (item->image.channels != 3) {
        st = op_convert_channels(dev, &item->image, 3, &rgb);
        if (st != KILN_OK)
            return kiln_fail_context(st, "refine: colour guide");
        colour = &rgb;
    }
    st = mask_upload(dev, s->cfg, colour, item->host_mask, &m, item);
    dev_image_release(dev, &rgb);
    if (st != KILN_OK)
        return kiln_fail_context(st, "refine: mask");
    st = refine_with_mask(dev, s->cfg, item, &m);
    dev_image_release(dev, &m);
    return st;
}

/* Frees the state. */
static void refine_close(void *state)
{
    kiln_free(state);
}

const stage_ops stage_refine_ops = {
    .name = "refine",
    .section_offset = offsetof(job_config, refine),
    .takes_mask = 1,
    .needs_host_mask = 1,
    .enabled = refine_enabled,
    .open = refine_open,
    .run = refine_run,
    .close = refine_close,
};
