#!/usr/bin/python3
"""Exports a U^2-Net / U^2-Netp / IS-Net with fixed random weights as an ONNX
node-test directory, for kiln's whole-network correctness tests.

What it does
    1. Builds the network from tests/models/u2net_arch.py (architectures from
       the authors' repositories: github.com/xuebinqin/U-2-Net model/u2net.py,
       Qin et al., Pattern Recognition 2020; github.com/xuebinqin/DIS
       IS-Net/models/isnet.py, Qin et al., ECCV 2022; see that file).
       Weights: PyTorch's default initialisation under torch.manual_seed(S)
       for the convs.  BatchNorm is made non-trivial so that kiln's BN
       folding is exercised: weight g ~ U(0.5, 1.5), bias = g + N(0, 0.1)
       (BN_BIAS_SHIFT = 1 standard deviation), running mean/var first
       measured on a separate random input of the export size (so
       activations keep a sane scale through ~120 layers) and then
       perturbed (mean + N(0, 0.1) * std, var * U(0.7, 1.4)).  The side
       convs (and U^2-Net's outconv) are then shifted and scaled so that
       each output logit has mean 0 and std 2 on that input, so the sigmoid
       outputs span (0, 1) rather than sit near 0.5.  The model is put in
       eval mode.
       Why the positive BN bias (conditioning): with a zero-mean bias each
       REBNCONV (conv, BN renormalising to unit variance, ReLU cutting half
       of it) amplifies a small perturbation relative to the signal by
       ~1.2x, so through the ~50 layers of the longest path the random
       network was chaotic: float32 rounding grew ~10^3-fold and PyTorch's
       own float32 forward differed from its float64 forward by up to
       ~5e-4 on the outputs, more than the 1e-4 tolerance the tests use.
       Shifting each BN output by one standard deviation keeps ~84% of the
       ReLU inputs positive (the ReLUs still clip), which brings the
       per-layer gain near 1, as in a trained network; PyTorch float32 vs
       float64 is then a few 1e-6 (recorded in export_info.json).
    2. Exports DIR/model.onnx with PyTorch's ONNX exporter: opset 11 (as rembg's
       files), input "input.1" of fixed shape 1x3xNxN, outputs d0..d6
       (U^2-Net/-p: sigmoid of the fused map and of the six side outputs) or
       d1..d6 (IS-Net), do_constant_folding=False and
       training=TrainingMode.PRESERVE so that the file keeps its
       BatchNormalization nodes (TrainingMode.EVAL would fold them into the
       convs) and the Shape/Gather/... chains that compute each Resize's
       target size at run time, like the published files (for that it calls
       torch.onnx.utils._export with onnx_shape_inference=False: with the
       inference on, PyTorch 1.13 turns the fixed target H and W into
       Constants; --resize-sizes const gives that form).  --fuse-bn exports
       with TrainingMode.EVAL instead (Conv+BN fused by PyTorch).
    3. Makes a seeded random input shaped like a normalised image (a smooth
       random RGB image in [0, 1], normalised as rembg does: ImageNet
       mean/std for u2net/u2netp, mean 0.5 / std 1 for isnet) and runs the
       PyTorch model on it.  Reduced builds run in float64 (a copy of the
       model converted with .double()) and round the outputs to float32, so
       the expected outputs are exact to float32 precision rather than
       PyTorch's float32 result; full-width builds (u2netp, --full) run in
       float32 because float64 convs are ~30x slower on CPU (--ref-dtype
       overrides).  When the reference is float64, the float32 model is run
       on the same input too and the max |float32 - float64| of the first
       output is printed and recorded ("torch_f32_vs_f64_max_abs"; null for
       a float32 reference): it says how far an exact float32 implementation
       may honestly be from the reference (a few 1e-6 for the default
       builds).
    4. Writes DIR/test_data_set_0/input_0.pb and output_0.pb (the first
       output; --all-outputs writes output_1.pb.. too, one per graph
       output, which a runner that wants every output needs) as serialised
       ONNX TensorProtos, i.e. the layout of an ONNX node-test directory,
       plus DIR/export_info.json (parameters, sizes, times, op histogram,
       Resize attributes).  model.onnx is checked with onnx.checker.
       tests/models/onnx_ref.py DIR re-runs the file with an independent
       numpy evaluator and compares with the .pb outputs.

Usage (run from the repository root with the system Python, which has
python3-torch and python3-onnx):
    /usr/bin/python3 tests/models/export.py --arch u2netp --out DIR
    /usr/bin/python3 tests/models/export.py --arch u2net --size 320 --out DIR
    /usr/bin/python3 tests/models/export.py --arch isnet --size 288 --out DIR
    /usr/bin/python3 tests/models/export.py --arch isnet --full --out DIR
Without --full, u2net and isnet are built "reduced": every channel width
divided by --div (default 10: 0.43 M parameters, 1.9 MB), same topology.
u2netp is always built at its published width.  Default sizes: 320 for
u2net/u2netp, 1024 for isnet (the sizes rembg feeds them).  The output is
deterministic for given arguments (same PyTorch build and CPU).
"""

import argparse
import collections
import copy
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import u2net_arch  # noqa: E402

import onnx  # noqa: E402
from onnx import numpy_helper  # noqa: E402

DEFAULT_SIZE = {'u2net': 320, 'u2netp': 320, 'isnet': 1024}
NORM = {  # (mean, std) per channel, as rembg normalises its inputs
    'u2net': ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    'u2netp': ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    'isnet': ((0.5, 0.5, 0.5), (1.0, 1.0, 1.0)),
}


def make_image(n, gen, mean, std):
    """A smooth random RGB image in [0, 1], normalised; shape 1x3xNxN."""
    low = torch.rand(1, 3, max(2, n // 16), max(2, n // 16), generator=gen)
    img = F.interpolate(low, size=(n, n), mode='bilinear', align_corners=False)
    img = (img + 0.15 * (torch.rand(1, 3, n, n, generator=gen) - 0.5)).clamp(0, 1)
    m = torch.tensor(mean).view(1, 3, 1, 1)
    s = torch.tensor(std).view(1, 3, 1, 1)
    return ((img - m) / s).contiguous()


BN_BIAS_SHIFT = 1.0   # BN bias = weight * this + N(0, 0.1); see the docstring (conditioning)


def randomise_bn(model, calib, gen):
    """Non-trivial BN parameters; running stats measured on `calib`, then perturbed.
    The bias is positive (about one output standard deviation) so that most
    ReLU inputs are positive and the random network is not chaotic."""
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    with torch.no_grad():
        for bn in bns:
            c = bn.num_features
            bn.weight.copy_(0.5 + torch.rand(c, generator=gen))
            bn.bias.copy_(BN_BIAS_SHIFT * bn.weight + 0.1 * torch.randn(c, generator=gen))
            bn.reset_running_stats()
            bn.momentum = None          # cumulative average: one batch -> its stats
        model.train()
        model(calib)
        for bn in bns:
            c = bn.num_features
            std = bn.running_var.sqrt()
            bn.running_mean.add_(0.1 * std * torch.randn(c, generator=gen))
            bn.running_var.mul_(0.7 + 0.7 * torch.rand(c, generator=gen))
            bn.momentum = 0.1
            bn.num_batches_tracked.zero_()
    model.eval()
    return len(bns)


def spread_logits(model, calib, target_std=2.0):
    """Shifts and scales the side convs (then outconv) so that each output
    logit has mean 0 and std `target_std` on `calib`: the sigmoid outputs
    then span most of (0, 1) instead of sitting near 0.5."""
    names = ['side%d' % k for k in range(1, 7)]
    stages = [names] + ([['outconv']] if hasattr(model, 'outconv') else [])
    for stage in stages:
        seen = {}
        hooks = [getattr(model, n).register_forward_hook(
            lambda mod, inp, out, n=n: seen.__setitem__(n, out.detach().clone())) for n in stage]
        with torch.no_grad():
            model(calib)
            for n in stage:
                conv, y = getattr(model, n), seen[n]
                conv.bias.sub_(y.mean())
                k = target_std / max(float(y.std()), 1e-6)
                conv.weight.mul_(k)
                conv.bias.mul_(k)
        for h in hooks:
            h.remove()


def op_histogram(model_proto):
    return collections.Counter(n.op_type for n in model_proto.graph.node)


def resize_details(model_proto):
    """Attributes of the Resize nodes and the producers of their inputs."""
    producer = {}
    for n in model_proto.graph.node:
        for o in n.output:
            producer[o] = n.op_type
    inits = {i.name for i in model_proto.graph.initializer}
    shapes = collections.Counter()
    for n in model_proto.graph.node:
        if n.op_type not in ('Resize', 'Upsample'):
            continue
        attrs = tuple(sorted((a.name, onnx.helper.get_attribute_value(a).decode()
                              if a.type == onnx.AttributeProto.STRING
                              else onnx.helper.get_attribute_value(a)) for a in n.attribute))
        ins = tuple('' if not i else ('initializer' if i in inits else producer.get(i, 'graph input'))
                    for i in n.input)
        shapes[(n.op_type, attrs, ins)] += 1
    return [{'op': k[0], 'attributes': dict(k[1]), 'input_producers': list(k[2]), 'count': v}
            for k, v in shapes.items()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--arch', required=True, choices=sorted(u2net_arch.ARCHS))
    ap.add_argument('--full', action='store_true', help='published channel widths (u2netp always is)')
    ap.add_argument('--div', type=int, default=10, help='channel divisor when not --full (default 10)')
    ap.add_argument('--size', type=int, default=None, help='input height = width (default 320, isnet 1024)')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--opset', type=int, default=11)
    ap.add_argument('--fuse-bn', action='store_true', help='let PyTorch fold BN into the convs')
    ap.add_argument('--resize-sizes', choices=('shape', 'const'), default='shape',
                    help="Resize target H, W: 'shape' = Shape->Gather->Unsqueeze->Concat->Cast "
                         "of the target tensor at run time (default), 'const' = Constants "
                         "(plain torch.onnx.export)")
    ap.add_argument('--ref-dtype', choices=('auto', 'float64', 'float32'), default='auto',
                    help='precision of the PyTorch forward that makes output_*.pb; auto = '
                         'float64 (rounded to float32) for reduced builds, float32 for '
                         'full-width ones (float64 convs are ~30x slower on CPU)')
    ap.add_argument('--all-outputs', action='store_true', help='also write output_1.pb ...')
    ap.add_argument('--out', required=True, help='directory to create/overwrite')
    args = ap.parse_args()

    t_start = time.time()
    size = args.size or DEFAULT_SIZE[args.arch]
    div = 1 if (args.full or args.arch == 'u2netp') else args.div
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed + 1)
    model = u2net_arch.build(args.arch, div)
    mean, std = NORM[args.arch]
    # calibrate at the export size: the deepest stages' statistics depend on
    # how much of their dilated 3x3 windows falls in the zero padding
    calib = make_image(size, torch.Generator().manual_seed(args.seed + 2), mean, std)
    n_bn = randomise_bn(model, calib, gen)
    spread_logits(model, calib)
    n_params = sum(p.numel() for p in model.parameters())
    x = make_image(size, torch.Generator().manual_seed(args.seed + 3), mean, std)
    t_build = time.time() - t_start

    t0 = time.time()
    with torch.no_grad():
        ref_dtype = args.ref_dtype
        if ref_dtype == 'auto':
            ref_dtype = 'float32' if div == 1 else 'float64'
        f32_vs_f64 = None
        if ref_dtype == 'float64':
            ref = copy.deepcopy(model).double()
            outs64 = ref(x.double())
            del ref
            outs = tuple(o.float() for o in outs64)
            t_forward = time.time() - t0
            # conditioning check: PyTorch's own float32 forward against float64
            f32_vs_f64 = float((model(x)[0].double() - outs64[0]).abs().max())
            del outs64
        else:
            outs = model(x)
            t_forward = time.time() - t0
    out_names = ['d%d' % i for i in range(1 if args.arch == 'isnet' else 0, 7)]
    assert len(out_names) == len(outs)

    os.makedirs(os.path.join(args.out, 'test_data_set_0'), exist_ok=True)
    path = os.path.join(args.out, 'model.onnx')
    t0 = time.time()
    mode = torch.onnx.TrainingMode.EVAL if args.fuse_bn else torch.onnx.TrainingMode.PRESERVE
    kw = dict(opset_version=args.opset, input_names=['input.1'], output_names=out_names,
              do_constant_folding=False, training=mode)
    with torch.no_grad():
        if args.resize_sizes == 'shape':
            # PyTorch's own export entry point with ONNX shape inference off:
            # with it on (what torch.onnx.export does), the fixed input shape
            # lets the exporter replace each Shape->Gather of the resize
            # target by a Constant.  Off, the chains stay, as in rembg's files.
            torch.onnx.utils._export(model, (x,), path, onnx_shape_inference=False, **kw)
        else:
            torch.onnx.export(model, (x,), path, **kw)
    t_export = time.time() - t0

    m = onnx.load(path)
    onnx.checker.check_model(m)
    hist = op_histogram(m)
    g_in = [(i.name, [d.dim_value for d in i.type.tensor_type.shape.dim])
            for i in m.graph.input if i.name not in {t.name for t in m.graph.initializer}]
    g_out = [(o.name, [d.dim_value for d in o.type.tensor_type.shape.dim]) for o in m.graph.output]

    ds = os.path.join(args.out, 'test_data_set_0')
    for f in os.listdir(ds):
        if f.startswith('output_') and f.endswith('.pb'):
            os.remove(os.path.join(ds, f))
    with open(os.path.join(ds, 'input_0.pb'), 'wb') as f:
        f.write(numpy_helper.from_array(x.numpy(), g_in[0][0]).SerializeToString())
    written = outs if args.all_outputs else outs[:1]
    for i, o in enumerate(written):
        with open(os.path.join(ds, 'output_%d.pb' % i), 'wb') as f:
            f.write(numpy_helper.from_array(o.numpy(), g_out[i][0]).SerializeToString())

    o0 = outs[0].numpy()
    info = {
        'arch': args.arch, 'full': div == 1, 'div': div, 'size': size, 'seed': args.seed,
        'opset': [(o.domain or 'ai.onnx', o.version) for o in m.opset_import],
        'ir_version': m.ir_version, 'producer': '%s %s' % (m.producer_name, m.producer_version),
        'params': n_params, 'batchnorm_layers': n_bn,
        'onnx_bytes': os.path.getsize(path),
        'nodes': len(m.graph.node), 'initializers': len(m.graph.initializer),
        'op_types': dict(sorted(hist.items(), key=lambda kv: -kv[1])),
        'resize': resize_details(m),
        'inputs': g_in, 'outputs': g_out,
        'output_pb_written': len(written),
        'reference_dtype': ref_dtype,
        'torch_f32_vs_f64_max_abs': f32_vs_f64,
        'output0_stats': {'min': float(o0.min()), 'max': float(o0.max()),
                          'mean': float(o0.mean()), 'std': float(o0.std())},
        'input_stats': {'min': float(x.min()), 'max': float(x.max())},
        'seconds': {'build_and_bn_calibration': round(t_build, 2), 'forward': round(t_forward, 2),
                    'onnx_export': round(t_export, 2), 'total': round(time.time() - t_start, 2)},
        'torch': torch.__version__, 'onnx': onnx.__version__,
    }
    with open(os.path.join(args.out, 'export_info.json'), 'w') as f:
        json.dump(info, f, indent=1)
    print('%s%s @%d: %d parameters, %d BN layers, model.onnx %d bytes (%.2f MB), %d nodes, '
          'opset %s' % (args.arch, '' if div == 1 else ' (widths / %d)' % div, size, n_params, n_bn,
                        info['onnx_bytes'], info['onnx_bytes'] / 1e6, info['nodes'],
                        ','.join('%s:%d' % v for v in info['opset'])))
    print('ops: ' + ', '.join('%s %d' % kv for kv in info['op_types'].items()))
    print('input %s %s; outputs %s' % (g_in[0][0], g_in[0][1],
                                      ', '.join('%s %s' % (n, s) for n, s in g_out)))
    print('output %s: min %.4f max %.4f mean %.4f std %.4f' % (
        out_names[0], *[info['output0_stats'][k] for k in ('min', 'max', 'mean', 'std')]))
    if f32_vs_f64 is None:
        print('torch float32 vs float64 (output %s): not measured (float32 reference)' % out_names[0])
    else:
        print('torch float32 vs float64 (output %s): max |d| %.3g' % (out_names[0], f32_vs_f64))
    print('seconds: ' + ', '.join('%s %.2f' % kv for kv in info['seconds'].items()))


if __name__ == '__main__':
    main()
