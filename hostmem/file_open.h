/* Opening an input file for reading without ever blocking on it. */
#ifndef KILN_FILE_OPEN_H
#define KILN_FILE_OPEN_H

#include <stdio.h>
#include <sys/types.h>

#include "kiln.h"

/* Opens `path` for binary reading into *fp when it is a regular file
 * (links followed).  A FIFO, a device node, a socket or a directory is
 * refused without blocking (a FIFO with no writer would block fopen
 * forever): KILN_E_IO naming the file and what it is.  A missing or
 * unreadable file: KILN_E_IO with the reason.  *fp is NULL on error. */
kiln_status file_open_regular(const char *path, FILE **fp);

/* Names what a file of st_mode `mode` is when it is not a regular file
 * ("a FIFO", "a directory", "a character device"...). */
const char *file_kind_name(mode_t mode);

#endif
