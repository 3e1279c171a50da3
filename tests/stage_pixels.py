"""Independent references for tests/stage_pixels.sh, from PIL and numpy.

  stage_pixels.py make DIR          writes DIR/in.png (RGB, 37x23)
  stage_pixels.py check DIR         checks kiln's outputs in DIR against
                                    PIL/numpy computed from in.png and
                                    kiln's own mask (mask.png); prints one
                                    line per check, exits 1 on a failure
"""
import sys

import numpy as np
from PIL import Image

W, H = 37, 23
failures = 0


def check(what, ok, detail=""):
    global failures
    print(("ok    " if ok else "FAIL  ") + what + (": " + detail if detail else ""))
    if not ok:
        failures += 1


def load(path, mode=None):
    im = Image.open(path)
    return np.asarray(im.convert(mode) if mode else im).astype(np.int64)


def make(d):
    y, x = np.mgrid[0:H, 0:W]
    rgb = np.stack([(x * 255) // (W - 1), (y * 255) // (H - 1),
                    ((x * 7 + y * 13) * 255) // (7 * (W - 1) + 13 * (H - 1))], axis=-1)
    Image.fromarray(rgb.astype(np.uint8), "RGB").save(d + "/in.png")


def scaled(side, num, den):
    return max(1, (side * num + den // 2) // den)


def main():
    mode, d = sys.argv[1], sys.argv[2]
    if mode == "make":
        make(d)
        return 0
    rgb = load(d + "/in.png", "RGB")
    mask = load(d + "/mask.png")
    check("mask is 8-bit gray at the input's size", mask.shape == (H, W))
    # the cut-out: the input's colour with the mask as alpha (PIL putalpha)
    im = Image.open(d + "/in.png").convert("RGB")
    im.putalpha(Image.open(d + "/mask.png"))
    want = np.asarray(im).astype(np.int64)
    got = load(d + "/cut.png")
    check("cut-out = input colour + mask alpha (PIL putalpha)", got.shape == want.shape and
          np.array_equal(got, want), "max |d| %s" % (np.abs(got - want).max() if got.shape == want.shape else "shape"))
    # composite over #336699: round(c * a + bg * (1 - a)) with a = mask / 255
    bg = np.array([0x33, 0x66, 0x99])
    a = mask[..., None] / 255.0
    want = np.floor(rgb * a + bg * (1 - a) + 0.5)
    got = load(d + "/over.png")
    diff = np.abs(got - want).max() if got.shape == want.shape else 999
    check("composite over #336699 (numpy, within 1)", got.shape == (H, W, 3) and diff <= 1,
          "max |d| %s" % diff)
    # 16-bit output: each 8-bit mask value k becomes k * 257
    got = load(d + "/mask16.png")
    check("16-bit mask = 8-bit mask * 257", got.shape == mask.shape and
          np.array_equal(got, mask * 257))
    # resize sizes: width only, height only, max_side, both
    for name, size in (("w19", (19, scaled(H, 19, W))), ("h9", (scaled(W, 9, H), 9)),
                       ("max20", (20, scaled(H, 20, W))), ("both", (11, 13))):
        got = Image.open(d + "/size_%s.png" % name).size
        check("resize %s: %dx%d" % (name, size[0], size[1]), got == size, "got %dx%d" % got)
    # resize of the mask with the area filter = PIL's BOX, within 1
    want = np.asarray(Image.open(d + "/mask.png").resize((19, scaled(H, 19, W)),
                                                          Image.Resampling.BOX)).astype(np.int64)
    got = load(d + "/mask_area.png")
    diff = np.abs(got - want).max() if got.shape == want.shape else 999
    check("area resize of the mask = PIL BOX (within 1)", diff <= 1, "max |d| %s" % diff)
    want = np.asarray(Image.open(d + "/mask.png").resize((19, scaled(H, 19, W)),
                                                          Image.Resampling.LANCZOS)).astype(np.int64)
    got = load(d + "/mask_lanczos.png")
    diff = np.abs(got - want).max() if got.shape == want.shape else 999
    check("lanczos3 resize of the mask = PIL LANCZOS (within 1)", diff <= 1, "max |d| %s" % diff)
    print("%d failed" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
