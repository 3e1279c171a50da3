/* The public splatting calls (kiln.h): views of scenes into floats. */
#include <string.h>

#include "device.h"
#include "host_alloc.h"
#include "job.h"
#include "launch.h"
#include "resident.h"
#include "stage_splat.h"
#include "status.h"

#define API_SPLAT_MAX_SETS 256

struct kiln_splat {
    job_config job;
    kiln_device *dev;
    splat_renderer *renderer;
    char cameras_path[JOB_PATH_MAX];  /* the source of `cameras` ("" none) */
    splat_camera_set cameras;
};

/* Opens a renderer. */
kiln_status kiln_splat_open(const char *job_path, const char *const *sets, size_t nsets,
                            kiln_splat **out)
{
    const char *all[API_SPLAT_MAX_SETS + 2];
    size_t n = 0;
    kiln_splat *s;
    kiln_status st;

    if (!out)
        return kiln_fail(KILN_E_INVAL, "kiln_splat_open: NULL output");
    *out = NULL;
    if (nsets > API_SPLAT_MAX_SETS || (nsets && !sets))
        return kiln_fail(KILN_E_INVAL, "kiln_splat_open: at most %d sets, not NULL",
                         API_SPLAT_MAX_SETS);
    if (!job_path) {
        all[n++] = "job.inputs=-";
        all[n++] = "job.output_dir=.";
    }
    for (size_t i = 0; i < nsets; i++)
        all[n++] = sets[i];
    s = kiln_calloc(1, sizeof(*s));
    if (!s)
        return kiln_fail(KILN_E_HOSTMEM, "kiln_splat_open: out of host memory");
    st = job_load(job_path, all, n, &s->job);
    if (st == KILN_OK)
        st = device_open_selected(s->job.device.select, (size_t)s->job.memory.device_budget,
                                  &s->dev);
    if (st == KILN_OK)
        st = splat_renderer_init(s->dev, &s->renderer);
    if (st != KILN_OK) {
        kiln_splat_close(s);
        return st;
    }
    *out = s;
    return KILN_OK;
}

/* The camera of a view: from the (cached) camera source, or the orbit. */
static kiln_status api_camera(kiln_splat *s, const splat_scene_dev *scene, const char *cameras,
                              size_t view, splat_camera *cam)
{
    if (!cameras) {
        if (s->job.splat.orbit_frames == 0)
            return kiln_fail(KILN_E_INVAL, "kiln_splat_render: no cameras and [splat] "
                             "orbit_frames is 0");
        if (view >= s->job.splat.orbit_frames)
            return kiln_fail(KILN_E_INVAL, "kiln_splat_render: view %zu of an orbit of %llu",
                             view, (unsigned long long)s->job.splat.orbit_frames);
        return stage_splat_orbit_camera(&s->job.splat, scene, view, cam);
    }
    if (strcmp(cameras, s->cameras_path) != 0) {
        kiln_status st;
        splat_camera_set_free(&s->cameras);
        s->cameras_path[0] = '\0';
        st = splat_cameras_read(cameras, &s->cameras);
        if (st != KILN_OK)
            return st;
        snprintf(s->cameras_path, sizeof(s->cameras_path), "%s", cameras);
    }
    if (view >= s->cameras.count)
        return kiln_fail(KILN_E_INVAL, "kiln_splat_render: %s holds %zu views, no view %zu",
                         cameras, s->cameras.count, view);
    *cam = s->cameras.cameras[view];
    return KILN_OK;
}

/* Renders a view into floats. */
kiln_status kiln_splat_render(kiln_splat *s, const char *scene_path, const char *cameras,
                              size_t view, float **pixels, uint32_t *width, uint32_t *height,
                              uint32_t *channels)
{
    splat_render_options opt;
    splat_render_stats stats;
    splat_scene_load load;
    splat_scene_dev *scene = NULL;
    splat_camera cam;
    dev_image img = { 0 };
    float *planar = NULL, *out = NULL;
    size_t plane;
    kiln_status st;

    if (!s || !scene_path || !pixels || !width || !height || !channels)
        return kiln_fail(KILN_E_INVAL, "kiln_splat_render: NULL argument");
    *pixels = NULL;
    stage_splat_options(&s->job.splat, &opt);
    stage_splat_load(&s->job.splat, &load);
    if (opt.output == SPLAT_OUT_RGBA)
        opt.output = SPLAT_OUT_RGBA_PREMUL;
    if (opt.output == SPLAT_OUT_DEPTH)
        opt.depth_scale = 1.0f;
    st = splat_scene_dev_acquire(s->dev, scene_path, &load, &scene);
    if (st != KILN_OK)
        return st;
    st = api_camera(s, scene, cameras, view, &cam);
    if (st == KILN_OK)
        st = splat_render(s->renderer, scene, &cam, &opt, &img, &stats);
    resident_release(s->dev, scene);
    if (st != KILN_OK)
        return st;
    plane = (size_t)img.width * img.height;
    planar = kiln_malloc(dev_image_elements(&img) * sizeof(float));
    out = kiln_malloc(dev_image_elements(&img) * sizeof(float));
    if (!planar || !out)
        st = kiln_fail(KILN_E_HOSTMEM, "kiln_splat_render: out of host memory");
    if (st == KILN_OK)
        st = dev_buffer_read(s->dev, img.buf->mem, 0, dev_image_elements(&img) * sizeof(float),
                             planar, "reading the frame");
    if (st == KILN_OK) {
        for (size_t p = 0; p < plane; p++)
            for (uint32_t c = 0; c < img.channels; c++)
                out[p * img.channels + c] = planar[c * plane + p];
        *pixels = out;
        *width = img.width;
        *height = img.height;
        *channels = img.channels;
        out = NULL;
    }
    kiln_free(planar);
    kiln_free(out);
    dev_image_release(s->dev, &img);
    return st;
}

/* Frees rendered pixels. */
void kiln_splat_free_pixels(float *pixels)
{
    kiln_free(pixels);
}

/* Closes the renderer and its device. */
kiln_status kiln_splat_close(kiln_splat *s)
{
    kiln_status st = KILN_OK;
    if (!s)
        return KILN_OK;
    splat_renderer_free(s->renderer);
    if (s->dev)
        st = device_close(s->dev);
    splat_camera_set_free(&s->cameras);
    kiln_free(s);
    return st;
}
