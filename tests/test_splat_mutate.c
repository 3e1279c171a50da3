/* Mutation test of the scene readers (splat_scene_read_mem): thousands
 * of deterministic mutations (byte flips, truncations, header lines
 * edited, deleted or duplicated, huge counts, NaN and zero values,
 * appended bytes) of small valid PLYs and .splat files.  Whatever the
 * input: no crash; an error is a non-OK status, a zeroed scene and a
 * message naming the file; a success holds no more Gaussians than the
 * data can; no read allocates far beyond its input; nothing stays live. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_alloc.h"
#include "splat_build.h"
#include "splat_scene.h"
#include "testutil.h"

#define MUTATIONS_PER_BASE 1000

/* Header lines a mutation may put in place of another. */
static const char *const line_edits[] = {
    "element vertex 4294967296", "element vertex 18446744073709551615",
    "element vertex 99999999999999999999", "element vertex 1000000", "element vertex 0",
    "element vertex -1", "element vertex 3x", "property list uchar float x", "property double x",
    "property float f_rest_0", "property float f_rest_44", "property uchar opacity",
    "property list uint int junk", "property list int double junk", "format ascii 1.0",
    "format binary_big_endian 1.0", "format binary_little_endian 1.0", "comment x",
    "obj_info y", "", "end_header", "element face 5", "property int", "property float",
    "element", "ply", "property float nx\tproperty", "element vertex\t2",
    "element pre 3\nproperty short s", "element pre 4294967295\nproperty double d",
};

/* Mutants read successfully. */
static size_t accepted;

/* Reads the mutant and checks the contract; `min_row` is the fewest
 * bytes a Gaussian takes in this format.  Counts successes in
 * `accepted`. */
static void mutant_check(const unsigned char *p, size_t len, const char *name, size_t min_row,
                         uint32_t variant)
{
    splat_read_options opt = { 0, SPLAT_NONFINITE_REFUSE };
    splat_read_info info;
    splat_scene s;
    kiln_host_stats h0, h1;
    kiln_status st;

    if (variant & 1)
        opt.nonfinite = SPLAT_NONFINITE_DROP;
    if (variant & 2)
        opt.max_gaussians = variant % 7;
    kiln_host_alloc_stats(&h0);
    st = splat_scene_read_mem(p, len, name, &opt, &s, &info);
    kiln_host_alloc_stats(&h1);
    /* a read holds at most the input's worth of scene: 236 bytes a
     * Gaussian of at least min_row bytes, plus the header's arrays */
    if (h1.peak_bytes > h0.peak_bytes)
        CHECK(h1.peak_bytes - h0.live_bytes <= (len / min_row + 1) * 400 + ((size_t)1 << 20));
    if (st != KILN_OK) {
        static const splat_scene zero;
        CHECK(st < 0 && strstr(kiln_last_error(), name) != NULL);
        CHECK(!memcmp(&s, &zero, sizeof(s)));
        if (!strstr(kiln_last_error(), name))
            fprintf(stderr, "message without the file name: %s\n", kiln_last_error());
        return;
    }
    accepted++;
    CHECK(s.count <= len / min_row && s.count <= info.file_count);
    CHECK(s.count + (opt.nonfinite == SPLAT_NONFINITE_DROP ? info.nonfinite : 0) == info.file_count);
    CHECK(opt.max_gaussians == 0 || info.file_count <= opt.max_gaussians);
    CHECK(s.sh_degree <= 3 && s.sh_coeffs == (s.sh_degree + 1) * (s.sh_degree + 1));
    splat_scene_free(&s);
}

/* Replaces, deletes or duplicates one header line of the PLY in b,
 * writing the result to out. */
static void header_line_edit(const byte_buf *b, byte_buf *out)
{
    const char *text = (const char *)b->p;
    const char *end = strstr(text, "end_header\n");
    size_t lines = 0, pick, k = 0;
    uint32_t how = test_rng_next() % 4;

    for (const char *q = text; q < end; q = strchr(q, '\n') + 1)
        lines++;
    pick = test_rng_next() % (lines + 1);
    for (const char *q = text; q < (const char *)b->p + b->len; k++) {
        const char *nl = memchr(q, '\n', (size_t)((const char *)b->p + b->len - q));
        size_t ll = nl ? (size_t)(nl - q) + 1 : (size_t)((const char *)b->p + b->len - q);

        if (q > end) {
            bb_put(out, q, (size_t)((const char *)b->p + b->len - q));
            break;
        }
        if (k == pick && how == 0) {
            bb_text(out, line_edits[test_rng_next() % (sizeof(line_edits) / sizeof(line_edits[0]))]);
            bb_text(out, "\n");
        } else if (k == pick && how == 1) {
            /* deleted */
        } else if (k == pick && how == 2) {
            bb_put(out, q, ll);
            bb_put(out, q, ll);
        } else if (k == pick) {
            bb_put(out, q, ll);
            bb_text(out, line_edits[test_rng_next() % (sizeof(line_edits) / sizeof(line_edits[0]))]);
            bb_text(out, "\n");
        } else {
            bb_put(out, q, ll);
        }
        q += ll;
    }
}

/* One random mutation of base into out. */
static void mutate(const byte_buf *base, int is_ply, byte_buf *out)
{
    uint32_t kind = test_rng_next() % (is_ply ? 6 : 4);
    size_t hdr = is_ply ? (size_t)(strstr((const char *)base->p, "end_header\n") + 11 -
                                   (const char *)base->p) : 0;

    out->len = 0;
    if (is_ply && kind >= 4) {
        header_line_edit(base, out);
        return;
    }
    bb_put(out, base->p, base->len);
    switch (kind) {
    case 0: {   /* byte flips, half of them in the header */
        uint32_t n = 1 + test_rng_next() % 4;
        for (uint32_t i = 0; i < n; i++) {
            size_t at = is_ply && (test_rng_next() & 1) ? test_rng_next() % hdr
                                                         : test_rng_next() % out->len;
            out->p[at] ^= (unsigned char)(1u << (test_rng_next() % 8));
        }
        break;
    }
    case 1:     /* truncation */
        out->len = test_rng_next() % out->len;
        break;
    case 2: {   /* special float values at a 4-byte aligned data offset */
        static const unsigned char vals[4][4] = { { 0, 0, 0xc0, 0x7f }, { 0, 0, 0x80, 0x7f },
                                                  { 0, 0, 0, 0 }, { 0, 0, 0x80, 0xbf } };
        size_t words = (out->len - hdr) / 4;
        memcpy(out->p + hdr + 4 * (test_rng_next() % words), vals[test_rng_next() % 4], 4);
        break;
    }
    default: {  /* appended bytes */
        uint32_t n = 1 + test_rng_next() % 80;
        for (uint32_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)test_rng_next();
            bb_put(out, &c, 1);
        }
        break;
    }
    }
}

int main(void)
{
    byte_buf bases[4] = { { 0 } }, out = { 0 };
    static const int is_ply[4] = { 1, 1, 1, 0 };
    static const char *const names[4] = { "mut deg1.ply", "mut-shapes.ply", "mut deg0.ply",
                                           "mut.splat" };
    static const size_t min_row[4] = { 56, 56, 56, 32 };
    kiln_host_stats h0, h1;
    size_t total = 0;
    double t0 = test_now_ms();

    kiln_host_alloc_stats(&h0);
    test_rng_seed(20260817u);
    ply_build_canonical(&bases[0], 1, 3);
    {   /* float64 and extra properties, a list, elements around the vertex element */
        char pn[62][32];
        prop_spec props[64];
        size_t n = splat_names_canonical(0, pn), np = 0;
        for (size_t i = 0; i < n; i++)
            props[np++] = (prop_spec){ pn[n - 1 - i], i % 3 ? "float" : "double", 0 };
        props[np++] = (prop_spec){ "extra", "ushort", 0 };
        props[np++] = (prop_spec){ "idx", "int", 1 };
        ply_build(&bases[1], props, np, 4, "comment c\nelement cam 1\nproperty uchar k\n", "\x05", 1,
                  "element face 1\nproperty list uchar int i\n", "\x01\x02\x00\x00\x00", 5);
    }
    ply_build_canonical(&bases[2], 0, 2);
    for (int i = 0; i < 5; i++) {
        const float pos[3] = { (float)i, 1.0f, -2.0f }, scale[3] = { 0.5f, 1.0f, 2.0f };
        const uint8_t rgba[4] = { 10, 20, 30, (uint8_t)(i * 60) }, rot[4] = { 200, 128, 100, 60 };
        dotsplat_record(&bases[3], pos, scale, rgba, rot);
    }
    /* the bases themselves read */
    for (int b = 0; b < 4; b++) {
        splat_scene s;
        CHECK_OK(splat_scene_read_mem(bases[b].p, bases[b].len, names[b], NULL, &s, NULL));
        splat_scene_free(&s);
    }
    for (int b = 0; b < 4; b++)
        for (int m = 0; m < MUTATIONS_PER_BASE; m++) {
            mutate(&bases[b], is_ply[b], &out);
            mutant_check(out.p, out.len, names[b], min_row[b], test_rng_next());
            total++;
        }
    /* .splat mutants read under a .ply name are not PLYs: refused */
    for (int m = 0; m < 100; m++) {
        splat_scene s;
        mutate(&bases[3], 0, &out);
        CHECK(splat_scene_read_mem(out.p, out.len, "x.ply", NULL, &s, NULL) != KILN_OK);
        CHECK_MSG("x.ply");
        total++;
    }
    for (int b = 0; b < 4; b++)
        bb_free(&bases[b]);
    bb_free(&out);
    kiln_host_alloc_stats(&h1);
    CHECK(h1.live_bytes == h0.live_bytes);
    fprintf(stderr, "%zu mutants (%zu read, the rest refused) in %.0f ms\n", total, accepted,
            test_now_ms() - t0);
    return test_summary("test_splat_mutate");
}
