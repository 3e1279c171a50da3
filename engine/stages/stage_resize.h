/* The resize stage: the image to a fixed size, a width or height keeping
 * the aspect ratio, or the longest side fitted ([resize]). */
#ifndef KILN_STAGE_RESIZE_H
#define KILN_STAGE_RESIZE_H

#include "stage.h"

extern const stage_ops stage_resize_ops;

/* Works out the output size for an input of w x h: width and height both
 * set: exactly that; one set: the other from the aspect ratio (at least
 * 1); max_side: the longest side fitted to it (never enlarged).  Disabled:
 * the input size. */
void stage_resize_size(const job_resize *cfg, uint32_t w, uint32_t h, uint32_t *out_w,
                       uint32_t *out_h);

#endif
