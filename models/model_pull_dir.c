/* The download directory of `kiln model pull` (see model_pull_dir.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dir_create.h"
#include "model_pull_dir.h"
#include "status.h"

/* Writes `value` (a leading "~/" expanded with $HOME) and then `suffix`
 * (may be NULL) into dir[len]. */
static kiln_status expand(const char *value, const char *suffix, char *dir, size_t len)
{
    const char *home = getenv("HOME");
    int n;

    if (value[0] == '~' && (value[1] == '/' || value[1] == '\0') && home && *home)
        n = snprintf(dir, len, "%s%s%s%s", home, value + 1, suffix ? "/" : "",
                     suffix ? suffix : "");
    else
        n = snprintf(dir, len, "%s%s%s", value, suffix ? "/" : "", suffix ? suffix : "");
    if (n < 0 || (size_t)n >= len)
        return kiln_fail(KILN_E_INVAL, "model directory %s%s%s is too long", value,
                         suffix ? "/" : "", suffix ? suffix : "");
    return KILN_OK;
}

/* Chooses the download directory (see model_pull_dir.h). */
kiln_status model_pull_dir_choose(const char *override, char *dir, size_t len,
                                  const char **origin)
{
    const char *value;

    if (override && *override) {
        *origin = "--dir";
        return expand(override, NULL, dir, len);
    }
    value = getenv("U2NET_HOME");
    if (value && *value) {
        *origin = "$U2NET_HOME";
        return expand(value, NULL, dir, len);
    }
    value = getenv("XDG_DATA_HOME");
    if (value && *value) {
        *origin = "$XDG_DATA_HOME/.u2net";
        return expand(value, ".u2net", dir, len);
    }
    value = getenv("HOME");
    if (value && *value) {
        *origin = "~/.u2net";
        return expand(value, ".u2net", dir, len);
    }
    *origin = "nothing";
    return kiln_fail(KILN_E_CONFIG, "no model directory: --dir, U2NET_HOME, XDG_DATA_HOME "
                     "and HOME are all unset");
}

/* Creates the directory and proves it writable (see model_pull_dir.h). */
kiln_status model_pull_dir_prepare(const char *dir, const char *origin)
{
    char probe[4200];
    struct stat sb;
    int fd;

    if (stat(dir, &sb) != 0) {
        if (dir_create_parents(dir) != KILN_OK)
            return kiln_fail_context(KILN_E_IO, "model directory %s (%s) cannot be created",
                                     dir, origin);
    } else if (!S_ISDIR(sb.st_mode)) {
        return kiln_fail(KILN_E_IO, "model directory %s (%s) is not a directory", dir, origin);
    }
    if (snprintf(probe, sizeof(probe), "%s/.kiln-write-test.XXXXXX", dir) >= (int)sizeof(probe))
        return kiln_fail(KILN_E_INVAL, "model directory %s is too long", dir);
    fd = mkstemp(probe);
    if (fd < 0)
        return kiln_fail(KILN_E_IO, "model directory %s (%s) is not writable: %s", dir, origin,
                         strerror(errno));
    close(fd);
    unlink(probe);
    return KILN_OK;
}
