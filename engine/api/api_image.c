/* The public image calls (kiln.h). */
#include "image.h"
#include "image_read.h"
#include "png_io.h"
#include "status.h"

/* Reads a PNG or JPEG file. */
kiln_status kiln_image_read(const char *path, uint64_t max_pixels, kiln_image *out)
{
    if (!path || !out)
        return kiln_fail(KILN_E_INVAL, "kiln_image_read: NULL argument");
    return image_read_file(path, max_pixels, out);
}

/* Writes a PNG file atomically. */
kiln_status kiln_image_write_png(const char *path, const kiln_image *img)
{
    if (!path || !img)
        return kiln_fail(KILN_E_INVAL, "kiln_image_write_png: NULL argument");
    return png_write_file(path, img);
}

/* Frees an image's pixels. */
void kiln_image_free(kiln_image *img)
{
    if (img)
        host_image_free(img);
}
