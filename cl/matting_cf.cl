/* Closed-form alpha matting (Levin, Lischinski, Weiss) as pymatting's
 * estimate_alpha_cf: solves L_UU x_U = -L_UK fg_K (U the unknown pixels,
 * K the known ones, fixed at their labels) by conjugate
 * gradients preconditioned with an aggregation multigrid whose coarse
 * spaces are the functions affine in colour on square tiles (the local
 * null space of the matting Laplacian).
 *
 * Layouts.  Images are planar float (pixel p = y * width + x; colour
 * channel c at [c * npix + p]).  The solver works on the "active" pixels,
 * the unknown ones; every other pixel keeps its trimap value.  Active pixels are numbered tile by tile
 * (level-1 tiles of CF_T x CF_T pixels in Morton order, pixels in raster
 * order inside a tile); map[p] is the number of active pixel p, or -1.
 * Row i of the matrix is stored as CF_KK floats (coef[i * CF_KK + k],
 * k = (dy + 2R) * CF_K + dx + 2R for the neighbour at (dx, dy)), zero for
 * neighbours outside the image or not active (those are moved to the
 * right-hand side).  The preconditioned residual u lives in an
 * image-sized buffer u_img (zero at inactive pixels) so that a row
 * gathers its neighbours directly.
 *
 * Multigrid levels k = 1..L: a level-k tile covers 2^(k-1) CF_T pixels a
 * side and carries four coefficients (a float4) on the basis
 * phi0 = 1/sqrt(n), phi_c = (I_c - mu_c) / s_c (c = R, G, B) over its n
 * active pixels, with mu the mean colour and s_c = sqrt(S_c + delta n)
 * (S_c the sum of squared deviations).  A tile's parent basis restricted
 * to the tile is R * (tile basis), R given per tile as a float8 (r0, a_c,
 * b_c): child0 = r0 p0 + sum_c a_c p_c, child_c = b_c p_c.  Level
 * matrices are Galerkin products stored per tile as nine 4x4 blocks, one
 * per neighbour slot s = (dy + 1) * 3 + dx + 1 (slot 4 the tile itself).
 * Per-level arrays of every level are packed in one buffer; a level's
 * entries start at its offset (an argument), and tile indices stored in
 * them (neighbours, parents, children) count from that offset.
 *
 * Build options: -DCF_R=<window radius> -DCF_T=<level-1 tile size, at
 * least 2 CF_R>.  Window statistics (mean, Cholesky factor of the
 * covariance) are computed in double where the device has cl_khr_fp64,
 * as pymatting does, else in float; everything else is float.  Reductions
 * run in work-groups of a power-of-two size with a __local scratch
 * argument (cf_coef: CF_T x CF_T, its own scratch), partial sums per
 * group, then one work-group (cf_reduce) sums the partials in a fixed
 * order. */

#ifndef CF_R
#define CF_R 1
#endif
#ifndef CF_T
#define CF_T 4
#endif

#define CF_D (2 * CF_R)             /* reach of a Laplacian row */
#define CF_K (4 * CF_R + 1)         /* row stencil side */
#define CF_KK (CF_K * CF_K)         /* coefficients per row */
#define CF_WS (2 * CF_R + 1)        /* window side */
#define CF_WN (CF_WS * CF_WS)       /* pixels per window */

/* Trimap labels. */
#define LABEL_BG 0
#define LABEL_FG 1
#define LABEL_UNKNOWN 2

/* Pivots of a coarse diagonal block below this fraction of its largest
 * diagonal entry are dropped (directions the tile's basis barely spans,
 * as on tiles with few unknown pixels; keeping them makes the smoother
 * diverge and the preconditioner indefinite). */
#define CF_PIVOT 1e-3f

/* Regulariser of the coarse basis scales (colours in [0,1]). */
#define CF_BASIS_DELTA 1e-4f

/* Scalars of the solver (a float buffer shared by the CG kernels). */
#define S_RZ 0       /* gamma = r . u of the current iteration */
#define S_ALPHA 1    /* step length */
#define S_BETA 2     /* direction update factor */
#define S_RR 3       /* r . r of the current residual */
#define S_BB 4       /* b . b of the reduced right-hand side */
#define S_BREAK 5    /* nonzero after a breakdown (non-positive curvature) */

/* Modes of cf_reduce. */
#define REDUCE_NORMS 0       /* (b.b, r.r) of the initial residual */
#define REDUCE_FIRST 1       /* gamma, delta -> alpha, beta = 0 */
#define REDUCE_NEXT 2        /* gamma, delta -> alpha, beta */

#if defined(cl_khr_fp64)
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double real_t;
typedef double3 real_t3;
#else
typedef float real_t;
typedef float3 real_t3;
#endif

/* Returns the label of trimap value t: foreground at >= 0.9, background
 * at <= 0.1, unknown otherwise (NaN included). */
int cf_label(float t)
{
    if (t >= 0.9f)
        return LABEL_FG;
    if (t <= 0.1f)
        return LABEL_BG;
    return LABEL_UNKNOWN;
}

/* Sums v over the work-group (power-of-two size) through `scratch` and
 * returns the sum to every work-item; fixed order, so deterministic. */
float2 cf_group_sum(__local float2 *scratch, float2 v)
{
    uint lid = get_local_id(0), size = get_local_size(0);

    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint stride = size / 2; stride > 0; stride /= 2) {
        if (lid < stride)
            scratch[lid] += scratch[lid + stride];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    v = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return v;
}

/* Writes a work-group's sum of v to partials[group] (one float2 per
 * group). */
void cf_group_store(__local float2 *scratch, __global float2 *partials, float2 v)
{
    v = cf_group_sum(scratch, v);
    if (get_local_id(0) == 0)
        partials[get_group_id(0)] = v;
}

/* Returns the product of the row-major 4x4 block m and v. */
float4 cf_block_mul(__global const float *m, float4 v)
{
    return (float4)(dot(vload4(0, m), v), dot(vload4(1, m), v),
                    dot(vload4(2, m), v), dot(vload4(3, m), v));
}

/* Returns R v: the tile coefficients of the parent function v. */
float4 cf_prolong(float8 r, float4 v)
{
    return (float4)(r.s0 * v.x + r.s1 * v.y + r.s2 * v.z + r.s3 * v.w,
                    r.s4 * v.y, r.s5 * v.z, r.s6 * v.w);
}

/* Returns R^T v: the parent coefficients of tile coefficients v. */
float4 cf_restrict(float8 r, float4 v)
{
    return (float4)(r.s0 * v.x, r.s1 * v.x + r.s4 * v.y,
                    r.s2 * v.x + r.s5 * v.z, r.s3 * v.x + r.s6 * v.w);
}

/* Returns the basis values of a tile with statistics st (n, mu, s) at a
 * pixel of colour col. */
float4 cf_basis(float8 st, float3 col)
{
    return (float4)(rsqrt(st.s0), (col.x - st.s1) / st.s4,
                    (col.y - st.s2) / st.s5, (col.z - st.s3) / st.s6);
}

/* Returns the colour of pixel p of a planar image of npix pixels. */
float3 cf_colour(__global const float *image, uint npix, uint p)
{
    return (float3)(image[p], image[npix + p], image[2 * (size_t)npix + p]);
}

/* Returns the coefficients of the tile-space 4x4 product A = R1^T B R2 in
 * `out` (row-major), B a __global row-major block. */
void cf_triple(float8 r1, __global const float *b, float8 r2, float *out)
{
    float m[16];

    /* m = B R2: column j of R2 applied to each row of B. */
    for (int row = 0; row < 4; row++) {
        float4 br = vload4(row, b);
        m[row * 4 + 0] = br.x * r2.s0;
        m[row * 4 + 1] = br.x * r2.s1 + br.y * r2.s4;
        m[row * 4 + 2] = br.x * r2.s2 + br.z * r2.s5;
        m[row * 4 + 3] = br.x * r2.s3 + br.w * r2.s6;
    }
    /* out = R1^T m: row 0 of R1^T is (r0, 0, 0, 0), row c is (a_c, b_c at c). */
    for (int col = 0; col < 4; col++) {
        out[0 * 4 + col] += r1.s0 * m[col];
        out[1 * 4 + col] += r1.s1 * m[col] + r1.s4 * m[4 + col];
        out[2 * 4 + col] += r1.s2 * m[col] + r1.s5 * m[8 + col];
        out[3 * 4 + col] += r1.s3 * m[col] + r1.s6 * m[12 + col];
    }
}

/* ---- active set ---- */

/* Flags and counts the active (unknown) pixels per grid tile of CF_T x
 * CF_T pixels: map[p] = 0 for unknown pixels (the number is set by
 * cf_scatter) and -1 otherwise; counts[tile] = unknown pixels.  One
 * work-item per grid tile (grid_w x grid_h). */
__kernel void cf_tile_flags(__global const float *trimap, __global int *map,
                            __global uint *counts, uint width, uint height, uint grid_w,
                            uint grid_h)
{
    uint t = get_global_id(0);
    uint tx, ty, unknown = 0;

    if (t >= grid_w * grid_h)
        return;
    tx = t % grid_w;
    ty = t / grid_w;
    for (uint y = ty * CF_T; y < min(ty * CF_T + CF_T, height); y++) {
        for (uint x = tx * CF_T; x < min(tx * CF_T + CF_T, width); x++) {
            size_t p = (size_t)y * width + x;
            int on = cf_label(trimap[p]) == LABEL_UNKNOWN;
            map[p] = on ? 0 : -1;
            unknown += on ? 1u : 0u;
        }
    }
    counts[t] = unknown;
}

/* Numbers the active pixels of each active level-1 tile: tiles[t] = (tx,
 * ty, first, count); pixels get first, first + 1, ... in raster order
 * inside the tile (map[p] and act_pix[i] = p).  One work-item per tile. */
__kernel void cf_scatter(__global int *map, __global uint *act_pix,
                         __global const uint4 *tiles, uint ntiles, uint width,
                         uint height)
{
    uint t = get_global_id(0);
    uint4 tile;
    uint idx;

    if (t >= ntiles)
        return;
    tile = tiles[t];
    idx = tile.z;
    for (uint y = tile.y * CF_T; y < min(tile.y * CF_T + CF_T, height); y++) {
        for (uint x = tile.x * CF_T; x < min(tile.x * CF_T + CF_T, width); x++) {
            size_t p = (size_t)y * width + x;
            if (map[p] >= 0) {
                map[p] = (int)idx;
                act_pix[idx] = (uint)p;
                idx++;
            }
        }
    }
}

/* ---- the matrix ---- */

#define CF_CW (CF_T + 4 * CF_R)     /* side of a tile's colour patch */
#define CF_WW (CF_T + 2 * CF_R)     /* side of a tile's window centres */

/* At radius 1 the whitened colours u = F^-1 c of every window's pixels fit
 * in local memory (CF_WW^2 windows of CF_WN pixels) and are computed once
 * per window; larger radii recompute them per use from the factor. */
#if CF_R == 1
#define CF_UTABLE 1
#endif

/* Returns the whitened colour F^-1 (col - mean) of one pixel for window
 * factor w (mean, f00, f10, f20, f11, f21, f22 with the diagonal stored as
 * reciprocals). */
real_t3 cf_whiten(__local const real_t *w, __local const real_t *col)
{
    real_t3 u;
    u.x = (col[0] - w[0]) * w[3];
    u.y = (col[1] - w[1] - w[4] * u.x) * w[6];
    u.z = (col[2] - w[2] - w[5] * u.x - w[7] * u.y) * w[8];
    return u;
}

/* Builds the rows of L restricted to the unknown pixels of one level-1
 * tile per work-group (CF_T x CF_T work-items, one per tile pixel),
 * exactly as pymatting's cf_laplacian: every window of CF_WS x CF_WS
 * pixels centred at an interior pixel (CF_R <= cx < width - CF_R, same
 * for y) that holds pixel i adds, for each pixel j of the window,
 * delta_ij - (1 + c_i^T M c_j) / |w| with c the window-centred colours and
 * M = ((eps I + sum c c^T) / |w|)^-1.  Computed as
 * c_i^T M c_j = |w| u_i . u_j with u = F^-1 c, F F^T = eps I + sum c c^T
 * (Cholesky); the tile's colours and window factors are shared in local
 * memory.  As pymatting 1.1.15 does, known pixels are fixed (hard
 * constraints): the system is L_UU x = -L_UK fg_K.  Writes each row (zero
 * where the neighbour is outside the image or known), 1 / A_ii, the start
 * x_i = 0 (pymatting's) and the initial residual r_i = b_i =
 * -sum over known j of A_ij fg_j; partials[t] gets the tile's (b.b, r.r). */
__kernel __attribute__((reqd_work_group_size(CF_T * CF_T, 1, 1)))
void cf_coef(__global const float *image, __global const float *trimap,
             __global const int *map, __global const uint4 *tiles,
             __global float *coef, __global float *inv_diag, __global float *x,
             __global float *r, __global float2 *partials, uint width, uint height,
             float eps)
{
    __local real_t col[CF_CW * CF_CW][3];
    __local real_t win[CF_WW * CF_WW][9];   /* mean, F with reciprocal diagonal */
#ifdef CF_UTABLE
    __local real_t ut[CF_WW * CF_WW][CF_WN][3];
#endif
    __local float2 scratch[CF_T * CF_T];
    uint lid = get_local_id(0), npix = width * height;
    uint4 tile = tiles[get_group_id(0)];
    int x0 = (int)tile.x * CF_T - CF_D, y0 = (int)tile.y * CF_T - CF_D;
    int px = (int)tile.x * CF_T + (int)(lid % CF_T), py = (int)tile.y * CF_T + (int)(lid / CF_T);
    float2 sums = (float2)(0.0f, 0.0f);

    for (uint k = lid; k < CF_CW * CF_CW; k += CF_T * CF_T) {
        int gx = x0 + (int)(k % CF_CW), gy = y0 + (int)(k / CF_CW);
        int in = gx >= 0 && gy >= 0 && gx < (int)width && gy < (int)height;
        for (int c = 0; c < 3; c++)
            col[k][c] = in ? (real_t)image[(size_t)c * npix + (size_t)gy * width + (size_t)gx] : 0;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint k = lid; k < CF_WW * CF_WW; k += CF_T * CF_T) {
        int cx = x0 + CF_R + (int)(k % CF_WW), cy = y0 + CF_R + (int)(k / CF_WW);
        int q0 = (cy - y0 - CF_R) * CF_CW + (cx - x0 - CF_R);
        real_t mean[3] = { 0, 0, 0 }, a[6] = { 0, 0, 0, 0, 0, 0 }, f00, f11, f22;
        if (cx < CF_R || cy < CF_R || cx >= (int)width - CF_R || cy >= (int)height - CF_R) {
            win[k][3] = 0;   /* not a window centre */
            continue;
        }
        for (int w = 0; w < CF_WN; w++) {
            int q = q0 + (w / CF_WS) * CF_CW + w % CF_WS;
            for (int c = 0; c < 3; c++)
                mean[c] += col[q][c];
        }
        for (int c = 0; c < 3; c++)
            mean[c] /= (real_t)CF_WN;
        for (int w = 0; w < CF_WN; w++) {
            int q = q0 + (w / CF_WS) * CF_CW + w % CF_WS;
            real_t d0 = col[q][0] - mean[0], d1 = col[q][1] - mean[1], d2 = col[q][2] - mean[2];
            a[0] += d0 * d0;
            a[1] += d0 * d1;
            a[2] += d0 * d2;
            a[3] += d1 * d1;
            a[4] += d1 * d2;
            a[5] += d2 * d2;
        }
        a[0] += (real_t)eps;
        a[3] += (real_t)eps;
        a[5] += (real_t)eps;
        win[k][0] = mean[0];
        win[k][1] = mean[1];
        win[k][2] = mean[2];
        f00 = sqrt(a[0]);
        win[k][4] = a[1] / f00;
        win[k][5] = a[2] / f00;
        f11 = sqrt(fmax(a[3] - win[k][4] * win[k][4], (real_t)eps));
        win[k][7] = (a[4] - win[k][5] * win[k][4]) / f11;
        f22 = sqrt(fmax(a[5] - win[k][5] * win[k][5] - win[k][7] * win[k][7], (real_t)eps));
        win[k][3] = 1 / f00;
        win[k][6] = 1 / f11;
        win[k][8] = 1 / f22;
#ifdef CF_UTABLE
        for (int w = 0; w < CF_WN; w++) {
            real_t3 u = cf_whiten(win[k], col[q0 + (w / CF_WS) * CF_CW + w % CF_WS]);
            ut[k][w][0] = u.x;
            ut[k][w][1] = u.y;
            ut[k][w][2] = u.z;
        }
#endif
    }
    barrier(CLK_LOCAL_MEM_FENCE);

    if (px < (int)width && py < (int)height && map[(size_t)py * width + (size_t)px] >= 0) {
        size_t pix = (size_t)py * width + (size_t)px;
        uint i = (uint)map[pix];
        real_t acc[CF_KK];
        real_t b = 0, diag;

        for (int k = 0; k < CF_KK; k++)
            acc[k] = 0;
        for (int wy = -CF_R; wy <= CF_R; wy++) {
            for (int wx = -CF_R; wx <= CF_R; wx++) {
                int k = (py + wy - y0 - CF_R) * CF_WW + (px + wx - x0 - CF_R);
                /* the window (centre at offset (wx, wy) from pixel i) starts
                 * at row slot `base`; i is its pixel `mine` */
                int mine = (CF_R - wy) * CF_WS + CF_R - wx;
                int base = (CF_D + wy - CF_R) * CF_K + CF_D + wx - CF_R;
                real_t3 ui;
                if (win[k][3] == 0)
                    continue;
#ifdef CF_UTABLE
                ui = (real_t3)(ut[k][mine][0], ut[k][mine][1], ut[k][mine][2]);
#else
                ui = cf_whiten(win[k], col[(py - y0) * CF_CW + (px - x0)]);
#endif
                for (int w = 0; w < CF_WN; w++) {
#ifdef CF_UTABLE
                    real_t3 uj = (real_t3)(ut[k][w][0], ut[k][w][1], ut[k][w][2]);
#else
                    int q = (py - y0 + wy - CF_R + w / CF_WS) * CF_CW +
                            (px - x0 + wx - CF_R + w % CF_WS);
                    real_t3 uj = cf_whiten(win[k], col[q]);
#endif
                    acc[base + (w / CF_WS) * CF_K + w % CF_WS] +=
                        (w == mine ? (real_t)1 : (real_t)0) - (real_t)1 / (real_t)CF_WN -
                        dot(ui, uj);
                }
            }
        }
        for (int dy = -CF_D; dy <= CF_D; dy++) {
            for (int dx = -CF_D; dx <= CF_D; dx++) {
                int k = (dy + CF_D) * CF_K + dx + CF_D;
                int qx = px + dx, qy = py + dy;
                size_t q;
                if (qx < 0 || qy < 0 || qx >= (int)width || qy >= (int)height) {
                    acc[k] = 0;
                    continue;
                }
                q = (size_t)qy * width + (size_t)qx;
                if (map[q] < 0) {
                    if (cf_label(trimap[q]) == LABEL_FG)
                        b -= acc[k];
                    acc[k] = 0;
                }
            }
        }
        diag = acc[CF_D * CF_K + CF_D];
        for (int k = 0; k < CF_KK; k++)
            coef[(size_t)i * CF_KK + k] = (float)acc[k];
        inv_diag[i] = diag > 0 ? (float)(1 / diag) : 0.0f;
        x[i] = 0.0f;
        r[i] = (float)b;
        sums = (float2)((float)(b * b), (float)(b * b));
    }
    cf_group_store(scratch, partials, sums);
}

/* ---- multigrid setup ---- */

/* Statistics of each level-1 tile (n, mu, s) over its active pixels, as
 * stats[t] = (n, mu_r, mu_g, mu_b, s_r, s_g, s_b, 0).  One work-item per
 * tile. */
__kernel void cf_stats_tiles(__global const float *image, __global const uint *act_pix,
                             __global const uint4 *tiles, __global float8 *stats,
                             uint ntiles, uint npix)
{
    uint t = get_global_id(0);
    float3 mean = (float3)(0.0f), ss = (float3)(0.0f);
    float n;
    uint4 tile;

    if (t >= ntiles)
        return;
    tile = tiles[t];
    n = (float)tile.w;
    for (uint i = tile.z; i < tile.z + tile.w; i++)
        mean += cf_colour(image, npix, act_pix[i]);
    mean /= n;
    for (uint i = tile.z; i < tile.z + tile.w; i++) {
        float3 d = cf_colour(image, npix, act_pix[i]) - mean;
        ss += d * d;
    }
    ss = sqrt(ss + CF_BASIS_DELTA * n);
    stats[t] = (float8)(n, mean.x, mean.y, mean.z, ss.x, ss.y, ss.z, 0.0f);
}

/* Statistics of each tile of a coarser level from its children (Chan's
 * pairwise combination), and each child's R (its parent's basis in the
 * child's basis).  children[off + t] = (first, count) index the child
 * level (offset child_off).  One work-item per tile. */
__kernel void cf_stats_parents(__global float8 *stats, __global float8 *rmat,
                               __global const uint2 *children, uint child_off,
                               uint off, uint ntiles)
{
    uint t = get_global_id(0);
    float n = 0.0f;
    float3 mean = (float3)(0.0f), ss = (float3)(0.0f), s;
    uint2 ch;

    if (t >= ntiles)
        return;
    ch = children[off + t];
    for (uint c = ch.x; c < ch.x + ch.y; c++) {
        float8 cs = stats[child_off + c];
        n += cs.s0;
        mean += cs.s0 * (float3)(cs.s1, cs.s2, cs.s3);
    }
    mean /= n;
    for (uint c = ch.x; c < ch.x + ch.y; c++) {
        float8 cs = stats[child_off + c];
        float3 cs_s = (float3)(cs.s4, cs.s5, cs.s6);
        float3 dm = (float3)(cs.s1, cs.s2, cs.s3) - mean;
        ss += fmax(cs_s * cs_s - CF_BASIS_DELTA * cs.s0, 0.0f) + cs.s0 * dm * dm;
    }
    s = sqrt(ss + CF_BASIS_DELTA * n);
    stats[off + t] = (float8)(n, mean.x, mean.y, mean.z, s.x, s.y, s.z, 0.0f);
    for (uint c = ch.x; c < ch.x + ch.y; c++) {
        float8 cs = stats[child_off + c];
        float3 dm = (float3)(cs.s1, cs.s2, cs.s3) - mean;
        float sq = sqrt(cs.s0);
        rmat[child_off + c] = (float8)(sqrt(cs.s0 / n), dm.x * sq / s.x, dm.y * sq / s.y,
                                       dm.z * sq / s.z, cs.s4 / s.x, cs.s5 / s.y,
                                       cs.s6 / s.z, 0.0f);
    }
}

/* Basis values of every active pixel: phi[i] = cf_basis(stats of its
 * level-1 tile, colour of i).  One work-item per level-1 tile. */
__kernel void cf_phi(__global const float *image, __global const uint *act_pix,
                     __global const uint4 *tiles, __global const float8 *stats,
                     __global float4 *phi, uint ntiles, uint npix)
{
    uint t = get_global_id(0);
    uint4 tile;
    float8 st;

    if (t >= ntiles)
        return;
    tile = tiles[t];
    st = stats[t];
    for (uint i = tile.z; i < tile.z + tile.w; i++)
        phi[i] = cf_basis(st, cf_colour(image, npix, act_pix[i]));
}

/* Level-1 Galerkin blocks: a1[(t * 9 + s) * 16 + a * 4 + b] =
 * sum over active i in tile t and active j in its neighbour tile of slot s
 * of phi_a(i) A_ij phi_b(j).  nbr[t * 9 + s] is the neighbour tile or -1.
 * One work-item per (tile, slot). */
__kernel void cf_galerkin_tiles(__global const float *coef, __global const uint *act_pix,
                                __global const int *map, __global const uint4 *tiles,
                                __global const int *nbr, __global const float4 *phi,
                                __global float *a1, uint ntiles, uint width, uint height)
{
    uint g = get_global_id(0);
    uint t, s;
    int sx, sy;
    float acc[16];
    uint4 tile;

    if (g >= ntiles * 9)
        return;
    t = g / 9;
    s = g % 9;
    for (int k = 0; k < 16; k++)
        acc[k] = 0.0f;
    if (nbr[g] >= 0) {
        tile = tiles[t];
        sx = (int)tile.x + (int)(s % 3) - 1;
        sy = (int)tile.y + (int)(s / 3) - 1;
        for (uint i = tile.z; i < tile.z + tile.w; i++) {
            uint pix = act_pix[i];
            int px = (int)(pix % width), py = (int)(pix / width);
            float4 fi = phi[i];
            __global const float *row = coef + (size_t)i * CF_KK;
            for (int dy = -CF_D; dy <= CF_D; dy++) {
                int qy = py + dy;
                if (qy < 0 || qy >= (int)height || qy / CF_T != sy)
                    continue;
                for (int dx = -CF_D; dx <= CF_D; dx++) {
                    int qx = px + dx;
                    float v = row[(dy + CF_D) * CF_K + dx + CF_D];
                    float4 fj, w;
                    if (qx < 0 || qx >= (int)width || qx / CF_T != sx || v == 0.0f)
                        continue;
                    fj = phi[map[(size_t)qy * width + (size_t)qx]];
                    w = fi * v;
                    acc[0] += w.x * fj.x; acc[1] += w.x * fj.y; acc[2] += w.x * fj.z; acc[3] += w.x * fj.w;
                    acc[4] += w.y * fj.x; acc[5] += w.y * fj.y; acc[6] += w.y * fj.z; acc[7] += w.y * fj.w;
                    acc[8] += w.z * fj.x; acc[9] += w.z * fj.y; acc[10] += w.z * fj.z; acc[11] += w.z * fj.w;
                    acc[12] += w.w * fj.x; acc[13] += w.w * fj.y; acc[14] += w.w * fj.z; acc[15] += w.w * fj.w;
                }
            }
        }
    }
    for (int k = 0; k < 16; k++)
        a1[(size_t)g * 16 + k] = acc[k];
}

/* Galerkin blocks of a coarser level (offset off) from the finer one
 * (offset child_off): block (T, s) = sum over children t of T and their
 * neighbours t' whose parent is T's neighbour of slot s of
 * R_t^T A(t, t') R_t'.  One work-item per (tile, slot). */
__kernel void cf_galerkin_parents(__global float *a, __global const float8 *rmat,
                                  __global const int *nbr, __global const uint *parent,
                                  __global const uint2 *children, uint child_off,
                                  uint off, uint ntiles)
{
    uint g = get_global_id(0);
    uint t;
    int other;
    float acc[16];

    if (g >= ntiles * 9)
        return;
    t = g / 9;
    for (int k = 0; k < 16; k++)
        acc[k] = 0.0f;
    other = nbr[(size_t)off * 9 + g];
    if (other >= 0) {
        uint2 ch = children[off + t];
        for (uint c = ch.x; c < ch.x + ch.y; c++) {
            float8 rc = rmat[child_off + c];
            for (uint s2 = 0; s2 < 9; s2++) {
                int cn = nbr[((size_t)child_off + c) * 9 + s2];
                if (cn < 0 || parent[child_off + (uint)cn] != (uint)other)
                    continue;
                cf_triple(rc, a + (((size_t)child_off + c) * 9 + s2) * 16,
                          rmat[child_off + (uint)cn], acc);
            }
        }
    }
    for (int k = 0; k < 16; k++)
        a[((size_t)off * 9 + g) * 16 + k] = acc[k];
}

/* Inverts each tile's diagonal block (slot 4) of level `off` into
 * binv[(off + t) * 16]: LDL^T of the symmetrised block, pivots below
 * CF_PIVOT of the largest diagonal dropped (a generalised inverse that
 * ignores directions the basis does not span).  One work-item per tile. */
__kernel void cf_block_inverse(__global const float *a, __global float *binv,
                               uint off, uint ntiles)
{
    uint t = get_global_id(0);
    __global const float *m;
    float l[4][4], d[4], li[4][4], dmax = 0.0f;

    if (t >= ntiles)
        return;
    m = a + (((size_t)off + t) * 9 + 4) * 16;
    for (int i = 0; i < 4; i++)
        dmax = fmax(dmax, m[i * 5]);
    for (int j = 0; j < 4; j++) {
        float v = m[j * 5];
        for (int k = 0; k < j; k++)
            v -= l[j][k] * l[j][k] * d[k];
        d[j] = v > CF_PIVOT * dmax ? v : 0.0f;
        for (int i = j + 1; i < 4; i++) {
            float w = 0.5f * (m[i * 4 + j] + m[j * 4 + i]);
            for (int k = 0; k < j; k++)
                w -= l[i][k] * l[j][k] * d[k];
            l[i][j] = d[j] > 0.0f ? w / d[j] : 0.0f;
        }
        l[j][j] = 1.0f;
        for (int i = 0; i < j; i++)
            l[i][j] = 0.0f;
    }
    /* li = L^-1 (unit lower triangular). */
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 4; j++) {
            float v = i == j ? 1.0f : 0.0f;
            for (int k = j; k < i; k++)
                v -= l[i][k] * li[k][j];
            li[i][j] = i < j ? 0.0f : v;
        }
    }
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 4; j++) {
            float v = 0.0f;
            for (int k = 0; k < 4; k++)
                if (d[k] > 0.0f)
                    v += li[k][i] * li[k][j] / d[k];
            binv[((size_t)off + t) * 16 + i * 4 + j] = v;
        }
    }
}

/* ---- conjugate gradients ----
 *
 * Chronopoulos and Gear's single-reduction form of preconditioned CG:
 * per iteration u = M r, w = A u, gamma = r.u and delta = w.u (one
 * reduction), beta = gamma / gamma_old, alpha = gamma / (delta -
 * beta gamma / alpha_old), then p = u + beta p, s = w + beta s,
 * x += alpha p, r -= alpha s.  u lives in the image-sized u_img so that
 * rows gather their neighbours directly. */

/* w = A u for the rows of one level-1 tile per work-item (u gathered from
 * u_img; a tile's rows are contiguous), with per-group partials of
 * (w . u, 0) from partials[part_off] on. */
__kernel void cf_spmv(__global const float *coef, __global const uint *act_pix,
                      __global const uint4 *tiles, __global const float *u_img,
                      __global float *w, __global float2 *partials, uint part_off,
                      __local float2 *scratch, uint ntiles, uint width, uint height)
{
    uint t = get_global_id(0);
    float wu = 0.0f;

    if (t < ntiles) {
        uint4 tile = tiles[t];
        int inside_x = tile.x * CF_T >= CF_D && tile.x * CF_T + CF_T + CF_D <= width;
        int interior = inside_x && tile.y * CF_T >= CF_D &&
                       tile.y * CF_T + CF_T + CF_D <= height;
        for (uint i = tile.z; i < tile.z + tile.w; i++) {
            uint pix = act_pix[i];
            __global const float *row = coef + (size_t)i * CF_KK;
            float acc = 0.0f;
            if (interior) {
                /* A stencil line is CF_K = 4 CF_R + 1 values: CF_R float4
                 * chunks and one more. */
                __global const float *base = u_img + (pix - CF_D * width - CF_D);
                float4 acc4 = (float4)(0.0f);
#pragma unroll
                for (int dy = 0; dy < CF_K; dy++) {
                    __global const float *c = row + dy * CF_K;
                    __global const float *b = base + (size_t)dy * width;
#pragma unroll
                    for (int m = 0; m < CF_R; m++)
                        acc4 = fma(vload4(m, c), vload4(m, b), acc4);
                    acc = fma(c[4 * CF_R], b[4 * CF_R], acc);
                }
                acc += (acc4.x + acc4.y) + (acc4.z + acc4.w);
            } else if (inside_x) {
                /* Near the top or bottom border only: every stencil line
                 * lies within its image row; a line outside the image has
                 * zero coefficients and reads a clamped row instead. */
                int px = (int)(pix % width), py = (int)(pix / width);
                float4 acc4 = (float4)(0.0f);
#pragma unroll
                for (int dy = 0; dy < CF_K; dy++) {
                    __global const float *c = row + dy * CF_K;
                    __global const float *b =
                        u_img + (size_t)clamp(py + dy - CF_D, 0, (int)height - 1) * width +
                        (px - CF_D);
#pragma unroll
                    for (int m = 0; m < CF_R; m++)
                        acc4 = fma(vload4(m, c), vload4(m, b), acc4);
                    acc = fma(c[4 * CF_R], b[4 * CF_R], acc);
                }
                acc += (acc4.x + acc4.y) + (acc4.z + acc4.w);
            } else {
                /* Near the border: neighbours outside have zero
                 * coefficients; clamped addresses keep the reads inside. */
                int px = (int)(pix % width), py = (int)(pix / width);
                for (int dy = -CF_D; dy <= CF_D; dy++) {
                    __global const float *line =
                        u_img + (size_t)clamp(py + dy, 0, (int)height - 1) * width;
                    __global const float *c = row + (dy + CF_D) * CF_K + CF_D;
                    for (int dx = -CF_D; dx <= CF_D; dx++)
                        acc += c[dx] * line[clamp(px + dx, 0, (int)width - 1)];
                }
            }
            w[i] = acc;
            wu += acc * u_img[pix];
        }
    }
    cf_group_store(scratch, partials + part_off, (float2)(wu, 0.0f));
}

/* Sums partials (one work-group): the first `count` float2 hold (a, b)
 * pairs, the `count2` after them (c, 0) pairs; updates the scalars as
 * `mode` says.  REDUCE_NORMS: (b.b, r.r) of the start.  REDUCE_FIRST and
 * REDUCE_NEXT: (gamma, r.r) and delta, giving alpha and beta.  A
 * non-positive curvature or a non-finite sum sets S_BREAK, after which
 * alpha and beta stay 0. */
__kernel void cf_reduce(__global const float2 *partials, uint count, uint count2,
                        __global float *scalars, int mode, __local float2 *scratch)
{
    uint lid = get_local_id(0), size = get_local_size(0);
    float2 v = (float2)(0.0f, 0.0f);
    float delta = 0.0f, gamma, alpha = 0.0f, beta = 0.0f;
    int ok;

    for (uint k = lid; k < count; k += size)
        v += partials[k];
    for (uint k = lid; k < count2; k += size)
        delta += partials[count + k].x;
    v = cf_group_sum(scratch, v);
    delta = cf_group_sum(scratch, (float2)(delta, 0.0f)).x;
    if (lid != 0)
        return;
    if (mode == REDUCE_NORMS) {
        scalars[S_BB] = v.x;
        scalars[S_RR] = v.y;
        scalars[S_BREAK] = 0.0f;
        return;
    }
    gamma = v.x;
    ok = scalars[S_BREAK] == 0.0f && gamma >= 0.0f && isfinite(gamma) && isfinite(v.y) &&
         isfinite(delta);
    if (ok && gamma > 0.0f) {
        float den = delta;
        if (mode == REDUCE_NEXT) {
            ok = scalars[S_RZ] > 0.0f && scalars[S_ALPHA] > 0.0f;
            beta = ok ? gamma / scalars[S_RZ] : 0.0f;
            den = ok ? delta - beta * gamma / scalars[S_ALPHA] : 0.0f;
        }
        ok = ok && den > 0.0f && isfinite(den);
        alpha = ok ? gamma / den : 0.0f;
        beta = ok ? beta : 0.0f;
    }
    scalars[S_ALPHA] = alpha;
    scalars[S_BETA] = beta;
    scalars[S_RZ] = gamma;
    scalars[S_RR] = v.y;
    if (!ok)
        scalars[S_BREAK] = 1.0f;
}

/* Per level-1 tile: when update is nonzero, p = u + beta p,
 * s = w + beta s, x += alpha p, r -= alpha s over the tile's pixels (p
 * and s not read when beta is 0); then, when mg is nonzero, the tile's
 * restricted residual rv[t] = sum phi(i) r_i and its smoothed correction
 * zv[t] = wgt Binv rv[t].  One work-item per level-1 tile. */
__kernel void cf_update(__global const uint *act_pix, __global const uint4 *tiles,
                        __global const float4 *phi, __global const float *u_img,
                        __global const float *w, __global float *x, __global float *r,
                        __global float *p, __global float *s, __global float4 *rv,
                        __global float4 *zv, __global const float *binv,
                        __global const float *scalars, uint ntiles, int update, int mg,
                        float wgt)
{
    uint t = get_global_id(0);
    float alpha = update ? scalars[S_ALPHA] : 0.0f, beta = update ? scalars[S_BETA] : 0.0f;
    float4 acc = (float4)(0.0f);
    uint4 tile;

    if (t >= ntiles)
        return;
    tile = tiles[t];
    for (uint i = tile.z; i < tile.z + tile.w; i++) {
        float ri = r[i];
        if (update) {
            float pi = u_img[act_pix[i]], si = w[i];
            if (beta != 0.0f) {
                pi += beta * p[i];
                si += beta * s[i];
            }
            p[i] = pi;
            s[i] = si;
            x[i] += alpha * pi;
            ri -= alpha * si;
            r[i] = ri;
        }
        if (mg)
            acc += ri * phi[i];
    }
    if (mg) {
        rv[t] = acc;
        zv[t] = wgt * cf_block_mul(binv + (size_t)t * 16, acc);
    }
}

/* Down-step for coarser tile t (offset off): the residuals r - A z of its
 * children (finer level, offset child_off) restricted by R^T and summed
 * into rv[off + t], and zv[off + t] = w Binv rv. */
void cf_down_tile(__global const float *a, __global const float *binv,
                  __global const float8 *rmat, __global const int *nbr,
                  __global const uint2 *children, __global float4 *rv,
                  __global float4 *zv, uint child_off, uint off, uint t, float w)
{
    float4 acc = (float4)(0.0f);
    uint2 ch = children[off + t];

    for (uint c = ch.x; c < ch.x + ch.y; c++) {
        size_t cc = (size_t)child_off + c;
        float4 res = rv[cc];
        for (uint s = 0; s < 9; s++) {
            int nb = nbr[cc * 9 + s];
            if (nb >= 0)
                res -= cf_block_mul(a + (cc * 9 + s) * 16, zv[child_off + (uint)nb]);
        }
        acc += cf_restrict(rmat[cc], res);
    }
    rv[off + t] = acc;
    zv[off + t] = w * cf_block_mul(binv + ((size_t)off + t) * 16, acc);
}

/* Up-step for tile t of a level (offset off): its correction, with the
 * coarser level's final correction zc[coarse_off + parent] prolonged by R
 * and scaled by `over`, smoothed once more: z' = z + over R zc,
 * zout = z' + w Binv (r - A z') (the neighbours' z' formed on the fly). */
void cf_up_tile(__global const float *a, __global const float *binv,
                __global const float8 *rmat, __global const int *nbr,
                __global const uint *parent, __global const float4 *rv,
                __global const float4 *zv, __global const float4 *zc,
                __global float4 *zout, uint off, uint coarse_off, uint t,
                float over, float w)
{
    size_t tt = (size_t)off + t;
    float4 zt = zv[tt] + over * cf_prolong(rmat[tt], zc[coarse_off + parent[tt]]);
    float4 res = rv[tt];

    for (uint s = 0; s < 9; s++) {
        int nb = nbr[tt * 9 + s];
        size_t nn;
        if (nb < 0)
            continue;
        nn = (size_t)off + (uint)nb;
        res -= cf_block_mul(a + (tt * 9 + s) * 16,
                            zv[nn] + over * cf_prolong(rmat[nn], zc[coarse_off + parent[nn]]));
    }
    zout[tt] = zt + w * cf_block_mul(binv + tt * 16, res);
}

/* Descends one level (cf_down_tile for each of the ntiles tiles of the
 * coarser level).  One work-item per coarser tile. */
__kernel void cf_down(__global const float *a, __global const float *binv,
                      __global const float8 *rmat, __global const int *nbr,
                      __global const uint2 *children, __global float4 *rv,
                      __global float4 *zv, uint child_off, uint off, uint ntiles,
                      float w)
{
    uint t = get_global_id(0);

    if (t < ntiles)
        cf_down_tile(a, binv, rmat, nbr, children, rv, zv, child_off, off, t, w);
}

/* Ascends to one level (cf_up_tile for each of its ntiles tiles).  One
 * work-item per tile. */
__kernel void cf_up(__global const float *a, __global const float *binv,
                    __global const float8 *rmat, __global const int *nbr,
                    __global const uint *parent, __global const float4 *rv,
                    __global const float4 *zv, __global const float4 *zc,
                    __global float4 *zout, uint off, uint coarse_off, uint ntiles,
                    float over, float w)
{
    uint t = get_global_id(0);

    if (t < ntiles)
        cf_up_tile(a, binv, rmat, nbr, parent, rv, zv, zc, zout, off, coarse_off, t,
                   over, w);
}

/* The fine level of the preconditioner for the pixels of level-1 tile t
 * with its correction c: u_i = wgt r_i / A_ii + phi(i) . c into u_img;
 * returns the tile's (r . u, r . r). */
float2 cf_fine_tile(__global const uint *act_pix, uint4 tile, __global const float4 *phi,
                    __global const float *r, __global const float *inv_diag, float4 c,
                    __global float *u_img, float wgt)
{
    float2 sums = (float2)(0.0f, 0.0f);

    for (uint i = tile.z; i < tile.z + tile.w; i++) {
        float ri = r[i];
        float ui = wgt * ri * inv_diag[i] + dot(phi[i], c);
        u_img[act_pix[i]] = ui;
        sums += (float2)(ri * ui, ri * ri);
    }
    return sums;
}

/* The last up-step (to level 1, offset 0) fused with the fine level: for
 * level-1 tile t, cf_up_tile's correction, then cf_fine_tile with it, and
 * per-group partials of (r . u, r . r).  One work-item per level-1 tile,
 * work-groups of the reduction size. */
__kernel void cf_up_fine(__global const float *a, __global const float *binv,
                         __global const float8 *rmat, __global const int *nbr,
                         __global const uint *parent, __global const float4 *rv,
                         __global const float4 *zv, __global const float4 *zc,
                         __global float4 *zout, uint coarse_off, uint ntiles, float over,
                         float w, __global const uint *act_pix, __global const uint4 *tiles,
                         __global const float4 *phi, __global const float *r,
                         __global const float *inv_diag, __global float *u_img,
                         __global float2 *partials, __local float2 *scratch, float wgt)
{
    uint t = get_global_id(0);
    float2 sums = (float2)(0.0f, 0.0f);

    if (t < ntiles) {
        cf_up_tile(a, binv, rmat, nbr, parent, rv, zv, zc, zout, 0, coarse_off, t, over, w);
        sums = cf_fine_tile(act_pix, tiles[t], phi, r, inv_diag, zout[t], u_img, wgt);
    }
    cf_group_store(scratch, partials, sums);
}

/* The small levels of the V-cycle in one work-group: down-steps into
 * levels max(first, 1) .. nlevels - 1, then up-steps for levels
 * nlevels - 2 .. first, each separated by a barrier (levels[k] = (offset,
 * tiles) of level k).  The coarsest level's correction is zv (w = 1 on
 * the way down); every other level's final correction goes to zz.
 * Launched as a single work-group. */
__kernel void cf_tail(__global const float *a, __global const float *binv,
                      __global const float8 *rmat, __global const int *nbr,
                      __global const uint *parent, __global const uint2 *children,
                      __global float4 *rv, __global float4 *zv, __global float4 *zz,
                      __global const uint2 *levels, uint first, uint nlevels,
                      float over, float w)
{
    uint lid = get_local_id(0), size = get_local_size(0);

    for (uint k = max(first, 1u); k < nlevels; k++) {
        uint2 lv = levels[k];
        float wk = k == nlevels - 1 ? 1.0f : w;
        for (uint t = lid; t < lv.y; t += size)
            cf_down_tile(a, binv, rmat, nbr, children, rv, zv, levels[k - 1].x, lv.x, t, wk);
        barrier(CLK_GLOBAL_MEM_FENCE);
    }
    for (uint k = nlevels - 1; k-- > first;) {
        uint2 lv = levels[k];
        __global const float4 *zc = k + 1 == nlevels - 1 ? zv : zz;
        for (uint t = lid; t < lv.y; t += size)
            cf_up_tile(a, binv, rmat, nbr, parent, rv, zv, zc, zz, lv.x, levels[k + 1].x, t,
                       over, w);
        barrier(CLK_GLOBAL_MEM_FENCE);
    }
}

/* The fine level of the preconditioner, per level-1 tile:
 * u_i = wgt r_i / A_ii + phi(i) . zc[t] (the level-1 correction; Jacobi
 * alone, u_i = r_i / A_ii, when mg is 0) into u_img, with per-group
 * partials of (r . u, r . r).  One work-item per level-1 tile. */
__kernel void cf_fine(__global const uint *act_pix, __global const uint4 *tiles,
                      __global const float4 *phi, __global const float *r,
                      __global const float *inv_diag, __global const float4 *zc,
                      __global float *u_img, __global float2 *partials,
                      __local float2 *scratch, uint ntiles, int mg, float wgt)
{
    uint t = get_global_id(0);
    float2 sums = (float2)(0.0f, 0.0f);

    if (t < ntiles)
        sums = cf_fine_tile(act_pix, tiles[t], phi, r, inv_diag, mg ? zc[t] : (float4)(0.0f),
                            u_img, mg ? wgt : 1.0f);
    cf_group_store(scratch, partials, sums);
}

/* alpha = x clipped to [0,1] at active pixels, the known value (1 for
 * foreground, 0 for background) elsewhere.  One work-item per pixel. */
__kernel void cf_alpha(__global const float *trimap, __global const int *map,
                       __global const float *x, __global float *alpha, uint npix)
{
    uint p = get_global_id(0);
    int m;

    if (p >= npix)
        return;
    m = map[p];
    if (m >= 0)
        alpha[p] = fmin(fmax(x[m], 0.0f), 1.0f);
    else
        alpha[p] = cf_label(trimap[p]) == LABEL_FG ? 1.0f : 0.0f;
}
