/* Input lists (directory, glob, list file: sorted, without duplicates)
 * and shards (--shard, SLURM arrays, Kubernetes indexed jobs).  Needs no
 * OpenCL device. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host_alloc.h"
#include "inputs.h"
#include "testutil.h"

static const char *tmp;   /* this test's scratch directory */

/* Writes `text` to tmp/name (name may hold existing directories). */
static void write_file(const char *name, const char *text)
{
    char path[4096];

    snprintf(path, sizeof(path), "%s/%s", tmp, name);
    test_write_text(path, text);
}

/* Creates directory tmp/name. */
static void make_dir(const char *name)
{
    char path[4096];

    snprintf(path, sizeof(path), "%s/%s", tmp, name);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "cannot create %s\n", path);
        exit(1);
    }
}

/* Checks that list holds exactly the `n` paths want[] (each relative to
 * tmp, in that order). */
static void check_list(const input_list *list, const char *const *want, size_t n)
{
    char path[4096];

    CHECK(list->count == n);
    if (list->count != n) {
        for (size_t i = 0; i < list->count; i++)
            fprintf(stderr, "  got %s\n", list->paths[i]);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s", tmp, want[i]);
        CHECK(strcmp(list->paths[i], path) == 0);
        if (strcmp(list->paths[i], path) != 0)
            fprintf(stderr, "  item %zu: got %s, wanted %s\n", i, list->paths[i], path);
    }
}

/* The fixture: a directory of PNGs and a JPEG with distractors, a
 * directory of mixed names, and list files. */
static void make_fixture(void)
{
    make_dir("imgs");
    make_dir("imgs/sub");
    make_dir("imgs/dir.png");
    make_dir("empty");
    make_dir("lists");
    write_file("imgs/b.png", "");
    write_file("imgs/a.PNG", "");
    write_file("imgs/c.png", "");
    write_file("imgs/B2.png", "");
    write_file("imgs/.hidden.png", "");
    write_file("imgs/notes.txt", "");
    write_file("imgs/photo.jpg", "");
    write_file("imgs/png", "");
    write_file("imgs/sub/d.png", "");
    make_dir("mixed");
    write_file("mixed/a.png", "");
    write_file("mixed/b.JPG", "");
    write_file("mixed/c.jpeg", "");
    write_file("mixed/d.txt", "");
    write_file("mixed/.jpg", "");
    write_file("mixed/jpeg", "");
    write_file("mixed/e.jpeg.txt", "");
    make_dir("mixed/f.jpeg");
    write_file("lists/batch.txt",
               "# the first batch\n"
               "../imgs/c.png\n"
               "\n"
               "  ../imgs/a.PNG  \n"
               "../imgs/c.png\n"
               "/abs/zz.png\r\n"
               "   # indented comment\n"
               "extra.png");
    write_file("lists/names.dat", "one.png\ntwo.png\none.png\n");
}

/* A directory gives its *.png, *.jpg and *.jpeg files (any case),
 * sorted, skipping hidden files, other extensions, subdirectories and
 * their contents. */
static void test_directory(void)
{
    static const char *const want[] = { "imgs/B2.png", "imgs/a.PNG", "imgs/b.png",
                                        "imgs/c.png", "imgs/photo.jpg" };
    static const char *const mixed[] = { "mixed/a.png", "mixed/b.JPG", "mixed/c.jpeg" };
    input_list list;
    char spec[4096];

    snprintf(spec, sizeof(spec), "%s/imgs", tmp);
    CHECK_OK(inputs_expand(spec, NULL, &list));
    check_list(&list, want, 5);
    inputs_free(&list);
    CHECK(list.paths == NULL && list.count == 0);

    /* a trailing slash gives the same paths */
    snprintf(spec, sizeof(spec), "%s/imgs/", tmp);
    CHECK_OK(inputs_expand(spec, NULL, &list));
    check_list(&list, want, 5);
    inputs_free(&list);

    /* relative to base_dir */
    CHECK_OK(inputs_expand("imgs", tmp, &list));
    check_list(&list, want, 5);
    inputs_free(&list);

    /* PNG and JPEG names in any case; not other files, nor ".jpg" alone
     * or a name that only contains "jpeg" */
    CHECK_OK(inputs_expand("mixed", tmp, &list));
    check_list(&list, mixed, 3);
    inputs_free(&list);

    /* an empty directory is an empty list, not an error */
    CHECK_OK(inputs_expand("empty", tmp, &list));
    CHECK(list.count == 0);
    inputs_free(&list);

    /* a missing directory is KILN_E_IO naming it */
    CHECK_STATUS(inputs_expand("no-such-dir", tmp, &list), KILN_E_IO);
    CHECK_MSG("no-such-dir");
    CHECK_MSG(strerror(ENOENT));
    CHECK(list.count == 0 && list.paths == NULL);
    CHECK_STATUS(inputs_expand("", tmp, &list), KILN_E_INVAL);
}

/* A glob gives its matches sorted, without directories or hidden files;
 * no match is an empty list. */
static void test_glob(void)
{
    static const char *const want[] = { "imgs/B2.png", "imgs/b.png", "imgs/c.png" };
    static const char *const one[] = { "imgs/sub/d.png" };
    static const char *const single[] = { "imgs/c.png" };
    static const char *const jpegs[] = { "imgs/photo.jpg" };
    input_list list;
    char spec[4096];

    CHECK_OK(inputs_expand("imgs/*.png", tmp, &list));
    check_list(&list, want, 3);
    inputs_free(&list);

    snprintf(spec, sizeof(spec), "%s/imgs/*/*.png", tmp);
    CHECK_OK(inputs_expand(spec, NULL, &list));
    check_list(&list, one, 1);
    inputs_free(&list);

    /* a glob lists what it matches, JPEGs too */
    CHECK_OK(inputs_expand("imgs/*.jp*g", tmp, &list));
    check_list(&list, jpegs, 1);
    inputs_free(&list);

    CHECK_OK(inputs_expand("imgs/*.tiff", tmp, &list));
    CHECK(list.count == 0);
    inputs_free(&list);

    /* one existing file is a list of one */
    CHECK_OK(inputs_expand("imgs/c.png", tmp, &list));
    check_list(&list, single, 1);
    inputs_free(&list);

    /* a missing file without glob characters is an error */
    CHECK_STATUS(inputs_expand("imgs/missing.png", tmp, &list), KILN_E_IO);
    CHECK_MSG("imgs/missing.png");
}

/* A list file gives its paths (relative ones from the list's directory)
 * sorted and without duplicates; comments and blank lines are skipped. */
static void test_list_file(void)
{
    static const char *const want[] = { "lists/../imgs/a.PNG", "lists/../imgs/c.png",
                                        "lists/extra.png" };
    static const char *const dat[] = { "lists/one.png", "lists/two.png" };
    input_list list;
    char spec[4096];

    /* "/abs/zz.png" sorts first: '/' and 'a' come before the rest */
    CHECK_OK(inputs_expand("lists/batch.txt", tmp, &list));
    CHECK(list.count == 4);
    if (list.count == 4) {
        input_list rest = { list.paths + 1, 3 };
        CHECK(strcmp(list.paths[0], "/abs/zz.png") == 0);
        check_list(&rest, want, 3);
    }
    inputs_free(&list);

    /* "@" takes any name; .list works as .txt does */
    CHECK_OK(inputs_expand("@lists/names.dat", tmp, &list));
    check_list(&list, dat, 2);
    inputs_free(&list);
    snprintf(spec, sizeof(spec), "@%s/lists/names.dat", tmp);
    CHECK_OK(inputs_expand(spec, NULL, &list));
    check_list(&list, dat, 2);
    inputs_free(&list);
    write_file("lists/names.list", "one.png\ntwo.png\n");
    CHECK_OK(inputs_expand("lists/names.list", tmp, &list));
    check_list(&list, dat, 2);
    inputs_free(&list);

    /* an empty list file is an empty list */
    write_file("lists/empty.txt", "# nothing yet\n\n");
    CHECK_OK(inputs_expand("lists/empty.txt", tmp, &list));
    CHECK(list.count == 0);
    inputs_free(&list);

    /* a missing list file is KILN_E_IO naming it */
    CHECK_STATUS(inputs_expand("@lists/missing.dat", tmp, &list), KILN_E_IO);
    CHECK_MSG("lists/missing.dat");
    CHECK_MSG("cannot read");
    CHECK_STATUS(inputs_expand("lists/missing.txt", tmp, &list), KILN_E_IO);
    CHECK_MSG("lists/missing.txt");
    CHECK(list.count == 0 && list.paths == NULL);
}

/* Builds a list of n paths "p000", "p001", ... (sorted). */
static void make_numbered(input_list *list, size_t n)
{
    list->paths = kiln_calloc(n ? n : 1, sizeof(*list->paths));
    list->count = n;
    for (size_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof(name), "p%03zu", i);
        list->paths[i] = kiln_strdup(name);
    }
}

/* For every n in 1..7 the shards i/n are disjoint, keep the sorted
 * order, and together are exactly the list. */
static void test_shard_union(void)
{
    for (size_t items = 0; items <= 23; items += 23) {
        for (size_t n = 1; n <= 7; n++) {
            int seen[23] = { 0 };
            for (size_t i = 0; i < n; i++) {
                input_list list;
                long last = -1;
                make_numbered(&list, items);
                inputs_shard(&list, i, n);
                for (size_t k = 0; k < list.count; k++) {
                    long idx = strtol(list.paths[k] + 1, NULL, 10);
                    CHECK(idx > last);
                    CHECK((size_t)idx % n == i);
                    CHECK(seen[idx] == 0);
                    seen[idx]++;
                    last = idx;
                }
                CHECK(list.count == items / n + (i < items % n ? 1 : 0));
                inputs_free(&list);
            }
            for (size_t k = 0; k < items; k++)
                CHECK(seen[k] == 1);
        }
    }
    {
        /* more shards than items: the late shards are empty */
        input_list list;
        make_numbered(&list, 3);
        inputs_shard(&list, 5, 6);
        CHECK(list.count == 0);
        inputs_free(&list);
    }
}

/* Unsets every variable shard_resolve reads. */
static void clear_shard_env(void)
{
    static const char *const names[] = {
        "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN",
        "SLURM_ARRAY_TASK_STEP", "JOB_COMPLETION_INDEX", "KILN_SHARD_COUNT" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        unsetenv(names[i]);
}

/* Resolving must fail with KILN_E_CONFIG naming `needle`, leaving the
 * outputs as they were. */
#define CHECK_SHARD_FAILS(option, needle) do { \
    size_t i_ = 99, n_ = 99; \
    CHECK_STATUS(shard_resolve((option), &i_, &n_), KILN_E_CONFIG); \
    CHECK_MSG(needle); \
    CHECK(i_ == 99 && n_ == 99); \
} while (0)

/* Resolving must give shard want_i of want_n. */
#define CHECK_SHARD(option, want_i, want_n) do { \
    size_t i_ = 99, n_ = 99; \
    CHECK_OK(shard_resolve((option), &i_, &n_)); \
    CHECK(i_ == (want_i) && n_ == (want_n)); \
} while (0)

/* --shard i/n and its errors. */
static void test_shard_option(void)
{
    static const char *const bad[] = { "a/b", "3", "/3", "3/", "1/0", "-1/3", "1/3x",
                                       "1 /3", "+1/3", "", "1/3/5",
                                       "99999999999999999999999/3" };
    clear_shard_env();
    CHECK_SHARD(NULL, 0, 1);
    CHECK_SHARD("0/1", 0, 1);
    CHECK_SHARD("2/5", 2, 5);
    CHECK_SHARD("6/7", 6, 7);
    CHECK_SHARD_FAILS("5/5", "--shard 5/5");
    CHECK_MSG("not below the count 5");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char needle[128];
        /* a number too large says so; anything else is malformed */
        snprintf(needle, sizeof(needle),
                 strstr(bad[i], "99999999999999999999") ? "--shard %s: a number above"
                                                        : "--shard %s: expected i/n", bad[i]);
        CHECK_SHARD_FAILS(bad[i], needle);
    }
    /* the option wins over the environment */
    setenv("SLURM_ARRAY_TASK_ID", "garbage", 1);
    setenv("JOB_COMPLETION_INDEX", "garbage", 1);
    CHECK_SHARD("1/2", 1, 2);
    clear_shard_env();
    CHECK_STATUS(shard_resolve(NULL, NULL, NULL), KILN_E_INVAL);
}

/* SLURM arrays: index = (ID - MIN) / STEP of COUNT; malformed values name
 * their variable. */
static void test_shard_slurm(void)
{
    static const char *const ids[] = { "1", "3", "5" };

    clear_shard_env();
    setenv("SLURM_ARRAY_TASK_ID", "3", 1);
    setenv("SLURM_ARRAY_TASK_COUNT", "4", 1);
    CHECK_SHARD(NULL, 3, 4);

    /* --array=1-5:2 gives ids 1, 3, 5 */
    setenv("SLURM_ARRAY_TASK_COUNT", "3", 1);
    setenv("SLURM_ARRAY_TASK_MIN", "1", 1);
    setenv("SLURM_ARRAY_TASK_STEP", "2", 1);
    for (size_t i = 0; i < 3; i++) {
        setenv("SLURM_ARRAY_TASK_ID", ids[i], 1);
        CHECK_SHARD(NULL, i, 3);
    }
    setenv("SLURM_ARRAY_TASK_ID", "4", 1);
    CHECK_SHARD_FAILS(NULL, "SLURM_ARRAY_TASK_ID: 4 is not SLURM_ARRAY_TASK_MIN (1) plus "
                            "a multiple of SLURM_ARRAY_TASK_STEP (2)");
    setenv("SLURM_ARRAY_TASK_ID", "0", 1);
    CHECK_SHARD_FAILS(NULL, "SLURM_ARRAY_TASK_ID: 0 is not SLURM_ARRAY_TASK_MIN (1)");
    setenv("SLURM_ARRAY_TASK_ID", "7", 1);
    CHECK_SHARD_FAILS(NULL, "SLURM_ARRAY_TASK_ID: 7 gives shard 3, not below "
                            "SLURM_ARRAY_TASK_COUNT (3)");

    /* a shifted range: --array=10-12 */
    unsetenv("SLURM_ARRAY_TASK_STEP");
    setenv("SLURM_ARRAY_TASK_MIN", "10", 1);
    setenv("SLURM_ARRAY_TASK_ID", "12", 1);
    CHECK_SHARD(NULL, 2, 3);

    /* malformed values name their variable */
    setenv("SLURM_ARRAY_TASK_ID", "abc", 1);
    CHECK_SHARD_FAILS(NULL, "SLURM_ARRAY_TASK_ID: 'abc' is not a non-negative integer");
    setenv("SLURM_ARRAY_TASK_ID", "-1", 1);
    CHECK_SHARD_FAILS(NULL, "SLURM_ARRAY_TASK_ID: '-1'");
    setenv("SLURM_ARRAY_TASK_ID", "11", 1);
    setenv("SLURM_ARRAY_TASK_MIN", "x", 1);
    CHECK_SHARD_FAILS(NULL, "SLURM_ARRAY_TASK_MIN: 'x'");
    setenv("SLURM_ARRAY_TASK_MIN", "10", 1);
    setenv("SLURM_ARRAY_TASK_STEP", "0", 1);
    CHECK_SHARD_FAILS(NULL, "SLURM_ARRAY_TASK_STEP: 0 must be at least 1");
    unsetenv("SLURM_ARRAY_TASK_STEP");
    setenv("SLURM_ARRAY_TASK_COUNT", "0", 1);
    CHECK_SHARD_FAILS(NULL, "SLURM_ARRAY_TASK_COUNT: 0 must be at least 1");
    setenv("SLURM_ARRAY_TASK_COUNT", "3 ", 1);
    CHECK_SHARD_FAILS(NULL, "SLURM_ARRAY_TASK_COUNT: '3 '");
    unsetenv("SLURM_ARRAY_TASK_COUNT");
    CHECK_SHARD_FAILS(NULL, "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not");

    /* SLURM wins over an indexed job; an empty ID counts as unset */
    setenv("SLURM_ARRAY_TASK_COUNT", "3", 1);
    setenv("JOB_COMPLETION_INDEX", "0", 1);
    setenv("KILN_SHARD_COUNT", "2", 1);
    CHECK_SHARD(NULL, 1, 3);
    setenv("SLURM_ARRAY_TASK_ID", "", 1);
    CHECK_SHARD(NULL, 0, 2);
    clear_shard_env();
}

/* Kubernetes indexed jobs: JOB_COMPLETION_INDEX of KILN_SHARD_COUNT. */
static void test_shard_indexed(void)
{
    clear_shard_env();
    setenv("JOB_COMPLETION_INDEX", "2", 1);
    setenv("KILN_SHARD_COUNT", "3", 1);
    CHECK_SHARD(NULL, 2, 3);
    setenv("JOB_COMPLETION_INDEX", "0", 1);
    CHECK_SHARD(NULL, 0, 3);
    setenv("JOB_COMPLETION_INDEX", "3", 1);
    CHECK_SHARD_FAILS(NULL, "JOB_COMPLETION_INDEX: 3 is not below KILN_SHARD_COUNT (3)");
    setenv("JOB_COMPLETION_INDEX", "1.5", 1);
    CHECK_SHARD_FAILS(NULL, "JOB_COMPLETION_INDEX: '1.5' is not a non-negative integer");
    setenv("JOB_COMPLETION_INDEX", "1", 1);
    setenv("KILN_SHARD_COUNT", "many", 1);
    CHECK_SHARD_FAILS(NULL, "KILN_SHARD_COUNT: 'many' is not a non-negative integer");
    setenv("KILN_SHARD_COUNT", "0", 1);
    CHECK_SHARD_FAILS(NULL, "KILN_SHARD_COUNT: 0 must be at least 1");
    unsetenv("KILN_SHARD_COUNT");
    CHECK_SHARD_FAILS(NULL, "JOB_COMPLETION_INDEX is set but KILN_SHARD_COUNT is not");
    unsetenv("JOB_COMPLETION_INDEX");
    setenv("KILN_SHARD_COUNT", "4", 1);
    CHECK_SHARD_FAILS(NULL, "KILN_SHARD_COUNT is set but JOB_COMPLETION_INDEX is not");
    clear_shard_env();
    CHECK_SHARD(NULL, 0, 1);
}

/* Runs every input and shard test. */
int main(void)
{
    tmp = test_tmpdir("inputs");
    make_fixture();
    test_directory();
    test_glob();
    test_list_file();
    test_shard_union();
    test_shard_option();
    test_shard_slurm();
    test_shard_indexed();
    return test_summary("test_inputs");
}
