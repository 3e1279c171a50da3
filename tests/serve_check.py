"""Checks `kiln serve` end to end (run by tests/cli_serve.sh, standard
library only, 127.0.0.1 only).

usage: serve_check.py KILN DIR

DIR holds mini.onnx (tests/make_model mini_unet), small.png (61x47),
wide.png (80x60), slow.png (320x240) and the reference outputs of
`kiln segment` on small.png: ref_cut.png, ref_mask.png, ref_alpha.png
(refine on), ref_bgc.png (composite #ff0000), ref_green.png (composite
#00ff00), and ref_jpeg.png (photo.jpg cut out).  Each server is started
with --port 0 and found through its startup line.  Prints the failures and "N checks, M failed"; exits 1 on
any failure."""
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serve_lib  # noqa: E402

KILN, DIR = sys.argv[1], sys.argv[2]
checks = 0
failures = 0


def ok(what, cond):
    global checks, failures
    checks += 1
    if not cond:
        failures += 1
        print("FAILED: " + what, file=sys.stderr)


def read(name):
    with open(os.path.join(DIR, name), "rb") as f:
        return f.read()


class Server:
    """A `kiln serve` child on 127.0.0.1, --port 0."""

    def __init__(self, *sets):
        args = [KILN, "serve", "--host", "127.0.0.1", "--port", "0",
                "--set", "segment.model=" + os.path.join(DIR, "mini.onnx"),
                "--set", "segment.input_size=8"]
        for s in sets:
            args += ["--set", s]
        self.proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
        self.lines = []
        line = self.proc.stderr.readline()
        self.lines.append(line)
        m = re.match(r"kiln serve: listening on http://127\.0\.0\.1:(\d+)$", line.strip())
        if not m:
            raise SystemExit("no startup line: %r %s" % (line, self.proc.stderr.read()))
        self.port = int(m.group(1))
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()
        deadline = time.time() + 60
        while time.time() < deadline and self.get("/readyz")[0] != 200:
            time.sleep(0.05)

    def _drain(self):
        for line in self.proc.stderr:
            self.lines.append(line)

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def request(self, method, path, body=None, headers=None):
        """(status, headers, body) of one request."""
        req = urllib.request.Request(self.url(path), data=body, method=method,
                                     headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def get(self, path):
        return self.request("GET", path)

    def stop(self, signalled=False):
        """SIGTERM (unless sent already), then the exit status and the
        whole stderr."""
        if not signalled:
            self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=120)
        self.reader.join(timeout=10)
        return rc, "".join(self.lines)


def multipart(fields, file_bytes, filename="image.png"):
    """The body rembg's README sends (`curl -F file=@image.png`): a form
    with the part `file`, plus rembg's fields.  Returns (body, headers)."""
    ctype, body = serve_lib.multipart(list(fields.items()),
                                      [("file", filename, "image/png", file_bytes)])
    return body, {"Content-Type": ctype}


def remove(srv, fields, image):
    body, headers = multipart(fields, image)
    return srv.request("POST", "/api/remove", body, headers)


parse_prometheus = serve_lib.parse_prometheus


small = read("small.png")
slow = read("slow.png")

# ---- server A: the endpoints, the mapping of rembg's fields, the errors
srv = Server("job.max_pixels=4000", "serve.max_body=200K",
             "serve.access_log=" + os.path.join(DIR, "access.log"))
ok("/healthz answers 200", srv.get("/healthz")[0] == 200)
ok("/readyz answers 200 once ready", srv.get("/readyz")[0] == 200)
st, hd, out = remove(srv, {}, small)
ok("rembg multipart: 200 image/png (%d %s)" % (st, out[:80]),
   st == 200 and hd["Content-Type"] == "image/png")
ok("rembg multipart: the same PNG as kiln segment", out == read("ref_cut.png"))
st, _, out = remove(srv, {"om": "true"}, small)
ok("om=true: the same PNG as kiln segment --mask (%d)" % st, out == read("ref_mask.png"))
st, _, out = remove(srv, {"a": "true", "af": "240", "ab": "10", "ae": "10"}, small)
ok("a=true: the same PNG as kiln segment with [refine] (%d)" % st, out == read("ref_alpha.png"))
body, headers = multipart({}, small)
st, _, out = srv.request("POST", "/api/remove?bgc=255,0,0,255", body, headers)
ok("bgc=255,0,0,255: the same PNG as composite over #ff0000 (%d)" % st,
   out == read("ref_bgc.png"))
st, _, out = srv.request("POST", "/api/remove?om=1", small, {"Content-Type": "image/png"})
ok("raw body with query fields: the mask (%d)" % st, out == read("ref_mask.png"))
st, _, out = srv.request("POST", "/v1/run?stages=segment,composite&composite.colour=%2300ff00",
                         small, {"Content-Type": "image/png"})
ok("/v1/run stages and keys: the same PNG as kiln segment (%d %s)" % (st, out[:100]),
   out == read("ref_green.png"))
st, _, out = srv.request("POST", "/v1/run", small)
ok("/v1/run without keys: the cut-out (%d)" % st, out == read("ref_cut.png"))
body, headers = multipart({}, read("photo.jpg"), "photo.jpg")
st, _, out = srv.request("POST", "/api/remove", body, headers)
ok("a JPEG upload: the same PNG as kiln segment on the file (%d)" % st,
   out == read("ref_jpeg.png"))

st, hd, out = remove(srv, {"af": "abc"}, small)
ok("af=abc: 400 naming af (%d %s)" % (st, out), st == 400 and out.startswith(b"af:"))
st, _, out = remove(srv, {"model": "nosuch"}, small)
ok("unknown model: 400 naming model (%d %s)" % (st, out),
   st == 400 and b"model" in out and b"nosuch" in out)
st, _, out = remove(srv, {"bgc": "1,2"}, small)
ok("bad bgc: 400 naming bgc (%d %s)" % (st, out), st == 400 and out.startswith(b"bgc:"))
st, _, out = remove(srv, {"colour": "red"}, small)
ok("unknown field: 400 naming it (%d %s)" % (st, out), st == 400 and b"colour" in out)
st, _, out = srv.request("POST", "/v1/run?segment.bogus=1", small)
ok("/v1/run unknown key: 400 naming it (%d %s)" % (st, out), st == 400 and b"bogus" in out)
st, _, out = srv.request("POST", "/v1/run?refine.erode_size=abc", small)
ok("/v1/run bad value: 400 naming the key (%d %s)" % (st, out),
   st == 400 and b"erode_size" in out)
st, _, out = srv.request("POST", "/v1/run?device.select=cpu", small)
ok("/v1/run server key: 400 (%d %s)" % (st, out), st == 400 and b"device.select" in out)
st, _, out = srv.request("POST", "/v1/run?stages=refine", small)
ok("/v1/run refine without segment: 400 (%d %s)" % (st, out), st == 400 and b"stages" in out)
st, _, out = srv.request("POST", "/v1/run", b"not an image at all")
ok("not an image: 422 (%d %s)" % (st, out), st == 422 and b"not a PNG or JPEG" in out)
st, _, out = remove(srv, {}, read("wide.png"), )
ok("over max_pixels: 413 with the batch runner's message (%d %s)" % (st, out),
   st == 413 and b"more than the limit of 4000 (max_pixels)" in out)
st, _, out = srv.request("POST", "/v1/run", os.urandom(300 * 1024))
ok("body over max_body: 413 (%d %s)" % (st, out), st == 413 and b"max_body" in out)
body, headers = multipart({"model": "u2netp"}, b"")
body = body.replace(b'name="file"', b'name="picture"')
st, _, out = srv.request("POST", "/api/remove", body, headers)
ok("multipart without file: 400 (%d %s)" % (st, out), st == 400)
st, _, out = srv.request("POST", "/api/remove", b"--x\r\nbroken", {
    "Content-Type": "multipart/form-data; boundary=zzz"})
ok("malformed multipart: 400 (%d %s)" % (st, out), st == 400)
ok("unknown path: 404", srv.get("/nowhere")[0] == 404)
ok("GET /api/remove: 405", srv.get("/api/remove")[0] == 405)

st, hd, text = srv.get("/metrics")
ok("/metrics: 200 text/plain", st == 200 and hd["Content-Type"].startswith("text/plain"))
try:
    m = parse_prometheus(text.decode())
except ValueError as e:
    m = {}
    ok("/metrics parses: %s" % e, False)
code = lambda c: m.get(("kiln_serve_requests_total", (("code", str(c)),)), 0)
ok("/metrics counts the 200s (%g)" % code(200), code(200) >= 10)
ok("/metrics counts the 400s (%g)" % code(400), code(400) >= 8)
ok("/metrics counts the 413s (%g)" % code(413), code(413) == 2)
ok("/metrics counts the 422 (%g)" % code(422), code(422) == 1)
count = m.get(("kiln_serve_request_duration_seconds_count", ()), -1)
inf = m.get(("kiln_serve_request_duration_seconds_bucket", (("le", "+Inf"),)), -2)
ok("histogram: +Inf bucket equals the count (%g, %g)" % (inf, count), inf == count and count > 20)
ok("queue depth gauge", ("kiln_serve_queue_depth", ()) in m)
ok("pool gauges per device", m.get(("kiln_pool_peak_bytes", (("device", "0"),)), 0) > 0)
ok("pool creations counter", m.get(("kiln_pool_buffer_creations_total", (("device", "0"),)), 0) > 0)
ok("RSS gauge", m.get(("kiln_process_resident_bytes", ()), 0) > 0)
rc, err = srv.stop()
ok("server A: SIGTERM exits 0 (%d): %s" % (rc, err), rc == 0 and "device pools clean" in err)
with open(os.path.join(DIR, "access.log")) as f:
    log = f.read().splitlines()
ok("access log: one JSON line a request (%d)" % len(log),
   len(log) == count + 1 and all(l.startswith('{"time":"') and '"queue_ms":' in l for l in log))

# ---- server B: queue of 2: a full queue is 503 with Retry-After; then
# the SIGTERM drain finishes the requests in flight
srv = Server("serve.queue=2", "refine.enabled=yes")
results = []
lock = threading.Lock()


def slow_request():
    r = srv.request("POST", "/v1/run", slow)
    with lock:
        results.append(r)


threads = [threading.Thread(target=slow_request) for _ in range(5)]
for t in threads:
    t.start()
for t in threads:
    t.join()
codes = sorted(r[0] for r in results)
busy = [r for r in results if r[0] == 503]
ok("queue=2, 5 at once: 3 served, 2 answered 503 (%s)" % codes, codes == [200, 200, 200, 503, 503])
ok("503 carries Retry-After", busy and all(r[1]["Retry-After"] for r in busy))
results.clear()
# a client that goes away while queued: its request is dropped; one that
# goes away while its request runs: the result is discarded (both 499)
body, headers = multipart({}, slow)
head = ("POST /api/remove HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
        % (headers["Content-Type"], len(body))).encode()


def metric(name):
    return parse_prometheus(srv.get("/metrics")[2].decode()).get(name, 0)


def wait_metric(name, value):
    deadline = time.time() + 30
    while time.time() < deadline and metric(name) != value:
        time.sleep(0.005)
    return metric(name) == value


gone = ("kiln_serve_requests_total", (("code", "499"),))
threads = [threading.Thread(target=slow_request) for _ in range(2)]
for t in threads:
    t.start()
ok("two slow requests: one runs, one waits",
   wait_metric(("kiln_serve_running", ()), 1) and wait_metric(("kiln_serve_queue_depth", ()), 1))
s = socket.create_connection(("127.0.0.1", srv.port))
s.sendall(head + body)
ok("a third one waits", wait_metric(("kiln_serve_queue_depth", ()), 2))
s.close()
ok("its client gone, it leaves the queue (499)", wait_metric(gone, 1))
for t in threads:
    t.join()
ok("the two others complete (%s)" % [r[0] for r in results], [r[0] for r in results] == [200, 200])
s = socket.create_connection(("127.0.0.1", srv.port))
s.sendall(head + body)
ok("a request runs", wait_metric(("kiln_serve_running", ()), 1))
s.close()
ok("its client gone while it runs, its result is discarded (499)", wait_metric(gone, 2))
ok("and the worker is free again", wait_metric(("kiln_serve_running", ()), 0))
results.clear()
threads = [threading.Thread(target=slow_request) for _ in range(2)]
for t in threads:
    t.start()
time.sleep(0.1)
srv.proc.send_signal(signal.SIGTERM)
for t in threads:
    t.join()
rc, err = srv.stop(signalled=True)
ok("drain: the requests in flight complete with 200 (%s)" % [r[0] for r in results],
   [r[0] for r in results] == [200, 200])
ok("drain: exit 0, ledger clean (%d): %s" % (rc, err),
   rc == 0 and "device pools clean" in err and "SIGTERM: draining" in err)

print("%d checks, %d failed" % (checks, failures))
sys.exit(1 if failures else 0)
