"""U^2-Net, U^2-Netp and IS-Net, written out for kiln's correctness tests.

What this is
    PyTorch modules with the topology of the background-removal networks that
    rembg ships as ONNX files (u2net.onnx, u2netp.onnx, u2net_human_seg.onnx,
    silueta.onnx, isnet-general-use.onnx, ...).  tests/models/export.py builds
    them with fixed random weights, exports them to ONNX and records PyTorch's
    output, so that kiln can be checked against an independent implementation
    of the whole network without downloading the published weights.

Where the architectures come from
    U^2-Net / U^2-Netp: X. Qin, Z. Zhang, C. Huang, M. Dehghan, O. Zaiane,
        M. Jagersand, "U^2-Net: Going Deeper with Nested U-Structure for
        Salient Object Detection", Pattern Recognition 106, 2020;
        the authors' code github.com/xuebinqin/U-2-Net, model/u2net.py
        (classes REBNCONV, RSU7, RSU6, RSU5, RSU4, RSU4F, U2NET, U2NETP, and
        _upsample_like = F.upsample(size=tar.shape[2:], mode='bilinear')).
    IS-Net: X. Qin, H. Dai, X. Hu, D.-P. Fan, L. Shao, L. Van Gool, "Highly
        Accurate Dichotomous Image Segmentation", ECCV 2022; the authors' code
        github.com/xuebinqin/DIS, IS-Net/models/isnet.py (class ISNetDIS).
        Note: ISNetDIS defines pool_in but its forward() has it commented out
        ("#hx = self.pool_in(hxin)"), so stage 1 runs on conv_in's output at
        half the input resolution; this file follows forward().  ISNetDIS
        has no outconv: it returns the six sigmoid side outputs d1..d6 (all
        at input size; d1 is what rembg uses) plus the decoder features,
        which are left out here (rembg does not read them).

    The code below is written from those descriptions (same module names, so
    a state_dict of the authors' networks loads into the full-width models
    here), with one addition: every channel width is divided by `div`
    (default 1 = the published widths), so that small test models keep the
    exact topology (same ops, dilations, pools, resizes, concats) at a
    fraction of the size.  U^2-Netp is only built at div=1 by export.py.

    Upsampling: F.interpolate(mode='bilinear', align_corners=False), which is
    what F.upsample(mode='bilinear') does since PyTorch 0.4.1; exported to
    ONNX as Resize(linear, half_pixel / pytorch_half_pixel) with the target
    size read from the other tensor's shape at run time.
    Pools: MaxPool2d(2, stride=2, ceil_mode=True), so odd sizes work.

How to regenerate
    This file is only imported; see tests/models/export.py, e.g.
        /usr/bin/python3 tests/models/export.py --arch u2netp --out /tmp/u2netp
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


def _upsample_like(src, tar):
    """Bilinear resize of src to tar's spatial size (authors' _upsample_like)."""
    return F.interpolate(src, size=tar.shape[2:], mode='bilinear', align_corners=False)


def _pool():
    return nn.MaxPool2d(2, stride=2, ceil_mode=True)


class REBNCONV(nn.Module):
    """3x3 conv (padding = dilation = dirate, optional stride) + BN + ReLU."""

    def __init__(self, in_ch=3, out_ch=3, dirate=1, stride=1):
        super().__init__()
        self.conv_s1 = nn.Conv2d(in_ch, out_ch, 3, padding=1 * dirate,
                                 dilation=1 * dirate, stride=stride)
        self.bn_s1 = nn.BatchNorm2d(out_ch)
        self.relu_s1 = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu_s1(self.bn_s1(self.conv_s1(x)))


class _RSU(nn.Module):
    """RSU-L (L = height, 4..7): a residual U-block.

    rebnconvin (in->out), rebnconv1 (out->mid), then L-2 more REBNCONVs at
    dilation 1, each after a 2x2 ceil-mode max pool, then one at dilation 2
    without pooling; the decoder concatenates (upsampled deeper, skip) and
    applies REBNCONV(2*mid->mid) ... rebnconv1d (2*mid->out); the block
    returns rebnconv1d + rebnconvin.  Matches RSU7/RSU6/RSU5/RSU4.
    """

    def __init__(self, height, in_ch, mid_ch, out_ch):
        super().__init__()
        self.height = height
        self.rebnconvin = REBNCONV(in_ch, out_ch, dirate=1)
        self.rebnconv1 = REBNCONV(out_ch, mid_ch, dirate=1)
        for i in range(1, height - 1):
            setattr(self, 'pool%d' % i, _pool())
            setattr(self, 'rebnconv%d' % (i + 1), REBNCONV(mid_ch, mid_ch, dirate=1))
        setattr(self, 'rebnconv%d' % height, REBNCONV(mid_ch, mid_ch, dirate=2))
        for i in range(height - 1, 1, -1):
            setattr(self, 'rebnconv%dd' % i, REBNCONV(mid_ch * 2, mid_ch, dirate=1))
        self.rebnconv1d = REBNCONV(mid_ch * 2, out_ch, dirate=1)

    def forward(self, x):
        L = self.height
        hxin = self.rebnconvin(x)
        enc = [self.rebnconv1(hxin)]                      # hx1
        for i in range(1, L - 1):                         # hx2 .. hx(L-1)
            hx = getattr(self, 'pool%d' % i)(enc[-1])
            enc.append(getattr(self, 'rebnconv%d' % (i + 1))(hx))
        hx = getattr(self, 'rebnconv%d' % L)(enc[-1])     # hxL, dilation 2
        for i in range(L - 1, 0, -1):                     # hx(L-1)d .. hx1d
            if i < L - 1:
                hx = _upsample_like(hx, enc[i - 1])
            name = 'rebnconv%dd' % i
            hx = getattr(self, name)(torch.cat((hx, enc[i - 1]), 1))
        return hx + hxin


class RSU7(_RSU):
    def __init__(self, in_ch=3, mid_ch=12, out_ch=3):
        super().__init__(7, in_ch, mid_ch, out_ch)


class RSU6(_RSU):
    def __init__(self, in_ch=3, mid_ch=12, out_ch=3):
        super().__init__(6, in_ch, mid_ch, out_ch)


class RSU5(_RSU):
    def __init__(self, in_ch=3, mid_ch=12, out_ch=3):
        super().__init__(5, in_ch, mid_ch, out_ch)


class RSU4(_RSU):
    def __init__(self, in_ch=3, mid_ch=12, out_ch=3):
        super().__init__(4, in_ch, mid_ch, out_ch)


class RSU4F(nn.Module):
    """RSU-4F: no pooling, dilations 1, 2, 4, 8 then 4, 2, 1 in the decoder."""

    def __init__(self, in_ch=3, mid_ch=12, out_ch=3):
        super().__init__()
        self.rebnconvin = REBNCONV(in_ch, out_ch, dirate=1)
        self.rebnconv1 = REBNCONV(out_ch, mid_ch, dirate=1)
        self.rebnconv2 = REBNCONV(mid_ch, mid_ch, dirate=2)
        self.rebnconv3 = REBNCONV(mid_ch, mid_ch, dirate=4)
        self.rebnconv4 = REBNCONV(mid_ch, mid_ch, dirate=8)
        self.rebnconv3d = REBNCONV(mid_ch * 2, mid_ch, dirate=4)
        self.rebnconv2d = REBNCONV(mid_ch * 2, mid_ch, dirate=2)
        self.rebnconv1d = REBNCONV(mid_ch * 2, out_ch, dirate=1)

    def forward(self, x):
        hxin = self.rebnconvin(x)
        hx1 = self.rebnconv1(hxin)
        hx2 = self.rebnconv2(hx1)
        hx3 = self.rebnconv3(hx2)
        hx4 = self.rebnconv4(hx3)
        hx3d = self.rebnconv3d(torch.cat((hx4, hx3), 1))
        hx2d = self.rebnconv2d(torch.cat((hx3d, hx2), 1))
        hx1d = self.rebnconv1d(torch.cat((hx2d, hx1), 1))
        return hx1d + hxin


# (mid, out) of each stage, published widths.  Decoder stage k's input is
# out(deeper decoder stage or stage6) + out(encoder stage k).
U2NET_ENC = [(32, 64), (32, 128), (64, 256), (128, 512), (256, 512), (256, 512)]
U2NET_DEC = [(16, 64), (32, 64), (64, 128), (128, 256), (256, 512)]   # stage1d .. stage5d
U2NETP_ENC = [(16, 64)] * 6
U2NETP_DEC = [(16, 64)] * 5


def _w(c, div):
    return max(1, c // div)


class _U2Base(nn.Module):
    """Six encoder stages (RSU7, RSU6, RSU5, RSU4, RSU4F, RSU4F) with 2x2
    ceil-mode pools between them, five decoder stages (RSU4F, RSU4, RSU5,
    RSU6, RSU7), and six 3x3 side convs to out_ch channels."""

    BLOCKS = [RSU7, RSU6, RSU5, RSU4, RSU4F, RSU4F]

    def _build(self, first_in, enc, dec, div, out_ch):
        enc = [(_w(m, div), _w(o, div)) for m, o in enc]
        dec = [(_w(m, div), _w(o, div)) for m, o in dec]
        cin = first_in
        for k in range(6):
            setattr(self, 'stage%d' % (k + 1), self.BLOCKS[k](cin, enc[k][0], enc[k][1]))
            if k < 5:
                setattr(self, 'pool%d%d' % (k + 1, k + 2), _pool())
            cin = enc[k][1]
        deeper = enc[5][1]
        for k in range(4, -1, -1):                 # stage5d .. stage1d
            cin = deeper + enc[k][1]
            setattr(self, 'stage%dd' % (k + 1), self.BLOCKS[k](cin, dec[k][0], dec[k][1]))
            deeper = dec[k][1]
        side_in = [dec[0][1], dec[1][1], dec[2][1], dec[3][1], dec[4][1], enc[5][1]]
        for k in range(6):
            setattr(self, 'side%d' % (k + 1), nn.Conv2d(side_in[k], out_ch, 3, padding=1))

    def _encode_decode(self, hx):
        """Returns [hx1d, hx2d, hx3d, hx4d, hx5d, hx6]."""
        enc = []
        for k in range(6):
            if k:
                hx = getattr(self, 'pool%d%d' % (k, k + 1))(hx)
            hx = getattr(self, 'stage%d' % (k + 1))(hx)
            enc.append(hx)
        dec = [None] * 5 + [enc[5]]
        hx = enc[5]
        for k in range(4, -1, -1):
            up = _upsample_like(hx, enc[k])
            hx = getattr(self, 'stage%dd' % (k + 1))(torch.cat((up, enc[k]), 1))
            dec[k] = hx
        return dec


class U2NET(_U2Base):
    """U^2-Net (div=1: 44.0 M parameters, rembg's u2net.onnx family).
    Returns sigmoid(d0), sigmoid(d1) .. sigmoid(d6), all at input size."""

    def __init__(self, in_ch=3, out_ch=1, div=1, enc=U2NET_ENC, dec=U2NET_DEC):
        super().__init__()
        self._build(in_ch, enc, dec, div, out_ch)
        self.outconv = nn.Conv2d(6 * out_ch, out_ch, 1)

    def forward(self, x):
        feats = self._encode_decode(x)
        d1 = self.side1(feats[0])
        ds = [d1]
        for k in range(1, 6):
            ds.append(_upsample_like(getattr(self, 'side%d' % (k + 1))(feats[k]), d1))
        d0 = self.outconv(torch.cat(ds, 1))
        return tuple(torch.sigmoid(d) for d in [d0] + ds)


class U2NETP(U2NET):
    """U^2-Netp (1.13 M parameters, rembg's u2netp.onnx): same topology,
    mid 16 / out 64 everywhere."""

    def __init__(self, in_ch=3, out_ch=1, div=1):
        super().__init__(in_ch, out_ch, div, U2NETP_ENC, U2NETP_DEC)


class ISNetDIS(_U2Base):
    """IS-Net (div=1: 44.0 M parameters, rembg's isnet-general-use.onnx).
    conv_in: plain 3x3 stride-2 conv (no BN/ReLU) to 64 channels; stages as
    U^2-Net but stage1 takes conv_in's output; no outconv.  Returns
    sigmoid(d1) .. sigmoid(d6), each resized to the input size."""

    def __init__(self, in_ch=3, out_ch=1, div=1):
        super().__init__()
        c_in = _w(64, div)
        self.conv_in = nn.Conv2d(in_ch, c_in, 3, stride=2, padding=1)
        self.pool_in = _pool()          # defined, unused (as in the authors' forward)
        self._build(c_in, U2NET_ENC, U2NET_DEC, div, out_ch)

    def forward(self, x):
        hxin = self.conv_in(x)
        feats = self._encode_decode(hxin)
        return tuple(torch.sigmoid(_upsample_like(getattr(self, 'side%d' % (k + 1))(feats[k]), x))
                     for k in range(6))


ARCHS = {'u2net': U2NET, 'u2netp': U2NETP, 'isnet': ISNetDIS}


def build(arch, div=1):
    return ARCHS[arch](div=div)
