/* OpenCL devices: enumeration, selection, and an opened device (context,
 * queue, buffer pool, compiled programs). */
#ifndef KILN_DEVICE_H
#define KILN_DEVICE_H

#include <stddef.h>
#include <CL/cl.h>

#include "kiln.h"
#include "pool.h"

/* The facts about one device that matter for choosing and sizing work. */
typedef struct device_info {
    size_t index;                /* position in the stable order */
    cl_platform_id platform;
    cl_device_id id;
    cl_device_type type;
    char platform_name[128];
    char platform_version[128];
    char name[256];
    char vendor[128];
    char driver_version[128];
    char device_version[128];
    char opencl_c_version[128];
    cl_uint compute_units;
    cl_uint max_clock_mhz;
    cl_ulong global_mem;
    cl_ulong max_alloc;
    cl_ulong local_mem;
    size_t max_work_group;
    int fp16;
    int fp64;
} device_info;

/* Lists every device of every platform in a stable order: GPUs first, then
 * accelerators, then CPUs; within a type by vendor, name, then the
 * platform's own order.  *out is allocated here (free with kiln_free);
 * *count may be 0 with *out NULL when no platform exists.  Returns KILN_E_CL only when
 * the platform layer itself fails. */
kiln_status device_list(device_info **out, size_t *count);

/* Short name of a device type: "gpu", "cpu", "accelerator", "other". */
const char *device_type_name(cl_device_type type);

/* Selects devices from `all` by `selector`: "auto" (first GPU, else the
 * first device), "cpu", "gpu", "all", an index ("1"), "type:index"
 * ("gpu:1", the second GPU), or a case-insensitive substring of the vendor
 * or name.  A comma-separated list selects the union.  Fills picked[] with
 * indices into all (at most `all_count`) and *npicked.  A selector that
 * matches nothing is KILN_E_NODEV, its message listing the devices. */
kiln_status device_select(const char *selector, const device_info *all,
                          size_t all_count, size_t *picked, size_t *npicked);

typedef struct program_cache program_cache;
typedef struct resident_cache resident_cache;
typedef struct kiln_device kiln_device;

/* Opens the first device `selector` picks ($KILN_DEVICE wins over it when
 * set) with a pool of `budget` bytes (0: default).  KILN_E_NODEV lists
 * the devices when nothing matches. */
kiln_status device_open_selected(const char *selector, size_t budget, kiln_device **out);

/* The device timer's state (launch.h): the open section (-1: none) and
 * each section's first and last event. */
#define DEVICE_TIMER_SLOTS 16
typedef struct device_timer {
    int section;
    cl_event first[DEVICE_TIMER_SLOTS];
    cl_event last[DEVICE_TIMER_SLOTS];
} device_timer;

/* An opened device: one context, one in-order queue, one pool, and its
 * compiled programs.  Owned by one worker. */
struct kiln_device {
    device_info info;
    cl_context context;
    cl_command_queue queue;
    kiln_pool *pool;
    program_cache *programs;
    resident_cache *resident;    /* objects kept across items (resident.h) */
    device_timer timer;          /* launch.h's profiling brackets */
    int used_clblast;            /* CLBlast ran on this context: its
                                    program cache is cleared at close */
};

/* Opens `info`'s device with a pool capped at `budget` bytes (0: the
 * default fraction of global memory, see device_default_budget). */
kiln_status device_open(const device_info *info, size_t budget, kiln_device **out);

/* Default budget: 70% of global memory, at most 4 GiB on a CPU device. */
size_t device_default_budget(const device_info *info);

/* Returns a kernel `kernel_name` from the embedded source file
 * `source_name` (e.g. "image_resize.cl") built for this device with the
 * extra -D `options` (may be NULL).  The program is built once (or loaded
 * from the disk cache) and kept for the device's life; the kernel object
 * is owned by the device: do not release it.  Not thread-safe: one worker
 * per device. */
kiln_status device_kernel(kiln_device *dev, const char *source_name,
                          const char *options, const char *kernel_name,
                          cl_kernel *out);

/* Releases the device timer's brackets without reading them (launch.h's
 * timer; error paths and close). */
void device_timer_clear(kiln_device *dev);

/* Waits for the queue to drain; returns KILN_E_CL with context on error. */
kiln_status device_finish(kiln_device *dev);

/* Closes the device: programs, queue, pool, context.  Returns KILN_E_LEAK
 * (message naming the live tags) when pool buffers are still live, after
 * releasing everything anyway.  NULL is a no-op. */
kiln_status device_close(kiln_device *dev);

#endif
