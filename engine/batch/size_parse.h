/* Byte sizes as job files and options write them ("512M"). */
#ifndef KILN_SIZE_PARSE_H
#define KILN_SIZE_PARSE_H

#include <stdint.h>

/* Parses a byte size: a decimal integer with an optional suffix K, M, G
 * or T, also spelled KB/KiB, MB/MiB... (all powers of 1024, any case) or
 * B, with optional white space around the number and before the suffix
 * ("512M", " 2 GiB ").  Returns 0 and *out on success, -1 leaving *out
 * untouched on an empty, signed, fractional, malformed or overflowing
 * value (above UINT64_MAX). */
int size_parse(const char *text, uint64_t *out);

#endif
