/* Where a process's start-up time goes: milliseconds summed per phase
 * (reading and decoding a model, folding it, planning its arena, packing and uploading
 * its weights, opening a device, reading and writing images), over every
 * thread, since the process started.  `kiln segment --verbose` prints
 * them; nothing else reads them. */
#ifndef KILN_PHASE_TIME_H
#define KILN_PHASE_TIME_H

typedef enum kiln_phase {
    KILN_PHASE_DEVICE_OPEN,         /* platform, context, queue, pool */
    KILN_PHASE_MODEL_READ,          /* the ONNX file's bytes into memory */
    KILN_PHASE_MODEL_DECODE,        /* protobuf decoding */
    KILN_PHASE_MODEL_CONVERT,       /* protobuf to graph: nodes, tensors to host floats */
    KILN_PHASE_MODEL_FOLD,          /* folding, fusion, lowering */
    KILN_PHASE_MODEL_PLAN,          /* the activation arena */
    KILN_PHASE_WEIGHT_PACK,         /* laying out and packing the weights */
    KILN_PHASE_WEIGHT_UPLOAD,       /* device buffer and the copy to it */
    KILN_PHASE_IMAGE_READ,          /* decoding input image files */
    KILN_PHASE_IMAGE_WRITE,         /* encoding and writing output image files */
    KILN_PHASE_COUNT
} kiln_phase;

/* Adds `ms` to phase p.  Safe from any thread. */
void kiln_phase_add(kiln_phase p, double ms);

/* Adds the milliseconds since *t0 (from kiln_clock_ms) to phase p and
 * sets *t0 to now. */
void kiln_phase_lap(kiln_phase p, double *t0);

/* The milliseconds summed so far in phase p. */
double kiln_phase_ms(kiln_phase p);

/* A short name for phase p ("model decode"). */
const char *kiln_phase_name(kiln_phase p);

#endif
