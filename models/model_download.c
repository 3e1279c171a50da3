/* The HTTP transfer of a model file (see model_download.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "clock.h"
#include "model_download.h"
#include "status.h"

#define PROGRESS_BAR_WIDTH 30
#define PROGRESS_REDRAW_MS 100.0

static volatile sig_atomic_t stop_requested;

/* One transfer's state, shared with libcurl's callbacks. */
typedef struct transfer {
    int fd;                     /* the partial file, positioned at its end */
    uint64_t from;              /* bytes there before this request */
    int write_errno;            /* why a write failed, 0 when none did */
    const model_download_opts *opts;
    double drawn_ms;            /* when the bar was last drawn, 0: never */
    uint64_t drawn_bytes;       /* the bytes it showed then */
} transfer;

/* Starts libcurl (see model_download.h). */
kiln_status model_download_init(void)
{
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK)
        return kiln_fail(KILN_E_IO, "libcurl cannot start: %s", curl_easy_strerror(rc));
    return KILN_OK;
}

/* Releases libcurl (see model_download.h). */
void model_download_cleanup(void)
{
    curl_global_cleanup();
}

/* Sets the stop flag (async-signal-safe). */
void model_download_interrupt(void)
{
    stop_requested = 1;
}

/* Reads the stop flag. */
int model_download_interrupted(void)
{
    return stop_requested != 0;
}

/* libcurl's write callback: appends the bytes to the partial file; a
 * short count (a write error, or a stop request) aborts the transfer. */
static size_t write_body(char *data, size_t size, size_t count, void *user)
{
    transfer *t = user;
    size_t total = size * count, done = 0;

    if (stop_requested)
        return 0;
    while (done < total) {
        ssize_t n = write(t->fd, data + done, total - done);
        if (n < 0) {
            if (errno == EINTR && !stop_requested)
                continue;
            t->write_errno = errno == EINTR ? 0 : errno;
            return done;
        }
        done += (size_t)n;
    }
    return total;
}

/* Draws "LABEL [#####     ]  42%  2.0 / 4.7 MB" (or only the bytes when
 * the size is unknown) over the current stderr line. */
static void draw_bar(const transfer *t, uint64_t now, uint64_t total)
{
    const double mb = 1e6;

    if (total > 0) {
        char bar[PROGRESS_BAR_WIDTH + 1];
        size_t fill = (size_t)((double)PROGRESS_BAR_WIDTH * (double)now / (double)total);
        if (fill > PROGRESS_BAR_WIDTH)
            fill = PROGRESS_BAR_WIDTH;
        memset(bar, '#', fill);
        memset(bar + fill, ' ', PROGRESS_BAR_WIDTH - fill);
        bar[PROGRESS_BAR_WIDTH] = '\0';
        fprintf(stderr, "\r%s [%s] %3d%% %7.1f / %.1f MB", t->opts->label, bar,
                (int)(100.0 * (double)now / (double)total), (double)now / mb,
                (double)total / mb);
    } else {
        fprintf(stderr, "\r%s %7.1f MB", t->opts->label, (double)now / mb);
    }
    fflush(stderr);
}

/* libcurl's progress callback: draws the bar (when the count moved, at
 * most every 100 ms but always at the end) and aborts the transfer once
 * a stop was requested. */
static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    transfer *t = user;
    double ms;

    (void)ultotal;
    (void)ulnow;
    if (stop_requested)
        return 1;
    if (!t->opts->progress || dlnow <= 0)
        return 0;
    ms = kiln_clock_ms();
    if (t->drawn_ms > 0 && ((uint64_t)dlnow == t->drawn_bytes ||
                            (ms - t->drawn_ms < PROGRESS_REDRAW_MS && dlnow < dltotal)))
        return 0;
    t->drawn_ms = ms;
    t->drawn_bytes = (uint64_t)dlnow;
    draw_bar(t, t->from + (uint64_t)dlnow, dltotal > 0 ? t->from + (uint64_t)dltotal : 0);
    return 0;
}

/* Sets the options every request of a transfer shares. */
static void set_common_options(CURL *c, const char *url, transfer *t, char *errbuf)
{
    char agent[64];

    snprintf(agent, sizeof(agent), "kiln/%s", PACKAGE_VERSION);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS | CURLPROTO_FILE));
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, agent);   /* libcurl copies it */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (t->opts->connect_timeout_s > 0)
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, t->opts->connect_timeout_s);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, t);
}

/* Empties the partial file for a whole download; 0 or an errno. */
static int restart_file(transfer *t)
{
    if (ftruncate(t->fd, 0) != 0 || lseek(t->fd, 0, SEEK_SET) != 0)
        return errno;
    t->from = 0;
    return 0;
}

/* Turns a finished request into the transfer's status (see
 * model_download.h). */
static kiln_status transfer_status(CURLcode rc, const transfer *t, const char *url,
                                   const char *part_path, const char *errbuf,
                                   model_download_result *r)
{
    if (rc == CURLE_OK)
        return KILN_OK;
    if (rc == CURLE_ABORTED_BY_CALLBACK || (rc == CURLE_WRITE_ERROR && stop_requested)) {
        r->interrupted = 1;
        return kiln_fail(KILN_E_STOPPED, "downloading %s: interrupted", url);
    }
    if (rc == CURLE_HTTP_RETURNED_ERROR) {
        r->http_error = 1;
        return kiln_fail(KILN_E_IO, "downloading %s: HTTP status %ld", url, r->http_status);
    }
    if (rc == CURLE_WRITE_ERROR)
        return kiln_fail(KILN_E_IO, "writing %s: %s", part_path,
                         strerror(t->write_errno ? t->write_errno : EIO));
    return kiln_fail(KILN_E_IO, "downloading %s: %s%s%s", url, curl_easy_strerror(rc),
                     errbuf[0] ? ": " : "", errbuf);
}

/* Downloads into the partial file (see model_download.h). */
kiln_status model_download(const char *url, const char *part_path, const model_download_opts *o,
                           model_download_result *r)
{
    char errbuf[CURL_ERROR_SIZE];
    transfer t = { -1, 0, 0, o, 0.0, 0 };
    struct stat sb;
    kiln_status st;
    CURLcode rc;
    CURL *c;
    int err;

    memset(r, 0, sizeof(*r));
    t.fd = open(part_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (t.fd < 0)
        return kiln_fail(KILN_E_IO, "%s: cannot open for writing: %s", part_path,
                         strerror(errno));
    if (flock(t.fd, LOCK_EX | LOCK_NB) != 0) {
        err = errno;
        close(t.fd);
        r->busy = err == EWOULDBLOCK;
        return kiln_fail(KILN_E_IO, "%s: %s", part_path, r->busy ? "another process is "
                         "downloading into it" : strerror(err));
    }
    if (fstat(t.fd, &sb) != 0 || lseek(t.fd, 0, SEEK_END) < 0) {
        err = errno;
        close(t.fd);
        return kiln_fail(KILN_E_IO, "%s: %s", part_path, strerror(err));
    }
    t.from = (uint64_t)sb.st_size;
    c = curl_easy_init();
    if (!c) {
        close(t.fd);
        return kiln_fail(KILN_E_IO, "downloading %s: libcurl cannot start a transfer", url);
    }
    errbuf[0] = '\0';
    set_common_options(c, url, &t, errbuf);
    if (t.from > 0)
        curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)t.from);
    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->http_status);
    /* A server without ranges answers 200 (libcurl refuses that as
     * CURLE_RANGE_ERROR before writing a byte), and one whose file is no
     * longer than the part answers 416: fetch the whole file. */
    if (t.from > 0 && (rc == CURLE_RANGE_ERROR ||
                       (rc == CURLE_HTTP_RETURNED_ERROR && r->http_status == 416))) {
        err = restart_file(&t);
        if (err != 0) {
            curl_easy_cleanup(c);
            close(t.fd);
            return kiln_fail(KILN_E_IO, "%s: cannot start again: %s", part_path, strerror(err));
        }
        r->restarted = 1;
        errbuf[0] = '\0';
        curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)0);
        rc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->http_status);
    }
    if (o->progress && t.drawn_ms > 0)
        fputc('\n', stderr);
    if (t.from > 0 && !r->restarted)
        r->resumed_from = t.from;
    st = transfer_status(rc, &t, url, part_path, errbuf, r);
    curl_easy_cleanup(c);
    if (st == KILN_OK && fsync(t.fd) != 0)
        st = kiln_fail(KILN_E_IO, "writing %s: %s", part_path, strerror(errno));
    if (fstat(t.fd, &sb) == 0)
        r->size = (uint64_t)sb.st_size;
    if (close(t.fd) != 0 && st == KILN_OK)
        st = kiln_fail(KILN_E_IO, "writing %s: %s", part_path, strerror(errno));
    return st;
}
