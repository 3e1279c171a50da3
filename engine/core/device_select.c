/* Device selection from a selector string. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "device.h"
#include "host_alloc.h"
#include "clock.h"
#include "phase_time.h"
#include "status.h"

/* Returns 1 when `text` is a non-empty decimal number, storing it. */
static int parse_index(const char *text, size_t *out)
{
    char *end;
    unsigned long long v;
    if (!isdigit((unsigned char)text[0]))
        return 0;
    v = strtoull(text, &end, 10);
    if (*end != '\0')
        return 0;
    *out = (size_t)v;
    return 1;
}

/* Maps "gpu", "cpu", "accelerator"/"acc" to a type; 0 when not a type. */
static cl_device_type parse_type(const char *text)
{
    if (strcasecmp(text, "gpu") == 0)
        return CL_DEVICE_TYPE_GPU;
    if (strcasecmp(text, "cpu") == 0)
        return CL_DEVICE_TYPE_CPU;
    if (strcasecmp(text, "accelerator") == 0 || strcasecmp(text, "acc") == 0)
        return CL_DEVICE_TYPE_ACCELERATOR;
    return 0;
}

/* Adds index i to picked[] unless already there; counts the match. */
static void pick(size_t *picked, size_t *npicked, size_t i, size_t *matches)
{
    (*matches)++;
    for (size_t k = 0; k < *npicked; k++)
        if (picked[k] == i)
            return;
    picked[(*npicked)++] = i;
}

/* Applies one selector term; returns how many devices it matched. */
static size_t select_term(const char *term, const device_info *all, size_t n,
                          size_t *picked, size_t *npicked)
{
    size_t matches = 0, idx;
    cl_device_type type;
    const char *colon = strchr(term, ':');

    if (strcasecmp(term, "all") == 0) {
        for (size_t i = 0; i < n; i++)
            pick(picked, npicked, i, &matches);
    } else if (strcasecmp(term, "auto") == 0) {
        if (n > 0)
            pick(picked, npicked, 0, &matches); /* the stable order puts GPUs first */
    } else if (parse_index(term, &idx)) {
        if (idx < n)
            pick(picked, npicked, idx, &matches);
    } else if ((type = parse_type(term)) != 0) {
        for (size_t i = 0; i < n; i++)
            if (all[i].type & type)
                pick(picked, npicked, i, &matches);
    } else if (colon && colon != term) {
        char type_name[32];
        size_t len = (size_t)(colon - term);
        if (len < sizeof(type_name) && parse_index(colon + 1, &idx)) {
            size_t seen = 0;
            memcpy(type_name, term, len);
            type_name[len] = '\0';
            type = parse_type(type_name);
            for (size_t i = 0; type && i < n; i++) {
                if (!(all[i].type & type))
                    continue;
                if (seen++ == idx) {
                    pick(picked, npicked, i, &matches);
                    break;
                }
            }
        }
    } else {
        for (size_t i = 0; i < n; i++)
            if (strcasestr(all[i].name, term) || strcasestr(all[i].vendor, term) ||
                strcasestr(all[i].platform_name, term))
                pick(picked, npicked, i, &matches);
    }
    return matches;
}

/* Appends "  i: type name (vendor)" lines for every device to buf. */
static void list_devices(const device_info *all, size_t n, char *buf, size_t len)
{
    size_t used = strlen(buf);
    if (n == 0) {
        snprintf(buf + used, len - used, " (no OpenCL device found: is an ICD such as pocl-opencl-icd installed?)");
        return;
    }
    for (size_t i = 0; i < n && used < len; i++) {
        snprintf(buf + used, len - used, "\n  %zu: %s %s (%s)", i, device_type_name(all[i].type),
                 all[i].name, all[i].vendor);
        used = strlen(buf);
    }
}

/* Selects devices by a comma-separated selector. */
kiln_status device_select(const char *selector, const device_info *all,
                          size_t all_count, size_t *picked, size_t *npicked)
{
    char copy[512], *save = NULL, *term;
    char listing[4096];

    *npicked = 0;
    if (!selector || !*selector)
        selector = "auto";
    snprintf(copy, sizeof(copy), "%s", selector);
    for (term = strtok_r(copy, ",", &save); term; term = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char)*term))
            term++;
        for (size_t end = strlen(term); end > 0 && isspace((unsigned char)term[end - 1]); end--)
            term[end - 1] = '\0';
        if (*term == '\0')
            continue;
        if (select_term(term, all, all_count, picked, npicked) == 0) {
            snprintf(listing, sizeof(listing), "device selector '%s' matches no device ('%s' matched nothing); devices:",
                     selector, term);
            list_devices(all, all_count, listing, sizeof(listing));
            *npicked = 0;
            return kiln_fail(KILN_E_NODEV, "%s", listing);
        }
    }
    if (*npicked == 0) {
        snprintf(listing, sizeof(listing), "device selector '%s' matches no device; devices:", selector);
        list_devices(all, all_count, listing, sizeof(listing));
        return kiln_fail(KILN_E_NODEV, "%s", listing);
    }
    return KILN_OK;
}

/* Lists, selects and opens the first selected device. */
kiln_status device_open_selected(const char *selector, size_t budget, kiln_device **out)
{
    device_info *all = NULL;
    size_t count = 0, picked[64], npicked = 0;
    const char *env = getenv("KILN_DEVICE");
    double t0 = kiln_clock_ms();
    kiln_status st;

    *out = NULL;
    if (env && *env)
        selector = env;
    st = device_list(&all, &count);
    if (st != KILN_OK)
        return st;
    st = device_select(selector, all, count > 64 ? 64 : count, picked, &npicked);
    if (st == KILN_OK)
        st = device_open(&all[picked[0]], budget, out);
    kiln_free(all);
    kiln_phase_lap(KILN_PHASE_DEVICE_OPEN, &t0);
    return st;
}
