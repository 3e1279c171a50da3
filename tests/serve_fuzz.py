"""Bad requests against `kiln serve`, generated from a fixed seed:
malformed multipart bodies, truncated uploads, wrong content types, huge
headers, garbage request lines and slow (slowloris-style) bodies bounded
by the request deadline.  Every answer must be a proper HTTP status line
(a 4xx, 503, 504 or 505, a 200 from the small GET routes; never a 500,
and never a 200 for an image request that is not a PNG), the
server must stay up and answer a good request afterwards, and it must
exit 0 on SIGTERM (its device pool ledger checked).  The sanitizer build
runs this too, so a crash or a leak in the server fails it.

usage: serve_fuzz.py KILN MODEL IMAGE WORKDIR [CASES]"""
import os
import random
import re
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serve_lib  # noqa: E402

STATUS_RE = re.compile(rb"^HTTP/1\.[01] ([0-9]{3}) ")
DEADLINE_S = 1          # serve.timeout for this server
SLOW_BOUND_S = DEADLINE_S + 8


def raw_exchange(port, data, timeout=10.0, shut=False):
    """Sends bytes on a fresh connection, half-closes it when `shut` (the
    server then takes the client as gone once the request is whole), reads
    until the server closes or `timeout`.  Returns the bytes read."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        try:
            s.sendall(data)
            if shut:
                s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        chunks = []
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                b = s.recv(65536)
            except socket.timeout:
                break
            except OSError:
                break
            if not b:
                break
            chunks.append(b)
        return b"".join(chunks)
    finally:
        s.close()


def http_request(method, path, headers, body):
    """The bytes of an HTTP/1.1 request (Connection: close)."""
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1", "Connection: close"]
    lines += ["%s: %s" % kv for kv in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Verdicts:
    """Counts answers and collects the improper ones."""

    def __init__(self):
        self.count = 0
        self.by_status = {}
        self.bad = []

    def check(self, what, reply, allow_silence=False, image=True):
        """Counts one answer; `image`: a 200 must carry a PNG."""
        self.count += 1
        m = STATUS_RE.match(reply)
        if not m:
            if allow_silence and not reply:
                self.by_status["closed"] = self.by_status.get("closed", 0) + 1
                return
            self.bad.append("%s: not an HTTP status line: %r" % (what, reply[:80]))
            return
        code = int(m.group(1))
        self.by_status[code] = self.by_status.get(code, 0) + 1
        if code == 200 and image:
            head, _, payload = reply.partition(b"\r\n\r\n")
            if not payload.startswith(b"\x89PNG\r\n\x1a\n"):
                self.bad.append("%s: 200 without a PNG" % what)
        elif not (200 <= code < 300 or 400 <= code < 500 or code in (503, 504, 505)):
            self.bad.append("%s: status %d" % (what, code))


def mutate_multipart(rng, png):
    """One malformed (or borderline) multipart request: (headers, body)."""
    boundary = "----kilnFuzz%08x" % rng.getrandbits(32)
    ctype, body = serve_lib.multipart([("model", "u2netp")] if rng.random() < 0.3 else [],
                                      [("file", "x.png", "image/png", png)], boundary)
    kind = rng.randrange(12)
    if kind == 0:      # truncated body, Content-Length matching the truncation
        body = body[:rng.randrange(len(body))]
    elif kind == 1:    # flipped bytes anywhere
        b = bytearray(body)
        for _ in range(rng.randrange(1, 20)):
            i = rng.randrange(len(b))
            b[i] = rng.randrange(256)
        body = bytes(b)
    elif kind == 2:    # boundary in the header differs from the body's
        ctype = "multipart/form-data; boundary=other%d" % rng.randrange(1000)
    elif kind == 3:    # no boundary parameter
        ctype = "multipart/form-data"
    elif kind == 4:    # no closing boundary
        body = body[:body.rfind(b"--" + boundary.encode())]
    elif kind == 5:    # the file is not an image
        ctype, body = serve_lib.multipart([], [("file", "x.png", "image/png",
                                                bytes(rng.getrandbits(8) for _ in range(
                                                    rng.randrange(0, 3000))))], boundary)
    elif kind == 6:    # a truncated PNG
        ctype, body = serve_lib.multipart([], [("file", "x.png", "image/png",
                                                png[:rng.randrange(len(png))])], boundary)
    elif kind == 7:    # no file field at all, or an empty one
        ctype, body = serve_lib.multipart([("model", "u2netp"), ("om", "true")],
                                          [("file", "e.png", "image/png", b"")]
                                          if rng.random() < 0.5 else [], boundary)
    elif kind == 8:    # bad field values
        name = rng.choice(["model", "a", "af", "ab", "ae", "om", "ppm", "bgc"])
        value = rng.choice(["", "abc", "-1", "99999999999999999999", "1e309", "nan", "%00",
                            "255,255", "x" * 5000, "256,0,0,0", "true;false"])
        ctype, body = serve_lib.multipart([(name, value)], [("file", "x.png", "image/png", png)],
                                          boundary)
    elif kind == 9:    # a huge part header
        body = body.replace(b"Content-Disposition", b"X-" + b"a" * rng.randrange(1000, 200000)
                            + b": b\r\nContent-Disposition", 1)
    elif kind == 10:   # many tiny parts
        fields = [("f%d" % i, "v") for i in range(rng.randrange(100, 3000))]
        ctype, body = serve_lib.multipart(fields, [("file", "x.png", "image/png", png)], boundary)
    else:              # random garbage body with a multipart content type
        body = bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 5000)))
    return [("Content-Type", ctype), ("Content-Length", str(len(body)))], body


def main():
    kiln, model, image, work = sys.argv[1:5]
    cases = int(sys.argv[5]) if len(sys.argv) > 5 else 420
    rng = random.Random(20261203)
    with open(image, "rb") as f:
        png = f.read()
    server = serve_lib.Server(kiln, ["--set", "segment.model=" + model,
                                     "--set", "segment.input_size=8",
                                     "--set", "serve.timeout=%d" % DEADLINE_S,
                                     "--set", "serve.max_body=1000000",
                                     "--set", "serve.access_log="],
                              os.path.join(work, "serve_fuzz.log"))
    port = server.port
    v = Verdicts()

    # malformed multipart bodies on /api/remove and /v1/run
    for i in range(cases):
        headers, body = mutate_multipart(rng, png)
        path = "/api/remove" if i % 3 else "/v1/run?stages=segment"
        v.check("multipart #%d" % i, raw_exchange(port, http_request("POST", path, headers, body)))

    # truncated uploads: Content-Length promises more than is sent (the
    # server may wait for the rest until the deadline)
    for i in range(30):
        _, body = serve_lib.multipart([], [("file", "x.png", "image/png", png)], "b%d" % i)
        cut = body[:rng.randrange(len(body))]
        req = http_request("POST", "/api/remove",
                           [("Content-Type", "multipart/form-data; boundary=b%d" % i),
                            ("Content-Length", str(len(body)))], cut)
        v.check("truncated #%d" % i, raw_exchange(port, req, shut=True), allow_silence=True)

    # wrong content types
    ctypes = ["text/plain", "application/json", "image/png", "application/x-www-form-urlencoded",
              "multipart/mixed; boundary=x", "", "multipart/form-data; boundary=",
              "multipart/form-data; boundary=\"" + "q" * 300 + "\"", "\x01\x02"]
    for i in range(60):
        ct = rng.choice(ctypes)
        _, body = serve_lib.multipart([], [("file", "x.png", "image/png", png)])
        if rng.random() < 0.5:
            body = png
        hdrs = [("Content-Length", str(len(body)))] + ([("Content-Type", ct)] if ct else [])
        path = rng.choice(["/api/remove", "/api/remove?om=true", "/v1/run?stages=segment",
                           "/v1/run?stages=bogus", "/v1/run?segment.nokey=1"])
        v.check("content type %r" % ct, raw_exchange(port, http_request("POST", path, hdrs, body)))

    # huge headers and header floods
    for i in range(20):
        if i % 2:
            hdrs = [("X-Big", "h" * rng.randrange(10000, 300000))]
        else:
            hdrs = [("X-H%d" % k, "v" * 50) for k in range(rng.randrange(200, 3000))]
        req = http_request("GET", "/healthz", hdrs, b"")
        v.check("huge headers #%d" % i, raw_exchange(port, req), allow_silence=True, image=False)

    # garbage request lines, bad methods, bad chunked bodies, odd paths
    garbage = [b"GARBAGE\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
               b"POST /api/remove HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
               b"POST /api/remove HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
               b"POST /api/remove HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
               b"DELETE /api/remove HTTP/1.1\r\nHost: x\r\n\r\n",
               b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
               b"GET /metrics?" + b"a=" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"]
    for i in range(40):
        data = garbage[i % len(garbage)] if i < len(garbage) * 2 else \
            bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 400))) + b"\r\n\r\n"
        v.check("garbage #%d" % i, raw_exchange(port, data, timeout=SLOW_BOUND_S),
                allow_silence=True, image=False)

    # a body larger than max_body is refused without reading it all
    big = b"x" * 2000000
    req = http_request("POST", "/api/remove?om=true", [("Content-Type", "image/png"),
                                                      ("Content-Length", str(len(big)))], big)
    reply = raw_exchange(port, req)
    v.check("over max_body", reply)
    if not reply.startswith(b"HTTP/1.1 413"):
        v.bad.append("over max_body: %r" % reply[:40])

    # slowloris: bodies trickled in must not hold a connection past the
    # deadline, and must not stop a good request from being served
    slow_results = []

    def slow_client(k):
        s = socket.create_connection(("127.0.0.1", port), timeout=SLOW_BOUND_S + 5)
        t0 = time.monotonic()
        closed_at = None
        try:
            s.sendall(http_request("POST", "/api/remove",
                                   [("Content-Type", "image/png"), ("Content-Length", "100000")],
                                   b""))
            for _ in range(int(SLOW_BOUND_S * 4) + 8):
                s.sendall(b"x")
                time.sleep(0.25)
        except OSError:
            closed_at = time.monotonic() - t0
        finally:
            s.close()
        slow_results.append(closed_at)

    slow = [threading.Thread(target=slow_client, args=(k,)) for k in range(6)]
    for t in slow:
        t.start()
    time.sleep(0.5)
    ctype, body = serve_lib.multipart([], [("file", "x.png", "image/png", png)])
    status, _, data = serve_lib.request(port, "POST", "/api/remove", body,
                                        {"Content-Type": ctype}, timeout=30)
    if status != 200 or not data.startswith(b"\x89PNG"):
        v.bad.append("a good request during the slow clients got %s" % status)
    for t in slow:
        t.join()
    for k, closed_at in enumerate(slow_results):
        if closed_at is None:
            v.bad.append("slow client %d was still connected after %d s" % (k, SLOW_BOUND_S))

    # still alive, still right
    status, _, _ = serve_lib.request(port, "GET", "/healthz")
    if status != 200:
        v.bad.append("/healthz after the fuzzing: %s" % status)
    status, _, data = serve_lib.request(port, "POST", "/api/remove", body,
                                        {"Content-Type": ctype}, timeout=30)
    if status != 200 or not data.startswith(b"\x89PNG"):
        v.bad.append("a good request after the fuzzing got %s" % status)
    rc = server.stop()
    if rc != 0:
        v.bad.append("server exited %d after SIGTERM (log %s)" % (rc, server.log_path))

    print("%d bad requests; answers: %s" % (v.count, ", ".join(
        "%s x%d" % (k, n) for k, n in sorted(v.by_status.items(), key=lambda kv: str(kv[0])))))
    print("slow clients closed after: %s s" % ", ".join(
        "%.1f" % c if c is not None else "never" for c in slow_results))
    for b in v.bad[:20]:
        print("FAILED: " + b)
    print("%d checks, %d failed" % (v.count + len(slow_results) + 3, len(v.bad)))
    return 1 if v.bad else 0


if __name__ == "__main__":
    sys.exit(main())
