/* kiln: a vendor-neutral compute engine (OpenCL).
 * Public interface: status codes, error messages, engine lifecycle and
 * batch jobs.  Everything here is safe to call from any thread unless a
 * comment says otherwise. */
#ifndef KILN_H
#define KILN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks the calls libkiln exports; everything else in the library is
 * hidden (built with -fvisibility=hidden). */
#if defined(__GNUC__) && !defined(KILN_STATIC)
#define KILN_API __attribute__((visibility("default")))
#else
#define KILN_API
#endif

/* Every fallible kiln function returns a kiln_status: 0 on success, a
 * negative code otherwise, with a thread-local message (kiln_last_error). */
typedef int kiln_status;

enum {
    KILN_OK = 0,
    KILN_E_INVAL = -1,    /* a caller passed something invalid */
    KILN_E_NOMEM = -2,    /* device memory: the pool could not serve */
    KILN_E_HOSTMEM = -3,  /* host memory allocation failed */
    KILN_E_IO = -4,       /* a file could not be read or written */
    KILN_E_FORMAT = -5,   /* a file is corrupt, truncated or unsupported */
    KILN_E_LIMIT = -6,    /* input exceeds a configured limit */
    KILN_E_CONFIG = -7,   /* job file or option error */
    KILN_E_NODEV = -8,    /* no device matches the selector */
    KILN_E_CL = -9,       /* an OpenCL call failed */
    KILN_E_BUILD = -10,   /* a kernel failed to compile */
    KILN_E_LEAK = -11,    /* a resource was still live at close */
    KILN_E_STOPPED = -12, /* a batch stopped early (max_failures) */
    KILN_E_NOSPACE = -13  /* the output file system is full or read-only */
};

/* Returns a constant name for a status code ("KILN_E_NOMEM"). */
KILN_API const char *kiln_status_name(kiln_status status);

/* Returns the calling thread's last error message; "" when none was set.
 * The pointer stays valid until the thread's next kiln call. */
KILN_API const char *kiln_last_error(void);

/* Runs a batch job file as the `kiln run` command does.  `sets` holds
 * `section.key=value` overrides (nsets of them); report_path and shard
 * (as "i/n") may be NULL.  On return *failed holds the number of items
 * that failed.  Returns KILN_OK when the job ran (even with failed
 * items), an error when the job could not run at all. */
KILN_API kiln_status kiln_run_job(const char *job_path, const char *const *sets,
                         size_t nsets, const char *report_path,
                         const char *shard, size_t *failed);

/* Host memory figures of the whole process's kiln allocations (every
 * block kiln allocates for itself goes through one accounting door;
 * memory the OpenCL driver and other libraries allocate is not counted). */
typedef struct kiln_host_stats {
    size_t live_bytes;     /* bytes allocated and not yet freed */
    size_t peak_bytes;     /* the most live_bytes ever reached */
    uint64_t allocations;  /* successful allocations (realloc included) */
    uint64_t failures;     /* allocations that returned NULL, injected ones included */
} kiln_host_stats;

/* Copies the current figures into *out.  Live bytes are counted with the
 * C library's usable block sizes, so they may exceed the bytes asked for. */
KILN_API void kiln_host_alloc_stats(kiln_host_stats *out);

/* Fault injection: makes the nth kiln host allocation from now (1: the
 * next one) fail as if the system were out of memory; 0 turns it off.
 * One allocation fails, then allocations succeed again.  Allocations on
 * every thread count.  The environment variable KILN_FAULT_HOST_ALLOC=N,
 * read once at kiln's first allocation, arms the same from the start of a
 * process (for command-line tests); a call to this function replaces it. */
KILN_API void kiln_host_alloc_fail_at(uint64_t nth);

/* The library version string ("0.1.0"). */
KILN_API const char *kiln_version(void);

/* ---- images in memory ---- */

/* An interleaved image: width*height*channels samples of bit_depth bits
 * (8, or 16 as native-endian uint16_t); channels 1 gray, 2 gray+alpha,
 * 3 RGB, 4 RGBA.  Images kiln returns are freed with kiln_image_free. */
typedef struct kiln_image {
    uint32_t width;
    uint32_t height;
    uint32_t channels;
    uint32_t bit_depth;
    void *pixels;
} kiln_image;

/* Reads an image file (PNG of any colour type and depth, or JPEG, told
 * apart by their first bytes) into *out.  A decoded size above max_pixels
 * (0: the default limit, 256 megapixels) is refused
 * before decoding (KILN_E_LIMIT); a corrupt or truncated file is
 * KILN_E_FORMAT naming it.  On error *out is empty. */
KILN_API kiln_status kiln_image_read(const char *path, uint64_t max_pixels, kiln_image *out);

/* Writes `img` as a PNG file, atomically: the file appears complete or
 * not at all. */
KILN_API kiln_status kiln_image_write_png(const char *path, const kiln_image *img);

/* Frees the pixels of an image kiln returned and zeroes it.  Safe on a
 * zeroed image. */
KILN_API void kiln_image_free(kiln_image *img);

/* ---- a job's stages on one device, for images in memory ---- */

/* A job's stages (segment, refine, resize, composite, as its file and
 * sets enable them) opened on one device, with their models loaded. */
typedef struct kiln_pipeline kiln_pipeline;

/* Opens the device the job selects ([device] select, or $KILN_DEVICE)
 * and its enabled stages.  job_path may be NULL: then only the defaults
 * and `sets` ("section.key=value", nsets of them) apply, and the batch
 * keys [job] inputs and output_dir need not be given.  A model that
 * cannot be found or loaded fails here, once.  Not thread-safe: one
 * pipeline per thread. */
KILN_API kiln_status kiln_pipeline_open(const char *job_path, const char *const *sets,
                                        size_t nsets, kiln_pipeline **out);

/* Runs the stages on `in`; `mask` is the image's mask or trimap when
 * [refine] is enabled without [segment] (else NULL).  *out receives the
 * result at the job's [output] bit_depth (free it with kiln_image_free).
 * Warnings of the run are in kiln_pipeline_note.  On error *out is empty
 * and the pipeline stays usable. */
KILN_API kiln_status kiln_pipeline_run(kiln_pipeline *p, const kiln_image *in,
                                       const kiln_image *mask, kiln_image *out);

/* The warnings of the last run ("" when none); valid until the next run. */
KILN_API const char *kiln_pipeline_note(const kiln_pipeline *p);

/* Closes the stages and the device.  Returns KILN_E_LEAK naming what was
 * still held on the device (a bug), KILN_OK otherwise.  NULL is a
 * no-op. */
KILN_API kiln_status kiln_pipeline_close(kiln_pipeline *p);

/* ---- Gaussian splatting: views of 3DGS scenes rendered into floats ----
 * A renderer holds a device (the job's [device], [memory]) and renders
 * with the job's [splat] keys (mode, antialiased, background, output,
 * max_instances, sh_precision...); scenes stay resident on the device
 * between calls (read and uploaded once per file). */
typedef struct kiln_splat kiln_splat;

/* Opens a renderer for job_path (may be NULL: the defaults) with `sets`
 * ("section.key=value") applied.  Errors name the job key or device. */
KILN_API kiln_status kiln_splat_open(const char *job_path, const char *const *sets, size_t nsets,
                                     kiln_splat **out);

/* Renders view `view` of `cameras` (a camera file or directory:
 * cameras.json, transforms*.json, a COLMAP model; NULL: frame `view` of
 * the [splat] orbit) of the scene file `scene` (a PLY or .splat).  On
 * success *pixels holds width * height * channels floats, row-major,
 * channels interleaved (free with kiln_splat_free_pixels): output rgb 3
 * (over the background), rgba 4 (colour premultiplied, over the
 * background, and alpha = 1 - T), alpha 1, depth 1 (expected camera
 * depth, 0 where nothing was drawn).  On error *pixels is NULL. */
KILN_API kiln_status kiln_splat_render(kiln_splat *s, const char *scene, const char *cameras,
                                       size_t view, float **pixels, uint32_t *width,
                                       uint32_t *height, uint32_t *channels);

/* Frees pixels from kiln_splat_render.  NULL is a no-op. */
KILN_API void kiln_splat_free_pixels(float *pixels);

/* Closes the renderer and its device.  KILN_E_LEAK when device memory was
 * still held.  NULL is a no-op. */
KILN_API kiln_status kiln_splat_close(kiln_splat *s);

#ifdef __cplusplus
}
#endif
#endif
