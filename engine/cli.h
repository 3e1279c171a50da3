/* The kiln command line. */
#ifndef KILN_CLI_H
#define KILN_CLI_H

/* `kiln devices [--json]`: lists platforms and devices.  Returns the exit
 * status. */
int cli_devices(int argc, char **argv);

/* `kiln refine IN.png MASK.png -o OUT.png [--trimap] [--set k=v ...]`:
 * refines one image.  Returns the exit status. */
int cli_refine(int argc, char **argv);

#endif
