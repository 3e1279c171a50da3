/* Status codes and the thread-local error message. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "status.h"

#define ERROR_MESSAGE_MAX 4096

static _Thread_local char error_message[ERROR_MESSAGE_MAX];

/* Returns a constant name for a status code. */
const char *kiln_status_name(kiln_status status)
{
    switch (status) {
    case KILN_OK: return "KILN_OK";
    case KILN_E_INVAL: return "KILN_E_INVAL";
    case KILN_E_NOMEM: return "KILN_E_NOMEM";
    case KILN_E_HOSTMEM: return "KILN_E_HOSTMEM";
    case KILN_E_IO: return "KILN_E_IO";
    case KILN_E_FORMAT: return "KILN_E_FORMAT";
    case KILN_E_LIMIT: return "KILN_E_LIMIT";
    case KILN_E_CONFIG: return "KILN_E_CONFIG";
    case KILN_E_NODEV: return "KILN_E_NODEV";
    case KILN_E_CL: return "KILN_E_CL";
    case KILN_E_BUILD: return "KILN_E_BUILD";
    case KILN_E_LEAK: return "KILN_E_LEAK";
    case KILN_E_STOPPED: return "KILN_E_STOPPED";
    default: return "KILN_E_UNKNOWN";
    }
}

/* Returns the calling thread's last error message. */
const char *kiln_last_error(void)
{
    return error_message;
}

/* Clears the calling thread's error message. */
void kiln_clear_error(void)
{
    error_message[0] = '\0';
}

/* Formats the message and returns `status`. */
kiln_status kiln_fail(kiln_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(error_message, sizeof(error_message), fmt, ap);
    va_end(ap);
    return status;
}

/* Prefixes the existing message with a formatted context. */
kiln_status kiln_fail_context(kiln_status status, const char *fmt, ...)
{
    char previous[ERROR_MESSAGE_MAX];
    char prefix[ERROR_MESSAGE_MAX];
    va_list ap;

    memcpy(previous, error_message, sizeof(previous));
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    size_t used = strlen(prefix);
    if (used > sizeof(error_message) - 1)
        used = sizeof(error_message) - 1;
    memcpy(error_message, prefix, used);
    if (previous[0] != '\0' && used + 2 < sizeof(error_message)) {
        size_t rest = strlen(previous);
        memcpy(error_message + used, ": ", 2);
        used += 2;
        if (rest > sizeof(error_message) - 1 - used)
            rest = sizeof(error_message) - 1 - used;
        memcpy(error_message + used, previous, rest);
        used += rest;
    }
    error_message[used] = '\0';
    return status;
}

/* Maps an OpenCL error code to its name. */
const char *kiln_cl_error_name(cl_int err)
{
    switch (err) {
#define NAME(e) case e: return #e
    NAME(CL_SUCCESS);
    NAME(CL_DEVICE_NOT_FOUND);
    NAME(CL_DEVICE_NOT_AVAILABLE);
    NAME(CL_COMPILER_NOT_AVAILABLE);
    NAME(CL_MEM_OBJECT_ALLOCATION_FAILURE);
    NAME(CL_OUT_OF_RESOURCES);
    NAME(CL_OUT_OF_HOST_MEMORY);
    NAME(CL_PROFILING_INFO_NOT_AVAILABLE);
    NAME(CL_MEM_COPY_OVERLAP);
    NAME(CL_IMAGE_FORMAT_MISMATCH);
    NAME(CL_IMAGE_FORMAT_NOT_SUPPORTED);
    NAME(CL_BUILD_PROGRAM_FAILURE);
    NAME(CL_MAP_FAILURE);
    NAME(CL_MISALIGNED_SUB_BUFFER_OFFSET);
    NAME(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST);
    NAME(CL_COMPILE_PROGRAM_FAILURE);
    NAME(CL_LINKER_NOT_AVAILABLE);
    NAME(CL_LINK_PROGRAM_FAILURE);
    NAME(CL_DEVICE_PARTITION_FAILED);
    NAME(CL_KERNEL_ARG_INFO_NOT_AVAILABLE);
    NAME(CL_INVALID_VALUE);
    NAME(CL_INVALID_DEVICE_TYPE);
    NAME(CL_INVALID_PLATFORM);
    NAME(CL_INVALID_DEVICE);
    NAME(CL_INVALID_CONTEXT);
    NAME(CL_INVALID_QUEUE_PROPERTIES);
    NAME(CL_INVALID_COMMAND_QUEUE);
    NAME(CL_INVALID_HOST_PTR);
    NAME(CL_INVALID_MEM_OBJECT);
    NAME(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR);
    NAME(CL_INVALID_IMAGE_SIZE);
    NAME(CL_INVALID_SAMPLER);
    NAME(CL_INVALID_BINARY);
    NAME(CL_INVALID_BUILD_OPTIONS);
    NAME(CL_INVALID_PROGRAM);
    NAME(CL_INVALID_PROGRAM_EXECUTABLE);
    NAME(CL_INVALID_KERNEL_NAME);
    NAME(CL_INVALID_KERNEL_DEFINITION);
    NAME(CL_INVALID_KERNEL);
    NAME(CL_INVALID_ARG_INDEX);
    NAME(CL_INVALID_ARG_VALUE);
    NAME(CL_INVALID_ARG_SIZE);
    NAME(CL_INVALID_KERNEL_ARGS);
    NAME(CL_INVALID_WORK_DIMENSION);
    NAME(CL_INVALID_WORK_GROUP_SIZE);
    NAME(CL_INVALID_WORK_ITEM_SIZE);
    NAME(CL_INVALID_GLOBAL_OFFSET);
    NAME(CL_INVALID_EVENT_WAIT_LIST);
    NAME(CL_INVALID_EVENT);
    NAME(CL_INVALID_OPERATION);
    NAME(CL_INVALID_GL_OBJECT);
    NAME(CL_INVALID_BUFFER_SIZE);
    NAME(CL_INVALID_MIP_LEVEL);
    NAME(CL_INVALID_GLOBAL_WORK_SIZE);
    NAME(CL_INVALID_PROPERTY);
    NAME(CL_INVALID_IMAGE_DESCRIPTOR);
    NAME(CL_INVALID_COMPILER_OPTIONS);
    NAME(CL_INVALID_LINKER_OPTIONS);
    NAME(CL_INVALID_DEVICE_PARTITION_COUNT);
#undef NAME
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR";
    default: return "CL_UNKNOWN_ERROR";
    }
}

/* Records an OpenCL failure; allocation failures map to KILN_E_NOMEM. */
kiln_status kiln_fail_cl(cl_int err, const char *what)
{
    kiln_status status = KILN_E_CL;
    if (err == CL_MEM_OBJECT_ALLOCATION_FAILURE || err == CL_OUT_OF_RESOURCES ||
        err == CL_OUT_OF_HOST_MEMORY || err == CL_INVALID_BUFFER_SIZE)
        status = KILN_E_NOMEM;
    return kiln_fail(status, "%s: %s (%d)", what, kiln_cl_error_name(err), (int)err);
}
