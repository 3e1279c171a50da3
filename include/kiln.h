/* kiln: a vendor-neutral compute engine (OpenCL).
 * Public interface: status codes, error messages, engine lifecycle and
 * batch jobs.  Everything here is safe to call from any thread unless a
 * comment says otherwise. */
#ifndef KILN_H
#define KILN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks the calls libkiln exports; everything else in the library is
 * hidden (built with -fvisibility=hidden). */
#if defined(__GNUC__) && !defined(KILN_STATIC)
#define KILN_API __attribute__((visibility("default")))
#else
#define KILN_API
#endif

/* Every fallible kiln function returns a kiln_status: 0 on success, a
 * negative code otherwise, with a thread-local message (kiln_last_error). */
typedef int kiln_status;

enum {
    KILN_OK = 0,
    KILN_E_INVAL = -1,    /* a caller passed something invalid */
    KILN_E_NOMEM = -2,    /* device memory: the pool could not serve */
    KILN_E_HOSTMEM = -3,  /* host memory allocation failed */
    KILN_E_IO = -4,       /* a file could not be read or written */
    KILN_E_FORMAT = -5,   /* a file is corrupt, truncated or unsupported */
    KILN_E_LIMIT = -6,    /* input exceeds a configured limit */
    KILN_E_CONFIG = -7,   /* job file or option error */
    KILN_E_NODEV = -8,    /* no device matches the selector */
    KILN_E_CL = -9,       /* an OpenCL call failed */
    KILN_E_BUILD = -10,   /* a kernel failed to compile */
    KILN_E_LEAK = -11,    /* a resource was still live at close */
    KILN_E_STOPPED = -12  /* a batch stopped early (max_failures) */
};

/* Returns a constant name for a status code ("KILN_E_NOMEM"). */
KILN_API const char *kiln_status_name(kiln_status status);

/* Returns the calling thread's last error message; "" when none was set.
 * The pointer stays valid until the thread's next kiln call. */
KILN_API const char *kiln_last_error(void);

/* Runs a batch job file as the `kiln run` command does.  `sets` holds
 * `section.key=value` overrides (nsets of them); report_path and shard
 * (as "i/n") may be NULL.  On return *failed holds the number of items
 * that failed.  Returns KILN_OK when the job ran (even with failed
 * items), an error when the job could not run at all. */
KILN_API kiln_status kiln_run_job(const char *job_path, const char *const *sets,
                         size_t nsets, const char *report_path,
                         const char *shard, size_t *failed);

/* The library version string ("0.1.0"). */
KILN_API const char *kiln_version(void);

#ifdef __cplusplus
}
#endif
#endif
