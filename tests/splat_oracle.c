/* The host reference renderer (splat_oracle.h): per Gaussian projection
 * in double precision, one depth sort, per-tile lists built once, then a
 * front-to-back blend per pixel over its tile's list. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "splat_oracle.h"

#define ORACLE_TILE 16
/* The rasterizers' thresholds are float32 literals (0.99f, 0.999f, 1e-4f,
 * 1.0f / 255.0f in the CUDA sources): the oracle computes in double but
 * compares against the same float values, so a stack of alpha-clamped
 * Gaussians ends after as many of them as the reference blends. */
#define ORACLE_ALPHA_MIN ((double)(1.0f / 255.0f))
#define ORACLE_CLAMP_INRIA ((double)0.99f)
#define ORACLE_CLAMP_GSPLAT ((double)0.999f)
#define ORACLE_T_MIN ((double)1e-4f)

static const double SH_C0 = 0.28209479177387814;
static const double SH_C1 = 0.4886025119029199;
static const double SH_C2[5] = {1.0925484305920792, -1.0925484305920792, 0.31539156525252005,
                                -1.0925484305920792, 0.5462742152960396};
static const double SH_C3[7] = {-0.5900435899266435, 2.890611442640554, -0.4570457994644658,
                                0.3731763325901154,  -0.4570457994644658, 1.445305721320277,
                                -0.5900435899266435};

/* Returns v clamped to [lo, hi]. */
static double clamp_d(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Returns v (finite or not) clamped to [0, hi] as an int, for tile
 * indices computed in double precision. */
static int tile_clamp(double v, int hi)
{
    if (!(v > 0.0))
        return 0;
    return v >= (double)hi ? hi : (int)v;
}

/* Writes the SH basis at unit direction d (see splat_oracle.h). */
void splat_oracle_sh_basis(const double d[3], double basis[16])
{
    double x = d[0], y = d[1], z = d[2];
    double xx = x * x, yy = y * y, zz = z * z, xy = x * y, yz = y * z, xz = x * z;

    basis[0] = SH_C0;
    basis[1] = -SH_C1 * y;
    basis[2] = SH_C1 * z;
    basis[3] = -SH_C1 * x;
    basis[4] = SH_C2[0] * xy;
    basis[5] = SH_C2[1] * yz;
    basis[6] = SH_C2[2] * (2.0 * zz - xx - yy);
    basis[7] = SH_C2[3] * xz;
    basis[8] = SH_C2[4] * (xx - yy);
    basis[9] = SH_C3[0] * y * (3.0 * xx - yy);
    basis[10] = SH_C3[1] * xy * z;
    basis[11] = SH_C3[2] * y * (4.0 * zz - xx - yy);
    basis[12] = SH_C3[3] * z * (2.0 * zz - 3.0 * xx - 3.0 * yy);
    basis[13] = SH_C3[4] * x * (4.0 * zz - xx - yy);
    basis[14] = SH_C3[5] * z * (xx - yy);
    basis[15] = SH_C3[6] * x * (xx - 3.0 * yy);
}

/* Writes the SH colour max(0, SH(dir) + 0.5) of Gaussian i, dir the unit
 * vector from the camera centre to the mean, evaluated over the scene's
 * degree in the reference rasterizer's order (computeColorFromSH). */
static void sh_colour(const splat_scene *scene, size_t i, const double centre[3], double rgb[3])
{
    const float *m = scene->means + i * 3;
    const float *sh = scene->sh + i * scene->sh_coeffs * 3;
    double d[3] = {m[0] - centre[0], m[1] - centre[1], m[2] - centre[2]};
    double len = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
    double basis[16];
    uint32_t k, n = scene->sh_coeffs;

    if (len > 0.0) {
        d[0] /= len;
        d[1] /= len;
        d[2] /= len;
    }
    splat_oracle_sh_basis(d, basis);
    for (int c = 0; c < 3; c++) {
        double v = 0.0;
        for (k = 0; k < n && k < 16; k++)
            v += basis[k] * sh[k * 3 + c];
        v += 0.5;
        rgb[c] = v > 0.0 ? v : 0.0;
    }
}

/* Writes the world-space covariance R S S^T R^T of Gaussian i (scales
 * exp'd, quaternion w x y z normalised) as a row-major 3x3. */
static void cov3d_world(const splat_scene *scene, size_t i, double cov[9])
{
    const float *q = scene->rotations + i * 4, *ls = scene->scales + i * 3;
    double n = sqrt((double)q[0] * q[0] + (double)q[1] * q[1] + (double)q[2] * q[2] +
                    (double)q[3] * q[3]);
    double w, x, y, z, r[9], m[9], s[3];

    n = n > 1e-12 ? n : 1e-12;
    w = q[0] / n, x = q[1] / n, y = q[2] / n, z = q[3] / n;
    r[0] = 1 - 2 * (y * y + z * z), r[1] = 2 * (x * y - w * z), r[2] = 2 * (x * z + w * y);
    r[3] = 2 * (x * y + w * z), r[4] = 1 - 2 * (x * x + z * z), r[5] = 2 * (y * z - w * x);
    r[6] = 2 * (x * z - w * y), r[7] = 2 * (y * z + w * x), r[8] = 1 - 2 * (x * x + y * y);
    for (int a = 0; a < 3; a++)
        s[a] = exp((double)ls[a]);
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            m[a * 3 + b] = r[a * 3 + b] * s[b];
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            cov[a * 3 + b] = m[a * 3] * m[b * 3] + m[a * 3 + 1] * m[b * 3 + 1] +
                             m[a * 3 + 2] * m[b * 3 + 2];
}

/* Writes the 2D covariance J W cov W^T J^T (3 values: xx, xy, yy, before
 * the dilation) of a Gaussian at camera point p, with the mode's
 * Jacobian clamp on x/z and y/z (none when smooth). */
static void cov2d_project(const splat_oracle_frame *v, const double cov[9], const double p[3],
                          double out[3])
{
    const splat_camera *cam = v->cam;
    const double *w = cam->rotation;
    double tx, ty, j[6], t[6], c[9];
    double half_w = 0.5 * cam->width, half_h = 0.5 * cam->height;

    if (v->opt->smooth) {
        tx = p[0];
        ty = p[1];
    } else if (v->opt->mode == SPLAT_ORACLE_INRIA) {
        double lx = 1.3 * half_w / cam->fx, ly = 1.3 * half_h / cam->fy;
        tx = clamp_d(p[0] / p[2], -lx, lx) * p[2];
        ty = clamp_d(p[1] / p[2], -ly, ly) * p[2];
    } else {
        double px = cam->width - cam->cx, nx = cam->cx, py = cam->height - cam->cy, ny = cam->cy;
        tx = clamp_d(p[0] / p[2], -(nx / cam->fx + 0.3 * half_w / cam->fx),
                     px / cam->fx + 0.3 * half_w / cam->fx) * p[2];
        ty = clamp_d(p[1] / p[2], -(ny / cam->fy + 0.3 * half_h / cam->fy),
                     py / cam->fy + 0.3 * half_h / cam->fy) * p[2];
    }
    j[0] = cam->fx / p[2], j[1] = 0.0, j[2] = -cam->fx * tx / (p[2] * p[2]);
    j[3] = 0.0, j[4] = cam->fy / p[2], j[5] = -cam->fy * ty / (p[2] * p[2]);
    /* c = W cov W^T */
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
            double s = 0.0;
            for (int k = 0; k < 3; k++)
                for (int l = 0; l < 3; l++)
                    s += w[a * 3 + k] * cov[k * 3 + l] * w[b * 3 + l];
            c[a * 3 + b] = s;
        }
    /* t = J c, out = t J^T */
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 3; b++)
            t[a * 3 + b] = j[a * 3] * c[b] + j[a * 3 + 1] * c[3 + b] + j[a * 3 + 2] * c[6 + b];
    out[0] = t[0] * j[0] + t[1] * j[1] + t[2] * j[2];
    out[1] = t[0] * j[3] + t[1] * j[4] + t[2] * j[5];
    out[2] = t[3] * j[3] + t[4] * j[4] + t[5] * j[5];
}

/* Sets the tile range of s in Inria mode (3-sigma radius of the larger
 * eigenvalue, getRect on mean2d - 0.5).  Returns 0 when it is empty. */
static int range_inria(const splat_oracle_frame *v, const double cov[3], double det,
                       splat_oracle_splat *s)
{
    double mid = 0.5 * (cov[0] + cov[2]);
    double l1 = mid + sqrt(fmax(0.1, mid * mid - det));
    double r = ceil(3.0 * sqrt(l1));
    double px = s->mx - 0.5, py = s->my - 0.5;

    /* (int) truncates toward zero, then clamps to [0, tiles] */
    s->tx0 = tile_clamp(trunc((px - r) / ORACLE_TILE), v->tiles_x);
    s->tx1 = tile_clamp(trunc((px + r + ORACLE_TILE - 1) / ORACLE_TILE), v->tiles_x);
    s->ty0 = tile_clamp(trunc((py - r) / ORACLE_TILE), v->tiles_y);
    s->ty1 = tile_clamp(trunc((py + r + ORACLE_TILE - 1) / ORACLE_TILE), v->tiles_y);
    return (s->tx1 - s->tx0) * (s->ty1 - s->ty0) != 0;
}

/* Sets the tile range of s in gsplat mode (opacity-aware per-axis box).
 * Returns 0 when the Gaussian is culled (o < 1/255, an empty box, or a
 * box that misses the image). */
static int range_gsplat(const splat_oracle_frame *v, const double cov[3], splat_oracle_splat *s)
{
    double e, rx, ry;

    if (s->opacity < ORACLE_ALPHA_MIN)
        return 0;
    e = fmin(3.33, sqrt(2.0 * log(s->opacity / ORACLE_ALPHA_MIN)));
    rx = ceil(e * sqrt(cov[0]));
    ry = ceil(e * sqrt(cov[2]));
    if (rx <= 0.0 && ry <= 0.0)
        return 0;
    if (s->mx + rx <= 0.0 || s->mx - rx >= v->cam->width || s->my + ry <= 0.0 ||
        s->my - ry >= v->cam->height)
        return 0;
    s->tx0 = tile_clamp(floor((s->mx - rx) / ORACLE_TILE), v->tiles_x);
    s->tx1 = tile_clamp(ceil((s->mx + rx) / ORACLE_TILE), v->tiles_x);
    s->ty0 = tile_clamp(floor((s->my - ry) / ORACLE_TILE), v->tiles_y);
    s->ty1 = tile_clamp(ceil((s->my + ry) / ORACLE_TILE), v->tiles_y);
    return 1;
}

/* Projects Gaussian i into *s.  Returns 1 when it survives culling (and
 * covers at least one tile in Inria mode), 0 otherwise; a Gaussian whose
 * opacity, mean2d or conic is not finite is culled.  Smooth: every tile,
 * no range cull. */
static int splat_project(const splat_oracle_frame *v, const splat_scene *scene, size_t i,
                         splat_oracle_splat *s)
{
    const splat_camera *cam = v->cam;
    const float *m = scene->means + i * 3;
    double p[3], cov[9], c2[3], det0, det;

    for (int a = 0; a < 3; a++)
        p[a] = cam->rotation[a * 3] * m[0] + cam->rotation[a * 3 + 1] * m[1] +
               cam->rotation[a * 3 + 2] * m[2] + cam->translation[a];
    if (v->opt->mode == SPLAT_ORACLE_INRIA ? p[2] <= (double)0.2f
                                           : (p[2] < (double)0.01f || p[2] > (double)1e12f))
        return 0;
    cov3d_world(scene, i, cov);
    cov2d_project(v, cov, p, c2);
    det0 = c2[0] * c2[2] - c2[1] * c2[1];
    c2[0] += 0.3;
    c2[2] += 0.3;
    det = c2[0] * c2[2] - c2[1] * c2[1];
    if (!(det > 0.0))
        return 0;
    s->ca = c2[2] / det;
    s->cb = -c2[1] / det;
    s->cc = c2[0] / det;
    s->opacity = 1.0 / (1.0 + exp(-(double)scene->opacity[i]));
    if (v->opt->antialiased)
        s->opacity *= sqrt(fmax(0.0, det0 / det));
    s->mx = cam->fx * p[0] / p[2] + cam->cx;
    s->my = cam->fy * p[1] / p[2] + cam->cy;
    s->z = p[2];
    s->index = i;
    if (!isfinite(s->opacity) || !isfinite(s->mx) || !isfinite(s->my) || !isfinite(s->ca) ||
        !isfinite(s->cb) || !isfinite(s->cc))
        return 0;
    if (v->opt->smooth) {
        s->tx0 = 0, s->tx1 = v->tiles_x, s->ty0 = 0, s->ty1 = v->tiles_y;
    } else if (v->opt->mode == SPLAT_ORACLE_INRIA ? !range_inria(v, c2, det, s)
                                                  : !range_gsplat(v, c2, s)) {
        return 0;
    }
    sh_colour(scene, i, v->centre, s->rgb);
    return 1;
}

/* qsort order: ascending camera z, ties by scene index. */
static int splat_compare(const void *pa, const void *pb)
{
    const splat_oracle_splat *a = pa, *b = pb;

    if (a->z != b->z)
        return a->z < b->z ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

/* Builds the per-tile lists of the sorted splats: list t is
 * items[start[t] .. start[t + 1]), in depth order.  Returns 0, or -1
 * when memory runs out (nothing stays allocated). */
static int tile_lists_build(const splat_oracle_frame *v, const splat_oracle_splat *s, size_t n,
                            size_t **start_out, size_t **items_out)
{
    size_t tiles = (size_t)v->tiles_x * (size_t)v->tiles_y, *start, *items, *fill;

    start = calloc(tiles + 1, sizeof(*start));
    fill = calloc(tiles + 1, sizeof(*fill));
    if (!start || !fill)
        goto out_free;
    for (size_t g = 0; g < n; g++)
        for (int ty = s[g].ty0; ty < s[g].ty1; ty++)
            for (int tx = s[g].tx0; tx < s[g].tx1; tx++)
                start[(size_t)ty * v->tiles_x + tx + 1]++;
    for (size_t t = 0; t < tiles; t++)
        start[t + 1] += start[t];
    items = malloc((start[tiles] ? start[tiles] : 1) * sizeof(*items));
    if (!items)
        goto out_free;
    memcpy(fill, start, (tiles + 1) * sizeof(*fill));
    for (size_t g = 0; g < n; g++)
        for (int ty = s[g].ty0; ty < s[g].ty1; ty++)
            for (int tx = s[g].tx0; tx < s[g].tx1; tx++)
                items[fill[(size_t)ty * v->tiles_x + tx]++] = g;
    free(fill);
    *start_out = start;
    *items_out = items;
    return 0;
out_free:
    free(start);
    free(fill);
    return -1;
}

/* Walks pixel (i, j) (splat_oracle.h). */
size_t splat_oracle_pixel_hits(const splat_oracle_frame *frame, uint32_t i, uint32_t j,
                               splat_oracle_hit *hits, double *t_final)
{
    int inria = frame->opt->mode == SPLAT_ORACLE_INRIA, smooth = frame->opt->smooth;
    double clamp = inria ? ORACLE_CLAMP_INRIA : ORACLE_CLAMP_GSPLAT;
    double px = j + 0.5, py = i + 0.5, t = 1.0;
    size_t tile = (size_t)(i / ORACLE_TILE) * frame->tiles_x + j / ORACLE_TILE;
    const size_t *list = frame->items + frame->start[tile];
    size_t n = frame->start[tile + 1] - frame->start[tile], hit = 0;

    for (size_t k = 0; k < n; k++) {
        const splat_oracle_splat *g = frame->splats + list[k];
        double dx = g->mx - px, dy = g->my - py;
        double sigma = 0.5 * (g->ca * dx * dx + g->cc * dy * dy) + g->cb * dx * dy;
        double gauss, alpha, next;
        int clamped = 0;

        if (sigma < 0.0 && !smooth)
            continue;
        gauss = exp(-sigma);
        alpha = g->opacity * gauss;
        if (!smooth) {
            clamped = alpha > clamp;
            alpha = fmin(clamp, alpha);
            if (alpha < ORACLE_ALPHA_MIN)
                continue;
        }
        next = t * (1.0 - alpha);
        if (!smooth && (inria ? next < ORACLE_T_MIN : next <= ORACLE_T_MIN))
            break;
        hits[hit].splat = list[k];
        hits[hit].alpha = alpha;
        hits[hit].gauss = gauss;
        hits[hit].t = t;
        hits[hit].clamped = clamped;
        hit++;
        t = next;
    }
    *t_final = t;
    return hit;
}

/* Blends pixel (i, j) front to back over its tile's list and writes its
 * RGBA (and depth when `depth` is not NULL); hits is scratch room for
 * frame->count. */
static void pixel_blend(const splat_oracle_frame *frame, splat_oracle_hit *hits, uint32_t i,
                        uint32_t j, double *rgba, double *depth)
{
    double t, c[3] = {0.0, 0.0, 0.0}, d = 0.0;
    size_t n = splat_oracle_pixel_hits(frame, i, j, hits, &t);

    for (size_t k = 0; k < n; k++) {
        const splat_oracle_splat *g = frame->splats + hits[k].splat;

        for (int a = 0; a < 3; a++)
            c[a] += g->rgb[a] * hits[k].alpha * hits[k].t;
        d += g->z * hits[k].alpha * hits[k].t;
    }
    for (int a = 0; a < 3; a++)
        rgba[a] = c[a] + t * frame->opt->background[a];
    rgba[3] = 1.0 - t;
    if (depth)
        *depth = t < 1.0 ? d / (1.0 - t) : 0.0;
}

/* Builds the frame (splat_oracle.h). */
int splat_oracle_frame_build(const splat_scene *scene, const splat_camera *cam,
                             const splat_oracle_options *opt, splat_oracle_frame *frame)
{
    const double *r = cam->rotation, *t = cam->translation;
    splat_oracle_splat *s;
    size_t n = 0;

    memset(frame, 0, sizeof(*frame));
    frame->cam = cam;
    frame->opt = opt;
    frame->tiles_x = (int)((cam->width + ORACLE_TILE - 1) / ORACLE_TILE);
    frame->tiles_y = (int)((cam->height + ORACLE_TILE - 1) / ORACLE_TILE);
    for (int a = 0; a < 3; a++)
        frame->centre[a] = -(r[a] * t[0] + r[3 + a] * t[1] + r[6 + a] * t[2]);
    s = malloc((scene->count ? scene->count : 1) * sizeof(*s));
    if (!s)
        return -1;
    for (size_t i = 0; i < scene->count; i++)
        n += (size_t)splat_project(frame, scene, i, s + n);
    qsort(s, n, sizeof(*s), splat_compare);
    if (tile_lists_build(frame, s, n, &frame->start, &frame->items) != 0) {
        free(s);
        frame->start = frame->items = NULL;
        return -1;
    }
    frame->splats = s;
    frame->count = n;
    return 0;
}

/* Frees the frame (splat_oracle.h). */
void splat_oracle_frame_free(splat_oracle_frame *frame)
{
    free(frame->items);
    free(frame->start);
    free(frame->splats);
    memset(frame, 0, sizeof(*frame));
}

/* Renders the scene (splat_oracle.h). */
int splat_oracle_render(const splat_scene *scene, const splat_camera *cam,
                        const splat_oracle_options *opt, double *rgba, double *depth)
{
    splat_oracle_frame frame;
    splat_oracle_hit *hits;

    if (splat_oracle_frame_build(scene, cam, opt, &frame) != 0)
        return -1;
    hits = malloc((frame.count ? frame.count : 1) * sizeof(*hits));
    if (!hits) {
        splat_oracle_frame_free(&frame);
        return -1;
    }
    for (uint32_t i = 0; i < cam->height; i++)
        for (uint32_t j = 0; j < cam->width; j++) {
            size_t px = (size_t)i * cam->width + j;

            pixel_blend(&frame, hits, i, j, rgba + px * 4, depth ? depth + px : NULL);
        }
    free(hits);
    splat_oracle_frame_free(&frame);
    return 0;
}
