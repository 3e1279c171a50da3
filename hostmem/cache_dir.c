/* The cache directory, from the environment (see cache_dir.h). */
#include <stdio.h>
#include <stdlib.h>

#include "cache_dir.h"

/* $KILN_CACHE_DIR, $XDG_CACHE_HOME/kiln or $HOME/.cache/kiln. */
void kiln_cache_dir(char *buf, size_t len)
{
    const char *env = getenv("KILN_CACHE_DIR");
    if (env && *env) {
        snprintf(buf, len, "%s", env);
        return;
    }
    env = getenv("XDG_CACHE_HOME");
    if (env && *env) {
        snprintf(buf, len, "%s/kiln", env);
        return;
    }
    env = getenv("HOME");
    snprintf(buf, len, "%s/.cache/kiln", env && *env ? env : "/tmp");
}
