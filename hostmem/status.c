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
    case KILN_E_NOSPACE: return "KILN_E_NOSPACE";
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
