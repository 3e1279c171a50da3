/* Camera sources (models/splat_camera.h), no device needed:
 * - one synthetic rig of 5 views (random rotations and positions,
 *   fx != fy, cx != W/2) written here as cameras.json, COLMAP text,
 *   COLMAP binary and transforms.json (the OpenGL flip applied when
 *   writing) reads back to the same world-to-camera transforms and
 *   intrinsics (1e-6), from memory and through splat_cameras_read on
 *   files and directories;
 * - brush's minimal training set (../shared/refdata/splat/brush,
 *   README.md there): fl_x = 50 wins over camera_angle_x, with the
 *   warning;
 * - defaults (cx, cy), w/h from an image header, orbits (distance,
 *   look-at, elevation, azimuth steps, brush's golden camera);
 * - every refusal names the file and the reason;
 * - 2,400 deterministic mutations of valid inputs through the memory
 *   parsers: no crash, every error names the source, nothing leaks. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host_alloc.h"
#include "png_io.h"
#include "splat_camera.h"
#include "testutil.h"

#define RIG_VIEWS 5
#define TOL 1e-6

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

/* ---- the synthetic rig ---- */

typedef struct rig_view {
    double q[4];            /* w, x, y, z (unnormalised) */
    double r[9], t[3];      /* world-to-camera */
    double fx, fy, cx, cy;
    uint32_t w, h;
    char stem[16];
} rig_view;

/* The test's own quaternion-to-matrix (w first), independent of the
 * library's. */
static void quat_matrix(const double q[4], double r[9])
{
    double n = sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
    double a = q[0] / n, b = q[1] / n, c = q[2] / n, d = q[3] / n;

    r[0] = a * a + b * b - c * c - d * d;
    r[1] = 2 * (b * c - a * d);
    r[2] = 2 * (b * d + a * c);
    r[3] = 2 * (b * c + a * d);
    r[4] = a * a - b * b + c * c - d * d;
    r[5] = 2 * (c * d - a * b);
    r[6] = 2 * (b * d - a * c);
    r[7] = 2 * (c * d + a * b);
    r[8] = a * a - b * b - c * c + d * d;
}

/* Camera-to-world rotation (R^T) and centre (-R^T t) of a view. */
static void rig_c2w(const rig_view *v, double c2w[9], double pos[3])
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            c2w[3 * i + j] = v->r[3 * j + i];
    for (int i = 0; i < 3; i++)
        pos[i] = -(c2w[3 * i] * v->t[0] + c2w[3 * i + 1] * v->t[1] + c2w[3 * i + 2] * v->t[2]);
}

/* Seeded random views; intrinsics differ per view, fx != fy, cx != W/2. */
static void rig_make(rig_view *rig)
{
    test_rng_seed(20260817u);
    for (int i = 0; i < RIG_VIEWS; i++) {
        rig_view *v = &rig[i];

        for (int k = 0; k < 4; k++)
            v->q[k] = 2.0 * test_rng_unit() - 1.0;
        quat_matrix(v->q, v->r);
        for (int k = 0; k < 3; k++)
            v->t[k] = 10.0 * test_rng_unit() - 5.0;
        v->w = 640 + 16 * (uint32_t)i;
        v->h = 480 - 8 * (uint32_t)i;
        v->fx = 500.25 + 10 * i;
        v->fy = 520.5 + 7 * i;
        v->cx = v->w / 2.0 + 3.5 + i;
        v->cy = v->h / 2.0 - 2.25;
        snprintf(v->stem, sizeof(v->stem), "view_%d", i);
    }
}

/* The rig as the reference trainer's cameras.json (rows of the
 * camera-to-world rotation, camera centre). */
static void rig_cameras_json(const rig_view *rig, sbuf *b)
{
    sb_printf(b, "[");
    for (int i = 0; i < RIG_VIEWS; i++) {
        double c2w[9], pos[3];

        rig_c2w(&rig[i], c2w, pos);
        sb_printf(b, "%s\n {\"id\": %d, \"img_name\": \"%s\", \"width\": %u, \"height\": %u, "
                  "\"position\": [%.17g, %.17g, %.17g], \"rotation\": [", i ? "," : "", i,
                  rig[i].stem, rig[i].w, rig[i].h, pos[0], pos[1], pos[2]);
        for (int r = 0; r < 3; r++)
            sb_printf(b, "%s[%.17g, %.17g, %.17g]", r ? ", " : "", c2w[3 * r], c2w[3 * r + 1],
                      c2w[3 * r + 2]);
        sb_printf(b, "], \"fy\": %.17g, \"fx\": %.17g, \"cx\": %.17g, \"cy\": %.17g}",
                  rig[i].fy, rig[i].fx, rig[i].cx, rig[i].cy);
    }
    sb_printf(b, "\n]\n");
}

/* The rig as transforms.json: camera-to-world in OpenGL axes (columns 1
 * and 2 negated), top-level intrinsics every frame overrides. */
static void rig_transforms_json(const rig_view *rig, sbuf *b)
{
    sb_printf(b, "{\"camera_model\": \"OPENCV\", \"fl_x\": 999, \"fl_y\": 998, \"w\": 7, "
              "\"h\": 9, \"k1\": 0, \"p1\": 0, \"frames\": [");
    for (int i = 0; i < RIG_VIEWS; i++) {
        double c2w[9], pos[3];

        rig_c2w(&rig[i], c2w, pos);
        sb_printf(b, "%s\n {\"file_path\": \"./images/%s.jpg\", \"fl_x\": %.17g, \"fl_y\": %.17g, "
                  "\"cx\": %.17g, \"cy\": %.17g, \"w\": %u, \"h\": %u, \"transform_matrix\": [",
                  i ? "," : "", rig[i].stem, rig[i].fx, rig[i].fy, rig[i].cx, rig[i].cy,
                  rig[i].w, rig[i].h);
        for (int r = 0; r < 3; r++)
            sb_printf(b, "[%.17g, %.17g, %.17g, %.17g], ", c2w[3 * r], -c2w[3 * r + 1],
                      -c2w[3 * r + 2], pos[r]);
        sb_printf(b, "[0, 0, 0, 1]]}");
    }
    sb_printf(b, "\n]}\n");
}

/* The rig as COLMAP text: one PINHOLE camera a view, images in reverse
 * name order (the reader sorts), some with points, some without. */
static void rig_colmap_text(const rig_view *rig, sbuf *cams, sbuf *imgs)
{
    sb_printf(cams, "# Camera list with one line of data per camera:\n"
              "#   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]\n# Number of cameras: %d\n",
              RIG_VIEWS);
    for (int i = 0; i < RIG_VIEWS; i++)
        sb_printf(cams, "%d PINHOLE %u %u %.17g %.17g %.17g %.17g\n", i + 1, rig[i].w, rig[i].h,
                  rig[i].fx, rig[i].fy, rig[i].cx, rig[i].cy);
    sb_printf(imgs, "# Image list with two lines of data per image:\n"
              "#   IMAGE_ID, QW, QX, QY, QZ, TX, TY, TZ, CAMERA_ID, NAME\n"
              "#   POINTS2D[] as (X, Y, POINT3D_ID)\n");
    for (int i = RIG_VIEWS - 1; i >= 0; i--) {
        const rig_view *v = &rig[i];

        sb_printf(imgs, "%d %.17g %.17g %.17g %.17g %.17g %.17g %.17g %d %s.png\n", 10 + i,
                  v->q[0], v->q[1], v->q[2], v->q[3], v->t[0], v->t[1], v->t[2], i + 1,
                  v->stem);
        sb_printf(imgs, i % 2 ? "12.5 30.25 7 100.0 4.5 -1\n" : "\n");
    }
}

/* The rig as COLMAP binary, the same content as the text. */
static void rig_colmap_bin(const rig_view *rig, sbuf *cams, sbuf *imgs)
{
    sb_uint(cams, RIG_VIEWS, 8);
    for (int i = 0; i < RIG_VIEWS; i++) {
        sb_uint(cams, (uint64_t)i + 1, 4);
        sb_uint(cams, 1, 4);    /* PINHOLE */
        sb_uint(cams, rig[i].w, 8);
        sb_uint(cams, rig[i].h, 8);
        sb_double(cams, rig[i].fx);
        sb_double(cams, rig[i].fy);
        sb_double(cams, rig[i].cx);
        sb_double(cams, rig[i].cy);
    }
    sb_uint(imgs, RIG_VIEWS, 8);
    for (int i = RIG_VIEWS - 1; i >= 0; i--) {
        const rig_view *v = &rig[i];
        char name[32];
        uint64_t npoints = i % 2 ? 2 : 0;

        sb_uint(imgs, (uint64_t)(10 + i), 4);
        for (int k = 0; k < 4; k++)
            sb_double(imgs, v->q[k]);
        for (int k = 0; k < 3; k++)
            sb_double(imgs, v->t[k]);
        sb_uint(imgs, (uint64_t)i + 1, 4);
        snprintf(name, sizeof(name), "%s.png", v->stem);
        sb_bytes(imgs, name, strlen(name) + 1);
        sb_uint(imgs, npoints, 8);
        for (uint64_t p = 0; p < npoints; p++) {
            sb_double(imgs, 12.5);
            sb_double(imgs, 30.25);
            sb_uint(imgs, p == 0 ? 7 : UINT64_MAX, 8);   /* -1: no 3D point */
        }
    }
}

/* Whether two values agree within TOL (relative for large ones). */
static int near(double a, double b)
{
    return fabs(a - b) <= TOL * (1.0 + fabs(b));
}

/* Checks a read set against the rig, view by view (names start with the
 * rig's stems, in order). */
static void rig_compare(const rig_view *rig, const splat_camera_set *set, const char *what)
{
    int bad = 0;

    CHECK(set->count == RIG_VIEWS);
    if (set->count != RIG_VIEWS)
        return;
    for (int i = 0; i < RIG_VIEWS; i++) {
        const splat_camera *c = &set->cameras[i];
        const rig_view *v = &rig[i];

        bad |= strncmp(c->name, v->stem, strlen(v->stem)) != 0;
        for (int k = 0; k < 9; k++)
            bad |= !near(c->rotation[k], v->r[k]);
        for (int k = 0; k < 3; k++)
            bad |= !near(c->translation[k], v->t[k]);
        bad |= !near(c->fx, v->fx) || !near(c->fy, v->fy) || !near(c->cx, v->cx) ||
               !near(c->cy, v->cy) || c->width != v->w || c->height != v->h;
        if (bad) {
            fprintf(stderr, "%s: view %d (%s) differs from the rig\n", what, i, c->name);
            break;
        }
    }
    CHECK(!bad);
}

/* Writes a buffer to dir/leaf (exits on failure). */
static void file_put(const char *dir, const char *leaf, const sbuf *b)
{
    char path[4096];

    snprintf(path, sizeof(path), "%s/%s", dir, leaf);
    if (test_write_whole(path, b->p, b->len) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
}

/* Makes dir/leaf (and returns it in buf). */
static const char *dir_make(char *buf, size_t size, const char *dir, const char *leaf)
{
    snprintf(buf, size, "%s/%s", dir, leaf);
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "cannot create %s\n", buf);
        exit(1);
    }
    return buf;
}

/* The valid inputs every other part starts from. */
typedef struct rig_files {
    sbuf cameras_json, transforms_json, cams_txt, imgs_txt, cams_bin, imgs_bin;
} rig_files;

/* The four forms from memory and from files and directories. */
static void test_rig(const rig_view *rig, const rig_files *f, const char *tmp)
{
    splat_camera_set set;
    char d[4096], e[4096], path[8192];

    CHECK_OK(splat_cameras_parse_json(f->cameras_json.p, f->cameras_json.len, "rig.json", &set));
    rig_compare(rig, &set, "cameras.json");
    CHECK(set.warning[0] == '\0');
    splat_camera_set_free(&set);
    CHECK(set.cameras == NULL && set.count == 0);
    CHECK_OK(splat_cameras_parse_json(f->transforms_json.p, f->transforms_json.len,
                                      "transforms.json", &set));
    rig_compare(rig, &set, "transforms.json");
    splat_camera_set_free(&set);
    CHECK_OK(splat_cameras_parse_colmap_text(f->cams_txt.p, f->cams_txt.len, f->imgs_txt.p,
                                             f->imgs_txt.len, "rig", &set));
    rig_compare(rig, &set, "COLMAP text");
    splat_camera_set_free(&set);
    CHECK_OK(splat_cameras_parse_colmap_bin(f->cams_bin.p, f->cams_bin.len, f->imgs_bin.p,
                                            f->imgs_bin.len, "rig", &set));
    rig_compare(rig, &set, "COLMAP binary");
    splat_camera_set_free(&set);

    /* files and directories */
    dir_make(d, sizeof(d), tmp, "bin");
    file_put(d, "cameras.bin", &f->cams_bin);
    file_put(d, "images.bin", &f->imgs_bin);
    CHECK_OK(splat_cameras_read(d, &set));
    rig_compare(rig, &set, "bin directory");
    splat_camera_set_free(&set);
    snprintf(path, sizeof(path), "%s/images.bin", d);
    CHECK_OK(splat_cameras_read(path, &set));
    rig_compare(rig, &set, "images.bin named");
    splat_camera_set_free(&set);
    dir_make(d, sizeof(d), tmp, "txt");
    dir_make(e, sizeof(e), d, "sparse");
    dir_make(e, sizeof(e), d, "sparse/0");
    file_put(e, "cameras.txt", &f->cams_txt);
    file_put(e, "images.txt", &f->imgs_txt);
    CHECK_OK(splat_cameras_read(d, &set));
    rig_compare(rig, &set, "sparse/0 text");
    splat_camera_set_free(&set);
    dir_make(d, sizeof(d), tmp, "json");
    file_put(d, "cameras.json", &f->cameras_json);
    CHECK_OK(splat_cameras_read(d, &set));
    rig_compare(rig, &set, "cameras.json directory");
    splat_camera_set_free(&set);
    dir_make(d, sizeof(d), tmp, "nerf");
    file_put(d, "transforms_train.json", &f->transforms_json);
    snprintf(path, sizeof(path), "%s/transforms_train.json", d);
    CHECK_OK(splat_cameras_read(path, &set));
    rig_compare(rig, &set, "transforms_train.json");
    splat_camera_set_free(&set);
}

/* brush's minimal training set: fl_x wins, the warning names both. */
static void test_brush(void)
{
    const char *top = getenv("TOP_SRCDIR");
    char path[4096];
    splat_camera_set set;
    double c[3];
    struct stat sb;

    snprintf(path, sizeof(path), "%s/../shared/refdata/splat/brush/transforms.json",
             top && *top ? top : ".");
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "%s not found: brush checks skipped\n", path);
        return;
    }
    CHECK_OK(splat_cameras_read(path, &set));
    CHECK(set.count == 1);
    if (set.count != 1)
        return;
    CHECK(strcmp(set.cameras[0].name, "r_0") == 0);
    CHECK(set.cameras[0].width == 50 && set.cameras[0].height == 50);
    CHECK(set.cameras[0].fx == 50 && set.cameras[0].fy == 50);
    CHECK(set.cameras[0].cx == 25 && set.cameras[0].cy == 25);
    CHECK(strstr(set.warning, "transforms.json: fl_x 50 and camera_angle_x 1.19214 (fx 36.85) "
                 "disagree; using fl_x as nerfstudio does") != NULL);
    CHECK(strstr(set.warning, "fl_y 50 and camera_angle_y 0.729069 (fy 65.52) disagree") != NULL);
    /* the camera centre is the matrix's last column; its view direction
     * (camera +z) is the OpenGL matrix's third column negated */
    splat_camera_centre(&set.cameras[0], c);
    CHECK(near(c[0], -0.05379832163453102) && near(c[1], 3.845470428466797) &&
          near(c[2], 1.2080823183059692));
    CHECK(near(set.cameras[0].rotation[6], 0.013345719315111637) &&
          near(set.cameras[0].rotation[7], -0.95394366979599) &&
          near(set.cameras[0].rotation[8], -0.29968830943107605));
    splat_camera_set_free(&set);
}

/* Defaults: cx, cy at the image centre; w/h from the image's header;
 * camera_angle_x alone; SIMPLE_PINHOLE. */
static void test_defaults(const char *tmp)
{
    static const char json[] =
        "[{\"id\": 0, \"img_name\": \"a\", \"width\": 101, \"height\": 60, "
        "\"position\": [0, 0, -3], \"rotation\": [[1, 0, 0], [0, 1, 0], [0, 0, 1]], "
        "\"fx\": 80, \"fy\": 81}]";
    static const char blender[] =
        "{\"camera_angle_x\": 0.6911112070083618, \"frames\": [{\"file_path\": \"./pic\", "
        "\"transform_matrix\": [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 4], [0, 0, 0, 1]]}]}";
    static const char cams[] = "7 SIMPLE_PINHOLE 64 48 55 31 23\n";
    static const char imgs[] = "1 1 0 0 0 0 0 2 7 x.png\n";
    splat_camera_set set;
    host_image img;
    char d[4096], path[8192];
    sbuf b = { 0 };

    CHECK_OK(splat_cameras_parse_json(json, strlen(json), "c.json", &set));
    CHECK(set.count == 1 && set.cameras[0].cx == 50.5 && set.cameras[0].cy == 30);
    CHECK(set.count == 1 && near(set.cameras[0].translation[2], 3));
    splat_camera_set_free(&set);

    /* w, h from pic.png beside the file: camera_angle_x gives fx = fy */
    dir_make(d, sizeof(d), tmp, "blender");
    CHECK_OK(host_image_alloc(&img, 37, 23, 3, 8));
    memset(img.pixels, 128, host_image_bytes(&img));
    snprintf(path, sizeof(path), "%s/pic.png", d);
    CHECK_OK(png_write_file(path, &img));
    host_image_free(&img);
    sb_bytes(&b, blender, strlen(blender));
    file_put(d, "transforms.json", &b);
    CHECK_OK(splat_cameras_read(d, &set));
    CHECK(set.count == 1);
    if (set.count == 1) {
        const splat_camera *c = &set.cameras[0];
        CHECK(c->width == 37 && c->height == 23 && c->cx == 18.5 && c->cy == 11.5);
        CHECK(near(c->fx, 0.5 * 37 / tan(0.5 * 0.6911112070083618)) && c->fy == c->fx);
        CHECK(strcmp(c->name, "pic") == 0 && set.warning[0] == '\0');
        /* OpenGL camera at z = 4 looking down -z: COLMAP z forward = -world z */
        CHECK(near(c->rotation[8], -1) && near(c->rotation[4], -1) && near(c->translation[2], 4));
    }
    splat_camera_set_free(&set);
    /* the memory parser has no image to read */
    CHECK_STATUS(splat_cameras_parse_json(blender, strlen(blender), "mem.json", &set),
                 KILN_E_FORMAT);
    CHECK_MSG("mem.json: frame 0 (pic) has no \"w\"");
    CHECK(set.cameras == NULL && set.count == 0);
    /* a missing image */
    snprintf(path, sizeof(path), "%s/pic.png", d);
    unlink(path);
    CHECK_STATUS(splat_cameras_read(d, &set), KILN_E_FORMAT);
    CHECK_MSG("transforms.json: frame 0 (pic) has no w/h and its image");
    CHECK_MSG("is not found");
    free(b.p);

    CHECK_OK(splat_cameras_parse_colmap_text(cams, strlen(cams), imgs, strlen(imgs), "sp", &set));
    CHECK(set.count == 1 && set.cameras[0].fx == 55 && set.cameras[0].fy == 55 &&
          set.cameras[0].cx == 31 && set.cameras[0].cy == 23 &&
          near(set.cameras[0].translation[2], 2) && near(set.cameras[0].rotation[0], 1));
    splat_camera_set_free(&set);
}

/* Orbits: distance, look-at, elevation, azimuth steps, names; brush's
 * golden camera as an orbit view. */
static void test_orbit(void)
{
    static const double ups[3][3] = { { 0, -1, 0 }, { 0, 0, 1 }, { 0.3, -1, 0.2 } };
    splat_orbit o;
    splat_camera_set set;

    for (int u = 0; u < 3; u++) {
        double un = sqrt(ups[u][0] * ups[u][0] + ups[u][1] * ups[u][1] + ups[u][2] * ups[u][2]);
        double hprev[3] = { 0, 0, 0 };
        int bad = 0;

        memset(&o, 0, sizeof(o));
        o.frames = 12;
        o.centre[0] = 1;
        o.centre[1] = 2;
        o.centre[2] = -3;
        memcpy(o.up, ups[u], sizeof(o.up));
        o.radius = 4.5;
        o.elevation_deg = 25;
        o.fov_deg = 60;
        o.width = 320;
        o.height = 200;
        CHECK_OK(splat_orbit_cameras(&o, &set));
        CHECK(set.count == 12);
        for (size_t k = 0; k < set.count; k++) {
            const splat_camera *c = &set.cameras[k];
            double e[3], d[3], x[3], dist, along = 0, h[3];
            int name_ok;
            char want[32];

            splat_camera_centre(c, e);
            for (int i = 0; i < 3; i++)
                d[i] = e[i] - o.centre[i];
            dist = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
            bad |= !near(dist, o.radius);
            /* the centre projects to the principal point, in front */
            for (int i = 0; i < 3; i++)
                x[i] = c->rotation[3 * i] * o.centre[0] + c->rotation[3 * i + 1] * o.centre[1] +
                       c->rotation[3 * i + 2] * o.centre[2] + c->translation[i];
            bad |= !(fabs(x[0]) < 1e-9 && fabs(x[1]) < 1e-9 && near(x[2], o.radius));
            /* elevation: above the plane, towards up */
            for (int i = 0; i < 3; i++)
                along += d[i] * ups[u][i] / un;
            bad |= !near(along / o.radius, sin(25 * M_PI / 180));
            /* the image's y axis points away from up */
            bad |= !(c->rotation[3] * ups[u][0] + c->rotation[4] * ups[u][1] +
                     c->rotation[5] * ups[u][2] < 0);
            /* azimuth: 30 degrees from the previous view, counter-clockwise about up */
            for (int i = 0; i < 3; i++)
                h[i] = d[i] - along * ups[u][i] / un;
            if (k > 0) {
                double hh = h[0] * h[0] + h[1] * h[1] + h[2] * h[2];
                double dot = (h[0] * hprev[0] + h[1] * hprev[1] + h[2] * hprev[2]) / hh;
                const double cr[3] = { hprev[1] * h[2] - hprev[2] * h[1],
                                 hprev[2] * h[0] - hprev[0] * h[2],
                                 hprev[0] * h[1] - hprev[1] * h[0] };
                double turn = (cr[0] * ups[u][0] + cr[1] * ups[u][1] + cr[2] * ups[u][2]) / un;
                bad |= !near(dot, cos(30 * M_PI / 180)) || !(turn > 0);
            }
            memcpy(hprev, h, sizeof(h));
            bad |= !near(c->fx, 160 / tan(30 * M_PI / 180)) || c->fy != c->fx ||
                   c->cx != 160 || c->cy != 100 || c->width != 320 || c->height != 200;
            snprintf(want, sizeof(want), "orbit_%04zu", k);
            name_ok = strcmp(c->name, want) == 0;
            bad |= !name_ok;
            if (bad) {
                fprintf(stderr, "orbit up %d: view %zu wrong\n", u, k);
                break;
            }
        }
        CHECK(!bad);
        splat_camera_set_free(&set);
    }

    /* brush's golden camera (brush_camera.json): identity rotation,
     * t = (-0.123, -0.456, 8), fx = fy = cx = 61.5, cy = 41, 123x82: view 3
     * of 4 around (0.123, 0.456, 0) at radius 8, up -y, 90 degrees */
    memset(&o, 0, sizeof(o));
    o.frames = 4;
    o.centre[0] = 0.12300000339746475;
    o.centre[1] = 0.4560000002384186;
    o.up[1] = -1;
    o.radius = 8;
    o.fov_deg = 90;
    o.width = 123;
    o.height = 82;
    CHECK_OK(splat_orbit_cameras(&o, &set));
    if (set.count == 4) {
        const splat_camera *c = &set.cameras[3];
        int bad = 0;
        for (int k = 0; k < 9; k++)
            bad |= fabs(c->rotation[k] - (k % 4 == 0)) > 1e-12;
        bad |= !near(c->translation[0], -0.12300000339746475) ||
               !near(c->translation[1], -0.4560000002384186) || !near(c->translation[2], 8.0);
        bad |= !near(c->fx, 61.5) || !near(c->fy, 61.5) || c->cx != 61.5 || c->cy != 41;
        CHECK(!bad);
    }
    splat_camera_set_free(&set);

    /* refusals */
    memset(&o, 0, sizeof(o));
    o.frames = 3;
    o.up[2] = 1;
    o.radius = 1;
    o.fov_deg = 50;
    o.width = o.height = 16;
    CHECK_OK(splat_orbit_cameras(&o, &set));
    splat_camera_set_free(&set);
    o.frames = 0;
    CHECK_STATUS(splat_orbit_cameras(&o, &set), KILN_E_INVAL);
    CHECK_MSG("0 frames");
    o.frames = 3;
    o.radius = 0;
    CHECK_STATUS(splat_orbit_cameras(&o, &set), KILN_E_INVAL);
    CHECK_MSG("radius");
    o.radius = 1;
    o.fov_deg = 180;
    CHECK_STATUS(splat_orbit_cameras(&o, &set), KILN_E_INVAL);
    CHECK_MSG("field of view");
    o.fov_deg = 50;
    o.up[2] = 0;
    CHECK_STATUS(splat_orbit_cameras(&o, &set), KILN_E_INVAL);
    CHECK_MSG("up vector");
    o.up[2] = 1;
    o.width = 0;
    CHECK_STATUS(splat_orbit_cameras(&o, &set), KILN_E_INVAL);
    CHECK_MSG("image size");
    o.width = 16;
    o.elevation_deg = 90;
    CHECK_STATUS(splat_orbit_cameras(&o, &set), KILN_E_INVAL);
    CHECK_MSG("elevation");
    CHECK(set.cameras == NULL && set.count == 0);
}

/* Replaces the first occurrence of `from` in the NUL-terminated text by
 * `to` into out. */
static void text_subst(const char *text, const char *from, const char *to, sbuf *out)
{
    const char *at = strstr(text, from);

    out->len = 0;
    if (!at) {
        fprintf(stderr, "test bug: \"%s\" not in the input\n", from);
        exit(1);
    }
    sb_bytes(out, text, (size_t)(at - text));
    sb_bytes(out, to, strlen(to));
    sb_bytes(out, at + strlen(from), strlen(at + strlen(from)));
}

/* Parses a cameras.json variant and checks the refusal's message. */
static void json_refused(const char *text, const char *from, const char *to, const char *why)
{
    splat_camera_set set;
    sbuf b = { 0 };

    text_subst(text, from, to, &b);
    CHECK_STATUS(splat_cameras_parse_json(b.p, b.len, "bad.json", &set), KILN_E_FORMAT);
    CHECK_MSG("bad.json: ");
    CHECK_MSG(why);
    CHECK(set.cameras == NULL && set.count == 0);
    free(b.p);
}

/* Every refusal names the file and the reason. */
static void test_refusals(const rig_view *rig, const rig_files *f, const char *tmp)
{
    const char *cj = f->cameras_json.p, *tj = f->transforms_json.p;
    splat_camera_set set;
    sbuf b = { 0 }, c = { 0 };
    char d[4096], path[8192];
    FILE *fp;

    json_refused(cj, "\"fx\": 510.25", "\"fz\": 510.25", "camera 1 (view_1) has no \"fx\"");
    json_refused(cj, "\"img_name\": \"view_2\"", "\"img\": 2", "camera 2 has no \"img_name\"");
    json_refused(cj, "\"width\": 640", "\"width\": \"640\"",
                 "camera 0 (view_0): \"width\" is not a number");
    json_refused(cj, "\"width\": 640", "\"width\": 1e999", "\"width\" is not finite");
    json_refused(cj, "\"fx\": 500.25", "\"fx\": NaN", "\"fx\" is not finite");
    json_refused(cj, "\"width\": 640", "\"width\": 0",
                 "\"width\" 0 is not a whole size in 1..65536");
    json_refused(cj, "\"height\": 480", "\"height\": 70000",
                 "\"height\" 70000 is not a whole size");
    json_refused(cj, "\"width\": 640", "\"width\": 640.5",
                 "\"width\" 640.5 is not a whole size");
    json_refused(cj, "\"fx\": 500.25", "\"fx\": -500.25", "focal length fx -500.25");
    json_refused(cj, "\"fy\": 520.5", "\"fy\": 0", "is not positive");
    json_refused(cj, "\"position\": [", "\"position\": [1, ", "\"position\" is not a list of 3");
    json_refused(cj, "\"rotation\": [[", "\"rotation\": [[2, 0, 0], [",
                 "\"rotation\" is not a list of 3 rows");
    json_refused(cj, "\"rotation\": [[",
                 "\"rotation\": [[3, 0, 0], [0, 1, 0], [0, 0, 1]], \"x\": [[",
                 "bad.json: view \"view_0\": the rotation is not a rotation");
    json_refused(cj, "[", "{", "not valid JSON");
    json_refused(cj, "\n]\n", "\n] 7\n", "data after the JSON value");
    json_refused(cj, cj, "{\"views\": []}", "neither a list of cameras");
    json_refused(cj, cj, "[]", "empty list: no views");
    json_refused(tj, "\"transform_matrix\"", "\"matrix\"",
                 "frame 0 (view_0) has no \"transform_matrix\"");
    json_refused(tj, "\"file_path\"", "\"path\"", "frame 0 has no \"file_path\"");
    /* a frame without w takes the top level's */
    text_subst(tj, "\"w\": 640", "\"x\": 640", &b);
    CHECK_OK(splat_cameras_parse_json(b.p, b.len, "t.json", &set));
    CHECK(set.count == RIG_VIEWS && set.cameras[0].width == 7 && set.cameras[1].width == 656);
    splat_camera_set_free(&set);
    json_refused(tj, "\"camera_model\": \"OPENCV\"", "\"camera_model\": \"OPENCV_FISHEYE\"",
                 "the top level: camera_model OPENCV_FISHEYE is not supported");
    json_refused(tj, "\"k1\": 0", "\"k1\": 0.1", "distortion k1 = 0.1 is not supported");

    /* COLMAP: unsupported model by name, unknown camera, truncation, counts */
    text_subst(f->cams_txt.p, "3 PINHOLE 672 464 520.25 534.5 341.5 229.75\n",
               "3 OPENCV 672 464 520.25 534.5 341.5 229.75 0.1 0.01 0 0\n", &c);
    CHECK_STATUS(splat_cameras_parse_colmap_text(c.p, c.len, f->imgs_txt.p, f->imgs_txt.len,
                                                 "scene", &set), KILN_E_FORMAT);
    CHECK_MSG("scene/cameras.txt: camera 3 uses the OPENCV model; only PINHOLE and "
              "SIMPLE_PINHOLE are supported");
    text_subst(f->imgs_txt.p, " 3 view_2.png", " 9 view_2.png", &b);
    CHECK_STATUS(splat_cameras_parse_colmap_text(f->cams_txt.p, f->cams_txt.len, b.p, b.len,
                                                 "scene", &set), KILN_E_FORMAT);
    CHECK_MSG("scene/images.txt: image view_2.png refers to camera 9");
    text_subst(f->cams_txt.p, "1 PINHOLE 640", "1 PINHOLE 0", &b);
    CHECK_STATUS(splat_cameras_parse_colmap_text(b.p, b.len, f->imgs_txt.p, f->imgs_txt.len,
                                                 "scene", &set), KILN_E_FORMAT);
    CHECK_MSG("scene/cameras.txt: camera 1: image size 0x480 is not within 1..65536");
    text_subst(f->cams_txt.p, "1 PINHOLE 640 480 500.25", "1 PINHOLE 640 480 -500.25", &b);
    CHECK_STATUS(splat_cameras_parse_colmap_text(b.p, b.len, f->imgs_txt.p, f->imgs_txt.len,
                                                 "scene", &set), KILN_E_FORMAT);
    CHECK_MSG("scene/images.txt: view \"view_0.png\": focal length fx -500.25");
    text_subst(f->cams_txt.p, "1 PINHOLE 640 480 500.25", "1 PINHOLE 640 480 nan", &b);
    CHECK_STATUS(splat_cameras_parse_colmap_text(b.p, b.len, f->imgs_txt.p, f->imgs_txt.len,
                                                 "scene", &set), KILN_E_FORMAT);
    CHECK_MSG("scene/cameras.txt: line 4: camera parameter \"nan\" is not finite");
    text_subst(f->cams_txt.p, "1 PINHOLE", "1 PINHOLE_X", &b);
    CHECK_STATUS(splat_cameras_parse_colmap_text(b.p, b.len, f->imgs_txt.p, f->imgs_txt.len,
                                                 "scene", &set), KILN_E_FORMAT);
    CHECK_MSG("unknown model PINHOLE_X");

    /* binary: camera 3 as OPENCV (model id 4, 8 parameters) */
    b.len = 0;
    sb_bytes(&b, f->cams_bin.p, 8 + 2 * 56);
    sb_uint(&b, 3, 4);
    sb_uint(&b, 4, 4);
    sb_uint(&b, rig[2].w, 8);
    sb_uint(&b, rig[2].h, 8);
    for (int k = 0; k < 8; k++)
        sb_double(&b, k < 4 ? 500 : 0.01);
    sb_bytes(&b, f->cams_bin.p + 8 + 3 * 56, f->cams_bin.len - 8 - 3 * 56);
    CHECK_STATUS(splat_cameras_parse_colmap_bin(b.p, b.len, f->imgs_bin.p, f->imgs_bin.len,
                                                "scene", &set), KILN_E_FORMAT);
    CHECK_MSG("scene/cameras.bin: camera 3 uses the OPENCV model; only PINHOLE and "
              "SIMPLE_PINHOLE are supported");
    CHECK_STATUS(splat_cameras_parse_colmap_bin(f->cams_bin.p, f->cams_bin.len, f->imgs_bin.p,
                                                f->imgs_bin.len - 5, "scene", &set),
                 KILN_E_FORMAT);
    CHECK_MSG("scene/images.bin: truncated");
    CHECK_STATUS(splat_cameras_parse_colmap_bin(f->cams_bin.p, f->cams_bin.len - 1,
                                                f->imgs_bin.p, f->imgs_bin.len, "scene", &set),
                 KILN_E_FORMAT);
    CHECK_MSG("scene/cameras.bin: truncated");
    /* 40 bytes claiming 2^40 cameras, then images claiming 2^60 */
    b.len = 0;
    sb_uint(&b, (uint64_t)1 << 40, 8);
    for (int k = 0; k < 4; k++)
        sb_double(&b, 1.0);
    CHECK(b.len == 40);
    CHECK_STATUS(splat_cameras_parse_colmap_bin(b.p, b.len, f->imgs_bin.p, f->imgs_bin.len,
                                                "scene", &set), KILN_E_FORMAT);
    CHECK_MSG("scene/cameras.bin: 1099511627776 cameras cannot fit in the 32 bytes");
    b.len = 0;
    sb_uint(&b, (uint64_t)1 << 60, 8);
    sb_bytes(&b, f->imgs_bin.p + 8, f->imgs_bin.len - 8);
    CHECK_STATUS(splat_cameras_parse_colmap_bin(f->cams_bin.p, f->cams_bin.len, b.p, b.len,
                                                "scene", &set), KILN_E_FORMAT);
    CHECK_MSG("scene/images.bin: 1152921504606846976 images cannot fit");
    /* an unknown camera id in images.bin: the last image's camera id */
    b.len = 0;
    sb_bytes(&b, f->imgs_bin.p, f->imgs_bin.len);
    b.p[8 + 4 + 56] = 42;   /* the first image's camera id (view_4's, camera 5) */
    CHECK_STATUS(splat_cameras_parse_colmap_bin(f->cams_bin.p, f->cams_bin.len, b.p, b.len,
                                                "scene", &set), KILN_E_FORMAT);
    CHECK_MSG("scene/images.bin: image view_4.png refers to camera 42");
    b.p[8 + 4 + 56] = 5;
    memset(b.p + 8 + 4, 0, 32);   /* a zero quaternion */
    CHECK_STATUS(splat_cameras_parse_colmap_bin(f->cams_bin.p, f->cams_bin.len, b.p, b.len,
                                                "scene", &set), KILN_E_FORMAT);
    CHECK_MSG("scene/images.bin: image view_4.png: quaternion (0, 0, 0, 0) is zero");
    CHECK(set.cameras == NULL && set.count == 0);

    /* files: missing, empty directory, FIFO, too large */
    snprintf(path, sizeof(path), "%s/none.json", tmp);
    CHECK_STATUS(splat_cameras_read(path, &set), KILN_E_IO);
    CHECK_MSG("none.json: cannot read camera file");
    dir_make(d, sizeof(d), tmp, "empty");
    CHECK_STATUS(splat_cameras_read(d, &set), KILN_E_IO);
    CHECK_MSG("empty: no cameras here");
    snprintf(path, sizeof(path), "%s/fifo.json", tmp);
    unlink(path);
    if (mkfifo(path, 0600) == 0) {
        CHECK_STATUS(splat_cameras_read(path, &set), KILN_E_IO);
        CHECK_MSG("fifo.json");
        CHECK_MSG("FIFO");
        unlink(path);
    }
    snprintf(path, sizeof(path), "%s/huge.json", tmp);
    fp = fopen(path, "wb");
    if (fp) {
        int ok = ftruncate(fileno(fp), (off_t)300 << 20) == 0;
        fclose(fp);
        if (ok) {
            CHECK_STATUS(splat_cameras_read(path, &set), KILN_E_LIMIT);
            CHECK_MSG("huge.json: 314572800 bytes is more than the 256 MiB");
        }
        unlink(path);
    }
    CHECK(set.cameras == NULL && set.count == 0);
    free(b.p);
    free(c.p);
}

/* ---- mutations ---- */

static const char *const mutation_numbers[] = {
    "1e308", "1e999", "-1e999", "NaN", "nan", "-1", "0", "-0", "99999999999999999999",
    "4294967297", "65537", "1e-320", "\"7\"", "null", "[]",
};
static const char *const mutation_keys[] = {
    "\"img_name\"", "\"width\"", "\"height\"", "\"position\"", "\"rotation\"", "\"fx\"",
    "\"fy\"", "\"cx\"", "\"cy\"", "\"file_path\"", "\"fl_x\"", "\"fl_y\"", "\"w\"", "\"h\"",
    "\"transform_matrix\"", "\"frames\"",
};

/* Applies one random mutation (kind chosen by the generator) to b, whose
 * form is JSON or text when `textual`, binary otherwise. */
static void mutate(sbuf *b, int textual)
{
    uint32_t kind = test_rng_next() % 4;
    size_t at = b->len ? test_rng_next() % b->len : 0;

    if (b->len == 0)
        return;
    if (kind == 0) {            /* byte flips */
        int flips = 1 + (int)(test_rng_next() % 3);
        for (int i = 0; i < flips; i++)
            b->p[test_rng_next() % b->len] ^= (char)(1 + test_rng_next() % 255);
    } else if (kind == 1) {     /* truncation */
        b->len = at;
        b->p[b->len] = '\0';
    } else if (kind == 2 && textual) {  /* a number replaced */
        const char *num = mutation_numbers[test_rng_next() %
                                           (sizeof(mutation_numbers) / sizeof(*mutation_numbers))];
        size_t s = at, e;
        sbuf out = { 0 };

        while (s < b->len && !(b->p[s] >= '0' && b->p[s] <= '9'))
            s++;
        if (s == b->len)
            return;
        while (s > 0 && strchr("0123456789.eE+-", b->p[s - 1]))
            s--;
        e = s;
        while (e < b->len && strchr("0123456789.eE+-", b->p[e]))
            e++;
        sb_bytes(&out, b->p, s);
        sb_bytes(&out, num, strlen(num));
        sb_bytes(&out, b->p + e, b->len - e);
        free(b->p);
        *b = out;
    } else if (kind == 2) {     /* 8 bytes replaced by a huge, NaN or negative value */
        static const uint64_t vals[] = { UINT64_MAX, (uint64_t)1 << 62, 0x7ff8000000000000ull,
                                         0xbff0000000000000ull, 0x7ff0000000000000ull, 0 };
        uint64_t v = vals[test_rng_next() % (sizeof(vals) / sizeof(*vals))];
        for (size_t i = 0; i < 8 && at + i < b->len; i++)
            b->p[at + i] = (char)(v >> (8 * i));
    } else if (textual) {       /* a key (JSON) or a token (text) deleted */
        const char *key = mutation_keys[test_rng_next() %
                                        (sizeof(mutation_keys) / sizeof(*mutation_keys))];
        char *k = strstr(b->p + at, key);
        size_t s, e;

        if (!k)
            k = strstr(b->p, key);
        if (k) {
            s = (size_t)(k - b->p);
            e = s + strlen(key);
            for (int depth = 0; e < b->len && (depth > 0 || (b->p[e] != ',' && b->p[e] != '}'));
                 e++)
                depth += b->p[e] == '[' ? 1 : b->p[e] == ']' ? -1 : 0;
            if (e < b->len && b->p[e] == ',')
                e++;
        } else {                /* a whitespace token */
            s = at;
            e = s;
            while (e < b->len && b->p[e] != ' ' && b->p[e] != '\n')
                e++;
        }
        memmove(b->p + s, b->p + e, b->len - e);
        b->len -= e - s;
        b->p[b->len] = '\0';
    } else {                    /* a byte range deleted */
        size_t n = 1 + test_rng_next() % 16;
        if (n > b->len - at)
            n = b->len - at;
        memmove(b->p + at, b->p + at + n, b->len - at - n);
        b->len -= n;
    }
}

/* Checks one parse outcome: success leaves views, failure names `name`
 * and leaves the set zeroed. */
static int outcome_check(kiln_status st, splat_camera_set *set, const char *name)
{
    int bad;

    if (st == KILN_OK) {
        bad = set->count == 0 || set->cameras == NULL;
        splat_camera_set_free(set);
    } else {
        bad = strstr(kiln_last_error(), name) == NULL || set->cameras != NULL || set->count;
    }
    if (bad)
        fprintf(stderr, "mutation %s: %s: %s\n", name, kiln_status_name(st), kiln_last_error());
    return bad;
}

/* 600 mutations of each valid input through the memory parsers. */
static void test_mutations(const rig_files *f)
{
    kiln_host_stats before, after;
    int bad = 0, ok = 0, runs = 0;
    double t0 = test_now_ms();

    kiln_host_alloc_stats(&before);
    test_rng_seed(12345u);
    for (int i = 0; i < 600; i++)
        for (int form = 0; form < 4; form++) {
            sbuf m = { 0 }, other = { 0 };
            splat_camera_set set;
            kiln_status st;
            int second = test_rng_next() & 1;

            if (form == 0)
                sb_bytes(&m, f->cameras_json.p, f->cameras_json.len);
            else if (form == 1)
                sb_bytes(&m, f->transforms_json.p, f->transforms_json.len);
            else if (form == 2) {
                sb_bytes(&m, second ? f->imgs_txt.p : f->cams_txt.p,
                         second ? f->imgs_txt.len : f->cams_txt.len);
                sb_bytes(&other, second ? f->cams_txt.p : f->imgs_txt.p,
                         second ? f->cams_txt.len : f->imgs_txt.len);
            } else {
                sb_bytes(&m, second ? f->imgs_bin.p : f->cams_bin.p,
                         second ? f->imgs_bin.len : f->cams_bin.len);
                sb_bytes(&other, second ? f->cams_bin.p : f->imgs_bin.p,
                         second ? f->cams_bin.len : f->imgs_bin.len);
            }
            mutate(&m, form < 3);
            if (test_rng_next() % 4 == 0)
                mutate(&m, form < 3);
            if (form < 2) {
                st = splat_cameras_parse_json(m.p, m.len, "mut-json", &set);
                bad |= outcome_check(st, &set, "mut-json");
            } else if (form == 2) {
                st = second ? splat_cameras_parse_colmap_text(other.p, other.len, m.p, m.len,
                                                              "mut-txt", &set)
                            : splat_cameras_parse_colmap_text(m.p, m.len, other.p, other.len,
                                                              "mut-txt", &set);
                bad |= outcome_check(st, &set, "mut-txt");
            } else {
                st = second ? splat_cameras_parse_colmap_bin(other.p, other.len, m.p, m.len,
                                                             "mut-bin", &set)
                            : splat_cameras_parse_colmap_bin(m.p, m.len, other.p, other.len,
                                                             "mut-bin", &set);
                bad |= outcome_check(st, &set, "mut-bin");
            }
            ok += st == KILN_OK;
            runs++;
            free(m.p);
            free(other.p);
        }
    kiln_host_alloc_stats(&after);
    CHECK(runs == 2400);
    CHECK(!bad);
    CHECK(after.live_bytes == before.live_bytes);
    printf("mutations: %d runs, %d parsed, %d refused, %.0f ms\n", runs, ok, runs - ok,
           test_now_ms() - t0);
}

int main(void)
{
    rig_view rig[RIG_VIEWS];
    rig_files f;
    const char *tmp = test_tmpdir("splat_camera");
    kiln_host_stats before, after;

    kiln_host_alloc_stats(&before);
    memset(&f, 0, sizeof(f));
    rig_make(rig);
    rig_cameras_json(rig, &f.cameras_json);
    rig_transforms_json(rig, &f.transforms_json);
    rig_colmap_text(rig, &f.cams_txt, &f.imgs_txt);
    rig_colmap_bin(rig, &f.cams_bin, &f.imgs_bin);

    test_rig(rig, &f, tmp);
    test_brush();
    test_defaults(tmp);
    test_orbit();
    test_refusals(rig, &f, tmp);
    test_mutations(&f);

    free(f.cameras_json.p);
    free(f.transforms_json.p);
    free(f.cams_txt.p);
    free(f.imgs_txt.p);
    free(f.cams_bin.p);
    free(f.imgs_bin.p);
    kiln_host_alloc_stats(&after);
    CHECK(after.live_bytes == before.live_bytes);
    return test_summary("test_splat_camera");
}
