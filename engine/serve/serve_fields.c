/* A request's parameters as job settings: rembg's form fields on
 * /api/remove, job keys on /v1/run (see serve_server.h). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "host_alloc.h"
#include "model_registry.h"
#include "serve_server.h"
#include "status.h"

#define FIELDS_MAX_SETS 80
#define FIELDS_SET_BYTES 8192

/* The sets a request asks for, in one buffer. */
typedef struct field_sets {
    const char *set[FIELDS_MAX_SETS];
    size_t n;
    char text[FIELDS_SET_BYTES];
    size_t used;
} field_sets;

/* Appends a "section.key=value" set; -1 when there is no room. */
static int sets_add(field_sets *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sets_add(field_sets *s, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (s->n == FIELDS_MAX_SETS)
        return -1;
    va_start(ap, fmt);
    n = vsnprintf(s->text + s->used, sizeof(s->text) - s->used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(s->text) - s->used)
        return -1;
    s->set[s->n++] = s->text + s->used;
    s->used += (size_t)n + 1;
    return 0;
}

/* Parses a boolean as FastAPI does (true/false, 1/0, yes/no, on/off). */
static int parse_bool(const char *v, int *out)
{
    static const char *const yes[] = { "true", "1", "yes", "on", "y", "t" };
    static const char *const no[] = { "false", "0", "no", "off", "n", "f" };

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* Parses a decimal integer in lo..hi (no sign, no spaces). */
static int parse_int(const char *v, long lo, long hi, long *out)
{
    char *end = NULL;
    long x;

    if (!isdigit((unsigned char)v[0]))
        return -1;
    x = strtol(v, &end, 10);
    if (*end != '\0' || x < lo || x > hi)
        return -1;
    *out = x;
    return 0;
}

/* Parses rembg's bgc, "R,G,B,A" (or with brackets, parentheses or
 * spaces around: "[255, 255, 255, 255]"; A may be left out), each 0..255,
 * into the colour "#rrggbb"; kiln composites over an opaque colour, so A
 * must be 255. */
static int parse_bgc(const char *v, char *colour, size_t cap, char *why, size_t why_cap)
{
    long c[4] = { 0, 0, 0, 255 };
    size_t n = 0;
    const char *p = v;

    while (*p == ' ' || *p == '[' || *p == '(')
        p++;
    while (*p && n < 4) {
        char *end = NULL;
        if (!isdigit((unsigned char)*p))
            break;
        c[n] = strtol(p, &end, 10);
        if (c[n] > 255)
            break;
        n++;
        p = end;
        while (*p == ' ')
            p++;
        if (*p == ',')
            p++;
        while (*p == ' ')
            p++;
    }
    while (*p == ' ' || *p == ']' || *p == ')')
        p++;
    if (*p != '\0' || n < 3) {
        snprintf(why, why_cap, "bgc: '%.64s' is not R,G,B,A with numbers 0..255", v);
        return -1;
    }
    if (c[3] != 255) {
        snprintf(why, why_cap, "bgc: alpha %ld is not supported (kiln composites over an "
                 "opaque colour: alpha 255)", c[3]);
        return -1;
    }
    snprintf(colour, cap, "#%02lx%02lx%02lx", c[0], c[1], c[2]);
    return 0;
}

/* Names every registry model into buf (for the unknown-model message). */
static void registry_names(char *buf, size_t cap)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < model_registry_count() && used < cap; i++) {
        int n = snprintf(buf + used, cap - used, "%s%s", i ? ", " : "",
                         model_registry_at(i)->name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

/* Maps rembg's fields to sets (rembg's remove(): only_mask wins over
 * alpha matting, and the background colour applies to a cut-out only).
 * Returns 0, or -1 with the reason in why. */
static int rembg_sets(const serve_request *r, const job_config *base, field_sets *s,
                      char *why, size_t why_cap)
{
    int a = 0, om = 0, ppm = 0;
    long af = 240, ab = 10, ae = 10;
    char colour[16] = "";

    for (size_t i = 0; i < r->nparams; i++) {
        const char *k = r->params[i].name;
        const char *v = r->params[i].value ? r->params[i].value : "";
        int bad = 0;

        if (strcmp(k, "model") == 0) {
            if (!model_registry_find(v)) {
                char names[512];
                registry_names(names, sizeof(names));
                snprintf(why, why_cap, "model: unknown model '%.64s' (known: %s)", v, names);
                return -1;
            }
            if (sets_add(s, "segment.model=%s", v) != 0)
                bad = 1;
        } else if (strcmp(k, "a") == 0) {
            bad = parse_bool(v, &a);
        } else if (strcmp(k, "om") == 0) {
            bad = parse_bool(v, &om);
        } else if (strcmp(k, "ppm") == 0) {
            bad = parse_bool(v, &ppm);
        } else if (strcmp(k, "af") == 0) {
            bad = parse_int(v, 0, 255, &af);
        } else if (strcmp(k, "ab") == 0) {
            bad = parse_int(v, 0, 255, &ab);
        } else if (strcmp(k, "ae") == 0) {
            bad = parse_int(v, 0, 1024, &ae);
        } else if (strcmp(k, "bgc") == 0) {
            if (v[0] && parse_bgc(v, colour, sizeof(colour), why, why_cap) != 0)
                return -1;
        } else if (strcmp(k, "extras") == 0) {
            if (v[0]) {
                snprintf(why, why_cap, "extras: not supported (set job keys on /v1/run)");
                return -1;
            }
        } else {
            snprintf(why, why_cap, "unknown field '%.64s' (rembg's fields: file, model, a, af, "
                     "ab, ae, om, ppm, bgc)", k);
            return -1;
        }
        if (bad) {
            const char *want = strcmp(k, "af") == 0 || strcmp(k, "ab") == 0 ? "an integer 0..255"
                             : strcmp(k, "ae") == 0 ? "an integer 0..1024"
                             : strcmp(k, "model") == 0 ? "shorter" : "a boolean (true or false)";
            snprintf(why, why_cap, "%s: '%.64s' is not %s", k, v, want);
            return -1;
        }
    }
    if (!base->segment.enabled && sets_add(s, "segment.enabled=yes") != 0)
        goto out_full;
    if (om) {
        if (sets_add(s, "segment.output=mask") != 0)
            goto out_full;
    } else if (a) {
        if (sets_add(s, "refine.enabled=yes") != 0 ||
            sets_add(s, "refine.foreground_threshold=%ld", af) != 0 ||
            sets_add(s, "refine.background_threshold=%ld", ab) != 0 ||
            sets_add(s, "refine.erode_size=%ld", ae) != 0)
            goto out_full;
    }
    if (ppm && sets_add(s, "segment.post_process_mask=yes") != 0)
        goto out_full;
    if (colour[0] && !om &&
        (sets_add(s, "composite.enabled=yes") != 0 || sets_add(s, "composite.colour=%s", colour) != 0))
        goto out_full;
    return 0;
out_full:
    snprintf(why, why_cap, "too many fields");
    return -1;
}

/* The sections a request may not change: the server's own (where it
 * runs, its limits) and those of other commands. */
static int section_is_servers(const char *name, size_t len)
{
    static const char *const fixed[] = { "job", "device", "memory", "serve", "splat", "train" };

    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (strlen(fixed[i]) == len && strncmp(name, fixed[i], len) == 0)
            return 1;
    return 0;
}

/* The key row named "section.key" (len bytes), or NULL. */
static const job_key *key_find(const char *name, size_t len)
{
    for (size_t i = 0; i < job_key_count; i++) {
        size_t sl = strlen(job_keys[i].section);
        if (sl < len && strncmp(name, job_keys[i].section, sl) == 0 && name[sl] == '.' &&
            strlen(job_keys[i].name) == len - sl - 1 &&
            strncmp(name + sl + 1, job_keys[i].name, len - sl - 1) == 0)
            return &job_keys[i];
    }
    return NULL;
}

/* Maps /v1/run's parameters: `stages` (a comma list of segment, refine,
 * resize, composite: those on, the others off) and section.key=value job
 * keys.  Keys naming files on the server (paths, model files) are
 * refused: a client names registry models only. */
static int run_sets(const serve_request *r, field_sets *s, char *why, size_t why_cap)
{
    static const char *const stage_names[] = { "segment", "refine", "resize", "composite" };

    for (size_t i = 0; i < r->nparams; i++) {
        const char *k = r->params[i].name;
        const char *v = r->params[i].value ? r->params[i].value : "";
        const char *dot = strchr(k, '.');
        const job_key *row;

        if (strcmp(k, "stages") == 0) {
            for (size_t j = 0; j < sizeof(stage_names) / sizeof(stage_names[0]); j++) {
                const char *p = v;
                size_t n = strlen(stage_names[j]);
                int on = 0;
                while (p && *p) {
                    if (strncmp(p, stage_names[j], n) == 0 && (p[n] == ',' || p[n] == '\0'))
                        on = 1;
                    p = strchr(p, ',');
                    if (p)
                        p++;
                }
                if (sets_add(s, "%s.enabled=%s", stage_names[j], on ? "yes" : "no") != 0)
                    goto out_full;
            }
            for (const char *p = v; *p;) {
                size_t n = strcspn(p, ",");
                int known = 0;
                for (size_t j = 0; j < sizeof(stage_names) / sizeof(stage_names[0]); j++)
                    known |= strlen(stage_names[j]) == n && strncmp(p, stage_names[j], n) == 0;
                if (!known) {
                    snprintf(why, why_cap, "stages: unknown stage '%.*s' (segment, refine, "
                             "resize, composite)", (int)(n > 64 ? 64 : n), p);
                    return -1;
                }
                p += n;
                if (*p == ',')
                    p++;
            }
            continue;
        }
        if (!dot) {
            snprintf(why, why_cap, "unknown parameter '%.64s' (stages, or section.key=value "
                     "job keys)", k);
            return -1;
        }
        if (section_is_servers(k, (size_t)(dot - k))) {
            snprintf(why, why_cap, "%.64s: the server's setting, not settable per request", k);
            return -1;
        }
        row = key_find(k, strlen(k));
        if (row && (row->type == JOB_KEY_PATH ||
                    (row->file_or_name && (strchr(v, '/') || strstr(v, ".onnx"))))) {
            snprintf(why, why_cap, "%.64s: a request cannot name files on the server", k);
            return -1;
        }
        if (sets_add(s, "%s=%s", k, v) != 0)
            goto out_full;
    }
    return 0;
out_full:
    snprintf(why, why_cap, "too many parameters");
    return -1;
}

/* Joins the sets into one key (NUL-separated sets as '\n'). */
static char *sets_key(const field_sets *s)
{
    size_t len = 1;
    char *key;

    for (size_t i = 0; i < s->n; i++)
        len += strlen(s->set[i]) + 1;
    key = kiln_malloc(len);
    if (!key)
        return NULL;
    key[0] = '\0';
    for (size_t i = 0; i < s->n; i++) {
        strcat(key, s->set[i]);
        strcat(key, "\n");
    }
    return key;
}

/* Builds the request's job; see serve_server.h. */
kiln_status serve_fields_job(serve_server *srv, serve_request *r)
{
    field_sets *s = kiln_calloc(1, sizeof(*s));
    const char *all[SERVE_MAX_SETS + FIELDS_MAX_SETS];
    char why[1024] = "";
    size_t n = 0;
    kiln_status st = KILN_OK;
    int bad;

    if (!s) {
        serve_request_text(r, 500, "out of host memory");
        return KILN_E_HOSTMEM;
    }
    if (r->param_error[0]) {
        serve_request_text(r, 400, "%s", r->param_error);
        st = KILN_E_CONFIG;
        goto out_free;
    }
    bad = r->route == SERVE_ROUTE_REMOVE ? rembg_sets(r, srv->job, s, why, sizeof(why))
                                         : run_sets(r, s, why, sizeof(why));
    if (bad) {
        serve_request_text(r, 400, "%s", why);
        st = KILN_E_CONFIG;
        goto out_free;
    }
    if (s->n == 0)
        goto out_free;
    for (size_t i = 0; i < srv->nsets; i++)
        all[n++] = srv->sets[i];
    for (size_t i = 0; i < s->n; i++)
        all[n++] = s->set[i];
    r->job = kiln_malloc(sizeof(*r->job));
    r->job_key = sets_key(s);
    if (!r->job || !r->job_key) {
        serve_request_text(r, 500, "out of host memory");
        st = KILN_E_HOSTMEM;
        goto out_free;
    }
    st = job_load(srv->job_path, all, n, r->job);
    if (st != KILN_OK) {
        serve_request_text(r, 400, "%s", kiln_last_error());
        goto out_free;
    }
    if (pipeline_needs_host_mask(r->job)) {
        serve_request_text(r, 400, "stages: refine needs segment (a request carries one image, "
                           "not its mask)");
        st = KILN_E_CONFIG;
    }
out_free:
    kiln_free(s);
    return st;
}
