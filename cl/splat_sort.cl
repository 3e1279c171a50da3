/* A portable, stable LSD radix sort of (ulong key, uint value) pairs, 4
 * bits a pass: the host runs one pass per 4 bits of the bits that matter
 * (tile bits + 32 depth bits) and scans the histogram between the two
 * kernels of a pass (splat_scan.cl).  A block of SORT_WG * SORT_ITEMS
 * pairs belongs to one work-group; each work-item owns SORT_ITEMS
 * consecutive pairs, so ranking work-items in order keeps the sort
 * stable.  Only local atomics on int and barriers are used: no subgroup
 * size is assumed, and local memory is 16 * SORT_WG uints (the host picks
 * SORT_WG to fit CL_DEVICE_LOCAL_MEM_SIZE).
 *
 * Build options: SORT_WG (a power of two, at least 16) and SORT_ITEMS. */

#define RADIX 16
#define SORT_BLOCK (SORT_WG * SORT_ITEMS)

/* hist[d * nblocks + b] = pairs of block b whose digit (key >> shift) &
 * 15 is d. */
__kernel __attribute__((reqd_work_group_size(SORT_WG, 1, 1)))
void radix_histogram(__global const ulong *keys, uint n, uint shift, uint nblocks,
                     __global uint *hist)
{
    __local int l_count[RADIX];
    uint lid = get_local_id(0), b = get_group_id(0);
    uint base = b * SORT_BLOCK + lid * SORT_ITEMS;
    uint mine[RADIX];

    if (lid < RADIX)
        l_count[lid] = 0;
    for (uint d = 0; d < RADIX; d++)
        mine[d] = 0;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint k = 0; k < SORT_ITEMS; k++)
        if (base + k < n)
            mine[(uint)(keys[base + k] >> shift) & (RADIX - 1)]++;
    for (uint d = 0; d < RADIX; d++)
        if (mine[d])
            atomic_add(&l_count[d], (int)mine[d]);
    barrier(CLK_LOCAL_MEM_FENCE);
    if (lid < RADIX)
        hist[lid * nblocks + b] = (uint)l_count[lid];
}

/* Moves each pair of block b to offsets[d * nblocks + b] (the exclusive
 * scan of the histogram) plus its rank among the block's pairs of digit
 * d, in input order. */
__kernel __attribute__((reqd_work_group_size(SORT_WG, 1, 1)))
void radix_scatter(__global const ulong *keys, __global const uint *values, uint n, uint shift,
                   uint nblocks, __global const uint *offsets, __global ulong *keys_out,
                   __global uint *values_out)
{
    /* l_rank[d * SORT_WG + t]: pairs of digit d owned by work-items before
     * t, scanned in chunks of 16 work-items. */
    __local uint l_rank[RADIX * SORT_WG];
    __local uint l_chunk[RADIX * (SORT_WG / 16)];
    uint lid = get_local_id(0), b = get_group_id(0);
    uint base = b * SORT_BLOCK + lid * SORT_ITEMS;
    uint mine[RADIX];

    for (uint d = 0; d < RADIX; d++)
        mine[d] = 0;
    for (uint k = 0; k < SORT_ITEMS; k++)
        if (base + k < n)
            mine[(uint)(keys[base + k] >> shift) & (RADIX - 1)]++;
    for (uint d = 0; d < RADIX; d++)
        l_rank[d * SORT_WG + lid] = mine[d];
    barrier(CLK_LOCAL_MEM_FENCE);

    /* Work-item lid scans row d = lid / (SORT_WG/16), chunk c of 16
     * entries: exclusive within the chunk, the chunk's sum to l_chunk. */
    {
        uint chunks = SORT_WG / 16;
        uint d = lid / chunks, c = lid % chunks;
        __local uint *row = l_rank + d * SORT_WG + c * 16;
        uint s = 0;
        for (uint k = 0; k < 16; k++) {
            uint v = row[k];
            row[k] = s;
            s += v;
        }
        l_chunk[d * chunks + c] = s;
        barrier(CLK_LOCAL_MEM_FENCE);
        if (lid < RADIX) {
            uint acc = 0;
            for (uint k = 0; k < chunks; k++) {
                uint v = l_chunk[lid * chunks + k];
                l_chunk[lid * chunks + k] = acc;
                acc += v;
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        uint add = l_chunk[d * chunks + c];
        for (uint k = 0; k < 16; k++)
            row[k] += add;
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    uint pos[RADIX];
    for (uint d = 0; d < RADIX; d++)
        pos[d] = offsets[d * nblocks + b] + l_rank[d * SORT_WG + lid];
    for (uint k = 0; k < SORT_ITEMS; k++)
        if (base + k < n) {
            ulong key = keys[base + k];
            uint d = (uint)(key >> shift) & (RADIX - 1);
            keys_out[pos[d]] = key;
            values_out[pos[d]] = values[base + k];
            pos[d]++;
        }
}
