/* Prefix sums and the radix sort of splatting (cl/splat_scan.cl,
 * cl/splat_sort.cl), with work-group shapes picked per device: no
 * subgroup size assumed, local memory within CL_DEVICE_LOCAL_MEM_SIZE.
 * The caller owns every buffer (pool buffers); these functions only
 * enqueue. */
#ifndef KILN_SPLAT_SORT_H
#define KILN_SPLAT_SORT_H

#include <stddef.h>
#include <stdint.h>

#include "device.h"

/* Work-group shapes and the kernels' build options for one device. */
typedef struct splat_sort_shape {
    size_t scan_wg, scan_items;   /* a scan block: scan_wg * scan_items */
    size_t sort_wg, sort_items;   /* a sort block: sort_wg * sort_items */
    char scan_options[64];
    char sort_options[64];
} splat_sort_shape;

/* Picks the shapes for `dev`: work-groups of at most 256 (and the device's
 * limit), the sort's 17 * sort_wg uints of local memory within half the
 * device's local memory; more items a work-item on CPUs.  KILN_E_CL when
 * the device cannot run groups of 16. */
kiln_status splat_sort_shape_get(const kiln_device *dev, splat_sort_shape *shape);

/* Blocks (and so uints of the `sums` scratch) a scan of n elements needs. */
size_t splat_scan_blocks(const splat_sort_shape *shape, size_t n);

/* Enqueues the exclusive, saturating prefix sum of n uints of `in` into
 * `out` (may be `in`), its total into total[0]; `sums` holds
 * splat_scan_blocks(n) uints.  n > 0. */
kiln_status splat_scan(kiln_device *dev, const splat_sort_shape *shape, cl_mem in, cl_mem out,
                       uint32_t n, cl_mem sums, cl_mem total);

/* Uints of the histogram scratch of a sort of n pairs (16 a block). */
size_t splat_sort_hist_len(const splat_sort_shape *shape, size_t n);

/* The buffers of one sort: keys (ulong) and values (uint) of n pairs in
 * keys[0]/values[0], the ping-pong halves in keys[1]/values[1], the
 * histogram (splat_sort_hist_len uints), the scan's sums
 * (splat_scan_blocks of the histogram) and a 1-uint total. */
typedef struct splat_sort_buffers {
    cl_mem keys[2], values[2];
    cl_mem hist, sums, total;
} splat_sort_buffers;

/* Enqueues a stable sort of the n pairs by the low `bits` bits of the
 * keys (4 bits a pass).  Returns in *result which half (0 or 1) holds
 * the sorted pairs. */
kiln_status splat_sort_pairs(kiln_device *dev, const splat_sort_shape *shape,
                             const splat_sort_buffers *buf, uint32_t n, unsigned bits,
                             int *result);

#endif
