/* The item loaders of the prefetch queue that read images (see
 * prefetch.h): an input image alone, or an input image with its mask
 * file.  Both read PNG or JPEG (image_read.h) under a pixel limit. */
#ifndef KILN_PREFETCH_LOADERS_H
#define KILN_PREFETCH_LOADERS_H

#include <stdint.h>

#include "prefetch.h"

/* A loader of one image per input into item->image; measure reads the
 * header only (its decoded bytes).  max_pixels: the limit per image (0:
 * IMAGE_DEFAULT_MAX_PIXELS).  No release is needed. */
prefetch_loader prefetch_loader_image(uint64_t max_pixels);

/* A loader of the input image into item->image and of its mask into
 * item->mask; mask_path(mask_user, input, buf, len) names the mask file
 * (mask_user is borrowed: it must outlive the queue).  measure reads both
 * headers and reports both images' bytes.  A mask that mask_path cannot
 * name, or that is missing or bad, fails that item alone: the message
 * starts "mask file: " (or "<images.mask_noun> file: " when the caller
 * changed the noun, e.g. to "trimap"), then the mask's own message, which
 * names its path.  Each image gets its own max_pixels check. */
prefetch_loader prefetch_loader_image_mask(uint64_t max_pixels, prefetch_mask_path_fn mask_path,
                                           const void *mask_user);

#endif
