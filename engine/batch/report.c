/* Building the JSON report with json-c. */
#include <signal.h>
#include <json-c/json.h>
#include <string.h>

#include "atomic_file.h"
#include "report.h"
#include "status.h"

/* Adds an unsigned count to an object. */
static void add_u64(json_object *obj, const char *key, uint64_t v)
{
    json_object_object_add(obj, key, json_object_new_int64((int64_t)v));
}

/* Adds a double to an object. */
static void add_double(json_object *obj, const char *key, double v)
{
    json_object_object_add(obj, key, json_object_new_double(v));
}

/* Adds a string to an object. */
static void add_string(json_object *obj, const char *key, const char *v)
{
    json_object_object_add(obj, key, json_object_new_string(v ? v : ""));
}

/* The pool ledger as an object. */
static json_object *ledger_json(const pool_ledger *l)
{
    json_object *o = json_object_new_object(), *tags = json_object_new_object();
    add_u64(o, "budget_bytes", l->budget);
    add_u64(o, "live_objects", l->live_objects);
    add_u64(o, "live_bytes", l->live_bytes);
    add_u64(o, "peak_bytes", l->peak_bytes);
    add_u64(o, "peak_live_bytes", l->peak_live_bytes);
    add_u64(o, "cached_objects", l->cached_objects);
    add_u64(o, "cached_bytes", l->cached_bytes);
    add_u64(o, "hits", l->hits);
    add_u64(o, "misses", l->misses);
    add_u64(o, "creations", l->creations);
    add_u64(o, "releases", l->releases);
    add_u64(o, "trims", l->trims);
    add_u64(o, "retries", l->retries);
    add_u64(o, "failures", l->failures);
    for (size_t i = 0; i < l->ntags; i++) {
        json_object *t = json_object_new_object();
        add_u64(t, "live_objects", l->tags[i].live_objects);
        add_u64(t, "live_bytes", l->tags[i].live_bytes);
        add_u64(t, "peak_bytes", l->tags[i].peak_bytes);
        json_object_object_add(tags, l->tags[i].tag, t);
    }
    json_object_object_add(o, "tags", tags);
    return o;
}

/* One device's entry. */
static json_object *device_json(const report_device *d)
{
    json_object *o = json_object_new_object(), *c = json_object_new_object();
    add_u64(o, "index", d->info->index);
    add_string(o, "type", device_type_name(d->info->type));
    add_string(o, "name", d->info->name);
    add_string(o, "vendor", d->info->vendor);
    add_string(o, "driver_version", d->info->driver_version);
    add_string(o, "platform", d->info->platform_name);
    add_u64(o, "compute_units", d->info->compute_units);
    add_u64(o, "global_mem_bytes", d->info->global_mem);
    add_u64(o, "items", d->items);
    {
        json_object *f = json_object_new_object();
        add_u64(f, "slots", d->in_flight);
        add_u64(f, "overlapped_items", d->overlapped);
        add_u64(f, "waited_for_budget", d->waited_for_budget);
        add_u64(f, "finished_items", d->finished);
        add_double(f, "first_item_ms", d->first_item_ms);
        add_double(f, "later_item_ms_mean", d->later_item_ms_mean);
        json_object_object_add(o, "in_flight", f);
    }
    json_object_object_add(o, "pool", ledger_json(&d->ledger));
    add_u64(c, "builds", d->compile.builds);
    add_u64(c, "cache_hits", d->compile.cache_hits);
    add_u64(c, "cache_rejects", d->compile.cache_rejects);
    add_double(c, "build_ms", d->compile.build_ms);
    add_double(c, "cache_load_ms", d->compile.load_ms);
    json_object_object_add(o, "compile", c);
    return o;
}

/* Builds the whole report object.  The host allocation figures (kiln's
 * own blocks: live, peak, count, failures) are the process's at this
 * moment, beside the RSS. */
static json_object *report_json(const report_data *r)
{
    json_object *root = json_object_new_object();
    json_object *job = json_object_new_object(), *items = json_object_new_object();
    json_object *devices = json_object_new_array(), *stages = json_object_new_object();
    json_object *host = json_object_new_object(), *failures = json_object_new_array();
    json_object *shard = json_object_new_object(), *prefetch = json_object_new_object();
    kiln_host_stats alloc;

    add_string(root, "kiln_version", kiln_version());
    add_string(job, "name", r->job->name);
    add_string(job, "file", r->job->path);
    add_string(job, "inputs", r->job->inputs);
    add_string(job, "output_dir", r->job->output_dir);
    json_object_object_add(root, "job", job);
    add_u64(shard, "index", r->shard_index);
    add_u64(shard, "count", r->shard_count);
    json_object_object_add(root, "shard", shard);
    add_u64(items, "listed", r->result.listed);
    add_u64(items, "skipped_existing", r->result.skipped);
    add_u64(items, "succeeded", r->result.succeeded);
    add_u64(items, "failed", r->result.failed);
    json_object_object_add(items, "stopped_early", json_object_new_boolean(r->result.stopped));
    json_object_object_add(root, "interrupted",
                           r->result.signal ? json_object_new_string(r->result.signal == SIGINT
                                                                         ? "SIGINT" : "SIGTERM")
                                            : NULL);
    json_object_object_add(root, "items", items);
    add_double(root, "elapsed_s", r->elapsed_s);
    add_double(root, "items_per_s", r->elapsed_s > 0 ? (r->result.succeeded + r->result.failed) / r->elapsed_s : 0);
    for (size_t i = 0; i < r->ndevices; i++)
        json_object_array_add(devices, device_json(&r->devices[i]));
    json_object_object_add(root, "devices", devices);
    for (int s = 0; s < STAGE_COUNT; s++) {
        json_object *st = json_object_new_object();
        add_u64(st, "count", r->times.count[s]);
        add_double(st, "total_ms", r->times.ms[s]);
        add_double(st, "mean_ms", r->times.count[s] ? r->times.ms[s] / r->times.count[s] : 0);
        json_object_object_add(stages, stage_name((stage_id)s), st);
    }
    json_object_object_add(root, "stages", stages);
    add_u64(prefetch, "peak_items", r->prefetch_peak_items);
    add_u64(prefetch, "peak_bytes", r->prefetch_peak_bytes);
    json_object_object_add(root, "prefetch", prefetch);
    add_u64(host, "rss_start_bytes", r->rss_start);
    add_u64(host, "rss_end_bytes", r->rss_end);
    add_u64(host, "peak_rss_bytes", r->rss_peak);
    kiln_host_alloc_stats(&alloc);
    add_u64(host, "alloc_live_bytes", alloc.live_bytes);
    add_u64(host, "alloc_peak_bytes", alloc.peak_bytes);
    add_u64(host, "allocations", alloc.allocations);
    add_u64(host, "alloc_failures", alloc.failures);
    json_object_object_add(root, "host", host);
    for (size_t i = 0; i < r->failures_kept; i++) {
        json_object *f = json_object_new_object();
        add_string(f, "input", r->failures[i].input);
        add_string(f, "status", kiln_status_name(r->failures[i].status));
        add_string(f, "message", r->failures[i].message);
        json_object_array_add(failures, f);
    }
    json_object_object_add(root, "failures", failures);
    add_u64(root, "failures_not_listed", r->result.failed > r->failures_kept ? r->result.failed - r->failures_kept : 0);
    return root;
}

/* Writes the report. */
kiln_status report_write(const char *path, const report_data *data)
{
    json_object *root = report_json(data);
    const char *text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
    atomic_file af;
    kiln_status st = atomic_file_open(&af, path);
    if (st == KILN_OK) {
        if (fputs(text, af.fp) < 0 || fputc('\n', af.fp) == EOF) {
            atomic_file_abort(&af);
            st = kiln_fail(KILN_E_IO, "%s: cannot write the report", path);
        } else {
            st = atomic_file_commit(&af);
        }
    }
    if (st != KILN_OK)
        kiln_fail_context(st, "report %s", path);
    json_object_put(root);
    return st;
}
