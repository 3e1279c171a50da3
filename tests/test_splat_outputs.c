/* The outputs of splat training, no device needed:
 * - cameras.json (splat_cameras_write_json): a seeded rig of 9 views,
 *   some with cx, cy off the image centre and names needing escapes, read
 *   back by splat_cameras_read: matrices within 1e-12, names, sizes and
 *   intrinsics exact; the reference layout (keys, order, no cx/cy on a
 *   centred view);
 * - checkpoints (splat_checkpoint.h): round trips bit for bit (SH 0 and
 *   3, no Gaussians), the file size the layout gives; refusals, each
 *   KILN_E_FORMAT naming the file: truncation at several points, a
 *   flipped byte (checksum), a bad magic, an unknown version, bad SH
 *   degrees, counts beyond the file size without a large allocation (the
 *   host allocator's peak);
 * - the training report: 1,000,000 add_loss calls keep at most 1,000
 *   evenly spaced samples without allocating, test results grouped by
 *   iteration, the JSON parses back with the expected keys;
 * - atomic writes leave no temporary files; host memory back to where it
 *   started. */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <unistd.h>

#include <json-c/json.h>

#include "host_alloc.h"
#include "splat_camera.h"
#include "splat_camera_math.h"
#include "splat_checkpoint.h"
#include "splat_train_report.h"
#include "testutil.h"

#define RIG_VIEWS 9

/* Checks that the last error names `path` and says `what`. */
static void msg_check(const char *path, const char *what)
{
    CHECK_MSG(path);
    CHECK_MSG(what);
}

/* A uniform double in [lo, hi). */
static double uniform(double lo, double hi)
{
    return lo + (hi - lo) * ((double)test_rng_next() / 4294967296.0);
}

/* Counts the atomic writes' temporary files left in dir. */
static int temporaries_count(const char *dir)
{
    DIR *d = opendir(dir);
    const struct dirent *e;
    int n = 0;

    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL)
        n += strstr(e->d_name, ".tmp.") != NULL;
    closedir(d);
    return n;
}

/* ---- cameras.json ---- */

/* Fills a seeded rig: random rotations and centres, sizes, focal
 * lengths; odd views get a principal point off the centre. */
static void rig_make(splat_camera_set *set)
{
    static const char *const names[3] = { "view \"quoted\" \\ back", "caf\xc3\xa9 \xf0\x9f\x93\xb7",
                                          "tab\there/slash" };

    set->cameras = kiln_calloc(RIG_VIEWS, sizeof(splat_camera));
    set->count = set->cameras ? RIG_VIEWS : 0;
    for (size_t i = 0; i < set->count; i++) {
        splat_camera *cam = &set->cameras[i];
        double q[4], c[3];

        for (int k = 0; k < 4; k++)
            q[k] = uniform(-1, 1);
        for (int k = 0; k < 3; k++)
            c[k] = uniform(-20, 20);
        CHECK(splat_quat_rotation(q, cam->rotation) == 0);
        for (int r = 0; r < 3; r++)
            cam->translation[r] = -(cam->rotation[3 * r] * c[0] + cam->rotation[3 * r + 1] * c[1] +
                                    cam->rotation[3 * r + 2] * c[2]);
        cam->width = 100 + 37 * (uint32_t)i;
        cam->height = 80 + 23 * (uint32_t)i;
        cam->fx = uniform(50, 2000);
        cam->fy = uniform(50, 2000);
        cam->cx = 0.5 * cam->width + (i % 2 ? uniform(-10, 10) : 0);
        cam->cy = 0.5 * cam->height + (i % 2 ? uniform(-10, 10) : 0);
        if (i < 3)
            snprintf(cam->name, sizeof(cam->name), "%s", names[i]);
        else
            snprintf(cam->name, sizeof(cam->name), "img_%04zu", i);
    }
}

/* Writes the rig, reads it back, compares; checks the layout. */
static void test_cameras(const char *tmp)
{
    splat_camera_set set = { 0 }, back;
    char path[4096];
    unsigned char *text;
    size_t len;

    rig_make(&set);
    CHECK(set.count == RIG_VIEWS);
    snprintf(path, sizeof(path), "%s/cameras.json", tmp);
    CHECK_OK(splat_cameras_write_json(path, &set));
    CHECK_OK(splat_cameras_read(path, &back));
    CHECK(back.count == set.count);
    for (size_t i = 0; i < set.count && back.count == set.count; i++) {
        const splat_camera *a = &set.cameras[i], *b = &back.cameras[i];
        double err = 0;

        for (int k = 0; k < 9; k++)
            err = fmax(err, fabs(a->rotation[k] - b->rotation[k]));
        for (int k = 0; k < 3; k++)
            err = fmax(err, fabs(a->translation[k] - b->translation[k]));
        CHECK(err <= 1e-12);
        CHECK(strcmp(a->name, b->name) == 0);
        CHECK(a->width == b->width && a->height == b->height);
        CHECK(a->fx == b->fx && a->fy == b->fy && a->cx == b->cx && a->cy == b->cy);
    }
    splat_camera_set_free(&back);

    text = test_read_whole(path, &len);
    CHECK(text != NULL);
    if (text) {
        const char *s = (const char *)text;
        const char *v1 = strstr(s, "\"id\": 1,"), *v3 = strstr(s, "\"id\": 3,");

        CHECK(strncmp(s, "[{\"id\": 0, \"img_name\": \"view \\\"quoted\\\" \\\\ back\", "
                      "\"width\": 100, \"height\": 80, \"position\": [", 84) == 0);
        CHECK(strstr(s, "\"caf\\u00e9 \\ud83d\\udcf7\"") != NULL);
        CHECK(strstr(s, "\"tab\\there/slash\"") != NULL);
        CHECK(v1 && v3 && strstr(v1, "\"cx\": ") && strstr(v1, "\"cx\": ") < v3);
        /* view 0 is centred: no cx before view 1; the keys in order */
        CHECK(v1 && strstr(s, "\"cx\"") > v1);
        CHECK(v1 && strstr(s, "\"rotation\": [[") && strstr(s, "]], \"fy\": ") &&
              strstr(s, "\"fy\": ") < strstr(s, "\"fx\": ") && strstr(s, "\"fx\": ") < v1);
        CHECK(s[len - 1] == ']');
        free(text);
    }

    /* a value that is not finite is refused before anything is written */
    set.cameras[4].fx = NAN;
    snprintf(path, sizeof(path), "%s/bad_cameras.json", tmp);
    CHECK_STATUS(splat_cameras_write_json(path, &set), KILN_E_INVAL);
    msg_check(path, "img_0004");
    CHECK(access(path, F_OK) != 0);
    splat_camera_set_free(&set);
}

/* ---- checkpoints ---- */

/* Fills every value of a checkpoint with random bits (any float, NaNs
 * and denormals included) and the scalars with seeded values. */
static void checkpoint_fill(splat_checkpoint *c)
{
    const splat_scene *s = &c->scene;
    size_t n = s->count, sh = n * s->sh_coeffs * 3;
    float *const arrays[18] = { s->means, s->rotations, s->scales, s->opacity, s->sh,
                                c->m_means, c->m_scales, c->m_rotations, c->m_opacity, c->m_sh,
                                c->v_means, c->v_scales, c->v_rotations, c->v_opacity, c->v_sh,
                                c->grad_accum, c->denom, c->max_radius };
    const size_t lens[18] = { 3 * n, 4 * n, 3 * n, n, sh, 3 * n, 3 * n, 4 * n, n, sh,
                              3 * n, 3 * n, 4 * n, n, sh, n, n, n };

    for (int g = 0; g < 18; g++)
        for (size_t i = 0; i < lens[g]; i++) {
            uint32_t u = test_rng_next();

            memcpy(&arrays[g][i], &u, sizeof(u));
        }
    c->iteration = 0x0123456789abcdefull;
    for (int k = 0; k < 4; k++)
        c->rng[k] = ((uint64_t)test_rng_next() << 32) | test_rng_next();
    c->sh_active_degree = s->sh_degree > 0 ? s->sh_degree - 1 : 0;
    c->adam_step = 30000 + n;
}

/* Whether two checkpoints hold the same bits (normals aside). */
static int checkpoint_same(const splat_checkpoint *a, const splat_checkpoint *b)
{
    size_t n = a->scene.count, sh = n * a->scene.sh_coeffs * 3 * sizeof(float), f = sizeof(float);

    if (a->scene.count != b->scene.count || a->scene.sh_degree != b->scene.sh_degree ||
        a->scene.sh_coeffs != b->scene.sh_coeffs || a->iteration != b->iteration ||
        memcmp(a->rng, b->rng, sizeof(a->rng)) != 0 ||
        a->sh_active_degree != b->sh_active_degree || a->adam_step != b->adam_step)
        return 0;
    return !memcmp(a->scene.means, b->scene.means, 3 * n * f) &&
           !memcmp(a->scene.rotations, b->scene.rotations, 4 * n * f) &&
           !memcmp(a->scene.scales, b->scene.scales, 3 * n * f) &&
           !memcmp(a->scene.opacity, b->scene.opacity, n * f) &&
           !memcmp(a->scene.sh, b->scene.sh, sh) &&
           !memcmp(a->m_means, b->m_means, 3 * n * f) &&
           !memcmp(a->m_scales, b->m_scales, 3 * n * f) &&
           !memcmp(a->m_rotations, b->m_rotations, 4 * n * f) &&
           !memcmp(a->m_opacity, b->m_opacity, n * f) && !memcmp(a->m_sh, b->m_sh, sh) &&
           !memcmp(a->v_means, b->v_means, 3 * n * f) &&
           !memcmp(a->v_scales, b->v_scales, 3 * n * f) &&
           !memcmp(a->v_rotations, b->v_rotations, 4 * n * f) &&
           !memcmp(a->v_opacity, b->v_opacity, n * f) && !memcmp(a->v_sh, b->v_sh, sh) &&
           !memcmp(a->grad_accum, b->grad_accum, n * f) && !memcmp(a->denom, b->denom, n * f) &&
           !memcmp(a->max_radius, b->max_radius, n * f);
}

/* Writes a filled checkpoint of n Gaussians at `degree`, reads it back
 * and compares bit for bit; checks the file's size. */
static void checkpoint_round_trip(const char *tmp, size_t n, uint32_t degree)
{
    splat_checkpoint c, back;
    char path[4096];
    unsigned char *data;
    size_t len = 0, coeffs = (degree + 1) * (degree + 1);

    snprintf(path, sizeof(path), "%s/round_%zu_%u.ckpt", tmp, n, degree);
    CHECK_OK(splat_checkpoint_alloc(&c, n, degree));
    checkpoint_fill(&c);
    CHECK_OK(splat_checkpoint_write(path, &c));
    CHECK_OK(splat_checkpoint_read(path, &back));
    CHECK(checkpoint_same(&c, &back));
    data = test_read_whole(path, &len);
    CHECK(data && len == 84 + 4 * (3 * (11 + 3 * coeffs) + 3) * n && memcmp(data, "KILNCKP1", 8) == 0);
    free(data);
    splat_checkpoint_free(&back);
    splat_checkpoint_free(&c);
}

/* Writes `len` bytes of `data` as dir/leaf, with byte `at` xor'ed with
 * `flip` (at >= len: none), and expects KILN_E_FORMAT with `what`. */
static void refusal_check(const char *dir, const char *leaf, const unsigned char *data,
                          size_t len, size_t at, unsigned char flip, const char *what)
{
    char path[4096];
    unsigned char *copy = test_xmalloc(len ? len : 1, 1);
    splat_checkpoint c;

    snprintf(path, sizeof(path), "%s/%s", dir, leaf);
    memcpy(copy, data, len);
    if (at < len)
        copy[at] ^= flip;
    CHECK(test_write_whole(path, copy, len) == 0);
    CHECK_STATUS(splat_checkpoint_read(path, &c), KILN_E_FORMAT);
    msg_check(path, what);
    CHECK(c.scene.count == 0 && c.scene.means == NULL && c.m_sh == NULL);
    free(copy);
}

/* Stores v little-endian in 8 bytes at p. */
static void u64_store(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Damaged and forged checkpoints; run first, while the host allocator's
 * peak is small, to show that no large block is allocated. */
static void test_checkpoint_refusals(const char *tmp)
{
    static const size_t cuts[] = { 0, 4, 8, 11, 40, 67, 68, 100, 1000 };
    splat_checkpoint c;
    char path[4096];
    unsigned char *data;
    size_t len = 0;
    kiln_host_stats before, after;

    snprintf(path, sizeof(path), "%s/small.ckpt", tmp);
    CHECK_OK(splat_checkpoint_alloc(&c, 20, 1));
    checkpoint_fill(&c);
    CHECK_OK(splat_checkpoint_write(path, &c));
    splat_checkpoint_free(&c);
    data = test_read_whole(path, &len);
    CHECK(data != NULL && len == 84 + 4 * (3 * 23 + 3) * 20);
    if (!data)
        return;

    kiln_host_alloc_stats(&before);
    for (size_t k = 0; k < sizeof(cuts) / sizeof(cuts[0]); k++)
        refusal_check(tmp, "cut.ckpt", data, cuts[k], len, 0,
                      cuts[k] < 8 ? "magic" : cuts[k] < 68 ? "truncated" : "bytes where");
    refusal_check(tmp, "cut.ckpt", data, len - 8, len, 0, "bytes where");
    refusal_check(tmp, "cut.ckpt", data, len - 1, len, 0, "bytes where");
    refusal_check(tmp, "magic.ckpt", data, len, 3, 0x20, "magic");
    refusal_check(tmp, "version.ckpt", data, len, 8, 0x01, "version 3");
    /* bytes the header check does not read: only the checksum sees them */
    refusal_check(tmp, "flip.ckpt", data, len, 12, 0x01, "checksum");
    refusal_check(tmp, "flip.ckpt", data, len, 68 + 5, 0x80, "checksum");
    refusal_check(tmp, "flip.ckpt", data, len, len / 2, 0x10, "checksum");
    refusal_check(tmp, "flip.ckpt", data, len, len - 9, 0x01, "checksum");
    refusal_check(tmp, "flip.ckpt", data, len, len - 1, 0x40, "checksum");
    refusal_check(tmp, "degree.ckpt", data, len, 64, 0x05, "SH degree 4");
    refusal_check(tmp, "active.ckpt", data, len, 52, 0x02, "active SH degree 2");
    {
        static const uint64_t counts[] = { 21, 19, 1ull << 40, UINT64_MAX / 3, UINT64_MAX };
        unsigned char *forged = test_xmalloc(len, 1);

        for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
            memcpy(forged, data, len);
            u64_store(forged + 56, counts[k]);
            refusal_check(tmp, "count.ckpt", forged, len, len, 0, "Gaussians");
        }
        free(forged);
    }
    kiln_host_alloc_stats(&after);
    CHECK(after.live_bytes == before.live_bytes);
    CHECK(after.peak_bytes < before.live_bytes + (1u << 20));

    /* a missing file and a directory: KILN_E_IO */
    snprintf(path, sizeof(path), "%s/missing.ckpt", tmp);
    CHECK_STATUS(splat_checkpoint_read(path, &c), KILN_E_IO);
    CHECK_MSG(path);
    CHECK_STATUS(splat_checkpoint_read(tmp, &c), KILN_E_IO);
    /* a write refused: an active degree above the scene's */
    CHECK_OK(splat_checkpoint_alloc(&c, 2, 0));
    c.sh_active_degree = 1;
    snprintf(path, sizeof(path), "%s/active_bad.ckpt", tmp);
    CHECK_STATUS(splat_checkpoint_write(path, &c), KILN_E_INVAL);
    CHECK(access(path, F_OK) != 0);
    splat_checkpoint_free(&c);
    CHECK_STATUS(splat_checkpoint_alloc(&c, 2, 4), KILN_E_INVAL);
    free(data);
}

/* ---- the training report ---- */

/* A million add_loss calls, test results, the JSON read back. */
static void test_report(const char *tmp)
{
    splat_train_report *r = test_xmalloc(1, sizeof(*r));
    splat_report_figures f = { 0 };
    kiln_host_stats before, after;
    json_object *root, *v, *arr, *t;
    char path[4096];
    size_t most = 0, bad = 0;

    splat_train_report_init(r);
    kiln_host_alloc_stats(&before);
    for (uint64_t it = 1; it <= 1000000; it++) {
        splat_train_report_add_loss(r, it, 1.0 / (double)it, 10.0 + 1e-5 * (double)it,
                                    1000 + it / 10);
        most = r->n_points > most ? r->n_points : most;
    }
    kiln_host_alloc_stats(&after);
    CHECK(after.allocations == before.allocations && after.live_bytes == before.live_bytes);
    CHECK(most == SPLAT_REPORT_POINTS);
    CHECK(r->n_points >= SPLAT_REPORT_POINTS / 2 && r->n_points <= SPLAT_REPORT_POINTS);
    /* evenly spaced from the first call: 1024 calls apart by now */
    CHECK(r->interval == 1024);
    for (size_t i = 0; i < r->n_points; i++)
        bad += r->points[i].iteration != 1 + i * r->interval ||
               r->points[i].count != 1000 + r->points[i].iteration / 10;
    CHECK(bad == 0);

    for (int k = 0; k < 3; k++) {
        static const uint64_t test_iterations[3] = { 7000, 18500, 30000 };
        uint64_t it = test_iterations[k];

        for (int view = 0; view < 4; view++) {
            char name[32];

            snprintf(name, sizeof(name), "test_%02d", view);
            CHECK_OK(splat_train_report_add_test(r, it, name, view == 3 && it == 7000 ? INFINITY
                                                 : 20.0 + view, 0.5 + 0.1 * view));
        }
    }
    CHECK(r->n_tests == 12);
    CHECK_STATUS(splat_train_report_add_test(r, 10, "late", 1, 1), KILN_E_INVAL);
    f.iterations = 1000000;
    f.seconds = 500;
    f.device_pool_peak_bytes = 123456789;
    f.host_rss_peak_bytes = 987654321;
    f.per_gaussian.parameters = 236;
    f.per_gaussian.adam_moments = 472;
    f.per_gaussian.gradients = 236;
    f.per_gaussian.densification = 12;
    f.per_gaussian.frame_state = 60;
    f.device = "Test Device \"one\"";
    f.final_count = 101000;
    splat_train_report_set_figures(r, &f);
    snprintf(path, sizeof(path), "%s/report.json", tmp);
    CHECK_OK(splat_train_report_write(path, r));

    root = json_object_from_file(path);
    CHECK(root != NULL);
    if (root) {
        CHECK(json_object_object_get_ex(root, "iterations", &v) &&
              json_object_get_int64(v) == 1000000);
        CHECK(json_object_object_get_ex(root, "iterations_per_second", &v) &&
              json_object_get_double(v) == 2000);
        CHECK(json_object_object_get_ex(root, "seconds", &v));
        CHECK(json_object_object_get_ex(root, "final_count", &v) &&
              json_object_get_int64(v) == 101000);
        CHECK(json_object_object_get_ex(root, "device", &v) &&
              strcmp(json_object_get_string(v), f.device) == 0);
        CHECK(json_object_object_get_ex(root, "memory", &v) &&
              json_object_object_get_ex(v, "bytes_per_gaussian", &t) &&
              json_object_get_double(t) == 1016);
        CHECK(json_object_object_get_ex(v, "device_pool_peak_bytes", &t) &&
              json_object_get_int64(t) == 123456789);
        CHECK(json_object_object_get_ex(v, "host_rss_peak_bytes", &t) &&
              json_object_get_int64(t) == 987654321);
        CHECK(json_object_object_get_ex(v, "bytes_per_gaussian_breakdown", &t) &&
              json_object_object_length(t) == 5);
        CHECK(json_object_object_get_ex(root, "loss_curve", &arr) &&
              json_object_array_length(arr) == r->n_points);
        t = json_object_array_get_idx(arr, 1);
        CHECK(t && json_object_object_get_ex(t, "iteration", &v) &&
              (uint64_t)json_object_get_int64(v) == r->points[1].iteration);
        CHECK(t && json_object_object_get_ex(t, "loss", &v) &&
              json_object_get_double(v) == r->points[1].loss);
        CHECK(t && json_object_object_get_ex(t, "psnr", &v));
        CHECK(json_object_object_get_ex(root, "gaussian_count", &arr) &&
              json_object_array_length(arr) == r->n_points);
        CHECK(json_object_object_get_ex(root, "tests", &arr) &&
              json_object_array_length(arr) == 3);
        t = json_object_array_get_idx(arr, 0);
        CHECK(t && json_object_object_get_ex(t, "iteration", &v) &&
              json_object_get_int64(v) == 7000);
        CHECK(t && json_object_object_get_ex(t, "views", &v) &&
              json_object_array_length(v) == 4);
        /* the infinite PSNR is null, and so is the mean it spoils */
        CHECK(t && json_object_object_get_ex(t, "mean_psnr", &v) && v == NULL);
        t = json_object_array_get_idx(arr, 1);
        CHECK(t && json_object_object_get_ex(t, "mean_psnr", &v) &&
              fabs(json_object_get_double(v) - 21.5) < 1e-12);
        CHECK(t && json_object_object_get_ex(t, "mean_ssim", &v) &&
              fabs(json_object_get_double(v) - 0.65) < 1e-12);
        json_object_put(root);
    }
    splat_train_report_free(r);
    free(r);
}

/* Runs the checks and proves nothing leaked and no temporary stayed. */
int main(void)
{
    const char *tmp = test_tmpdir("test_splat_outputs");
    kiln_host_stats before, after;

    test_rng_seed(2024);
    kiln_host_alloc_stats(&before);
    test_checkpoint_refusals(tmp);
    checkpoint_round_trip(tmp, 5000, 3);
    checkpoint_round_trip(tmp, 777, 0);
    checkpoint_round_trip(tmp, 0, 2);
    test_cameras(tmp);
    test_report(tmp);
    {
        /* writes into a missing directory fail naming it, leaving nothing */
        char path[4096];
        splat_checkpoint c;
        splat_train_report r;
        splat_camera_set set = { 0 };

        snprintf(path, sizeof(path), "%s/no_such_dir/out", tmp);
        CHECK_OK(splat_checkpoint_alloc(&c, 1, 0));
        CHECK_STATUS(splat_checkpoint_write(path, &c), KILN_E_IO);
        CHECK_MSG("no_such_dir");
        splat_checkpoint_free(&c);
        splat_train_report_init(&r);
        CHECK_STATUS(splat_train_report_write(path, &r), KILN_E_IO);
        CHECK_MSG("no_such_dir");
        splat_train_report_free(&r);
        CHECK_STATUS(splat_cameras_write_json(path, &set), KILN_E_IO);
        CHECK_MSG("no_such_dir");
    }
    CHECK(temporaries_count(tmp) == 0);
    kiln_host_alloc_stats(&after);
    CHECK(after.live_bytes == before.live_bytes);
    return test_summary("test_splat_outputs");
}
