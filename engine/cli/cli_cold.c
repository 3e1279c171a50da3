/* Where a one-file command's time went (see cli_cold_print in cli.h). */
#include <stdio.h>

#include "cli.h"
#include "clock.h"
#include "phase_time.h"
#include "program.h"

/* The key of a phase in the line: its name with '_' for ' '. */
static void phase_key(kiln_phase p, char *buf, size_t len)
{
    size_t i = 0;

    for (const char *s = kiln_phase_name(p); *s && i + 1 < len; s++)
        buf[i++] = *s == ' ' ? '_' : *s;
    buf[i] = '\0';
}

/* One line of milliseconds; `other` is what no phase, program or run
 * accounts for (argument parsing, model resolution, stage set-up). */
void cli_cold_print(FILE *fp, const cli_single *o, const kiln_device *dev,
                    const cli_first_run *first)
{
    double total = kiln_clock_ms() - o->start_ms, known = first->wall_ms + first->later_ms;
    program_stats ps;
    char key[32];

    program_stats_get(dev->programs, &ps);
    fprintf(fp, "cold_ms total=%.1f", total);
    for (int p = 0; p < KILN_PHASE_COUNT; p++) {
        double ms = kiln_phase_ms((kiln_phase)p);
        phase_key((kiln_phase)p, key, sizeof(key));
        fprintf(fp, " %s=%.1f", key, ms);
        known += ms;
    }
    /* programs loaded outside the first run (while the stages opened) */
    known += ps.load_ms + ps.build_ms - first->program_ms;
    fprintf(fp, " programs_cached=%u programs_load=%.1f programs_built=%u programs_build=%.1f "
            "first_run=%.1f first_run_programs=%.1f first_network=%.1f later_runs=%.1f "
            "other=%.1f\n", ps.cache_hits, ps.load_ms, ps.builds, ps.build_ms, first->wall_ms,
            first->program_ms, first->network_ms, first->later_ms, total - known);
}
