/* The refine stage: a coarse mask (or a trimap) and the image on the
 * device become an alpha matte or an RGBA cut-out with estimated
 * foreground colours. */
#ifndef KILN_STAGE_REFINE_H
#define KILN_STAGE_REFINE_H

#include <stddef.h>

#include "dev_image.h"
#include "job.h"

/* Figures of one refinement, for reports and benchmarks. */
typedef struct refine_stats {
    size_t unknown;        /* unknown trimap pixels */
    uint32_t iterations;   /* solver iterations (method cf) */
    double trimap_ms;
    double alpha_ms;
    double foreground_ms;
    int used_mask;         /* the empty-trimap fallback used the mask */
} refine_stats;

/* Refines *img (1 to 4 channels; its colour is the guide) with `mask` (a
 * host mask, or a trimap when [refine] trimaps is set, 1 to 4 channels:
 * gray as is, colour as its Rec. 601 luma, alpha ignored, as PIL's
 * convert("L") that rembg and pymatting apply) following job's [refine] keys, and replaces *img by the result:
 * alpha (1 channel) or cut-out (4 channels).  Warnings (mask resized,
 * empty trimap fallback) are written into note (may be NULL).  On error
 * *img is left as it was and nothing leaks. */
kiln_status stage_refine(kiln_device *dev, const job_config *job, dev_image *img,
                         const host_image *mask, char *note, size_t note_len,
                         refine_stats *stats);

/* As stage_refine, with the mask already on the device (1 channel, or
 * more with channel 0 used; the image's size), as [segment] hands it
 * over.  The mask stays the caller's. */
kiln_status stage_refine_device(kiln_device *dev, const job_config *job, dev_image *img,
                                const dev_image *mask, char *note, size_t note_len,
                                refine_stats *stats);

#endif
