/* Creating directories. */
#ifndef KILN_DIR_CREATE_H
#define KILN_DIR_CREATE_H

#include "kiln.h"

/* Creates `dir` and its parents (mode 0755).  KILN_E_IO naming the
 * directory on failure. */
kiln_status dir_create_parents(const char *dir);

#endif
