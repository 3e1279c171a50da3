"""Shared pieces of the `kiln serve` tests (standard library only): start a
server on 127.0.0.1 with --port 0, build rembg-style multipart bodies,
send requests, read /metrics and the server's resident memory."""
import http.client
import re
import subprocess
import threading
import time

LISTEN_RE = re.compile(r"kiln serve: listening on http://([0-9.]+):([0-9]+)")


class Server:
    """A `kiln serve` process; its stderr goes to `log_path`."""

    def __init__(self, kiln, args, log_path, ready_timeout=120.0):
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen([kiln, "serve", "--host", "127.0.0.1", "--port", "0"] + args,
                                     stdout=self.log, stderr=subprocess.PIPE, text=True)
        self.port = None
        found = threading.Event()

        def drain():
            for line in self.proc.stderr:
                self.log.write(line)
                self.log.flush()
                m = LISTEN_RE.search(line)
                if m and not found.is_set():
                    self.port = int(m.group(2))
                    found.set()
            found.set()

        self.reader = threading.Thread(target=drain, daemon=True)
        self.reader.start()
        found.wait(ready_timeout)
        if self.port is None:
            self.proc.kill()
            raise RuntimeError("kiln serve did not start; log in %s" % log_path)
        deadline = time.time() + ready_timeout
        while time.time() < deadline:
            status, _, _ = request(self.port, "GET", "/readyz")
            if status == 200:
                return
            time.sleep(0.05)
        raise RuntimeError("kiln serve never became ready; log in %s" % log_path)

    def stop(self, timeout=60.0):
        """Sends SIGTERM, waits, and returns the exit status."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.reader.join(5)
        self.log.close()
        return rc

    def rss_kib(self):
        """The server's resident set (VmRSS) in KiB."""
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS")


def multipart(fields, files, boundary="----kilnTestBoundary7MA4YWxkTrZu0gW"):
    """A multipart/form-data body as a browser or requests sends it.
    fields: [(name, value)], files: [(name, filename, content_type, bytes)].
    Returns (content_type_header, body)."""
    out = []
    for name, value in fields:
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                    % (boundary, name, value)).encode())
    for name, filename, ctype, data in files:
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                    "Content-Type: %s\r\n\r\n" % (boundary, name, filename, ctype)).encode())
        out.append(data)
        out.append(b"\r\n")
    out.append(("--%s--\r\n" % boundary).encode())
    return "multipart/form-data; boundary=%s" % boundary, b"".join(out)


def request(port, method, path, body=None, headers=None, timeout=60.0):
    """One request on a fresh connection.  Returns (status, headers dict
    with lower-case names, body bytes), or (None, {}, b"") when the
    connection failed."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    except (OSError, http.client.HTTPException):
        return None, {}, b""
    finally:
        conn.close()


def metrics(port):
    """GET /metrics parsed as Prometheus text (parse_prometheus).  Raises
    ValueError when it does not answer 200 text/plain or a line is bad."""
    status, headers, body = request(port, "GET", "/metrics")
    if status != 200:
        raise ValueError("/metrics answered %s" % status)
    if not headers.get("content-type", "").startswith("text/plain"):
        raise ValueError("/metrics content type %r" % headers.get("content-type"))
    return parse_prometheus(body.decode())


def parse_prometheus(text):
    """{(name, ((label, value), ...)): value} of a Prometheus text
    exposition; raises ValueError on a malformed line."""
    samples = {}
    sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$')
    label = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)')
    for line in text.splitlines():
        if not line or line.startswith("# HELP ") or line.startswith("# TYPE "):
            continue
        m = sample.match(line)
        if not m:
            raise ValueError("bad line %r" % line)
        labels, rest = [], m.group(3) or ""
        while rest:
            lm = label.match(rest)
            if not lm:
                raise ValueError("bad labels %r" % line)
            labels.append((lm.group(1), lm.group(2)))
            rest = rest[lm.end():]
        samples[(m.group(1), tuple(labels))] = float(m.group(4))
    return samples


def metric_sum(samples, name_part):
    """Sum of the samples (parse_prometheus) whose name contains
    name_part, over all their labels."""
    values = [v for (name, _), v in samples.items() if name_part in name]
    if not values:
        raise KeyError("no metric like %r" % name_part)
    return sum(values)
