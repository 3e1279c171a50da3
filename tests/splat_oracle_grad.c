/* The host reference backward pass (splat_oracle_grad.h): the forward's
 * frame (culls, tile lists, order) and per-pixel hits (skips, clamps,
 * termination) are taken from splat_oracle.c; the blend is walked back
 * to front per pixel into per-Gaussian 2D gradients (mean2d, conic,
 * opacity, colour); then each Gaussian's projection is recomputed and
 * differentiated back to its raw parameters. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "splat_oracle_grad.h"

static const double SH_C1 = 0.4886025119029199;
static const double SH_C2[5] = {1.0925484305920792, -1.0925484305920792, 0.31539156525252005,
                                -1.0925484305920792, 0.5462742152960396};
static const double SH_C3[7] = {-0.5900435899266435, 2.890611442640554, -0.4570457994644658,
                                0.3731763325901154,  -0.4570457994644658, 1.445305721320277,
                                -0.5900435899266435};

/* dL/d of one projected Gaussian's 2D quantities. */
typedef struct splat_adjoint {
    double mx, my;          /* mean2d */
    double ca, cb, cc;      /* conic */
    double opacity;         /* activated, compensated */
    double rgb[3];          /* colour after the clamp */
} splat_adjoint;

/* Walks pixel (i, j) back to front over its hits and adds its share of
 * dL/d(2D quantities) into adj (one per frame splat); hits is scratch
 * room for frame->count. */
static void pixel_backward(const splat_oracle_frame *frame, splat_oracle_hit *hits, uint32_t i,
                           uint32_t j, const double dl[3], splat_adjoint *adj)
{
    double t_final, rest[3], px = j + 0.5, py = i + 0.5;
    size_t n = splat_oracle_pixel_hits(frame, i, j, hits, &t_final);

    /* rest = what lies behind hit k, as seen through it: the colour of
     * the hits after k and the background, weighted by their alpha and
     * the transmittance from just behind k */
    for (int c = 0; c < 3; c++)
        rest[c] = frame->opt->background[c];
    for (size_t k = n; k-- > 0;) {
        const splat_oracle_hit *h = hits + k;
        const splat_oracle_splat *g = frame->splats + h->splat;
        splat_adjoint *a = adj + h->splat;
        double d_alpha = 0.0, d_sigma, dx, dy;

        for (int c = 0; c < 3; c++) {
            a->rgb[c] += dl[c] * h->alpha * h->t;
            d_alpha += dl[c] * h->t * (g->rgb[c] - rest[c]);
            rest[c] = g->rgb[c] * h->alpha + (1.0 - h->alpha) * rest[c];
        }
        if (h->clamped)
            continue;
        /* alpha = o exp(-s) */
        a->opacity += d_alpha * h->gauss;
        d_sigma = -d_alpha * h->alpha;
        dx = g->mx - px;
        dy = g->my - py;
        a->ca += d_sigma * 0.5 * dx * dx;
        a->cc += d_sigma * 0.5 * dy * dy;
        a->cb += d_sigma * dx * dy;
        a->mx += d_sigma * (g->ca * dx + g->cb * dy);
        a->my += d_sigma * (g->cc * dy + g->cb * dx);
    }
}

/* Writes the 16 SH basis values at unit direction d and their gradients
 * w.r.t. d (grad[k * 3 + axis]), in sh_colour's order. */
static void sh_basis_eval(const double d[3], double basis[16], double grad[48])
{
    double x = d[0], y = d[1], z = d[2];
    double xx = x * x, yy = y * y, zz = z * z, xy = x * y, yz = y * z, xz = x * z;
    const double g[48] = {
        0.0, 0.0, 0.0,
        0.0, -SH_C1, 0.0,
        0.0, 0.0, SH_C1,
        -SH_C1, 0.0, 0.0,
        SH_C2[0] * y, SH_C2[0] * x, 0.0,
        0.0, SH_C2[1] * z, SH_C2[1] * y,
        -2.0 * SH_C2[2] * x, -2.0 * SH_C2[2] * y, 4.0 * SH_C2[2] * z,
        SH_C2[3] * z, 0.0, SH_C2[3] * x,
        2.0 * SH_C2[4] * x, -2.0 * SH_C2[4] * y, 0.0,
        SH_C3[0] * 6.0 * xy, SH_C3[0] * 3.0 * (xx - yy), 0.0,
        SH_C3[1] * yz, SH_C3[1] * xz, SH_C3[1] * xy,
        -2.0 * SH_C3[2] * xy, SH_C3[2] * (4.0 * zz - xx - 3.0 * yy), 8.0 * SH_C3[2] * yz,
        -6.0 * SH_C3[3] * xz, -6.0 * SH_C3[3] * yz, SH_C3[3] * (6.0 * zz - 3.0 * xx - 3.0 * yy),
        SH_C3[4] * (4.0 * zz - 3.0 * xx - yy), -2.0 * SH_C3[4] * xy, 8.0 * SH_C3[4] * xz,
        2.0 * SH_C3[5] * xz, -2.0 * SH_C3[5] * yz, SH_C3[5] * (xx - yy),
        SH_C3[6] * 3.0 * (xx - yy), -6.0 * SH_C3[6] * xy, 0.0,
    };

    splat_oracle_sh_basis(d, basis);
    memcpy(grad, g, sizeof(g));
}

/* Differentiates the colour max(0, SH(dir) + 0.5) of Gaussian i: adds
 * dL/dsh into grad->sh and dL/dmean (through dir) into d_mean. */
static void colour_backward(const splat_scene *scene, size_t i, const double centre[3],
                            const double d_rgb[3], splat_oracle_grad *grad, double d_mean[3])
{
    const float *m = scene->means + i * 3;
    const float *sh = scene->sh + i * scene->sh_coeffs * 3;
    double *gsh = grad->sh + i * scene->sh_coeffs * 3;
    double u[3] = {m[0] - centre[0], m[1] - centre[1], m[2] - centre[2]};
    double len = sqrt(u[0] * u[0] + u[1] * u[1] + u[2] * u[2]), d[3], dot = 0.0;
    double basis[16], basis_grad[48], d_v[3], d_dir[3] = {0.0, 0.0, 0.0};
    uint32_t n = scene->sh_coeffs;

    for (int a = 0; a < 3; a++)
        d[a] = len > 0.0 ? u[a] / len : u[a];
    sh_basis_eval(d, basis, basis_grad);
    for (int c = 0; c < 3; c++) {
        double v = 0.0;

        for (uint32_t k = 0; k < n && k < 16; k++)
            v += basis[k] * sh[k * 3 + c];
        v += 0.5;
        d_v[c] = v > 0.0 ? d_rgb[c] : 0.0;
    }
    for (uint32_t k = 0; k < n && k < 16; k++) {
        double d_basis = 0.0;

        for (int c = 0; c < 3; c++) {
            gsh[k * 3 + c] += basis[k] * d_v[c];
            d_basis += sh[k * 3 + c] * d_v[c];
        }
        for (int a = 0; a < 3; a++)
            d_dir[a] += d_basis * basis_grad[k * 3 + a];
    }
    if (!(len > 0.0)) {
        for (int a = 0; a < 3; a++)
            d_mean[a] += d_dir[a];
        return;
    }
    for (int a = 0; a < 3; a++)
        dot += d[a] * d_dir[a];
    for (int a = 0; a < 3; a++)
        d_mean[a] += (d_dir[a] - d[a] * dot) / len;
}

/* Differentiates Sigma = R S S^T R^T of Gaussian i for dL/dSigma
 * (row-major, symmetric): adds dL/d(log scales) and dL/d(raw quaternion)
 * into grad. */
static void cov3d_backward(const splat_scene *scene, size_t i, const double d_sigma[9],
                           splat_oracle_grad *grad)
{
    const float *q = scene->rotations + i * 4, *ls = scene->scales + i * 3;
    double norm = sqrt((double)q[0] * q[0] + (double)q[1] * q[1] + (double)q[2] * q[2] +
                       (double)q[3] * q[3]);
    double n = norm > 1e-12 ? norm : 1e-12, w, x, y, z, r[9], s[3], m[9], d_m[9], d_r[9];
    double d_q[4], qn[4], dot = 0.0;

    w = q[0] / n, x = q[1] / n, y = q[2] / n, z = q[3] / n;
    r[0] = 1 - 2 * (y * y + z * z), r[1] = 2 * (x * y - w * z), r[2] = 2 * (x * z + w * y);
    r[3] = 2 * (x * y + w * z), r[4] = 1 - 2 * (x * x + z * z), r[5] = 2 * (y * z - w * x);
    r[6] = 2 * (x * z - w * y), r[7] = 2 * (y * z + w * x), r[8] = 1 - 2 * (x * x + y * y);
    for (int a = 0; a < 3; a++)
        s[a] = exp((double)ls[a]);
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            m[a * 3 + b] = r[a * 3 + b] * s[b];
    /* Sigma = M M^T: dL/dM = (G + G^T) M = 2 G M */
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            d_m[a * 3 + b] = 2.0 * (d_sigma[a * 3] * m[b] + d_sigma[a * 3 + 1] * m[3 + b] +
                                    d_sigma[a * 3 + 2] * m[6 + b]);
    for (int b = 0; b < 3; b++) {
        double d_s = 0.0;

        for (int a = 0; a < 3; a++) {
            d_r[a * 3 + b] = d_m[a * 3 + b] * s[b];
            d_s += d_m[a * 3 + b] * r[a * 3 + b];
        }
        grad->scales[i * 3 + b] += d_s * s[b];
    }
    /* R(w, x, y, z) of the normalised quaternion */
    d_q[0] = 2 * (-z * d_r[1] + y * d_r[2] + z * d_r[3] - x * d_r[5] - y * d_r[6] + x * d_r[7]);
    d_q[1] = 2 * (y * d_r[1] + z * d_r[2] + y * d_r[3] - 2 * x * d_r[4] - w * d_r[5] +
                  z * d_r[6] + w * d_r[7] - 2 * x * d_r[8]);
    d_q[2] = 2 * (-2 * y * d_r[0] + x * d_r[1] + w * d_r[2] + x * d_r[3] + z * d_r[5] -
                  w * d_r[6] + z * d_r[7] - 2 * y * d_r[8]);
    d_q[3] = 2 * (-2 * z * d_r[0] - w * d_r[1] + x * d_r[2] + w * d_r[3] - 2 * z * d_r[4] +
                  y * d_r[5] + x * d_r[6] + y * d_r[7]);
    /* through q / |q| (the 1e-12 floor is a constant when it bites) */
    qn[0] = w, qn[1] = x, qn[2] = y, qn[3] = z;
    if (norm > 1e-12)
        for (int a = 0; a < 4; a++)
            dot += qn[a] * d_q[a];
    for (int a = 0; a < 4; a++)
        grad->rotations[i * 4 + a] += (d_q[a] - qn[a] * dot) / n;
}

/* Returns the Jacobian's tx for camera coordinate u (x or y) at depth z
 * with clamp window [lo, hi] on u/z, and sets *clamped when the window
 * bit (never when smooth). */
static double jacobian_t(double u, double z, double lo, double hi, int smooth, int *clamped)
{
    double ratio = u / z;

    *clamped = 0;
    if (smooth)
        return u;
    if (ratio < lo || ratio > hi) {
        *clamped = 1;
        return (ratio < lo ? lo : hi) * z;
    }
    return ratio * z;
}

/* Differentiates the projection of frame splat g (scene Gaussian
 * g->index) for its 2D gradients a: adds dL/d(raw parameters) into grad. */
static void splat_backward(const splat_oracle_frame *frame, const splat_scene *scene,
                           const splat_oracle_splat *g, const splat_adjoint *a,
                           splat_oracle_grad *grad)
{
    const splat_camera *cam = frame->cam;
    const double *w = cam->rotation;
    const float *mf = scene->means + g->index * 3;
    size_t i = g->index;
    double p[3], cov[9], c[9], j[6], t[6], c2[3], tx, ty, lx0, lx1, ly0, ly1;
    double det0, ap, bp, cp, det, inv, ca, cb, cc, sig, comp = 1.0, r = 0.0;
    double d_sig, d_comp, d_det, d_c2[3], d_p[3] = {0.0, 0.0, 0.0}, d_j[6], d_c[9], d_cov[9];
    double gm[4], tmp[9], d_mean[3] = {0.0, 0.0, 0.0};
    int clamp_x, clamp_y;

    /* forward again: camera point, covariances, conic, opacity */
    for (int k = 0; k < 3; k++)
        p[k] = w[k * 3] * mf[0] + w[k * 3 + 1] * mf[1] + w[k * 3 + 2] * mf[2] +
               cam->translation[k];
    if (frame->opt->mode == SPLAT_ORACLE_INRIA) {
        lx1 = 1.3 * 0.5 * cam->width / cam->fx, lx0 = -lx1;
        ly1 = 1.3 * 0.5 * cam->height / cam->fy, ly0 = -ly1;
    } else {
        lx0 = -(cam->cx / cam->fx + 0.3 * 0.5 * cam->width / cam->fx);
        lx1 = (cam->width - cam->cx) / cam->fx + 0.3 * 0.5 * cam->width / cam->fx;
        ly0 = -(cam->cy / cam->fy + 0.3 * 0.5 * cam->height / cam->fy);
        ly1 = (cam->height - cam->cy) / cam->fy + 0.3 * 0.5 * cam->height / cam->fy;
    }
    tx = jacobian_t(p[0], p[2], lx0, lx1, frame->opt->smooth, &clamp_x);
    ty = jacobian_t(p[1], p[2], ly0, ly1, frame->opt->smooth, &clamp_y);
    j[0] = cam->fx / p[2], j[1] = 0.0, j[2] = -cam->fx * tx / (p[2] * p[2]);
    j[3] = 0.0, j[4] = cam->fy / p[2], j[5] = -cam->fy * ty / (p[2] * p[2]);
    {
        const float *q = scene->rotations + i * 4, *ls = scene->scales + i * 3;
        double qq = sqrt((double)q[0] * q[0] + (double)q[1] * q[1] + (double)q[2] * q[2] +
                         (double)q[3] * q[3]);
        double qw, qx, qy, qz, rm[9], m[9];

        qq = qq > 1e-12 ? qq : 1e-12;
        qw = q[0] / qq, qx = q[1] / qq, qy = q[2] / qq, qz = q[3] / qq;
        rm[0] = 1 - 2 * (qy * qy + qz * qz), rm[1] = 2 * (qx * qy - qw * qz);
        rm[2] = 2 * (qx * qz + qw * qy), rm[3] = 2 * (qx * qy + qw * qz);
        rm[4] = 1 - 2 * (qx * qx + qz * qz), rm[5] = 2 * (qy * qz - qw * qx);
        rm[6] = 2 * (qx * qz - qw * qy), rm[7] = 2 * (qy * qz + qw * qx);
        rm[8] = 1 - 2 * (qx * qx + qy * qy);
        for (int k = 0; k < 3; k++)
            for (int l = 0; l < 3; l++)
                m[k * 3 + l] = rm[k * 3 + l] * exp((double)ls[l]);
        for (int k = 0; k < 3; k++)
            for (int l = 0; l < 3; l++)
                cov[k * 3 + l] = m[k * 3] * m[l * 3] + m[k * 3 + 1] * m[l * 3 + 1] +
                                 m[k * 3 + 2] * m[l * 3 + 2];
    }
    /* c = W cov W^T */
    for (int k = 0; k < 3; k++)
        for (int l = 0; l < 3; l++) {
            double s = 0.0;

            for (int u = 0; u < 3; u++)
                for (int v = 0; v < 3; v++)
                    s += w[k * 3 + u] * cov[u * 3 + v] * w[l * 3 + v];
            c[k * 3 + l] = s;
        }
    for (int k = 0; k < 2; k++)
        for (int l = 0; l < 3; l++)
            t[k * 3 + l] = j[k * 3] * c[l] + j[k * 3 + 1] * c[3 + l] + j[k * 3 + 2] * c[6 + l];
    c2[0] = t[0] * j[0] + t[1] * j[1] + t[2] * j[2];
    c2[1] = t[0] * j[3] + t[1] * j[4] + t[2] * j[5];
    c2[2] = t[3] * j[3] + t[4] * j[4] + t[5] * j[5];
    det0 = c2[0] * c2[2] - c2[1] * c2[1];
    ap = c2[0] + 0.3, bp = c2[1], cp = c2[2] + 0.3;
    det = ap * cp - bp * bp;
    inv = 1.0 / det;
    ca = cp * inv, cb = -bp * inv, cc = ap * inv;
    sig = 1.0 / (1.0 + exp(-(double)scene->opacity[i]));
    if (frame->opt->antialiased) {
        r = fmax(0.0, det0 / det);
        comp = sqrt(r);
    }

    /* opacity: o = sigmoid(logit) comp */
    d_sig = a->opacity * comp;
    d_comp = a->opacity * sig;
    grad->opacity[i] += d_sig * sig * (1.0 - sig);
    /* conic = inverse of the dilated covariance */
    d_det = -(a->ca * ca + a->cb * cb + a->cc * cc) * inv;
    d_c2[0] = a->cc * inv + d_det * cp;
    d_c2[1] = -a->cb * inv - 2.0 * bp * d_det;
    d_c2[2] = a->ca * inv + d_det * ap;
    /* antialias compensation sqrt(det0 / det) (constant 0 where clamped) */
    if (frame->opt->antialiased && r > 0.0) {
        double d_r = d_comp * 0.5 / comp;

        d_c2[0] += d_r * (c2[2] - r * cp) * inv;
        d_c2[1] += d_r * -2.0 * c2[1] * (1.0 - r) * inv;
        d_c2[2] += d_r * (c2[0] - r * ap) * inv;
    }
    /* mean2d = (fx x/z + cx, fy y/z + cy) */
    d_p[0] += a->mx * cam->fx / p[2];
    d_p[1] += a->my * cam->fy / p[2];
    d_p[2] -= (a->mx * cam->fx * p[0] + a->my * cam->fy * p[1]) / (p[2] * p[2]);
    /* cov2d = J c J^T: dL/dJ = 2 G J c, dL/dc = J^T G J, G symmetric with
     * the off-diagonal gradient split over its two entries */
    gm[0] = d_c2[0], gm[1] = 0.5 * d_c2[1], gm[2] = 0.5 * d_c2[1], gm[3] = d_c2[2];
    for (int k = 0; k < 2; k++)
        for (int l = 0; l < 3; l++)
            d_j[k * 3 + l] = 2.0 * (gm[k * 2] * t[l] + gm[k * 2 + 1] * t[3 + l]);
    for (int k = 0; k < 3; k++)
        for (int l = 0; l < 3; l++)
            d_c[k * 3 + l] = j[k] * (gm[0] * j[l] + gm[1] * j[3 + l]) +
                             j[3 + k] * (gm[2] * j[l] + gm[3] * j[3 + l]);
    /* J from the camera point; a clamped ratio is constant (t = L z) */
    d_p[2] -= (d_j[0] * cam->fx + d_j[4] * cam->fy) / (p[2] * p[2]);
    if (clamp_x) {
        d_p[2] += d_j[2] * cam->fx * tx / (p[2] * p[2] * p[2]);
    } else {
        d_p[0] -= d_j[2] * cam->fx / (p[2] * p[2]);
        d_p[2] += d_j[2] * 2.0 * cam->fx * tx / (p[2] * p[2] * p[2]);
    }
    if (clamp_y) {
        d_p[2] += d_j[5] * cam->fy * ty / (p[2] * p[2] * p[2]);
    } else {
        d_p[1] -= d_j[5] * cam->fy / (p[2] * p[2]);
        d_p[2] += d_j[5] * 2.0 * cam->fy * ty / (p[2] * p[2] * p[2]);
    }
    /* c = W cov W^T: dL/dcov = W^T dL/dc W */
    for (int k = 0; k < 3; k++)
        for (int l = 0; l < 3; l++)
            tmp[k * 3 + l] = d_c[k * 3] * w[l] + d_c[k * 3 + 1] * w[3 + l] +
                             d_c[k * 3 + 2] * w[6 + l];
    for (int k = 0; k < 3; k++)
        for (int l = 0; l < 3; l++)
            d_cov[k * 3 + l] = w[k] * tmp[l] + w[3 + k] * tmp[3 + l] + w[6 + k] * tmp[6 + l];
    cov3d_backward(scene, i, d_cov, grad);
    /* means: through the camera point and the view direction */
    for (int k = 0; k < 3; k++)
        d_mean[k] = w[k] * d_p[0] + w[3 + k] * d_p[1] + w[6 + k] * d_p[2];
    colour_backward(scene, i, frame->centre, a->rgb, grad, d_mean);
    for (int k = 0; k < 3; k++)
        grad->means[i * 3 + k] += d_mean[k];
}

/* Computes the gradients (splat_oracle_grad.h). */
int splat_oracle_backward(const splat_scene *scene, const splat_camera *cam,
                          const splat_oracle_options *opt, const double *dl_drgb,
                          splat_oracle_grad *grad)
{
    splat_oracle_frame frame;
    splat_oracle_hit *hits;
    splat_adjoint *adj;
    size_t n = scene->count;

    memset(grad->means, 0, n * 3 * sizeof(double));
    memset(grad->scales, 0, n * 3 * sizeof(double));
    memset(grad->rotations, 0, n * 4 * sizeof(double));
    memset(grad->opacity, 0, n * sizeof(double));
    memset(grad->sh, 0, n * scene->sh_coeffs * 3 * sizeof(double));
    if (splat_oracle_frame_build(scene, cam, opt, &frame) != 0)
        return -1;
    hits = malloc((frame.count ? frame.count : 1) * sizeof(*hits));
    adj = calloc(frame.count ? frame.count : 1, sizeof(*adj));
    if (!hits || !adj) {
        free(hits);
        free(adj);
        splat_oracle_frame_free(&frame);
        return -1;
    }
    for (uint32_t i = 0; i < cam->height; i++)
        for (uint32_t j = 0; j < cam->width; j++)
            pixel_backward(&frame, hits, i, j, dl_drgb + ((size_t)i * cam->width + j) * 3, adj);
    for (size_t g = 0; g < frame.count; g++)
        splat_backward(&frame, scene, frame.splats + g, adj + g, grad);
    free(hits);
    free(adj);
    splat_oracle_frame_free(&frame);
    return 0;
}
