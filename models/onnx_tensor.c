/* TensorProto -> graph_tensor: type mapping, shape checks, raw and typed
 * data fields (see onnx_tensor.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "float16.h"
#include "onnx_tensor.h"
#include "status.h"

/* Maps the ONNX data type enum. */
kiln_status onnx_dtype_map(int32_t onnx_type, const char *what, graph_dtype *out)
{
    switch (onnx_type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: *out = GRAPH_DT_FLOAT32; return KILN_OK;
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: *out = GRAPH_DT_FLOAT16; return KILN_OK;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: *out = GRAPH_DT_INT64; return KILN_OK;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: *out = GRAPH_DT_INT32; return KILN_OK;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16: *out = GRAPH_DT_INT16; return KILN_OK;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: *out = GRAPH_DT_INT8; return KILN_OK;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: *out = GRAPH_DT_UINT8; return KILN_OK;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16: *out = GRAPH_DT_UINT16; return KILN_OK;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32: *out = GRAPH_DT_UINT32; return KILN_OK;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: *out = GRAPH_DT_BOOL; return KILN_OK;
    default:
        break;
    }
    const char *name = "unknown";
    switch (onnx_type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__UNDEFINED: name = "UNDEFINED"; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__STRING: name = "STRING"; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: name = "DOUBLE"; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64: name = "UINT64"; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__COMPLEX64: name = "COMPLEX64"; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__COMPLEX128: name = "COMPLEX128"; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16: name = "BFLOAT16"; break;
    default: break;
    }
    return kiln_fail(KILN_E_FORMAT, "%s has element type %s (%d), which kiln does not support",
                     what, name, (int)onnx_type);
}

/* Bytes per element in raw_data (ONNX's little-endian layout). */
static size_t raw_size(graph_dtype dtype)
{
    return graph_dtype_size(dtype);
}

/* Decodes little-endian raw bytes into the tensor's storage. */
static void decode_raw(const uint8_t *raw, size_t n, graph_tensor *t)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (t->dtype == GRAPH_DT_FLOAT32) {      /* already the host's layout */
        if (n > 0)
            memcpy(t->f32, raw, n * sizeof(float));
        return;
    }
#endif
    for (size_t i = 0; i < n; i++) {
        switch (t->dtype) {
        case GRAPH_DT_FLOAT32: {
            float v;
            memcpy(&v, raw + 4 * i, sizeof(v));
            t->f32[i] = v;
            break;
        }
        case GRAPH_DT_FLOAT16: {
            uint16_t bits = (uint16_t)(raw[2 * i] | (raw[2 * i + 1] << 8));
            t->f32[i] = float16_to_float(bits);
            break;
        }
        case GRAPH_DT_INT64: {
            int64_t v;
            memcpy(&v, raw + 8 * i, sizeof(v));
            t->i64[i] = v;
            break;
        }
        case GRAPH_DT_INT32: {
            int32_t v;
            memcpy(&v, raw + 4 * i, sizeof(v));
            t->i64[i] = v;
            break;
        }
        case GRAPH_DT_UINT32: {
            uint32_t v;
            memcpy(&v, raw + 4 * i, sizeof(v));
            t->i64[i] = v;
            break;
        }
        case GRAPH_DT_INT16: {
            int16_t v;
            memcpy(&v, raw + 2 * i, sizeof(v));
            t->i64[i] = v;
            break;
        }
        case GRAPH_DT_UINT16: {
            uint16_t v;
            memcpy(&v, raw + 2 * i, sizeof(v));
            t->i64[i] = v;
            break;
        }
        case GRAPH_DT_INT8:
            t->i64[i] = (int8_t)raw[i];
            break;
        case GRAPH_DT_UINT8:
            t->i64[i] = raw[i];
            break;
        case GRAPH_DT_BOOL:
            t->i64[i] = raw[i] != 0;
            break;
        }
    }
}

/* The typed field that holds this type's data, and its length. */
static size_t typed_count(const Onnx__TensorProto *tp, graph_dtype dtype, const char **field)
{
    switch (dtype) {
    case GRAPH_DT_FLOAT32:
        *field = "float_data";
        return tp->n_float_data;
    case GRAPH_DT_INT64:
        *field = "int64_data";
        return tp->n_int64_data;
    case GRAPH_DT_UINT32:
        *field = "uint64_data";
        return tp->n_uint64_data;
    default:
        *field = "int32_data";
        return tp->n_int32_data;
    }
}

/* Copies the typed field into the tensor's storage. */
static void decode_typed(const Onnx__TensorProto *tp, size_t n, graph_tensor *t)
{
    for (size_t i = 0; i < n; i++) {
        switch (t->dtype) {
        case GRAPH_DT_FLOAT32:
            t->f32[i] = tp->float_data[i];
            break;
        case GRAPH_DT_FLOAT16:
            t->f32[i] = float16_to_float((uint16_t)(tp->int32_data[i] & 0xffff));
            break;
        case GRAPH_DT_INT64:
            t->i64[i] = tp->int64_data[i];
            break;
        case GRAPH_DT_UINT32:
            t->i64[i] = (int64_t)(tp->uint64_data[i] & 0xffffffffu);
            break;
        default:
            t->i64[i] = graph_dtype_wrap(t->dtype, tp->int32_data[i]);
            break;
        }
    }
}

/* Checks where the data lives, the shape and the data length, and sets
 * t's type and shape (t holds no data afterwards); *count is the element
 * count. */
static kiln_status tensor_header(const Onnx__TensorProto *tp, const char *what, graph_tensor *t,
                                 size_t *count)
{
    kiln_status st;
    graph_dtype dtype;

    if ((tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) ||
        tp->n_external_data > 0) {
        const char *location = "?";
        for (size_t i = 0; i < tp->n_external_data; i++)
            if (tp->external_data[i]->key && strcmp(tp->external_data[i]->key, "location") == 0 &&
                tp->external_data[i]->value)
                location = tp->external_data[i]->value;
        return kiln_fail(KILN_E_FORMAT,
                         "%s uses external data (location '%s'); kiln needs the weights "
                         "inside the .onnx file", what, location);
    }
    if (tp->segment)
        return kiln_fail(KILN_E_FORMAT, "%s is segmented, which kiln does not support", what);
    if (!tp->has_data_type)
        return kiln_fail(KILN_E_FORMAT, "%s has no data type", what);
    st = onnx_dtype_map(tp->data_type, what, &dtype);
    if (st != KILN_OK)
        return st;
    if (tp->n_dims > GRAPH_MAX_RANK)
        return kiln_fail(KILN_E_LIMIT, "%s has rank %zu (kiln allows 0 to %d)",
                         what, tp->n_dims, GRAPH_MAX_RANK);
    st = graph_shape_check((int)tp->n_dims, tp->dims, what);
    if (st != KILN_OK)
        return st;

    graph_tensor_drop_data(t);
    t->dtype = dtype;
    t->rank = (int)tp->n_dims;
    for (size_t i = 0; i < tp->n_dims; i++)
        t->dims[i] = tp->dims[i];
    size_t n = (size_t)graph_tensor_elements(t);

    if (tp->has_raw_data) {
        size_t need = n * raw_size(dtype);
        if (tp->raw_data.len != need)
            return kiln_fail(KILN_E_FORMAT,
                             "%s has %zu bytes of raw data but its shape (%d dims, %zu %s "
                             "elements) needs %zu", what, tp->raw_data.len, t->rank, n,
                             graph_dtype_name(dtype), need);
    } else {
        const char *field = "";
        size_t have = typed_count(tp, dtype, &field);
        if (have != n)
            return kiln_fail(KILN_E_FORMAT,
                             "%s has %zu values in %s but its shape (%d dims) holds %zu",
                             what, have, field, t->rank, n);
    }
    *count = n;
    return KILN_OK;
}

/* Checks the tensor, then decodes its data into new storage. */
kiln_status onnx_tensor_decode(const Onnx__TensorProto *tp, const char *what,
                               graph_tensor *t)
{
    size_t n;
    kiln_status st = tensor_header(tp, what, t, &n);

    if (st != KILN_OK)
        return st;
    st = graph_tensor_alloc_data(t);
    if (st != KILN_OK)
        return kiln_fail_context(st, "%s", what);
    if (tp->has_raw_data)
        decode_raw(tp->raw_data.data, n, t);
    else
        decode_typed(tp, n, t);
    return KILN_OK;
}

/* Checks the tensor; adopts float32 raw bytes as they are (on a
 * little-endian host, when float-aligned), else decodes as
 * onnx_tensor_decode. */
kiln_status onnx_tensor_decode_take(Onnx__TensorProto *tp, const char *what, graph_tensor *t)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    size_t n;
    kiln_status st = tensor_header(tp, what, t, &n);

    if (st != KILN_OK)
        return st;
    if (t->dtype == GRAPH_DT_FLOAT32 && tp->has_raw_data && tp->raw_data.data && n > 0 &&
        (uintptr_t)tp->raw_data.data % _Alignof(float) == 0) {
        t->f32 = (float *)(void *)tp->raw_data.data;
        t->kind = GRAPH_TENSOR_CONSTANT;
        tp->raw_data.data = NULL;
        tp->raw_data.len = 0;
        tp->has_raw_data = 0;
        return KILN_OK;
    }
#endif
    return onnx_tensor_decode(tp, what, t);
}
