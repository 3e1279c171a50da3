/* libFuzzer target: job files (engine/batch/job.c, job_scan.c,
 * job_keys.c, size_parse.c and iniparser underneath).
 *
 * Each input is a job file, loaded with job_load from a memory file
 * (messages name its /proc/self/fd path).  When the input's first line
 * has the form "section.key=value", the rest of the input (after the
 * first newline) is loaded again with that line as a --set override.
 * job_load writes its output only on success: an error must leave it as
 * it was. */
#include <string.h>

#include "fuzz_common.h"
#include "job.h"

/* The longest first line tried as a --set. */
#define FUZZ_SET_MAX 4096

/* Whether line (len bytes, no newline) looks like "x.y=z": no NUL, an
 * '=' with a '.' before it and something either side of the '.'. */
static int looks_like_set(const uint8_t *line, size_t len)
{
    const uint8_t *eq = memchr(line, '=', len);
    const uint8_t *dot;

    if (!eq || memchr(line, '\0', len))
        return 0;
    dot = memchr(line, '.', (size_t)(eq - line));
    return dot && dot > line && dot + 1 < eq;
}

/* Loads the job at `path` with `sets` into a sentinel-filled config;
 * checks that an error left it untouched. */
static void job_try(const char *path, const char *const *sets, size_t nsets)
{
    static job_config cfg, sentinel;
    kiln_status st;

    memset(&sentinel, 0xa5, sizeof(sentinel));
    cfg = sentinel;
    st = job_load(path, sets, nsets, &cfg);
    fuzz_note(nsets ? "job_load --set" : "job_load", st);
    if (st != KILN_OK)
        FUZZ_CHECK(memcmp(&cfg, &sentinel, sizeof(cfg)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const int fds = fuzz_fds_mark();
    const uint8_t *nl = memchr(data, '\n', size);
    size_t line_len = nl ? (size_t)(nl - data) : size;

    job_try(fuzz_memfd_path(data, size), NULL, 0);

    if (nl && line_len < FUZZ_SET_MAX && looks_like_set(data, line_len)) {
        char set[FUZZ_SET_MAX];
        const char *sets[1] = { set };

        memcpy(set, data, line_len);
        set[line_len] = '\0';
        job_try(fuzz_memfd_path(nl + 1, size - line_len - 1), sets, 1);
    }
    fuzz_fds_check(fds);
    return 0;
}
