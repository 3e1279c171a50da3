/* The image loaders of the prefetch queue (see prefetch_loaders.h). */
#include <string.h>

#include "image_read.h"
#include "prefetch_loaders.h"
#include "status.h"

/* Longest mask path the mask loader asks mask_path for. */
#define MASK_PATH_MAX 8192

/* measure of the image loader: the decoded bytes of the input's header. */
static kiln_status image_measure(const prefetch_loader *loader, size_t index, const char *path,
                                 size_t *bytes)
{
    host_image info;
    kiln_status st = image_read_header(path, loader->images.max_pixels, &info);

    (void)index;
    *bytes = st == KILN_OK ? host_image_bytes(&info) : 0;
    return st;
}

/* load of the image loader: the input into item->image. */
static kiln_status image_load(const prefetch_loader *loader, size_t index, const char *path,
                              prefetch_item *item)
{
    (void)index;
    return image_read_file(path, loader->images.max_pixels, &item->image);
}

/* Builds the image loader; see prefetch_loaders.h. */
prefetch_loader prefetch_loader_image(uint64_t max_pixels)
{
    prefetch_loader loader;

    memset(&loader, 0, sizeof(loader));
    loader.measure = image_measure;
    loader.load = image_load;
    loader.images.max_pixels = max_pixels;
    loader.images.mask_noun = "mask";
    return loader;
}

/* Prefixes the current message with "<noun> file" (default "mask") and
 * returns st. */
static kiln_status mask_failure(const prefetch_loader *loader, kiln_status st)
{
    const char *noun = loader->images.mask_noun ? loader->images.mask_noun : "mask";

    return kiln_fail_context(st, "%s file", noun);
}

/* Puts the path of `input`'s mask into buf; a failure's message is
 * prefixed as mask_failure does. */
static kiln_status mask_file_path(const prefetch_loader *loader, const char *input, char *buf,
                                  size_t len)
{
    kiln_status st;

    if (!loader->images.mask_path)
        return mask_failure(loader, kiln_fail(KILN_E_INVAL, "%s: no mask_path function "
                                              "in the loader", input));
    st = loader->images.mask_path(loader->images.mask_user, input, buf, len);
    return st == KILN_OK ? KILN_OK : mask_failure(loader, st);
}

/* measure of the image+mask loader: both headers' decoded bytes. */
static kiln_status image_mask_measure(const prefetch_loader *loader, size_t index,
                                      const char *path, size_t *bytes)
{
    char mask_path[MASK_PATH_MAX];
    host_image info;
    size_t image_bytes;
    kiln_status st;

    *bytes = 0;
    st = image_measure(loader, index, path, &image_bytes);
    if (st != KILN_OK)
        return st;
    st = mask_file_path(loader, path, mask_path, sizeof(mask_path));
    if (st != KILN_OK)
        return st;
    st = image_read_header(mask_path, loader->images.max_pixels, &info);
    if (st != KILN_OK)
        return mask_failure(loader, st);
    *bytes = image_bytes + host_image_bytes(&info);
    return KILN_OK;
}

/* load of the image+mask loader: the input into item->image, its mask
 * into item->mask (the queue frees the image when the mask fails). */
static kiln_status image_mask_load(const prefetch_loader *loader, size_t index,
                                   const char *path, prefetch_item *item)
{
    char mask_path[MASK_PATH_MAX];
    kiln_status st = image_load(loader, index, path, item);

    if (st != KILN_OK)
        return st;
    st = mask_file_path(loader, path, mask_path, sizeof(mask_path));
    if (st != KILN_OK)
        return st;
    st = image_read_file(mask_path, loader->images.max_pixels, &item->mask);
    return st == KILN_OK ? KILN_OK : mask_failure(loader, st);
}

/* Builds the image+mask loader; see prefetch_loaders.h. */
prefetch_loader prefetch_loader_image_mask(uint64_t max_pixels, prefetch_mask_path_fn mask_path,
                                           const void *mask_user)
{
    prefetch_loader loader = prefetch_loader_image(max_pixels);

    loader.measure = image_mask_measure;
    loader.load = image_mask_load;
    loader.images.mask_path = mask_path;
    loader.images.mask_user = mask_user;
    return loader;
}
