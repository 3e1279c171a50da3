/* Checking a model file against the MD5 it must have, and the note that
 * keeps a hash given on the command line (`kiln model pull --md5`, a
 * mirror's custom build of a model) beside the file it belongs to, so
 * that `kiln model list` checks the file against it rather than against
 * rembg's published hash.  No OpenCL. */
#ifndef KILN_MODEL_VERIFY_H
#define KILN_MODEL_VERIFY_H

#include "kiln.h"

/* Normalises an MD5 given by a person: 32 hex digits in either case,
 * optionally after pooch's "md5:" prefix, into 32 lower-case digits and a
 * NUL in out.  Returns 1, or 0 when `text` is not such an MD5. */
int model_md5_parse(const char *text, char out[33]);

/* Hashes `file` (all of it, no cache) into actual and compares it with
 * `expected` (32 lower-case hex digits).  KILN_OK when equal;
 * KILN_E_FORMAT naming the file and both hashes when not; KILN_E_IO when
 * the file cannot be read. */
kiln_status model_verify_md5(const char *file, const char *expected, char actual[33]);

/* The note of a model file is MODEL_PATH.md5, one line "HEX  NAME" as
 * md5sum writes it.  model_md5_note_write writes it atomically
 * (KILN_E_IO naming it on failure); model_md5_note_read returns 1 and
 * sets md5 when a well-formed note exists, else 0;
 * model_md5_note_remove removes it when present. */
kiln_status model_md5_note_write(const char *model_path, const char *md5);
int model_md5_note_read(const char *model_path, char md5[33]);
void model_md5_note_remove(const char *model_path);

#endif
