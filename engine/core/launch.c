/* Kernel launch, buffer transfers and the device timer (see launch.h). */
#include <stdio.h>
#include <string.h>

#include "cl_status.h"
#include "launch.h"
#include "status.h"

/* The event slot a command should fill: NULL when no section is open. */
static cl_event *timer_slot(kiln_device *dev, cl_event *ev)
{
    *ev = NULL;
    return dev->timer.section >= 0 ? ev : NULL;
}

/* Files `ev` (may be NULL) into the open section's bracket: the first
 * event of the section is kept, later ones replace the last. */
static void timer_record(kiln_device *dev, cl_event ev)
{
    int s = dev->timer.section;

    if (!ev)
        return;
    if (s < 0) {
        clReleaseEvent(ev);
        return;
    }
    if (!dev->timer.first[s]) {
        dev->timer.first[s] = ev;
        return;
    }
    if (dev->timer.last[s])
        clReleaseEvent(dev->timer.last[s]);
    dev->timer.last[s] = ev;
}

/* Sets arguments and enqueues a kernel (see launch.h). */
kiln_status dev_kernel_launch(kiln_device *dev, const char *source, const char *options,
                              const char *kernel_name, const dev_kernel_arg *args,
                              cl_uint nargs, cl_uint dims, const size_t *global,
                              const size_t *local)
{
    char what[192];
    size_t rounded[3];
    cl_kernel kernel;
    cl_event ev;
    cl_int err;
    kiln_status st;

    if (dims < 1 || dims > 3)
        return kiln_fail(KILN_E_INVAL, "kernel %s: %u dimensions", kernel_name, (unsigned)dims);
    for (cl_uint d = 0; d < dims; d++)
        if (global[d] == 0)
            return KILN_OK;
    st = device_kernel(dev, source, options, kernel_name, &kernel);
    if (st != KILN_OK)
        return st;
    for (cl_uint i = 0; i < nargs; i++) {
        err = clSetKernelArg(kernel, i, args[i].size, args[i].value);
        if (err != CL_SUCCESS) {
            snprintf(what, sizeof(what), "setting argument %u of kernel %s (%s)",
                     (unsigned)i, kernel_name, source);
            return kiln_fail_cl(err, what);
        }
    }
    for (cl_uint d = 0; d < dims; d++)
        rounded[d] = local ? (global[d] + local[d] - 1) / local[d] * local[d] : global[d];
    err = clEnqueueNDRangeKernel(dev->queue, kernel, dims, NULL, rounded, local, 0, NULL,
                                 timer_slot(dev, &ev));
    if (err != CL_SUCCESS) {
        snprintf(what, sizeof(what), "enqueueing kernel %s (%s)", kernel_name, source);
        return kiln_fail_cl(err, what);
    }
    timer_record(dev, ev);
    return KILN_OK;
}

/* dev_kernel_launch with the driver's work-group size. */
kiln_status dev_kernel_launch_default(kiln_device *dev, const char *source,
                                      const char *kernel_name, const dev_kernel_arg *args,
                                      cl_uint nargs, cl_uint dims, const size_t *global)
{
    return dev_kernel_launch(dev, source, NULL, kernel_name, args, nargs, dims, global, NULL);
}

/* A blocking write. */
kiln_status dev_buffer_write(kiln_device *dev, cl_mem mem, size_t offset, size_t bytes,
                             const void *src, const char *what)
{
    cl_event ev;
    cl_int err;

    if (bytes == 0)
        return KILN_OK;
    err = clEnqueueWriteBuffer(dev->queue, mem, CL_TRUE, offset, bytes, src, 0, NULL,
                               timer_slot(dev, &ev));
    if (err != CL_SUCCESS)
        return kiln_fail_cl(err, what);
    timer_record(dev, ev);
    return KILN_OK;
}

/* A blocking map for writing (see launch.h). */
kiln_status dev_buffer_map_write(kiln_device *dev, cl_mem mem, size_t offset, size_t bytes,
                                 void **ptr, const char *what)
{
    cl_int err = CL_SUCCESS;
    void *p = clEnqueueMapBuffer(dev->queue, mem, CL_TRUE, CL_MAP_WRITE_INVALIDATE_REGION,
                                 offset, bytes, 0, NULL, NULL, &err);

    *ptr = NULL;
    if (err != CL_SUCCESS || !p)
        return kiln_fail_cl(err != CL_SUCCESS ? err : CL_MAP_FAILURE, what);
    *ptr = p;
    return KILN_OK;
}

/* Unmaps and waits (see launch.h). */
kiln_status dev_buffer_unmap(kiln_device *dev, cl_mem mem, void *ptr, const char *what)
{
    cl_int err = clEnqueueUnmapMemObject(dev->queue, mem, ptr, 0, NULL, NULL);

    if (err == CL_SUCCESS)
        err = clFinish(dev->queue);
    if (err != CL_SUCCESS)
        return kiln_fail_cl(err, what);
    return KILN_OK;
}

/* A blocking read. */
kiln_status dev_buffer_read(kiln_device *dev, cl_mem mem, size_t offset, size_t bytes,
                            void *dst, const char *what)
{
    cl_event ev;
    cl_int err;

    if (bytes == 0)
        return KILN_OK;
    err = clEnqueueReadBuffer(dev->queue, mem, CL_TRUE, offset, bytes, dst, 0, NULL,
                              timer_slot(dev, &ev));
    if (err != CL_SUCCESS)
        return kiln_fail_cl(err, what);
    timer_record(dev, ev);
    return KILN_OK;
}

/* A write that does not wait. */
kiln_status dev_buffer_write_async(kiln_device *dev, cl_mem mem, size_t offset, size_t bytes,
                                   const void *src, const char *what)
{
    cl_event ev;
    cl_int err;

    if (bytes == 0)
        return KILN_OK;
    err = clEnqueueWriteBuffer(dev->queue, mem, CL_FALSE, offset, bytes, src, 0, NULL,
                               timer_slot(dev, &ev));
    if (err != CL_SUCCESS)
        return kiln_fail_cl(err, what);
    timer_record(dev, ev);
    return KILN_OK;
}

/* A read that does not wait, with its completion event. */
kiln_status dev_buffer_read_async(kiln_device *dev, cl_mem mem, size_t offset, size_t bytes,
                                  void *dst, const char *what, cl_event *done)
{
    cl_event ev = NULL;
    cl_int err;

    *done = NULL;
    err = clEnqueueReadBuffer(dev->queue, mem, CL_FALSE, offset, bytes, dst, 0, NULL, &ev);
    if (err == CL_SUCCESS)
        err = clFlush(dev->queue);   /* another thread may wait for the event */
    if (err != CL_SUCCESS) {
        if (ev)
            clReleaseEvent(ev);
        return kiln_fail_cl(err, what);
    }
    if (dev->timer.section >= 0) {
        clRetainEvent(ev);           /* one reference for the timer's bracket */
        timer_record(dev, ev);
    }
    *done = ev;
    return KILN_OK;
}

/* An enqueued copy. */
kiln_status dev_buffer_copy(kiln_device *dev, cl_mem src, size_t src_offset, cl_mem dst,
                            size_t dst_offset, size_t bytes, const char *what)
{
    cl_event ev;
    cl_int err;

    if (bytes == 0)
        return KILN_OK;
    err = clEnqueueCopyBuffer(dev->queue, src, dst, src_offset, dst_offset, bytes, 0, NULL,
                              timer_slot(dev, &ev));
    if (err != CL_SUCCESS)
        return kiln_fail_cl(err, what);
    timer_record(dev, ev);
    return KILN_OK;
}

/* An enqueued fill. */
kiln_status dev_buffer_fill(kiln_device *dev, cl_mem mem, const void *pattern,
                            size_t pattern_size, size_t offset, size_t bytes, const char *what)
{
    cl_event ev;
    cl_int err;

    if (bytes == 0)
        return KILN_OK;
    err = clEnqueueFillBuffer(dev->queue, mem, pattern, pattern_size, offset, bytes, 0, NULL,
                              timer_slot(dev, &ev));
    if (err != CL_SUCCESS)
        return kiln_fail_cl(err, what);
    timer_record(dev, ev);
    return KILN_OK;
}

/* Opens a timer section. */
void dev_timer_section(kiln_device *dev, int section)
{
    dev->timer.section = (section >= 0 && section < DEV_TIMER_SECTIONS) ? section : -1;
}

/* Closes the open section. */
void dev_timer_stop(kiln_device *dev)
{
    dev->timer.section = -1;
}

/* Reads one profiling counter in nanoseconds; 0 on failure (*ok cleared). */
static cl_ulong event_ns(cl_event ev, cl_profiling_info what, int *ok)
{
    cl_ulong ns = 0;
    if (clGetEventProfilingInfo(ev, what, sizeof(ns), &ns, NULL) != CL_SUCCESS)
        *ok = 0;
    return ns;
}

/* Turns the brackets into milliseconds. */
kiln_status dev_timer_collect(kiln_device *dev, double *ms, int *seen)
{
    int section = dev->timer.section;
    device_timer t;

    dev_timer_take(dev, &t);
    dev->timer.section = section;   /* collecting leaves the open section open */
    return device_timer_read(&t, ms, seen);
}

/* Moves the brackets out of the device. */
void dev_timer_take(kiln_device *dev, device_timer *out)
{
    dev->timer.section = -1;
    *out = dev->timer;
    for (int s = 0; s < DEVICE_TIMER_SLOTS; s++)
        dev->timer.first[s] = dev->timer.last[s] = NULL;
}

/* Reads and releases taken brackets. */
kiln_status device_timer_read(device_timer *t, double *ms, int *seen)
{
    int ok = 1;

    for (int s = 0; s < DEV_TIMER_SECTIONS; s++) {
        cl_event first = t->first[s];
        cl_event last = t->last[s] ? t->last[s] : first;
        if (seen)
            seen[s] = first != NULL;
        if (!first)
            continue;
        cl_ulong start = event_ns(first, CL_PROFILING_COMMAND_START, &ok);
        cl_ulong end = event_ns(last, CL_PROFILING_COMMAND_END, &ok);
        if (end > start)
            ms[s] += (double)(end - start) / 1e6;
    }
    device_timer_release(t);
    return ok ? KILN_OK : kiln_fail(KILN_E_CL, "reading OpenCL profiling events");
}

/* Releases taken brackets. */
void device_timer_release(device_timer *t)
{
    for (int s = 0; s < DEVICE_TIMER_SLOTS; s++) {
        if (t->first[s])
            clReleaseEvent(t->first[s]);
        if (t->last[s])
            clReleaseEvent(t->last[s]);
        t->first[s] = t->last[s] = NULL;
    }
    t->section = -1;
}
