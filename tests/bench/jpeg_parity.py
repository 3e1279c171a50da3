#!/usr/bin/python3
"""Python side of tests/bench/segment_jpeg_parity.sh: makes the test JPEGs,
decodes them with PIL, runs rembg's u2netp pre- and post-processing (the
reference, with onnxruntime-node as the network, run by ort_infer.js) and
compares images.  Needs numpy and PIL (Debian: python3-numpy, python3-pil).

Subcommands (every path is a file or directory the shell script owns):
  make-jpegs OUTDIR SRC.png...
      writes the test JPEGs into OUTDIR and prints their names, one a line.
  pil-decode DIR NAME...
      for each DIR/NAME.jpg writes DIR/NAME.pil.png, the image rembg's
      remove() works on (ImageOps.exif_transpose(Image.open(f)), then
      convert("RGB")), and DIR/NAME.in.f32, rembg's u2netp network input
      for it (raw float32, 1x3x320x320).
  decode-diff DIR NAME...
      compares DIR/NAME.pil.png with kiln's decode DIR/kiln-decode/NAME.png
      (gray JPEGs: kiln writes one channel, PIL's convert("RGB") copies it
      to three); prints "NAME samples=N differing=D max_abs=M".
  post DIR NAME...
      rembg's postprocess of DIR/NAME.out.f32 (the network's first output,
      1x1x320x320 float32) to DIR/NAME.ref.png at the upright image's size.
  mask-diff REF.png OTHER.png
      prints "pixels=N differing=D over1=E max_abs=M".
"""
import sys

import numpy as np
from PIL import Image, ImageOps

SIZE = (320, 320)
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def make_jpegs(outdir, sources):
    """Quality 90 with PIL's default 4:2:0 subsampling for every photo, the
    first colour photo at quality 95 4:4:4 too, a copy of the last colour
    photo stored turned a quarter turn with EXIF orientation 6 (as a
    phone writes it: the upright image is what exif_transpose gives back),
    and gray photos (mode L) as grayscale JPEGs."""
    names = []
    colour = []
    for path in sources:
        im = Image.open(path)
        stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        if im.mode in ("L", "LA", "I", "I;16"):
            im = im.convert("L")
            kind = "gray"
        else:
            im = im.convert("RGB")  # alpha (lemur.png is RGBA) is dropped
            kind = "rgb"
        name = stem + "_q90"
        im.save(f"{outdir}/{name}.jpg", quality=90)
        names.append(name)
        if kind == "rgb":
            colour.append((stem, im))
    if colour:
        stem, im = colour[0]
        name = stem + "_q95_444"
        im.save(f"{outdir}/{name}.jpg", quality=95, subsampling=0)
        names.append(name)
        stem, im = colour[-1]
        name = stem + "_q90_exif6"
        exif = Image.Exif()
        exif[0x0112] = 6  # Orientation: rotate 90 CW to display
        # Stored 90 degrees counter-clockwise, so that tag 6 turns it back.
        im.transpose(Image.Transpose.ROTATE_90).save(
            f"{outdir}/{name}.jpg", quality=90, exif=exif.tobytes())
        check = Image.open(f"{outdir}/{name}.jpg")
        if check.getexif().get(0x0112) != 6:
            sys.exit(f"jpeg_parity.py: {name}.jpg lost its orientation tag")
        if ImageOps.exif_transpose(check).size != im.size:
            sys.exit(f"jpeg_parity.py: {name}.jpg is not upright after exif_transpose")
        names.append(name)
    for n in names:
        print(n)


def rembg_image(path):
    """The image rembg's remove() segments: bytes -> Image.open, then
    fix_image_orientation (ImageOps.exif_transpose)."""
    im = Image.open(path)
    im = ImageOps.exif_transpose(im)
    return im


def rembg_normalize(img):
    """rembg's BaseSession.normalize for u2netp (float64, then float32)."""
    im = img.convert("RGB").resize(SIZE, Image.Resampling.LANCZOS)
    im_ary = np.array(im)
    im_ary = im_ary / max(np.max(im_ary), 1e-6)
    tmp = np.zeros((im_ary.shape[0], im_ary.shape[1], 3))
    for c in range(3):
        tmp[:, :, c] = (im_ary[:, :, c] - MEAN[c]) / STD[c]
    tmp = tmp.transpose((2, 0, 1))
    return np.expand_dims(tmp, 0).astype(np.float32)


def pil_decode(d, names):
    for n in names:
        img = rembg_image(f"{d}/{n}.jpg")
        img.convert("RGB").save(f"{d}/{n}.pil.png")
        x = rembg_normalize(img)
        assert x.shape == (1, 3, SIZE[1], SIZE[0])
        x.astype("<f4").tofile(f"{d}/{n}.in.f32")


def decode_diff(d, names):
    for n in names:
        a = np.asarray(Image.open(f"{d}/{n}.pil.png").convert("RGB"), dtype=np.int32)
        kim = Image.open(f"{d}/kiln-decode/{n}.png")
        b = np.asarray(kim.convert("RGB"), dtype=np.int32)
        if a.shape != b.shape:
            print(f"{n} size_mismatch pil={a.shape[1]}x{a.shape[0]} "
                  f"kiln={b.shape[1]}x{b.shape[0]}")
            continue
        diff = np.abs(a - b)
        print(f"{n} samples={diff.size} differing={int((diff > 0).sum())} "
              f"max_abs={int(diff.max())} kiln_mode={kim.mode}")


def post(d, names):
    for n in names:
        img = rembg_image(f"{d}/{n}.jpg")
        out = np.fromfile(f"{d}/{n}.out.f32", dtype="<f4").reshape(1, 1, SIZE[1], SIZE[0])
        # rembg's U2netpSession.predict, in the output's float32
        pred = out[:, 0, :, :]
        ma = np.max(pred)
        mi = np.min(pred)
        pred = (pred - mi) / (ma - mi)
        pred = np.squeeze(pred)
        mask = Image.fromarray((pred * 255).astype("uint8"), mode="L")
        mask = mask.resize(img.size, Image.Resampling.LANCZOS)
        mask.save(f"{d}/{n}.ref.png")


def mask_diff(ref, other):
    a = np.asarray(Image.open(ref), dtype=np.int32)
    bim = Image.open(other)
    if bim.mode != "L":
        print(f"mode={bim.mode} (want L)")
        return
    b = np.asarray(bim, dtype=np.int32)
    if a.shape != b.shape:
        print(f"size_mismatch ref={a.shape[1]}x{a.shape[0]} other={b.shape[1]}x{b.shape[0]}")
        return
    diff = np.abs(a - b)
    print(f"pixels={diff.size} differing={int((diff > 0).sum())} "
          f"over1={int((diff > 1).sum())} max_abs={int(diff.max())}")


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    cmd, rest = argv[1], argv[2:]
    if cmd == "make-jpegs":
        make_jpegs(rest[0], rest[1:])
    elif cmd == "pil-decode":
        pil_decode(rest[0], rest[1:])
    elif cmd == "decode-diff":
        decode_diff(rest[0], rest[1:])
    elif cmd == "post":
        post(rest[0], rest[1:])
    elif cmd == "mask-diff" and len(rest) == 2:
        mask_diff(rest[0], rest[1])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
