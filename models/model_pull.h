/* Pulling one model file into a model directory: the file is downloaded
 * to DIR/NAME.onnx.part (model_download.h), its MD5 checked, and only then
 * renamed to DIR/NAME.onnx, so the final name never holds a partial or
 * wrong file.  No OpenCL. */
#ifndef KILN_MODEL_PULL_H
#define KILN_MODEL_PULL_H

#include <stdint.h>

#include "kiln.h"
#include "model_download.h"

/* One model to pull. */
typedef struct model_pull_request {
    const char *name;           /* the file is DIR/NAME.onnx */
    const char *url;            /* where it is downloaded from */
    const char *md5;            /* the MD5 it must have: 32 lower-case hex digits */
    int md5_noted;              /* 1: keep md5 in the note DIR/NAME.onnx.md5
                                 * (a hash that is not rembg's: model_verify.h);
                                 * 0: remove any such note */
    const char *dir;            /* an existing writable directory (model_pull_dir.h) */
} model_pull_request;

/* What a pull did. */
typedef enum model_pull_outcome {
    MODEL_PULL_PRESENT,         /* the file was there with the right MD5 */
    MODEL_PULL_DOWNLOADED,      /* it was downloaded and checked */
    MODEL_PULL_REPLACED         /* a file with another MD5 was replaced */
} model_pull_outcome;

/* Pulls rq->name.  A file already at DIR/NAME.onnx with the MD5 (the MD5
 * cache spares hashing it again) is left alone.  Otherwise the URL is
 * downloaded into DIR/NAME.onnx.part, continuing an earlier partial one;
 * the complete part is hashed: a mismatch is KILN_E_FORMAT naming both
 * hashes, and the part is removed; a match is renamed over DIR/NAME.onnx.
 * On a failed transfer the part is removed when it is empty or the
 * server answered with an error status (404...), and kept for the next
 * pull to continue otherwise (a cut connection, an interruption: then
 * KILN_E_STOPPED, see model_download); the message says which.  A part
 * another process is downloading into is left to it (KILN_E_IO).  On
 * success sets *outcome and *size (the file's bytes) and *dl (may be
 * NULL) to what the transfer did (zero when nothing was downloaded). */
kiln_status model_pull(const model_pull_request *rq, const model_download_opts *o,
                       model_pull_outcome *outcome, uint64_t *size, model_download_result *dl);

#endif
