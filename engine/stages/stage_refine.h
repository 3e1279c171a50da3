/* The refine stage: a coarse mask (or a trimap) and the image on the
 * device become an alpha matte or an RGBA cut-out with estimated
 * foreground colours ([refine]).
 *
 * The mask comes from [segment] on the device (item->mask) or, without
 * [segment], from the item's mask or trimap file (item->host_mask: gray
 * as is, colour as its Rec. 601 luma, alpha ignored, as PIL's
 * convert("L") that rembg and pymatting apply).  Warnings (mask resized,
 * empty-trimap fallback) go into the item's note.  Profiled items get
 * refine.trimap_ms, refine.alpha_ms, refine.foreground_ms; every item
 * gets refine.unknown, refine.iterations and refine.used_mask. */
#ifndef KILN_STAGE_REFINE_H
#define KILN_STAGE_REFINE_H

#include "stage.h"

extern const stage_ops stage_refine_ops;

#endif
