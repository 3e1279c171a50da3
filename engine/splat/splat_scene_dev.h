/* A splat scene on a device: the trainer's raw parameters in pool
 * buffers, one per array (so no buffer holds more than SH's share), and
 * kept in the device's resident cache so that a batch of views uploads a
 * scene once.
 *
 * Resident bytes per Gaussian: means 12 + rotations 16 + scales 12 +
 * opacity 4 + SH 12 (d + 1)^2 (fp32; 6 (d + 1)^2 with fp16 SH): 236 at
 * SH degree 3 in fp32, 140 in fp16. */
#ifndef KILN_SPLAT_SCENE_DEV_H
#define KILN_SPLAT_SCENE_DEV_H

#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "splat_scene.h"

/* A resident scene.  Owned by the resident cache (or by the caller of
 * splat_scene_dev_upload until splat_scene_dev_free). */
typedef struct splat_scene_dev {
    kiln_device *dev;               /* the device holding the buffers */
    size_t count;
    uint32_t sh_degree, sh_coeffs;
    uint32_t sh_active;             /* coefficients evaluated (sh_coeffs after
                                       upload; training raises it in steps) */
    int sh_half;                    /* SH stored as half floats */
    pool_buffer *means, *rotations, *scales, *opacity, *sh;
    double centre[3];               /* mean of the means (orbits) */
    double bbox_min[3], bbox_max[3];
} splat_scene_dev;

/* Bytes a scene of `count` Gaussians at `sh_degree` occupies on a device. */
size_t splat_scene_dev_bytes(size_t count, uint32_t sh_degree, int sh_half);

/* Uploads `scene` into new pool buffers (tags "splat.means" ...).  Before
 * any buffer is taken the whole scene is checked against the pool's
 * budget and each array against the device's largest allocation: a scene
 * that cannot fit is KILN_E_NOMEM naming the needed and available bytes.
 * A scene with no Gaussians is KILN_E_INVAL.  On error nothing stays
 * allocated. */
kiln_status splat_scene_dev_upload(kiln_device *dev, const splat_scene *scene, int sh_half,
                                   splat_scene_dev **out);

/* Releases the buffers and the struct.  NULL is a no-op. */
void splat_scene_dev_free(splat_scene_dev *scene);

/* How a scene file is read and kept. */
typedef struct splat_scene_load {
    splat_read_options read;        /* max_gaussians, non-finite policy */
    int sh_half;
    size_t nonfinite;               /* out: Gaussians dropped for NaN/Inf */
} splat_scene_load;

/* The resident scene of file `path` on `dev`: read and uploaded on the
 * first call (key: the path, its size and modification time, the SH
 * storage), then shared; give it back with resident_release.  On error
 * *out is NULL and the message names the file. */
kiln_status splat_scene_dev_acquire(kiln_device *dev, const char *path, splat_scene_load *load,
                                    splat_scene_dev **out);

#endif
