/* Opening input files (see file_open.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_open.h"
#include "status.h"

/* Names what a non-regular file is (see file_open.h). */
const char *file_kind_name(mode_t mode)
{
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a regular file";
}

/* Opens a regular file without blocking on anything else. */
kiln_status file_open_regular(const char *path, FILE **fp)
{
    struct stat sb;
    int fd, flags;

    *fp = NULL;
    fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return kiln_fail(KILN_E_IO, "%s: cannot open: %s", path, strerror(errno));
    if (fstat(fd, &sb) != 0) {
        int err = errno;
        close(fd);
        return kiln_fail(KILN_E_IO, "%s: cannot open: %s", path, strerror(err));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return kiln_fail(KILN_E_IO, "%s: %s, not a regular file: skipped", path,
                         file_kind_name(sb.st_mode));
    }
    flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0 || !(*fp = fdopen(fd, "rb"))) {
        int err = errno;
        close(fd);
        return kiln_fail(KILN_E_IO, "%s: cannot open: %s", path, strerror(err));
    }
    return KILN_OK;
}
