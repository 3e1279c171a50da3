#!/usr/bin/python3
"""A small reference evaluator for the ONNX files that export.py and
make_cases.py write, used to check them (Debian's python3-onnx 1.12 has no
onnx.reference and there is no onnxruntime here).

What it does
    Runs an ONNX graph node by node from the ONNX operator definitions
    (onnx/docs/Operators.md), with numpy for everything except Conv (done
    with torch.nn.functional.conv2d, whose semantics are unambiguous):
    Resize (linear/nearest; half_pixel, pytorch_half_pixel, align_corners,
    asymmetric; scales or sizes), MaxPool (ceil_mode, pads, strides),
    BatchNormalization (inference), Shape/Gather/Unsqueeze/Slice/Cast/Concat
    and the element-wise ops the U^2-Net family uses.  Then compares with
    test_data_set_0/output_*.pb.  It is independent of the PyTorch modules
    and of PyTorch's bilinear and pooling code, so an exported file that
    computes something other than what PyTorch computed shows up here.

Usage
    /usr/bin/python3 tests/models/onnx_ref.py DIR [DIR ...]
prints, per directory, the max abs difference of each output_k.pb; exit
status 1 if any exceeds 1e-4 (relative to max(1, |expected|)).
"""

import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

DTYPES = {1: np.float32, 6: np.int32, 7: np.int64, 9: np.bool_, 10: np.float16, 11: np.float64}


def _attrs(node):
    out = {}
    for a in node.attribute:
        v = onnx.helper.get_attribute_value(a)
        if isinstance(v, bytes):
            v = v.decode()
        elif isinstance(v, onnx.TensorProto):
            v = numpy_helper.to_array(v)
        out[a.name] = v
    return out


def _conv(x, w, b, a):
    import torch
    import torch.nn.functional as F
    k = len(w.shape) - 2
    pads = list(a.get('pads', [0] * 2 * k))
    if a.get('auto_pad', 'NOTSET') not in ('NOTSET', ''):
        raise NotImplementedError('auto_pad')
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64))
    # ONNX pads are [begin..., end...]; pad explicitly so asymmetric pads work
    xt = F.pad(xt, [p for i in reversed(range(k)) for p in (pads[i], pads[i + k])])
    y = F.conv2d(xt, torch.from_numpy(w.astype(np.float64)),
                 None if b is None else torch.from_numpy(b.astype(np.float64)),
                 stride=a.get('strides', [1] * k), dilation=a.get('dilations', [1] * k),
                 groups=a.get('group', 1))
    return y.numpy().astype(np.float32)


def _maxpool(x, a):
    k = a['kernel_shape']
    s = a.get('strides', [1] * len(k))
    d = a.get('dilations', [1] * len(k))
    pads = a.get('pads', [0] * 2 * len(k))
    ceil = a.get('ceil_mode', 0)
    n = len(k)
    out_sz = []
    for i in range(n):
        span = x.shape[2 + i] + pads[i] + pads[i + n] - ((k[i] - 1) * d[i] + 1)
        o = (-(-span // s[i]) if ceil else span // s[i]) + 1
        # a window may not start in the end padding (ONNX spec, as PyTorch)
        if ceil and (o - 1) * s[i] >= x.shape[2 + i] + pads[i]:
            o -= 1
        out_sz.append(o)
    big = [x.shape[2 + i] + pads[i] + pads[i + n] + (k[i] - 1) * d[i] + s[i] * 2 for i in range(n)]
    xp = np.full(x.shape[:2] + tuple(big), -np.inf, dtype=x.dtype)
    xp[(slice(None), slice(None)) + tuple(slice(pads[i], pads[i] + x.shape[2 + i]) for i in range(n))] = x
    y = np.full(x.shape[:2] + tuple(out_sz), -np.inf, dtype=x.dtype)
    for off in np.ndindex(*k):
        sl = tuple(slice(off[i] * d[i], off[i] * d[i] + (out_sz[i] - 1) * s[i] + 1, s[i]) for i in range(n))
        y = np.maximum(y, xp[(slice(None), slice(None)) + sl])
    return y


def _resize_axis(x, axis, out_len, scale, a):
    """Resizes one axis per the ONNX Resize definition (linear or nearest)."""
    in_len = x.shape[axis]
    mode = a.get('mode', 'nearest')
    ctm = a.get('coordinate_transformation_mode', 'half_pixel')
    o = np.arange(out_len, dtype=np.float64)
    if ctm == 'half_pixel':
        xo = (o + 0.5) / scale - 0.5
    elif ctm == 'pytorch_half_pixel':
        xo = (o + 0.5) / scale - 0.5 if out_len > 1 else np.zeros_like(o)
    elif ctm == 'align_corners':
        xo = o * (in_len - 1) / (out_len - 1) if out_len > 1 else np.zeros_like(o)
    elif ctm == 'asymmetric':
        xo = o / scale
    else:
        raise NotImplementedError(ctm)
    if mode == 'linear':
        xo = np.clip(xo, 0, in_len - 1)
        i0 = np.floor(xo).astype(np.int64)
        i1 = np.minimum(i0 + 1, in_len - 1)
        w1 = (xo - i0).astype(np.float64)
        shape = [1] * x.ndim
        shape[axis] = out_len
        w1 = w1.reshape(shape)
        return np.take(x, i0, axis=axis) * (1 - w1) + np.take(x, i1, axis=axis) * w1
    if mode == 'nearest':
        nm = a.get('nearest_mode', 'round_prefer_floor')
        if nm == 'floor':
            idx = np.floor(xo)
        elif nm == 'ceil':
            idx = np.ceil(xo)
        elif nm == 'round_prefer_floor':
            idx = np.where(xo - np.floor(xo) == 0.5, np.floor(xo), np.round(xo))
        else:
            idx = np.where(xo - np.floor(xo) == 0.5, np.ceil(xo), np.round(xo))
        return np.take(x, np.clip(idx.astype(np.int64), 0, in_len - 1), axis=axis)
    raise NotImplementedError(mode)


def _resize(x, roi, scales, sizes, a):
    if a.get('coordinate_transformation_mode') == 'tf_crop_and_resize':
        raise NotImplementedError('tf_crop_and_resize')
    if sizes is not None and sizes.size:
        sizes = [int(v) for v in sizes]
        scales = [sizes[i] / x.shape[i] for i in range(x.ndim)]
    else:
        scales = [float(v) for v in scales]
        sizes = [int(np.floor(x.shape[i] * scales[i])) for i in range(x.ndim)]
    y = x.astype(np.float64)
    for ax in range(x.ndim):
        if sizes[ax] != x.shape[ax] or scales[ax] != 1.0:
            y = _resize_axis(y, ax, sizes[ax], scales[ax], a)
    return y.astype(x.dtype)


def run(model, feeds):
    g = model.graph
    env = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    env.update(feeds)
    for node in g.node:
        a = _attrs(node)
        ins = [env[i] if i else None for i in node.input]
        op = node.op_type
        if op == 'Constant':
            out = [a['value']]
        elif op == 'Identity':
            out = [ins[0]]
        elif op == 'Conv':
            out = [_conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a)]
        elif op == 'BatchNormalization':
            x, sc, b, m, v = [t.astype(np.float64) for t in ins[:5]]
            sh = (1, -1) + (1,) * (x.ndim - 2)
            y = (x - m.reshape(sh)) / np.sqrt(v.reshape(sh) + a.get('epsilon', 1e-5)) * sc.reshape(sh) + b.reshape(sh)
            out = [y.astype(np.float32)]
        elif op == 'Relu':
            out = [np.maximum(ins[0], 0)]
        elif op == 'Sigmoid':
            out = [(1 / (1 + np.exp(-ins[0].astype(np.float64)))).astype(ins[0].dtype)]
        elif op == 'Add':
            out = [ins[0] + ins[1]]
        elif op == 'Mul':
            out = [ins[0] * ins[1]]
        elif op == 'MaxPool':
            out = [_maxpool(ins[0], a)]
        elif op == 'Concat':
            out = [np.concatenate(ins, axis=a['axis'])]
        elif op == 'Shape':
            out = [np.array(ins[0].shape, dtype=np.int64)]
        elif op == 'Gather':
            out = [np.take(ins[0], ins[1], axis=a.get('axis', 0))]
        elif op == 'Unsqueeze':
            axes = a['axes'] if 'axes' in a else list(ins[1])
            y = ins[0]
            for ax in sorted(int(v) % (y.ndim + len(axes)) for v in axes):
                y = np.expand_dims(y, ax)
            out = [y]
        elif op == 'Slice':
            st, en = ins[1], ins[2]
            axes = ins[3] if len(ins) > 3 and ins[3] is not None else np.arange(len(st))
            steps = ins[4] if len(ins) > 4 and ins[4] is not None else np.ones(len(st), np.int64)
            sl = [slice(None)] * ins[0].ndim
            for s_, e_, ax, sp in zip(st, en, axes, steps):
                sl[int(ax)] = slice(int(s_), int(min(e_, 2 ** 62)) if e_ > 0 else int(e_), int(sp))
            out = [ins[0][tuple(sl)]]
        elif op == 'Cast':
            out = [ins[0].astype(DTYPES[a['to']])]
        elif op == 'Resize':
            out = [_resize(ins[0], ins[1] if len(ins) > 1 else None, ins[2] if len(ins) > 2 else None,
                           ins[3] if len(ins) > 3 else None, a)]
        else:
            raise NotImplementedError(op)
        for name, val in zip(node.output, out):
            env[name] = np.asarray(val)
    return [env[o.name] for o in g.output]


def check_dir(d, tol=1e-4):
    model = onnx.load(os.path.join(d, 'model.onnx'))
    inits = {t.name for t in model.graph.initializer}
    names = [i.name for i in model.graph.input if i.name not in inits]
    ds = os.path.join(d, 'test_data_set_0')
    feeds = {}
    for k, n in enumerate(names):
        t = onnx.TensorProto()
        with open(os.path.join(ds, 'input_%d.pb' % k), 'rb') as f:
            t.ParseFromString(f.read())
        feeds[n] = numpy_helper.to_array(t)
    outs = run(model, feeds)
    ok = True
    k = 0
    while os.path.exists(os.path.join(ds, 'output_%d.pb' % k)):
        t = onnx.TensorProto()
        with open(os.path.join(ds, 'output_%d.pb' % k), 'rb') as f:
            t.ParseFromString(f.read())
        want = numpy_helper.to_array(t)
        got = outs[k]
        if got.shape != want.shape:
            print('%s: output_%d shape %s, expected %s' % (d, k, got.shape, want.shape))
            ok = False
        else:
            err = float(np.max(np.abs(got.astype(np.float64) - want) / np.maximum(1, np.abs(want))))
            print('%s: output_%d %s max rel/abs diff %.3g' % (d, k, list(want.shape), err))
            ok &= err <= tol
        k += 1
    return ok


if __name__ == '__main__':
    results = [check_dir(d) for d in sys.argv[1:]]
    sys.exit(0 if all(results) else 1)
