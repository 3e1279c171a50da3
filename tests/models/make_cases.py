#!/usr/bin/python3
"""Regenerates tests/data/onnx_cases/: small ONNX node-test directories for
what the U^2-Net family needs and Debian's ONNX node tests (libonnx-testdata,
onnx 1.12) do not cover.

What it does
    For each case it writes DIR/model.onnx (one node, built with
    onnx.helper, opset 13, constant inputs such as Resize's sizes stored as
    initializers) and DIR/test_data_set_0/input_0.pb + output_0.pb
    (serialised TensorProtos; input float32 drawn from a seeded
    numpy.random.default_rng).  The expected output is computed
    independently of any ONNX runtime, with PyTorch in float64 and rounded
    to float32:
      - Resize linear, half_pixel, sizes given: F.interpolate(mode='bilinear',
        align_corners=False, antialias=False, size=...), which is ONNX's
        half_pixel linear with scale = out / in (PyTorch derives its scale
        as in / out when given a size; output sizes here are > 1),
      - Conv: F.conv2d with padding = dilation,
      - MaxPool: F.max_pool2d(ceil_mode=True), whose rule that a window may
        not start in the end padding is also the ONNX one.
    The cases (sizes chosen odd / non-divisible on purpose):
      kiln_resize_linear_sizes_half_pixel       1x2x7x9  -> 1x2x20x13 (up)
      kiln_resize_linear_sizes_half_pixel_down  1x1x12x10 -> 1x1x5x4 (down)
      kiln_resize_linear_sizes_half_pixel_opset11
                                      1x3x5x6 -> 1x3x11x16, Resize-11 with
                                      roi and scales as empty initializers
                                      (the form PyTorch's exporter writes)
      kiln_conv_dilation4 / kiln_conv_dilation8
                                      3x3, pads = dilations = 4 / 8, bias,
                                      1x4x37x29 -> 1x5x37x29
      kiln_maxpool_ceil_odd           2x2 stride 2 ceil_mode 1, 1x3x15x17 ->
                                      1x3x8x9
      kiln_maxpool_3x3_s2_ceil_pads   3x3 stride 2 pads 1 ceil_mode 1,
                                      1x2x14x11 -> 1x2x8x6
      kiln_maxpool_ceil_pad_drop      2x2 stride 2 pads 1 ceil_mode 1,
                                      1x2x9x8 -> 1x2x5x5: the ceil window
                                      that would start in the end padding
                                      is dropped (9: ceil(9/2)+1 = 6 -> 5).
                                      That rule is PyTorch's and, since
                                      ONNX 1.16 (onnx PR #5741), the ONNX
                                      spec's; onnx 1.12's shape inference
                                      still says 6, so it is not run on
                                      this case.

Where it comes from
    ONNX operator definitions (github.com/onnx/onnx docs/Operators.md:
    Resize-11/13, Conv-11, MaxPool-12); the U^2-Net family's use of them:
    tests/models/u2net_arch.py.

How to regenerate (deterministic; run from the repository root):
    /usr/bin/python3 tests/models/make_cases.py [--out tests/data/onnx_cases]
Check against the independent numpy evaluator:
    /usr/bin/python3 tests/models/onnx_ref.py tests/data/onnx_cases/*/
"""

import argparse
import os
import shutil

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, '..', 'data', 'onnx_cases')


def write_case(out_dir, name, node, inputs, initializers, expected, opset=OPSET, infer=True):
    """inputs: [(name, array)] fed from input_k.pb; expected: array for 'y'."""
    d = os.path.join(out_dir, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(os.path.join(d, 'test_data_set_0'))
    g_in = [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(a.shape)) for n, a in inputs]
    g_out = [helper.make_tensor_value_info('y', TensorProto.FLOAT, list(expected.shape))]
    inits = [numpy_helper.from_array(a, n) for n, a in initializers]
    graph = helper.make_graph([node], name, g_in, g_out, inits)
    model = helper.make_model(graph, producer_name='kiln tests/models/make_cases.py',
                              opset_imports=[helper.make_opsetid('', opset)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    if infer:
        onnx.shape_inference.infer_shapes(model, strict_mode=True)
    with open(os.path.join(d, 'model.onnx'), 'wb') as f:
        f.write(model.SerializeToString())
    for k, (n, a) in enumerate(inputs):
        with open(os.path.join(d, 'test_data_set_0', 'input_%d.pb' % k), 'wb') as f:
            f.write(numpy_helper.from_array(a, n).SerializeToString())
    with open(os.path.join(d, 'test_data_set_0', 'output_0.pb'), 'wb') as f:
        f.write(numpy_helper.from_array(expected.astype(np.float32), 'y').SerializeToString())
    size = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(d) for f in fs)
    print('%-46s %s -> %s, %d bytes' % (name, ' '.join('x'.join(map(str, a.shape)) for _, a in inputs),
                                         'x'.join(map(str, expected.shape)), size))


def t64(a):
    return torch.from_numpy(a.astype(np.float64))


def resize_case(out_dir, name, rng, shape, size_hw, opset=OPSET):
    x = rng.standard_normal(shape).astype(np.float32)
    sizes = np.array(list(shape[:2]) + list(size_hw), dtype=np.int64)
    y = F.interpolate(t64(x), size=tuple(size_hw), mode='bilinear', align_corners=False,
                      antialias=False).numpy().astype(np.float32)
    attrs = dict(mode='linear', coordinate_transformation_mode='half_pixel')
    if opset >= 13:
        # roi and scales omitted (empty input names), sizes an initializer
        node = helper.make_node('Resize', ['x', '', '', 'sizes'], ['y'], **attrs)
        inits = [('sizes', sizes)]
    else:
        # Resize-11 needs roi and scales present; empty tensors, as torch.onnx writes
        node = helper.make_node('Resize', ['x', 'roi', 'scales', 'sizes'], ['y'],
                                nearest_mode='floor', cubic_coeff_a=-0.75, **attrs)
        inits = [('roi', np.zeros((0,), np.float32)), ('scales', np.zeros((0,), np.float32)),
                 ('sizes', sizes)]
    write_case(out_dir, name, node, [('x', x)], inits, y, opset)


def conv_case(out_dir, name, rng, dil, shape=(1, 4, 37, 29), out_ch=5):
    x = rng.standard_normal(shape).astype(np.float32)
    w = (rng.standard_normal((out_ch, shape[1], 3, 3)) / 6).astype(np.float32)
    b = rng.standard_normal(out_ch).astype(np.float32)
    y = F.conv2d(t64(x), t64(w), t64(b), padding=dil, dilation=dil).numpy().astype(np.float32)
    node = helper.make_node('Conv', ['x', 'w', 'b'], ['y'], kernel_shape=[3, 3],
                            pads=[dil] * 4, dilations=[dil, dil], strides=[1, 1])
    write_case(out_dir, name, node, [('x', x)], [('w', w), ('b', b)], y)


def maxpool_case(out_dir, name, rng, shape, k, s, p):
    x = rng.standard_normal(shape).astype(np.float32)
    y = F.max_pool2d(t64(x), k, stride=s, padding=p, ceil_mode=True).numpy().astype(np.float32)
    node = helper.make_node('MaxPool', ['x'], ['y'], kernel_shape=[k, k], strides=[s, s],
                            pads=[p] * 4, ceil_mode=1)
    # onnx 1.12's shape inference predates the "windows that would start in
    # the end padding are ignored" rule (onnx PR #5741, ONNX 1.16), so it
    # disagrees on the pad_drop case; skip it where the rule matters.
    drop = any(-(-(n + 2 * p - k) // s) * s >= n + p for n in shape[2:])
    write_case(out_dir, name, node, [('x', x)], [], y, infer=not drop)


def main():
    ap = argparse.ArgumentParser(description='regenerate tests/data/onnx_cases')
    ap.add_argument('--out', default=DEFAULT_OUT)
    args = ap.parse_args()
    out = os.path.normpath(args.out)
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    # one generator per case, so that adding a case changes no other
    seed = lambda k: np.random.default_rng(20260 + k)  # noqa: E731
    resize_case(out, 'kiln_resize_linear_sizes_half_pixel', seed(1), (1, 2, 7, 9), (20, 13))
    resize_case(out, 'kiln_resize_linear_sizes_half_pixel_down', seed(2), (1, 1, 12, 10), (5, 4))
    resize_case(out, 'kiln_resize_linear_sizes_half_pixel_opset11', seed(3), (1, 3, 5, 6), (11, 16),
                opset=11)
    conv_case(out, 'kiln_conv_dilation4', seed(4), 4)
    conv_case(out, 'kiln_conv_dilation8', seed(5), 8)
    maxpool_case(out, 'kiln_maxpool_ceil_odd', seed(6), (1, 3, 15, 17), 2, 2, 0)
    maxpool_case(out, 'kiln_maxpool_3x3_s2_ceil_pads', seed(7), (1, 2, 14, 11), 3, 2, 1)
    maxpool_case(out, 'kiln_maxpool_ceil_pad_drop', seed(8), (1, 2, 9, 8), 2, 2, 1)


if __name__ == '__main__':
    main()
