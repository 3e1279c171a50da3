/* `kiln devices`: every platform and device with the facts that matter. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "device.h"
#include "host_alloc.h"
#include "status.h"

/* One device as a JSON object. */
static json_object *device_json(const device_info *d)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "index", json_object_new_int64((int64_t)d->index));
    json_object_object_add(o, "type", json_object_new_string(device_type_name(d->type)));
    json_object_object_add(o, "name", json_object_new_string(d->name));
    json_object_object_add(o, "vendor", json_object_new_string(d->vendor));
    json_object_object_add(o, "platform", json_object_new_string(d->platform_name));
    json_object_object_add(o, "platform_version", json_object_new_string(d->platform_version));
    json_object_object_add(o, "driver_version", json_object_new_string(d->driver_version));
    json_object_object_add(o, "device_version", json_object_new_string(d->device_version));
    json_object_object_add(o, "opencl_c_version", json_object_new_string(d->opencl_c_version));
    json_object_object_add(o, "compute_units", json_object_new_int64(d->compute_units));
    json_object_object_add(o, "max_clock_mhz", json_object_new_int64(d->max_clock_mhz));
    json_object_object_add(o, "global_mem_bytes", json_object_new_int64((int64_t)d->global_mem));
    json_object_object_add(o, "max_alloc_bytes", json_object_new_int64((int64_t)d->max_alloc));
    json_object_object_add(o, "local_mem_bytes", json_object_new_int64((int64_t)d->local_mem));
    json_object_object_add(o, "max_work_group", json_object_new_int64((int64_t)d->max_work_group));
    json_object_object_add(o, "fp16", json_object_new_boolean(d->fp16));
    json_object_object_add(o, "fp64", json_object_new_boolean(d->fp64));
    json_object_object_add(o, "default_budget_bytes",
                           json_object_new_int64((int64_t)device_default_budget(d)));
    return o;
}

/* Prints one device as text lines. */
static void device_print(const device_info *d)
{
    printf("%zu: %s %s\n", d->index, device_type_name(d->type), d->name);
    printf("   vendor %s; platform %s (%s)\n", d->vendor, d->platform_name, d->platform_version);
    printf("   driver %s; %s; %s\n", d->driver_version, d->device_version, d->opencl_c_version);
    printf("   compute units %u at %u MHz; max work-group %zu\n", d->compute_units, d->max_clock_mhz,
           d->max_work_group);
    printf("   global memory %.1f MiB; max allocation %.1f MiB; local memory %.1f KiB\n",
           d->global_mem / 1048576.0, d->max_alloc / 1048576.0, d->local_mem / 1024.0);
    printf("   fp16 %s; fp64 %s; default pool budget %.1f MiB\n", d->fp16 ? "yes" : "no",
           d->fp64 ? "yes" : "no", device_default_budget(d) / 1048576.0);
}

/* Prints the usage of the command. */
static void devices_usage(FILE *out)
{
    fprintf(out, "usage: kiln devices [--json]\n"
                 "  lists every OpenCL platform and device with its facts (type, vendor,\n"
                 "  driver, compute units, memory, fp16/fp64); --json as a JSON array.\n"
                 "  KILN_DEVICE or a job's [device] select picks among them.\n");
}

static const cli_command devices_command = { "devices", devices_usage };

/* Lists devices as text or JSON; exit status 0, or 2 on error. */
int cli_devices(int argc, char **argv)
{
    device_info *all = NULL;
    size_t count = 0;
    int json = 0;

    for (int i = 0; i < argc; i++) {
        if (cli_is_help(argv[i]))
            return cli_help(&devices_command);
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (argv[i][0] == '-')
            return cli_usage_error(&devices_command, "unknown option '%s'", argv[i]);
        else
            return cli_usage_error(&devices_command, "unexpected argument '%s'", argv[i]);
    }
    if (device_list(&all, &count) != KILN_OK) {
        fprintf(stderr, "kiln devices: %s\n", kiln_last_error());
        return 2;
    }
    if (json) {
        json_object *arr = json_object_new_array();
        for (size_t i = 0; i < count; i++)
            json_object_array_add(arr, device_json(&all[i]));
        printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(arr);
    } else if (count == 0) {
        printf("no OpenCL device found (is an ICD such as pocl-opencl-icd installed?)\n");
    } else {
        for (size_t i = 0; i < count; i++)
            device_print(&all[i]);
    }
    kiln_free(all);
    return 0;
}
