#!/usr/bin/env python3
"""Compares a float image kiln wrote (.f32) with a reference .f32 under
brush's tolerance |a - b| < 1e-5 + 1e-2 |b| on every value.  Prints the
figures; exits 0 when at most MAX_FAIL_FRACTION of the values fail
(default 0), 1 otherwise.
Usage: splat_compare.py OURS.f32 REF.f32 [MAX_FAIL_FRACTION]"""
import sys

import numpy as np


def read_f32(path):
    data = open(path, "rb").read()
    if data[:4] != b"F32I":
        sys.exit("%s: not an F32I file" % path)
    h, w, c = np.frombuffer(data[4:16], "<u4")
    return np.frombuffer(data[16:], "<f4").reshape(h, w, c).astype(np.float64)


def main():
    ours, ref = read_f32(sys.argv[1]), read_f32(sys.argv[2])
    limit = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    if ours.shape != ref.shape:
        print("shape %s, reference %s" % (ours.shape, ref.shape))
        return 1
    diff = np.abs(ours - ref)
    fails = int(np.count_nonzero(~(diff < 1e-5 + 1e-2 * np.abs(ref))))
    mse = float(np.mean(diff ** 2))
    psnr = 10 * np.log10(1.0 / mse) if mse > 0 else float("inf")
    print("%s vs %s: max |diff| %.3g, PSNR %.1f dB, %d / %d values fail" %
          (sys.argv[1], sys.argv[2], diff.max(), psnr, fails, diff.size))
    return 0 if fails <= limit * diff.size else 1


if __name__ == "__main__":
    sys.exit(main())
