/* Device listing and selection on two POCL devices. */
#include "host_alloc.h"
#include "testutil.h"

/* Runs a selector and returns how many devices it picked (-1: error). */
static int select_count(const device_info *all, size_t n, const char *selector, size_t *picked)
{
    size_t npicked = 0;
    if (device_select(selector, all, n, picked, &npicked) != KILN_OK)
        return -1;
    return (int)npicked;
}

/* Every selector form against the device list. */
int main(void)
{
    device_info *all = NULL, *again = NULL;
    size_t n = 0, n2 = 0, picked[64];

    /* two CPU devices, as a stand-in for a fleet (must precede any CL call) */
    setenv("POCL_DEVICES", "pthread pthread", 1);
    CHECK_OK(device_list(&all, &n));
    if (n == 0) {
        fprintf(stderr, "no OpenCL device: skipping\n");
        return 77;
    }
    CHECK(n >= 2);
    for (size_t i = 0; i < n; i++) {
        printf("%zu: %s %s | %s | driver %s | %u CUs | %llu MiB | fp16 %d fp64 %d\n", all[i].index,
               device_type_name(all[i].type), all[i].name, all[i].vendor, all[i].driver_version,
               all[i].compute_units, (unsigned long long)(all[i].global_mem >> 20), all[i].fp16, all[i].fp64);
        CHECK(all[i].index == i);
        CHECK(all[i].name[0] != '\0');
        CHECK(all[i].global_mem > 0 && all[i].max_alloc > 0 && all[i].compute_units > 0);
        CHECK(device_default_budget(&all[i]) > 0 && device_default_budget(&all[i]) <= all[i].global_mem);
    }
    /* stable order: a second listing is the same */
    CHECK_OK(device_list(&again, &n2));
    CHECK(n2 == n);
    for (size_t i = 0; i < n && i < n2; i++)
        CHECK(strcmp(all[i].name, again[i].name) == 0 && all[i].id == again[i].id);
    kiln_free(again);

    CHECK(select_count(all, n, "all", picked) == (int)n);
    CHECK(select_count(all, n, "auto", picked) == 1 && picked[0] == 0);
    CHECK(select_count(all, n, "", picked) == 1 && picked[0] == 0);
    CHECK(select_count(all, n, "1", picked) == 1 && picked[0] == 1);
    CHECK(select_count(all, n, "cpu", picked) >= 2);
    CHECK(select_count(all, n, "cpu:1", picked) == 1);
    CHECK(select_count(all, n, "0, 1", picked) == 2 && picked[0] == 0 && picked[1] == 1);
    CHECK(select_count(all, n, "1,1", picked) == 1);
    /* a substring of the name, case-insensitive */
    char sub[8];
    snprintf(sub, sizeof(sub), "%.4s", all[0].name);
    for (char *c = sub; *c; c++)
        *c = (char)((*c >= 'a' && *c <= 'z') ? *c - 32 : (*c >= 'A' && *c <= 'Z') ? *c + 32 : *c);
    CHECK(select_count(all, n, sub, picked) >= 1);
    /* nothing matches: an error that lists what exists */
    CHECK(select_count(all, n, "gpu:7", picked) == -1);
    CHECK_MSG("gpu:7");
    CHECK_MSG(all[0].name);
    CHECK_MSG(all[1].name);
    CHECK(select_count(all, n, "42", picked) == -1);
    CHECK(select_count(all, n, "no-such-vendor", picked) == -1);
    CHECK_MSG("matches no device");
    CHECK(select_count(all, n, "cpu,no-such-vendor", picked) == -1);
    CHECK(select_count(all, 0, "auto", picked) == -1);
    CHECK_MSG("no OpenCL device found");

    /* both devices open, each with its own queue and pool */
    kiln_device *d0 = NULL, *d1 = NULL;
    CHECK_OK(device_open(&all[0], 1 << 20, &d0));
    CHECK_OK(device_open(&all[1], 1 << 20, &d1));
    if (d0 && d1) {
        pool_buffer *b0 = NULL, *b1 = NULL;
        CHECK_OK(pool_acquire(d0->pool, 1000, "test.a", &b0));
        CHECK_OK(pool_acquire(d1->pool, 1000, "test.b", &b1));
        CHECK(d0->pool != d1->pool && d0->queue != d1->queue);
        pool_release(d0->pool, b0);
        /* closing a device with a live buffer names the tag */
        CHECK_STATUS(device_close(d1), KILN_E_LEAK);
        CHECK_MSG("test.b");
        d1 = NULL;
    }
    test_device_close(d0);
    kiln_free(all);
    return test_summary("test_devices");
}
