/* The input list of a batch: a directory, a glob or a list file, sorted
 * deterministically, then sharded. */
#ifndef KILN_INPUTS_H
#define KILN_INPUTS_H

#include <stddef.h>

#include "kiln.h"

typedef struct input_list {
    char **paths;      /* kiln_malloc'd strings, sorted by strcmp */
    size_t count;
} input_list;

/* Expands `spec`: an existing directory (its *.png, *.jpg and *.jpeg
 * files, any case of the extension, not recursive),
 * "@FILE" or a file ending in .txt/.list (one path per line, '#' comments,
 * relative paths taken from the list file's directory), or a glob pattern.
 * Relative specs are resolved against base_dir (may be NULL: cwd).  The
 * result is sorted with duplicates removed.  An empty result is not an
 * error; a missing directory or list file is KILN_E_IO naming it. */
kiln_status inputs_expand(const char *spec, const char *base_dir, input_list *out);

/* What a directory of inputs is scanned for. */
typedef enum input_kind {
    INPUT_IMAGES = 0,   /* *.png, *.jpg, *.jpeg */
    INPUT_SCENES,       /* *.ply, *.splat */
    INPUT_DATASETS      /* subdirectories (capture datasets); a directory that
                           is itself a dataset (sparse/, transforms*.json) is
                           the one item */
} input_kind;

/* inputs_expand for inputs of `kind`. */
kiln_status inputs_expand_kind(const char *spec, const char *base_dir, input_kind kind,
                               input_list *out);

/* Keeps the items whose index i (in sorted order) satisfies
 * i % shard_count == shard_index, in place. */
void inputs_shard(input_list *list, size_t shard_index, size_t shard_count);

/* Frees the paths and zeroes the list. */
void inputs_free(input_list *list);

/* Works out the shard from, in order: `option` ("i/n", 0-based i; may be
 * NULL), SLURM_ARRAY_TASK_ID with SLURM_ARRAY_TASK_COUNT (honouring
 * SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_STEP: index =
 * (id - min) / step), JOB_COMPLETION_INDEX with KILN_SHARD_COUNT.  None:
 * 0/1.  A malformed value or i >= n is KILN_E_CONFIG naming its source. */
kiln_status shard_resolve(const char *option, size_t *index, size_t *count);

#endif
