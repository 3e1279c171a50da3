/* The access log (see serve_log.h). */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "serve_log.h"
#include "status.h"

/* Opens the destination. */
kiln_status serve_log_open(serve_log *log, const char *where)
{
    log->fp = NULL;
    log->owned = 0;
    if (!where[0])
        return KILN_OK;
    if (strcmp(where, "-") == 0) {
        log->fp = stderr;
        return KILN_OK;
    }
    log->fp = fopen(where, "a");
    if (!log->fp)
        return kiln_fail(KILN_E_IO, "[serve] access_log: %s: %s", where, strerror(errno));
    log->owned = 1;
    return KILN_OK;
}

/* Copies s into out as the inside of a JSON string (quotes, backslashes
 * and control bytes escaped; cut to fit). */
static void json_escape(const char *s, char *out, size_t cap)
{
    size_t o = 0;

    for (; *s && o + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20 || c >= 0x7f) {
            o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
}

/* Writes one line. */
void serve_log_request(serve_log *log, const char *method, const char *path, unsigned status,
                       size_t bytes, double ms, double queue_ms)
{
    char when[32], m[64], p[512], line[1024];
    struct timespec now;
    struct tm tm;

    if (!log->fp)
        return;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    json_escape(method, m, sizeof(m));
    json_escape(path, p, sizeof(p));
    snprintf(line, sizeof(line),
             "{\"time\":\"%s.%03ldZ\",\"method\":\"%s\",\"path\":\"%s\",\"status\":%u,"
             "\"bytes\":%zu,\"ms\":%.3f,\"queue_ms\":%.3f}\n",
             when, now.tv_nsec / 1000000L, m, p, status, bytes, ms, queue_ms);
    fputs(line, log->fp);
    fflush(log->fp);
}

/* Closes the file when it is ours. */
void serve_log_close(serve_log *log)
{
    if (log->owned && log->fp)
        fclose(log->fp);
    log->fp = NULL;
    log->owned = 0;
}
