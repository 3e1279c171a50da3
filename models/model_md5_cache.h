/* Model file identities remembered across processes: the MD5 that
 * model_identify_file needs (a whole read and hash of the file, about a
 * second for a 176 MB model) is kept in the cache directory
 * (cache_dir.h), one small file "model-md5-KEY.txt" per model file, KEY
 * the MD5 of the file's absolute path, size, modification time, inode and
 * device.  A file that changes gets a new key, so a stale entry is never
 * read; an unreadable or malformed entry is recomputed and rewritten.
 * Writing the cache is best effort: a read-only cache directory only
 * costs the hashing again. */
#ifndef KILN_MODEL_MD5_CACHE_H
#define KILN_MODEL_MD5_CACHE_H

#include "kiln.h"

/* Writes the MD5 of the file `file` as 32 lower-case hex digits and a NUL
 * into text.  KILN_E_IO when it cannot be read. */
kiln_status model_file_md5(const char *file, char text[33]);

/* As model_file_md5 (32 hex digits and a NUL into text), from the cache
 * when it holds this version of the file, else computed and cached.
 * KILN_E_IO when the file cannot be read. */
kiln_status model_file_md5_cached(const char *file, char text[33]);

/* The cached MD5 of this version of `file`, without hashing it: 1 and
 * text set (32 hex digits and a NUL) when the cache holds it, else 0. */
int model_file_md5_lookup(const char *file, char text[33]);

/* Records `text` (32 hex digits) as the MD5 of this version of `file`,
 * which the caller has just hashed (a download checked before its
 * rename), so that later lookups need not read it again.  Best effort. */
void model_file_md5_remember(const char *file, const char *text);

#endif
