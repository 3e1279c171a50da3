/* Training checkpoints: everything a splatting run needs to resume (the
 * scene, the Adam moments, the iteration, the random generator) in one
 * little-endian binary file.
 *
 * Layout (version 1; integers unsigned little-endian, arrays float32
 * little-endian, no padding):
 *   offset  0  "KILNCKP1"             8 bytes
 *           8  version                u32 (1)
 *          12  iteration              u64
 *          20  rng[4]                 u64 x 4
 *          52  sh_active_degree       u32 (0..sh_degree)
 *          56  count                  u64 (Gaussians)
 *          64  sh_degree              u32 (0..3)
 *          68  the scene, as in splat_scene.h (normals are not stored):
 *                means 3n, rotations 4n, scales 3n, opacity n,
 *                sh n * sh_coeffs * 3
 *              adam_step              u64
 *              first moments  m: means 3n, scales 3n, rotations 4n,
 *                opacity n, sh n * sh_coeffs * 3
 *              second moments v: the same
 *              the densification statistics: grad_accum, denom,
 *              max_radius                                      n f32 each
 *   end - 8    the 64-bit FNV-1a hash of every byte before it   u64
 * (Version 2; version 1 had no statistics.)
 * A file is therefore exactly 84 + 4 n (3 (11 + 3 sh_coeffs) + 3) bytes,
 * which the reader checks against the file's size before allocating.
 * Every host block comes from the kiln_ allocator. */
#ifndef KILN_SPLAT_CHECKPOINT_H
#define KILN_SPLAT_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "kiln.h"
#include "splat_scene.h"

#define SPLAT_CHECKPOINT_VERSION 2u

/* A checkpoint in memory: the scene (its normals stay zero when read) and
 * the Adam state, moments in the scene's layout per group. */
typedef struct splat_checkpoint {
    uint64_t iteration;
    uint64_t rng[4];
    uint32_t sh_active_degree;
    splat_scene scene;
    uint64_t adam_step;
    float *m_means, *m_scales, *m_rotations, *m_opacity, *m_sh;
    float *v_means, *v_scales, *v_rotations, *v_opacity, *v_sh;
    float *grad_accum, *denom, *max_radius; /* densification statistics, 1 each */
} splat_checkpoint;

/* Allocates a zeroed checkpoint of `count` Gaussians at SH degree
 * `sh_degree` (0..3): the scene and the moments, all zero.  KILN_E_INVAL
 * for a bad degree, KILN_E_HOSTMEM (nothing stays allocated); *c is
 * zeroed on error. */
kiln_status splat_checkpoint_alloc(splat_checkpoint *c, size_t count, uint32_t sh_degree);

/* Frees the arrays and zeroes *c.  Safe on a zeroed checkpoint. */
void splat_checkpoint_free(splat_checkpoint *c);

/* Writes *c in the layout above, atomically (atomic_file.h).  KILN_E_INVAL
 * for a NULL argument, a scene whose sh_coeffs is not (sh_degree + 1)^2
 * or an active degree above the scene's; atomic_file's errors. */
kiln_status splat_checkpoint_write(const char *path, const splat_checkpoint *c);

/* Reads a checkpoint into *c (allocated here; free with
 * splat_checkpoint_free).  The header is checked first and the size it
 * implies compared with the file's before anything is allocated.  Errors
 * name the file and what is wrong: KILN_E_IO (cannot open or read),
 * KILN_E_FORMAT (a bad magic, an unknown version, an SH degree outside
 * 0..3 or an active one above it, a size that is not the header's
 * (truncated or trailing bytes), a checksum that does not match),
 * KILN_E_HOSTMEM.  On error *c is zeroed. */
kiln_status splat_checkpoint_read(const char *path, splat_checkpoint *c);

#endif
