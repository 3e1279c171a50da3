/* Exclusive prefix sums of uint arrays, in three passes: block sums,
 * a scan of the block sums by one work-group, and the per-block scan
 * with its block's offset.  Additions saturate at UINT_MAX (add_sat), so
 * a sum too large for 32 bits reads as UINT_MAX instead of wrapping: the
 * host treats it as "too many".
 *
 * Build options: SCAN_WG (work-group size, a power of two) and
 * SCAN_ITEMS (consecutive elements per work-item); a block is SCAN_WG *
 * SCAN_ITEMS elements.  No kernel assumes a subgroup size. */

#define SCAN_BLOCK (SCAN_WG * SCAN_ITEMS)

/* Exclusive scan of one value per work-item across the group (saturating);
 * returns this item's prefix and leaves the group total in *total.  tmp
 * holds 2 * SCAN_WG uints. */
static uint group_scan(uint v, __local uint *tmp, uint *total)
{
    uint lid = get_local_id(0);
    uint src = 0, dst = SCAN_WG;
    tmp[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint off = 1; off < SCAN_WG; off <<= 1) {
        uint x = tmp[src + lid];
        if (lid >= off)
            x = add_sat(x, tmp[src + lid - off]);
        tmp[dst + lid] = x;
        barrier(CLK_LOCAL_MEM_FENCE);
        uint t = src;
        src = dst;
        dst = t;
    }
    uint excl = lid > 0 ? tmp[src + lid - 1] : 0u;
    *total = tmp[src + SCAN_WG - 1];
    barrier(CLK_LOCAL_MEM_FENCE);
    return excl;
}

/* sums[b] = the (saturating) sum of block b of in[0..n). */
__kernel __attribute__((reqd_work_group_size(SCAN_WG, 1, 1)))
void scan_block_sums(__global const uint *in, uint n, __global uint *sums)
{
    __local uint tmp[2 * SCAN_WG];
    uint base = get_group_id(0) * SCAN_BLOCK + get_local_id(0) * SCAN_ITEMS;
    uint s = 0, total;
    for (uint k = 0; k < SCAN_ITEMS; k++)
        if (base + k < n)
            s = add_sat(s, in[base + k]);
    group_scan(s, tmp, &total);
    if (get_local_id(0) == 0)
        sums[get_group_id(0)] = total;
}

/* One work-group: exclusive scan of sums[0..nblocks) in place, total[0] =
 * their sum. */
__kernel __attribute__((reqd_work_group_size(SCAN_WG, 1, 1)))
void scan_block_offsets(__global uint *sums, uint nblocks, __global uint *total)
{
    __local uint tmp[2 * SCAN_WG];
    uint carry = 0;
    for (uint chunk = 0; chunk < nblocks; chunk += SCAN_BLOCK) {
        uint base = chunk + get_local_id(0) * SCAN_ITEMS;
        uint v[SCAN_ITEMS];
        uint s = 0, t;
        for (uint k = 0; k < SCAN_ITEMS; k++) {
            v[k] = base + k < nblocks ? sums[base + k] : 0u;
            s = add_sat(s, v[k]);
        }
        uint prefix = add_sat(carry, group_scan(s, tmp, &t));
        for (uint k = 0; k < SCAN_ITEMS; k++)
            if (base + k < nblocks) {
                sums[base + k] = prefix;
                prefix = add_sat(prefix, v[k]);
            }
        carry = add_sat(carry, t);
    }
    if (get_local_id(0) == 0)
        total[0] = carry;
}

/* out[i] = the exclusive prefix of in at i (saturating), block b starting
 * at offsets[b].  in and out may be the same buffer. */
__kernel __attribute__((reqd_work_group_size(SCAN_WG, 1, 1)))
void scan_apply(__global const uint *in, uint n, __global const uint *offsets, __global uint *out)
{
    __local uint tmp[2 * SCAN_WG];
    uint base = get_group_id(0) * SCAN_BLOCK + get_local_id(0) * SCAN_ITEMS;
    uint v[SCAN_ITEMS];
    uint s = 0, t;
    for (uint k = 0; k < SCAN_ITEMS; k++) {
        v[k] = base + k < n ? in[base + k] : 0u;
        s = add_sat(s, v[k]);
    }
    uint prefix = add_sat(offsets[get_group_id(0)], group_scan(s, tmp, &t));
    for (uint k = 0; k < SCAN_ITEMS; k++)
        if (base + k < n) {
            out[base + k] = prefix;
            prefix = add_sat(prefix, v[k]);
        }
}
