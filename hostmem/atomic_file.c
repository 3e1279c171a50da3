/* Atomic file writes: a temporary file in the target's directory, renamed
 * over the target when complete. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <limits.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "file_open.h"
#include "status.h"

/* The status of a failed write (see atomic_file.h). */
kiln_status atomic_file_write_status(int err)
{
    return (err == ENOSPC || err == EDQUOT || err == EROFS) ? KILN_E_NOSPACE : KILN_E_IO;
}

/* Distinguishes temporary files of the same process (several threads may
 * write the same final path). */
static atomic_ulong tmp_counter;

/* Splits `path` into its directory ("." when it has none) and base name.
 * Returns 0, or -1 when the base name is empty or a part does not fit. */
static int split_path(const char *path, char *dir, size_t dir_size,
                      const char **base)
{
    const char *slash = strrchr(path, '/');
    size_t dir_len;

    if (!slash) {
        *base = path;
        snprintf(dir, dir_size, ".");
        return path[0] != '\0' ? 0 : -1;
    }
    *base = slash + 1;
    dir_len = (slash == path) ? 1 : (size_t)(slash - path);
    if (dir_len >= dir_size || **base == '\0')
        return -1;
    memcpy(dir, path, dir_len);
    dir[dir_len] = '\0';
    return 0;
}

/* Works out the path the data will be renamed to: `path` itself when it
 * does not exist or is a regular file; the target of a symbolic link
 * (whose link stays), when that target is a regular file or does not
 * exist yet.  Anything else (a device node, a FIFO, a socket, a
 * directory, a dangling link into a missing directory) is refused:
 * renaming over it would replace it. */
static kiln_status target_resolve(const char *path, char *target, size_t len)
{
    struct stat sb;

    if (lstat(path, &sb) != 0) {
        if (errno != ENOENT)
            return kiln_fail(KILN_E_IO, "%s: %s", path, strerror(errno));
        snprintf(target, len, "%s", path);
        return KILN_OK;
    }
    if (S_ISREG(sb.st_mode)) {
        snprintf(target, len, "%s", path);
        return KILN_OK;
    }
    if (S_ISLNK(sb.st_mode)) {
        char resolved[PATH_MAX];
        if (stat(path, &sb) == 0) {
            if (!S_ISREG(sb.st_mode))
                return kiln_fail(KILN_E_IO, "%s: a link to %s; kiln writes only regular files "
                                 "(use - for standard output)", path, file_kind_name(sb.st_mode));
            if (!realpath(path, resolved))
                return kiln_fail(KILN_E_IO, "%s: cannot resolve the link: %s", path,
                                 strerror(errno));
        } else {
            /* a link to a file not made yet: write it beside its name */
            ssize_t n = readlink(path, resolved, sizeof(resolved) - 1);
            if (n < 0 || resolved[0] != '/')
                return kiln_fail(KILN_E_IO, "%s: a link to a missing file (%s); write to the "
                                 "target itself", path, n < 0 ? strerror(errno) : "relative");
            resolved[n] = '\0';
        }
        if (strlen(resolved) >= len)
            return kiln_fail(KILN_E_INVAL, "%s: the link's target path is too long", path);
        snprintf(target, len, "%s", resolved);
        return KILN_OK;
    }
    return kiln_fail(KILN_E_IO, "%s: %s; kiln writes only regular files (use - for standard "
                     "output)", path, file_kind_name(sb.st_mode));
}

/* Writes straight to standard output (the path "-"). */
static kiln_status stdout_open(atomic_file *af)
{
    int fd = dup(STDOUT_FILENO);

    if (fd < 0)
        return kiln_fail(KILN_E_IO, "standard output: %s", strerror(errno));
    af->fp = fdopen(fd, "wb");
    if (!af->fp) {
        int err = errno;
        close(fd);
        return kiln_fail(KILN_E_IO, "standard output: %s", strerror(err));
    }
    af->to_stdout = 1;
    memcpy(af->final_path, "-", 2);
    return KILN_OK;
}

/* Creates the temporary file next to final_path; see atomic_file.h. */
kiln_status atomic_file_open(atomic_file *af, const char *requested_path)
{
    char dir[ATOMIC_FILE_PATH_MAX];
    char final_path[ATOMIC_FILE_PATH_MAX];
    const char *base;
    unsigned long serial;
    int n, fd;
    kiln_status st;

    if (!af)
        return kiln_fail(KILN_E_INVAL, "atomic_file_open: NULL handle");
    memset(af, 0, sizeof(*af));
    if (!requested_path || strlen(requested_path) >= sizeof(af->final_path))
        return kiln_fail(KILN_E_INVAL, "%s: path missing or too long",
                         requested_path ? requested_path : "(null)");
    if (strcmp(requested_path, "-") == 0)
        return stdout_open(af);
    if (requested_path[strlen(requested_path) - 1] == '/')
        return kiln_fail(KILN_E_INVAL, "%s: not a file path", requested_path);
    st = target_resolve(requested_path, final_path, sizeof(final_path));
    if (st != KILN_OK)
        return st;
    if (split_path(final_path, dir, sizeof(dir), &base) != 0)
        return kiln_fail(KILN_E_INVAL, "%s: not a file path", final_path);
    serial = atomic_fetch_add(&tmp_counter, 1);
    /* The directory part of final_path, slash included, then ".<base>...". */
    n = snprintf(af->tmp_path, sizeof(af->tmp_path), "%.*s.%s.tmp.%ld.%lu",
                 (int)(base - final_path), final_path, base, (long)getpid(), serial);
    if (n < 0 || (size_t)n >= sizeof(af->tmp_path)) {
        af->tmp_path[0] = '\0';
        return kiln_fail(KILN_E_INVAL, "%s: path too long for a temporary name",
                         final_path);
    }
    fd = open(af->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
        int err = errno;
        af->tmp_path[0] = '\0';
        return kiln_fail(atomic_file_write_status(err), "%s: cannot create a file in directory %s: %s",
                         final_path, dir, strerror(err));
    }
    af->fp = fdopen(fd, "wb");
    if (!af->fp) {
        int err = errno;
        close(fd);
        unlink(af->tmp_path);
        af->tmp_path[0] = '\0';
        return kiln_fail(KILN_E_IO, "%s: cannot open a stream in directory %s: %s",
                         final_path, dir, strerror(err));
    }
    memcpy(af->final_path, final_path, strlen(final_path) + 1);
    return KILN_OK;
}

/* Finishes the temporary file and renames it into place; see
 * atomic_file.h.  `what` names the first step that failed. */
kiln_status atomic_file_commit(atomic_file *af)
{
    const char *what = NULL;
    int err = 0;
    FILE *fp;

    if (!af || !af->fp)
        return kiln_fail(KILN_E_INVAL, "atomic_file_commit: %s: not pending",
                         af ? af->final_path : "(null)");
    fp = af->fp;
    af->fp = NULL;
    if (af->to_stdout) {
        int bad = ferror(fp) || fflush(fp) != 0;
        if (fclose(fp) != 0 || bad)
            return kiln_fail(KILN_E_IO, "standard output: write failed: %s", strerror(errno));
        return KILN_OK;
    }
    if (ferror(fp)) {
        what = "an earlier write failed";
        err = EIO;
    } else if (fflush(fp) != 0) {
        what = "flush failed";
        err = errno;
    } else if (fsync(fileno(fp)) != 0 && errno != EINVAL && errno != EROFS) {
        what = "fsync failed";
        err = errno;
    }
    if (fclose(fp) != 0 && !what) {
        what = "close failed";
        err = errno;
    }
    if (!what && rename(af->tmp_path, af->final_path) != 0) {
        what = "rename failed";
        err = errno;
    }
    if (what) {
        unlink(af->tmp_path);
        af->tmp_path[0] = '\0';
        return kiln_fail(atomic_file_write_status(err), "%s: %s: %s", af->final_path, what, strerror(err));
    }
    af->tmp_path[0] = '\0';
    return KILN_OK;
}

/* Drops a pending temporary file; see atomic_file.h. */
void atomic_file_abort(atomic_file *af)
{
    int saved_errno = errno;

    if (!af)
        return;
    if (af->fp) {
        fclose(af->fp);
        af->fp = NULL;
    }
    if (af->tmp_path[0] != '\0') {
        unlink(af->tmp_path);
        af->tmp_path[0] = '\0';
    }
    errno = saved_errno;
}

/* Whether `name` is an atomic temporary ".<base>.tmp.<pid>.<n>"; its pid
 * goes to *pid. */
static int temporary_name(const char *name, long *pid)
{
    const char *last = strrchr(name, '.'), *mid;
    char *end;

    if (name[0] != '.' || !last || last == name || !last[1] || strspn(last + 1, "0123456789") !=
        strlen(last + 1))
        return 0;
    for (mid = last - 1; mid > name && *mid != '.'; mid--)
        ;
    if (mid <= name || mid + 1 == last || mid - name < 4 || strncmp(mid - 4, ".tmp", 4) != 0)
        return 0;
    errno = 0;
    *pid = strtol(mid + 1, &end, 10);
    return errno == 0 && end == last && *pid > 0;
}

/* Removes the temporaries of dead processes (see atomic_file.h). */
size_t atomic_file_remove_stale(const char *dir)
{
    DIR *d = opendir(dir);
    const struct dirent *e;
    size_t removed = 0;

    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL) {
        char path[ATOMIC_FILE_PATH_MAX];
        long pid;
        if (!temporary_name(e->d_name, &pid) || (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < (int)sizeof(path) &&
            unlink(path) == 0)
            removed++;
    }
    closedir(d);
    return removed;
}

/* Checks that `path` could be written now (see atomic_file.h). */
kiln_status atomic_file_check(const char *path)
{
    atomic_file af;
    kiln_status st;

    if (strcmp(path, "-") == 0)
        return KILN_OK;
    st = atomic_file_open(&af, path);
    atomic_file_abort(&af);
    return st;
}
