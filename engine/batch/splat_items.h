/* Splat jobs in the batch: the scenes of [job] inputs expanded into
 * items, one per (scene, view), with their output names, and the loader
 * that reads each item's view for the prefetch queue.
 *
 * An item's path is "SCENE#INDEX" (the view's index in the scene's camera
 * source), so that items sort, shard, skip and fail like image inputs;
 * its output is output_dir/<scene stem>_<view name><suffix>.png, the view
 * name being the camera's (img_name, file stem, or orbit_NNNN) with a
 * directory part turned into '_' and an image extension dropped. */
#ifndef KILN_SPLAT_ITEMS_H
#define KILN_SPLAT_ITEMS_H

#include "inputs.h"
#include "job.h"
#include "prefetch.h"
#include "splat_camera.h"

/* Replaces the scenes of `list` by their items (each scene's selected
 * views in order, [splat] views or all of them) and returns the items'
 * output paths in *outputs (list->count of them, same order; each and the
 * array kiln_free'd by the caller).  A camera source that cannot be read,
 * or a selected view a scene does not have, fails the job: the message
 * names the scene and the source.  On error the list is unchanged. */
kiln_status splat_items_expand(const job_config *job, input_list *list, char ***outputs);

/* Writes the file name of view `index` of `set` into buf: the camera's
 * name with directories turned into '_' and an image extension dropped;
 * set NULL: an orbit frame, "orbit_NNNN". */
void splat_item_view_name(const splat_camera_set *set, size_t index, char *buf, size_t len);

/* The loader's memory of the last camera source it read. */
typedef struct splat_item_cache splat_item_cache;

/* Makes the loader of splat items: load parses the item, reads its view
 * from the camera source (the last source read is kept) and hands a
 * splat_view_item (stage_splat.h) as the payload.  *cache belongs to the
 * caller, must outlive the queue, and is freed with
 * splat_item_cache_free. */
kiln_status splat_item_loader(const job_config *job, splat_item_cache **cache,
                              prefetch_loader *loader);

/* Frees the loader's cache.  NULL is a no-op. */
void splat_item_cache_free(splat_item_cache *cache);

#endif
