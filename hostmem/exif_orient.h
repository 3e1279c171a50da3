/* EXIF orientation: the tag a camera writes instead of turning the
 * pixels, and the turn that shows the picture upright.
 *
 * kiln applies it to JPEG inputs, as rembg does (its remove() calls PIL's
 * ImageOps.exif_transpose before segmenting), so that masks, cut-outs and
 * parity with rembg hold for photos straight from a phone.  PNG inputs
 * are taken as stored (PNG's eXIf chunk is skipped unread). */
#ifndef KILN_EXIF_ORIENT_H
#define KILN_EXIF_ORIENT_H

#include <stddef.h>

#include "image.h"

/* Returns the orientation (1..8) that the EXIF APP1 segment of the JPEG
 * bytes data[0..len) holds, or 1 when there is none, it lies beyond len,
 * or it is malformed (as PIL treats an unreadable tag).  Reads only the
 * markers before the first scan.  *needed is set to the byte count that
 * would hold the whole APP1 segment when it runs past len (else 0), so
 * a caller holding a prefix of the file can read on and ask again. */
int exif_orientation(const unsigned char *data, size_t len, size_t *needed);

/* Whether an orientation swaps width and height (5 to 8). */
int exif_orientation_swaps(int orientation);

/* Turns *img upright for `orientation` (2..8; 1 and other values leave it
 * as it is), with the transposes of PIL's exif_transpose: 2 mirror, 3
 * rotate 180, 4 flip, 5 transpose, 6 rotate 90 clockwise, 7 transverse,
 * 8 rotate 90 counter-clockwise.  The pixels are replaced by a new
 * buffer; KILN_E_HOSTMEM (image unchanged) when it cannot be had. */
kiln_status exif_orient_apply(host_image *img, int orientation);

#endif
