"""Load on `kiln serve`: REQUESTS rembg-style requests at CONCURRENCY
against one worker.  Checks that no request fails (a 503 counts as
intended only with Retry-After, and is retried after it), that the device
pool's peak and its buffer creations stop growing after the first WARM
requests, and that the server's RSS grows by less than 2 MiB over the
last (REQUESTS - TAIL_FROM) requests.  Prints latency p50/p99 and the
memory figures.

usage: serve_load.py KILN MODEL IMAGE WORKDIR [REQUESTS] [CONCURRENCY]"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serve_lib  # noqa: E402

WARM = 50          # pool figures are frozen after this many requests
TAIL_FROM = 100    # RSS is followed from here to the end
RSS_LIMIT_KIB = 2048


def main():
    kiln, model, image, work = sys.argv[1:5]
    total = int(sys.argv[5]) if len(sys.argv) > 5 else 1000
    concurrency = int(sys.argv[6]) if len(sys.argv) > 6 else 8
    with open(image, "rb") as f:
        png = f.read()
    ctype, body = serve_lib.multipart([], [("file", "image.png", "image/png", png)])
    server = serve_lib.Server(kiln, ["--set", "segment.model=" + model,
                                     "--set", "segment.input_size=8",
                                     "--set", "serve.queue=16",
                                     "--set", "serve.access_log="],
                              os.path.join(work, "serve_load.log"))
    lock = threading.Lock()
    state = {"next": 0, "done": 0, "failed": [], "busy": 0, "lat": []}
    marks = {}
    mark_done = {WARM: threading.Event(), TAIL_FROM: threading.Event()}

    def take_marks(done):
        # called with the lock released, once per mark, by the thread that
        # completed that many requests
        if done == WARM:
            m = serve_lib.metrics(server.port)
            marks["peak_warm"] = serve_lib.metric_sum(m, "pool_peak")
            marks["created_warm"] = serve_lib.metric_sum(m, "creat")
            mark_done[WARM].set()
        if done == TAIL_FROM:
            marks["rss_tail"] = server.rss_kib()
            mark_done[TAIL_FROM].set()

    def worker():
        while True:
            with lock:
                if state["next"] >= total:
                    return
                state["next"] += 1
            t0 = time.monotonic()
            while True:
                status, headers, data = serve_lib.request(
                    server.port, "POST", "/api/remove", body,
                    {"Content-Type": ctype}, timeout=120)
                if status == 503 and "retry-after" in headers:
                    with lock:
                        state["busy"] += 1
                    time.sleep(min(float(headers["retry-after"]), 0.05))
                    continue
                break
            ms = (time.monotonic() - t0) * 1000.0
            ok = status == 200 and data.startswith(b"\x89PNG\r\n\x1a\n")
            with lock:
                state["done"] += 1
                done = state["done"]
                state["lat"].append(ms)
                if not ok:
                    state["failed"].append((status, data[:200]))
            if done in mark_done:
                take_marks(done)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    for ev in mark_done.values():
        ev.wait(30)
    end = serve_lib.metrics(server.port)
    rss_end = server.rss_kib()
    peak_end = serve_lib.metric_sum(end, "pool_peak")
    created_end = serve_lib.metric_sum(end, "creat")
    rc = server.stop()

    lat = sorted(state["lat"])
    p50 = lat[len(lat) // 2]
    p99 = lat[min(len(lat) - 1, (len(lat) * 99) // 100)]
    print("requests %d at concurrency %d: %.1f s, %.1f req/s, latency p50 %.1f ms, p99 %.1f ms, "
          "503 retried %d" % (total, concurrency, wall, total / wall, p50, p99, state["busy"]))
    print("device pool peak: %d B after %d requests, %d B at the end; buffer creations %d -> %d"
          % (marks["peak_warm"], WARM, peak_end, marks["created_warm"], created_end))
    print("server RSS: %d KiB after %d requests, %d KiB at the end (growth %+d KiB over the "
          "last %d)" % (marks["rss_tail"], TAIL_FROM, rss_end, rss_end - marks["rss_tail"],
                        total - TAIL_FROM))
    failures = []
    if state["failed"]:
        failures.append("%d requests failed, first: %r" % (len(state["failed"]),
                                                          state["failed"][0]))
    if len(lat) != total:
        failures.append("%d of %d requests answered" % (len(lat), total))
    if peak_end != marks["peak_warm"]:
        failures.append("device pool peak grew after %d requests" % WARM)
    if created_end != marks["created_warm"]:
        failures.append("device buffers were created after %d requests" % WARM)
    if rss_end - marks["rss_tail"] >= RSS_LIMIT_KIB:
        failures.append("RSS grew by %d KiB" % (rss_end - marks["rss_tail"]))
    if rc != 0:
        failures.append("server exited %d (log %s)" % (rc, server.log_path))
    for f in failures:
        print("FAILED: " + f)
    print("%d checks, %d failed" % (6, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
