/* Host scene files (models/splat_*.c): the reference PLYs of
 * refdata/splat read, checked against their bytes and written back byte
 * for byte; PLYs built here in every accepted shape (SH degrees 0-3,
 * properties reordered, extra properties of every type, lists, float64,
 * elements before and after the vertex element) giving the same scene;
 * every refusal with the file name and the reason in its message; NaN
 * dropped or refused; max_gaussians; a hand-built .splat file; the scene
 * statistics; failed allocations unwinding; no host memory left live.
 * Reference data: $REFDATA_DIR, else
 * $TOP_SRCDIR/../shared/refdata/splat (its README says where the files
 * come from); without it those checks are skipped, the rest run. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host_alloc.h"
#include "splat_build.h"
#include "splat_scene.h"
#include "testutil.h"

static char tmpdir[2048];

/* Formats "<tmpdir>/<name>" into buf (4096 bytes) and returns buf. */
static char *tmp_path(char *buf, const char *name)
{
    snprintf(buf, 4096, "%s/%s", tmpdir, name);
    return buf;
}

/* Whether two scenes hold the same count, degree and bit-identical
 * arrays. */
static int scenes_equal(const splat_scene *a, const splat_scene *b)
{
    size_t n = a->count;

    return a->count == b->count && a->sh_degree == b->sh_degree && a->sh_coeffs == b->sh_coeffs &&
           !memcmp(a->means, b->means, n * 3 * sizeof(float)) &&
           !memcmp(a->normals, b->normals, n * 3 * sizeof(float)) &&
           !memcmp(a->sh, b->sh, n * a->sh_coeffs * 3 * sizeof(float)) &&
           !memcmp(a->opacity, b->opacity, n * sizeof(float)) &&
           !memcmp(a->scales, b->scales, n * 3 * sizeof(float)) &&
           !memcmp(a->rotations, b->rotations, n * 4 * sizeof(float));
}

/* Whether the scene struct is all zero (what an error leaves). */
static int scene_zeroed(const splat_scene *s)
{
    static const splat_scene zero;

    return !memcmp(s, &zero, sizeof(zero));
}

/* The little-endian float32 at p. */
static float f32_at(const unsigned char *p)
{
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    float f;

    memcpy(&f, &u, sizeof(f));
    return f;
}

/* Whether two floats have the same bits. */
static int same_bits(float a, float b)
{
    return !memcmp(&a, &b, sizeof(a));
}

/* Reads refdata file `file` (count Gaussians, degree 3): checks values
 * against the file's bytes, then that the write is the same bytes and
 * that it reads back to the same scene. */
static void test_refdata(const char *dir, const char *file, size_t count)
{
    char path[4096], out[4096];
    size_t len = 0, olen = 0;
    unsigned char *bytes, *again;
    splat_scene s, t;
    splat_read_info info;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    bytes = test_read_whole(path, &len);
    CHECK(bytes != NULL);
    if (!bytes)
        return;
    CHECK_OK(splat_scene_read(path, NULL, &s, &info));
    CHECK(s.count == count && info.file_count == count && info.nonfinite == 0 && info.format == 0);
    CHECK(s.sh_degree == 3 && s.sh_coeffs == 16);
    if (s.count == count && s.sh_coeffs == 16) {
        size_t data = len - count * 62 * 4;   /* where the rows start */
        int ok = 1;

        CHECK(memcmp(bytes + data - 11, "end_header\n", 11) == 0);
        for (size_t i = 0; i < count; i++) {
            const unsigned char *row = bytes + data + i * 62 * 4;
            /* f_rest_{c*15+k-1} is sh[(i*16+k)*3+c]; rot_0 (w) is field 58 */
            ok &= same_bits(s.means[i * 3 + 2], f32_at(row + 2 * 4));
            ok &= same_bits(s.sh[(i * 16 + 0) * 3 + 1], f32_at(row + 7 * 4));
            ok &= same_bits(s.sh[(i * 16 + 1) * 3 + 1], f32_at(row + (9 + 15) * 4));
            ok &= same_bits(s.sh[(i * 16 + 15) * 3 + 2], f32_at(row + (9 + 44) * 4));
            ok &= same_bits(s.sh[(i * 16 + 7) * 3 + 0], f32_at(row + (9 + 6) * 4));
            ok &= same_bits(s.opacity[i], f32_at(row + 54 * 4));
            ok &= same_bits(s.scales[i * 3 + 1], f32_at(row + 56 * 4));
            for (int k = 0; k < 4; k++)
                ok &= same_bits(s.rotations[i * 4 + k], f32_at(row + (58 + k) * 4));
        }
        CHECK(ok);
        /* README: opacities 0.62-0.73 (logits 0.5-1), quaternion components in [0,1) */
        for (size_t i = 0; i < count; i++) {
            CHECK(s.opacity[i] >= 0.5f && s.opacity[i] <= 1.0f);
            CHECK(s.rotations[i * 4] >= 0.0f && s.rotations[i * 4] < 1.0f);
        }
    }
    tmp_path(out, file);
    CHECK_OK(splat_scene_write_ply(out, &s));
    again = test_read_whole(out, &olen);
    CHECK(again && olen == len && memcmp(again, bytes, len) == 0);
    CHECK_OK(splat_scene_read(out, NULL, &t, NULL));
    CHECK(scenes_equal(&s, &t));
    splat_scene_free(&t);
    splat_scene_free(&s);
    free(again);
    free(bytes);
}

/* SH degrees 0-3 in the canonical layout: degree, coefficient mapping,
 * and a byte-identical write. */
static void test_degrees(void)
{
    for (uint32_t d = 0; d <= 3; d++) {
        byte_buf b = { 0 };
        splat_scene s;
        char path[4096], name[64];
        unsigned char *again;
        size_t len = 0, coeffs = (d + 1) * (d + 1);

        ply_build_canonical(&b, d, 5);
        CHECK_OK(splat_scene_read_mem(b.p, b.len, "degree.ply", NULL, &s, NULL));
        CHECK(s.count == 5 && s.sh_degree == d && s.sh_coeffs == coeffs);
        if (s.count == 5) {
            int ok = 1;
            for (size_t i = 0; i < 5; i++) {
                char prop[32];
                ok &= s.sh[i * coeffs * 3 + 2] == (float)splat_value(i, "f_dc_2");
                for (size_t c = 0; c < 3; c++)
                    for (size_t k = 1; k < coeffs; k++) {
                        snprintf(prop, sizeof(prop), "f_rest_%zu", c * (coeffs - 1) + k - 1);
                        ok &= s.sh[(i * coeffs + k) * 3 + c] == (float)splat_value(i, prop);
                    }
                ok &= s.rotations[i * 4] == (float)splat_value(i, "rot_0");
                ok &= s.normals[i * 3 + 1] == (float)splat_value(i, "ny");
            }
            CHECK(ok);
        }
        snprintf(name, sizeof(name), "degree%u.ply", d);
        CHECK_OK(splat_scene_write_ply(tmp_path(path, name), &s));
        again = test_read_whole(path, &len);
        CHECK(again && len == b.len && memcmp(again, b.p, len) == 0);
        free(again);
        splat_scene_free(&s);
        bb_free(&b);
    }
}

/* The same scene from a PLY with the properties reversed, float64
 * parameters, extra properties of every type and lists in the vertex
 * element, an element before the vertex element (skipped by size) and
 * one after it, comments and obj_info; normals absent read as zero. */
static void test_shapes(void)
{
    static const char *extra_types[] = { "char", "uchar", "short", "ushort", "int", "uint",
                                         "float", "double", "int8", "uint8", "int16", "uint16",
                                         "int32", "uint32", "float32", "float64" };
    char names[62][32], extra[16][16];
    prop_spec props[62 + 16 + 2];
    size_t n = splat_names_canonical(2, names), np = 0;
    byte_buf canon = { 0 }, odd = { 0 }, nonorm = { 0 };
    unsigned char pre[2 * 6];
    splat_scene a, b, c;

    ply_build_canonical(&canon, 2, 7);
    for (size_t i = 0; i < n; i++) {
        size_t at = n - 1 - i;
        props[np].name = names[at];
        props[np].type = at % 2 ? "double" : "float64";
        props[np].list = 0;
        np++;
        if (i < 16) {
            snprintf(extra[i], sizeof(extra[i]), "extra_%zu", i);
            props[np].name = extra[i];
            props[np].type = extra_types[i];
            props[np].list = 0;
            np++;
        }
    }
    props[np++] = (prop_spec){ "vertex_indices", "int", 1 };
    props[np++] = (prop_spec){ "more", "double", 1 };
    memset(pre, 7, sizeof(pre));
    ply_build(&odd, props, np, 7,
              "comment made by a test\nobj_info nothing\nelement camera 2\nproperty float fx\n"
              "property ushort w\n", pre, sizeof(pre),
              "element face 2\nproperty list uchar int vertex_indices\ncomment after\n",
              "\x03\x00\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x00", 14);
    CHECK_OK(splat_scene_read_mem(canon.p, canon.len, "canon.ply", NULL, &a, NULL));
    CHECK_OK(splat_scene_read_mem(odd.p, odd.len, "odd.ply", NULL, &b, NULL));
    CHECK(a.count == 7 && scenes_equal(&a, &b));

    /* no normals: zeros */
    np = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], "nx") && strcmp(names[i], "ny") && strcmp(names[i], "nz"))
            props[np++] = (prop_spec){ names[i], "float", 0 };
    ply_build(&nonorm, props, np, 7, NULL, NULL, 0, NULL, NULL, 0);
    CHECK_OK(splat_scene_read_mem(nonorm.p, nonorm.len, "nonorm.ply", NULL, &c, NULL));
    if (c.count == 7 && a.count == 7) {
        int zero = 1;
        for (size_t i = 0; i < 21; i++)
            zero &= c.normals[i] == 0.0f;
        CHECK(zero);
        memcpy(c.normals, a.normals, 21 * sizeof(float));
        CHECK(scenes_equal(&a, &c));
    }
    splat_scene_free(&c);
    splat_scene_free(&b);
    splat_scene_free(&a);
    bb_free(&nonorm);
    bb_free(&odd);
    bb_free(&canon);
}

/* Reads `text` followed by `data` as a file named `name` and checks the
 * status and that the message names the file and holds `reason`. */
static void refuse_mem(const char *name, const void *data, size_t len, kiln_status want,
                       const char *reason)
{
    splat_scene s;

    memset(&s, 0xa5, sizeof(s));
    CHECK_STATUS(splat_scene_read_mem(data, len, name, NULL, &s, NULL), want);
    CHECK_MSG(name);
    CHECK_MSG(reason);
    CHECK(scene_zeroed(&s));
}

/* Appends the canonical degree-0 PLY of `rows` Gaussians with its
 * element vertex line declaring `count` and the header line `find`
 * (without its newline; NULL: none) replaced by `repl` (NULL deletes it). */
static void header_edit(byte_buf *b, size_t count, const char *find, const char *repl, size_t rows)
{
    byte_buf full = { 0 };
    const char *text, *end;

    ply_build_canonical(&full, 0, rows);
    text = (const char *)full.p;
    end = strstr(text, "end_header\n") + 11;
    while (text < end) {
        const char *nl = strchr(text, '\n');
        size_t ll = (size_t)(nl - text);

        if (!strncmp(text, "element vertex ", 15)) {
            char line[64];
            snprintf(line, sizeof(line), "element vertex %zu\n", count);
            bb_text(b, line);
        } else if (find && strlen(find) == ll && !strncmp(text, find, ll)) {
            if (repl) {
                bb_text(b, repl);
                bb_text(b, "\n");
            }
        } else {
            bb_put(b, text, ll + 1);
        }
        text = nl + 1;
    }
    bb_put(b, end, full.len - (size_t)(end - (const char *)full.p));
    bb_free(&full);
}

/* Every refusal, each naming the file and the reason. */
static void test_refusals(void)
{
    byte_buf b = { 0 };
    kiln_host_stats h0, h1;
    static const char small47[] = "ply\nformat binary_little_endian 1.0\nelement v";
    char path[4096];
    splat_scene s;

    header_edit(&b, 2, "format binary_little_endian 1.0", "format ascii 1.0", 2);
    refuse_mem("ascii.ply", b.p, b.len, KILN_E_FORMAT, "ASCII");
    b.len = 0;
    header_edit(&b, 2, "format binary_little_endian 1.0", "format binary_big_endian 1.0", 2);
    refuse_mem("be.ply", b.p, b.len, KILN_E_FORMAT, "big-endian");
    b.len = 0;
    header_edit(&b, 2, "property float opacity", NULL, 2);
    refuse_mem("noopacity.ply", b.p, b.len, KILN_E_FORMAT, "no property opacity");
    b.len = 0;
    header_edit(&b, 2, "property float rot_2", NULL, 2);
    refuse_mem("norot.ply", b.p, b.len, KILN_E_FORMAT, "no property rot_2");
    b.len = 0;
    header_edit(&b, 2, "property float opacity", "property uchar opacity", 2);
    refuse_mem("intopacity.ply", b.p, b.len, KILN_E_FORMAT, "opacity is uchar, not float or double");
    b.len = 0;
    header_edit(&b, 2, "property float x", "property float x\nproperty float x", 2);
    refuse_mem("twice.ply", b.p, b.len, KILN_E_FORMAT, "x appears twice");
    b.len = 0;
    header_edit(&b, 2, "property float opacity", "property float f_rest_0\nproperty float opacity", 2);
    refuse_mem("rest1.ply", b.p, b.len, KILN_E_FORMAT, "1 f_rest_* properties fit no SH degree");
    b.len = 0;
    header_edit(&b, 2, "property float opacity",
                "property float f_rest_0\nproperty float f_rest_1\nproperty float f_rest_2\n"
                "property float f_rest_3\nproperty float f_rest_4\nproperty float f_rest_5\n"
                "property float f_rest_6\nproperty float f_rest_7\nproperty float f_rest_12\n"
                "property float opacity", 2);
    refuse_mem("rest_gap.ply", b.p, b.len, KILN_E_FORMAT, "no f_rest_8");
    b.len = 0;
    header_edit(&b, 2, "end_header", NULL, 0);
    refuse_mem("noend.ply", b.p, b.len, KILN_E_FORMAT, "no end_header");
    b.len = 0;
    header_edit(&b, 2, "property float x", "bogus line", 2);
    refuse_mem("bogus.ply", b.p, b.len, KILN_E_FORMAT, "unknown keyword \"bogus\"");
    b.len = 0;
    header_edit(&b, 2, "property float x", "property float16 x", 2);
    refuse_mem("half.ply", b.p, b.len, KILN_E_FORMAT, "unknown property type \"float16\"");
    b.len = 0;
    header_edit(&b, 2, "format binary_little_endian 1.0",
                "format binary_little_endian 1.0\nelement face 3\nproperty list uchar int idx", 2);
    refuse_mem("listfirst.ply", b.p, b.len, KILN_E_FORMAT, "list property");
    b.len = 0;
    header_edit(&b, 2, "property float x", "property list uchar float x", 2);
    refuse_mem("listx.ply", b.p, b.len, KILN_E_FORMAT, "x is a list of float");
    b.len = 0;
    /* a truncated file, a count beyond the data, a huge count in a tiny file */
    ply_build_canonical(&b, 1, 3);
    refuse_mem("trunc.ply", b.p, b.len - 1, KILN_E_FORMAT, "vertex count 3");
    b.len = 0;
    kiln_host_alloc_stats(&h0);
    header_edit(&b, 1000000000, NULL, NULL, 0);
    refuse_mem("huge.ply", b.p, b.len, KILN_E_FORMAT, "vertex count 1000000000");
    b.len = 0;
    header_edit(&b, 0, NULL, NULL, 0);
    {   /* 2^64 - 1 and 2^64 vertices */
        byte_buf c = { 0 };
        char *at = strstr((char *)b.p, "vertex 0\n") + 7;
        bb_put(&c, b.p, (size_t)(at - (char *)b.p));
        bb_text(&c, "18446744073709551615");
        bb_put(&c, at + 1, b.len - (size_t)(at + 1 - (char *)b.p));
        refuse_mem("max.ply", c.p, c.len, KILN_E_FORMAT, "vertex count 18446744073709551615");
        c.len = 0;
        bb_put(&c, b.p, (size_t)(at - (char *)b.p));
        bb_text(&c, "18446744073709551616");
        bb_put(&c, at + 1, b.len - (size_t)(at + 1 - (char *)b.p));
        refuse_mem("over.ply", c.p, c.len, KILN_E_FORMAT, "bad element count");
        bb_free(&c);
    }
    refuse_mem("small47.ply", small47, sizeof(small47) - 1, KILN_E_FORMAT, "no end_header");
    kiln_host_alloc_stats(&h1);
    CHECK(h1.peak_bytes <= h0.peak_bytes || h1.peak_bytes - h0.live_bytes < (1u << 20));
    b.len = 0;
    /* an overlong header */
    bb_text(&b, "ply\nformat binary_little_endian 1.0\n");
    while (b.len < 70 * 1024)
        bb_text(&b, "comment padding padding padding padding padding padding padding\n");
    bb_text(&b, "element vertex 0\nend_header\n");
    refuse_mem("long.ply", b.p, b.len, KILN_E_FORMAT, "no end_header within its first 65536 bytes");
    refuse_mem("empty.ply", "", 0, KILN_E_FORMAT, "empty file");
    refuse_mem("notply.bin", "hello world\n", 12, KILN_E_FORMAT, "not a scene file");
    refuse_mem("noformat.ply", "ply\nelement vertex 0\nend_header\n", 32, KILN_E_FORMAT,
               "before the format line");
    refuse_mem("novertex.ply", "ply\nformat binary_little_endian 1.0\nend_header\n", 47,
               KILN_E_FORMAT, "no vertex element");
    refuse_mem("version.ply", "ply\nformat binary_little_endian 2.0\nend_header\n", 47,
               KILN_E_FORMAT, "version \"2.0\"");
    bb_free(&b);

    /* files: missing, a directory, a FIFO */
    CHECK_STATUS(splat_scene_read(tmp_path(path, "missing.ply"), NULL, &s, NULL), KILN_E_IO);
    CHECK_MSG("missing.ply");
    CHECK(scene_zeroed(&s));
    CHECK_STATUS(splat_scene_read(tmpdir, NULL, &s, NULL), KILN_E_IO);
    CHECK_MSG("directory");
    tmp_path(path, "fifo.ply");
    unlink(path);
    if (mkfifo(path, 0600) == 0) {
        CHECK_STATUS(splat_scene_read(path, NULL, &s, NULL), KILN_E_IO);
        CHECK_MSG("FIFO");
        unlink(path);
    }
}

/* NaN and infinity: refused with the count, or dropped and counted;
 * max_gaussians. */
static void test_nonfinite_limit(void)
{
    byte_buf b = { 0 };
    splat_read_options drop = { 0, SPLAT_NONFINITE_DROP }, lim = { 4, SPLAT_NONFINITE_REFUSE };
    splat_read_info info;
    splat_scene s, ref;
    size_t hdr;

    ply_build_canonical(&b, 1, 6);
    CHECK_OK(splat_scene_read_mem(b.p, b.len, "ok.ply", NULL, &ref, NULL));
    hdr = b.len - 6 * 26 * 4;
    /* Gaussian 1: NaN x; Gaussian 4: +inf rot_3; Gaussian 5: -inf normal */
    memcpy(b.p + hdr + 1 * 104 + 0, "\x00\x00\xc0\x7f", 4);
    memcpy(b.p + hdr + 4 * 104 + 25 * 4, "\x00\x00\x80\x7f", 4);
    memcpy(b.p + hdr + 5 * 104 + 4 * 4, "\x00\x00\x80\xff", 4);
    CHECK_STATUS(splat_scene_read_mem(b.p, b.len, "nan.ply", NULL, &s, &info), KILN_E_FORMAT);
    CHECK_MSG("nan.ply");
    CHECK_MSG("3 of 6 Gaussians hold NaN or infinite values");
    CHECK(scene_zeroed(&s) && info.nonfinite == 3 && info.file_count == 6);
    CHECK_OK(splat_scene_read_mem(b.p, b.len, "nan.ply", &drop, &s, &info));
    CHECK(s.count == 3 && info.nonfinite == 3 && info.file_count == 6);
    if (s.count == 3 && ref.count == 6) {
        /* kept: 0, 2, 3 */
        CHECK(s.means[0] == ref.means[0] && s.means[3] == ref.means[6] && s.means[6] == ref.means[9]);
        CHECK(s.sh[1 * 12 + 5] == ref.sh[2 * 12 + 5] && s.sh[2 * 12 + 11] == ref.sh[3 * 12 + 11]);
        CHECK(s.rotations[2 * 4 + 3] == ref.rotations[3 * 4 + 3]);
    }
    splat_scene_free(&s);
    CHECK_STATUS(splat_scene_read_mem(b.p, b.len, "limit.ply", &lim, &s, &info), KILN_E_LIMIT);
    CHECK_MSG("limit.ply");
    CHECK_MSG("6 Gaussians exceed the limit of 4");
    CHECK_MSG("[splat] max_gaussians");
    CHECK(scene_zeroed(&s));
    lim.max_gaussians = 6;
    CHECK_STATUS(splat_scene_read_mem(b.p, b.len, "limit.ply", &lim, &s, &info), KILN_E_FORMAT);
    lim.nonfinite = SPLAT_NONFINITE_DROP;
    CHECK_OK(splat_scene_read_mem(b.p, b.len, "limit.ply", &lim, &s, &info));
    splat_scene_free(&s);
    /* a float64 value beyond float's range reads as infinite */
    {
        byte_buf d = { 0 };
        char names[62][32];
        prop_spec props[62];
        size_t n = splat_names_canonical(0, names);
        for (size_t i = 0; i < n; i++)
            props[i] = (prop_spec){ names[i], "double", 0 };
        ply_build(&d, props, n, 2, NULL, NULL, 0, NULL, NULL, 0);
        memcpy(d.p + d.len - 8, "\x00\x00\x00\x00\x00\x00\xf0\x47", 8);  /* 2^128 */
        CHECK_STATUS(splat_scene_read_mem(d.p, d.len, "big64.ply", NULL, &s, &info), KILN_E_FORMAT);
        CHECK_MSG("1 of 2 Gaussians");
        bb_free(&d);
    }
    splat_scene_free(&ref);
    bb_free(&b);
}

/* A hand-built .splat of two Gaussians, its conversions, and its
 * refusals. */
static void test_dotsplat(void)
{
    static const float pos0[3] = { 1.0f, -2.0f, 3.5f }, scale0[3] = { 1.0f, 0.5f, 2.0f };
    static const uint8_t rgba0[4] = { 255, 0, 128, 255 }, rot0[4] = { 255, 128, 0, 192 };
    static const float pos1[3] = { 0.0f, 0.25f, -7.0f }, scale1[3] = { 0.125f, 4.0f, 1.0f };
    static const uint8_t rgba1[4] = { 64, 200, 10, 0 }, rot1[4] = { 128, 128, 128, 255 };
    const double c0 = 0.28209479177387814;
    byte_buf b = { 0 };
    splat_read_info info;
    splat_read_options drop = { 0, SPLAT_NONFINITE_DROP };
    splat_scene s;

    dotsplat_record(&b, pos0, scale0, rgba0, rot0);
    dotsplat_record(&b, pos1, scale1, rgba1, rot1);
    CHECK(b.len == 64);
    CHECK_OK(splat_scene_read_mem(b.p, b.len, "two.splat", NULL, &s, &info));
    CHECK(s.count == 2 && s.sh_degree == 0 && s.sh_coeffs == 1 && info.format == 1 &&
          info.file_count == 2);
    if (s.count == 2) {
        CHECK(s.means[0] == 1.0f && s.means[1] == -2.0f && s.means[5] == -7.0f);
        CHECK(s.scales[0] == 0.0f && s.scales[1] == (float)log(0.5) && s.scales[3] == (float)log(0.125));
        CHECK(s.sh[0] == (float)((1.0 - 0.5) / c0) && s.sh[1] == (float)(-0.5 / c0));
        CHECK(s.sh[2] == (float)((128 / 255.0 - 0.5) / c0));
        CHECK(s.sh[3] == (float)((64 / 255.0 - 0.5) / c0));
        CHECK(s.opacity[0] == (float)log((1 - 1e-6) / 1e-6) && s.opacity[1] == -s.opacity[0]);
        CHECK(fabsf(s.opacity[0] - 13.8155f) < 1e-3f);
        CHECK(s.rotations[0] == 127.0f / 128.0f && s.rotations[1] == 0.0f &&
              s.rotations[2] == -1.0f && s.rotations[3] == 0.5f);
        CHECK(s.rotations[4] == 0.0f && s.rotations[7] == 127.0f / 128.0f);
        CHECK(s.normals[0] == 0.0f && s.normals[5] == 0.0f);
    }
    splat_scene_free(&s);
    /* the same bytes, not named .splat: refused */
    refuse_mem("two.bin", b.p, b.len, KILN_E_FORMAT, "not a scene file");
    refuse_mem("short.splat", b.p, b.len - 1, KILN_E_FORMAT, "not a multiple of 32");
    refuse_mem("empty.splat", b.p, 0, KILN_E_FORMAT, "empty .splat");
    /* a zero scale: non-finite log */
    memset(b.p + 12 + 4, 0, 4);
    refuse_mem("zero.SPLAT", b.p, b.len, KILN_E_FORMAT, "1 of 2 Gaussians");
    CHECK_OK(splat_scene_read_mem(b.p, b.len, "zero.splat", &drop, &s, &info));
    CHECK(s.count == 1 && info.nonfinite == 1 && s.means[2] == -7.0f);
    splat_scene_free(&s);
    bb_free(&b);
}

/* Scene statistics on a hand-made scene. */
static void test_stats(void)
{
    splat_scene s;
    splat_scene_stats st;
    static const float op[5] = { 0.0f, 2.0f, -2.0f, 1.0f, -1.0f };

    CHECK_OK(splat_scene_alloc(&s, 5, 1));
    for (size_t i = 0; i < 5; i++) {
        s.means[i * 3 + 0] = (float)i;
        s.means[i * 3 + 1] = -(float)i * 2.0f;
        s.means[i * 3 + 2] = 10.0f;
        s.opacity[i] = op[i];
        s.scales[i * 3 + i % 3] = (float)log((double)(i + 1));   /* max axis: log(i+1) or 0 */
        s.scales[i * 3 + (i + 1) % 3] = -5.0f;
        s.scales[i * 3 + (i + 2) % 3] = -5.0f;
    }
    CHECK_OK(splat_scene_stats_get(&s, &st));
    CHECK(st.bbox_min[0] == 0.0 && st.bbox_max[0] == 4.0 && st.bbox_min[1] == -8.0 &&
          st.bbox_max[1] == 0.0 && st.bbox_min[2] == 10.0 && st.bbox_max[2] == 10.0);
    CHECK(st.centre[0] == 2.0 && st.centre[1] == -4.0 && st.centre[2] == 10.0);
    CHECK(fabs(st.opacity_pct[0] - 1.0 / (1.0 + exp(2.0))) < 1e-12);
    CHECK(fabs(st.opacity_pct[2] - 0.5) < 1e-12);
    CHECK(fabs(st.opacity_pct[3] - 1.0 / (1.0 + exp(-1.0))) < 1e-12);
    CHECK(fabs(st.scale_pct[0] - 1.0) < 1e-6 && fabs(st.scale_pct[4] - 5.0) < 1e-6);
    CHECK(fabs(st.scale_pct[2] - 3.0) < 1e-6);
    splat_scene_free(&s);
    CHECK_STATUS(splat_scene_stats_get(&s, &st), KILN_E_INVAL);
}

/* Every allocation of a read and a write failed in turn: KILN_E_HOSTMEM
 * (or KILN_E_IO from the writer) and nothing stays live. */
static void test_alloc_faults(void)
{
    byte_buf b = { 0 };
    kiln_host_stats h0, h1;
    splat_scene s;
    int done = 0;

    ply_build_canonical(&b, 3, 3);
    kiln_host_alloc_stats(&h0);
    for (uint64_t nth = 1; nth < 50 && !done; nth++) {
        kiln_status st;

        kiln_host_alloc_fail_at(nth);
        st = splat_scene_read_mem(b.p, b.len, "fault.ply", NULL, &s, NULL);
        kiln_host_alloc_fail_at(0);
        if (st == KILN_OK) {
            done = 1;
            splat_scene_free(&s);
        } else {
            CHECK(st == KILN_E_HOSTMEM && scene_zeroed(&s));
            CHECK_MSG("fault.ply");
        }
    }
    CHECK(done);
    kiln_host_alloc_stats(&h1);
    CHECK(h1.live_bytes == h0.live_bytes);
    bb_free(&b);
}

int main(void)
{
    char dir[4096];
    kiln_host_stats h0, h1;

    snprintf(tmpdir, sizeof(tmpdir), "%s", test_tmpdir("splat_ply"));
    kiln_host_alloc_stats(&h0);
    if (test_refdata_dir("splat", dir, sizeof(dir))) {
        test_refdata(dir, "brush_tiny.ply", 4);
        test_refdata(dir, "brush_basic.ply", 16);
    } else {
        fprintf(stderr, "splat reference data not found in %s (set REFDATA_DIR): "
                "those checks skipped\n", dir);
    }
    test_degrees();
    test_shapes();
    test_refusals();
    test_nonfinite_limit();
    test_dotsplat();
    test_stats();
    test_alloc_faults();
    kiln_host_alloc_stats(&h1);
    CHECK(h1.live_bytes == h0.live_bytes);
    return test_summary("test_splat_ply");
}
