/* The scene readers behind splat_scene_read_mem (splat_scene.h), one per
 * format, and the checks they share.  Internal to models/. */
#ifndef KILN_SPLAT_READERS_H
#define KILN_SPLAT_READERS_H

#include <stddef.h>
#include <stdint.h>

#include "splat_scene.h"

/* Reads an Inria PLY from memory (splat_ply.c).  opt is never NULL;
 * info is never NULL and was zeroed.  Contract as splat_scene_read_mem. */
kiln_status splat_ply_read(const unsigned char *data, size_t len, const char *name,
                           const splat_read_options *opt, splat_scene *scene,
                           splat_read_info *info);

/* Reads a .splat file from memory (splat_dotsplat.c); same contract. */
kiln_status splat_dotsplat_read(const unsigned char *data, size_t len, const char *name,
                                const splat_read_options *opt, splat_scene *scene,
                                splat_read_info *info);

/* KILN_E_LIMIT naming the file, the count and the limit when `count`
 * exceeds opt->max_gaussians (0: no limit); KILN_OK otherwise. */
kiln_status splat_count_check(const char *name, uint64_t count, const splat_read_options *opt);

/* Ends a read that found `nonfinite` of `file_count` Gaussians holding a
 * NaN or an infinity: KILN_E_FORMAT with the count when there are any and
 * the options refuse them, KILN_OK otherwise. */
kiln_status splat_nonfinite_check(const char *name, size_t nonfinite, size_t file_count,
                                  const splat_read_options *opt);

/* Loads a little-endian float32 / float64 from p (any alignment). */
float splat_load_f32(const unsigned char *p);
double splat_load_f64(const unsigned char *p);

#endif
