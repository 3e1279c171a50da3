/* Where `kiln model pull` puts the models it downloads: the directory
 * rembg itself downloads into and reads from, so both tools share one
 * copy.  No OpenCL. */
#ifndef KILN_MODEL_PULL_DIR_H
#define KILN_MODEL_PULL_DIR_H

#include <stddef.h>

#include "kiln.h"

/* Chooses the download directory: `override` when not NULL or empty
 * (--dir), else $U2NET_HOME, else $XDG_DATA_HOME/.u2net, else
 * $HOME/.u2net (rembg's choice; unset or empty variables are skipped and a
 * leading "~/" is expanded with $HOME).  Only the first that is set is
 * taken: a directory that cannot be used is an error, never a silent
 * fall-through to another one.  Writes it into dir[len] and a constant
 * naming where it came from ("--dir", "$U2NET_HOME"...) into *origin.
 * KILN_E_CONFIG when none is set (no HOME either); KILN_E_INVAL when the
 * path does not fit. */
kiln_status model_pull_dir_choose(const char *override, char *dir, size_t len,
                                  const char **origin);

/* Creates `dir` (and its parents) when missing and checks that a file can
 * be created in it (one is created and removed, which also catches a
 * read-only file system, which access(2) does not).  KILN_E_IO naming the
 * directory, `origin` and the reason otherwise. */
kiln_status model_pull_dir_prepare(const char *dir, const char *origin);

#endif
