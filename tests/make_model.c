/* Writes small ONNX models for the command-line tests.
 *   make_model mini_unet PATH   the U-Net-like model of onnx_build_mini_unet
 *                               (input 1x3x8x8, outputs 1x2x8x8 then more)
 *   make_model truncated PATH   the same model cut in the middle
 *   make_model wide PATH        the same topology with a 1x4x8x8 input
 *                               (a model whose channel count an image
 *                               cannot fill) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_build.h"

/* Writes the requested model; returns the exit status. */
int main(int argc, char **argv)
{
    onnx_build *b;
    uint8_t *bytes;
    size_t size = 0;

    if (argc != 3) {
        fprintf(stderr, "usage: make_model mini_unet|truncated|wide PATH\n");
        return 2;
    }
    b = onnx_build_new(11);
    onnx_build_mini_unet(b);
    if (strcmp(argv[1], "wide") == 0) {
        Onnx__GraphProto *g = onnx_build_model(b)->graph;
        g->input[0]->type->tensor_type->shape->dim[1]->dim_value = 4;
    } else if (strcmp(argv[1], "mini_unet") != 0 && strcmp(argv[1], "truncated") != 0) {
        fprintf(stderr, "make_model: unknown kind '%s'\n", argv[1]);
        onnx_build_free(b);
        return 2;
    }
    bytes = onnx_build_pack(b, &size);
    if (strcmp(argv[1], "truncated") == 0)
        size /= 2;
    onnx_build_write_bytes(argv[2], bytes, size);
    free(bytes);
    onnx_build_free(b);
    return 0;
}
