/* Device enumeration and the opened-device lifecycle. */
#include <clblast_c.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cl_status.h"
#include "device.h"
#include "host_alloc.h"
#include "program.h"
#include "resident.h"
#include "status.h"

#define MAX_PLATFORMS 16
#define MAX_DEVICES_PER_PLATFORM 64

/* Reads a string device parameter into buf (empty on failure). */
static void info_string(cl_device_id id, cl_device_info what, char *buf, size_t len)
{
    buf[0] = '\0';
    if (clGetDeviceInfo(id, what, len, buf, NULL) != CL_SUCCESS)
        buf[0] = '\0';
    buf[len - 1] = '\0';
}

/* Reads a fixed-size device parameter; leaves *out zeroed on failure. */
static void info_value(cl_device_id id, cl_device_info what, void *out, size_t size)
{
    memset(out, 0, size);
    if (clGetDeviceInfo(id, what, size, out, NULL) != CL_SUCCESS)
        memset(out, 0, size);
}

/* Fills the facts of one device. */
static void device_info_read(cl_platform_id platform, cl_device_id id, device_info *info)
{
    char extensions[8192];
    cl_device_fp_config fp64 = 0;

    memset(info, 0, sizeof(*info));
    info->platform = platform;
    info->id = id;
    clGetPlatformInfo(platform, CL_PLATFORM_NAME, sizeof(info->platform_name), info->platform_name, NULL);
    clGetPlatformInfo(platform, CL_PLATFORM_VERSION, sizeof(info->platform_version), info->platform_version, NULL);
    info->platform_name[sizeof(info->platform_name) - 1] = '\0';
    info->platform_version[sizeof(info->platform_version) - 1] = '\0';
    info_string(id, CL_DEVICE_NAME, info->name, sizeof(info->name));
    info_string(id, CL_DEVICE_VENDOR, info->vendor, sizeof(info->vendor));
    info_string(id, CL_DRIVER_VERSION, info->driver_version, sizeof(info->driver_version));
    info_string(id, CL_DEVICE_VERSION, info->device_version, sizeof(info->device_version));
    info_string(id, CL_DEVICE_OPENCL_C_VERSION, info->opencl_c_version, sizeof(info->opencl_c_version));
    info_value(id, CL_DEVICE_TYPE, &info->type, sizeof(info->type));
    info_value(id, CL_DEVICE_MAX_COMPUTE_UNITS, &info->compute_units, sizeof(info->compute_units));
    info_value(id, CL_DEVICE_MAX_CLOCK_FREQUENCY, &info->max_clock_mhz, sizeof(info->max_clock_mhz));
    info_value(id, CL_DEVICE_GLOBAL_MEM_SIZE, &info->global_mem, sizeof(info->global_mem));
    info_value(id, CL_DEVICE_MAX_MEM_ALLOC_SIZE, &info->max_alloc, sizeof(info->max_alloc));
    info_value(id, CL_DEVICE_LOCAL_MEM_SIZE, &info->local_mem, sizeof(info->local_mem));
    info_value(id, CL_DEVICE_MAX_WORK_GROUP_SIZE, &info->max_work_group, sizeof(info->max_work_group));
    info_value(id, CL_DEVICE_DOUBLE_FP_CONFIG, &fp64, sizeof(fp64));
    info_string(id, CL_DEVICE_EXTENSIONS, extensions, sizeof(extensions));
    info->fp64 = fp64 != 0 || strstr(extensions, "cl_khr_fp64") != NULL;
    info->fp16 = strstr(extensions, "cl_khr_fp16") != NULL;
}

/* Rank of a device type in the stable order: GPUs first. */
static int type_rank(cl_device_type type)
{
    if (type & CL_DEVICE_TYPE_GPU)
        return 0;
    if (type & CL_DEVICE_TYPE_ACCELERATOR)
        return 1;
    if (type & CL_DEVICE_TYPE_CPU)
        return 2;
    return 3;
}

/* qsort order: type rank, vendor, name, then enumeration order (kept in
 * index before sorting). */
static int device_order(const void *a, const void *b)
{
    const device_info *x = a, *y = b;
    int c = type_rank(x->type) - type_rank(y->type);
    if (c)
        return c;
    c = strcmp(x->vendor, y->vendor);
    if (c)
        return c;
    c = strcmp(x->name, y->name);
    if (c)
        return c;
    return (x->index > y->index) - (x->index < y->index);
}

/* Lists every device in the stable order. */
kiln_status device_list(device_info **out, size_t *count)
{
    cl_platform_id platforms[MAX_PLATFORMS];
    cl_uint nplatforms = 0;
    device_info *list = NULL;
    size_t n = 0, cap = 0;
    cl_int err;

    *out = NULL;
    *count = 0;
    err = clGetPlatformIDs(MAX_PLATFORMS, platforms, &nplatforms);
    if (err == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || (err == CL_SUCCESS && nplatforms == 0))
        return KILN_OK;
    if (err != CL_SUCCESS)
        return kiln_fail_cl(err, "listing OpenCL platforms");
    if (nplatforms > MAX_PLATFORMS)
        nplatforms = MAX_PLATFORMS;
    for (cl_uint p = 0; p < nplatforms; p++) {
        cl_device_id ids[MAX_DEVICES_PER_PLATFORM];
        cl_uint nids = 0;
        if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, MAX_DEVICES_PER_PLATFORM, ids, &nids) != CL_SUCCESS)
            continue;
        if (nids > MAX_DEVICES_PER_PLATFORM)
            nids = MAX_DEVICES_PER_PLATFORM;
        for (cl_uint d = 0; d < nids; d++) {
            if (n == cap) {
                size_t new_cap = cap ? cap * 2 : 8;
                device_info *grown = kiln_realloc(list, new_cap * sizeof(*list));
                if (!grown) {
                    kiln_free(list);
                    return kiln_fail(KILN_E_HOSTMEM, "listing devices: out of host memory");
                }
                list = grown;
                cap = new_cap;
            }
            device_info_read(platforms[p], ids[d], &list[n]);
            list[n].index = n;
            n++;
        }
    }
    if (n > 1)
        qsort(list, n, sizeof(*list), device_order);
    for (size_t i = 0; i < n; i++)
        list[i].index = i;
    *out = list;
    *count = n;
    return KILN_OK;
}

/* Names a device type. */
const char *device_type_name(cl_device_type type)
{
    if (type & CL_DEVICE_TYPE_GPU)
        return "gpu";
    if (type & CL_DEVICE_TYPE_ACCELERATOR)
        return "accelerator";
    if (type & CL_DEVICE_TYPE_CPU)
        return "cpu";
    return "other";
}

/* 70% of global memory, capped at 4 GiB on CPUs (host RAM is shared with
 * the rest of the process), and never above what one device can hold. */
size_t device_default_budget(const device_info *info)
{
    unsigned long long budget = info->global_mem / 10 * 7;
    if ((info->type & CL_DEVICE_TYPE_CPU) && budget > (4ULL << 30))
        budget = 4ULL << 30;
    if (budget > (unsigned long long)SIZE_MAX)
        budget = SIZE_MAX;
    return (size_t)budget;
}

/* Opens a context, an in-order queue, a pool and a program table. */
kiln_status device_open(const device_info *info, size_t budget, kiln_device **out)
{
    kiln_device *dev;
    cl_int err;
    kiln_status st;
    cl_context_properties props[3];
    const cl_queue_properties queue_props[] = { CL_QUEUE_PROPERTIES, CL_QUEUE_PROFILING_ENABLE, 0 };

    *out = NULL;
    dev = kiln_calloc(1, sizeof(*dev));
    if (!dev)
        return kiln_fail(KILN_E_HOSTMEM, "opening device: out of host memory");
    dev->info = *info;
    dev->timer.section = -1;
    props[0] = CL_CONTEXT_PLATFORM;
    props[1] = (cl_context_properties)info->platform;
    props[2] = 0;
    dev->context = clCreateContext(props, 1, &info->id, NULL, NULL, &err);
    if (!dev->context) {
        st = kiln_fail_cl(err, "creating a context");
        goto out_free_dev;
    }
    /* profiling on: stage times come from events (launch.h), not from
       draining the queue */
    dev->queue = clCreateCommandQueueWithProperties(dev->context, info->id, queue_props, &err);
    if (!dev->queue) {
        st = kiln_fail_cl(err, "creating a command queue");
        goto out_release_context;
    }
    st = pool_init(&dev->pool, dev->context, dev->queue,
                   budget ? budget : device_default_budget(info));
    if (st != KILN_OK)
        goto out_release_queue;
    st = program_cache_init(&dev->programs);
    if (st != KILN_OK)
        goto out_free_pool;
    st = resident_cache_init(&dev->resident);
    if (st != KILN_OK)
        goto out_free_programs;
    *out = dev;
    return KILN_OK;

out_free_programs:
    program_cache_free(dev->programs);
out_free_pool:
    pool_free(dev->pool);
out_release_queue:
    clReleaseCommandQueue(dev->queue);
out_release_context:
    clReleaseContext(dev->context);
out_free_dev:
    kiln_free(dev);
    return kiln_fail_context(st, "device %zu (%s)", info->index, info->name);
}

/* Returns a kernel of an embedded source built for this device. */
kiln_status device_kernel(kiln_device *dev, const char *source_name,
                          const char *options, const char *kernel_name,
                          cl_kernel *out)
{
    size_t len = 0;
    const char *source = cl_source_find(source_name, &len);
    cl_program program;
    kiln_status st;

    *out = NULL;
    if (!source)
        return kiln_fail(KILN_E_INVAL, "no embedded kernel source named %s", source_name);
    st = program_get_embedded(dev, source_name, source, len, options, &program);
    if (st != KILN_OK)
        return st;
    return program_kernel(dev, program, kernel_name, out);
}

/* Releases the timer's events. */
void device_timer_clear(kiln_device *dev)
{
    for (int s = 0; s < DEVICE_TIMER_SLOTS; s++) {
        if (dev->timer.first[s])
            clReleaseEvent(dev->timer.first[s]);
        if (dev->timer.last[s])
            clReleaseEvent(dev->timer.last[s]);
        dev->timer.first[s] = dev->timer.last[s] = NULL;
    }
}

/* Waits for the device queue to drain. */
kiln_status device_finish(kiln_device *dev)
{
    cl_int err = clFinish(dev->queue);
    if (err != CL_SUCCESS)
        return kiln_fail_cl(err, "waiting for the device queue");
    return KILN_OK;
}

/* Closes everything the device owns; reports live pool buffers. */
kiln_status device_close(kiln_device *dev)
{
    kiln_status st;
    kiln_status resident_st;
    if (!dev)
        return KILN_OK;
    clFinish(dev->queue);
    /* CLBlast caches programs by context: none may outlive this one */
    if (dev->used_clblast)
        CLBlastClearCache();
    device_timer_clear(dev);
    resident_st = resident_cache_free(dev->resident);
    program_cache_free(dev->programs);
    st = pool_free(dev->pool);
    if (resident_st != KILN_OK && st == KILN_OK)
        st = resident_st;
    clReleaseCommandQueue(dev->queue);
    clReleaseContext(dev->context);
    kiln_free(dev);
    return st;
}
