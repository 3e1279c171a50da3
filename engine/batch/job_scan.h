/* What iniparser cannot tell about a job file, checked before it parses:
 * a NUL byte (not a text file), an unterminated quote, text after a
 * closing quote, a key given twice in a section (iniparser keeps the last
 * value silently; a section opened twice merges its keys and is fine).  A UTF-8 byte-order mark, which iniparser takes for a syntax
 * error, is accepted. */
#ifndef KILN_JOB_SCAN_H
#define KILN_JOB_SCAN_H

#include <stddef.h>

#include "kiln.h"

/* Job files larger than this are refused (a job file is a few KB). */
#define JOB_FILE_MAX ((size_t)1 << 20)

/* Reads the job file `path`, checks it as above and hands iniparser the
 * text to parse: *fd is a memory file holding it (without a byte-order
 * mark) and `parse_path` (parse_len bytes) its /proc/self/fd path; close
 * *fd after parsing.  Errors are KILN_E_CONFIG naming the file and the
 * line ("job.ini: line 4: [resize] width appears again (first at line
 * 2)"), KILN_E_IO when it cannot be read.  *fd is -1 on error. */
kiln_status job_scan(const char *path, int *fd, char *parse_path, size_t parse_len);

#endif
