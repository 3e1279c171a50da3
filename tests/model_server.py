#!/usr/bin/python3
"""A local HTTP server for the `kiln model pull` tests; nothing leaves the machine.

usage: model_server.py FILE PORT_FILE LOG_FILE

Serves the bytes of FILE on 127.0.0.1 (a free port, written to PORT_FILE
once it listens) under any path ending in ".onnx", by the path's first
part:
  /ok/...       the file, honouring "Range: bytes=N-" (206 + Content-Range)
  /cut/...      a request without Range gets the full Content-Length but
                only the first half of the bytes, then the connection is
                closed; a request with Range is served as /ok
  /norange/...  the whole file (200) whatever the Range says
  /slow/...     the first half, then nothing for 30 s (a hung transfer)
  anything else 404
Each request appends a line "METHOD PATH RANGE" to LOG_FILE (RANGE is
"-" without a Range header).
"""
import http.server
import os
import re
import sys
import time


def main():
    data_path, port_file, log_path = sys.argv[1:4]
    with open(data_path, "rb") as f:
        data = f.read()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def record(self):
            with open(log_path, "a") as log:
                log.write("%s %s %s\n" % (self.command, self.path,
                                          self.headers.get("Range", "-")))

        def send_bytes(self, status, body, length, extra=()):
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(length))
            self.send_header("Accept-Ranges", "bytes")
            for key, value in extra:
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()

        def serve_range(self):
            m = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
            if not m:
                self.send_bytes(200, data, len(data))
                return
            start = int(m.group(1))
            if start >= len(data):
                self.send_bytes(416, b"", 0, [("Content-Range", "bytes */%d" % len(data))])
                return
            self.send_bytes(206, data[start:], len(data) - start,
                            [("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))])

        def do_GET(self):
            self.record()
            parts = self.path.split("/")
            kind = parts[1] if len(parts) > 2 and self.path.endswith(".onnx") else ""
            half = len(data) // 2
            if kind == "ok" or (kind == "cut" and "Range" in self.headers):
                self.serve_range()
            elif kind == "cut":
                self.send_bytes(200, data[:half], len(data))
                self.close_connection = True
            elif kind == "norange":
                self.send_bytes(200, data, len(data))
            elif kind == "slow":
                self.send_bytes(200, data[:half], len(data))
                time.sleep(30)
                self.close_connection = True
            else:
                body = b"no such file\n"
                self.send_bytes(404, body, len(body))

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):
            pass    # a client that hangs up early (Ctrl-C, a cut) is expected

    server = Server(("127.0.0.1", 0), Handler)
    with open(port_file + ".tmp", "w") as f:
        f.write("%d\n" % server.server_address[1])

    os.rename(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
