/* Writing a file atomically: the data goes to a temporary file in the
 * same directory, which is renamed over the final path only when it is
 * complete, so the final path either does not exist (or keeps its old
 * content) or holds the whole new file.  Used for PNG outputs, the
 * program cache and the JSON report.
 *
 * What the path is decides where the data goes, and nothing but a
 * regular file is ever replaced: a missing path or a regular file is
 * written as above; a symbolic link keeps the link and writes its target
 * (a regular file, or a new file at an absolute target); "-" writes
 * straight to standard output (not atomic: a failure leaves what was
 * written); a device node, a FIFO, a socket or a directory, or a link to
 * one, is refused with KILN_E_IO naming what it is. */
#ifndef KILN_ATOMIC_FILE_H
#define KILN_ATOMIC_FILE_H

#include <stdio.h>

#include "kiln.h"

#define ATOMIC_FILE_PATH_MAX 4096

/* One file being written.  `fp` is open for writing while the file is
 * pending and NULL once it was committed or aborted.  The temporary file is
 * named "<dir>/.<base>.tmp.<pid>.<counter>". */
typedef struct atomic_file {
    FILE *fp;
    int to_stdout;                    /* the path "-": no temporary file */
    char final_path[ATOMIC_FILE_PATH_MAX];
    char tmp_path[ATOMIC_FILE_PATH_MAX];
} atomic_file;

/* Creates the temporary file for `final_path` (or its link's target) and
 * opens af->fp on it
 * (binary, write-only, mode 0666 less the umask).  Always initialises *af,
 * so atomic_file_abort is safe afterwards even when this fails.  A path too
 * long or naming a directory ("out/") is KILN_E_INVAL; a missing or
 * unwritable directory is KILN_E_IO naming the directory and the reason. */
kiln_status atomic_file_open(atomic_file *af, const char *final_path);

/* Flushes, fsyncs and closes af->fp, then renames the temporary file over
 * the final path.  A write error seen earlier on af->fp (ferror) or any
 * failure here removes the temporary file and returns KILN_E_IO naming the
 * final path (KILN_E_NOSPACE when the file system is full or read-only);
 * the final path is then untouched.  Either way the file is no
 * longer pending afterwards (a second commit is KILN_E_INVAL). */
kiln_status atomic_file_commit(atomic_file *af);

/* The status of a write that failed with errno `err`: KILN_E_NOSPACE when
 * the file system is full or read-only (ENOSPC, EDQUOT, EROFS: a
 * job-level condition, every later write fails too), else KILN_E_IO. */
kiln_status atomic_file_write_status(int err);

/* Closes and removes a pending temporary file, leaving the final path
 * untouched.  A no-op after commit, after a previous abort or after a
 * failed open.  Preserves errno, so a caller may report the error that made
 * it abort. */
void atomic_file_abort(atomic_file *af);

/* Checks that `path` could be written now: its directory exists and is
 * writable and it is nothing kiln refuses to replace (a temporary file
 * is created and removed).  "-" (standard output) always can.  Returns
 * atomic_file_open's status and message; lets a command refuse a bad
 * output or report path at start rather than after the work. */
kiln_status atomic_file_check(const char *path);

/* Removes from `dir` the temporary files of this naming pattern whose
 * process no longer exists (left by a crash or kill -9; a live process's
 * temporaries, this one's included, are kept).  Returns how many were
 * removed; an unreadable directory removes nothing. */
size_t atomic_file_remove_stale(const char *dir);

#endif
