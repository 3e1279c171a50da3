/* The image side of a dataset view (splat_dataset.h): finding its file
 * and checking its header against the camera.  Internal to models/. */
#ifndef KILN_SPLAT_DATASET_IMAGE_H
#define KILN_SPLAT_DATASET_IMAGE_H

#include "splat_dataset.h"

/* Sets view->image to `dir`/`rel` (`rel` alone when absolute); with
 * try_ext, when that is no regular file, to it with ".png", then ".jpg"
 * appended.  `source` (the camera file) is for messages.  KILN_E_IO
 * naming the file and the view when none exists; KILN_E_INVAL when the
 * path does not fit. */
kiln_status splat_dataset_image_find(splat_dataset_view *view, const char *dir, const char *rel,
                                     int try_ext, const char *source);

/* Reads the header of view->image and checks its size: scale 1, the
 * camera's size exactly; scale N > 1 (a downscaled folder), within one
 * pixel of the camera's size / N, after which fx, fy, cx, cy are divided
 * by N and the camera takes the image's size.  KILN_E_FORMAT naming the
 * image and the view for a size that differs (errors of
 * image_read_header are passed on with the view named). */
kiln_status splat_dataset_image_check(splat_dataset_view *view, uint32_t scale);

#endif
