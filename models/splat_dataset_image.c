/* Dataset images: finding the file, checking its size from its header
 * (splat_dataset_image.h). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "image_read.h"
#include "splat_dataset_image.h"
#include "status.h"

/* Whether `path` names an existing regular file (links followed). */
static int file_exists(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Finds a view's image file. */
kiln_status splat_dataset_image_find(splat_dataset_view *view, const char *dir, const char *rel,
                                     int try_ext, const char *source)
{
    static const char *const exts[] = { "", ".png", ".jpg" };
    size_t tries = try_ext ? sizeof(exts) / sizeof(exts[0]) : 1;

    for (size_t e = 0; e < tries; e++) {
        int n = rel[0] == '/' ? snprintf(view->image, sizeof(view->image), "%s%s", rel, exts[e])
                              : snprintf(view->image, sizeof(view->image), "%s/%s%s", dir, rel,
                                         exts[e]);

        if (n < 0 || (size_t)n >= sizeof(view->image))
            return kiln_fail(KILN_E_INVAL, "%s: view \"%s\": image path %s/%s is too long",
                             source, view->camera.name, dir, rel);
        if (file_exists(view->image))
            return KILN_OK;
    }
    if (rel[0] == '/')
        snprintf(view->image, sizeof(view->image), "%s", rel);
    else
        snprintf(view->image, sizeof(view->image), "%s/%s", dir, rel);
    return kiln_fail(KILN_E_IO, "%s: missing image file for view \"%s\" (%s)", view->image,
                     view->camera.name, try_ext ? "as is, .png, .jpg" : "not found");
}

/* Checks the image's header size against the camera. */
kiln_status splat_dataset_image_check(splat_dataset_view *view, uint32_t scale)
{
    splat_camera *cam = &view->camera;
    host_image info;
    double want_w = (double)cam->width / scale, want_h = (double)cam->height / scale;
    kiln_status st = image_read_header(view->image, 0, &info);

    if (st != KILN_OK)
        return kiln_fail_context(st, "view \"%s\"", cam->name);
    if (scale == 1) {
        if (info.width != cam->width || info.height != cam->height)
            return kiln_fail(KILN_E_FORMAT, "%s: image of view \"%s\" is %ux%u but its camera "
                             "is %ux%u", view->image, cam->name, (unsigned)info.width,
                             (unsigned)info.height, cam->width, cam->height);
        return KILN_OK;
    }
    if (!((double)info.width >= want_w - 1 && (double)info.width <= want_w + 1 &&
          (double)info.height >= want_h - 1 && (double)info.height <= want_h + 1))
        return kiln_fail(KILN_E_FORMAT, "%s: image of view \"%s\" is %ux%u but its camera is "
                         "%ux%u, so 1/%u of it is %.1fx%.1f", view->image, cam->name,
                         (unsigned)info.width, (unsigned)info.height, cam->width, cam->height,
                         scale, want_w, want_h);
    cam->fx /= scale;
    cam->fy /= scale;
    cam->cx /= scale;
    cam->cy /= scale;
    cam->width = (uint32_t)info.width;
    cam->height = (uint32_t)info.height;
    return KILN_OK;
}
