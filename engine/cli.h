/* The kiln command line. */
#ifndef KILN_CLI_H
#define KILN_CLI_H

/* `kiln devices [--json]`: lists platforms and devices.  Returns the exit
 * status. */
int cli_devices(int argc, char **argv);

/* `kiln refine IN.png MASK.png -o OUT.png [--trimap] [--set k=v ...]`:
 * refines one image.  Returns the exit status. */
int cli_refine(int argc, char **argv);

/* `kiln segment [-m MODEL] IN.png -o OUT.png [...]`: background removal
 * of one image.  Returns the exit status. */
int cli_segment(int argc, char **argv);

/* `kiln model-info MODEL [--size N] [--run N]`: a network's facts, its
 * activation plan and, with --run, its speed.  Returns the exit status. */
int cli_model_info(int argc, char **argv);

/* `kiln tune [--device SEL]`: searches the convolution parameters on a
 * device and saves them beside the program cache.  Returns the exit
 * status. */
int cli_tune(int argc, char **argv);

#endif
