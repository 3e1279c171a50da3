/* The on-disk program cache: one file per key, checked before use.
 *
 * File layout (little-endian): "KILNPRG\0" magic, uint32 format version,
 * 32 hex digits of the key, uint64 payload length, uint64 payload digest,
 * then the payload (the device binary).  Anything that does not match
 * exactly (short file, wrong magic, version, key, length or digest) is
 * rejected, never trusted. */
#ifndef KILN_PROGRAM_DISK_H
#define KILN_PROGRAM_DISK_H

#include <stddef.h>

#include "kiln.h"

/* Reads the cached binary for `key_hex` from `path` into a kiln_malloc'd
 * buffer.  Returns KILN_OK, KILN_E_IO when there is no file, or
 * KILN_E_FORMAT when the file is corrupt, truncated or belongs to another
 * key (the caller rebuilds and overwrites it). */
kiln_status program_disk_load(const char *path, const char *key_hex,
                              unsigned char **binary, size_t *len);

/* Writes a binary for `key_hex` to `path` atomically (temporary name,
 * then rename).  KILN_E_IO on failure, leaving no partial file. */
kiln_status program_disk_store(const char *path, const char *key_hex,
                               const unsigned char *binary, size_t len);

#endif
