/* The initial scene from a point cloud and the 3-nearest-neighbour
 * distances behind its scales (splat_init.h).  The neighbours come from
 * a k-d tree over an index permutation: each node splits its range at
 * the middle index along its widest axis (a quickselect with a 3-way
 * partition, so duplicated points cost no more than others), leaves of
 * at most KD_LEAF points are scanned. */
#include <math.h>
#include <string.h>

#include "host_alloc.h"
#include "splat_init.h"
#include "status.h"

#define KD_LEAF 8

/* The tree: the points and the index permutation the nodes split. */
typedef struct kd_tree {
    const float *pts;
    size_t *idx;
    uint64_t rng;           /* pivot choice */
} kd_tree;

/* An inner node: its split axis and value (the children reorder their
 * ranges, so the value at the middle index does not stay). */
typedef struct kd_node {
    float split;
    uint8_t axis;
} kd_node;

/* The 3 nearest distances found so far for a query, ascending. */
typedef struct kd_best {
    float d[3];
} kd_best;

/* A xorshift64 step for pivots. */
static uint64_t kd_rand(kd_tree *t)
{
    t->rng ^= t->rng << 13;
    t->rng ^= t->rng >> 7;
    t->rng ^= t->rng << 17;
    return t->rng;
}

/* The widest axis of the points idx[lo..hi). */
static int kd_axis(const kd_tree *t, size_t lo, size_t hi)
{
    float mn[3], mx[3];
    int axis = 0;

    for (int k = 0; k < 3; k++)
        mn[k] = mx[k] = t->pts[3 * t->idx[lo] + k];
    for (size_t i = lo + 1; i < hi; i++)
        for (int k = 0; k < 3; k++) {
            float v = t->pts[3 * t->idx[i] + k];

            mn[k] = v < mn[k] ? v : mn[k];
            mx[k] = v > mx[k] ? v : mx[k];
        }
    for (int k = 1; k < 3; k++)
        if (mx[k] - mn[k] > mx[axis] - mn[axis])
            axis = k;
    return axis;
}

/* Reorders idx[lo..hi) so that position `mid` holds the element that
 * belongs there by coordinate `axis`, smaller-or-equal ones before it and
 * greater-or-equal ones after it. */
static void kd_select(kd_tree *t, size_t lo, size_t hi, size_t mid, int axis)
{
    size_t *idx = t->idx;

    while (hi - lo > 1) {
        float pivot = t->pts[3 * idx[lo + kd_rand(t) % (hi - lo)] + axis];
        size_t lt = lo, i = lo, gt = hi;

        /* [lo, lt) < pivot, [lt, i) == pivot, [gt, hi) > pivot */
        while (i < gt) {
            float v = t->pts[3 * idx[i] + axis];
            size_t tmp = idx[i];

            if (v < pivot) {
                idx[i++] = idx[lt];
                idx[lt++] = tmp;
            } else if (v > pivot) {
                idx[i] = idx[--gt];
                idx[gt] = tmp;
            } else {
                i++;
            }
        }
        if (mid < lt)
            hi = lt;
        else if (mid >= gt)
            lo = gt;
        else
            return;
    }
}

/* Builds the subtree of idx[lo..hi): nodes[node] gets its split
 * (node numbering: root 1, children 2 node and 2 node + 1). */
static void kd_build(kd_tree *t, kd_node *nodes, size_t node, size_t lo, size_t hi)
{
    size_t mid = lo + (hi - lo) / 2;
    int axis;

    if (hi - lo <= KD_LEAF)
        return;
    axis = kd_axis(t, lo, hi);
    kd_select(t, lo, hi, mid, axis);
    nodes[node].axis = (uint8_t)axis;
    nodes[node].split = t->pts[3 * t->idx[mid] + axis];
    kd_build(t, nodes, 2 * node, lo, mid);
    kd_build(t, nodes, 2 * node + 1, mid, hi);
}

/* The squared distance of points a and b, as distCUDA2 computes it. */
static float kd_dist2(const float *a, const float *b)
{
    float dx = a[0] - b[0], dy = a[1] - b[1], dz = a[2] - b[2];

    return dx * dx + dy * dy + dz * dz;
}

/* Keeps d when it is among the 3 smallest so far. */
static void kd_best_add(kd_best *b, float d)
{
    if (!(d < b->d[2]))
        return;
    if (d < b->d[1]) {
        b->d[2] = b->d[1];
        if (d < b->d[0]) {
            b->d[1] = b->d[0];
            b->d[0] = d;
        } else {
            b->d[1] = d;
        }
    } else {
        b->d[2] = d;
    }
}

/* Searches the subtree of idx[lo..hi) for the nearest points to point
 * `self` (itself excluded by index). */
static void kd_query(const kd_tree *t, const kd_node *nodes, size_t node, size_t lo, size_t hi,
                     size_t self, kd_best *b)
{
    const float *q = t->pts + 3 * self;
    size_t mid = lo + (hi - lo) / 2;
    float diff;

    if (hi - lo <= KD_LEAF) {
        for (size_t i = lo; i < hi; i++)
            if (t->idx[i] != self)
                kd_best_add(b, kd_dist2(q, t->pts + 3 * t->idx[i]));
        return;
    }
    diff = q[nodes[node].axis] - nodes[node].split;
    if (diff < 0) {
        kd_query(t, nodes, 2 * node, lo, mid, self, b);
        if (diff * diff < b->d[2])
            kd_query(t, nodes, 2 * node + 1, mid, hi, self, b);
    } else {
        kd_query(t, nodes, 2 * node + 1, mid, hi, self, b);
        if (diff * diff < b->d[2])
            kd_query(t, nodes, 2 * node, lo, mid, self, b);
    }
}

/* The number of node slots the tree of n points needs. */
static size_t kd_nodes(size_t n)
{
    size_t slots = 2, size = n;

    while (size > KD_LEAF) {
        size = size - size / 2;     /* the larger half */
        slots *= 2;
    }
    return slots;
}

/* Mean squared distance to the 3 nearest other points (splat_init.h). */
kiln_status splat_knn_dist2(const float *points, size_t n, float *dist2)
{
    kd_tree t = { points, NULL, 0x9e3779b97f4a7c15ull };
    kd_node *nodes;
    size_t others = n > 3 ? 3 : n ? n - 1 : 0;

    for (size_t i = 0; i < 3 * n; i++)
        if (!isfinite(points[i]))
            return kiln_fail(KILN_E_INVAL, "point %zu: coordinate %c is not finite", i / 3,
                             "xyz"[i % 3]);
    if (n == 0)
        return KILN_OK;
    t.idx = kiln_malloc(n * sizeof(*t.idx));
    nodes = kiln_calloc(kd_nodes(n), sizeof(*nodes));
    if (!t.idx || !nodes) {
        kiln_free(nodes);
        kiln_free(t.idx);
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory for the neighbours of %zu points",
                         n);
    }
    for (size_t i = 0; i < n; i++)
        t.idx[i] = i;
    kd_build(&t, nodes, 1, 0, n);
    for (size_t i = 0; i < n; i++) {
        kd_best b = { { INFINITY, INFINITY, INFINITY } };

        kd_query(&t, nodes, 1, 0, n, i, &b);
        if (others == 3)
            dist2[i] = (b.d[0] + b.d[1] + b.d[2]) / 3.0f;
        else if (others == 2)
            dist2[i] = (b.d[0] + b.d[1]) / 2.0f;
        else if (others == 1)
            dist2[i] = b.d[0];
        else
            dist2[i] = 0.0f;
    }
    kiln_free(nodes);
    kiln_free(t.idx);
    return KILN_OK;
}

/* One Gaussian per point (splat_init.h). */
kiln_status splat_scene_from_points(const float *points, const uint8_t *colours, size_t n,
                                    uint32_t sh_degree, splat_scene *out)
{
    const float opacity = logf(0.1f / (1.0f - 0.1f));
    kiln_status st;

    memset(out, 0, sizeof(*out));
    if ((st = splat_scene_alloc(out, n, sh_degree)) != KILN_OK)
        return st;
    /* the scales' array holds dist2 until the last loop */
    if ((st = splat_knn_dist2(points, n, out->scales)) != KILN_OK) {
        splat_scene_free(out);
        return st;
    }
    /* spread backwards: scales[j] is read before 3 j .. 3 j + 2 (>= j) are written */
    for (size_t j = n; j-- > 0;) {
        float s = logf(sqrtf(fmaxf(out->scales[j], 1e-7f)));

        out->scales[3 * j] = out->scales[3 * j + 1] = out->scales[3 * j + 2] = s;
    }
    for (size_t i = 0; i < n; i++) {
        memcpy(out->means + 3 * i, points + 3 * i, 3 * sizeof(*points));
        for (int c = 0; c < 3; c++) {
            float col = (float)(colours[3 * i + c] / 255.0);

            out->sh[(size_t)i * out->sh_coeffs * 3 + c] = (col - 0.5f) / (float)SPLAT_SH_C0;
        }
        out->rotations[4 * i] = 1.0f;
        out->opacity[i] = opacity;
    }
    return KILN_OK;
}
