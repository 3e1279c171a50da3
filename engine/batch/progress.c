/* Progress line and plain log lines. */
#include <unistd.h>

#include "clock.h"
#include "progress.h"
#include "stages.h"

/* Starts progress reporting. */
void progress_init(progress *p, FILE *out, size_t total, int mode, int quiet)
{
    p->out = out;
    p->tty = mode < 0 ? isatty(fileno(out)) : mode;
    p->quiet = quiet;
    p->total = total;
    p->start_ms = kiln_clock_ms();
    p->last_draw_ms = 0;
    p->next_log = total >= 10 ? total / 10 : 1;
}

/* Formats a byte count as "12.3 MiB". */
static void human_bytes(size_t bytes, char *buf, size_t len)
{
    const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    snprintf(buf, len, "%.1f %s", v, units[u]);
}

/* Reports the count of finished items. */
void progress_update(progress *p, size_t done, size_t failed, size_t device_bytes)
{
    double now = kiln_clock_ms(), elapsed = (now - p->start_ms) / 1e3;
    double rate = elapsed > 0 ? done / elapsed : 0;
    double eta = rate > 0 ? (p->total - done) / rate : 0;
    char mem[32];

    if (p->quiet)
        return;
    if (p->tty) {
        if (done < p->total && now - p->last_draw_ms < 200)
            return;
        p->last_draw_ms = now;
        human_bytes(device_bytes, mem, sizeof(mem));
        fprintf(p->out, "\r\033[K%zu/%zu items, %zu failed, %.1f/s, ETA %.0f s, device memory %s",
                done, p->total, failed, rate, eta, mem);
        fflush(p->out);
        return;
    }
    if (done >= p->next_log || done == p->total) {
        human_bytes(device_bytes, mem, sizeof(mem));
        fprintf(p->out, "kiln: %zu/%zu items, %zu failed, %.1f/s, ETA %.0f s, device memory %s\n",
                done, p->total, failed, rate, eta, mem);
        while (p->next_log <= done)
            p->next_log += p->total >= 10 ? p->total / 10 : 1;
    }
}

/* Prints a line above the progress line. */
void progress_message(progress *p, const char *line)
{
    if (p->tty)
        fprintf(p->out, "\r\033[K");
    fprintf(p->out, "%s\n", line);
    p->last_draw_ms = 0;
}

/* Prints the final totals. */
void progress_finish(progress *p, size_t done, size_t failed, size_t skipped)
{
    double elapsed = (kiln_clock_ms() - p->start_ms) / 1e3;
    if (p->quiet)
        return;
    if (p->tty)
        fprintf(p->out, "\r\033[K");
    fprintf(p->out, "kiln: done: %zu items in %.2f s (%.1f/s), %zu failed, %zu skipped (output exists)\n",
            done, elapsed, elapsed > 0 ? done / elapsed : 0.0, failed, skipped);
}
