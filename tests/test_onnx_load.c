/* The ONNX loader and folder against Debian's libonnx-testdata node tests
 * (the ONNX project's own reference inputs and outputs), hand-made bad
 * models, and a fuzz smoke run.  No device is needed.
 *
 * Conformance, per node test whose operators kiln supports:
 *  - shapes: input_0 stays a runtime input (shape from input_0.pb), the
 *    other inputs become constants from their .pb files; after graph_fold
 *    every output's type and dims must equal output_N.pb's.  Where an
 *    output shape depends on input_0's values (Range's start, ...), only
 *    the next step checks it.
 *  - values: every input becomes a constant; when the graph then folds
 *    completely, every output must equal output_N.pb (rtol 1e-3, atol
 *    1e-7, the ONNX runner's tolerance; integers exactly).
 * $KILN_ONNX_TESTDATA overrides the directory
 * (/usr/share/libonnx-testdata/data/node). */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <sys/stat.h>

#include "graph_fold.h"
#include "onnx.pb-c.h"
#include "onnx_build.h"
#include "node_test.h"
#include "onnx_load.h"
#include "testutil.h"

/* Conformance counts. */
typedef struct conformance {
    int models, loaded, skipped, shapes_checked, values_checked, value_dependent;
    char skip_reasons[64][96];
    int skip_counts[64];
    char skip_examples[64][160];
    int nreasons;
    char ops[2048];             /* distinct unsupported operators */
} conformance;

/* Records a skipped test under its reason. */
static void skip_note(conformance *c, const char *test, const char *message)
{
    char reason[96];
    const char *op = strstr(message, "unsupported operator '");

    if (op) {
        char name[64];
        size_t len = strcspn(op + 22, "'");
        snprintf(name, sizeof(name), "%.*s", (int)(len < 60 ? len : 60), op + 22);
        size_t used = strlen(c->ops);
        char probe[70];
        snprintf(probe, sizeof(probe), " %s,", name);
        if (!strstr(c->ops, probe) && used + strlen(probe) + 1 < sizeof(c->ops))
            memcpy(c->ops + used, probe, strlen(probe) + 1);
        snprintf(reason, sizeof(reason), "unsupported operator");
    }
    else if (strstr(message, "element type"))
        snprintf(reason, sizeof(reason), "unsupported element type");
    else if (strstr(message, "unsupported attribute") || strstr(message, "is not supported"))
        snprintf(reason, sizeof(reason), "unsupported attribute or value");
    else if (strstr(message, "is not a tensor"))
        snprintf(reason, sizeof(reason), "inputs that are not tensors (sequences, optionals)");
    else if (strstr(message, "opset"))
        snprintf(reason, sizeof(reason), "opset outside 7..19");
    else if (strstr(message, "domain"))
        snprintf(reason, sizeof(reason), "operator domain");
    else
        snprintf(reason, sizeof(reason), "%.90s", message);
    c->skipped++;
    if (getenv("KILN_TEST_VERBOSE"))
        printf("  %-60s skipped: %.150s\n", test, message);
    for (int i = 0; i < c->nreasons; i++) {
        if (strcmp(c->skip_reasons[i], reason) == 0) {
            c->skip_counts[i]++;
            return;
        }
    }
    if (c->nreasons < 64) {
        snprintf(c->skip_reasons[c->nreasons], sizeof(c->skip_reasons[0]), "%s", reason);
        snprintf(c->skip_examples[c->nreasons], sizeof(c->skip_examples[0]), "%s", test);
        c->skip_counts[c->nreasons++] = 1;
    }
}

/* Loads and folds a packed variant; returns the status. */
static kiln_status variant_fold(const uint8_t *bytes, size_t size, const onnx_load_options *opt,
                                kiln_graph **g)
{
    graph_fold_options fo;
    kiln_status st = onnx_load_buffer(bytes, size, opt, g);

    if (st != KILN_OK)
        return st;
    memset(&fo, 0, sizeof(fo));
    fo.all_outputs = 1;
    return graph_fold(*g, &fo, NULL);
}

/* Shape check with input_0 at runtime.  Returns 1 checked, 0 when a
 * shape depends on input_0's values, -1 on a failure (reported). */
static int check_shapes(node_test *t)
{
    onnx_input_shape shapes[MAX_IO];
    onnx_load_options opt;
    kiln_graph *g = NULL;
    size_t size = 0;
    int result = 1;
    uint8_t *bytes = node_test_pack_constants(t, t->ninputs ? 1 : 0, &size);

    if (!bytes)
        return -1;
    node_test_shapes(t, t->ninputs ? 1 : 0, shapes, &opt);
    kiln_status st = variant_fold(bytes, size, &opt, &g);
    if (st != KILN_OK) {
        result = strstr(kiln_last_error(), "depends on runtime data") ? 0 : -1;
        if (result < 0)
            fprintf(stderr, "%s: shapes: %s\n", t->name, kiln_last_error());
    } else {
        for (size_t i = 0; i < t->noutputs; i++) {
            if (!node_test_shape_matches(&g->tensors[g->outputs[i]], &t->outputs[i])) {
                char a[128], b[128];
                fprintf(stderr, "%s: output %zu is %s %s, reference %s %s\n", t->name, i,
                        graph_dtype_name(g->tensors[g->outputs[i]].dtype),
                        graph_shape_string(&g->tensors[g->outputs[i]], a, sizeof(a)),
                        graph_dtype_name(t->outputs[i].dtype),
                        graph_shape_string(&t->outputs[i], b, sizeof(b)));
                result = -1;
            }
        }
    }
    graph_free(g);
    free(bytes);
    return result;
}

/* Value check with every input constant.  Returns 1 when the graph folded
 * completely and was compared, 0 when runtime nodes remain, -1 on a
 * failure (reported). */
static int check_values(node_test *t)
{
    kiln_graph *g = NULL;
    size_t size = 0;
    int result = 1;
    uint8_t *bytes = node_test_pack_constants(t, 0, &size);

    if (!bytes)
        return -1;
    kiln_status st = variant_fold(bytes, size, NULL, &g);
    if (st != KILN_OK) {
        fprintf(stderr, "%s: values: %s\n", t->name, kiln_last_error());
        result = -1;
    } else {
        for (size_t i = 0; i < t->noutputs && result >= 0; i++) {
            const graph_tensor *out = &g->tensors[g->outputs[i]];
            if (!node_test_shape_matches(out, &t->outputs[i])) {
                fprintf(stderr, "%s: folded output %zu has the wrong type or shape\n", t->name, i);
                result = -1;
            } else if (!graph_tensor_is_const(out)) {
                result = 0;
            } else if (!node_test_values_match(out, &t->outputs[i])) {
                fprintf(stderr, "%s: folded output %zu differs from the reference\n", t->name, i);
                result = -1;
            }
        }
    }
    graph_free(g);
    free(bytes);
    return result;
}

/* Runs one node test through the skip check and both passes. */
static void conformance_one(conformance *c, const char *base, const char *name)
{
    node_test t;
    onnx_input_shape shapes[MAX_IO];
    onnx_load_options opt;
    kiln_graph *g = NULL;
    int ok = node_test_read(&t, base, name);

    c->models++;
    if (!ok) {
        skip_note(c, name, "input files that are not tensors (sequences, optional values)");
        node_test_clear(&t);
        return;
    }
    node_test_shapes(&t, t.ninputs, shapes, &opt);
    if (onnx_load_buffer(t.model_bytes, t.model_size, &opt, &g) != KILN_OK) {
        skip_note(c, name, kiln_last_error());
        node_test_clear(&t);
        return;
    }
    graph_free(g);
    ok = node_test_read_outputs(&t);
    if (ok <= 0) {
        skip_note(c, name, ok < 0 ? "a reference output's element type is not supported"
                                  : "reference outputs that are not tensors");
        node_test_clear(&t);
        return;
    }
    c->loaded++;
    int shapes_ok = check_shapes(&t);
    int values_ok = check_values(&t);
    CHECK(shapes_ok >= 0);
    CHECK(values_ok >= 0);
    /* a value-dependent shape must at least be checked by folding */
    CHECK(shapes_ok != 0 || values_ok == 1);
    if (getenv("KILN_TEST_VERBOSE"))
        printf("  %-60s shapes %s, values %s\n", name,
               shapes_ok > 0 ? "ok" : shapes_ok == 0 ? "value-dependent" : "FAILED",
               values_ok > 0 ? "ok" : values_ok == 0 ? "not folded" : "FAILED");
    if (shapes_ok == 0)
        c->value_dependent++;
    if (shapes_ok == 1 || values_ok >= 0)
        c->shapes_checked += shapes_ok == 1 || values_ok == 1;
    c->values_checked += values_ok == 1;
    node_test_clear(&t);
}

/* The node tests of Debian's libonnx-testdata that load, fold and check
 * today: fewer is a regression (a test that loaded now skips), and
 * missing test data fails the suite. */
#define CONFORMANCE_LOADED_MIN 178

/* Runs every node test in the directory, sorted by name. */
static void test_conformance(void)
{
    const char *base = getenv("KILN_ONNX_TESTDATA");
    struct dirent **names;
    conformance c;

    if (!base || !*base)
        base = "/usr/share/libonnx-testdata/data/node";
    int n = scandir(base, &names, NULL, alphasort);
    if (n < 0) {
        printf("conformance: %s: %s (install libonnx-testdata)\n", base, strerror(errno));
        CHECK(n >= 0);
        return;
    }
    memset(&c, 0, sizeof(c));
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.')
            conformance_one(&c, base, names[i]->d_name);
        free(names[i]);
    }
    free(names);
    printf("conformance: %d node tests: %d loaded, %d skipped; shapes checked %d (%d of them "
           "only with every input constant), values checked %d (graphs that fold completely)\n",
           c.models, c.loaded, c.skipped, c.shapes_checked, c.value_dependent, c.values_checked);
    for (int i = 0; i < c.nreasons; i++)
        printf("  skipped %4d: %s (e.g. %s)\n", c.skip_counts[i], c.skip_reasons[i],
               c.skip_examples[i]);
    size_t len = strlen(c.ops);
    if (len > 0 && c.ops[len - 1] == ',')
        c.ops[len - 1] = '\0';
    printf("  unsupported operators:%s\n", c.ops);
    printf("  loaded %d, pinned minimum %d\n", c.loaded, CONFORMANCE_LOADED_MIN);
    CHECK(c.loaded >= CONFORMANCE_LOADED_MIN && c.values_checked >= CONFORMANCE_LOADED_MIN);
}

/* Writes a builder's model under the test directory and returns the path
 * (a static buffer). */
static const char *model_file(onnx_build *b, const char *name)
{
    static char path[4096];

    snprintf(path, sizeof(path), "%s/%s.onnx", test_tmpdir("test_onnx_load"), name);
    onnx_build_write(b, path);
    return path;
}

/* Loads (and folds, when the load succeeds) a file; the status of the
 * first failing step. */
static kiln_status load_and_fold(const char *path, const onnx_load_options *opt)
{
    kiln_graph *g = NULL;
    graph_fold_options fo;
    kiln_status st = onnx_load(path, opt, &g);

    CHECK(st == KILN_OK || g == NULL);
    if (st == KILN_OK) {
        memset(&fo, 0, sizeof(fo));
        fo.all_outputs = 1;
        st = graph_fold(g, &fo, NULL);
    }
    graph_free(g);
    return st;
}

/* The initializer named `name` of a builder's model. */
static Onnx__TensorProto *init_named(onnx_build *b, const char *name)
{
    Onnx__GraphProto *g = onnx_build_model(b)->graph;

    for (size_t i = 0; i < g->n_initializer; i++)
        if (strcmp(g->initializer[i]->name, name) == 0)
            return g->initializer[i];
    return NULL;
}

/* The node named `name` of a builder's model. */
static Onnx__NodeProto *node_named(onnx_build *b, const char *name)
{
    Onnx__GraphProto *g = onnx_build_model(b)->graph;

    for (size_t i = 0; i < g->n_node; i++)
        if (g->node[i]->name && strcmp(g->node[i]->name, name) == 0)
            return g->node[i];
    return NULL;
}

/* The mini model loads, folds and every strict prefix of it fails. */
static void test_truncated(void)
{
    onnx_build *b = onnx_build_new(11);
    kiln_graph *g = NULL;
    size_t size, failures = 0;

    onnx_build_mini_unet(b);
    uint8_t *bytes = onnx_build_pack(b, &size);
    CHECK_OK(onnx_load_buffer(bytes, size, NULL, &g));
    graph_free(g);
    for (size_t cut = 0; cut < size; cut++) {
        kiln_status st = onnx_load_buffer(bytes, cut, NULL, &g);
        CHECK(g == NULL);
        if (st == KILN_OK) {
            fprintf(stderr, "a prefix of %zu of %zu bytes loaded\n", cut, size);
            graph_free(g);
            g = NULL;
        }
        failures += st != KILN_OK && kiln_last_error()[0] != '\0';
    }
    CHECK(failures == size);
    printf("truncation: all %zu prefixes of a %zu-byte model refused\n", size, size);

    char path[4096];
    snprintf(path, sizeof(path), "%s/truncated.onnx", test_tmpdir("test_onnx_load"));
    onnx_build_write_bytes(path, bytes, size / 2);
    CHECK_STATUS(load_and_fold(path, NULL), KILN_E_FORMAT);
    CHECK_MSG("truncated or corrupt");
    CHECK_MSG("truncated.onnx");
    free(bytes);
    onnx_build_free(b);
}

/* Initializers whose data does not fit their dims, absurd dims, external
 * data. */
static void test_bad_initializers(void)
{
    onnx_build *b;
    Onnx__TensorProto *t;

    b = onnx_build_new(11);
    onnx_build_mini_unet(b);
    init_named(b, "w1")->raw_data.len -= 4;
    CHECK_STATUS(load_and_fold(model_file(b, "short_raw"), NULL), KILN_E_FORMAT);
    CHECK_MSG("initializer 'w1' has 428 bytes of raw data");
    CHECK_MSG("needs 432");
    onnx_build_free(b);

    b = onnx_build_new(11);
    onnx_build_mini_unet(b);
    init_named(b, "hw_idx")->n_int64_data = 1;
    CHECK_STATUS(load_and_fold(model_file(b, "short_typed"), NULL), KILN_E_FORMAT);
    CHECK_MSG("initializer 'hw_idx' has 1 values in int64_data");
    onnx_build_free(b);

    b = onnx_build_new(11);
    onnx_build_mini_unet(b);
    init_named(b, "b1")->dims[0] = -5;
    CHECK_STATUS(load_and_fold(model_file(b, "negative_dim"), NULL), KILN_E_FORMAT);
    CHECK_MSG("initializer 'b1' has a negative dimension (-5");
    onnx_build_free(b);

    b = onnx_build_new(11);
    onnx_build_mini_unet(b);
    t = init_named(b, "w2");
    t->dims[0] = 1000000;
    t->dims[1] = 1000000;
    CHECK_STATUS(load_and_fold(model_file(b, "huge_dim"), NULL), KILN_E_LIMIT);
    CHECK_MSG("initializer 'w2' is too large");
    onnx_build_free(b);

    b = onnx_build_new(11);
    onnx_build_mini_unet(b);
    init_named(b, "w2")->dims[0] = INT64_C(1000000000000);
    CHECK_STATUS(load_and_fold(model_file(b, "dim_1e12"), NULL), KILN_E_LIMIT);
    CHECK_MSG("2^31 elements");
    onnx_build_free(b);

    b = onnx_build_new(11);
    onnx_build_mini_unet(b);
    t = init_named(b, "w1");
    {
        int64_t nine[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
        t->dims = nine;     /* builder frees its own array, not this one */
        t->n_dims = 9;
        CHECK_STATUS(load_and_fold(model_file(b, "rank9"), NULL), KILN_E_LIMIT);
        CHECK_MSG("rank 9");
        t->dims = NULL;
        t->n_dims = 0;
    }
    onnx_build_free(b);

    b = onnx_build_new(11);
    onnx_build_mini_unet(b);
    t = init_named(b, "w1");
    {
        char key[] = "location", value[] = "weights.bin";
        Onnx__StringStringEntryProto entry = ONNX__STRING_STRING_ENTRY_PROTO__INIT;
        Onnx__StringStringEntryProto *entries[1] = { &entry };
        entry.key = key;
        entry.value = value;
        t->has_raw_data = 0;
        t->has_data_location = 1;
        t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
        t->n_external_data = 1;
        t->external_data = entries;
        CHECK_STATUS(load_and_fold(model_file(b, "external"), NULL), KILN_E_FORMAT);
        CHECK_MSG("initializer 'w1' uses external data (location 'weights.bin')");
        t->n_external_data = 0;
        t->external_data = NULL;
    }
    onnx_build_free(b);
}

/* A dangling input, a cycle, a tensor defined twice, unsupported
 * operators, attributes and values, inconsistent shapes. */
static void test_bad_graphs(void)
{
    onnx_build *b;

    b = onnx_build_new(11);
    onnx_build_mini_unet(b);
    node_named(b, "relu1")->input[0][0] = 'q';     /* "n1" -> "q1" */
    CHECK_STATUS(load_and_fold(model_file(b, "missing"), NULL), KILN_E_FORMAT);
    CHECK_MSG("node 'relu1' (#2, Relu): input 'q1' is not produced by any node, graph input "
              "or initializer");
    onnx_build_free(b);

    b = onnx_build_new(11);
    onnx_build_input(b, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, (const int64_t[]){ 4 });
    onnx_build_node(b, "Add", "a", (const char *[]){ "x", "bb", NULL }, (const char *[]){ "aa", NULL });
    onnx_build_node(b, "Relu", "b", (const char *[]){ "aa", NULL }, (const char *[]){ "bb", NULL });
    onnx_build_output(b, "bb");
    CHECK_STATUS(load_and_fold(model_file(b, "cycle"), NULL), KILN_E_FORMAT);
    CHECK_MSG("the graph has a cycle");
    CHECK_MSG("node 'a' (#0, Add)");
    onnx_build_free(b);

    b = onnx_build_new(11);
    onnx_build_mini_unet(b);
    node_named(b, "relu1")->output[0][0] = 'c';    /* "r1" -> "c1", Conv's output */
    CHECK_STATUS(load_and_fold(model_file(b, "twice"), NULL), KILN_E_FORMAT);
    CHECK_MSG("tensor 'c1' is defined twice");
    onnx_build_free(b);

    b = onnx_build_new(11);
    onnx_build_mini_unet(b);
    onnx_build_node(b, "Softmax", "mysoftmax", (const char *[]){ "y", NULL },
                        (const char *[]){ "z", NULL });
    CHECK_STATUS(load_and_fold(model_file(b, "bad_op"), NULL), KILN_E_FORMAT);
    CHECK_MSG("node 'mysoftmax' (#13, Softmax): unsupported operator 'Softmax'");
    onnx_build_free(b);

    b = onnx_build_new(11);
    onnx_build_mini_unet(b);
    onnx_build_attr_int(b, node_named(b, "conv1"), "foo", 1);
    CHECK_STATUS(load_and_fold(model_file(b, "bad_attr"), NULL), KILN_E_FORMAT);
    CHECK_MSG("node 'conv1' (#0, Conv): unsupported attribute 'foo'");
    onnx_build_free(b);

    b = onnx_build_new(11);
    onnx_build_mini_unet(b);
    node_named(b, "up1")->attribute[0]->s.data[0] = 'k';   /* "linear" -> "kinear" */
    CHECK_STATUS(load_and_fold(model_file(b, "bad_mode"), NULL), KILN_E_FORMAT);
    CHECK_MSG("node 'up1' (#9, Resize): attribute 'mode' has unsupported value 'kinear'");
    onnx_build_free(b);

    b = onnx_build_new(11);
    onnx_build_mini_unet(b);
    onnx_build_attr_int(b, node_named(b, "up1"), "exclude_outside", 7);
    CHECK_STATUS(load_and_fold(model_file(b, "bad_value"), NULL), KILN_E_FORMAT);
    CHECK_MSG("attribute 'exclude_outside' = 7 is not supported");
    onnx_build_free(b);

    b = onnx_build_new(11);
    onnx_build_mini_unet(b);
    onnx_build_attr_float(b, node_named(b, "pool1"), "ceil_mode", 1.0f);
    CHECK_STATUS(load_and_fold(model_file(b, "bad_type"), NULL), KILN_E_FORMAT);
    CHECK_MSG("attribute 'ceil_mode' appears twice");
    onnx_build_free(b);

    b = onnx_build_new(5);
    onnx_build_mini_unet(b);
    CHECK_STATUS(load_and_fold(model_file(b, "old_opset"), NULL), KILN_E_FORMAT);
    CHECK_MSG("opset 5; kiln supports opsets 7 to 19");
    onnx_build_free(b);

    b = onnx_build_new(11);
    onnx_build_mini_unet(b);
    init_named(b, "w2")->dims[1] = 4;               /* 8 channels arrive */
    init_named(b, "w2")->raw_data.len /= 2;
    CHECK_STATUS(load_and_fold(model_file(b, "channels"), NULL), KILN_E_FORMAT);
    CHECK_MSG("node 'conv2' (#11, Conv): 8 input channels do not fit weights 2x4");
    onnx_build_free(b);
}

/* Loads `path` with one input shape given by name (NULL: by position). */
static kiln_status load_with_shape(const char *path, const char *name, int rank,
                                   const int64_t *dims)
{
    onnx_input_shape shape;
    onnx_load_options opt;

    memset(&shape, 0, sizeof(shape));
    shape.name = name;
    shape.rank = rank;
    for (int i = 0; i < rank; i++)
        shape.dims[i] = dims[i];
    opt.inputs = &shape;
    opt.ninputs = 1;
    return load_and_fold(path, &opt);
}

/* Input shapes: options that disagree with the model, symbolic dims,
 * absurd dims, a missing file. */
static void test_bad_inputs(void)
{
    onnx_build *b = onnx_build_new(11);
    const int64_t four_channels[] = { 1, 4, 8, 8 }, five_by_four[] = { 5, 4 };
    const char *path;

    onnx_build_mini_unet(b);
    path = model_file(b, "mini");
    CHECK_STATUS(load_with_shape(path, "x", 4, four_channels), KILN_E_INVAL);
    CHECK_MSG("input 'x': dim 1 is 3 in the model but the options give 4");
    CHECK_STATUS(load_with_shape(path, "x", 3, four_channels), KILN_E_INVAL);
    CHECK_MSG("input 'x' has rank 4 in the model but the options give rank 3");
    CHECK_STATUS(load_with_shape(path, "nope", 4, four_channels), KILN_E_INVAL);
    CHECK_MSG("'nope', which is not a runtime input");
    Onnx__TensorShapeProto *dims = onnx_build_model(b)->graph->input[0]->type->tensor_type->shape;
    dims->dim[0]->dim_value = -5;
    CHECK_STATUS(load_and_fold(model_file(b, "input_negative"), NULL), KILN_E_FORMAT);
    CHECK_MSG("input 'x' has a negative dimension (-5 at axis 0)");
    dims->dim[0]->dim_value = INT64_C(1000000000000);
    CHECK_STATUS(load_and_fold(model_file(b, "input_huge"), NULL), KILN_E_LIMIT);
    CHECK_MSG("input 'x' is too large");
    onnx_build_free(b);

    b = onnx_build_new(11);
    onnx_build_input(b, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, (const int64_t[]){ -1, 4 });
    onnx_build_node(b, "Relu", "r", (const char *[]){ "x", NULL }, (const char *[]){ "y", NULL });
    onnx_build_output(b, "y");
    path = model_file(b, "symbolic");
    CHECK_STATUS(load_and_fold(path, NULL), KILN_E_INVAL);
    CHECK_MSG("input 'x' has a symbolic dimension 'N' at axis 0");
    CHECK_OK(load_with_shape(path, NULL, 2, five_by_four));
    onnx_build_free(b);

    CHECK_STATUS(load_and_fold("/nonexistent/model.onnx", NULL), KILN_E_IO);
    CHECK_MSG("/nonexistent/model.onnx: cannot open");
}

/* Older models list every initializer among the graph inputs too: those
 * are constants, and only the others are runtime inputs. */
static void test_initializer_inputs(void)
{
    onnx_build *b = onnx_build_new(11);
    Onnx__GraphProto *gp = onnx_build_model(b)->graph;
    kiln_graph *g = NULL;
    size_t size;

    onnx_build_mini_unet(b);
    for (size_t i = 0; i < gp->n_initializer; i++) {
        const Onnx__TensorProto *t = gp->initializer[i];
        onnx_build_input(b, t->name, t->data_type, (int)t->n_dims, t->dims);
    }
    uint8_t *bytes = onnx_build_pack(b, &size);
    CHECK_OK(onnx_load_buffer(bytes, size, NULL, &g));
    if (g) {
        CHECK(g->ninputs == 1 && strcmp(g->tensors[g->inputs[0]].name, "x") == 0);
        CHECK_OK(graph_fold(g, NULL, NULL));
        graph_free(g);
    }
    free(bytes);
    onnx_build_free(b);
}

/* float16 weights in raw_data and in int32_data (bit patterns), and an
 * int32 initializer, decoded and folded through Cast and Add. */
static void test_float16_weights(void)
{
    static const uint16_t bits[] = { 0x3c00, 0xc100, 0x7bff, 0x0001, 0x3555 };
    static const float want[] = { 1.0f, -2.5f, 65504.0f, 5.9604645e-8f, 0.33325195f };
    const int64_t five[] = { 5 };
    int32_t typed[5];
    uint8_t raw[10];
    onnx_build *b = onnx_build_new(13);
    kiln_graph *g = NULL;
    size_t size;

    for (int i = 0; i < 5; i++) {
        raw[2 * i] = (uint8_t)(bits[i] & 0xff);
        raw[2 * i + 1] = (uint8_t)(bits[i] >> 8);
        typed[i] = bits[i];
    }
    Onnx__TensorProto *h = onnx_build_init_f32(b, "h_raw", 1, five, want);
    h->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16;
    memcpy(h->raw_data.data, raw, sizeof(raw));
    h->raw_data.len = sizeof(raw);
    Onnx__TensorProto *t = onnx_build_init_f32(b, "h_typed", 1, five, want);
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16;
    t->has_raw_data = 0;
    t->n_int32_data = 5;
    t->int32_data = typed;
    Onnx__TensorProto *k = onnx_build_init_f32(b, "k", 1, five, want);
    k->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT32;
    k->has_raw_data = 0;
    k->n_int32_data = 5;
    k->int32_data = (int32_t[]){ 1, -2, 3, -4, 5 };
    Onnx__NodeProto *n = onnx_build_node(b, "Cast", NULL, (const char *[]){ "h_raw", NULL },
                                         (const char *[]){ "a", NULL });
    onnx_build_attr_int(b, n, "to", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT);
    n = onnx_build_node(b, "Cast", NULL, (const char *[]){ "h_typed", NULL },
                        (const char *[]){ "c", NULL });
    onnx_build_attr_int(b, n, "to", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT);
    n = onnx_build_node(b, "Cast", NULL, (const char *[]){ "k", NULL },
                        (const char *[]){ "kf", NULL });
    onnx_build_attr_int(b, n, "to", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT);
    onnx_build_node(b, "Add", NULL, (const char *[]){ "a", "c", NULL }, (const char *[]){ "s", NULL });
    onnx_build_node(b, "Add", NULL, (const char *[]){ "s", "kf", NULL }, (const char *[]){ "y", NULL });
    onnx_build_output(b, "y");
    uint8_t *bytes = onnx_build_pack(b, &size);
    t->int32_data = NULL;       /* not the builder's to free */
    t->n_int32_data = 0;
    k->int32_data = NULL;
    k->n_int32_data = 0;
    CHECK_OK(onnx_load_buffer(bytes, size, NULL, &g));
    if (g) {
        CHECK_OK(graph_fold(g, NULL, NULL));
        const graph_tensor *y = &g->tensors[g->outputs[0]];
        static const float ints[] = { 1, -2, 3, -4, 5 };
        CHECK(y->f32 != NULL);
        for (int i = 0; y->f32 && i < 5; i++)
            CHECK(y->f32[i] == 2.0f * want[i] + ints[i]);
        graph_free(g);
    }
    free(bytes);
    onnx_build_free(b);
}

/* A 64-bit xorshift generator (fixed seed: the run is reproducible). */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Applies 1 to 4 random edits to buf (len bytes, capacity cap). */
static size_t mutate(uint8_t *buf, size_t len, size_t cap, uint64_t *rng)
{
    int edits = 1 + (int)(rng_next(rng) % 4);

    for (int e = 0; e < edits && len > 0; e++) {
        size_t at = rng_next(rng) % len;
        switch (rng_next(rng) % 6) {
        case 0:
            buf[at] ^= (uint8_t)(1u << (rng_next(rng) % 8));
            break;
        case 1:
            buf[at] = (uint8_t)rng_next(rng);
            break;
        case 2: {
            static const uint8_t extremes[] = { 0x00, 0x7f, 0x80, 0xff };
            buf[at] = extremes[rng_next(rng) % 4];
            break;
        }
        case 3:
            len = at + 1;           /* truncate */
            break;
        case 4: {                   /* delete a run */
            size_t n = 1 + rng_next(rng) % 16;
            if (at + n > len)
                n = len - at;
            memmove(buf + at, buf + at + n, len - at - n);
            len -= n;
            break;
        }
        default: {                  /* duplicate a run */
            size_t n = 1 + rng_next(rng) % 16;
            if (at + n > len)
                n = len - at;
            if (len + n <= cap) {
                memmove(buf + at + n, buf + at, len - at);
                len += n;
            }
            break;
        }
        }
    }
    return len;
}

/* An "interesting" integer for a structured mutation. */
static int64_t interesting_int(uint64_t *rng)
{
    static const int64_t values[] = {
        -1000, -5, -2, -1, 0, 1, 2, 3, 7, 64, INT64_C(1) << 31, INT64_C(1) << 40,
        INT64_MAX, INT64_MIN };
    return values[rng_next(rng) % (sizeof(values) / sizeof(values[0]))];
}

/* Changes one field of an unpacked model: an attribute value, an
 * initializer dim or value, or swaps two node inputs or operator types. */
static void mutate_fields(Onnx__ModelProto *m, uint64_t *rng)
{
    static const float floats[] = { 0.0f, -1.0f, 1e30f, -1e-30f, 0.5f };
    Onnx__GraphProto *g = m->graph;
    Onnx__NodeProto *n = g->n_node ? g->node[rng_next(rng) % g->n_node] : NULL;
    Onnx__NodeProto *o = g->n_node ? g->node[rng_next(rng) % g->n_node] : NULL;

    switch (rng_next(rng) % 5) {
    case 0:
        if (n && n->n_attribute) {
            Onnx__AttributeProto *a = n->attribute[rng_next(rng) % n->n_attribute];
            if (a->n_ints)
                a->ints[rng_next(rng) % a->n_ints] = interesting_int(rng);
            else if (a->has_i)
                a->i = interesting_int(rng);
            else if (a->has_f)
                a->f = floats[rng_next(rng) % 5];
        }
        break;
    case 1:
        if (g->n_initializer) {
            Onnx__TensorProto *t = g->initializer[rng_next(rng) % g->n_initializer];
            if (t->n_dims)
                t->dims[rng_next(rng) % t->n_dims] = interesting_int(rng);
        }
        break;
    case 2:
        if (g->n_initializer) {
            Onnx__TensorProto *t = g->initializer[rng_next(rng) % g->n_initializer];
            if (t->n_int64_data)
                t->int64_data[rng_next(rng) % t->n_int64_data] = interesting_int(rng);
        }
        break;
    case 3:
        if (n && o && n->n_input && o->n_input) {
            char **a = &n->input[rng_next(rng) % n->n_input];
            char **b = &o->input[rng_next(rng) % o->n_input];
            char *keep = *a;
            *a = *b;
            *b = keep;
        }
        break;
    default:
        if (n && o) {
            char *keep = n->op_type;
            n->op_type = o->op_type;
            o->op_type = keep;
        }
        break;
    }
}

/* Loads and folds mutated bytes; tallies the outcome. */
static void fuzz_one(const uint8_t *buf, size_t len, int *loaded, int *folded, int *errors,
                     int *silent, int *by_status)
{
    kiln_graph *g = NULL;

    kiln_clear_error();
    kiln_status st = onnx_load_buffer(buf, len, NULL, &g);
    if (st == KILN_OK) {
        graph_fold_options fo;
        memset(&fo, 0, sizeof(fo));
        fo.all_outputs = 1;
        (*loaded)++;
        st = graph_fold(g, &fo, NULL);
        *folded += st == KILN_OK;
    }
    if (st != KILN_OK) {
        (*errors)++;
        *silent += kiln_last_error()[0] == '\0';
        by_status[-st < 16 ? -st : 0]++;
    }
    graph_free(g);
}

/* 2000 mutations of small valid models: every load returns, OK or an
 * error with a message; loaded ones are folded too. */
static void test_fuzz(void)
{
    enum { SEEDS = 3 };
    const char *env_runs = getenv("KILN_FUZZ_RUNS"), *env_seed = getenv("KILN_FUZZ_SEED");
    int RUNS = env_runs && atoi(env_runs) > 0 ? atoi(env_runs) : 2000;
    uint8_t *seed[SEEDS];
    size_t seed_len[SEEDS];
    onnx_build *b = onnx_build_new(11);
    uint64_t rng = env_seed && *env_seed ? strtoull(env_seed, NULL, 0) : 0x9e3779b97f4a7c15ull;
    int loaded = 0, folded = 0, errors = 0, silent = 0, by_status[16] = { 0 };
    char path[1024];

    onnx_build_mini_unet(b);
    seed[0] = onnx_build_pack(b, &seed_len[0]);
    onnx_build_free(b);
    b = onnx_build_new(9);
    onnx_build_input(b, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 4, (const int64_t[]){ 1, 2, 3, 4 });
    onnx_build_node(b, "Shape", "s", (const char *[]){ "x", NULL }, (const char *[]){ "sh", NULL });
    onnx_build_node(b, "Flatten", "f", (const char *[]){ "x", NULL }, (const char *[]){ "fl", NULL });
    onnx_build_init_i64(b, "two", 1, (const int64_t[]){ 1 }, (const int64_t[]){ 2 });
    onnx_build_node(b, "Unsqueeze", "u", (const char *[]){ "fl", NULL }, (const char *[]){ "un", NULL });
    onnx_build_attr_ints(b, node_named(b, "u"), "axes", 1, (const int64_t[]){ 0 });
    onnx_build_node(b, "Upsample", "up", (const char *[]){ "x", "sc", NULL },
                    (const char *[]){ "upx", NULL });
    onnx_build_init_f32(b, "sc", 1, (const int64_t[]){ 4 }, (const float[]){ 1, 1, 2, 2 });
    onnx_build_output(b, "upx");
    onnx_build_output(b, "un");
    onnx_build_output(b, "sh");
    seed[1] = onnx_build_pack(b, &seed_len[1]);
    onnx_build_free(b);
    const char *base = getenv("KILN_ONNX_TESTDATA");
    snprintf(path, sizeof(path), "%s/test_slice/model.onnx",
             base && *base ? base : "/usr/share/libonnx-testdata/data/node");
    seed[2] = node_test_slurp(path, &seed_len[2]);
    if (!seed[2]) {
        seed[2] = malloc(seed_len[0]);
        memcpy(seed[2], seed[0], seed_len[0]);
        seed_len[2] = seed_len[0];
    }

    for (int run = 0; run < RUNS; run++) {
        int s = run % SEEDS;
        size_t cap = seed_len[s] + 64;
        uint8_t *buf = malloc(cap);
        memcpy(buf, seed[s], seed_len[s]);
        size_t len = mutate(buf, seed_len[s], cap, &rng);
        fuzz_one(buf, len, &loaded, &folded, &errors, &silent, by_status);
        free(buf);
    }
    CHECK(silent == 0);
    printf("fuzz: %d byte mutations (seed %s): %d loaded (%d folded), %d ended in "
           "an error (FORMAT %d, LIMIT %d, INVAL %d, HOSTMEM %d), none crashed\n", RUNS,
           env_seed && *env_seed ? env_seed : "0x9e3779b97f4a7c15", loaded, folded,
           errors, by_status[-KILN_E_FORMAT], by_status[-KILN_E_LIMIT], by_status[-KILN_E_INVAL],
           by_status[-KILN_E_HOSTMEM]);
    loaded = folded = errors = silent = 0;
    memset(by_status, 0, sizeof(by_status));
    for (int run = 0; run < RUNS; run++) {
        int s = run % SEEDS;
        Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, seed_len[s], seed[s]);
        size_t len = 0;
        if (!m || !m->graph) {
            if (m)
                onnx__model_proto__free_unpacked(m, NULL);
            continue;
        }
        int edits = 1 + (int)(rng_next(&rng) % 3);
        for (int e = 0; e < edits; e++)
            mutate_fields(m, &rng);
        uint8_t *buf = malloc(onnx__model_proto__get_packed_size(m) + 1);
        len = onnx__model_proto__pack(m, buf);
        onnx__model_proto__free_unpacked(m, NULL);
        fuzz_one(buf, len, &loaded, &folded, &errors, &silent, by_status);
        free(buf);
    }
    CHECK(silent == 0);
    printf("fuzz: %d field mutations: %d loaded (%d folded), %d ended in an error (FORMAT %d, "
           "LIMIT %d, "
           "INVAL %d, HOSTMEM %d), none crashed\n", RUNS, loaded, folded, errors,
           by_status[-KILN_E_FORMAT], by_status[-KILN_E_LIMIT], by_status[-KILN_E_INVAL],
           by_status[-KILN_E_HOSTMEM]);
    for (int s = 0; s < SEEDS; s++)
        free(seed[s]);
}

/* Conformance, good and bad models, then the fuzz smoke run. */
int main(void)
{
    test_conformance();
    test_initializer_inputs();
    test_float16_weights();
    test_truncated();
    test_bad_initializers();
    test_bad_graphs();
    test_bad_inputs();
    test_fuzz();
    return test_summary("test_onnx_load");
}
