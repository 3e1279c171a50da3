/* The segment stage: an image on the device becomes its foreground mask,
 * computed by a U2-Net-family network as rembg computes it (resize to
 * the network's input, normalise, run, min-max normalise output 0,
 * resize back, optional post_process_mask), then the mask itself or the
 * RGBA cut-out ([segment] output), or the mask handed to [refine] on the
 * device.
 *
 * open resolves the model (registry name or file) and builds it on the
 * device once per job: an unknown name (KILN_E_INVAL listing the known
 * ones) or a missing file (KILN_E_IO listing where kiln looked) fails the
 * job at start.  Profiled items get the figures segment.preprocess_ms,
 * segment.network_ms, segment.postprocess_ms and segment.input_size. */
#ifndef KILN_STAGE_SEGMENT_H
#define KILN_STAGE_SEGMENT_H

#include "stage.h"

extern const stage_ops stage_segment_ops;

#endif
