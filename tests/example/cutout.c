/* A program that embeds kiln through its public header alone: it opens a
 * job's stages on one device and runs them on images in memory.
 *
 *   cutout [--set section.key=value ...] IN.png [MASK.png] OUT.png
 *
 * With the default job every stage is off and OUT is IN; with
 * --set refine.enabled=yes and a MASK it refines the mask into a
 * cut-out, with --set segment.enabled=yes (and a model) it removes the
 * background.  Build: cc cutout.c $(pkg-config --cflags --libs kiln). */
#include <kiln.h>
#include <stdio.h>
#include <string.h>

#define MAX_SETS 32

int main(int argc, char **argv)
{
    const char *sets[MAX_SETS];
    const char *files[3];
    size_t nsets = 0, nfiles = 0;
    kiln_image in = { 0 }, mask = { 0 }, out = { 0 };
    kiln_pipeline *p = NULL;
    kiln_status st;
    int status = 1;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--set") == 0 && i + 1 < argc && nsets < MAX_SETS)
            sets[nsets++] = argv[++i];
        else if (argv[i][0] != '-' && nfiles < 3)
            files[nfiles++] = argv[i];
        else {
            fprintf(stderr, "usage: cutout [--set section.key=value ...] IN.png [MASK.png] OUT.png\n");
            return 2;
        }
    }
    if (nfiles < 2) {
        fprintf(stderr, "usage: cutout [--set section.key=value ...] IN.png [MASK.png] OUT.png\n");
        return 2;
    }
    st = kiln_image_read(files[0], 0, &in);
    if (st == KILN_OK && nfiles == 3)
        st = kiln_image_read(files[1], 0, &mask);
    if (st == KILN_OK)
        st = kiln_pipeline_open(NULL, sets, nsets, &p);
    if (st == KILN_OK)
        st = kiln_pipeline_run(p, &in, nfiles == 3 ? &mask : NULL, &out);
    if (st == KILN_OK && kiln_pipeline_note(p)[0])
        fprintf(stderr, "cutout: warning: %s\n", kiln_pipeline_note(p));
    if (st == KILN_OK)
        st = kiln_image_write_png(files[nfiles - 1], &out);
    if (st == KILN_OK) {
        printf("cutout: %ux%u x%u -> %ux%u x%u, kiln %s\n", in.width, in.height, in.channels,
               out.width, out.height, out.channels, kiln_version());
        status = 0;
    } else {
        fprintf(stderr, "cutout: %s: %s\n", kiln_status_name(st), kiln_last_error());
    }
    kiln_image_free(&out);
    if (kiln_pipeline_close(p) != KILN_OK) {
        fprintf(stderr, "cutout: %s\n", kiln_last_error());
        status = 1;
    }
    kiln_image_free(&mask);
    kiln_image_free(&in);
    return status;
}
