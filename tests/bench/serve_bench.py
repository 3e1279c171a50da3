"""kiln serve against one `kiln segment` process per image, interleaved.

usage: serve_bench.py KILN MODEL.onnx IMAGE [ROUNDS] [--set k=v ...]

Starts `kiln serve --port 0` with the model, waits for /readyz, then per
round times one POST /api/remove of IMAGE and one `kiln segment` process
on it (each answer is the same PNG), and prints both medians and their
ratio.  The server keeps its device open and the model resident; the
process pays device open, model load and program load every time."""
import re
import statistics
import subprocess
import sys
import time
import urllib.request

kiln, model, image = sys.argv[1:4]
rest = sys.argv[4:]
rounds = 9
if rest and not rest[0].startswith("--"):
    rounds = int(rest.pop(0))
sets = rest
data = open(image, "rb").read()
srv = subprocess.Popen([kiln, "serve", "--port", "0", "--set", "segment.model=" + model] + sets,
                       stderr=subprocess.PIPE, text=True)
port = int(re.search(r":(\d+)$", srv.stderr.readline().strip()).group(1))
url = "http://127.0.0.1:%d" % port
while True:
    try:
        if urllib.request.urlopen(url + "/readyz").status == 200:
            break
    except OSError:
        time.sleep(0.05)


def http():
    t = time.time()
    req = urllib.request.Request(url + "/api/remove", data=data, method="POST")
    out = urllib.request.urlopen(req).read()
    return (time.time() - t) * 1000, out


def process():
    t = time.time()
    cmd = [kiln, "segment", "-m", model, image, "-o", "-"] + sets
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
    return (time.time() - t) * 1000, out


served, spawned = [], []
for _ in range(rounds):
    ms, a = http()
    served.append(ms)
    ms, b = process()
    spawned.append(ms)
    if a != b:
        sys.exit("the server's PNG differs from kiln segment's")
srv.terminate()
srv.wait()
s, p = statistics.median(served), statistics.median(spawned)
print("%s: kiln serve request median %.1f ms, kiln segment process median %.1f ms, "
      "ratio %.1fx (%d rounds, interleaved)" % (image, s, p, p / s, rounds))
