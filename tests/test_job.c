/* Job files: defaults, every key type, --set overrides, relative paths,
 * each class of error with the file, section and key in its message,
 * and the reference (conf/reference.ini) loading back to the defaults.
 * Needs no OpenCL device. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "job.h"
#include "matting.h"
#include "testutil.h"

#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)

static const char *tmp;   /* this test's scratch directory */

/* Writes `text` to tmp/name and returns the path (a static buffer, valid
 * until the next call). */
static const char *job_file(const char *name, const char *text)
{
    static char path[4096];

    snprintf(path, sizeof(path), "%s/%s", tmp, name);
    test_write_text(path, text);
    return path;
}

/* Loads `text` as tmp/job.ini with `sets` and returns the status; the
 * result is in *cfg. */
static kiln_status load_text(const char *text, const char *const *sets, size_t nsets,
                             job_config *cfg)
{
    const char *path = job_file("job.ini", text);
    return job_load(path, sets, nsets, cfg);
}

/* A job file with the two required keys, then `rest`. */
static kiln_status load_with(const char *rest, job_config *cfg)
{
    char text[4096];
    snprintf(text, sizeof(text), "[job]\ninputs = /in\noutput_dir = /out\n%s", rest);
    return load_text(text, NULL, 0, cfg);
}

/* Tells whether a and b are within a rounding error. */
static int near(float a, float b)
{
    return fabsf(a - b) < 1e-6f;
}

/* Every key of the table lives in a known section, once, lower-case, and
 * every default is the documented one. */
static void test_defaults(void)
{
    job_config c;

    for (size_t k = 0; k < job_key_count; k++) {
        int found = 0;
        for (size_t s = 0; s < job_section_count; s++)
            found += strcmp(job_keys[k].section, job_sections[s].name) == 0;
        CHECK(found == 1);
        for (size_t j = k + 1; j < job_key_count; j++)
            CHECK(!(strcmp(job_keys[k].section, job_keys[j].section) == 0 &&
                    strcmp(job_keys[k].name, job_keys[j].name) == 0));
        for (const char *p = job_keys[k].name; *p; p++)
            CHECK((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_');
        CHECK(job_keys[k].doc && job_keys[k].doc[0]);
        CHECK(job_keys[k].default_text != NULL);
        CHECK(job_keys[k].offset + job_keys[k].size <= sizeof(job_config));
    }

    job_defaults(&c, "some/dir/night-shots.v2.ini");
    CHECK(strcmp(c.path, "some/dir/night-shots.v2.ini") == 0);
    CHECK(strcmp(c.name, "night-shots.v2") == 0);
    CHECK(c.inputs[0] == '\0');
    CHECK(c.output_dir[0] == '\0');
    CHECK(c.max_failures == 0);
    CHECK(c.max_pixels == 256 * MIB);
    CHECK(c.max_pixels == 268435456u);
    CHECK(c.prefetch_items == 4);
    CHECK(c.prefetch_bytes == 256 * MIB);
    CHECK(strcmp(c.device.select, "auto") == 0);
    CHECK(c.memory.device_budget == 0);
    CHECK(c.resize.enabled == 0);
    CHECK(c.resize.width == 0 && c.resize.height == 0 && c.resize.max_side == 0);
    CHECK(c.resize.filter == 2);   /* RESIZE_LANCZOS3 */
    CHECK(c.composite.enabled == 0);
    CHECK(near(c.composite.colour[0], 1) && near(c.composite.colour[1], 1) &&
          near(c.composite.colour[2], 1));
    CHECK(c.composite.image[0] == '\0');
    CHECK(c.composite.premultiplied == 0);
    CHECK(c.output.bit_depth == 8);
    CHECK(c.output.suffix[0] == '\0');
    CHECK(c.output.skip_existing == 1);

    job_defaults(&c, "plain");
    CHECK(strcmp(c.name, "plain") == 0);
    job_defaults(&c, ".hidden");
    CHECK(strcmp(c.name, ".hidden") == 0);
}

/* A minimal job: the required keys, everything else default; relative
 * paths are taken from the job file's directory. */
static void test_minimal(void)
{
    job_config c, d;
    char want[8192];

    CHECK_OK(load_text("[job]\ninputs = images\noutput_dir = /abs/out\n", NULL, 0, &c));
    snprintf(want, sizeof(want), "%s/images", tmp);
    CHECK(strcmp(c.inputs, want) == 0);
    CHECK(strcmp(c.output_dir, "/abs/out") == 0);
    CHECK(strcmp(c.name, "job") == 0);
    snprintf(want, sizeof(want), "%s/job.ini", tmp);
    CHECK(strcmp(c.path, want) == 0);

    /* everything else is the default */
    job_defaults(&d, c.path);
    memcpy(d.inputs, c.inputs, sizeof(d.inputs));
    memcpy(d.output_dir, c.output_dir, sizeof(d.output_dir));
    CHECK(memcmp(&c, &d, sizeof(c)) == 0);

    /* list files and globs are resolved too */
    CHECK_OK(load_text("[job]\ninputs = @lists/a.txt\noutput_dir = out\n", NULL, 0, &c));
    snprintf(want, sizeof(want), "@%s/lists/a.txt", tmp);
    CHECK(strcmp(c.inputs, want) == 0);
    snprintf(want, sizeof(want), "%s/out", tmp);
    CHECK(strcmp(c.output_dir, want) == 0);
    CHECK_OK(load_text("[job]\ninputs = @/abs/a.txt\noutput_dir = out\n", NULL, 0, &c));
    CHECK(strcmp(c.inputs, "@/abs/a.txt") == 0);
    CHECK_OK(load_text("[job]\ninputs = shots/*.png\noutput_dir = out\n"
                       "[composite]\nimage = bg/white.png\n", NULL, 0, &c));
    snprintf(want, sizeof(want), "%s/shots/*.png", tmp);
    CHECK(strcmp(c.inputs, want) == 0);
    snprintf(want, sizeof(want), "%s/bg/white.png", tmp);
    CHECK(strcmp(c.composite.image, want) == 0);
}

/* A job file in the current directory keeps its relative paths. */
static void test_current_directory(void)
{
    char cwd[4096];
    job_config c;

    CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
    job_file("here.ini", "[job]\ninputs = in\noutput_dir = out\n");
    CHECK(chdir(tmp) == 0);
    CHECK_OK(job_load("here.ini", NULL, 0, &c));
    CHECK(strcmp(c.inputs, "in") == 0);
    CHECK(strcmp(c.output_dir, "out") == 0);
    CHECK(strcmp(c.name, "here") == 0);
    CHECK(chdir(cwd) == 0);
}

/* Every type parses: case-insensitive names, sizes with suffixes,
 * boolean spellings, enum names, colours. */
static void test_values(void)
{
    job_config c;

    CHECK_OK(load_text(
        "; a comment\n"
        "# another\n"
        "[JOB]\n"
        "Name = \"my batch\"\n"
        "INPUTS = /in\n"
        "output_dir = /out\n"
        "max_failures = 10\n"
        "max_pixels = 64M\n"
        "prefetch_items = 1024\n"
        "prefetch_bytes = 1G\n"
        "[device]\n"
        "select = gpu:1\n"
        "[memory]\n"
        "device_budget = 512M\n"
        "[Resize]\n"
        "Enabled = Yes\n"
        "width = 65536\n"
        "height = 0\n"
        "max_side = 320   ; trailing comment\n"
        "filter = Area\n"
        "[composite]\n"
        "enabled = on\n"
        "colour = \"#FF8000\"\n"
        "premultiplied = 1\n"
        "[output]\n"
        "bit_depth = 16\n"
        "suffix = _cut\n"
        "skip_existing = off\n", NULL, 0, &c));
    CHECK(strcmp(c.name, "my batch") == 0);
    CHECK(strcmp(c.inputs, "/in") == 0);
    CHECK(c.max_failures == 10);
    CHECK(c.max_pixels == 64 * MIB);
    CHECK(c.prefetch_items == 1024);
    CHECK(c.prefetch_bytes == GIB);
    CHECK(strcmp(c.device.select, "gpu:1") == 0);
    CHECK(c.memory.device_budget == 512 * MIB);
    CHECK(c.resize.enabled == 1);
    CHECK(c.resize.width == 65536);
    CHECK(c.resize.height == 0);
    CHECK(c.resize.max_side == 320);
    CHECK(c.resize.filter == 1);   /* RESIZE_AREA */
    CHECK(c.composite.enabled == 1);
    CHECK(near(c.composite.colour[0], 1.0f));
    CHECK(near(c.composite.colour[1], 128.0f / 255.0f));
    CHECK(near(c.composite.colour[2], 0.0f));
    CHECK(c.composite.premultiplied == 1);
    CHECK(c.output.bit_depth == 16);
    CHECK(strcmp(c.output.suffix, "_cut") == 0);
    CHECK(c.output.skip_existing == 0);

    /* every boolean spelling, any case */
    {
        static const char *const yes[] = { "true", "TRUE", "yes", "1", "on", "On" };
        static const char *const no[] = { "false", "False", "no", "0", "off", "OFF" };
        for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
            char text[128];
            snprintf(text, sizeof(text), "[output]\nskip_existing = %s\n", no[i]);
            CHECK_OK(load_with(text, &c));
            CHECK(c.output.skip_existing == 0);
            snprintf(text, sizeof(text), "[composite]\nenabled = %s\n", yes[i]);
            CHECK_OK(load_with(text, &c));
            CHECK(c.composite.enabled == 1);
        }
    }

    /* sizes: bytes, K, M, G; device_budget takes auto and 0 */
    CHECK_OK(load_with("[job]\nprefetch_bytes = 4096\nmax_pixels = 16G\n", &c));
    CHECK(c.prefetch_bytes == 4096);
    CHECK(c.max_pixels == 16 * GIB);
    CHECK_OK(load_with("[job]\nprefetch_bytes = 64K\n[memory]\ndevice_budget = AUTO\n", &c));
    CHECK(c.prefetch_bytes == 65536);
    CHECK(c.memory.device_budget == 0);
    CHECK_OK(load_with("[memory]\ndevice_budget = 0\n", &c));
    CHECK(c.memory.device_budget == 0);
    CHECK_OK(load_with("[memory]\ndevice_budget = 2G\n", &c));
    CHECK(c.memory.device_budget == 2 * GIB);

    /* each filter name maps to its resize_filter value */
    CHECK_OK(load_with("[resize]\nfilter = bilinear\n", &c));
    CHECK(c.resize.filter == 0);
    CHECK_OK(load_with("[resize]\nfilter = LANCZOS3\n", &c));
    CHECK(c.resize.filter == 2);

    /* resize enabled with one of the three sizes */
    CHECK_OK(load_with("[resize]\nenabled = true\nheight = 240\n", &c));
    CHECK(c.resize.height == 240);
    CHECK_OK(load_with("[resize]\nenabled = true\nmax_side = 1\n", &c));

    /* an empty name means the file's stem */
    CHECK_OK(load_with("[job]\nname = \"\"\n", &c));
    CHECK(strcmp(c.name, "job") == 0);
}

/* Loading must fail with `want`, and the message must hold each needle. */
#define CHECK_LOAD_FAILS(text, want, ...) do { \
    job_config bad_; \
    const char *needles_[] = { __VA_ARGS__ }; \
    CHECK_STATUS(load_text((text), NULL, 0, &bad_), (want)); \
    for (size_t n_ = 0; n_ < sizeof(needles_) / sizeof(needles_[0]); n_++) \
        CHECK_MSG(needles_[n_]); \
} while (0)

/* As CHECK_LOAD_FAILS, after the two required keys. */
#define CHECK_FAILS(rest, ...) \
    CHECK_LOAD_FAILS("[job]\ninputs = /in\noutput_dir = /out\n" rest, \
                     KILN_E_CONFIG, __VA_ARGS__)

/* Each class of error names the file, section and key. */
static void test_errors(void)
{
    char path[4096], text[512];
    job_config c;

    /* missing file, directory */
    snprintf(path, sizeof(path), "%s/missing.ini", tmp);
    CHECK_STATUS(job_load(path, NULL, 0, &c), KILN_E_IO);
    CHECK_MSG(path);
    CHECK_MSG("cannot read");
    CHECK_MSG(strerror(ENOENT));
    CHECK_STATUS(job_load(tmp, NULL, 0, &c), KILN_E_IO);
    CHECK_MSG(strerror(EISDIR));
    /* no file: defaults and --set only (kiln refine), named "command line" */
    CHECK_STATUS(job_load(NULL, NULL, 0, &c), KILN_E_CONFIG);
    CHECK_MSG("command line: [job] inputs is required");
    {
        const char *only_sets[] = { "job.inputs=in", "job.output_dir=out", "refine.radius=2" };
        CHECK_OK(job_load(NULL, only_sets, 3, &c));
        CHECK(c.refine.radius == 2 && strcmp(c.inputs, "in") == 0);
        CHECK_STATUS(job_load(NULL, only_sets, 0, NULL), KILN_E_INVAL);
    }

    /* syntax error */
    CHECK_LOAD_FAILS("[job]\ninputs = /in\n[resize\n", KILN_E_CONFIG,
                     "job.ini: line 3: syntax error", "[resize");
    CHECK_LOAD_FAILS("[job]\njust words\n", KILN_E_CONFIG, "job.ini: line 2");

    /* unknown sections, with a suggestion when one is close */
    CHECK_FAILS("[foo]\nbar = 1\n", "job.ini: unknown section [foo]");
    CHECK(strstr(kiln_last_error(), "did you mean") == NULL);
    CHECK_FAILS("[reszie]\nwidth = 1\n", "job.ini: unknown section [reszie]",
                "did you mean [resize]?");
    CHECK_LOAD_FAILS("top = 1\n[job]\ninputs = /in\noutput_dir = /out\n", KILN_E_CONFIG,
                     "job.ini: key 'top' is outside any section");

    /* unknown keys */
    CHECK_FAILS("[resize]\nwidht = 5\n", "job.ini: [resize] unknown key 'widht'",
                "did you mean 'width'?");
    CHECK_FAILS("[Resize]\nWIDHT = 5\n", "job.ini: [resize] unknown key 'widht'");
    CHECK_FAILS("[resize]\nfilters = area\n", "did you mean 'filter'?");
    CHECK_FAILS("[resize]\nzzzzzzzz = 5\n", "[resize] unknown key 'zzzzzzzz'");
    CHECK(strstr(kiln_last_error(), "did you mean") == NULL);
    CHECK_FAILS("[job]\nwidth = 5\n", "[job] unknown key 'width'",
                "'width' belongs in [resize]");

    /* malformed values */
    CHECK_FAILS("[resize]\nwidth = abc\n", "job.ini: [resize] width: 'abc' is not an integer");
    CHECK_FAILS("[resize]\nwidth = 12px\n", "[resize] width: '12px' is not an integer");
    CHECK_FAILS("[resize]\nwidth = 1.5\n", "'1.5' is not an integer");
    CHECK_FAILS("[resize]\nwidth =\n", "'' is not an integer");
    CHECK_FAILS("[job]\nprefetch_bytes = 12Q\n",
                "job.ini: [job] prefetch_bytes: '12Q' is not a size");
    CHECK_FAILS("[memory]\ndevice_budget = lots\n",
                "[memory] device_budget: 'lots' is not a size", "or auto");
    CHECK_FAILS("[resize]\nenabled = maybe\n",
                "job.ini: [resize] enabled: 'maybe' is not a boolean");
    CHECK_FAILS("[resize]\nenabled = 2\n", "'2' is not a boolean");
    CHECK_FAILS("[resize]\nfilter = cubic\n",
                "[resize] filter: 'cubic' is not one of bilinear, area, lanczos3");
    CHECK_FAILS("[composite]\ncolour = #ff0000\n",
                "[composite] colour: '' is not a colour", "quote");
    CHECK_FAILS("[composite]\ncolour = red\n", "'red' is not a colour");
    CHECK_FAILS("[composite]\ncolour = \"#12345g\"\n", "'#12345g' is not a colour");
    CHECK_FAILS("[composite]\ncolour = \"#1234567\"\n", "is not a colour");

    /* out of range */
    CHECK_FAILS("[resize]\nwidth = 70000\n",
                "job.ini: [resize] width: 70000 is out of range 0..65536");
    CHECK_FAILS("[resize]\nheight = -1\n", "[resize] height: -1 is out of range 0..65536");
    CHECK_FAILS("[resize]\nmax_side = 99999999999999999999999\n", "is out of range 0..65536");
    CHECK_FAILS("[job]\nprefetch_items = 0\n",
                "[job] prefetch_items: 0 is out of range 1..1024");
    CHECK_FAILS("[job]\nprefetch_items = 1025\n", "1025 is out of range 1..1024");
    CHECK_FAILS("[job]\nmax_pixels = 17G\n", "[job] max_pixels: 17G is out of range 1..16G");
    CHECK_FAILS("[job]\nprefetch_bytes = 0\n", "prefetch_bytes: 0 is out of range 1..1T");
    CHECK_FAILS("[output]\nbit_depth = 12\n", "[output] bit_depth: 12 is not one of 8, 16");
    CHECK_FAILS("[output]\nbit_depth = 32\n", "32 is not one of 8, 16");

    /* strings too long for their field */
    memset(text, 'n', sizeof(text));
    memcpy(text, "[job]\nname = ", 13);
    memcpy(text + 13 + 200, "\n", 2);
    CHECK_LOAD_FAILS(text, KILN_E_CONFIG, "[job] name:", "too long");

    /* checks across keys */
    CHECK_FAILS("[resize]\nenabled = true\n", "job.ini: [resize] enabled",
                "width, height or max_side");
    CHECK_FAILS("[output]\nsuffix = a/b\n", "[output] suffix", "'/'");
    CHECK_LOAD_FAILS("[job]\noutput_dir = /out\n", KILN_E_CONFIG,
                     "job.ini: [job] inputs is required");
    CHECK_LOAD_FAILS("[job]\ninputs = /in\n", KILN_E_CONFIG,
                     "job.ini: [job] output_dir is required");
    CHECK_LOAD_FAILS("[job]\ninputs =\noutput_dir = /out\n", KILN_E_CONFIG,
                     "[job] inputs is required");
    CHECK_LOAD_FAILS("", KILN_E_CONFIG, "inputs is required");
}

/* iniparser's own messages are captured into the error, not printed. */
static void test_quiet(void)
{
    char path[4096];
    job_config c;
    struct stat sb;
    int saved, fd;

    snprintf(path, sizeof(path), "%s/stderr.txt", tmp);
    fflush(stderr);
    saved = dup(2);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(saved >= 0 && fd >= 0);
    if (saved < 0 || fd < 0)
        return;
    dup2(fd, 2);
    close(fd);
    CHECK_STATUS(load_text("[job\n[resize\n", NULL, 0, &c), KILN_E_CONFIG);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    CHECK_MSG("line 1: syntax error: '[job'");
    CHECK(stat(path, &sb) == 0 && sb.st_size == 0);
}

/* --set overrides: values, case, new sections, relative paths, errors. */
static void test_sets(void)
{
    const char *base = "[job]\ninputs = in\noutput_dir = out\n[resize]\nwidth = 100\n";
    job_config c;

    {
        const char *sets[] = { "resize.width=300", "Resize.Height=200",
                               "composite.colour=#102030", "output.suffix=",
                               "job.output_dir=rel/out", "memory.device_budget=1G" };
        CHECK_OK(load_text(base, sets, 6, &c));
        CHECK(c.resize.width == 300);
        CHECK(c.resize.height == 200);
        CHECK(near(c.composite.colour[0], 16.0f / 255.0f));
        CHECK(near(c.composite.colour[2], 48.0f / 255.0f));
        CHECK(c.output.suffix[0] == '\0');
        CHECK(c.memory.device_budget == GIB);
        /* a --set path is the command line's: relative to the cwd */
        CHECK(strcmp(c.output_dir, "rel/out") == 0);
        /* the file's own relative path still resolves */
        char want[8192];
        snprintf(want, sizeof(want), "%s/in", tmp);
        CHECK(strcmp(c.inputs, want) == 0);
    }
    {
        /* the last of two sets wins; a set may complete a file */
        const char *sets[] = { "job.inputs=/a", "job.inputs=/b", "job.output_dir=/o",
                               "resize.enabled=true", "resize.max_side=64" };
        CHECK_OK(load_text("", sets, 5, &c));
        CHECK(strcmp(c.inputs, "/b") == 0);
        CHECK(c.resize.enabled == 1 && c.resize.max_side == 64);
    }

    /* malformed sets */
    {
        static const char *const bad[] = { "resize.width", "width=5", ".width=5",
                                           "resize.=5", "=5", "" };
        char needle[128];
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            CHECK_STATUS(load_text(base, &bad[i], 1, &c), KILN_E_CONFIG);
            snprintf(needle, sizeof(needle), "--set %s: expected section.key=value", bad[i]);
            CHECK_MSG(needle);
        }
    }
    {
        const char *sets[] = { "resize.widht=5" };
        CHECK_STATUS(load_text(base, sets, 1, &c), KILN_E_CONFIG);
        CHECK_MSG("--set resize.widht: unknown key 'widht' in [resize]");
        CHECK_MSG("did you mean 'width'?");
    }
    {
        const char *sets[] = { "reszie.width=5" };
        CHECK_STATUS(load_text(base, sets, 1, &c), KILN_E_CONFIG);
        CHECK_MSG("--set reszie.width: unknown section [reszie]");
        CHECK_MSG("did you mean [resize]?");
    }
    {
        const char *sets[] = { "resize.width=abc" };
        CHECK_STATUS(load_text(base, sets, 1, &c), KILN_E_CONFIG);
        CHECK_MSG("--set resize.width: 'abc' is not an integer");
    }
    {
        const char *sets[] = { "resize.width=70000" };
        CHECK_STATUS(load_text(base, sets, 1, &c), KILN_E_CONFIG);
        CHECK_MSG("--set resize.width: 70000 is out of range 0..65536");
    }
    {
        const char *sets[] = { "job.inputs=" };
        CHECK_STATUS(load_text(base, sets, 1, &c), KILN_E_CONFIG);
        CHECK_MSG("[job] inputs is required");
    }
    {
        /* a set does not hide an error in the file */
        const char *sets[] = { "resize.width=5" };
        CHECK_STATUS(load_text("[job]\ninputs = a\noutput_dir = b\n[resize]\nhieght = 1\n",
                               sets, 1, &c), KILN_E_CONFIG);
        CHECK_MSG("job.ini: [resize] unknown key 'hieght'");
        CHECK_MSG("did you mean 'height'?");
    }
}

/* The reference lists every key, loads back to the defaults once the two
 * required keys are set, and is what conf/reference.ini holds. */
static void test_reference(void)
{
    const char *sets[] = { "job.inputs=/data/in", "job.output_dir=/data/out" };
    char path[4096], repo_path[4096], *generated = NULL, *stored = NULL;
    const char *srcdir = getenv("TOP_SRCDIR");
    size_t generated_len = 0, stored_len = 0;
    job_config loaded, want;
    FILE *f;

    snprintf(path, sizeof(path), "%s/reference.ini", tmp);
    f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    job_write_reference(f);
    fclose(f);

    CHECK_OK(job_load(path, sets, 2, &loaded));
    job_defaults(&want, path);
    snprintf(want.inputs, sizeof(want.inputs), "/data/in");
    snprintf(want.output_dir, sizeof(want.output_dir), "/data/out");
    CHECK(memcmp(&loaded, &want, sizeof(loaded)) == 0);
    CHECK(strcmp(loaded.name, "reference") == 0);

    /* without them it names the first missing one */
    CHECK_STATUS(job_load(path, NULL, 0, &loaded), KILN_E_CONFIG);
    CHECK_MSG("reference.ini: [job] inputs is required");

    /* every section and key is in it */
    f = fopen(path, "r");
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK(getdelim(&generated, &generated_len, '\0', f) > 0);
    fclose(f);
    for (size_t s = 0; s < job_section_count; s++) {
        char needle[128];
        snprintf(needle, sizeof(needle), "\n[%s]\n", job_sections[s].name);
        CHECK(generated && strstr(generated, needle));
    }
    for (size_t k = 0; k < job_key_count; k++) {
        char needle[128];
        snprintf(needle, sizeof(needle), "\n%s = ", job_keys[k].name);
        CHECK(generated && strstr(generated, needle));
        snprintf(needle, sizeof(needle), "\n# %s: ", job_keys[k].name);
        CHECK(generated && strstr(generated, needle));
    }

    /* conf/reference.ini is the generated text */
    if (!srcdir || !*srcdir)
        srcdir = getenv("srcdir");   /* automake's, relative to the build tree */
    snprintf(repo_path, sizeof(repo_path), "%s/conf/reference.ini",
             srcdir && *srcdir ? srcdir : ".");
    f = fopen(repo_path, "r");
    CHECK(f != NULL);
    if (f) {
        CHECK(getdelim(&stored, &stored_len, '\0', f) > 0);
        fclose(f);
        CHECK(generated && stored && strcmp(generated, stored) == 0);
    }
    free(stored);
    free(generated);
}

/* Runs every job test. */
/* The [refine] defaults are the matting ops' own defaults. */
static void test_refine_defaults(void)
{
    job_config cfg;
    cf_params cf;
    fg_params fg;

    job_defaults(&cfg, "d.ini");
    cf_params_default(&cf);
    fg_params_default(&fg);
    CHECK(cfg.refine.epsilon == cf.epsilon);
    CHECK(cfg.refine.radius == cf.radius);
    CHECK(cfg.refine.max_iterations == cf.max_iterations);
    CHECK(cfg.refine.tolerance == cf.tolerance);
    CHECK(cfg.refine.fg_regularization == fg.regularization);
    CHECK(cfg.refine.fg_small_iterations == fg.small_iterations);
    CHECK(cfg.refine.fg_big_iterations == fg.big_iterations);
    CHECK(cfg.refine.fg_small_size == fg.small_size);
}

int main(void)
{
    test_refine_defaults();
    tmp = test_tmpdir("job");
    test_defaults();
    test_minimal();
    test_current_directory();
    test_values();
    test_errors();
    test_quiet();
    test_sets();
    test_reference();
    return test_summary("test_job");
}
