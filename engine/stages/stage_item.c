/* What every stage shares about an item: notes, figures, image hand-over
 * (see stage.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "stage.h"

/* Appends a formatted sentence to the item's note. */
void stage_note(stage_item *item, const char *fmt, ...)
{
    size_t used = strlen(item->note);
    va_list ap;

    if (used + 3 >= sizeof(item->note))
        return;
    if (used) {
        memcpy(item->note + used, "; ", 3);
        used += 2;
    }
    va_start(ap, fmt);
    vsnprintf(item->note + used, sizeof(item->note) - used, fmt, ap);
    va_end(ap);
}

/* Records a figure. */
void stage_figure_add(stage_item *item, const char *name, double value)
{
    for (size_t i = 0; i < item->nfigures; i++) {
        if (strcmp(item->figures[i].name, name) == 0) {
            item->figures[i].value += value;
            return;
        }
    }
    if (item->nfigures == STAGE_FIGURES_MAX)
        return;
    item->figures[item->nfigures].name = name;
    item->figures[item->nfigures].value = value;
    item->nfigures++;
}

/* Looks a figure up. */
double stage_figure_get(const stage_item *item, const char *name, double fallback)
{
    for (size_t i = 0; i < item->nfigures; i++)
        if (strcmp(item->figures[i].name, name) == 0)
            return item->figures[i].value;
    return fallback;
}

/* Hands the next image over. */
void stage_item_replace(kiln_device *dev, stage_item *item, dev_image *next)
{
    dev_image_release(dev, &item->image);
    item->image = *next;
    memset(next, 0, sizeof(*next));
}

/* Releases the item's device images. */
void stage_item_release(kiln_device *dev, stage_item *item)
{
    dev_image_release(dev, &item->image);
    dev_image_release(dev, &item->mask);
}

/* Times a profiled sub-step. */
kiln_status stage_step_done(kiln_device *dev, stage_item *item, const char *name, double *t0)
{
    kiln_status st;

    if (!item->profile)
        return KILN_OK;
    st = device_finish(dev);
    if (st != KILN_OK)
        return st;
    stage_figure_add(item, name, kiln_clock_ms() - *t0);
    *t0 = kiln_clock_ms();
    return KILN_OK;
}
