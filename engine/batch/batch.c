/* The batch runner. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dir_create.h"
#include "flight.h"
#include "clock.h"
#include "atomic_file.h"
#include "batch.h"
#include "image_read.h"
#include "host_alloc.h"
#include "inputs.h"
#include "png_io.h"
#include "prefetch.h"
#include "prefetch_loaders.h"
#include "splat_items.h"
#include "program_disk.h"
#include "progress.h"
#include "report.h"
#include "rss.h"
#include "signals.h"
#include "stages.h"
#include "status.h"

#define BATCH_MAX_DEVICES 64

typedef struct batch_state batch_state;

/* One device worker: its device, the job's stages opened on it, its
 * items in flight, its timings.  `times` and the item counts are written
 * by whichever thread finishes items (one at a time: flight.h) and read
 * after the worker ends. */
typedef struct worker {
    batch_state *batch;
    kiln_device *dev;
    pipeline *stages;
    flight_lanes lanes;
    size_t items;
    size_t finished;             /* items that reached their finish */
    double first_item_ms;        /* submit to written output, the first item */
    double later_items_ms;       /* the same, summed over the later items */
    stage_times times;
    pthread_t thread;
    int started;
} worker;

/* Shared state of a running batch; counters under `lock`. */
struct batch_state {
    const job_config *job;
    const batch_options *options;
    prefetch_queue *queue;
    char **outputs;              /* output path per queued item */
    pthread_mutex_t lock;
    progress progress;
    size_t done;
    size_t succeeded;
    size_t failed;
    int stopped;
    int interrupted;             /* the signal that stopped the batch, or 0 */
    kiln_status fatal;           /* a job-level error that stopped the batch */
    char fatal_message[2048];
    stage_times decode_times;
    report_failure failures[BATCH_FAILURES_KEPT];
    size_t failures_kept;
    worker workers[BATCH_MAX_DEVICES];
    size_t nworkers;
};

/* Live + cached pool bytes over every worker's device. */
static size_t device_bytes(batch_state *b)
{
    size_t total = 0;
    for (size_t i = 0; i < b->nworkers; i++) {
        pool_ledger l;
        pool_ledger_get(b->workers[i].dev->pool, &l);
        total += l.live_bytes + l.cached_bytes;
    }
    return total;
}

/* Records a finished item (status KILN_OK or a failure with message) and
 * returns how many items are done, read under the lock. */
static size_t record_item(batch_state *b, const char *input, kiln_status status, const char *message)
{
    size_t done;

    pthread_mutex_lock(&b->lock);
    b->done++;
    if (status == KILN_OK) {
        b->succeeded++;
    } else {
        char line[2048];
        b->failed++;
        size_t n = strlen(input);
        /* a reader's message already starts with the file's name */
        if (strncmp(message, input, n) == 0 && message[n] == ':')
            snprintf(line, sizeof(line), "kiln: error: %s [%s]", message, kiln_status_name(status));
        else
            snprintf(line, sizeof(line), "kiln: error: %s: %s [%s]", input, message,
                     kiln_status_name(status));
        progress_message(&b->progress, line);
        if (b->failures_kept < BATCH_FAILURES_KEPT) {
            report_failure *f = &b->failures[b->failures_kept];
            f->input = kiln_strdup(input);
            f->message = kiln_strdup(message);
            f->status = status;
            if (f->input && f->message) {
                b->failures_kept++;
            } else {
                kiln_free(f->input);
                kiln_free(f->message);
            }
        }
        if (status == KILN_E_NOSPACE && !b->fatal) {
            /* a full or read-only output file system fails every later
               item too: stop with one message */
            b->fatal = status;
            snprintf(b->fatal_message, sizeof(b->fatal_message), "%s", message);
            b->stopped = 1;
            progress_message(&b->progress, "kiln: the output file system is full or read-only: "
                             "stopping the batch");
            prefetch_stop(b->queue);
        }
        if (b->job->max_failures && b->failed >= b->job->max_failures && !b->stopped) {
            b->stopped = 1;
            progress_message(&b->progress, "kiln: max_failures reached: stopping the batch");
            prefetch_stop(b->queue);
        }
    }
    progress_update(&b->progress, b->done, b->failed, device_bytes(b));
    done = b->done;
    pthread_mutex_unlock(&b->lock);
    return done;
}

/* The mask (or trimap) file of an input, for the image+mask loader
 * (user: the job_config): DIR/<stem><mask_suffix>.png with DIR the job's
 * trimaps directory when set, else its masks directory.  A path that does
 * not fit in buf is KILN_E_CONFIG. */
static kiln_status mask_path(const void *user, const char *input, char *buf, size_t len)
{
    const job_config *job = user;
    const char *base = strrchr(input, '/');
    const char *dir = job->refine.trimaps[0] ? job->refine.trimaps : job->refine.masks;
    const char *dot;
    int n;
    base = base ? base + 1 : input;
    dot = strrchr(base, '.');
    n = snprintf(buf, len, "%s/%.*s%s.png", dir, (int)(dot && dot != base ? dot - base : (long)strlen(base)),
                 base, job->refine.mask_suffix);
    if (n < 0 || (size_t)n >= len)
        return kiln_fail(KILN_E_CONFIG, "%s/...%s.png: path too long for %s", dir,
                         job->refine.mask_suffix, input);
    return KILN_OK;
}

/* Logs an item's warning line. */
static void log_note(batch_state *b, const char *input, const char *note)
{
    char line[2048];
    snprintf(line, sizeof(line), "kiln: warning: %s: %s", input, note);
    pthread_mutex_lock(&b->lock);
    progress_message(&b->progress, line);
    pthread_mutex_unlock(&b->lock);
}

/* Counts a finished item (for the report) and tells the caller's hook. */
static void item_done(worker *w, prefetch_item *item, kiln_status st, const char *message)
{
    batch_state *b = w->batch;
    size_t done;

    pthread_mutex_lock(&b->lock);   /* the worker and its finisher both count */
    w->items++;
    pthread_mutex_unlock(&b->lock);
    done = record_item(b, item->path, st, message);
    prefetch_item_free(b->queue, item);
    if (b->options->on_item)
        b->options->on_item(b->options->hook_user, w->dev, done);
}

/* The flight's finish function (flight.h): waits for the item's result,
 * encodes and writes it, records the item. */
static void finish_item(void *user, flight_slot *slot)
{
    worker *w = user;
    prefetch_item *item = slot->item;
    double item_ms;
    kiln_status st = pipeline_finish(&slot->flight, &w->times);

    if (st == KILN_OK) {
        double t0 = kiln_clock_ms();
        st = png_write_file(w->batch->outputs[item->index], &slot->flight.out);
        if (st == KILN_OK)
            stage_times_add(&w->times, STAGE_ENCODE, kiln_clock_ms() - t0);
    }
    /* the slot's staging goes back before the item counts as done, so
       that a hook sees only what the next item holds */
    pipeline_flight_end(w->stages, &slot->flight);
    item_ms = kiln_clock_ms() - slot->flight.submit_ms;
    if (w->finished++ == 0)
        w->first_item_ms = item_ms;
    else
        w->later_items_ms += item_ms;
    slot->item = NULL;
    item_done(w, item, st, st == KILN_OK ? "" : kiln_last_error());
}

/* Submits one decoded item (with its mask, which the prefetch loader
 * read, when the job uses mask files) into a slot of the worker's lanes,
 * which then finish it.  An overlapped submit that runs out of device
 * memory is tried again alone (flight.h); a failed submit records the
 * item. */
static void submit_item(worker *w, prefetch_item *item)
{
    batch_state *b = w->batch;
    uint64_t pixels = (uint64_t)item->image.width * item->image.height;
    flight_slot *slot = NULL;
    kiln_status st = KILN_E_NOMEM;

    for (int alone = 0; alone < 2 && st == KILN_E_NOMEM; alone++) {
        stage_item *si = kiln_calloc(1, sizeof(*si));
        if (!si) {
            item_done(w, item, KILN_E_HOSTMEM, "out of host memory");
            return;
        }
        si->path = item->path;
        si->payload = item->payload;
        si->host_mask = pipeline_needs_host_mask(b->job) ? &item->mask : NULL;
        slot = flight_take(&w->lanes, pixels, alone);
        st = pipeline_submit(w->stages, pipeline_has_source(b->job) ? NULL : &item->image, si,
                             &slot->flight);
        if (si->note[0] && (st != KILN_E_NOMEM || !slot->overlapped))
            log_note(b, item->path, si->note);
        kiln_free(si);
        if (st == KILN_OK) {
            flight_submitted(&w->lanes, slot, item);
            return;
        }
        flight_put_back(&w->lanes, slot);
        if (!slot->overlapped)
            break;
    }
    item_done(w, item, st, kiln_last_error());
}

/* The items a worker keeps in flight: [job] in_flight, or for auto two
 * on a GPU or accelerator and one on a CPU device (there the host's
 * encoding runs on the cores the device computes on, and an item's
 * kernels, split over every core, wait for the core it takes: measured
 * slower than one at a time, tests/bench/batch_bench.sh). */
static size_t worker_in_flight(const worker *w)
{
    if (w->batch->job->in_flight != JOB_IN_FLIGHT_AUTO)
        return (size_t)w->batch->job->in_flight;
    return (w->dev->info.type & CL_DEVICE_TYPE_CPU) ? 1 : 2;
}

/* A worker thread: pulls items until the queue is empty or stopped, with
 * up to [job] in_flight of them between submit and written output. */
static void *worker_main(void *arg)
{
    worker *w = arg;
    batch_state *b = w->batch;
    prefetch_item *item;

    flight_init(&w->lanes, w->dev, w->stages, worker_in_flight(w), finish_item, w);
    while ((item = prefetch_pop(b->queue)) != NULL) {
        if (item->status != KILN_OK) {
            item_done(w, item, item->status, item->message);
            continue;
        }
        pthread_mutex_lock(&b->lock);
        stage_times_add(&b->decode_times, STAGE_DECODE, item->decode_ms);
        pthread_mutex_unlock(&b->lock);
        submit_item(w, item);
    }
    flight_close(&w->lanes);
    return NULL;
}

/* Output path for an input: output_dir/<stem><suffix>.png. */
static kiln_status output_path(const job_config *job, const char *input, char **out)
{
    const char *base = strrchr(input, '/');
    size_t stem_len, len;
    base = base ? base + 1 : input;
    const char *dot = strrchr(base, '.');
    stem_len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    len = strlen(job->output_dir) + 1 + stem_len + strlen(job->output.suffix) + 5;
    *out = kiln_malloc(len);
    if (!*out)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory");
    snprintf(*out, len, "%s/%.*s%s.png", job->output_dir, (int)stem_len, base, job->output.suffix);
    return KILN_OK;
}

/* Opens the selected devices, one worker each. */
static kiln_status open_devices(batch_state *b, device_info **all_out)
{
    device_info *all = NULL;
    size_t count = 0, picked[BATCH_MAX_DEVICES], npicked = 0;
    const char *selector = getenv("KILN_DEVICE");
    kiln_status st;

    if (!selector || !*selector)
        selector = b->job->device.select;
    st = device_list(&all, &count);
    if (st != KILN_OK)
        return st;
    st = device_select(selector, all, count > BATCH_MAX_DEVICES ? BATCH_MAX_DEVICES : count, picked, &npicked);
    if (st != KILN_OK) {
        kiln_free(all);
        return st;
    }
    for (size_t i = 0; i < npicked; i++) {
        worker *w = &b->workers[b->nworkers];
        memset(w, 0, sizeof(*w));
        w->batch = b;
        st = device_open(&all[picked[i]], (size_t)b->job->memory.device_budget, &w->dev);
        if (st != KILN_OK)
            break;
        b->nworkers++;
        st = pipeline_open(w->dev, b->job, &w->stages);
        if (st != KILN_OK) {
            kiln_fail_context(st, "device %zu (%s)", w->dev->info.index, w->dev->info.name);
            break;
        }
    }
    *all_out = all;
    return st;
}

/* Closes every device; a device with live buffers is an error naming them. */
static kiln_status close_devices(batch_state *b)
{
    kiln_status result = KILN_OK;
    for (size_t i = 0; i < b->nworkers; i++) {
        worker *w = &b->workers[i];
        pipeline_close(w->stages);
        w->stages = NULL;
        kiln_status st = device_close(w->dev);
        w->dev = NULL;
        if (st != KILN_OK && result == KILN_OK)
            result = kiln_fail_context(st, "closing device %zu", i);
    }
    b->nworkers = 0;
    return result;
}

/* Checks the output directory exists (creating it) and is writable. */
static kiln_status prepare_output_dir(const char *dir)
{
    struct stat sb;
    if (dir_create_parents(dir) != KILN_OK)
        return kiln_fail(KILN_E_IO, "output_dir %s: cannot create it: %s", dir, strerror(errno));
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return kiln_fail(KILN_E_IO, "output_dir %s: not a directory", dir);
    if (access(dir, W_OK | X_OK) != 0)
        return kiln_fail(KILN_E_IO, "output_dir %s: not writable: %s", dir, strerror(errno));
    return KILN_OK;
}

/* Whether input `path` lies directly in the directory whose real path
 * is out_real.  *last_dir and *last_inside cache the answer for the
 * previous input's directory (the sorted list keeps one directory's
 * inputs together, so realpath runs once per directory). */
static int input_in_dir(const char *path, const char *out_real, char *last_dir,
                        int *last_inside)
{
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    int n = slash ? snprintf(dir, sizeof(dir), "%.*s", (int)(slash == path ? 1 : slash - path), path)
                  : snprintf(dir, sizeof(dir), ".");

    if (n < 0 || (size_t)n >= sizeof(dir))
        return 0;
    if (strcmp(dir, last_dir) != 0) {
        char dir_real[PATH_MAX];
        memcpy(last_dir, dir, (size_t)n + 1);
        *last_inside = realpath(dir, dir_real) && strcmp(dir_real, out_real) == 0;
    }
    return *last_inside;
}

/* Never takes a job's own outputs as inputs: drops from the list every
 * file inside output_dir (a glob such as "* / *.png" or an earlier run can
 * put outputs among the inputs), counting them in *dropped.  When every
 * input lies in output_dir (output_dir is the input directory: outputs
 * would overwrite the inputs, or with a suffix be read as inputs by the
 * next run) the configuration is refused: KILN_E_CONFIG, the list
 * untouched.  An output_dir that does not exist yet holds nothing. */
static kiln_status inputs_drop_outputs(const char *output_dir, input_list *list, size_t *dropped)
{
    char out_real[PATH_MAX], last_dir[PATH_MAX] = "";
    size_t kept = 0, inside = 0;
    int last_inside = 0;

    *dropped = 0;
    if (!realpath(output_dir, out_real))
        return KILN_OK;
    for (size_t i = 0; i < list->count; i++)
        inside += (size_t)input_in_dir(list->paths[i], out_real, last_dir, &last_inside);
    if (inside == 0)
        return KILN_OK;
    if (inside == list->count)
        return kiln_fail(KILN_E_CONFIG, "output_dir %s is the directory of the inputs (%s): "
                         "outputs would overwrite them, or be read as inputs by the next run; "
                         "choose another output_dir", output_dir, list->paths[0]);
    last_dir[0] = '\0';
    for (size_t i = 0; i < list->count; i++) {
        if (input_in_dir(list->paths[i], out_real, last_dir, &last_inside)) {
            kiln_free(list->paths[i]);
            continue;
        }
        list->paths[kept++] = list->paths[i];
    }
    *dropped = list->count - kept;
    list->count = kept;
    return KILN_OK;
}

/* Compares two C strings through pointers (qsort). */
static int compare_paths(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Frees n strings and the array. */
static void free_strings(char **strings, size_t n)
{
    if (!strings)
        return;
    for (size_t i = 0; i < n; i++)
        kiln_free(strings[i]);
    kiln_free(strings);
}

/* Returns 1 when `path` is one of the colliding output names. */
static int is_collision(char *const *collisions, size_t n, const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(collisions[i], path) == 0)
            return 1;
    return 0;
}

/* Whether an existing output counts as done for skip_existing: a regular
 * file with data.  A directory, an empty file (a crash between create and
 * write in another tool) or anything else is not done. */
static int output_done(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0;
}

/* Lists (as copies, sorted) the output names that two inputs of the whole
 * list share (a/x.png and b/x.png both give x.png). */
static kiln_status find_collisions(char **outs, size_t n, char ***collisions, size_t *ncollisions)
{
    char **sorted = kiln_malloc((n ? n : 1) * sizeof(*sorted));
    char **dups = kiln_calloc(n ? n : 1, sizeof(*dups));
    size_t ndups = 0;

    if (!sorted || !dups)
        goto out_nomem;
    memcpy(sorted, outs, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), compare_paths);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(sorted[i], sorted[i - 1]) != 0 || (ndups && strcmp(dups[ndups - 1], sorted[i]) == 0))
            continue;
        dups[ndups] = kiln_strdup(sorted[i]);
        if (!dups[ndups])
            goto out_nomem;
        ndups++;
    }
    kiln_free(sorted);
    *collisions = dups;
    *ncollisions = ndups;
    return KILN_OK;
out_nomem:
    kiln_free(sorted);
    free_strings(dups, ndups);
    return kiln_fail(KILN_E_HOSTMEM, "out of host memory");
}

/* Plans the outputs: the output path of every input of the whole list
 * (or `given`, one per input, taken over and freed here on error), the names two inputs would share (found on the whole list, before
 * sharding and skipping, so every shard and every re-run sees the same
 * collisions: their items fail with a clear message and are never
 * skipped as done), then this shard's items, then (skip_existing) the
 * drop of items whose output is done.  *listed is the shard's item count
 * before skipping.  The list stays consistent on every return. */
static kiln_status plan_outputs(const job_config *job, input_list *list, char **given,
                                size_t shard_index, size_t shard_count, char ***outputs,
                                size_t *listed, size_t *skipped, char ***collisions,
                                size_t *ncollisions)
{
    char **outs = given ? given : kiln_calloc(list->count ? list->count : 1, sizeof(*outs));
    size_t kept = 0;
    kiln_status st;

    *skipped = 0;
    if (!outs)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory");
    for (size_t i = 0; !given && i < list->count; i++) {
        st = output_path(job, list->paths[i], &outs[i]);
        if (st != KILN_OK) {
            free_strings(outs, i);
            return st;
        }
    }
    st = find_collisions(outs, list->count, collisions, ncollisions);
    if (st != KILN_OK) {
        free_strings(outs, list->count);
        return st;
    }
    for (size_t i = 0; i < list->count; i++) {
        if (i % shard_count != shard_index) {
            kiln_free(outs[i]);
            kiln_free(list->paths[i]);
            continue;
        }
        list->paths[kept] = list->paths[i];
        outs[kept++] = outs[i];
    }
    list->count = kept;
    *listed = kept;
    kept = 0;
    for (size_t i = 0; i < list->count; i++) {
        if (job->output.skip_existing && !is_collision(*collisions, *ncollisions, outs[i]) &&
            output_done(outs[i])) {
            kiln_free(outs[i]);
            kiln_free(list->paths[i]);
            (*skipped)++;
            continue;
        }
        list->paths[kept] = list->paths[i];
        outs[kept++] = outs[i];
    }
    list->count = kept;
    *outputs = outs;
    return KILN_OK;
}

/* Removes colliding items from the list, failing them with a message. */
static void fail_collisions(batch_state *b, input_list *list, char **collisions, size_t ncollisions)
{
    size_t kept = 0;
    char msg[4400];
    if (ncollisions == 0)
        return;
    for (size_t i = 0; i < list->count; i++) {
        if (is_collision(collisions, ncollisions, b->outputs[i])) {
            snprintf(msg, sizeof(msg), "output name %s is shared with another input: rename one of them",
                     b->outputs[i]);
            record_item(b, list->paths[i], KILN_E_CONFIG, msg);
            kiln_free(list->paths[i]);
            kiln_free(b->outputs[i]);
            continue;
        }
        list->paths[kept] = list->paths[i];
        b->outputs[kept++] = b->outputs[i];
    }
    list->count = kept;
}

/* Copies one worker's end-of-batch figures into a report entry. */
static void report_device_fill(report_device *entry, const worker *w)
{
    entry->info = &w->dev->info;
    entry->items = w->items;
    entry->in_flight = w->lanes.width;
    entry->overlapped = w->lanes.overlapped;
    entry->waited_for_budget = w->lanes.waited_for_budget;
    entry->finished = w->finished;
    entry->first_item_ms = w->first_item_ms;
    entry->later_item_ms_mean = w->finished > 1 ? w->later_items_ms / (double)(w->finished - 1) : 0;
    pool_ledger_get(w->dev->pool, &entry->ledger);
    program_stats_get(w->dev->programs, &entry->compile);
}

/* Fills the report and writes it. */
static kiln_status write_report(batch_state *b, const batch_result *res, size_t shard_index,
                                size_t shard_count, double elapsed_s, size_t rss_start)
{
    report_device devices[BATCH_MAX_DEVICES];
    report_data r;
    memset(&r, 0, sizeof(r));
    r.job = b->job;
    r.shard_index = shard_index;
    r.shard_count = shard_count;
    r.result = *res;
    r.elapsed_s = elapsed_s;
    r.ndevices = b->nworkers;
    r.devices = devices;
    r.times = b->decode_times;
    for (size_t i = 0; i < b->nworkers; i++) {
        report_device_fill(&devices[i], &b->workers[i]);
        stage_times_merge(&r.times, &b->workers[i].times);
    }
    prefetch_stats(b->queue, &r.prefetch_peak_items, &r.prefetch_peak_bytes);
    r.rss_start = rss_start;
    r.rss_end = rss_current_bytes();
    r.rss_peak = rss_peak_bytes();
    r.failures = b->failures;
    r.failures_kept = b->failures_kept;
    return report_write(b->options->report_path, &r);
}

/* The signal watcher's stop function: no new items, those in flight
 * finish (signals.h).  Runs on the watcher's thread. */
static void stop_on_signal(void *user, int signo)
{
    batch_state *b = user;
    char line[160];

    pthread_mutex_lock(&b->lock);
    b->interrupted = signo;
    b->stopped = 1;
    snprintf(line, sizeof(line), "kiln: %s: finishing the items in flight, then stopping "
             "(a second signal exits at once)", signo == SIGINT ? "SIGINT" : "SIGTERM");
    progress_message(&b->progress, line);
    if (b->queue)
        prefetch_stop(b->queue);
    pthread_mutex_unlock(&b->lock);
}

/* Runs the batch. */
kiln_status batch_run(const job_config *job, const batch_options *options, batch_result *result)
{
    static const batch_options no_options = { NULL, NULL, -1, 0, NULL, NULL, 0 };
    batch_state *b;
    signal_watch watch = { 0 };
    input_list list = { 0 };
    device_info *all = NULL;
    prefetch_loader loader;
    char **collisions = NULL, **given = NULL;
    splat_item_cache *splat_cache = NULL;
    size_t shard_index = 0, shard_count = 1, skipped = 0, ncollisions = 0, dropped = 0, stale;
    size_t rss_start = rss_current_bytes();
    double start = kiln_clock_ms();
    kiln_status st, close_st;

    memset(result, 0, sizeof(*result));
    if (!options)
        options = &no_options;
    b = kiln_calloc(1, sizeof(*b));
    if (!b)
        return kiln_fail(KILN_E_HOSTMEM, "out of host memory");
    b->job = job;
    b->options = options;
    pthread_mutex_init(&b->lock, NULL);
    /* before any thread starts (POCL's included), so that they all leave
       the two signals to the watcher */
    if (options->handle_signals && signal_watch_begin(&watch, stop_on_signal, b) != KILN_OK)
        fprintf(stderr, "kiln: warning: %s: SIGINT and SIGTERM kill the batch at once\n",
                kiln_last_error());

    st = shard_resolve(options->shard, &shard_index, &shard_count);
    if (st != KILN_OK)
        goto out_free_state;
    st = inputs_expand_kind(job->inputs, NULL, job->splat.enabled ? INPUT_SCENES : INPUT_IMAGES,
                            &list);
    if (st != KILN_OK)
        goto out_free_state;
    if (list.count == 0) {
        st = kiln_fail(KILN_E_CONFIG, "[job] inputs %s matches no %s file", job->inputs,
                       job->splat.enabled ? ".ply or .splat" : "PNG or JPEG");
        goto out_free_inputs;
    }
    st = inputs_drop_outputs(job->output_dir, &list, &dropped);
    if (st != KILN_OK)
        goto out_free_inputs;
    if (dropped && !options->quiet)
        fprintf(stderr, "kiln: %zu file%s in output_dir %s not taken as input%s (outputs of "
                "this job)\n", dropped, dropped == 1 ? "" : "s", job->output_dir,
                dropped == 1 ? "" : "s");
    st = prepare_output_dir(job->output_dir);
    if (st != KILN_OK)
        goto out_free_inputs;
    /* after the output directory exists: a report may be written inside it */
    st = options->report_path ? atomic_file_check(options->report_path) : KILN_OK;
    if (st != KILN_OK) {
        kiln_fail_context(st, "--report");
        goto out_free_inputs;
    }
    stale = atomic_file_remove_stale(job->output_dir);
    if (stale && !options->quiet)
        fprintf(stderr, "kiln: removed %zu temporary file%s left in %s by processes that "
                "died\n", stale, stale == 1 ? "" : "s", job->output_dir);
    /* a splat job's items are its scenes' views */
    if (job->splat.enabled) {
        st = splat_items_expand(job, &list, &given);
        if (st != KILN_OK)
            goto out_free_inputs;
    }
    st = plan_outputs(job, &list, given, shard_index, shard_count, &b->outputs, &result->listed,
                      &skipped, &collisions, &ncollisions);
    if (st != KILN_OK)
        goto out_free_inputs;
    result->skipped = skipped;
    st = open_devices(b, &all);
    if (st != KILN_OK)
        goto out_close_devices;
    progress_init(&b->progress, stderr, list.count, options->progress, options->quiet);
    if (!options->quiet) {
        fprintf(stderr, "kiln: %s: %zu %s (shard %zu/%zu), %zu already done, on %zu device%s:",
                job->name, result->listed, job->splat.enabled ? "views" : "inputs", shard_index,
                shard_count, skipped, b->nworkers,
                b->nworkers == 1 ? "" : "s");
        for (size_t i = 0; i < b->nworkers; i++)
            fprintf(stderr, "%s %s", i ? "," : "", b->workers[i].dev->info.name);
        fprintf(stderr, "\n");
    }
    fail_collisions(b, &list, collisions, ncollisions);
    if (job->splat.enabled) {
        st = splat_item_loader(job, &splat_cache, &loader);
        if (st != KILN_OK)
            goto out_close_devices;
    } else if (pipeline_needs_host_mask(job)) {
        loader = prefetch_loader_image_mask(job->max_pixels, mask_path, job);
        loader.images.mask_noun = job->refine.trimaps[0] ? "trimap" : "mask";
    } else {
        loader = prefetch_loader_image(job->max_pixels);
    }
    pthread_mutex_lock(&b->lock);
    st = prefetch_start(&b->queue, (const char *const *)list.paths, list.count, &loader,
                        (size_t)job->prefetch_items, (size_t)job->prefetch_bytes);
    if (st == KILN_OK && b->interrupted)
        prefetch_stop(b->queue);   /* a signal came while the devices opened */
    pthread_mutex_unlock(&b->lock);
    if (st != KILN_OK)
        goto out_close_devices;
    for (size_t i = 0; i < b->nworkers; i++) {
        if (pthread_create(&b->workers[i].thread, NULL, worker_main, &b->workers[i]) != 0) {
            /* the workers already started take the whole queue */
            if (i == 0)
                worker_main(&b->workers[0]);
            break;
        }
        b->workers[i].started = 1;
    }
    for (size_t i = 0; i < b->nworkers; i++)
        if (b->workers[i].started)
            pthread_join(b->workers[i].thread, NULL);
    result->succeeded = b->succeeded;
    result->failed = b->failed;
    result->signal = signal_watch_end(&watch);
    result->stopped = b->stopped;
    progress_finish(&b->progress, b->done, b->failed, skipped);
    if (options->report_path) {
        st = write_report(b, result, shard_index, shard_count, (kiln_clock_ms() - start) / 1e3, rss_start);
        if (st != KILN_OK && !b->fatal)
            fprintf(stderr, "kiln: error: %s\n", kiln_last_error());
    }
    if (b->fatal)   /* the job-level error, once, whatever the report did */
        st = kiln_fail(b->fatal, "%s", b->fatal_message);
    prefetch_free(b->queue);

out_close_devices:
    close_st = close_devices(b);
    if (st == KILN_OK)
        st = close_st;
    kiln_free(all);
    splat_item_cache_free(splat_cache);
    free_strings(b->outputs, list.count);
    free_strings(collisions, ncollisions);
out_free_inputs:
    inputs_free(&list);
out_free_state:
    signal_watch_end(&watch);
    for (size_t i = 0; i < b->failures_kept; i++) {
        kiln_free(b->failures[i].input);
        kiln_free(b->failures[i].message);
    }
    pthread_mutex_destroy(&b->lock);
    kiln_free(b);
    return st;
}
