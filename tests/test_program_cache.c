/* Runtime compilation and the on-disk program cache: cold and warm builds,
 * corrupt and truncated cache files, build failures with their log. */
#include <dirent.h>
#include <unistd.h>

#include "program.h"
#include "testutil.h"

static const char good_source[] =
    "/* test kernel */\n"
    "kernel void scale(global float *x, float s) { size_t i = get_global_id(0); x[i] *= s * FACTOR; }\n";

static const char broken_source[] =
    "kernel void broken(global float *x) {\n"
    "    x[0] = undefined_identifier_here;\n"
    "}\n";

/* Returns the path of the only *.bin file in dir into buf (0 when none). */
static int find_cache_file(const char *dir, char *buf, size_t len)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;
    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n > 4 && strcmp(e->d_name + n - 4, ".bin") == 0) {
            snprintf(buf, len, "%s/%s", dir, e->d_name);
            found++;
        }
    }
    closedir(d);
    return found;
}

/* Removes every cache file in dir. */
static void clear_cache(const char *dir)
{
    char file[8192];
    while (find_cache_file(dir, file, sizeof(file)) > 0)
        unlink(file);
}

/* Builds the good program on a freshly opened device and returns its stats. */
static program_stats build_once(const char *options, kiln_status *status)
{
    kiln_device *dev = test_device_open(0);
    cl_program program = NULL;
    cl_kernel kernel = NULL;
    program_stats stats;
    *status = program_get(dev, "test_scale.cl", good_source, sizeof(good_source) - 1, options, &program);
    if (*status == KILN_OK)
        *status = program_kernel(dev, program, "scale", &kernel);
    program_stats_get(dev->programs, &stats);
    test_device_close(dev);
    return stats;
}

/* Runs the cache tests in a private cache directory. */
int main(void)
{
    char dir[4096], file[8192];
    kiln_status st;
    program_stats s;
    double cold_ms, warm_ms;
    FILE *fp;

    snprintf(dir, sizeof(dir), "%s/cache", test_tmpdir("program_cache"));
    clear_cache(dir);
    setenv("KILN_CACHE_DIR", dir, 1);

    /* cold: compiled from source and stored */
    s = build_once("-DFACTOR=2.0f", &st);
    CHECK_OK(st);
    CHECK(s.builds == 1 && s.cache_hits == 0);
    cold_ms = s.build_ms;
    CHECK(find_cache_file(dir, file, sizeof(file)) == 1);

    /* warm: loaded from the cache */
    s = build_once("-DFACTOR=2.0f", &st);
    CHECK_OK(st);
    CHECK(s.builds == 0 && s.cache_hits == 1);
    warm_ms = s.load_ms;
    printf("program build: cold %.1f ms, warm (cache) %.1f ms\n", cold_ms, warm_ms);

    /* other options: another key, another file */
    s = build_once("-DFACTOR=3.0f", &st);
    CHECK_OK(st);
    CHECK(s.builds == 1);
    CHECK(find_cache_file(dir, file, sizeof(file)) == 2);

    /* truncated cache file: rejected and rebuilt */
    clear_cache(dir);
    s = build_once("-DFACTOR=2.0f", &st);
    CHECK(s.builds == 1);
    CHECK(find_cache_file(dir, file, sizeof(file)) == 1);
    CHECK(truncate(file, 100) == 0);
    s = build_once("-DFACTOR=2.0f", &st);
    CHECK_OK(st);
    CHECK(s.cache_rejects == 1 && s.builds == 1);

    /* a flipped payload byte: rejected by the digest, rebuilt */
    fp = fopen(file, "r+b");
    CHECK(fp != NULL);
    if (fp) {
        fseek(fp, -10, SEEK_END);
        int c = fgetc(fp);
        fseek(fp, -10, SEEK_END);
        fputc(c ^ 0x5a, fp);
        fclose(fp);
    }
    s = build_once("-DFACTOR=2.0f", &st);
    CHECK_OK(st);
    CHECK(s.cache_rejects == 1 && s.builds == 1);
    /* and the rewritten file is good again */
    s = build_once("-DFACTOR=2.0f", &st);
    CHECK(s.cache_hits == 1 && s.builds == 0);

    /* garbage of the right name: rejected */
    fp = fopen(file, "wb");
    if (fp) {
        fputs("not a cache file at all, but long enough to hold a header of sixty bytes....", fp);
        fclose(fp);
    }
    s = build_once("-DFACTOR=2.0f", &st);
    CHECK_OK(st);
    CHECK(s.cache_rejects == 1);

    /* an embedded source is found again by address and options, without
     * another lookup by key; other options give another program */
    {
        kiln_device *edev = test_device_open(0);
        cl_program p1 = NULL, p2 = NULL, p3 = NULL, p4 = NULL;
        CHECK_OK(program_get_embedded(edev, "test_scale.cl", good_source,
                                      sizeof(good_source) - 1, "-DFACTOR=2.0f", &p1));
        CHECK_OK(program_get_embedded(edev, "test_scale.cl", good_source,
                                      sizeof(good_source) - 1, "-DFACTOR=2.0f", &p2));
        CHECK_OK(program_get_embedded(edev, "test_scale.cl", good_source,
                                      sizeof(good_source) - 1, "-DFACTOR=3.0f", &p3));
        CHECK_OK(program_get(edev, "test_scale.cl", good_source, sizeof(good_source) - 1,
                             "-DFACTOR=3.0f", &p4));
        CHECK(p1 != NULL && p1 == p2 && p3 != NULL && p3 != p1 && p4 == p3);
        program_stats_get(edev->programs, &s);
        CHECK(s.builds + s.cache_hits == 2);
        test_device_close(edev);
    }

    /* a broken source: KILN_E_BUILD carrying the device's build log */
    kiln_device *dev = test_device_open(0);
    cl_program program = NULL;
    CHECK_STATUS(program_get(dev, "broken.cl", broken_source, sizeof(broken_source) - 1, NULL, &program),
                 KILN_E_BUILD);
    CHECK_MSG("broken.cl");
    CHECK_MSG("undefined_identifier_here");
    printf("build failure message:\n%s\n", kiln_last_error());
    /* embedded sources are found by name */
    size_t len = 0;
    CHECK(cl_source_find("image_resize.cl", &len) != NULL && len > 0);
    CHECK(cl_source_find("no_such_file.cl", &len) == NULL);
    cl_kernel k = NULL;
    CHECK_STATUS(device_kernel(dev, "no_such_file.cl", NULL, "x", &k), KILN_E_INVAL);
    test_device_close(dev);
    return test_summary("test_program_cache");
}
