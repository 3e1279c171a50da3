/* The composite stage (see stage_composite.h). */
#include <stdlib.h>
#include <string.h>

#include "host_alloc.h"
#include "ops_image.h"
#include "image_read.h"
#include "stage_composite.h"
#include "status.h"

/* The stage's state: the background, read and uploaded once per job and
 * device (empty when compositing over a colour). */
typedef struct composite_state {
    kiln_device *dev;
    const job_composite *cfg;
    dev_image background;
} composite_state;

/* [composite] enabled. */
static int composite_enabled(const job_config *job)
{
    return job->composite.enabled;
}

/* Reads and uploads the background image when the job names one. */
static kiln_status composite_open(kiln_device *dev, const stage_context *ctx, void **state)
{
    composite_state *s = kiln_calloc(1, sizeof(*s));
    if (!s)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory");
    s->dev = dev;
    s->cfg = ctx->section;
    if (s->cfg->image[0]) {
        host_image host = { 0 };
        kiln_status st = image_read_file(s->cfg->image, ctx->max_pixels, &host);
        if (st == KILN_OK)
            st = dev_image_upload(dev, &host, NULL, NULL, &s->background);
        host_image_free(&host);
        if (st != KILN_OK) {
            kiln_fail_context(st, "[composite] image %s", s->cfg->image);
            kiln_free(s);
            return st;
        }
    }
    *state = s;
    return KILN_OK;
}

/* Composites the item's image over the colour or the background. */
static kiln_status composite_run(void *state, stage_item *item)
{
    composite_state *s = state;
    kiln_device *dev = s->dev;
    dev_image *img = &item->image;
    dev_image rgba = { 0 }, fitted = { 0 }, out = { 0 };
    kiln_status st;

    if (img->channels == 3)
        return KILN_OK; /* opaque: the composite is the image itself */
    if (img->channels == 1) {
        st = op_convert_channels(dev, img, 3, &out);
        if (st != KILN_OK)
            return kiln_fail_context(st, "composite");
        stage_item_replace(dev, item, &out);
        return KILN_OK;
    }
    st = op_convert_channels(dev, img, 4, &rgba);
    if (st != KILN_OK)
        return kiln_fail_context(st, "composite");
    if (s->background.buf) {
        const dev_image *bg = &s->background;
        if (bg->width != img->width || bg->height != img->height) {
            st = op_resize(dev, bg, img->width, img->height, RESIZE_BILINEAR, &fitted);
            if (st != KILN_OK)
                goto out_release_rgba;
            bg = &fitted;
        }
        st = op_composite_image(dev, &rgba, bg, s->cfg->premultiplied, &out);
    } else {
        st = op_composite_colour(dev, &rgba, s->cfg->colour, s->cfg->premultiplied, &out);
    }
    if (st == KILN_OK)
        stage_item_replace(dev, item, &out);
    dev_image_release(dev, &fitted);
out_release_rgba:
    dev_image_release(dev, &rgba);
    return st == KILN_OK ? KILN_OK : kiln_fail_context(st, "composite");
}

/* Releases the background. */
static void composite_close(void *state)
{
    composite_state *s = state;
    if (!s)
        return;
    dev_image_release(s->dev, &s->background);
    kiln_free(s);
}

const stage_ops stage_composite_ops = {
    .name = "composite",
    .section_offset = offsetof(job_config, composite),
    .enabled = composite_enabled,
    .open = composite_open,
    .run = composite_run,
    .close = composite_close,
};
