/* Where kiln keeps its caches (compiled programs, conv tuning, model
 * identities): $KILN_CACHE_DIR, else $XDG_CACHE_HOME/kiln, else
 * $HOME/.cache/kiln (/tmp/.cache/kiln without HOME). */
#ifndef KILN_CACHE_DIR_H
#define KILN_CACHE_DIR_H

#include <stddef.h>

/* Writes the cache directory into buf (truncated to len). */
void kiln_cache_dir(char *buf, size_t len);

#endif
