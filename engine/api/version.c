/* The library version. */
#include "config.h"
#include "kiln.h"

/* Returns the version string configured at build time. */
const char *kiln_version(void)
{
    return PACKAGE_VERSION;
}
