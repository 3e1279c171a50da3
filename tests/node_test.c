/* ONNX node-test directories (see node_test.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "node_test.h"

/* Reads a whole file (NULL when absent). */
uint8_t *node_test_slurp(const char *path, size_t *size)
{
    FILE *fp = fopen(path, "rb");
    uint8_t *buf;
    long len;

    *size = 0;
    if (!fp)
        return NULL;
    if (fseek(fp, 0, SEEK_END) != 0 || (len = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0) {
        fclose(fp);
        return NULL;
    }
    buf = malloc(len ? (size_t)len : 1);
    if (buf && len && fread(buf, 1, (size_t)len, fp) != (size_t)len) {
        free(buf);
        buf = NULL;
    }
    fclose(fp);
    *size = (size_t)len;
    return buf;
}

/* Releases what a node test holds. */
void node_test_clear(node_test *t)
{
    for (size_t i = 0; i < MAX_IO; i++) {
        if (t->inputs[i])
            onnx__tensor_proto__free_unpacked(t->inputs[i], NULL);
        graph_tensor_clear(&t->outputs[i]);
    }
    if (t->model)
        onnx__model_proto__free_unpacked(t->model, NULL);
    free(t->model_bytes);
    memset(t, 0, sizeof(*t));
}

/* Whether `name` is an initializer of the model. */
static int is_initializer(const Onnx__GraphProto *g, const char *name)
{
    for (size_t i = 0; i < g->n_initializer; i++)
        if (g->initializer[i]->name && strcmp(g->initializer[i]->name, name) == 0)
            return 1;
    return 0;
}

/* Reads model.onnx and test_data_set_0's input files. */
int node_test_read(node_test *t, const char *base, const char *name)
{
    char path[NAME_LEN + 64];
    size_t size;

    memset(t, 0, sizeof(*t));
    for (size_t i = 0; i < MAX_IO; i++) {
        t->outputs[i].rank = -1;
        t->outputs[i].producer = -1;
    }
    snprintf(t->dir, sizeof(t->dir), "%s/%s", base, name);
    t->name = strrchr(t->dir, '/') + 1;
    snprintf(path, sizeof(path), "%s/model.onnx", t->dir);
    t->model_bytes = node_test_slurp(path, &t->model_size);
    if (!t->model_bytes)
        return 0;
    t->model = onnx__model_proto__unpack(NULL, t->model_size, t->model_bytes);
    if (!t->model || !t->model->graph)
        return 0;
    const Onnx__GraphProto *g = t->model->graph;
    for (size_t i = 0; i < g->n_input && t->ninputs < MAX_IO; i++)
        if (g->input[i]->name && !is_initializer(g, g->input[i]->name))
            t->input_names[t->ninputs++] = g->input[i]->name;
    for (size_t i = 0; i < t->ninputs; i++) {
        snprintf(path, sizeof(path), "%s/test_data_set_0/input_%zu.pb", t->dir, i);
        uint8_t *bytes = node_test_slurp(path, &size);
        if (!bytes)
            return 0;
        t->inputs[i] = onnx__tensor_proto__unpack(NULL, size, bytes);
        free(bytes);
        if (!t->inputs[i])
            return 0;
    }
    return 1;
}

/* Reads the reference outputs: 1 when every graph output has one, -1 when
 * one has a type kiln cannot hold, 0 when files are missing. */
int node_test_read_outputs(node_test *t)
{
    char path[NAME_LEN + 64];

    for (size_t i = 0; i < MAX_IO; i++) {
        snprintf(path, sizeof(path), "%s/test_data_set_0/output_%zu.pb", t->dir, i);
        struct stat sb;
        if (stat(path, &sb) != 0)
            break;
        if (onnx_tensor_load(path, &t->outputs[i]) != KILN_OK)
            return -1;
        t->noutputs = i + 1;
    }
    return t->noutputs > 0 && t->noutputs == t->model->graph->n_output;
}

/* Packs the model with inputs [first_const, ninputs) turned into
 * initializers.  The unpacked message is restored before returning. */
uint8_t *node_test_pack_constants(node_test *t, size_t first_const, size_t *size)
{
    Onnx__GraphProto *g = t->model->graph;
    size_t n_old = g->n_initializer, added = 0;
    Onnx__TensorProto **old = g->initializer;
    Onnx__TensorProto **inits = malloc((n_old + t->ninputs + 1) * sizeof(*inits));
    char *saved_names[MAX_IO];

    if (!inits)
        return NULL;
    for (size_t i = 0; i < n_old; i++)
        inits[i] = old[i];
    for (size_t i = first_const; i < t->ninputs; i++) {
        saved_names[i] = t->inputs[i]->name;
        t->inputs[i]->name = (char *)t->input_names[i];
        inits[n_old + added++] = t->inputs[i];
    }
    g->initializer = inits;
    g->n_initializer = n_old + added;
    size_t need = onnx__model_proto__get_packed_size(t->model);
    uint8_t *buf = malloc(need ? need : 1);
    if (buf)
        *size = onnx__model_proto__pack(t->model, buf);
    g->initializer = old;
    g->n_initializer = n_old;
    for (size_t i = first_const; i < t->ninputs; i++)
        t->inputs[i]->name = saved_names[i];
    free(inits);
    return buf;
}

/* Load options giving every input below `count` its .pb file's shape. */
void node_test_shapes(const node_test *t, size_t count, onnx_input_shape *shapes,
                                onnx_load_options *opt)
{
    for (size_t i = 0; i < count; i++) {
        shapes[i].name = t->input_names[i];
        shapes[i].rank = (int)t->inputs[i]->n_dims;
        for (size_t d = 0; d < t->inputs[i]->n_dims && d < GRAPH_MAX_RANK; d++)
            shapes[i].dims[d] = t->inputs[i]->dims[d];
    }
    opt->inputs = shapes;
    opt->ninputs = count;
}

/* Compares an output's type and dims with the reference. */
int node_test_shape_matches(const graph_tensor *got, const graph_tensor *want)
{
    if (got->dtype != want->dtype || got->rank != want->rank)
        return 0;
    for (int i = 0; i < got->rank; i++)
        if (got->dims[i] != want->dims[i])
            return 0;
    return 1;
}

/* Compares values at the ONNX runner's tolerance. */
int node_test_values_match(const graph_tensor *got, const graph_tensor *want)
{
    int64_t n = graph_tensor_elements(want);

    for (int64_t i = 0; i < n; i++) {
        if (want->f32) {
            double a = got->f32[i], b = want->f32[i];
            if (isnan(a) && isnan(b))
                continue;
            if (!(fabs(a - b) <= 1e-7 + 1e-3 * fabs(b)))
                return 0;
        } else if (got->i64[i] != want->i64[i]) {
            return 0;
        }
    }
    return 1;
}

