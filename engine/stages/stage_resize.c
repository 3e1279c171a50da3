/* The resize stage (see stage_resize.h). */
#include <stdlib.h>
#include <string.h>

#include "host_alloc.h"
#include "ops_image.h"
#include "stage_resize.h"
#include "status.h"

/* Scales `side` by num/den, rounded, at least 1. */
static uint32_t scaled(uint32_t side, uint64_t num, uint64_t den)
{
    uint64_t v = ((uint64_t)side * num + den / 2) / den;
    return v < 1 ? 1 : (uint32_t)v;
}

/* The resize stage's output size. */
void stage_resize_size(const job_resize *cfg, uint32_t w, uint32_t h, uint32_t *out_w,
                       uint32_t *out_h)
{
    *out_w = w;
    *out_h = h;
    if (!cfg->enabled)
        return;
    if (cfg->width && cfg->height) {
        *out_w = (uint32_t)cfg->width;
        *out_h = (uint32_t)cfg->height;
    } else if (cfg->width) {
        *out_w = (uint32_t)cfg->width;
        *out_h = scaled(h, cfg->width, w);
    } else if (cfg->height) {
        *out_h = (uint32_t)cfg->height;
        *out_w = scaled(w, cfg->height, h);
    }
    if (cfg->max_side) {
        uint32_t longest = *out_w > *out_h ? *out_w : *out_h;
        if (longest > cfg->max_side) {
            uint32_t nw = scaled(*out_w, cfg->max_side, longest);
            uint32_t nh = scaled(*out_h, cfg->max_side, longest);
            *out_w = nw;
            *out_h = nh;
        }
    }
}

/* The stage's state: its device and section. */
typedef struct resize_state {
    kiln_device *dev;
    const job_resize *cfg;
} resize_state;

/* [resize] enabled. */
static int resize_enabled(const job_config *job)
{
    return job->resize.enabled;
}

/* Nothing to load: keeps the device and section. */
static kiln_status resize_open(kiln_device *dev, const stage_context *ctx, void **state)
{
    resize_state *s = kiln_calloc(1, sizeof(*s));
    if (!s)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory");
    s->dev = dev;
    s->cfg = ctx->section;
    *state = s;
    return KILN_OK;
}

/* Resizes the item's image to the size its input size asks for. */
static kiln_status resize_run(void *state, stage_item *item)
{
    resize_state *s = state;
    dev_image next = { 0 };
    uint32_t w, h;
    kiln_status st;

    stage_resize_size(s->cfg, item->width, item->height, &w, &h);
    if (w == item->image.width && h == item->image.height)
        return KILN_OK;
    st = op_resize(s->dev, &item->image, w, h, (resize_filter)s->cfg->filter, &next);
    if (st != KILN_OK)
        return kiln_fail_context(st, "resize to %ux%u", w, h);
    stage_item_replace(s->dev, item, &next);
    return KILN_OK;
}

/* Frees the state. */
static void resize_close(void *state)
{
    kiln_free(state);
}

const stage_ops stage_resize_ops = {
    .name = "resize",
    .section_offset = offsetof(job_config, resize),
    .enabled = resize_enabled,
    .open = resize_open,
    .run = resize_run,
    .close = resize_close,
};
