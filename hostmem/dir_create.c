/* Creating directories. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "dir_create.h"
#include "status.h"

/* Creates a directory and its parents. */
kiln_status dir_create_parents(const char *dir)
{
    char path[4096];
    size_t len = strlen(dir);
    if (len == 0 || len >= sizeof(path))
        return kiln_fail(KILN_E_IO, "%s: invalid directory name", dir);
    memcpy(path, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char saved = path[i];
        path[i] = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return kiln_fail(KILN_E_IO, "%s: cannot create directory: %s", path, strerror(errno));
        path[i] = saved;
    }
    return KILN_OK;
}
