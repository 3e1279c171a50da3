#!/usr/bin/env python3
"""Writes a small COLMAP-layout training dataset around a 3DGS scene for
the training tests: DIR/cameras.json (the trainer's format, for `kiln splat
render` to draw the images into DIR/images/), DIR/sparse/0/cameras.txt,
images.txt (PINHOLE, world-to-camera quaternions) and points3D.txt (every
STEP-th mean of the scene, moved by a seeded jitter, coloured by its
degree-0 colour).  Views orbit the scene's centre at alternating heights.
Usage: make_splat_dataset.py SCENE.ply DIR VIEWS SIZE RADIUS [STEP]"""
import json
import math
import os
import random
import struct
import sys

SH_C0 = 0.28209479177387814


def read_ply(path):
    data = open(path, "rb").read()
    end = data.index(b"end_header\n") + len(b"end_header\n")
    names = []
    count = 0
    for line in data[:end].decode().splitlines():
        parts = line.split()
        if parts[:2] == ["element", "vertex"]:
            count = int(parts[2])
        elif parts[:1] == ["property"]:
            names.append(parts[2])
    n = len(names)
    rows = [struct.unpack_from("<%df" % n, data, end + 4 * n * i) for i in range(count)]
    return names, rows


def look_at(eye, centre, up):
    f = [c - e for c, e in zip(centre, eye)]
    fn = math.sqrt(sum(v * v for v in f))
    f = [v / fn for v in f]
    x = [f[1] * up[2] - f[2] * up[1], f[2] * up[0] - f[0] * up[2], f[0] * up[1] - f[1] * up[0]]
    xn = math.sqrt(sum(v * v for v in x))
    x = [v / xn for v in x]
    y = [f[1] * x[2] - f[2] * x[1], f[2] * x[0] - f[0] * x[2], f[0] * x[1] - f[1] * x[0]]
    return [x, y, f]          # rows of world-to-camera R


def quaternion(r):
    tr = r[0][0] + r[1][1] + r[2][2]
    if tr > 0:
        s = math.sqrt(tr + 1.0) * 2
        return [0.25 * s, (r[2][1] - r[1][2]) / s, (r[0][2] - r[2][0]) / s, (r[1][0] - r[0][1]) / s]
    i = max(range(3), key=lambda k: r[k][k])
    j, k = (i + 1) % 3, (i + 2) % 3
    s = math.sqrt(1.0 + r[i][i] - r[j][j] - r[k][k]) * 2
    q = [0.0] * 4
    q[0] = (r[k][j] - r[j][k]) / s
    q[1 + i] = 0.25 * s
    q[1 + j] = (r[j][i] + r[i][j]) / s
    q[1 + k] = (r[k][i] + r[i][k]) / s
    return q


def main():
    scene, out, views, size, radius = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
        int(sys.argv[4]), float(sys.argv[5])
    step = int(sys.argv[6]) if len(sys.argv) > 6 else 2
    names, rows = read_ply(scene)
    ix = [names.index(k) for k in ("x", "y", "z", "f_dc_0", "f_dc_1", "f_dc_2")]
    centre = [sum(r[ix[k]] for r in rows) / len(rows) for k in range(3)]
    os.makedirs(os.path.join(out, "sparse", "0"), exist_ok=True)
    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    f = 0.5 * size / math.tan(math.radians(30))
    cams, lines = [], []
    for v in range(views):
        az = 2 * math.pi * v / views
        el = math.radians(25 if v % 2 else -10)
        eye = [centre[0] + radius * math.cos(el) * math.cos(az),
               centre[1] - radius * math.sin(el),
               centre[2] + radius * math.cos(el) * math.sin(az)]
        r = look_at(eye, centre, [0, -1, 0])
        t = [-sum(r[i][k] * eye[k] for k in range(3)) for i in range(3)]
        name = "view_%03d.png" % v
        c2w = [[r[k][i] for k in range(3)] for i in range(3)]
        cams.append({"id": v, "img_name": "view_%03d" % v, "width": size, "height": size,
                     "position": eye, "rotation": c2w, "fx": f, "fy": f})
        q = quaternion(r)
        lines.append("%d %.17g %.17g %.17g %.17g %.17g %.17g %.17g 1 %s\n\n" %
                     (v + 1, q[0], q[1], q[2], q[3], t[0], t[1], t[2], name))
    json.dump(cams, open(os.path.join(out, "cameras.json"), "w"))
    with open(os.path.join(out, "sparse", "0", "cameras.txt"), "w") as fp:
        fp.write("1 PINHOLE %d %d %.17g %.17g %.17g %.17g\n" % (size, size, f, f, size / 2, size / 2))
    with open(os.path.join(out, "sparse", "0", "images.txt"), "w") as fp:
        fp.writelines(lines)
    rng = random.Random(3)
    with open(os.path.join(out, "sparse", "0", "points3D.txt"), "w") as fp:
        for i, r in enumerate(rows[::step]):
            col = [max(0, min(255, round((0.5 + SH_C0 * r[ix[3 + k]]) * 255))) for k in range(3)]
            p = [r[ix[k]] + rng.uniform(-0.05, 0.05) for k in range(3)]
            fp.write("%d %.9g %.9g %.9g %d %d %d 0.5\n" % (i + 1, p[0], p[1], p[2], *col))


if __name__ == "__main__":
    main()
