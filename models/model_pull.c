/* Pulling a model file into a directory (see model_pull.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model_md5_cache.h"
#include "model_pull.h"
#include "model_verify.h"
#include "status.h"

#define PULL_PATH_MAX 4200

/* Records the note of a file in place, or removes a stale one. */
static kiln_status settle_note(const model_pull_request *rq, const char *final_path)
{
    if (rq->md5_noted)
        return model_md5_note_write(final_path, rq->md5);
    model_md5_note_remove(final_path);
    return KILN_OK;
}

/* Explains a failed transfer and removes the part file when nothing
 * worth continuing is in it (see model_pull.h). */
static kiln_status transfer_failed(kiln_status st, const model_download_result *dl,
                                   const char *part)
{
    char why[1024];

    if (dl->busy)
        return st;
    if (dl->http_error || dl->size == 0) {
        (void)unlink(part);
        return st;
    }
    snprintf(why, sizeof(why), "%s", kiln_last_error());
    return kiln_fail(st, "%s; %s keeps the %llu bytes that arrived: run the same pull again "
                     "to continue", why, part, (unsigned long long)dl->size);
}

/* Pulls one model (see model_pull.h). */
kiln_status model_pull(const model_pull_request *rq, const model_download_opts *o,
                       model_pull_outcome *outcome, uint64_t *size, model_download_result *dl)
{
    char final_path[PULL_PATH_MAX], part[PULL_PATH_MAX + 8], actual[33];
    model_download_result local;
    struct stat sb;
    kiln_status st;
    int replacing = 0;

    if (!dl)
        dl = &local;
    memset(dl, 0, sizeof(*dl));
    *size = 0;
    if (snprintf(final_path, sizeof(final_path), "%s/%s.onnx", rq->dir, rq->name) >=
        (int)sizeof(final_path))
        return kiln_fail(KILN_E_INVAL, "model directory %s is too long", rq->dir);
    snprintf(part, sizeof(part), "%s.part", final_path);

    if (stat(final_path, &sb) == 0) {
        if (!S_ISREG(sb.st_mode))
            return kiln_fail(KILN_E_IO, "%s is in the way: not a regular file", final_path);
        st = model_file_md5_cached(final_path, actual);
        if (st != KILN_OK)
            return st;
        if (strcmp(actual, rq->md5) == 0) {
            *outcome = MODEL_PULL_PRESENT;
            *size = (uint64_t)sb.st_size;
            return settle_note(rq, final_path);
        }
        replacing = 1;
    }

    st = model_download(rq->url, part, o, dl);
    if (st != KILN_OK)
        return transfer_failed(st, dl, part);
    st = model_verify_md5(part, rq->md5, actual);
    if (st != KILN_OK) {
        (void)unlink(part);
        return kiln_fail_context(st, "%s from %s refused (removed)", rq->name, rq->url);
    }
    if (rename(part, final_path) != 0) {
        int err = errno;
        (void)unlink(part);
        return kiln_fail(KILN_E_IO, "renaming %s to %s: %s", part, final_path, strerror(err));
    }
    model_file_md5_remember(final_path, actual);
    *outcome = replacing ? MODEL_PULL_REPLACED : MODEL_PULL_DOWNLOADED;
    *size = dl->size;
    return settle_note(rq, final_path);
}
