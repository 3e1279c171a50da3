/* libFuzzer target: the scene readers (models/splat_*.c).
 *
 * Each input is read three ways: from memory as "in.ply" and as
 * "in.splat" (the name decides whether non-PLY bytes are tried as .splat),
 * with the non-finite policy and a small max_gaussians taken from the
 * input's first byte, and from its memory file by path.  Beyond "no
 * crash, no leak": an error leaves the scene zeroed and a message naming
 * the file; a success holds no more Gaussians than the bytes can (56 a
 * PLY vertex, 32 a .splat record), a valid SH degree, and the path read
 * ("/proc/self/fd/N", no .splat name) gives the status of the "in.ply"
 * memory read.  The writer is left to the unit tests. */
#include <string.h>

#include "fuzz_common.h"
#include "kiln.h"
#include "splat_scene.h"

/* Reads data as the file `name` with opt and checks the contract above;
 * returns the status. */
static kiln_status read_check(const uint8_t *data, size_t size, const char *name,
                              const splat_read_options *opt)
{
    splat_scene s;
    splat_read_info info;
    kiln_status st = splat_scene_read_mem(data, size, name, opt, &s, &info);

    fuzz_note(name, st);
    if (st != KILN_OK) {
        FUZZ_CHECK(fuzz_all_zero(&s, sizeof(s)));
        FUZZ_CHECK(strstr(kiln_last_error(), name) != NULL);
        return st;
    }
    FUZZ_CHECK(s.sh_degree <= 3 && s.sh_coeffs == (s.sh_degree + 1) * (s.sh_degree + 1));
    FUZZ_CHECK(s.count <= size / (info.format == 1 ? 32 : 56));
    FUZZ_CHECK(s.count <= info.file_count);
    FUZZ_CHECK(opt->max_gaussians == 0 || info.file_count <= opt->max_gaussians);
    splat_scene_free(&s);
    return st;
}

/* Reads one input three ways (see the top of this file). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const int fds = fuzz_fds_mark();
    splat_read_options opt = { 0, SPLAT_NONFINITE_REFUSE };
    splat_scene s;
    const char *path;
    kiln_status sm, sp;

    if (size > 0) {
        opt.nonfinite = data[0] & 1 ? SPLAT_NONFINITE_DROP : SPLAT_NONFINITE_REFUSE;
        opt.max_gaussians = data[0] & 2 ? (uint64_t)(data[0] >> 2) : 0;
    }
    sm = read_check(data, size, "in.ply", &opt);
    read_check(data, size, "in.splat", &opt);

    path = fuzz_memfd_path(data, size);
    sp = splat_scene_read(path, &opt, &s, NULL);
    fuzz_note("splat_scene_read", sp);
    FUZZ_CHECK(sp == KILN_OK || fuzz_all_zero(&s, sizeof(s)));
    /* the memory file's name is no .splat: it reads as "in.ply" does */
    FUZZ_CHECK(sp == sm);
    splat_scene_free(&s);
    fuzz_fds_check(fds);
    return 0;
}
