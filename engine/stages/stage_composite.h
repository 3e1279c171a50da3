/* The composite stage: the image over a colour or a background image
 * ([composite]); opaque results (3 channels). */
#ifndef KILN_STAGE_COMPOSITE_H
#define KILN_STAGE_COMPOSITE_H

#include "stage.h"

extern const stage_ops stage_composite_ops;

#endif
