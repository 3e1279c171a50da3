/* 3D Gaussian splatting scenes on the host: the parameters exactly as the
 * reference trainer stores them (no activation applied), and their files.
 *
 * Layout of one Gaussian, as in the Inria PLY:
 *   means      x y z (world)
 *   normals    nx ny nz (unused by rendering; kept for bit-exact round trips)
 *   sh         (sh_degree + 1)^2 coefficients x RGB, coefficient-major:
 *              sh[(i * sh_coeffs + k) * 3 + c]; k = 0 is f_dc_c and
 *              k >= 1 is f_rest_{c * (sh_coeffs - 1) + k - 1} (the PLY's
 *              f_rest is channel-major)
 *   opacity    a logit (activation: sigmoid)
 *   scales     log scales (activation: exp)
 *   rotations  w x y z, unnormalised (activation: normalise)
 *
 * Files (splat_scene_read):
 *   .ply    the Inria layout, binary little-endian; properties in any order,
 *           extra ones ignored, float32 or float64; SH degree 0..3 from the
 *           f_rest count (0, 9, 24 or 45)
 *   .splat  the compact web-viewer format, 32 bytes a Gaussian: position
 *           3 x f32, linear scale 3 x f32, RGBA u8 (colour, sigmoid'd
 *           opacity), rotation u8 x 4 (w x y z as q * 128 + 128); read as
 *           SH degree 0 (f_dc = (rgb / 255 - 0.5) / SH_C0), opacity and
 *           scale converted to logit and log: the opacity clamped to
 *           [1e-6, 1 - 1e-6] first (logits within +-13.8155), a zero or
 *           negative scale counted as non-finite (no finite log); normals
 *           zero (splat_dotsplat.c).
 * Every host block comes from the kiln_ allocator (host_alloc.h). */
#ifndef KILN_SPLAT_SCENE_H
#define KILN_SPLAT_SCENE_H

#include <stddef.h>
#include <stdint.h>

#include "kiln.h"

#define SPLAT_SH_DEGREE_MAX 3
#define SPLAT_SH_COEFFS_MAX 16
/* Floats a Gaussian holds for rendering at SH degree d:
 * 3 + 3 + 4 + 1 + 3 * (d + 1)^2 (59 at degree 3: 236 bytes). */
#define SPLAT_FLOATS_PER_GAUSSIAN(d) (11u + 3u * ((d) + 1u) * ((d) + 1u))

/* A scene: `count` Gaussians, arrays as in the layout above. */
typedef struct splat_scene {
    size_t count;
    uint32_t sh_degree;     /* 0..3 */
    uint32_t sh_coeffs;     /* (sh_degree + 1)^2 */
    float *means;           /* count * 3 */
    float *normals;         /* count * 3 (zeros when the file has none) */
    float *sh;              /* count * sh_coeffs * 3 */
    float *opacity;         /* count */
    float *scales;          /* count * 3 */
    float *rotations;       /* count * 4 */
} splat_scene;

/* What to do with a Gaussian holding a NaN or infinite value. */
typedef enum splat_nonfinite {
    SPLAT_NONFINITE_REFUSE = 0, /* the file is refused (KILN_E_FORMAT), with the count */
    SPLAT_NONFINITE_DROP        /* such Gaussians are left out and counted */
} splat_nonfinite;

/* Reading options. */
typedef struct splat_read_options {
    uint64_t max_gaussians;     /* refuse more (KILN_E_LIMIT); 0: no limit */
    splat_nonfinite nonfinite;
} splat_read_options;

/* What a read found besides the scene. */
typedef struct splat_read_info {
    size_t file_count;          /* Gaussians in the file */
    size_t nonfinite;           /* Gaussians with a NaN/Inf value (dropped
                                   when the options say drop) */
    int format;                 /* 0 PLY, 1 .splat */
} splat_read_info;

/* Allocates the arrays of a zeroed scene of `count` Gaussians at SH
 * degree `sh_degree` (0..3); the values are zero.  KILN_E_INVAL for a bad
 * degree, KILN_E_HOSTMEM on failure (nothing stays allocated). */
kiln_status splat_scene_alloc(splat_scene *scene, size_t count, uint32_t sh_degree);

/* Frees the arrays and zeroes the struct.  Safe on a zeroed scene. */
void splat_scene_free(splat_scene *scene);

/* Reads a scene file, PLY or .splat, told apart by content (a PLY starts
 * "ply\n"; otherwise a .splat file by its extension and a size that is a
 * multiple of 32; "ply\r\n" counts as PLY too).  The whole file is read
 * into host memory first (a FIFO or device is refused, file_open.h).
 * opt may be NULL (no limit, refuse non-finite), info may be NULL.
 * Errors name the file and what is wrong: KILN_E_IO (cannot read),
 * KILN_E_FORMAT (ASCII or big-endian PLY, a header without end_header in
 * its first 64 KiB, a missing property, a property type other than
 * float/double or a list where a parameter is expected, an f_rest count
 * that is no SH degree, a list property in an element before the vertex
 * element, a vertex count beyond the file size (checked before anything
 * is allocated for it), non-finite values when refused, an empty or
 * ragged .splat file), KILN_E_LIMIT (more than max_gaussians, counted
 * before any is dropped), KILN_E_HOSTMEM.  Elements after the vertex
 * element are ignored; normals are optional (zeros); a PLY of 0 vertices
 * reads as an empty scene.  On error *scene is zeroed (info holds what
 * was learnt: file_count, nonfinite). */
kiln_status splat_scene_read(const char *path, const splat_read_options *opt,
                             splat_scene *scene, splat_read_info *info);

/* The same from memory: `name` is the file name for messages and for the
 * .splat extension check (NULL: "(memory)"). */
kiln_status splat_scene_read_mem(const void *data, size_t len, const char *name,
                                 const splat_read_options *opt, splat_scene *scene,
                                 splat_read_info *info);

/* Writes the scene as an Inria PLY (binary little-endian, float32, the
 * property order of the layout above), atomically (atomic_file.h): a file
 * read by splat_scene_read from the same layout is written back byte for
 * byte. */
kiln_status splat_scene_write_ply(const char *path, const splat_scene *scene);

/* Summary figures of a scene (for `kiln splat info`). */
typedef struct splat_scene_stats {
    double bbox_min[3], bbox_max[3];    /* of the means */
    double centre[3];                   /* mean of the means */
    double opacity_pct[5];              /* sigmoid(opacity) at 0, 25, 50, 75, 100 % */
    double scale_pct[5];                /* exp(max scale axis) at the same percentiles */
} splat_scene_stats;

/* Computes the figures; percentiles interpolate linearly between ranks.
 * KILN_E_INVAL for a scene of no Gaussians, KILN_E_HOSTMEM when the
 * percentile scratch cannot be allocated (*out zeroed on error). */
kiln_status splat_scene_stats_get(const splat_scene *scene, splat_scene_stats *out);

#endif
