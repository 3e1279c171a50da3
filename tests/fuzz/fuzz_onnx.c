/* libFuzzer target: the ONNX loader (models/onnx_load.c, onnx_node.c,
 * onnx_tensor.c and protobuf-c's unpacking of the generated onnx.pb-c.c).
 *
 * Each input is a model file in memory: loaded once without options (the
 * model's own input shapes) and once with the first runtime input fixed
 * to 1x3x8x8, as a stage gives it.  An error leaves the graph NULL. */
#include "fuzz_common.h"
#include "onnx_load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const int fds = fuzz_fds_mark();
    static const onnx_input_shape shape = { NULL, 4, { 1, 3, 8, 8 } };
    static const onnx_load_options shaped = { &shape, 1 };
    kiln_graph *g = NULL;
    kiln_status st;

    st = onnx_load_buffer(data, size, NULL, &g);
    fuzz_note("onnx_load_buffer", st);
    FUZZ_CHECK(st == KILN_OK ? g != NULL : g == NULL);
    graph_free(g);

    g = NULL;
    st = onnx_load_buffer(data, size, &shaped, &g);
    fuzz_note("onnx_load_buffer 1x3x8x8", st);
    FUZZ_CHECK(st == KILN_OK ? g != NULL : g == NULL);
    graph_free(g);
    fuzz_fds_check(fds);
    return 0;
}
