/* The segmentation models kiln runs the way rembg does (rembg's
 * sessions/u2net.py, u2netp.py, u2net_human_seg.py, silueta.py,
 * dis_general_use.py, dis_anime.py): every one takes a 1x3xSxS input made
 * by rembg's BaseSession.normalize (Lanczos resize to SxS, division by the
 * image maximum, (x - mean) / std) and gives a saliency map whose channel
 * 0 is min-max normalised into the mask (engine/seg_prepost.h).
 *
 * Models are found by name as NAME.onnx in a list of directories (rembg
 * keeps them in $U2NET_HOME, default ~/.u2net), or given as a path.
 * Nothing here downloads anything (`kiln model pull` does: model_pull.h).
 * No OpenCL. */
#ifndef KILN_MODEL_REGISTRY_H
#define KILN_MODEL_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "kiln.h"

/* One model: its rembg name, the square input side, and the per-channel
 * (R, G, B) normalisation of rembg's predict(). */
typedef struct model_spec {
    const char *name;       /* rembg's name, also the file name NAME.onnx */
    uint32_t input_size;    /* the network input is input_size x input_size */
    float mean[3];
    float std[3];
    const char *about;      /* one line for listings */
    const char *md5;        /* the published file's MD5 (hex), as rembg checks it */
} model_spec;

/* Returns the entry named `name` (exact, case-sensitive), or NULL. */
const model_spec *model_registry_find(const char *name);

/* Number of entries, and entry i (NULL when i >= count), in a stable
 * order. */
size_t model_registry_count(void);
const model_spec *model_registry_at(size_t i);

/* The base URL of rembg's published model files, ending in '/': entry
 * NAME is downloaded from model_release_url() + NAME + ".onnx". */
const char *model_release_url(void);

/* Sets *spec to the entry whose published file has the MD5 of the file
 * `file`, or NULL when none has; the MD5 comes from the cache directory
 * when this version of the file was hashed before (model_md5_cache.h).
 * KILN_E_IO when it cannot be read. */
kiln_status model_identify_file(const char *file, const model_spec **spec);

/* Resolves a model name or path into a readable file path.
 *
 * A value containing '/' or ending in ".onnx" is a file path: it must be a
 * readable regular file (else KILN_E_IO naming it and the reason); *spec
 * is the entry whose name equals the file's base name without ".onnx",
 * else the entry whose published file has the same MD5 (rembg's files
 * under any name), else NULL.
 *
 * Anything else is a registry name: an unknown name is KILN_E_INVAL whose
 * message lists the known names.  A known name is looked up as NAME.onnx
 * in, in order: model_dir (NULL or "" skips it), $KILN_MODEL_DIR,
 * $U2NET_HOME, $XDG_DATA_HOME/.u2net, $HOME/.u2net (rembg's default;
 * rembg itself uses $U2NET_HOME, else $XDG_DATA_HOME/.u2net, else
 * ~/.u2net).  Unset or empty variables are skipped; a leading "~/" in a
 * variable is expanded with $HOME.  The first readable regular file wins.
 * None found is KILN_E_IO whose message lists every place looked, says to
 * run `kiln model pull NAME` and gives the URL of the file (nothing is
 * downloaded here).
 *
 * On success writes the NUL-terminated path into path[path_len] and sets
 * *spec (spec may be NULL).  A path that does not fit is KILN_E_INVAL.
 * On error *spec is NULL and path is an empty string (when path_len > 0). */
kiln_status model_resolve(const char *name_or_path, const char *model_dir,
                          char *path, size_t path_len, const model_spec **spec);

#endif
