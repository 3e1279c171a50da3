/* Sharding a batch: which slice of the sorted input list this process
 * takes, from --shard, a SLURM job array or a Kubernetes indexed job. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host_alloc.h"
#include "inputs.h"
#include "status.h"

/* Keeps the items whose index satisfies i % shard_count == shard_index,
 * in order, freeing the others.  A shard_count of 0 is taken as 1. */
void inputs_shard(input_list *list, size_t shard_index, size_t shard_count)
{
    size_t kept = 0;

    if (!list)
        return;
    if (shard_count == 0)
        shard_count = 1;
    for (size_t i = 0; i < list->count; i++) {
        if (i % shard_count == shard_index)
            list->paths[kept++] = list->paths[i];
        else
            kiln_free(list->paths[i]);
    }
    list->count = kept;
}

/* Parses a non-negative decimal integer (digits only, fitting size_t)
 * from the whole of text; returns 0 and *out, -1 when it is not such a
 * number, -2 when it is one too large for size_t. */
static int index_parse(const char *text, size_t *out)
{
    unsigned long long value;
    char *end;

    if (text[0] < '0' || text[0] > '9')
        return -1;
    errno = 0;
    value = strtoull(text, &end, 10);
    if (*end != '\0')
        return -1;
    if (errno == ERANGE || value > SIZE_MAX)
        return -2;
    *out = (size_t)value;
    return 0;
}

/* Returns the value of environment variable `name`, or NULL when it is
 * unset or empty. */
static const char *env_get(const char *name)
{
    const char *value = getenv(name);
    return value && value[0] != '\0' ? value : NULL;
}

/* Reads environment variable `name` as a non-negative integer at least
 * `min` into *out; when unset or empty, *out = fallback.  A malformed or
 * too small value is KILN_E_CONFIG naming the variable. */
static kiln_status env_index(const char *name, size_t fallback, size_t min, size_t *out)
{
    const char *text = env_get(name);

    if (!text) {
        *out = fallback;
        return KILN_OK;
    }
    if (index_parse(text, out) != 0)
        return kiln_fail(KILN_E_CONFIG, "%s: '%s' is not a non-negative integer", name, text);
    if (*out < min)
        return kiln_fail(KILN_E_CONFIG, "%s: %zu must be at least %zu", name, *out, min);
    return KILN_OK;
}

/* Parses the --shard option "i/n" (0 <= i < n). */
static kiln_status shard_option(const char *option, size_t *index, size_t *count)
{
    const char *slash = strchr(option, '/');
    char head[32];
    size_t i, n, len;

    len = slash ? (size_t)(slash - option) : 0;
    if (!slash || len == 0 || len >= sizeof(head))
        goto out_malformed;
    memcpy(head, option, len);
    head[len] = '\0';
    if (index_parse(head, &i) == -2 || index_parse(slash + 1, &n) == -2)
        return kiln_fail(KILN_E_CONFIG, "--shard %s: a number above %zu", option, (size_t)SIZE_MAX);
    if (index_parse(head, &i) != 0 || index_parse(slash + 1, &n) != 0 || n == 0)
        goto out_malformed;
    if (i >= n)
        return kiln_fail(KILN_E_CONFIG, "--shard %s: index %zu is not below the count %zu "
                         "(shards are numbered from 0)", option, i, n);
    *index = i;
    *count = n;
    return KILN_OK;
out_malformed:
    return kiln_fail(KILN_E_CONFIG, "--shard %s: expected i/n, with 0 <= i < n", option);
}

/* Works out the shard of a SLURM array task:
 * (SLURM_ARRAY_TASK_ID - MIN) / STEP of SLURM_ARRAY_TASK_COUNT. */
static kiln_status shard_slurm(size_t *index, size_t *count)
{
    size_t id, n, min, step, i;
    kiln_status st;

    st = env_index("SLURM_ARRAY_TASK_ID", 0, 0, &id);
    if (st != KILN_OK)
        return st;
    if (!env_get("SLURM_ARRAY_TASK_COUNT"))
        return kiln_fail(KILN_E_CONFIG, "SLURM_ARRAY_TASK_ID is set but "
                         "SLURM_ARRAY_TASK_COUNT is not");
    st = env_index("SLURM_ARRAY_TASK_COUNT", 1, 1, &n);
    if (st == KILN_OK)
        st = env_index("SLURM_ARRAY_TASK_MIN", 0, 0, &min);
    if (st == KILN_OK)
        st = env_index("SLURM_ARRAY_TASK_STEP", 1, 1, &step);
    if (st != KILN_OK)
        return st;
    if (id < min || (id - min) % step != 0)
        return kiln_fail(KILN_E_CONFIG, "SLURM_ARRAY_TASK_ID: %zu is not "
                         "SLURM_ARRAY_TASK_MIN (%zu) plus a multiple of "
                         "SLURM_ARRAY_TASK_STEP (%zu)", id, min, step);
    i = (id - min) / step;
    if (i >= n)
        return kiln_fail(KILN_E_CONFIG, "SLURM_ARRAY_TASK_ID: %zu gives shard %zu, not "
                         "below SLURM_ARRAY_TASK_COUNT (%zu)", id, i, n);
    *index = i;
    *count = n;
    return KILN_OK;
}

/* Works out the shard of a Kubernetes indexed job: JOB_COMPLETION_INDEX
 * of KILN_SHARD_COUNT; either without the other is KILN_E_CONFIG. */
static kiln_status shard_indexed(size_t *index, size_t *count)
{
    size_t i, n;
    kiln_status st;

    if (!env_get("JOB_COMPLETION_INDEX"))
        return kiln_fail(KILN_E_CONFIG, "KILN_SHARD_COUNT is set but "
                         "JOB_COMPLETION_INDEX is not");
    if (!env_get("KILN_SHARD_COUNT"))
        return kiln_fail(KILN_E_CONFIG, "JOB_COMPLETION_INDEX is set but "
                         "KILN_SHARD_COUNT is not (set it to the job's completions)");
    st = env_index("JOB_COMPLETION_INDEX", 0, 0, &i);
    if (st == KILN_OK)
        st = env_index("KILN_SHARD_COUNT", 1, 1, &n);
    if (st != KILN_OK)
        return st;
    if (i >= n)
        return kiln_fail(KILN_E_CONFIG, "JOB_COMPLETION_INDEX: %zu is not below "
                         "KILN_SHARD_COUNT (%zu)", i, n);
    *index = i;
    *count = n;
    return KILN_OK;
}

/* Resolves the shard from the option, SLURM or an indexed job, in that
 * order (see inputs.h); environment variables set to "" count as unset.
 * *index and *count are written only on success. */
kiln_status shard_resolve(const char *option, size_t *index, size_t *count)
{
    if (!index || !count)
        return kiln_fail(KILN_E_INVAL, "shard_resolve: NULL argument");
    if (option)
        return shard_option(option, index, count);
    if (env_get("SLURM_ARRAY_TASK_ID"))
        return shard_slurm(index, count);
    if (env_get("JOB_COMPLETION_INDEX") || env_get("KILN_SHARD_COUNT"))
        return shard_indexed(index, count);
    *index = 0;
    *count = 1;
    return KILN_OK;
}
