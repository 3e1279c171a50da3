/* ONNX operators on the device against reference outputs nobody here
 * wrote: Debian's libonnx-testdata node tests (the ONNX project's own
 * inputs and outputs), and kiln's own cases in tests/data/onnx_cases
 * (inputs and outputs computed by PyTorch, see tests/models/make_cases.py)
 * for what that suite misses.
 *
 * Per test directory: input_0 stays a runtime input (shape and values
 * from input_0.pb), every other input becomes a constant; the model is
 * built on the device by nn_model_acquire (folding, arena plan, weight
 * upload), run, and its first output compared with output_0.pb at the
 * ONNX runner's tolerance (rtol 1e-3, atol 1e-7; own cases atol 1e-6, see
 * own_cases).  Every test is listed
 * with its result, every skip with its reason.
 *
 * $KILN_ONNX_TESTDATA overrides /usr/share/libonnx-testdata/data/node;
 * $KILN_ONNX_CASES overrides $TOP_SRCDIR/tests/data/onnx_cases;
 * KILN_ONNX_ONLY=substring runs only matching tests. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn_model.h"
#include "node_test.h"
#include "onnx_build.h"
#include "onnx_load.h"
#include "testutil.h"

/* Counts over a directory of tests. */
typedef struct device_counts {
    int tests, run, passed, skipped;
    char reasons[32][96];
    int reason_counts[32];
    int nreasons;
} device_counts;

/* Counts a skip under a short reason and lists the test. */
static void skip(device_counts *c, const char *test, const char *message)
{
    static const struct {
        const char *needle, *reason;
    } kinds[] = {
        { "unsupported operator", "operator not supported by kiln" },
        { "element type", "element type not run on the device (integers, double, string)" },
        { "(the device runs FLOAT", "element type not run on the device (integers, double, string)" },
        { "must be constant for the fixed", "shape operator on runtime data (kiln folds them)" },
        { "opset", "opset outside 7..19, or no default-domain opset (training operators)" },
        { "only on values that are constant", "shape operator on runtime data (kiln folds them)" },
        { "is not supported (kiln", "a second output kiln does not compute (indices, training)" },
        { "is a constant", "output does not depend on input 0 (folds on the host)" },
    };
    const char *why = NULL, *file = strstr(message, ".onnx: ");
    char reason[96];

    if (file)
        message = file + 7;   /* drop the scratch file's path */
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (strstr(message, kinds[i].needle)) {
            why = kinds[i].reason;
            break;
        }
    }
    snprintf(reason, sizeof(reason), "%.90s", why ? why : message);
    printf("  %-58s skipped: %.160s\n", test, message);
    c->skipped++;
    for (int i = 0; i < c->nreasons; i++) {
        if (strcmp(c->reasons[i], reason) == 0) {
            c->reason_counts[i]++;
            return;
        }
    }
    if (c->nreasons < 32) {
        snprintf(c->reasons[c->nreasons], sizeof(c->reasons[0]), "%s", reason);
        c->reason_counts[c->nreasons++] = 1;
    }
}

/* The tolerance: |a - b| <= atol + rtol |b|. */
typedef struct tolerance {
    double atol, rtol;
} tolerance;

static const tolerance onnx_runner = { 1e-7, 1e-3 };
/* kiln's own cases: references computed by PyTorch in float32 from
 * random inputs, where cancellation leaves float32 rounding of the
 * operands' size (~5e-7) in outputs near 0 */
static const tolerance own_cases = { 1e-6, 1e-3 };

/* Largest |a - b| and the worst ratio |a - b| / (atol + rtol |b|). */
static void compare(const float *got, const graph_tensor *want, tolerance tol, double *max_abs,
                    double *worst)
{
    int64_t n = graph_tensor_elements(want);
    *max_abs = 0;
    *worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double a = got[i], b = want->f32[i], d = fabs(a - b);
        if (isnan(a) && isnan(b))
            continue;
        if (isnan(d)) {
            *max_abs = *worst = INFINITY;
            return;
        }
        if (d > *max_abs)
            *max_abs = d;
        if (d / (tol.atol + tol.rtol * fabs(b)) > *worst)
            *worst = d / (tol.atol + tol.rtol * fabs(b));
    }
}

/* Runs one test directory on the device; returns 1 when it ran and
 * passed. */
static int run_one(kiln_device *dev, device_counts *c, const char *base, const char *name,
                    tolerance tol)
{
    node_test t;
    onnx_input_shape shapes[MAX_IO];
    onnx_load_options opt;
    graph_tensor in0;
    char path[NAME_LEN + 64], input_pb[NAME_LEN + 64];
    nn_model *model = NULL;
    float *got = NULL;
    size_t size = 0, n;
    uint8_t *bytes = NULL;
    double max_abs, worst;
    int ok, passed = 0;
    kiln_status st;

    memset(&in0, 0, sizeof(in0));
    c->tests++;
    ok = node_test_read(&t, base, name);
    if (!ok || t.ninputs == 0) {
        skip(c, name, ok ? "no runtime input" : "input files that are not tensors");
        goto out_clear;
    }
    ok = node_test_read_outputs(&t);
    if (ok <= 0) {
        skip(c, name, ok < 0 ? "a reference output's element type is not supported"
                             : "reference outputs that are not tensors");
        goto out_clear;
    }
    bytes = node_test_pack_constants(&t, 1, &size);
    CHECK(bytes != NULL);
    if (!bytes)
        goto out_clear;
    snprintf(path, sizeof(path), "%s/device_%s.onnx", test_tmpdir("test_onnx_device"), name);
    onnx_build_write_bytes(path, bytes, size);
    node_test_shapes(&t, 1, shapes, &opt);
    st = nn_model_acquire(dev, path, shapes, 1, &model);
    unlink(path);
    if (st != KILN_OK) {
        skip(c, name, kiln_last_error());
        goto out_clear;
    }
    if (!graph_dtype_is_float(t.outputs[0].dtype) || !t.outputs[0].f32) {
        skip(c, name, "output element type not run on the device");
        goto out_clear;
    }
    snprintf(input_pb, sizeof(input_pb), "%s/test_data_set_0/input_0.pb", t.dir);
    if (onnx_tensor_load(input_pb, &in0) != KILN_OK || !in0.f32) {
        skip(c, name, "input 0 element type not run on the device");
        goto out_clear;
    }
    c->run++;
    n = (size_t)graph_tensor_elements(&t.outputs[0]);
    got = test_xmalloc(n ? n : 1, sizeof(*got));
    CHECK_OK(nn_model_write_input(model, 0, in0.f32, (size_t)graph_tensor_elements(&in0)));
    CHECK_OK(nn_model_run(model));
    CHECK_OK(nn_model_read_output(model, 0, got, n));
    compare(got, &t.outputs[0], tol, &max_abs, &worst);
    if (worst <= 1.0) {
        passed = 1;
        c->passed++;
        printf("  %-58s ok (max |d| %.3g%s)\n", name, max_abs,
               t.noutputs > 1 ? "; output 0 of several" : "");
    } else {
        printf("  %-58s FAILED: max |d| %.3g, %.3g times the tolerance\n", name, max_abs, worst);
        CHECK(worst <= 1.0);
    }
out_clear:
    free(got);
    nn_model_release(model);
    free(bytes);
    graph_tensor_clear(&in0);
    node_test_clear(&t);
    return passed;
}

/* Whether `name` is a line of the expected list (text of a file). */
static int listed(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = list; (p = strstr(p, name)) != NULL; p += len)
        if ((p == list || p[-1] == '\n') && (p[len] == '\n' || p[len] == '\0'))
            return 1;
    return 0;
}

/* Reads the pinned list of node tests that must run and pass
 * (tests/data/onnx_node_expected.txt); NULL when unreadable. */
static char *expected_read(const char *top)
{
    char path[4096];
    FILE *fp;
    char *text = NULL;
    long size;

    snprintf(path, sizeof(path), "%s/tests/data/onnx_node_expected.txt", top ? top : ".");
    fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    if (fseek(fp, 0, SEEK_END) == 0 && (size = ftell(fp)) > 0 && fseek(fp, 0, SEEK_SET) == 0) {
        text = test_xmalloc((size_t)size + 1, 1);
        if (fread(text, 1, (size_t)size, fp) != (size_t)size) {
            free(text);
            text = NULL;
        } else {
            text[size] = '\0';
        }
    }
    fclose(fp);
    return text;
}

/* Prints, after `label`, every name (a line of `names`, '#' lines
 * skipped) that is not a line of `list`; returns how many. */
static int lines_missing(const char *names, const char *list, const char *label)
{
    int missing = 0;
    for (const char *p = names; *p; ) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char name[NAME_LEN];
        if (len > 0 && len < sizeof(name) && p[0] != '#') {
            memcpy(name, p, len);
            name[len] = '\0';
            if (!listed(list, name)) {
                printf("  %s: %s\n", label, name);
                missing++;
            }
        }
        p = nl ? nl + 1 : p + len;
    }
    return missing;
}

/* Checks the pinned list against the tests that passed (`passed`, one
 * name a line): every pinned test must have run and passed; a test that
 * newly passes is printed so that it can be pinned. */
static void expected_check(const char *expected, const char *passed)
{
    int missing = lines_missing(expected, passed, "PINNED TEST DID NOT PASS");
    int extra = lines_missing(passed, expected,
                              "newly passing (pin it in tests/data/onnx_node_expected.txt)");

    printf("pinned node tests: %d did not pass, %d pass beyond the list\n", missing, extra);
    CHECK(missing == 0);
}

/* Runs every test directory under `base` (sorted), or prints why not.
 * With `expected` (the pinned list), every pinned test must pass, and a
 * missing directory is a failure. */
static void run_dir(kiln_device *dev, const char *label, const char *base, tolerance tol,
                    const char *expected)
{
    const char *only = getenv("KILN_ONNX_ONLY");
    struct dirent **names;
    device_counts c;
    int n = scandir(base, &names, NULL, alphasort);

    size_t passed_len = 0, passed_cap = 4096;
    char *passed = test_xmalloc(passed_cap, 1);

    passed[0] = '\0';
    if (n < 0) {
        printf("%s: %s: %s%s\n", label, base, strerror(errno),
               expected ? " (install libonnx-testdata)" : ": skipped");
        CHECK(expected == NULL);
        free(passed);
        return;
    }
    memset(&c, 0, sizeof(c));
    printf("%s: %s\n", label, base);
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.' && names[i]->d_type != DT_REG &&
            (!only || strstr(names[i]->d_name, only)) &&
            run_one(dev, &c, base, names[i]->d_name, tol)) {
            size_t len = strlen(names[i]->d_name);
            if (passed_len + len + 2 > passed_cap) {
                passed_cap = 2 * (passed_cap + len + 2);
                passed = realloc(passed, passed_cap);
                CHECK(passed != NULL);
                if (!passed)
                    return;
            }
            memcpy(passed + passed_len, names[i]->d_name, len);
            passed_len += len;
            passed[passed_len++] = '\n';
            passed[passed_len] = '\0';
        }
        free(names[i]);
    }
    free(names);
    printf("%s: %d tests: %d run on %s, %d passed, %d failed; %d skipped\n", label, c.tests,
           c.run, dev->info.name, c.passed, c.run - c.passed, c.skipped);
    for (int i = 0; i < c.nreasons; i++)
        printf("  skipped %4d: %s\n", c.reason_counts[i], c.reasons[i]);
    CHECK(c.tests == 0 || c.run > 0);
    if (expected && !only)
        expected_check(expected, passed);
    free(passed);
}

/* Runs one case directory (`--case DIR --atol X`: |d| <= X, used for
 * the PyTorch-exported networks), or else Debian's node tests then
 * kiln's own cases.  The ledger must be empty at the end. */
int main(int argc, char **argv)
{
    const char *data = getenv("KILN_ONNX_TESTDATA");
    const char *cases = getenv("KILN_ONNX_CASES");
    const char *top = getenv("TOP_SRCDIR");
    char own[4096];
    char *expected;
    kiln_device *dev;

    if (argc == 5 && strcmp(argv[1], "--case") == 0 && strcmp(argv[3], "--atol") == 0) {
        char base[4096];
        const char *slash = strrchr(argv[2], '/');
        tolerance tol = { strtod(argv[4], NULL), 0 };
        device_counts c;
        if (!slash || !(tol.atol > 0)) {
            fprintf(stderr, "usage: test_onnx_device [--case DIR/NAME --atol X]\n");
            return 2;
        }
        snprintf(base, sizeof(base), "%.*s", (int)(slash - argv[2]), argv[2]);
        memset(&c, 0, sizeof(c));
        dev = test_device_open(0);
        run_one(dev, &c, base, slash + 1, tol);
        CHECK(c.run == 1);
        test_device_close(dev);
        return test_summary("test_onnx_device --case");
    }
    if (argc != 1) {
        fprintf(stderr, "usage: test_onnx_device [--case DIR/NAME --atol X]\n");
        return 2;
    }
    dev = test_device_open(0);
    if (!data || !*data)
        data = "/usr/share/libonnx-testdata/data/node";
    snprintf(own, sizeof(own), "%s/tests/data/onnx_cases", top ? top : ".");
    if (!cases || !*cases)
        cases = own;
    expected = expected_read(top);
    CHECK(expected != NULL);
    run_dir(dev, "onnx node tests on the device (rtol 1e-3, atol 1e-7)", data, onnx_runner,
            expected);
    run_dir(dev, "kiln's own cases on the device (rtol 1e-3, atol 1e-6)", cases, own_cases, NULL);
    free(expected);
    test_device_close(dev);
    return test_summary("test_onnx_device");
}
