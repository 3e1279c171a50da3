/* The refine stage. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "matting.h"
#include "ops_image.h"
#include "stage_refine.h"
#include "stages.h"
#include "status.h"

/* Appends a warning sentence to note. */
static void note_add(char *note, size_t len, const char *text)
{
    size_t used;
    if (!note || len == 0)
        return;
    used = strlen(note);
    snprintf(note + used, len - used, "%s%s", used ? "; " : "", text);
}

/* Uploads the mask as one channel at the image's size (resizing, or
 * failing, on a mismatch as the job says). */
static kiln_status mask_upload(kiln_device *dev, const job_config *job, const dev_image *img,
                               const host_image *mask, dev_image *out, char *note, size_t note_len)
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
    if (job->refine_mask_mismatch == REFINE_MISMATCH_FAIL) {
        st = kiln_fail(KILN_E_FORMAT, "mask is %ux%u but the image is %ux%u "
                       "([refine] mask_size_mismatch = fail)", gray.width, gray.height,
                       img->width, img->height);
    } else {
        char text[160];
        snprintf(text, sizeof(text), "mask %ux%u resized to the image's %ux%u", gray.width,
                 gray.height, img->width, img->height);
        note_add(note, note_len, text);
        st = op_resize(dev, &gray, img->width, img->height, RESIZE_BILINEAR, out);
    }
    dev_image_release(dev, &gray);
    return st;
}

/* The erosion side: erode_size, scaled by the image's longest side over
 * erode_reference_size when that is set. */
static uint32_t erode_side(const job_config *job, const dev_image *img)
{
    uint32_t longest = img->width > img->height ? img->width : img->height;
    double side = (double)job->refine_erode_size;
    if (job->refine_erode_reference && job->refine_erode_size)
        side = side * longest / (double)job->refine_erode_reference;
    return side > 0 && side < 1 ? 1 : (uint32_t)lround(side);
}

/* Computes the alpha: the trimap's closed-form solution, or the guided
 * filter of the mask, or (empty trimap, fallback mask) the mask itself. */
static kiln_status alpha_compute(kiln_device *dev, const job_config *job, const dev_image *rgb,
                                 const dev_image *mask, dev_image *alpha, char *note,
                                 size_t note_len, refine_stats *stats)
{
    dev_image trimap = { 0 };
    size_t fg = 0, bg = 0, unknown = 0;
    cf_params params;
    cf_stats cf = { 0 };
    double t0 = kiln_clock_ms();
    kiln_status st;

    if (job->refine_method == REFINE_METHOD_GUIDED) {
        st = op_guided_filter(dev, rgb, mask, (uint32_t)job->refine_guided_radius,
                              job->refine_guided_epsilon, alpha);
        if (st == KILN_OK)
            st = device_finish(dev);
        stats->alpha_ms = kiln_clock_ms() - t0;
        return st;
    }
    if (job->refine_trimaps[0])
        st = dev_image_extract_channel(dev, mask, 0, &trimap);
    else
        st = op_trimap_from_mask(dev, mask, (float)job->refine_fg_threshold,
                                 (float)job->refine_bg_threshold, erode_side(job, rgb), &trimap);
    if (st == KILN_OK)
        st = op_trimap_counts(dev, &trimap, &fg, &bg, &unknown);
    if (st == KILN_OK)
        st = device_finish(dev);
    if (st != KILN_OK)
        goto out_release_trimap;
    stats->trimap_ms = kiln_clock_ms() - t0;
    stats->unknown = unknown;
    if (fg == 0 || bg == 0) {
        char text[160];
        snprintf(text, sizeof(text), "the trimap has no %s pixel", fg == 0 ? "foreground" : "background");
        if (job->refine_on_empty_trimap == REFINE_EMPTY_FAIL) {
            st = kiln_fail(KILN_E_FORMAT, "%s ([refine] on_empty_trimap = fail)", text);
            goto out_release_trimap;
        }
        note_add(note, note_len, text);
        note_add(note, note_len, "the mask is used as alpha (on_empty_trimap = mask)");
        stats->used_mask = 1;
        st = dev_image_extract_channel(dev, mask, 0, alpha);
        goto out_release_trimap;
    }
    t0 = kiln_clock_ms();
    cf_params_default(&params);
    params.epsilon = job->refine_epsilon;
    params.radius = (uint32_t)job->refine_radius;
    params.max_iterations = (uint32_t)job->refine_max_iterations;
    params.tolerance = job->refine_tolerance;
    st = op_alpha_cf(dev, rgb, &trimap, &params, alpha, &cf);
    if (st == KILN_OK)
        st = device_finish(dev);
    stats->iterations = cf.iterations;
    stats->alpha_ms = kiln_clock_ms() - t0;
out_release_trimap:
    dev_image_release(dev, &trimap);
    return st;
}

/* Runs the stage from a host mask: uploads it, then refines. */
kiln_status stage_refine(kiln_device *dev, const job_config *job, dev_image *img,
                         const host_image *mask, char *note, size_t note_len,
                         refine_stats *stats)
{
    dev_image rgb = { 0 }, m = { 0 };
    const dev_image *colour = img;
    kiln_status st;

    if (img->channels != 3) {
        st = op_convert_channels(dev, img, 3, &rgb);
        if (st != KILN_OK)
            return kiln_fail_context(st, "refine: colour guide");
        colour = &rgb;
    }
    st = mask_upload(dev, job, colour, mask, &m, note, note_len);
    dev_image_release(dev, &rgb);
    if (st != KILN_OK)
        return kiln_fail_context(st, "refine: mask");
    st = stage_refine_device(dev, job, img, &m, note, note_len, stats);
    dev_image_release(dev, &m);
    return st;
}

/* Runs the stage from a mask already on the device. */
kiln_status stage_refine_device(kiln_device *dev, const job_config *job, dev_image *img,
                                const dev_image *mask, char *note, size_t note_len,
                                refine_stats *stats)
{
    dev_image rgb = { 0 }, alpha = { 0 }, fg = { 0 }, out = { 0 };
    const dev_image *colour = img;
    refine_stats local;
    fg_params fgp;
    kiln_status st;

    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof(*stats));
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
    st = alpha_compute(dev, job, colour, mask, &alpha, note, note_len, stats);
    if (st != KILN_OK) {
        kiln_fail_context(st, "refine: alpha");
        goto out_release;
    }
    if (job->refine_output == REFINE_OUTPUT_ALPHA) {
        dev_image_release(dev, img);
        *img = alpha;
        memset(&alpha, 0, sizeof(alpha));
        goto out_release;
    }
    if (job->refine_foreground == REFINE_FOREGROUND_ML) {
        double t0 = kiln_clock_ms();
        fg_params_default(&fgp);
        fgp.regularization = job->refine_fg_regularization;
        fgp.small_iterations = (uint32_t)job->refine_fg_small_iterations;
        fgp.big_iterations = (uint32_t)job->refine_fg_big_iterations;
        fgp.small_size = (uint32_t)job->refine_fg_small_size;
        st = op_foreground_ml(dev, colour, &alpha, &fgp, &fg, NULL);
        if (st == KILN_OK)
            st = device_finish(dev);
        stats->foreground_ms = kiln_clock_ms() - t0;
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
    dev_image_release(dev, img);
    *img = out;
out_release:
    dev_image_release(dev, &fg);
    dev_image_release(dev, &alpha);
    dev_image_release(dev, &rgb);
    return st;
}
