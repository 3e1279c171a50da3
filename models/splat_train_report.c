/* The training report (splat_train_report.h): decimated samples, test
 * results, figures; JSON with json-c. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "atomic_file.h"
#include "host_alloc.h"
#include "splat_train_report.h"
#include "status.h"

/* Starts an empty report. */
void splat_train_report_init(splat_train_report *r)
{
    memset(r, 0, sizeof(*r));
    r->interval = 1;
    r->figures.device = r->device_name;
}

/* Frees the test results and empties the report. */
void splat_train_report_free(splat_train_report *r)
{
    kiln_free(r->tests);
    splat_train_report_init(r);
}

/* Keeps every second sample (the first included) and doubles the
 * sampling interval. */
static void points_halve(splat_train_report *r)
{
    size_t kept = 0;

    for (size_t i = 0; i < r->n_points; i += 2)
        r->points[kept++] = r->points[i];
    r->n_points = kept;
    r->interval *= 2;
}

/* Records a sample when this call falls on the interval. */
void splat_train_report_add_loss(splat_train_report *r, uint64_t iteration, double loss,
                                 double psnr, uint64_t count)
{
    uint64_t call = r->calls++;

    if (call % r->interval != 0)
        return;
    if (r->n_points == SPLAT_REPORT_POINTS) {
        points_halve(r);
        if (call % r->interval != 0)
            return;
    }
    r->points[r->n_points].iteration = iteration;
    r->points[r->n_points].loss = loss;
    r->points[r->n_points].psnr = psnr;
    r->points[r->n_points].count = count;
    r->n_points++;
}

/* Appends one view's test result, growing the table by doubling. */
kiln_status splat_train_report_add_test(splat_train_report *r, uint64_t iteration,
                                        const char *name, double psnr, double ssim)
{
    splat_report_test *t;

    if (!r || !name)
        return kiln_fail(KILN_E_INVAL, "splat_train_report_add_test: NULL report or name");
    if (r->n_tests && iteration < r->tests[r->n_tests - 1].iteration)
        return kiln_fail(KILN_E_INVAL, "training report: test iteration %llu comes after %llu",
                         (unsigned long long)iteration,
                         (unsigned long long)r->tests[r->n_tests - 1].iteration);
    if (r->n_tests == r->cap_tests) {
        size_t cap = r->cap_tests ? 2 * r->cap_tests : 16;
        void *p = cap > SIZE_MAX / sizeof(*r->tests) ? NULL
                                                      : kiln_realloc(r->tests,
                                                                     cap * sizeof(*r->tests));
        if (!p)
            return kiln_fail(KILN_E_HOSTMEM, "training report: out of host memory for %zu test "
                             "results", cap);
        r->tests = p;
        r->cap_tests = cap;
    }
    t = &r->tests[r->n_tests++];
    t->iteration = iteration;
    t->psnr = psnr;
    t->ssim = ssim;
    snprintf(t->name, sizeof(t->name), "%s", name);
    return KILN_OK;
}

/* Copies the figures, the device name into the report's own storage. */
void splat_train_report_set_figures(splat_train_report *r, const splat_report_figures *f)
{
    r->figures = *f;
    snprintf(r->device_name, sizeof(r->device_name), "%s", f->device ? f->device : "");
    r->figures.device = r->device_name;
}

/* Adds `value` under `key` (a NULL value is a json-c allocation failure,
 * counted in *failed, unless `may_be_null`). */
static void key_add(json_object *obj, const char *key, json_object *value, int may_be_null,
                    int *failed)
{
    if (!value && !may_be_null)
        (*failed)++;
    if (json_object_object_add(obj, key, value) != 0) {
        json_object_put(value);
        (*failed)++;
    }
}

/* Adds an unsigned count. */
static void u64_add(json_object *obj, const char *key, uint64_t v, int *failed)
{
    key_add(obj, key, json_object_new_int64(v > INT64_MAX ? INT64_MAX : (int64_t)v), 0, failed);
}

/* Adds a double; one that is not finite is null. */
static void double_add(json_object *obj, const char *key, double v, int *failed)
{
    key_add(obj, key, isfinite(v) ? json_object_new_double(v) : NULL, !isfinite(v), failed);
}

/* Appends `value` to an array (a NULL value counts as a failure). */
static void item_add(json_object *arr, json_object *value, int *failed)
{
    if (!value || json_object_array_add(arr, value) != 0) {
        json_object_put(value);
        (*failed)++;
    }
}

/* The "memory" object. */
static json_object *memory_json(const splat_report_figures *f, int *failed)
{
    json_object *o = json_object_new_object(), *b = json_object_new_object();
    const splat_report_bytes *pg = &f->per_gaussian;

    if (!o || !b) {
        json_object_put(o);
        json_object_put(b);
        (*failed)++;
        return NULL;
    }
    u64_add(o, "device_pool_peak_bytes", f->device_pool_peak_bytes, failed);
    u64_add(o, "host_rss_peak_bytes", f->host_rss_peak_bytes, failed);
    double_add(o, "bytes_per_gaussian", pg->parameters + pg->adam_moments + pg->gradients +
               pg->densification + pg->frame_state, failed);
    double_add(b, "parameters", pg->parameters, failed);
    double_add(b, "adam_moments", pg->adam_moments, failed);
    double_add(b, "gradients", pg->gradients, failed);
    double_add(b, "densification", pg->densification, failed);
    double_add(b, "frame_state", pg->frame_state, failed);
    key_add(o, "bytes_per_gaussian_breakdown", b, 0, failed);
    return o;
}

/* The "loss_curve" and "gaussian_count" arrays, added to root. */
static void curves_add(json_object *root, const splat_train_report *r, int *failed)
{
    json_object *loss = json_object_new_array(), *count = json_object_new_array();

    for (size_t i = 0; loss && count && i < r->n_points && !*failed; i++) {
        const splat_report_point *p = &r->points[i];
        json_object *l = json_object_new_object(), *c = json_object_new_object();

        if (l) {
            u64_add(l, "iteration", p->iteration, failed);
            double_add(l, "loss", p->loss, failed);
            double_add(l, "psnr", p->psnr, failed);
        }
        if (c) {
            u64_add(c, "iteration", p->iteration, failed);
            u64_add(c, "count", p->count, failed);
        }
        item_add(loss, l, failed);
        item_add(count, c, failed);
    }
    key_add(root, "loss_curve", loss, 0, failed);
    key_add(root, "gaussian_count", count, 0, failed);
}

/* One test iteration: the entries [from, to) share their iteration. */
static json_object *test_json(const splat_train_report *r, size_t from, size_t to, int *failed)
{
    json_object *o = json_object_new_object(), *views = json_object_new_array();
    double psnr = 0, ssim = 0;

    if (!o || !views) {
        json_object_put(o);
        json_object_put(views);
        (*failed)++;
        return NULL;
    }
    u64_add(o, "iteration", r->tests[from].iteration, failed);
    for (size_t i = from; i < to; i++) {
        json_object *v = json_object_new_object();

        if (v) {
            key_add(v, "name", json_object_new_string(r->tests[i].name), 0, failed);
            double_add(v, "psnr", r->tests[i].psnr, failed);
            double_add(v, "ssim", r->tests[i].ssim, failed);
        }
        item_add(views, v, failed);
        psnr += r->tests[i].psnr;
        ssim += r->tests[i].ssim;
    }
    key_add(o, "views", views, 0, failed);
    double_add(o, "mean_psnr", psnr / (double)(to - from), failed);
    double_add(o, "mean_ssim", ssim / (double)(to - from), failed);
    return o;
}

/* The whole report as a json-c object; *failed counts allocation
 * failures. */
static json_object *report_json(const splat_train_report *r, int *failed)
{
    const splat_report_figures *f = &r->figures;
    json_object *root = json_object_new_object(), *tests;

    if (!root) {
        (*failed)++;
        return NULL;
    }
    u64_add(root, "iterations", f->iterations, failed);
    double_add(root, "seconds", f->seconds, failed);
    double_add(root, "iterations_per_second",
               f->seconds > 0 ? (double)f->iterations / f->seconds : 0.0, failed);
    u64_add(root, "final_count", f->final_count, failed);
    key_add(root, "device", json_object_new_string(r->device_name), 0, failed);
    key_add(root, "memory", memory_json(f, failed), 0, failed);
    u64_add(root, "loss_interval", r->interval, failed);
    curves_add(root, r, failed);
    tests = json_object_new_array();
    for (size_t from = 0, to; tests && from < r->n_tests && !*failed; from = to) {
        for (to = from + 1; to < r->n_tests && r->tests[to].iteration == r->tests[from].iteration;)
            to++;
        item_add(tests, test_json(r, from, to, failed), failed);
    }
    key_add(root, "tests", tests, 0, failed);
    return root;
}

/* Writes the report (see splat_train_report.h). */
kiln_status splat_train_report_write(const char *path, const splat_train_report *r)
{
    json_object *root;
    const char *text;
    atomic_file af;
    int failed = 0;
    kiln_status st;

    if (!path || !r)
        return kiln_fail(KILN_E_INVAL, "splat_train_report_write: NULL path or report");
    root = report_json(r, &failed);
    text = failed ? NULL
                  : json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
                                                             JSON_C_TO_STRING_SPACED |
                                                             JSON_C_TO_STRING_NOSLASHESCAPE);
    if (!text) {
        st = kiln_fail(KILN_E_HOSTMEM, "%s: out of host memory building the training report",
                       path);
        goto out_put_root;
    }
    st = atomic_file_open(&af, path);
    if (st != KILN_OK)
        goto out_put_root;
    fputs(text, af.fp);
    fputc('\n', af.fp);
    st = atomic_file_commit(&af);   /* reports a write error, removing the temporary */
out_put_root:
    json_object_put(root);
    return st;
}
