/* Kernel launch and buffer transfers: the one module that enqueues work
 * on a device queue, and the device-side timer that times it.
 *
 * Every enqueue of the engine goes through here, so that timing, error
 * messages and (later) tracing live in one place.  Timing uses OpenCL
 * profiling events, never a queue drain: a caller opens a timer section
 * (dev_timer_section), the launches and transfers enqueued while it is
 * open are bracketed by their first and last events, and
 * dev_timer_collect turns the brackets into milliseconds once the queue
 * has drained for its own reasons (a blocking read at the item's end). */
#ifndef KILN_LAUNCH_H
#define KILN_LAUNCH_H

#include <stddef.h>
#include <CL/cl.h>

#include "device.h"

/* One kernel argument: the size of the value and a pointer to it (a
 * cl_mem, cl_uint, cl_float4...).  A NULL value is __local memory of
 * that size. */
typedef struct dev_kernel_arg {
    size_t size;
    const void *value;
} dev_kernel_arg;

/* Initialiser of a dev_kernel_arg from an lvalue. */
#define DEV_ARG(v) { sizeof(v), &(v) }

/* Number of elements of an argument array. */
#define DEV_NARGS(a) ((cl_uint)(sizeof(a) / sizeof((a)[0])))

/* Gets kernel `kernel_name` of the embedded `source` built with `options`
 * (may be NULL), sets its nargs arguments in order and enqueues it over
 * `dims` (1 to 3) dimensions of `global` items, in work-groups of `local`
 * (the global size rounded up to multiples of it), or of the driver's
 * choice when local is NULL.  A global size of 0 in any dimension
 * enqueues nothing.  Does not wait.  Returns KILN_OK, or the build or
 * OpenCL error with the kernel and source named in the message. */
kiln_status dev_kernel_launch(kiln_device *dev, const char *source, const char *options,
                              const char *kernel_name, const dev_kernel_arg *args,
                              cl_uint nargs, cl_uint dims, const size_t *global,
                              const size_t *local);

/* dev_kernel_launch without build options and with the driver's
 * work-group size. */
kiln_status dev_kernel_launch_default(kiln_device *dev, const char *source,
                                      const char *kernel_name, const dev_kernel_arg *args,
                                      cl_uint nargs, cl_uint dims, const size_t *global);

/* Writes `bytes` from host `src` into `mem` at byte `offset`, waiting
 * until the host memory may be reused.  `what` names the transfer in an
 * error message ("uploading model weights"). */
kiln_status dev_buffer_write(kiln_device *dev, cl_mem mem, size_t offset, size_t bytes,
                             const void *src, const char *what);

/* Maps `bytes` of `mem` at byte `offset` for writing, their old contents
 * discarded, and waits for the mapping: *ptr is a host view to fill (on a
 * CPU device the buffer itself, so nothing is held twice), until
 * dev_buffer_unmap.  On error *ptr is NULL and nothing is mapped. */
kiln_status dev_buffer_map_write(kiln_device *dev, cl_mem mem, size_t offset, size_t bytes,
                                 void **ptr, const char *what);

/* Ends a mapping of dev_buffer_map_write and waits until the device holds
 * what was written through it (ptr is invalid afterwards, on every path). */
kiln_status dev_buffer_unmap(kiln_device *dev, cl_mem mem, void *ptr, const char *what);

/* Reads `bytes` of `mem` at byte `offset` into host `dst`, waiting for
 * the data (and so for everything enqueued before it). */
kiln_status dev_buffer_read(kiln_device *dev, cl_mem mem, size_t offset, size_t bytes,
                            void *dst, const char *what);

/* Enqueues a write of `bytes` from host `src` into `mem` at byte
 * `offset` without waiting: `src` must stay valid and unchanged until the
 * queue has run the write (a later blocking call, or the completion of a
 * later command's event, proves it: the queue is in order). */
kiln_status dev_buffer_write_async(kiln_device *dev, cl_mem mem, size_t offset, size_t bytes,
                                   const void *src, const char *what);

/* Enqueues a read of `bytes` of `mem` at byte `offset` into host `dst`
 * without waiting, flushes the queue, and returns in *done (released by
 * the caller with clReleaseEvent) the event that completes when `dst`
 * holds the data.  `mem` and `dst` must stay valid until then.  Any
 * thread may wait for *done.  On error *done is NULL. */
kiln_status dev_buffer_read_async(kiln_device *dev, cl_mem mem, size_t offset, size_t bytes,
                                  void *dst, const char *what, cl_event *done);

/* Enqueues a copy of `bytes` from src at src_offset to dst at dst_offset.
 * Does not wait. */
kiln_status dev_buffer_copy(kiln_device *dev, cl_mem src, size_t src_offset, cl_mem dst,
                            size_t dst_offset, size_t bytes, const char *what);

/* Enqueues a fill of `bytes` of `mem` from `offset` with the
 * pattern_size-byte `pattern` (a power of two up to 128).  Does not
 * wait. */
kiln_status dev_buffer_fill(kiln_device *dev, cl_mem mem, const void *pattern,
                            size_t pattern_size, size_t offset, size_t bytes, const char *what);

/* ---- device-side timing ---- */

/* Timer sections of one device: a small fixed set the caller names by
 * index (the batch runner uses one per stage). */
#define DEV_TIMER_SECTIONS DEVICE_TIMER_SLOTS

/* Opens section `section` (0 .. DEV_TIMER_SECTIONS-1): work enqueued from
 * now on is counted in it until the next dev_timer_section call or
 * dev_timer_stop.  A section opened again keeps its earlier bracket and
 * extends it. */
void dev_timer_section(kiln_device *dev, int section);

/* Stops counting: later work belongs to no section. */
void dev_timer_stop(kiln_device *dev);

/* After the queue has drained: adds each section's device time (from the
 * start of its first command to the end of its last, in milliseconds)
 * into ms[section] (an array of DEV_TIMER_SECTIONS) and forgets the
 * brackets.  Sections with no work add nothing and leave `seen` 0; seen
 * may be NULL.  Returns KILN_E_CL when the profiling information cannot
 * be read (the brackets are released anyway). */
kiln_status dev_timer_collect(kiln_device *dev, double *ms, int *seen);

/* Stops the device's timer and moves its brackets into *out (the caller
 * then owns them: read them with device_timer_read once their work has
 * run, or drop them with device_timer_release), leaving the device's timer
 * empty for the next item.  Lets an item's timings be read later, on
 * another thread, while the device times the next item. */
void dev_timer_take(kiln_device *dev, device_timer *out);

/* dev_timer_collect on brackets taken with dev_timer_take: adds each
 * section's milliseconds into ms[], sets seen[] (may be NULL), releases
 * the brackets.  Thread-safe for distinct timers. */
kiln_status device_timer_read(device_timer *t, double *ms, int *seen);

/* Releases taken brackets without reading them.  Safe on an empty or
 * zeroed timer, and twice. */
void device_timer_release(device_timer *t);

#endif
