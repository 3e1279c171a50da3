/* Splat scenes on a device (see splat_scene_dev.h). */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "float16.h"
#include "host_alloc.h"
#include "launch.h"
#include "resident.h"
#include "splat_scene_dev.h"
#include "status.h"

/* Resident bytes of a scene. */
size_t splat_scene_dev_bytes(size_t count, uint32_t sh_degree, int sh_half)
{
    size_t coeffs = (size_t)(sh_degree + 1) * (sh_degree + 1);
    return count * (12 + 16 + 12 + 4 + 3 * coeffs * (sh_half ? 2 : 4));
}

/* Releases a resident scene. */
void splat_scene_dev_free(splat_scene_dev *scene)
{
    if (!scene)
        return;
    pool_release(scene->dev->pool, scene->sh);
    pool_release(scene->dev->pool, scene->opacity);
    pool_release(scene->dev->pool, scene->scales);
    pool_release(scene->dev->pool, scene->rotations);
    pool_release(scene->dev->pool, scene->means);
    kiln_free(scene);
}

/* Acquires one array's buffer and uploads `bytes` of host data. */
static kiln_status array_upload(kiln_device *dev, const void *data, size_t bytes, const char *tag,
                                pool_buffer **out)
{
    kiln_status st = pool_acquire(dev->pool, bytes, tag, out);
    if (st != KILN_OK)
        return st;
    st = dev_buffer_write(dev, (*out)->mem, 0, bytes, data, "uploading a splat scene");
    if (st != KILN_OK) {
        pool_release(dev->pool, *out);
        *out = NULL;
    }
    return st;
}

/* Checks the scene's arrays against the budget and the largest
 * allocation before anything is taken. */
static kiln_status scene_fits(kiln_device *dev, const splat_scene *scene, int sh_half)
{
    pool_ledger ledger;
    size_t need = splat_scene_dev_bytes(scene->count, scene->sh_degree, sh_half);
    size_t sh_bytes = scene->count * 3 * scene->sh_coeffs * (sh_half ? 2 : 4);
    size_t largest = sh_bytes > scene->count * 16 ? sh_bytes : scene->count * 16;

    pool_ledger_get(dev->pool, &ledger);
    if (need > ledger.budget - ledger.live_bytes)
        return kiln_fail(KILN_E_NOMEM, "a scene of %zu Gaussians (SH degree %u) needs %zu bytes "
                         "on %s; %zu of the %zu-byte budget are free ([memory] device_budget)",
                         scene->count, scene->sh_degree, need, dev->info.name,
                         ledger.budget - ledger.live_bytes, ledger.budget);
    if (largest > dev->info.max_alloc)
        return kiln_fail(KILN_E_NOMEM, "a scene of %zu Gaussians needs a %zu-byte buffer; %s "
                         "allocates at most %llu bytes at once%s", scene->count, largest,
                         dev->info.name, (unsigned long long)dev->info.max_alloc,
                         sh_half ? "" : " (try [splat] sh_precision = fp16)");
    return KILN_OK;
}

/* Uploads the SH coefficients, as float or converted to half. */
static kiln_status sh_upload(kiln_device *dev, const splat_scene *scene, int sh_half,
                             pool_buffer **out)
{
    size_t n = scene->count * 3 * scene->sh_coeffs;
    uint16_t *half;
    kiln_status st;

    if (!sh_half)
        return array_upload(dev, scene->sh, n * sizeof(float), "splat.sh", out);
    half = kiln_malloc(n * sizeof(*half));
    if (!half)
        return kiln_fail(KILN_E_HOSTMEM, "converting SH to half floats: out of host memory");
    for (size_t i = 0; i < n; i++)
        half[i] = float16_from_float(scene->sh[i]);
    st = array_upload(dev, half, n * sizeof(*half), "splat.sh16", out);
    kiln_free(half);
    return st;
}

/* Uploads a host scene (see splat_scene_dev.h).  The quaternions go up
 * as they are: the kernel reads them as float4 (w, x, y, z). */
kiln_status splat_scene_dev_upload(kiln_device *dev, const splat_scene *scene, int sh_half,
                                   splat_scene_dev **out)
{
    splat_scene_dev *d;
    size_t n = scene->count;
    kiln_status st;

    *out = NULL;
    if (n == 0)
        return kiln_fail(KILN_E_INVAL, "the scene holds no Gaussians");
    st = scene_fits(dev, scene, sh_half);
    if (st != KILN_OK)
        return st;
    d = kiln_calloc(1, sizeof(*d));
    if (!d)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory");
    d->dev = dev;
    d->count = n;
    d->sh_degree = scene->sh_degree;
    d->sh_coeffs = scene->sh_coeffs;
    d->sh_active = scene->sh_coeffs;
    d->sh_half = sh_half;
    st = array_upload(dev, scene->means, n * 3 * sizeof(float), "splat.means", &d->means);
    if (st == KILN_OK)
        st = array_upload(dev, scene->rotations, n * 4 * sizeof(float), "splat.rotations",
                          &d->rotations);
    if (st == KILN_OK)
        st = array_upload(dev, scene->scales, n * 3 * sizeof(float), "splat.scales", &d->scales);
    if (st == KILN_OK)
        st = array_upload(dev, scene->opacity, n * sizeof(float), "splat.opacity", &d->opacity);
    if (st == KILN_OK)
        st = sh_upload(dev, scene, sh_half, &d->sh);
    if (st != KILN_OK) {
        splat_scene_dev_free(d);
        return st;
    }
    for (int k = 0; k < 3; k++) {
        d->bbox_min[k] = d->bbox_max[k] = scene->means[k];
        d->centre[k] = 0.0;
    }
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 3; k++) {
            double v = scene->means[i * 3 + k];
            d->centre[k] += v / (double)n;
            if (v < d->bbox_min[k])
                d->bbox_min[k] = v;
            if (v > d->bbox_max[k])
                d->bbox_max[k] = v;
        }
    *out = d;
    return KILN_OK;
}

/* What a resident build needs. */
typedef struct scene_request {
    const char *path;
    splat_scene_load *load;
} scene_request;

/* Reads and uploads a scene file (resident_build_fn). */
static kiln_status scene_build(kiln_device *dev, void *user, void **object)
{
    scene_request *req = user;
    splat_scene scene;
    splat_read_info info;
    splat_scene_dev *d = NULL;
    kiln_status st;

    st = splat_scene_read(req->path, &req->load->read, &scene, &info);
    if (st != KILN_OK)
        return st;
    req->load->nonfinite = info.nonfinite;
    st = splat_scene_dev_upload(dev, &scene, req->load->sh_half, &d);
    splat_scene_free(&scene);
    if (st != KILN_OK)
        return kiln_fail_context(st, "%s", req->path);
    *object = d;
    return KILN_OK;
}

/* Frees a resident scene (resident_free_fn). */
static void scene_free(void *object)
{
    splat_scene_dev_free(object);
}

/* Returns the resident scene of a file. */
kiln_status splat_scene_dev_acquire(kiln_device *dev, const char *path, splat_scene_load *load,
                                    splat_scene_dev **out)
{
    char key[RESIDENT_KEY_MAX];
    struct stat sb;
    scene_request req = { path, load };
    void *object = NULL;
    kiln_status st;
    int n;

    *out = NULL;
    if (stat(path, &sb) != 0)
        return kiln_fail(KILN_E_IO, "%s: cannot read the scene", path);
    n = snprintf(key, sizeof(key), "splat.scene %s %lld %lld.%09ld sh%d max%llu nf%d", path,
                 (long long)sb.st_size, (long long)sb.st_mtim.tv_sec, (long)sb.st_mtim.tv_nsec,
                 load->sh_half ? 16 : 32, (unsigned long long)load->read.max_gaussians,
                 (int)load->read.nonfinite);
    if (n < 0 || (size_t)n >= sizeof(key))
        return kiln_fail(KILN_E_INVAL, "%s: path too long", path);
    st = resident_acquire(dev, key, scene_build, scene_free, &req, &object);
    if (st != KILN_OK)
        return st;
    *out = object;
    return KILN_OK;
}
