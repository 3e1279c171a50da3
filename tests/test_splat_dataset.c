/* Training datasets (models/splat_dataset.h) and the initial scene
 * (models/splat_init.h), no device needed:
 * - COLMAP datasets (binary and text, with points3D) written here: views
 *   sorted by name, image paths, every 8th view a test view, images_2/
 *   with halved intrinsics, points and colours;
 * - nerfstudio datasets: transforms.json (file paths without extension,
 *   a PLY point cloud with extra properties), a train/test split with no
 *   point cloud (the seeded random init in [-1.3, 1.3]^3), images_2/;
 * - brush's minimal training set (../shared/refdata/splat/brush): its
 *   one view (fl_x wins, the warning carried), its 100 points bit for bit
 *   (their colours are all 0 in that file);
 * - every refusal names the file and what is wrong;
 * - splat_knn_dist2 / splat_scene_from_points against a brute-force
 *   3-NN on 2,000 random points (bit for bit), a run on 200,000 points
 *   checked at 200 sampled points, duplicated points (the 1e-7 floor);
 * - nothing leaks (the host allocator's live bytes). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host_alloc.h"
#include "png_io.h"
#include "splat_dataset.h"
#include "splat_init.h"
#include "testutil.h"

#define VIEWS 10
#define W 16
#define H 12

/* ---- a growing byte buffer ---- */

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

/* Appends n bytes (exits on out of memory). */
static void sb_bytes(sbuf *b, const void *d, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *p = realloc(b->p, cap);

        if (!p) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* Appends printf-formatted text. */
static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    sb_bytes(b, tmp, (size_t)n);
}

/* Appends a little-endian unsigned integer of n bytes. */
static void sb_uint(sbuf *b, uint64_t v, size_t n)
{
    unsigned char d[8];

    for (size_t i = 0; i < n; i++)
        d[i] = (unsigned char)(v >> (8 * i));
    sb_bytes(b, d, n);
}

/* Appends a little-endian double. */
static void sb_double(sbuf *b, double v)
{
    uint64_t bits;

    memcpy(&bits, &v, sizeof(bits));
    sb_uint(b, bits, 8);
}

/* Appends a little-endian float. */
static void sb_float(sbuf *b, float v)
{
    uint32_t bits;

    memcpy(&bits, &v, sizeof(bits));
    sb_uint(b, bits, 4);
}

/* Writes the buffer to dir/leaf and empties it. */
static void sb_write(sbuf *b, const char *dir, const char *leaf)
{
    char path[4096];

    snprintf(path, sizeof(path), "%s/%s", dir, leaf);
    if (test_write_whole(path, b->p ? b->p : "", b->len) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    b->len = 0;
}

/* ---- files ---- */

/* Makes dir/leaf (and returns it in buf). */
static const char *dir_make(char *buf, size_t size, const char *dir, const char *leaf)
{
    snprintf(buf, size, "%s/%s", dir, leaf);
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "cannot make %s\n", buf);
        exit(1);
    }
    return buf;
}

/* Writes a w x h RGB PNG at dir/leaf. */
static void png_make(const char *dir, const char *leaf, uint32_t w, uint32_t h)
{
    char path[4096];
    host_image img;

    snprintf(path, sizeof(path), "%s/%s", dir, leaf);
    if (host_image_alloc(&img, w, h, 3, 8) != KILN_OK || png_write_file(path, &img) != KILN_OK) {
        fprintf(stderr, "cannot write %s: %s\n", path, kiln_last_error());
        exit(1);
    }
    host_image_free(&img);
}

/* The test points of the COLMAP and PLY files. */
#define NPTS 5
static const float pts_xyz[NPTS][3] = {
    { 0.5f, -1.25f, 3.0f }, { 1.0f, 2.0f, 3.5f }, { -0.75f, 0.25f, 4.0f },
    { 0.125f, 0.0f, 2.5f }, { 2.0f, -2.0f, 5.0f },
};
static const uint8_t pts_rgb[NPTS][3] = {
    { 255, 0, 10 }, { 1, 2, 3 }, { 128, 64, 32 }, { 200, 100, 50 }, { 0, 255, 7 },
};

/* Appends points3D.bin for the test points (npts of them), each with a
 * track of i observations. */
static void points3d_bin(sbuf *b, size_t npts)
{
    sb_uint(b, npts, 8);
    for (size_t i = 0; i < npts; i++) {
        sb_uint(b, 100 + i, 8);
        for (int k = 0; k < 3; k++)
            sb_double(b, pts_xyz[i][k]);
        sb_bytes(b, pts_rgb[i], 3);
        sb_double(b, 0.5);
        sb_uint(b, i, 8);
        for (size_t t = 0; t < i; t++) {
            sb_uint(b, t + 1, 4);
            sb_uint(b, t * 3, 4);
        }
    }
}

/* Writes a COLMAP dataset of VIEWS views (names img_00.png.. written in
 * reverse order so the reader must sort) in format `ext` under dir, with
 * images/ (W x H) and images_2/ (W/2 x H/2). */
static void colmap_make(const char *dir, const char *ext)
{
    char sparse[4096], buf[4096], name[32];
    sbuf b = { 0 };
    int bin = ext[0] == 'b';

    dir_make(buf, sizeof(buf), dir, "sparse");
    dir_make(sparse, sizeof(sparse), dir, "sparse/0");
    dir_make(buf, sizeof(buf), dir, "images");
    dir_make(buf, sizeof(buf), dir, "images_2");
    for (int i = 0; i < VIEWS; i++) {
        snprintf(name, sizeof(name), "images/img_%02d.png", i);
        png_make(dir, name, W, H);
        snprintf(name, sizeof(name), "images_2/img_%02d.png", i);
        png_make(dir, name, W / 2, H / 2);
    }
    if (bin) {
        sb_uint(&b, 1, 8);
        sb_uint(&b, 7, 4);
        sb_uint(&b, 1, 4);      /* PINHOLE */
        sb_uint(&b, W, 8);
        sb_uint(&b, H, 8);
        sb_double(&b, 20);
        sb_double(&b, 22);
        sb_double(&b, 8);
        sb_double(&b, 6);
        sb_write(&b, sparse, "cameras.bin");
        sb_uint(&b, VIEWS, 8);
        for (int i = VIEWS - 1; i >= 0; i--) {
            sb_uint(&b, (uint64_t)i + 1, 4);
            sb_double(&b, 1);
            sb_double(&b, 0);
            sb_double(&b, 0);
            sb_double(&b, 0);
            sb_double(&b, i);
            sb_double(&b, 0);
            sb_double(&b, 1);
            sb_uint(&b, 7, 4);
            sb_printf(&b, "img_%02d.png", i);
            sb_uint(&b, 0, 1);
            sb_uint(&b, 0, 8);
        }
        sb_write(&b, sparse, "images.bin");
        points3d_bin(&b, NPTS);
        sb_write(&b, sparse, "points3D.bin");
    } else {
        sb_printf(&b, "# Camera list\n7 PINHOLE %d %d 20 22 8 6\n", W, H);
        sb_write(&b, sparse, "cameras.txt");
        sb_printf(&b, "# Image list\n");
        for (int i = VIEWS - 1; i >= 0; i--)
            sb_printf(&b, "%d 1 0 0 0 %d 0 1 7 img_%02d.png\n\n", i + 1, i, i);
        sb_write(&b, sparse, "images.txt");
        sb_printf(&b, "# 3D point list\n");
        for (int i = 0; i < NPTS; i++) {
            sb_printf(&b, "%d %.9g %.9g %.9g %u %u %u 0.5", 100 + i, pts_xyz[i][0],
                      pts_xyz[i][1], pts_xyz[i][2], pts_rgb[i][0], pts_rgb[i][1],
                      pts_rgb[i][2]);
            for (int t = 0; t < i; t++)
                sb_printf(&b, " %d %d", t + 1, t * 3);
            sb_printf(&b, "\n");
        }
        sb_write(&b, sparse, "points3D.txt");
    }
    free(b.p);
}

/* Checks the test points and colours in a dataset. */
static void points_check(const splat_dataset *ds)
{
    CHECK(ds->npoints == NPTS);
    for (size_t i = 0; i < NPTS && i < ds->npoints; i++)
        for (int k = 0; k < 3; k++) {
            CHECK(ds->points[3 * i + k] == pts_xyz[i][k]);
            CHECK(ds->colours[3 * i + k] == pts_rgb[i][k]);
        }
}

/* Whether a message names `a` and `b`. */
static void msg_check(const char *a, const char *b)
{
    CHECK_MSG(a);
    if (b)
        CHECK_MSG(b);
}

/* A COLMAP dataset in one format: views, split, downscale, points, and
 * the refusals. */
static void test_colmap(const char *tmp, const char *ext)
{
    char dir[2048], path[4096], want[4096], sparse[3000], leaf[64];
    splat_dataset ds;
    splat_dataset_options opt;
    int bin = ext[0] == 'b';

    snprintf(leaf, sizeof(leaf), "colmap_%s", ext);
    dir_make(dir, sizeof(dir), tmp, leaf);
    snprintf(sparse, sizeof(sparse), "%s/sparse/0", dir);
    colmap_make(dir, ext);
    CHECK_OK(splat_dataset_open(dir, NULL, &ds));
    CHECK(ds.count == VIEWS);
    for (size_t i = 0; i < ds.count && ds.count == VIEWS; i++) {
        const splat_camera *c = &ds.views[i].camera;

        snprintf(want, sizeof(want), "img_%02zu.png", i);
        CHECK(strcmp(c->name, want) == 0);
        snprintf(want, sizeof(want), "%s/images/img_%02zu.png", dir, i);
        CHECK(strcmp(ds.views[i].image, want) == 0);
        CHECK(ds.views[i].test == (i % 8 == 0));
        CHECK(c->fx == 20 && c->fy == 22 && c->cx == 8 && c->cy == 6);
        CHECK(c->width == W && c->height == H);
        CHECK(c->translation[0] == (double)i);
    }
    points_check(&ds);
    CHECK(ds.warning[0] == '\0');
    splat_dataset_free(&ds);

    /* downscale 2: images_2/, intrinsics halved; 4: no folder, a warning */
    splat_dataset_options_default(&opt);
    opt.downscale = 2;
    opt.test_every = 3;
    CHECK_OK(splat_dataset_open(dir, &opt, &ds));
    CHECK(ds.count == VIEWS);
    for (size_t i = 0; i < ds.count && ds.count == VIEWS; i++) {
        const splat_camera *c = &ds.views[i].camera;

        snprintf(want, sizeof(want), "%s/images_2/img_%02zu.png", dir, i);
        CHECK(strcmp(ds.views[i].image, want) == 0);
        CHECK(c->fx == 10 && c->fy == 11 && c->cx == 4 && c->cy == 3);
        CHECK(c->width == W / 2 && c->height == H / 2);
        CHECK(ds.views[i].test == (i % 3 == 0));
    }
    splat_dataset_free(&ds);
    opt.downscale = 4;
    opt.test_every = 0;
    CHECK_OK(splat_dataset_open(dir, &opt, &ds));
    /* no images_4: the full-size images are reduced on the fly */
    CHECK(ds.count == VIEWS && ds.views[0].camera.fx == 5 && !ds.views[0].test);
    CHECK(ds.views[0].reduce == 4 && ds.views[0].camera.width == W / 4 &&
          ds.views[0].camera.height == H / 4);
    CHECK(strstr(ds.warning, "images_4") != NULL && strstr(ds.warning, "on the fly") != NULL);
    splat_dataset_free(&ds);
    opt.downscale = 3;
    CHECK_STATUS(splat_dataset_open(dir, &opt, &ds), KILN_E_INVAL);
    msg_check("downscale 3", NULL);

    /* an image of the wrong size, then a missing one */
    png_make(dir, "images/img_03.png", W + 1, H);
    CHECK_STATUS(splat_dataset_open(dir, NULL, &ds), KILN_E_FORMAT);
    msg_check("img_03.png", "17x12");
    CHECK(ds.views == NULL && ds.count == 0 && ds.points == NULL);
    snprintf(path, sizeof(path), "%s/images/img_03.png", dir);
    unlink(path);
    CHECK_STATUS(splat_dataset_open(dir, NULL, &ds), KILN_E_IO);
    msg_check("missing image file", "images/img_03.png");
    png_make(dir, "images/img_03.png", W, H);
    /* the wrong size in images_2 */
    png_make(dir, "images_2/img_05.png", W, H / 2);
    opt.downscale = 2;
    CHECK_STATUS(splat_dataset_open(dir, &opt, &ds), KILN_E_FORMAT);
    msg_check("images_2/img_05.png", "16x6");
    png_make(dir, "images_2/img_05.png", W / 2, H / 2);

    /* points3D: truncated / odd, NaN, empty (random init), absent */
    {
        sbuf b = { 0 };
        const char *pleaf = bin ? "points3D.bin" : "points3D.txt";

        if (bin) {
            points3d_bin(&b, NPTS);
            b.len -= 5;
        } else {
            sb_printf(&b, "1 0 0 0 1 2 3 0.5 1 2 3\n");
        }
        sb_write(&b, sparse, pleaf);
        CHECK_STATUS(splat_dataset_open(dir, NULL, &ds), KILN_E_FORMAT);
        msg_check(pleaf, bin ? "truncated" : "pairs");
        if (bin) {
            points3d_bin(&b, NPTS);
            memcpy(b.p + 8 + 8 + 8, &(double){ NAN }, 8);
            sb_write(&b, sparse, pleaf);
            CHECK_STATUS(splat_dataset_open(dir, NULL, &ds), KILN_E_FORMAT);
            msg_check(pleaf, "y = nan");
            points3d_bin(&b, NPTS);
            sb_uint(&b, 0, 1);
        } else {
            sb_printf(&b, "1 0 nan 0 1 2 3 0.5\n");
            sb_write(&b, sparse, pleaf);
            CHECK_STATUS(splat_dataset_open(dir, NULL, &ds), KILN_E_FORMAT);
            msg_check(pleaf, "not finite");
            sb_printf(&b, "1 0 0 0 1 256 3 0.5\n");
        }
        sb_write(&b, sparse, pleaf);
        CHECK_STATUS(splat_dataset_open(dir, NULL, &ds), KILN_E_FORMAT);
        msg_check(pleaf, bin ? "after the last point" : "G");
        if (bin)
            sb_uint(&b, 0, 8);
        else
            sb_printf(&b, "# no points\n");
        sb_write(&b, sparse, pleaf);
        opt.downscale = 1;
        opt.random_points = 1000;
        opt.seed = 5;
        CHECK_OK(splat_dataset_open(dir, &opt, &ds));
        CHECK(ds.npoints == 1000 && strstr(ds.warning, "holds no points") != NULL);
        splat_dataset_free(&ds);
        opt.random_points = 0;
        CHECK_STATUS(splat_dataset_open(dir, &opt, &ds), KILN_E_FORMAT);
        msg_check("empty point cloud", pleaf);
        snprintf(path, sizeof(path), "%s/%s", sparse, pleaf);
        unlink(path);
        CHECK_STATUS(splat_dataset_open(dir, &opt, &ds), KILN_E_FORMAT);
        msg_check("empty point cloud", "points3D.bin or .txt");
        free(b.p);
    }

    /* no images folder */
    snprintf(path, sizeof(path), "%s/images", dir);
    snprintf(want, sizeof(want), "%s/images_moved", dir);
    CHECK(rename(path, want) == 0);
    CHECK_STATUS(splat_dataset_open(dir, NULL, &ds), KILN_E_IO);
    msg_check("missing images folder", "/images");
    CHECK(rename(want, path) == 0);
}

/* Writes a PLY point cloud of the test points (with normals and an
 * alpha, ignored) at dir/leaf; `count` overrides the vertex count. */
static void ply_make(const char *dir, const char *leaf, size_t count)
{
    sbuf b = { 0 };

    sb_printf(&b, "ply\nformat binary_little_endian 1.0\ncomment test\nelement vertex %zu\n"
              "property float x\nproperty float y\nproperty double z\nproperty float nx\n"
              "property uchar red\nproperty uchar green\nproperty uchar blue\n"
              "property uchar alpha\nend_header\n", count);
    for (size_t i = 0; i < NPTS; i++) {
        sb_float(&b, pts_xyz[i][0]);
        sb_float(&b, pts_xyz[i][1]);
        sb_double(&b, pts_xyz[i][2]);
        sb_float(&b, 0.5f);
        sb_bytes(&b, pts_rgb[i], 3);
        sb_uint(&b, 255, 1);
    }
    sb_write(&b, dir, leaf);
    free(b.p);
}

/* Appends a transforms file of `n` frames "prefix_kk" (ids from `first`),
 * file paths without extension unless ext. */
static void transforms_text(sbuf *b, const char *folder, int first, int n, const char *extra)
{
    sb_printf(b, "{\"fl_x\": 20, \"fl_y\": 22, \"cx\": 8, \"cy\": 6, \"w\": %d, \"h\": %d,%s "
              "\"frames\": [", W, H, extra);
    for (int i = n - 1; i >= 0; i--)
        sb_printf(b, "{\"file_path\": \"%s/frame_%02d\", \"transform_matrix\": [[1,0,0,%d],"
                  "[0,1,0,0],[0,0,1,2],[0,0,0,1]]}%s", folder, first + i, first + i,
                  i ? "," : "");
    sb_printf(b, "]}\n");
}

/* nerfstudio datasets: transforms.json with a PLY, a split with random
 * init, images_2/, and the refusals. */
static void test_transforms(const char *tmp)
{
    char dir[2048], buf[4096], want[4096];
    splat_dataset ds, ds2;
    splat_dataset_options opt;
    sbuf b = { 0 };

    dir_make(dir, sizeof(dir), tmp, "nerfstudio");
    dir_make(buf, sizeof(buf), dir, "images");
    dir_make(buf, sizeof(buf), dir, "images_2");
    for (int i = 0; i < 9; i++) {
        snprintf(buf, sizeof(buf), "images/frame_%02d.png", i);
        png_make(dir, buf, W, H);
        snprintf(buf, sizeof(buf), "images_2/frame_%02d.png", i);
        png_make(dir, buf, W / 2, H / 2);
    }
    transforms_text(&b, "images", 0, 9, "");
    sb_write(&b, dir, "transforms.json");
    ply_make(dir, "points3d.ply", NPTS);
    CHECK_OK(splat_dataset_open(dir, NULL, &ds));
    CHECK(ds.count == 9);
    for (size_t i = 0; i < ds.count && ds.count == 9; i++) {
        const splat_camera *c = &ds.views[i].camera;

        snprintf(want, sizeof(want), "frame_%02zu", i);
        CHECK(strcmp(c->name, want) == 0);
        snprintf(want, sizeof(want), "%s/images/frame_%02zu.png", dir, i);
        CHECK(strcmp(ds.views[i].image, want) == 0);
        CHECK(ds.views[i].test == (i == 0 || i == 8));
        CHECK(c->fx == 20 && c->fy == 22 && c->width == W);
    }
    points_check(&ds);
    splat_dataset_free(&ds);

    splat_dataset_options_default(&opt);
    opt.downscale = 2;
    CHECK_OK(splat_dataset_open(dir, &opt, &ds));
    CHECK(ds.count == 9 && ds.views[4].camera.fx == 10 && ds.views[4].camera.width == W / 2);
    snprintf(want, sizeof(want), "%s/images_2/frame_04.png", dir);
    CHECK(ds.count == 9 && strcmp(ds.views[4].image, want) == 0);
    splat_dataset_free(&ds);

    /* ply_file_path wins over points3d.ply, and must exist */
    ply_make(dir, "other.ply", 3);
    transforms_text(&b, "images", 0, 9, " \"ply_file_path\": \"other.ply\",");
    sb_write(&b, dir, "transforms.json");
    CHECK_OK(splat_dataset_open(dir, NULL, &ds));
    CHECK(ds.npoints == 3 && ds.points[3] == pts_xyz[1][0]);
    splat_dataset_free(&ds);
    transforms_text(&b, "images", 0, 9, " \"ply_file_path\": \"gone.ply\",");
    sb_write(&b, dir, "transforms.json");
    CHECK_STATUS(splat_dataset_open(dir, NULL, &ds), KILN_E_IO);
    msg_check("gone.ply", "missing");
    transforms_text(&b, "images", 0, 9, "");
    sb_write(&b, dir, "transforms.json");

    /* PLY refusals: counts beyond the data, NaN, no colours */
    ply_make(dir, "points3d.ply", NPTS + 1);
    CHECK_STATUS(splat_dataset_open(dir, NULL, &ds), KILN_E_FORMAT);
    msg_check("points3d.ply", "truncated");
    sb_printf(&b, "ply\nformat binary_little_endian 1.0\nelement vertex 1\nproperty float x\n"
              "property float y\nproperty float z\nproperty uchar red\nproperty uchar green\n"
              "property uchar blue\nend_header\n");
    sb_float(&b, 1);
    sb_float(&b, NAN);
    sb_float(&b, 1);
    sb_bytes(&b, "abc", 3);
    sb_write(&b, dir, "points3d.ply");
    CHECK_STATUS(splat_dataset_open(dir, NULL, &ds), KILN_E_FORMAT);
    msg_check("points3d.ply", "y = nan");
    sb_printf(&b, "ply\nformat binary_little_endian 1.0\nelement vertex 1\nproperty float x\n"
              "property float y\nproperty float z\nend_header\n");
    sb_bytes(&b, "0123456789ab", 12);
    sb_write(&b, dir, "points3d.ply");
    CHECK_STATUS(splat_dataset_open(dir, NULL, &ds), KILN_E_FORMAT);
    msg_check("points3d.ply", "no red");
    ply_make(dir, "points3d.ply", NPTS);

    /* a missing image and one of the wrong size */
    snprintf(buf, sizeof(buf), "%s/images/frame_06.png", dir);
    unlink(buf);
    CHECK_STATUS(splat_dataset_open(dir, NULL, &ds), KILN_E_IO);
    msg_check("images/frame_06", "view \"frame_06\"");
    png_make(dir, "images/frame_06.png", W, H + 2);
    CHECK_STATUS(splat_dataset_open(dir, NULL, &ds), KILN_E_FORMAT);
    msg_check("frame_06.png", "16x14");

    /* a train/test split, Blender style, no point cloud: random init */
    dir_make(dir, sizeof(dir), tmp, "blender");
    dir_make(buf, sizeof(buf), dir, "train");
    dir_make(buf, sizeof(buf), dir, "test");
    for (int i = 0; i < 5; i++) {
        snprintf(buf, sizeof(buf), "%s/frame_%02d.png", i < 3 ? "train" : "test", i);
        png_make(dir, buf, W, H);
    }
    transforms_text(&b, "./train", 0, 3, "");
    sb_write(&b, dir, "transforms_train.json");
    transforms_text(&b, "./test", 3, 2, "");
    sb_write(&b, dir, "transforms_test.json");
    CHECK_OK(splat_dataset_open(dir, NULL, &ds));
    CHECK(ds.count == 5);
    for (size_t i = 0; i < ds.count && ds.count == 5; i++) {
        snprintf(want, sizeof(want), "frame_%02zu", i);
        CHECK(strcmp(ds.views[i].camera.name, want) == 0);
        CHECK(ds.views[i].test == (i >= 3));
        snprintf(want, sizeof(want), "%s/./%s/frame_%02zu.png", dir, i < 3 ? "train" : "test",
                 i);
        CHECK(strcmp(ds.views[i].image, want) == 0);
    }
    CHECK(ds.npoints == 100000 && strstr(ds.warning, "random points") != NULL);
    {
        float lo = 10, hi = -10;
        size_t grey = 0;

        for (size_t i = 0; i < 3 * ds.npoints; i++) {
            lo = fminf(lo, ds.points[i]);
            hi = fmaxf(hi, ds.points[i]);
            grey += ds.colours[i] == ds.colours[i - i % 3];
        }
        CHECK(lo >= -1.3f && hi <= 1.3f && lo < -1.29f && hi > 1.29f);
        CHECK(grey < 3 * ds.npoints);   /* colours differ */
    }
    opt.downscale = 1;
    opt.random_points = 100000;
    opt.seed = 0;
    CHECK_OK(splat_dataset_open(dir, &opt, &ds2));
    CHECK(ds2.npoints == ds.npoints &&
          memcmp(ds2.points, ds.points, 3 * sizeof(float) * ds.npoints) == 0);
    splat_dataset_free(&ds2);
    opt.seed = 1;
    CHECK_OK(splat_dataset_open(dir, &opt, &ds2));
    CHECK(ds2.npoints == ds.npoints &&
          memcmp(ds2.points, ds.points, 3 * sizeof(float) * ds.npoints) != 0);
    splat_dataset_free(&ds2);
    splat_dataset_free(&ds);
    opt.random_points = 0;
    CHECK_STATUS(splat_dataset_open(dir, &opt, &ds), KILN_E_FORMAT);
    msg_check("empty point cloud", "random init is off");

    /* no dataset at all; not a directory */
    dir_make(dir, sizeof(dir), tmp, "empty");
    CHECK_STATUS(splat_dataset_open(dir, NULL, &ds), KILN_E_FORMAT);
    msg_check("no dataset here", "empty");
    snprintf(buf, sizeof(buf), "%s/nothing", tmp);
    CHECK_STATUS(splat_dataset_open(buf, NULL, &ds), KILN_E_IO);
    msg_check("nothing", "not a dataset directory");
    free(b.p);
}

/* brush's minimal training set. */
static void test_brush(void)
{
    char ref[2048], dir[4096];
    splat_dataset ds;
    unsigned char *ply;
    size_t len;
    const char *end;

    if (!test_refdata_dir("splat", ref, sizeof(ref))) {
        fprintf(stderr, "no splat reference data: brush set skipped\n");
        return;
    }
    snprintf(dir, sizeof(dir), "%s/brush", ref);
    CHECK_OK(splat_dataset_open(dir, NULL, &ds));
    CHECK(ds.count == 1);
    if (ds.count == 1) {
        const splat_camera *c = &ds.views[0].camera;

        CHECK(strcmp(c->name, "r_0") == 0);
        CHECK(c->width == 50 && c->height == 50 && c->fx == 50 && c->fy == 50);
        CHECK(c->cx == 25 && c->cy == 25);
        CHECK(strstr(ds.views[0].image, "brush/train/r_0.png") != NULL);
        CHECK(ds.views[0].test == 1);      /* view 0 of 1, test_every 8 */
    }
    CHECK(strstr(ds.warning, "camera_angle_x") != NULL);
    CHECK(ds.npoints == 100);
    snprintf(ref + strlen(ref), sizeof(ref) - strlen(ref), "/brush/init.ply");
    ply = test_read_whole(ref, &len);
    end = ply ? strstr((const char *)ply, "end_header\n") : NULL;
    CHECK(end != NULL);
    if (end && ds.npoints == 100) {
        const unsigned char *row = (const unsigned char *)end + 11;
        int same = 1;

        /* rows of x y z float + red green blue alpha uchar: 16 bytes */
        for (size_t i = 0; i < 100; i++) {
            float xyz[3];

            memcpy(xyz, row + 16 * i, sizeof(xyz));
            for (int k = 0; k < 3; k++) {
                same &= ds.points[3 * i + k] == xyz[k];
                same &= ds.colours[3 * i + k] == row[16 * i + 12 + k];
            }
        }
        CHECK(same);      /* brush's init.ply colours are all 0 */
    }
    free(ply);
    splat_dataset_free(&ds);
}

/* ---- the initial scene ---- */

/* Brute-force mean squared distance to the 3 nearest others, in the
 * order distCUDA2 keeps them. */
static float brute_dist2(const float *p, size_t n, size_t i)
{
    float b[3] = { INFINITY, INFINITY, INFINITY };

    for (size_t j = 0; j < n; j++) {
        float dx, dy, dz, d;

        if (j == i)
            continue;
        dx = p[3 * i] - p[3 * j];
        dy = p[3 * i + 1] - p[3 * j + 1];
        dz = p[3 * i + 2] - p[3 * j + 2];
        d = dx * dx + dy * dy + dz * dz;
        if (d < b[0]) {
            b[2] = b[1];
            b[1] = b[0];
            b[0] = d;
        } else if (d < b[1]) {
            b[2] = b[1];
            b[1] = d;
        } else if (d < b[2]) {
            b[2] = d;
        }
    }
    return (b[0] + b[1] + b[2]) / 3.0f;
}

/* n random points in [-s, s)^3 (test_rng). */
static float *points_random(size_t n, float s)
{
    float *p = test_xmalloc(3 * n, sizeof(*p));

    for (size_t i = 0; i < 3 * n; i++)
        p[i] = (2 * test_rng_unit() - 1) * s;
    return p;
}

/* splat_scene_from_points and splat_knn_dist2 against brute force. */
static void test_init(void)
{
    const size_t n = 2000, big = 200000;
    float *p = points_random(n, 3), *d = test_xmalloc(big, sizeof(*d));
    uint8_t *rgb = test_xmalloc(3 * big, 1);
    splat_scene sc;
    size_t bad = 0;

    for (size_t i = 0; i < 3 * big; i++)
        rgb[i] = (uint8_t)(i * 37);
    CHECK_OK(splat_scene_from_points(p, rgb, n, 3, &sc));
    CHECK(sc.count == n && sc.sh_degree == 3);
    for (size_t i = 0; i < n && sc.count == n; i++) {
        float s = logf(sqrtf(fmaxf(brute_dist2(p, n, i), 1e-7f)));

        bad += sc.scales[3 * i] != s || sc.scales[3 * i + 1] != s || sc.scales[3 * i + 2] != s;
        bad += memcmp(sc.means + 3 * i, p + 3 * i, 12) != 0;
        for (int c = 0; c < 3; c++)
            bad += sc.sh[i * 48 + c] != ((float)(rgb[3 * i + c] / 255.0) - 0.5f) /
                                            (float)SPLAT_SH_C0;
        for (int k = 3; k < 48; k++)
            bad += sc.sh[i * 48 + k] != 0;
        bad += sc.rotations[4 * i] != 1 || sc.rotations[4 * i + 1] != 0 ||
               sc.rotations[4 * i + 2] != 0 || sc.rotations[4 * i + 3] != 0;
        bad += fabsf(sc.opacity[i] - -2.1972246f) > 1e-6f;
        bad += sc.normals[3 * i] != 0;
    }
    CHECK(bad == 0);
    splat_scene_free(&sc);
    free(p);

    /* 200,000 points: sampled against brute force */
    p = points_random(big, 10);
    CHECK_OK(splat_knn_dist2(p, big, d));
    bad = 0;
    for (size_t i = 0; i < big; i += big / 200)
        bad += d[i] != brute_dist2(p, big, i);
    CHECK(bad == 0);
    CHECK_OK(splat_scene_from_points(p, rgb, big, 0, &sc));
    CHECK(sc.count == big && sc.sh_coeffs == 1);
    for (size_t i = 0; i < big && sc.count == big; i++)
        bad += !isfinite(sc.scales[3 * i]) || sc.scales[3 * i] != logf(sqrtf(fmaxf(d[i],
                                                                                     1e-7f)));
    CHECK(bad == 0);
    splat_scene_free(&sc);

    /* duplicates: 4 copies of 500 points (dist2 0 -> the floor), then 2
     * copies (one neighbour at 0), then 20,000 identical points */
    for (size_t i = 0; i < 2000; i++)
        memcpy(p + 3 * i, p + 3 * (big - 1 - i % 500), 12);
    CHECK_OK(splat_knn_dist2(p, 2000, d));
    bad = 0;
    for (size_t i = 0; i < 2000; i++)
        bad += d[i] != 0;
    CHECK(bad == 0);
    CHECK_OK(splat_scene_from_points(p, rgb, 2000, 1, &sc));
    CHECK(sc.count == 2000 && sc.scales[0] == logf(sqrtf(1e-7f)));
    splat_scene_free(&sc);
    for (size_t i = 0; i < 2000; i++)
        memcpy(p + 3 * i, p + 3 * (big - 1 - i % 1000), 12);
    CHECK_OK(splat_knn_dist2(p, 2000, d));
    bad = 0;
    for (size_t i = 0; i < 2000; i++)
        bad += d[i] != brute_dist2(p, 2000, i) || !(d[i] > 0);
    CHECK(bad == 0);
    for (size_t i = 0; i < 20000; i++)
        memcpy(p + 3 * i, p, 12);
    CHECK_OK(splat_knn_dist2(p, 20000, d));
    bad = 0;
    for (size_t i = 0; i < 20000; i++)
        bad += d[i] != 0;
    CHECK(bad == 0);

    /* fewer than 4 points, none, and a NaN */
    CHECK_OK(splat_knn_dist2(p + 3 * (big - 3), 3, d));
    {
        const float *q = p + 3 * (big - 3);
        float e[2];

        for (int j = 0; j < 2; j++) {
            float dx = q[0] - q[3 + 3 * j], dy = q[1] - q[4 + 3 * j], dz = q[2] - q[5 + 3 * j];

            e[j] = dx * dx + dy * dy + dz * dz;
        }
        CHECK(d[0] == (fminf(e[0], e[1]) + fmaxf(e[0], e[1])) / 2.0f);
    }
    CHECK_OK(splat_knn_dist2(p, 1, d));
    CHECK(d[0] == 0);
    CHECK_OK(splat_scene_from_points(p, rgb, 0, 0, &sc));
    CHECK(sc.count == 0);
    splat_scene_free(&sc);
    p[4] = NAN;
    CHECK_STATUS(splat_scene_from_points(p, rgb, 10, 0, &sc), KILN_E_INVAL);
    msg_check("point 1", "y is not finite");
    CHECK_STATUS(splat_scene_from_points(p, rgb, 10, 4, &sc), KILN_E_INVAL);
    free(p);
    free(d);
    free(rgb);
}

/* Runs the checks and proves nothing leaked. */
int main(void)
{
    const char *tmp = test_tmpdir("test_splat_dataset");
    kiln_host_stats before, after;

    test_rng_seed(12345);
    kiln_host_alloc_stats(&before);
    test_colmap(tmp, "bin");
    test_colmap(tmp, "txt");
    test_transforms(tmp);
    test_brush();
    test_init();
    kiln_host_alloc_stats(&after);
    CHECK(after.live_bytes == before.live_bytes);
    return test_summary("test_splat_dataset");
}
