#!/usr/bin/python3
"""Side-by-side refinement benchmark driver: kiln refine against pymatting
(run from a source checkout) on the same image and trimap, interleaved.

Usage: pymatting_run.py --pymatting DIR --kiln KILN --work DIR
                        [--rounds R] [--kiln-repeat N] [--py-repeat M]
                        NAME:IMAGE:MASK:KIND ...
KIND is "mask" (a coarse mask: the trimap is rembg's recipe, exactly as
kiln's refine derives it: mask > 240 foreground, mask < 10 background, both
eroded by a 10x10 square, the background erosion treating the border as
background) or "trimap" (used as is by both sides).

Per case: one untimed parity run of each side (kiln writes a 16-bit alpha;
pymatting's first call also compiles with numba), then R rounds, each a
`kiln refine --repeat N` process (its first run discarded: programs and
pool warm up) followed by M warm pymatting runs in this process.  Prints
every timed run, then a table of medians (alpha + foreground per side),
the unknown-pixel count, the alpha parity (max and mean |kiln - pymatting|
over the unknown pixels) and, last, one ratio line per case.
"""
import argparse
import importlib.metadata
import os
import re
import statistics
import subprocess
import sys
import time

import numpy as np
from PIL import Image

LINE = re.compile(r"refine .*?: \d+x\d+, (\d+) unknown pixels: ([0-9.]+) ms \(trimap ([0-9.]+), "
                  r"alpha ([0-9.]+) in (\d+) iterations, foreground ([0-9.]+)\)")


def import_pymatting(src):
    """Imports pymatting from a source checkout (not installed: its
    __init__ asks the package metadata for a version, answered here)."""
    sys.path.insert(0, src)
    real_version = importlib.metadata.version

    def version(name):
        try:
            return real_version(name)
        except importlib.metadata.PackageNotFoundError:
            if name == "pymatting":
                return "source"
            raise
    importlib.metadata.version = version
    try:
        import pymatting
    finally:
        importlib.metadata.version = real_version
    return pymatting


def rembg_trimap(mask_u8):
    """rembg's trimap: 255 foreground, 0 background, 128 unknown."""
    from scipy.ndimage import binary_erosion
    structure = np.ones((10, 10), dtype=np.uint8)
    fg = binary_erosion(mask_u8 > 240, structure=structure)
    bg = binary_erosion(mask_u8 < 10, structure=structure, border_value=1)
    trimap = np.full(mask_u8.shape, 128, dtype=np.uint8)
    trimap[fg] = 255
    trimap[bg] = 0
    return trimap


def kiln_runs(kiln, image, mask, kind, out, repeat, extra=()):
    """Runs kiln refine once with --repeat; returns the parsed lines."""
    cmd = [kiln, "refine", image, mask, "-o", out, "--repeat", str(repeat)] + list(extra)
    if kind == "trimap":
        cmd.append("--trimap")
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit("kiln refine failed (%s):\n%s" % (" ".join(cmd), done.stderr))
    runs = []
    for line in done.stdout.splitlines():
        m = LINE.search(line)
        if m:
            runs.append({"unknown": int(m.group(1)), "total": float(m.group(2)),
                         "trimap": float(m.group(3)), "alpha": float(m.group(4)),
                         "iterations": int(m.group(5)), "fg": float(m.group(6))})
    if len(runs) != repeat:
        sys.exit("kiln refine printed %d run lines, expected %d:\n%s" %
                 (len(runs), repeat, done.stdout))
    return runs


def median(values):
    return statistics.median(values) if values else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pymatting", required=True)
    ap.add_argument("--kiln", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--kiln-repeat", type=int, default=3)
    ap.add_argument("--py-repeat", type=int, default=2)
    ap.add_argument("cases", nargs="+")
    a = ap.parse_args()
    pm = import_pymatting(a.pymatting)
    rows = []
    for spec in a.cases:
        name, image_path, mask_path, kind = spec.split(":")
        image = pm.load_image(image_path, "RGB")
        given = np.asarray(Image.open(mask_path).convert("L"))
        trimap_u8 = rembg_trimap(given) if kind == "mask" else given
        Image.fromarray(trimap_u8).save(os.path.join(a.work, name + "_trimap.png"))
        trimap = trimap_u8.astype(np.float64) / 255.0
        unknown = (trimap > 0.1) & (trimap < 0.9)
        # parity: one untimed run each
        alpha_out = os.path.join(a.work, name + "_kiln_alpha.png")
        first = kiln_runs(a.kiln, image_path, mask_path, kind, alpha_out, 1,
                          ["--set", "refine.output=alpha", "--set", "output.bit_depth=16"])[0]
        if first["unknown"] != int(unknown.sum()):
            sys.exit("%s: kiln's trimap has %d unknown pixels, the driver's %d: not the same "
                     "problem" % (name, first["unknown"], int(unknown.sum())))
        kiln_alpha = np.asarray(Image.open(alpha_out)).astype(np.float64) / 65535.0
        print("%s: pymatting's first run (numba compiles on a cold cache)..." % name,
              file=sys.stderr, flush=True)
        py_alpha = pm.estimate_alpha_cf(image, trimap)
        pm.estimate_foreground_ml(image, py_alpha)
        diff = np.abs(kiln_alpha - py_alpha)[unknown]
        kiln_t = {"alpha": [], "fg": [], "total": []}
        py_t = {"alpha": [], "fg": []}
        out = os.path.join(a.work, name + "_kiln_cut.png")
        for rnd in range(a.rounds):
            for r in kiln_runs(a.kiln, image_path, mask_path, kind, out, a.kiln_repeat)[1:]:
                for k in kiln_t:
                    kiln_t[k].append(r[k])
                print("%s round %d kiln      alpha %8.1f ms  foreground %7.1f ms  refine %8.1f ms"
                      "  (%d iterations)" % (name, rnd, r["alpha"], r["fg"], r["total"],
                                             r["iterations"]), flush=True)
            for _ in range(a.py_repeat):
                t0 = time.perf_counter()
                alpha = pm.estimate_alpha_cf(image, trimap)
                t1 = time.perf_counter()
                pm.estimate_foreground_ml(image, alpha)
                t2 = time.perf_counter()
                py_t["alpha"].append((t1 - t0) * 1e3)
                py_t["fg"].append((t2 - t1) * 1e3)
                print("%s round %d pymatting alpha %8.1f ms  foreground %7.1f ms" %
                      (name, rnd, py_t["alpha"][-1], py_t["fg"][-1]), flush=True)
        k_sum = median([x + y for x, y in zip(kiln_t["alpha"], kiln_t["fg"])])
        p_sum = median([x + y for x, y in zip(py_t["alpha"], py_t["fg"])])
        rows.append((name, "%dx%d" % (image.shape[1], image.shape[0]), int(unknown.sum()),
                     median(kiln_t["alpha"]), median(kiln_t["fg"]), k_sum,
                     median(kiln_t["total"]), median(py_t["alpha"]), median(py_t["fg"]), p_sum,
                     float(diff.max()), float(diff.mean())))
    print()
    print("medians in ms (kiln: %d rounds x %d warm runs; pymatting: %d rounds x %d warm runs)" %
          (a.rounds, a.kiln_repeat - 1, a.rounds, a.py_repeat))
    print("%-9s %-9s %7s | %7s %7s %7s %7s | %7s %7s %7s | %9s %9s" %
          ("case", "size", "unknown", "k_alpha", "k_fg", "k_a+fg", "k_stage", "p_alpha",
           "p_fg", "p_a+fg", "max|da|", "mean|da|"))
    for r in rows:
        print("%-9s %-9s %7d | %7.1f %7.1f %7.1f %7.1f | %7.1f %7.1f %7.1f | %9.2e %9.2e" % r)
    print("(k_stage: kiln's whole refine stage, trimap and cut-out included; |da|: alpha "
          "difference over the unknown pixels)")
    for r in rows:
        print("ratio %-9s pymatting/kiln alpha+foreground %.2fx (alpha %.2fx, foreground %.2fx, "
              "whole stage %.2fx)" % (r[0], r[9] / r[5], r[7] / r[3], r[8] / r[4], r[9] / r[6]))


if __name__ == "__main__":
    main()
