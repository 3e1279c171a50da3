/* The test model builder (see onnx_build.h).  Every allocation is
 * recorded in `allocs` and released together. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_build.h"

struct onnx_build {
    Onnx__ModelProto model;
    Onnx__GraphProto graph;
    Onnx__OperatorSetIdProto opset;
    Onnx__OperatorSetIdProto *opsets[1];
    void **allocs;
    size_t nallocs, cap;
};

/* Records an allocation; exits on out of memory. */
static void *keep(onnx_build *b, void *p)
{
    if (!p) {
        fprintf(stderr, "onnx_build: out of memory\n");
        exit(1);
    }
    if (b->nallocs == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        void **grown = realloc(b->allocs, cap * sizeof(*grown));
        if (!grown) {
            fprintf(stderr, "onnx_build: out of memory\n");
            exit(1);
        }
        b->allocs = grown;
        b->cap = cap;
    }
    b->allocs[b->nallocs++] = p;
    return p;
}

/* Zeroed memory owned by the builder. */
static void *alloc0(onnx_build *b, size_t size)
{
    return keep(b, calloc(1, size ? size : 1));
}

/* A copy of a string owned by the builder. */
static char *str_copy(onnx_build *b, const char *s)
{
    size_t len = strlen(s) + 1;
    char *d = alloc0(b, len);
    memcpy(d, s, len);
    return d;
}

/* Appends a pointer to a builder-owned pointer array (grows by copying). */
static void **array_push(onnx_build *b, void **array, size_t count, void *item)
{
    void **grown = alloc0(b, (count + 1) * sizeof(*grown));
    if (count)
        memcpy(grown, array, count * sizeof(*grown));
    grown[count] = item;
    return grown;
}

/* Creates the model shell. */
onnx_build *onnx_build_new(int64_t opset)
{
    onnx_build *b = calloc(1, sizeof(*b));

    if (!b) {
        fprintf(stderr, "onnx_build: out of memory\n");
        exit(1);
    }
    onnx__model_proto__init(&b->model);
    onnx__graph_proto__init(&b->graph);
    onnx__operator_set_id_proto__init(&b->opset);
    b->opset.has_version = 1;
    b->opset.version = opset;
    b->opset.domain = str_copy(b, "");
    b->opsets[0] = &b->opset;
    b->model.has_ir_version = 1;
    b->model.ir_version = 7;
    b->model.n_opset_import = 1;
    b->model.opset_import = b->opsets;
    b->model.graph = &b->graph;
    b->graph.name = str_copy(b, "test");
    return b;
}

/* Frees every recorded allocation. */
void onnx_build_free(onnx_build *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->nallocs; i++)
        free(b->allocs[i]);
    free(b->allocs);
    free(b);
}

/* The model message. */
Onnx__ModelProto *onnx_build_model(onnx_build *b)
{
    return &b->model;
}

/* A ValueInfoProto with a tensor type. */
static Onnx__ValueInfoProto *value_info(onnx_build *b, const char *name, int32_t elem_type,
                                        int rank, const int64_t *dims)
{
    Onnx__ValueInfoProto *vi = alloc0(b, sizeof(*vi));
    Onnx__TypeProto *tp = alloc0(b, sizeof(*tp));
    Onnx__TypeProto__Tensor *tt = alloc0(b, sizeof(*tt));

    onnx__value_info_proto__init(vi);
    onnx__type_proto__init(tp);
    onnx__type_proto__tensor__init(tt);
    vi->name = str_copy(b, name);
    vi->type = tp;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    tt->has_elem_type = 1;
    tt->elem_type = elem_type;
    if (rank >= 0) {
        Onnx__TensorShapeProto *shape = alloc0(b, sizeof(*shape));
        onnx__tensor_shape_proto__init(shape);
        shape->n_dim = (size_t)rank;
        shape->dim = alloc0(b, (size_t)(rank ? rank : 1) * sizeof(*shape->dim));
        for (int i = 0; i < rank; i++) {
            Onnx__TensorShapeProto__Dimension *d = alloc0(b, sizeof(*d));
            onnx__tensor_shape_proto__dimension__init(d);
            if (dims[i] >= 0) {
                d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
                d->dim_value = dims[i];
            } else {
                d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
                d->dim_param = str_copy(b, "N");
            }
            shape->dim[i] = d;
        }
        tt->shape = shape;
    }
    return vi;
}

/* Adds a graph input. */
void onnx_build_input(onnx_build *b, const char *name, int32_t elem_type, int rank,
                      const int64_t *dims)
{
    Onnx__ValueInfoProto *vi = value_info(b, name, elem_type, rank, dims);

    b->graph.input = (Onnx__ValueInfoProto **)array_push(b, (void **)b->graph.input,
                                                         b->graph.n_input, vi);
    b->graph.n_input++;
}

/* Adds a graph output (FLOAT, shape unknown). */
void onnx_build_output(onnx_build *b, const char *name)
{
    Onnx__ValueInfoProto *vi = value_info(b, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, -1,
                                          NULL);

    b->graph.output = (Onnx__ValueInfoProto **)array_push(b, (void **)b->graph.output,
                                                          b->graph.n_output, vi);
    b->graph.n_output++;
}

/* A TensorProto shell with name, type and dims, added as initializer. */
static Onnx__TensorProto *init_shell(onnx_build *b, const char *name, int32_t type, int rank,
                                     const int64_t *dims, size_t *count)
{
    Onnx__TensorProto *t = alloc0(b, sizeof(*t));

    onnx__tensor_proto__init(t);
    t->name = str_copy(b, name);
    t->has_data_type = 1;
    t->data_type = type;
    t->n_dims = (size_t)rank;
    t->dims = alloc0(b, (size_t)(rank ? rank : 1) * sizeof(*t->dims));
    *count = 1;
    for (int i = 0; i < rank; i++) {
        t->dims[i] = dims[i];
        *count *= (size_t)dims[i];
    }
    b->graph.initializer = (Onnx__TensorProto **)array_push(b, (void **)b->graph.initializer,
                                                            b->graph.n_initializer, t);
    b->graph.n_initializer++;
    return t;
}

/* FLOAT initializer in raw_data. */
Onnx__TensorProto *onnx_build_init_f32(onnx_build *b, const char *name, int rank,
                                       const int64_t *dims, const float *data)
{
    size_t n;
    Onnx__TensorProto *t = init_shell(b, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, rank, dims,
                                      &n);

    t->has_raw_data = 1;
    t->raw_data.len = n * sizeof(*data);
    t->raw_data.data = alloc0(b, t->raw_data.len);
    if (n)
        memcpy(t->raw_data.data, data, t->raw_data.len);
    return t;
}

/* INT64 initializer in int64_data. */
Onnx__TensorProto *onnx_build_init_i64(onnx_build *b, const char *name, int rank,
                                       const int64_t *dims, const int64_t *data)
{
    size_t n;
    Onnx__TensorProto *t = init_shell(b, name, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, rank, dims,
                                      &n);

    t->n_int64_data = n;
    t->int64_data = alloc0(b, n * sizeof(*t->int64_data));
    if (n)
        memcpy(t->int64_data, data, n * sizeof(*data));
    return t;
}

/* Copies a NULL-terminated name list. */
static char **names_copy(onnx_build *b, const char *const *names, size_t *count)
{
    size_t n = 0;

    while (names && names[n])
        n++;
    char **out = alloc0(b, (n ? n : 1) * sizeof(*out));
    for (size_t i = 0; i < n; i++)
        out[i] = str_copy(b, names[i]);
    *count = n;
    return out;
}

/* Adds a node. */
Onnx__NodeProto *onnx_build_node(onnx_build *b, const char *op, const char *name,
                                 const char *const *inputs, const char *const *outputs)
{
    Onnx__NodeProto *n = alloc0(b, sizeof(*n));

    onnx__node_proto__init(n);
    n->op_type = str_copy(b, op);
    if (name)
        n->name = str_copy(b, name);
    n->input = names_copy(b, inputs, &n->n_input);
    n->output = names_copy(b, outputs, &n->n_output);
    b->graph.node = (Onnx__NodeProto **)array_push(b, (void **)b->graph.node, b->graph.n_node, n);
    b->graph.n_node++;
    return n;
}

/* Appends a typed attribute shell to a node. */
static Onnx__AttributeProto *attr_add(onnx_build *b, Onnx__NodeProto *n, const char *name,
                                      Onnx__AttributeProto__AttributeType type)
{
    Onnx__AttributeProto *a = alloc0(b, sizeof(*a));

    onnx__attribute_proto__init(a);
    a->name = str_copy(b, name);
    a->has_type = 1;
    a->type = type;
    n->attribute = (Onnx__AttributeProto **)array_push(b, (void **)n->attribute, n->n_attribute, a);
    n->n_attribute++;
    return a;
}

/* INT attribute. */
void onnx_build_attr_int(onnx_build *b, Onnx__NodeProto *n, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = attr_add(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);

    a->has_i = 1;
    a->i = v;
}

/* FLOAT attribute. */
void onnx_build_attr_float(onnx_build *b, Onnx__NodeProto *n, const char *name, float v)
{
    Onnx__AttributeProto *a = attr_add(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);

    a->has_f = 1;
    a->f = v;
}

/* INTS attribute. */
void onnx_build_attr_ints(onnx_build *b, Onnx__NodeProto *n, const char *name, size_t count,
                          const int64_t *v)
{
    Onnx__AttributeProto *a = attr_add(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);

    a->n_ints = count;
    a->ints = alloc0(b, (count ? count : 1) * sizeof(*a->ints));
    if (count)
        memcpy(a->ints, v, count * sizeof(*v));
}

/* FLOATS attribute. */
void onnx_build_attr_floats(onnx_build *b, Onnx__NodeProto *n, const char *name, size_t count,
                            const float *v)
{
    Onnx__AttributeProto *a = attr_add(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS);

    a->n_floats = count;
    a->floats = alloc0(b, (count ? count : 1) * sizeof(*a->floats));
    if (count)
        memcpy(a->floats, v, count * sizeof(*v));
}

/* STRING attribute. */
void onnx_build_attr_string(onnx_build *b, Onnx__NodeProto *n, const char *name, const char *v)
{
    Onnx__AttributeProto *a = attr_add(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);

    a->has_s = 1;
    a->s.len = strlen(v);
    a->s.data = (uint8_t *)str_copy(b, v);
}

/* Packs into a malloc'd buffer. */
uint8_t *onnx_build_pack(onnx_build *b, size_t *size)
{
    size_t n = onnx__model_proto__get_packed_size(&b->model);
    uint8_t *buf = malloc(n ? n : 1);

    if (!buf) {
        fprintf(stderr, "onnx_build: out of memory\n");
        exit(1);
    }
    *size = onnx__model_proto__pack(&b->model, buf);
    return buf;
}

/* Writes raw bytes to a file. */
void onnx_build_write_bytes(const char *path, const uint8_t *data, size_t size)
{
    FILE *fp = fopen(path, "wb");

    if (!fp || fwrite(data, 1, size, fp) != size) {
        fprintf(stderr, "onnx_build: cannot write %s\n", path);
        if (fp)
            fclose(fp);
        exit(1);
    }
    if (fclose(fp) != 0) {
        fprintf(stderr, "onnx_build: cannot write %s\n", path);
        exit(1);
    }
}

/* Packs into a file. */
void onnx_build_write(onnx_build *b, const char *path)
{
    size_t size;
    uint8_t *buf = onnx_build_pack(b, &size);

    onnx_build_write_bytes(path, buf, size);
    free(buf);
}

/* Fills `count` floats with a fixed pseudo-random pattern in [-1, 1]. */
static void pattern_fill(float *v, size_t count, unsigned seed)
{
    for (size_t i = 0; i < count; i++) {
        seed = seed * 1103515245u + 12345u;
        v[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
}

/* The mini U-Net (see onnx_build.h). */
void onnx_build_mini_unet(onnx_build *b)
{
    static const int64_t x_dims[] = { 1, 3, 8, 8 }, w1_dims[] = { 4, 3, 3, 3 };
    static const int64_t c4[] = { 4 }, w2_dims[] = { 2, 8, 1, 1 }, two[] = { 2 }, zero[] = { 0 };
    static const int64_t hw_idx[] = { 2, 3 }, pads1[] = { 1, 1, 1, 1 }, nc[] = { 1, 4 };
    float w1[108], b1[4], s[4], bias[4], mean[4], var[4], w2[16];

    pattern_fill(w1, 108, 1);
    pattern_fill(b1, 4, 2);
    pattern_fill(s, 4, 3);
    pattern_fill(bias, 4, 4);
    pattern_fill(mean, 4, 5);
    pattern_fill(var, 4, 6);
    for (int i = 0; i < 4; i++)
        var[i] = var[i] * var[i] + 0.5f;
    pattern_fill(w2, 16, 7);
    onnx_build_input(b, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 4, x_dims);
    onnx_build_init_f32(b, "w1", 4, w1_dims, w1);
    onnx_build_init_f32(b, "b1", 1, c4, b1);
    onnx_build_init_f32(b, "bn_s", 1, c4, s);
    onnx_build_init_f32(b, "bn_b", 1, c4, bias);
    onnx_build_init_f32(b, "bn_m", 1, c4, mean);
    onnx_build_init_f32(b, "bn_v", 1, c4, var);
    onnx_build_init_f32(b, "w2", 4, w2_dims, w2);
    onnx_build_init_i64(b, "hw_idx", 1, two, hw_idx);
    onnx_build_init_f32(b, "roi", 1, zero, NULL);
    onnx_build_init_f32(b, "scales", 1, zero, NULL);

    Onnx__NodeProto *n = onnx_build_node(b, "Conv", "conv1", (const char *[]){ "x", "w1", "b1", NULL },
                                         (const char *[]){ "c1", NULL });
    onnx_build_attr_ints(b, n, "pads", 4, pads1);
    onnx_build_attr_ints(b, n, "kernel_shape", 2, (const int64_t[]){ 3, 3 });
    n = onnx_build_node(b, "BatchNormalization", "bn1",
                        (const char *[]){ "c1", "bn_s", "bn_b", "bn_m", "bn_v", NULL },
                        (const char *[]){ "n1", NULL });
    onnx_build_attr_float(b, n, "epsilon", 1e-5f);
    onnx_build_node(b, "Relu", "relu1", (const char *[]){ "n1", NULL }, (const char *[]){ "r1", NULL });
    n = onnx_build_node(b, "MaxPool", "pool1", (const char *[]){ "r1", NULL },
                        (const char *[]){ "pooled", NULL });
    onnx_build_attr_ints(b, n, "kernel_shape", 2, (const int64_t[]){ 2, 2 });
    onnx_build_attr_ints(b, n, "strides", 2, (const int64_t[]){ 2, 2 });
    onnx_build_attr_int(b, n, "ceil_mode", 1);
    onnx_build_node(b, "Shape", "shape1", (const char *[]){ "r1", NULL },
                    (const char *[]){ "sh", NULL });
    n = onnx_build_node(b, "Gather", "gather1", (const char *[]){ "sh", "hw_idx", NULL },
                        (const char *[]){ "hw", NULL });
    onnx_build_attr_int(b, n, "axis", 0);
    n = onnx_build_node(b, "Cast", "cast1", (const char *[]){ "hw", NULL },
                        (const char *[]){ "hw64", NULL });
    onnx_build_attr_int(b, n, "to", ONNX__TENSOR_PROTO__DATA_TYPE__INT64);
    n = onnx_build_node(b, "Constant", "nc", NULL, (const char *[]){ "nc", NULL });
    onnx_build_attr_ints(b, n, "value_ints", 2, nc);
    n = onnx_build_node(b, "Concat", "sizes", (const char *[]){ "nc", "hw64", NULL },
                        (const char *[]){ "sizes", NULL });
    onnx_build_attr_int(b, n, "axis", 0);
    n = onnx_build_node(b, "Resize", "up1", (const char *[]){ "pooled", "roi", "scales", "sizes", NULL },
                        (const char *[]){ "u1", NULL });
    onnx_build_attr_string(b, n, "mode", "linear");
    onnx_build_attr_string(b, n, "coordinate_transformation_mode", "half_pixel");
    n = onnx_build_node(b, "Concat", "cat1", (const char *[]){ "r1", "u1", NULL },
                        (const char *[]){ "cat", NULL });
    onnx_build_attr_int(b, n, "axis", 1);
    onnx_build_node(b, "Conv", "conv2", (const char *[]){ "cat", "w2", NULL },
                    (const char *[]){ "c2", NULL });
    onnx_build_node(b, "Sigmoid", "sig", (const char *[]){ "c2", NULL }, (const char *[]){ "y", NULL });
    onnx_build_output(b, "y");
    onnx_build_output(b, "pooled");
}
