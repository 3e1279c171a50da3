/* Prefix sums and radix sort launchers (see splat_sort.h). */
#include <stdio.h>

#include "launch.h"
#include "splat_sort.h"
#include "status.h"

#define SCAN_SOURCE "splat_scan.cl"
#define SORT_SOURCE "splat_sort.cl"
#define SORT_RADIX 16

/* Picks the shapes for a device. */
kiln_status splat_sort_shape_get(const kiln_device *dev, splat_sort_shape *shape)
{
    size_t wg = 256, local = (size_t)dev->info.local_mem;
    int cpu = (dev->info.type & CL_DEVICE_TYPE_CPU) != 0;

    while (wg > dev->info.max_work_group)
        wg /= 2;
    shape->scan_wg = wg;
    /* radix_scatter: 16 * wg ranks + wg chunk sums, within half of local memory */
    while (wg > 16 && (SORT_RADIX + 1) * wg * sizeof(cl_uint) > local / 2)
        wg /= 2;
    if (wg < 16 || shape->scan_wg < 16)
        return kiln_fail(KILN_E_CL, "%s: work-groups of 16 items with %zu bytes of local memory "
                         "are needed for the splat sort", dev->info.name, 17 * 16 * sizeof(cl_uint));
    shape->sort_wg = wg;
    shape->scan_items = cpu ? 16 : 4;
    shape->sort_items = cpu ? 32 : 4;
    snprintf(shape->scan_options, sizeof(shape->scan_options), "-DSCAN_WG=%zu -DSCAN_ITEMS=%zu",
             shape->scan_wg, shape->scan_items);
    snprintf(shape->sort_options, sizeof(shape->sort_options), "-DSORT_WG=%zu -DSORT_ITEMS=%zu",
             shape->sort_wg, shape->sort_items);
    return KILN_OK;
}

/* Blocks of a scan of n elements. */
size_t splat_scan_blocks(const splat_sort_shape *shape, size_t n)
{
    size_t block = shape->scan_wg * shape->scan_items;
    return n ? (n + block - 1) / block : 1;
}

/* Enqueues the three scan passes. */
kiln_status splat_scan(kiln_device *dev, const splat_sort_shape *shape, cl_mem in, cl_mem out,
                       uint32_t n, cl_mem sums, cl_mem total)
{
    cl_uint nblocks = (cl_uint)splat_scan_blocks(shape, n);
    size_t global = (size_t)nblocks * shape->scan_wg, one = shape->scan_wg;
    kiln_status st;

    {
        const dev_kernel_arg args[] = { DEV_ARG(in), DEV_ARG(n), DEV_ARG(sums) };
        st = dev_kernel_launch(dev, SCAN_SOURCE, shape->scan_options, "scan_block_sums", args,
                               DEV_NARGS(args), 1, &global, &shape->scan_wg);
    }
    if (st == KILN_OK) {
        const dev_kernel_arg args[] = { DEV_ARG(sums), DEV_ARG(nblocks), DEV_ARG(total) };
        st = dev_kernel_launch(dev, SCAN_SOURCE, shape->scan_options, "scan_block_offsets", args,
                               DEV_NARGS(args), 1, &one, &shape->scan_wg);
    }
    if (st == KILN_OK) {
        const dev_kernel_arg args[] = { DEV_ARG(in), DEV_ARG(n), DEV_ARG(sums), DEV_ARG(out) };
        st = dev_kernel_launch(dev, SCAN_SOURCE, shape->scan_options, "scan_apply", args,
                               DEV_NARGS(args), 1, &global, &shape->scan_wg);
    }
    return st;
}

/* Histogram length of a sort of n pairs. */
size_t splat_sort_hist_len(const splat_sort_shape *shape, size_t n)
{
    size_t block = shape->sort_wg * shape->sort_items;
    return SORT_RADIX * (n ? (n + block - 1) / block : 1);
}

/* Enqueues the passes of the sort. */
kiln_status splat_sort_pairs(kiln_device *dev, const splat_sort_shape *shape,
                             const splat_sort_buffers *buf, uint32_t n, unsigned bits,
                             int *result)
{
    size_t block = shape->sort_wg * shape->sort_items;
    cl_uint nblocks = (cl_uint)((n + block - 1) / block);
    size_t global = (size_t)nblocks * shape->sort_wg;
    cl_uint hist_len = (cl_uint)(SORT_RADIX * nblocks);
    int src = 0;
    kiln_status st = KILN_OK;

    for (cl_uint shift = 0; shift < bits && st == KILN_OK; shift += 4) {
        const dev_kernel_arg hargs[] = { DEV_ARG(buf->keys[src]), DEV_ARG(n), DEV_ARG(shift),
                                         DEV_ARG(nblocks), DEV_ARG(buf->hist) };
        const dev_kernel_arg sargs[] = { DEV_ARG(buf->keys[src]), DEV_ARG(buf->values[src]),
                                         DEV_ARG(n), DEV_ARG(shift), DEV_ARG(nblocks),
                                         DEV_ARG(buf->hist), DEV_ARG(buf->keys[1 - src]),
                                         DEV_ARG(buf->values[1 - src]) };
        st = dev_kernel_launch(dev, SORT_SOURCE, shape->sort_options, "radix_histogram", hargs,
                               DEV_NARGS(hargs), 1, &global, &shape->sort_wg);
        if (st == KILN_OK)
            st = splat_scan(dev, shape, buf->hist, buf->hist, hist_len, buf->sums, buf->total);
        if (st == KILN_OK)
            st = dev_kernel_launch(dev, SORT_SOURCE, shape->sort_options, "radix_scatter", sargs,
                                   DEV_NARGS(sargs), 1, &global, &shape->sort_wg);
        src = 1 - src;
    }
    *result = src;
    return st;
}
