#!/usr/bin/env python3
"""Writes the bundled splat demo scene, conf/demo_splat/knot.ply: a
(2,3) torus knot of 3,000 Gaussians in the reference trainer's PLY layout
(SH degree 1: a colour that shifts with the view), seeded, so that the
file is reproducible.  Usage: make_demo_scene.py OUT.ply"""
import math
import random
import struct
import sys

SH_C0 = 0.28209479177387814


def main():
    out = sys.argv[1]
    rng = random.Random(7)
    n = 3000
    names = ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"]
    names += ["f_rest_%d" % i for i in range(9)]
    names += ["opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]
    rows = []
    for i in range(n):
        t = 2 * math.pi * i / n
        r = 2 + math.cos(3 * t)
        p = [r * math.cos(2 * t), -math.sin(3 * t), r * math.sin(2 * t)]
        p = [v + rng.gauss(0, 0.08) for v in p]
        hue = t / (2 * math.pi)
        rgb = [0.5 + 0.45 * math.cos(2 * math.pi * (hue + k / 3.0)) for k in range(3)]
        dc = [(c - 0.5) / SH_C0 for c in rgb]
        rest = [0.0] * 9
        for c in range(3):            # channel-major: f_rest_{c*3 + k}
            rest[c * 3 + 1] = 0.3 * math.sin(t + c)
        q = [rng.gauss(0, 1) for _ in range(4)]
        qn = math.sqrt(sum(v * v for v in q))
        q = [v / qn for v in q]
        s = [math.log(rng.uniform(0.03, 0.09)) for _ in range(3)]
        o = rng.uniform(0.5, 0.95)
        rows.append(p + [0.0, 0.0, 0.0] + dc + rest + [math.log(o / (1 - o))] + s + q)
    with open(out, "wb") as f:
        f.write(b"ply\nformat binary_little_endian 1.0\nelement vertex %d\n" % n)
        for name in names:
            f.write(b"property float %s\n" % name.encode())
        f.write(b"end_header\n")
        for row in rows:
            f.write(struct.pack("<%df" % len(row), *row))


if __name__ == "__main__":
    main()
