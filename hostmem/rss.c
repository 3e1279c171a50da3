/* Resident set size from /proc, with getrusage as the fallback for the
 * peak. */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "rss.h"

/* Reads the second field of /proc/self/statm (resident pages) and scales
 * it by the page size; 0 when unavailable. */
size_t rss_current_bytes(void)
{
    unsigned long long size_pages = 0, resident_pages = 0;
    long page = sysconf(_SC_PAGESIZE);
    FILE *fp = fopen("/proc/self/statm", "r");
    int fields;

    if (!fp)
        return 0;
    fields = fscanf(fp, "%llu %llu", &size_pages, &resident_pages);
    fclose(fp);
    if (fields != 2 || page <= 0)
        return 0;
    return (size_t)(resident_pages * (unsigned long long)page);
}

/* Parses "VmHWM:   1234 kB" from /proc/self/status; 0 when absent. */
static size_t peak_from_proc(void)
{
    char line[256];
    unsigned long long kib = 0;
    FILE *fp = fopen("/proc/self/status", "r");

    if (!fp)
        return 0;
    while (fgets(line, sizeof(line), fp)) {
        if (strncmp(line, "VmHWM:", 6) == 0) {
            if (sscanf(line + 6, "%llu", &kib) != 1)
                kib = 0;
            break;
        }
    }
    fclose(fp);
    return (size_t)(kib * 1024ull);
}

/* VmHWM when /proc has it, else ru_maxrss (kilobytes on Linux). */
size_t rss_peak_bytes(void)
{
    struct rusage usage;
    size_t peak = peak_from_proc();

    if (peak != 0)
        return peak;
    if (getrusage(RUSAGE_SELF, &usage) != 0 || usage.ru_maxrss <= 0)
        return 0;
    return (size_t)usage.ru_maxrss * 1024u;
}
