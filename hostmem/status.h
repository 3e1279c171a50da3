/* Internal error helpers: setting the thread-local message. */
#ifndef KILN_STATUS_H
#define KILN_STATUS_H

#include "kiln.h"

/* Sets the thread's error message from a printf format and returns
 * `status`, so that callers can write `return kiln_fail(...)`. */
kiln_status kiln_fail(kiln_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prefixes the current thread-local message with a printf-formatted
 * context ("reading a.png: <old message>") and returns `status`. */
kiln_status kiln_fail_context(kiln_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Clears the thread-local message. */
void kiln_clear_error(void);

#endif
