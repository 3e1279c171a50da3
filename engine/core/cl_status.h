/* OpenCL error codes as kiln statuses: the device layer's half of the
 * error helpers (hostmem/status.h holds the host half). */
#ifndef KILN_CL_STATUS_H
#define KILN_CL_STATUS_H

#include <CL/cl.h>

#include "kiln.h"

/* Returns the symbolic name of an OpenCL error code ("CL_OUT_OF_RESOURCES"). */
const char *kiln_cl_error_name(cl_int err);

/* Sets a message "<what>: <CL error name> (<code>)" and returns KILN_E_CL,
 * or KILN_E_NOMEM for the allocation errors. */
kiln_status kiln_fail_cl(cl_int err, const char *what);

#endif
