#!/bin/sh
# `kiln model pull` beside the curl command line on the same local
# transfer: a random file of MB megabytes (default 100) served by
# tests/model_server.py on 127.0.0.1 (nothing leaves the machine), pulled
# RUNS times (default 5) by each side, interleaved (kiln, curl, kiln, ...)
# so that load on the machine hits both alike.  Both sides do the same
# work: kiln downloads into a .part, hashes it (MD5), fsyncs and renames;
# the curl side is `curl -o`, `md5sum` and `sync FILE`.  Prints each
# pair and the medians and their ratio.
# Usage: tests/bench/pull_bench.sh BUILD_DIR [MB] [RUNS]
set -eu
build=$(cd "${1:?usage: $0 BUILD_DIR [MB] [RUNS]}" && pwd)
mb=${2:-100}
runs=${3:-5}
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
command -v curl >/dev/null 2>&1 || { echo "pull_bench: curl not found" >&2; exit 2; }
head -c "$((mb * 1000000))" /dev/urandom >"$work/file.onnx"
md5=$(md5sum "$work/file.onnx" | cut -d' ' -f1)
/usr/bin/python3 "$src/tests/model_server.py" "$work/file.onnx" "$work/port" "$work/requests.log" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
while [ ! -s "$work/port" ]; do sleep 0.1; done
url="http://127.0.0.1:$(cat "$work/port")/ok/u2net.onnx"
export no_proxy='*' KILN_CACHE_DIR="$work/cache"

# seconds COMMAND...: runs COMMAND, prints its wall time in seconds.
seconds() {
    start=$(date +%s.%N)
    "$@" >/dev/null
    end=$(date +%s.%N)
    echo "$end - $start" | bc
}

curl_side() {
    curl -sf -o "$work/curl.onnx" "$url" && md5sum "$work/curl.onnx" && sync "$work/curl.onnx"
}

echo "kiln_s curl_s ($mb MB, $runs runs each, interleaved)"
i=0
while [ $i -lt "$runs" ]; do
    rm -rf "$work/models" "$work/curl.onnx"
    k=$(seconds "$build/kiln" model pull u2net --url "$url" --md5 "$md5" --dir "$work/models")
    c=$(seconds curl_side)
    echo "$k $c" | tee -a "$work/times"
    i=$((i + 1))
done
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mk=$(cut -d' ' -f1 "$work/times" | median)
mc=$(cut -d' ' -f2 "$work/times" | median)
echo "median kiln $mk s, curl+md5sum+sync $mc s, ratio kiln/curl $(echo "scale=2; $mk / $mc" | bc)"
