/* Splat parity through the public C API (kiln.h): kiln_splat_open with
 * [splat] sets, kiln_splat_render of both reference scenes from their PLY
 * files with the golden camera written as the trainer's cameras.json,
 * gsplat mode against brush's golden images and inria mode against the
 * float64 Inria renders (brush's tolerance on every value, alpha
 * included); an orbit frame without a camera file; errors for a missing
 * view and a missing scene; a clean close. */
#include <math.h>

#include "kiln.h"
#include "testutil.h"

/* Reads a .f32 reference (F32I, H, W, C, floats); NULL when unreadable. */
static float *read_f32(const char *path, uint32_t *h, uint32_t *w, uint32_t *c)
{
    size_t len = 0;
    unsigned char *data = test_read_whole(path, &len);
    float *out;
    if (!data || len < 16 || memcmp(data, "F32I", 4) != 0) {
        free(data);
        return NULL;
    }
    memcpy(h, data + 4, 4);
    memcpy(w, data + 8, 4);
    memcpy(c, data + 12, 4);
    if (len != 16 + (size_t)*h * *w * *c * 4) {
        free(data);
        return NULL;
    }
    out = test_xmalloc((size_t)*h * *w * *c, sizeof(float));
    memcpy(out, data + 16, len - 16);
    free(data);
    return out;
}

/* Renders `scene` in `mode` through the API and compares with `ref`. */
static void parity(const char *dir, const char *cameras, const char *scene, const char *mode,
                   const char *ref)
{
    char path[4200], want_path[4200], mode_set[64];
    const char *sets[] = { mode_set, "splat.output=rgba" };
    kiln_splat *s = NULL;
    float *px = NULL, *want;
    uint32_t w = 0, h = 0, c = 0, rh, rw, rc;
    size_t fails = 0;
    double maxd = 0.0;

    snprintf(mode_set, sizeof(mode_set), "splat.mode=%s", mode);
    snprintf(path, sizeof(path), "%s/%s.ply", dir, scene);
    snprintf(want_path, sizeof(want_path), "%s/%s_%s.f32", dir, scene, ref);
    CHECK_OK(kiln_splat_open(NULL, sets, 2, &s));
    if (!s)
        return;
    CHECK_OK(kiln_splat_render(s, path, cameras, 0, &px, &w, &h, &c));
    want = read_f32(want_path, &rh, &rw, &rc);
    CHECK(want && px && w == rw && h == rh && c == rc && c == 4);
    for (size_t i = 0; want && px && c == rc && i < (size_t)w * h * c; i++) {
        double d = fabs((double)px[i] - want[i]);
        fails += !(d < 1e-5 + 1e-2 * fabs(want[i]));
        maxd = d > maxd ? d : maxd;
    }
    printf("C API %s %s vs %s: max |diff| %.3g, %zu / %zu values fail\n", scene, mode, ref, maxd,
           fails, (size_t)w * h * c);
    CHECK(fails == 0);
    kiln_splat_free_pixels(px);
    free(want);
    /* the same scene again: resident, same pixels */
    CHECK_OK(kiln_splat_render(s, path, cameras, 0, &px, &w, &h, &c));
    kiln_splat_free_pixels(px);
    CHECK_STATUS(kiln_splat_render(s, path, cameras, 1, &px, &w, &h, &c), KILN_E_INVAL);
    CHECK(px == NULL);
    CHECK_MSG("no view 1");
    CHECK_OK(kiln_splat_close(s));
}

int main(void)
{
    char dir[4096], cameras[4200];
    const char *orbit_sets[] = { "splat.orbit_frames=4", "splat.width=32", "splat.height=24",
                                 "splat.output=depth" };
    kiln_splat *s = NULL;
    float *px = NULL;
    uint32_t w, h, c;

    if (!test_refdata_dir("splat", dir, sizeof(dir))) {
        fprintf(stderr, "splat reference data not found in %s\n", dir);
        return 77;
    }
    snprintf(cameras, sizeof(cameras), "%s/cameras.json", test_tmpdir("splat_api"));
    test_write_text(cameras, "[{\"id\": 0, \"img_name\": \"golden\", \"width\": 123, \"height\": 82,"
                             " \"position\": [0.123, 0.456, -8.0], \"rotation\": [[1, 0, 0], "
                             "[0, 1, 0], [0, 0, 1]], \"fx\": 61.5, \"fy\": 61.5}]\n");
    parity(dir, cameras, "brush_tiny", "gsplat", "golden");
    parity(dir, cameras, "brush_basic", "gsplat", "golden");
    parity(dir, cameras, "brush_tiny", "inria", "oracle_inria");
    parity(dir, cameras, "brush_basic", "inria", "oracle_inria");

    /* an orbit frame of expected depth, and a scene that does not exist */
    CHECK_OK(kiln_splat_open(NULL, orbit_sets, 4, &s));
    if (s) {
        char scene[4200], missing[4200];
        size_t drawn = 0;
        snprintf(scene, sizeof(scene), "%s/brush_basic.ply", dir);
        CHECK_OK(kiln_splat_render(s, scene, NULL, 2, &px, &w, &h, &c));
        CHECK(w == 32 && h == 24 && c == 1);
        for (size_t i = 0; px && i < (size_t)w * h; i++)
            drawn += px[i] > 0.0f;
        CHECK(drawn > 0);
        kiln_splat_free_pixels(px);
        snprintf(missing, sizeof(missing), "%s/no_such_scene.ply", dir);
        CHECK(kiln_splat_render(s, missing, NULL, 0, &px, &w, &h, &c) != KILN_OK);
        CHECK_MSG("no_such_scene.ply");
        CHECK_OK(kiln_splat_close(s));
    }
    return test_summary("test_splat_api");
}
