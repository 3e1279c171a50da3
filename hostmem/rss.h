/* Process memory measurement (resident set size), for reports and soak
 * tests that assert host memory stops growing. */
#ifndef KILN_RSS_H
#define KILN_RSS_H

#include <stddef.h>

/* The process's current resident set size in bytes, from /proc/self/statm;
 * 0 when it cannot be read (not Linux, no /proc). */
size_t rss_current_bytes(void);

/* The process's peak resident set size in bytes: VmHWM from
 * /proc/self/status, else getrusage's ru_maxrss; 0 when neither works. */
size_t rss_peak_bytes(void);

#endif
