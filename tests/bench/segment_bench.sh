#!/bin/sh
# Segmentation benchmark: kiln beside onnxruntime (CPU execution provider,
# through onnxruntime-node) on the same full-width model file and the same
# input shape: U^2-Net-p at 320x320 and IS-Net at 1024x1024.
# Usage: tests/bench/segment_bench.sh BUILD_DIR
# Prints each side's raw line, then a table: median latency of both, the
# ratio kiln / ort (the bar: at most 3x) and each process's peak RSS.
#
# Both sides are warm: one untimed first run (kiln's includes compiling
# its programs unless cached), then the median of REPEAT runs in the same
# process.  Inputs are pseudo-random; the two sides do not compare
# outputs, only time and memory.  ort's RSS includes Node itself and the
# onnxruntime library (about 80 MiB before the first run).
#
# Environment:
#   SEG_BENCH_CASES       cases to run (default "u2netp isnet")
#   SEG_BENCH_REPEAT_U2NETP, SEG_BENCH_REPEAT_ISNET
#                         timed runs per side (default 10 and 3)
#   SEG_BENCH_THREADS     onnxruntime intra-op threads (default: nproc)
#   SEG_BENCH_NPM_DIR     scratch npm directory for onnxruntime-node, outside
#                         the repository (default ~/.cache/kiln-bench/ort-node)
#   SEG_BENCH_ORT_PKG     npm package spec (default onnxruntime-node@1.30.0)
# The npm directory and the exported models (BUILD_DIR/bench-models/) are
# reused on later runs (a model is exported again when tests/models/*.py
# is newer than it); delete them to start over.
set -eu
build=$(cd "${1:?usage: segment_bench.sh BUILD_DIR}" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
kiln=$build/kiln
models=$build/bench-models
work=$build/tests/tmp/segment_bench
rm -rf "$work"; mkdir -p "$work" "$models"
export KILN_CACHE_DIR="${KILN_CACHE_DIR:-$build/tests/cache/kiln}"
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-$build/tests/cache/pocl}"
mkdir -p "$KILN_CACHE_DIR" "$POCL_CACHE_DIR"
cases=${SEG_BENCH_CASES:-u2netp isnet}
threads=${SEG_BENCH_THREADS:-$(nproc)}
npm_dir=${SEG_BENCH_NPM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kiln-bench/ort-node}
ort_pkg=${SEG_BENCH_ORT_PKG:-onnxruntime-node@1.30.0}

die() { echo "segment_bench: $*" >&2; exit 2; }

[ -x "$kiln" ] || die "no kiln binary at $kiln (build first)"

# onnxruntime-node in the scratch npm directory (installed once)
command -v node >/dev/null 2>&1 || die "node not found: install Node.js (18 or later) to run the onnxruntime side"
command -v npm >/dev/null 2>&1 || die "npm not found: install npm to fetch onnxruntime-node"
case "$npm_dir" in
    "$src"|"$src"/*) die "SEG_BENCH_NPM_DIR=$npm_dir is inside the repository; pick a directory outside it" ;;
esac
export NODE_PATH="$npm_dir/node_modules"
ort_ok() { node -e "require('onnxruntime-node')" >/dev/null 2>&1; }
if ! ort_ok; then
    echo "installing $ort_pkg into $npm_dir ..."
    mkdir -p "$npm_dir" || die "cannot create $npm_dir"
    # --ignore-scripts: the package carries a CPU build; its install script
    # would only download CUDA libraries.
    if ! (cd "$npm_dir" && npm install --no-audit --no-fund --ignore-scripts "$ort_pkg") >"$work/npm.log" 2>&1; then
        sed 's/^/    /' "$work/npm.log" >&2
        die "npm install $ort_pkg failed in $npm_dir (offline? no registry?); see above"
    fi
    ort_ok || die "onnxruntime-node installed in $npm_dir but does not load: $(node -e "require('onnxruntime-node')" 2>&1 | head -n 5)"
fi
ort_version=$(node -p "require('onnxruntime-node/package.json').version")
echo "onnxruntime-node $ort_version ($npm_dir), $threads intra-op threads; kiln $("$kiln" version 2>/dev/null | head -n 1)"

# model ARCH SIZE: prints the path of the exported full-width model,
# exporting it into BUILD_DIR/bench-models/ARCH-SIZE/ when it is missing
# or older than the exporter (tests/models/*.py).
model() {
    dir=$models/$1-$2
    if [ ! -s "$dir/model.onnx" ] ||
        [ -n "$(find "$src/tests/models" -name '*.py' -newer "$dir/model.onnx" 2>/dev/null | head -n 1)" ]; then
        echo "exporting $1 --full --size $2 into $dir ..." >&2
        [ -f "$src/tests/models/export.py" ] || { echo "no tests/models/export.py" >&2; return 1; }
        rm -rf "$dir.tmp"
        if ! /usr/bin/python3 "$src/tests/models/export.py" --arch "$1" --full --size "$2" --out "$dir.tmp" \
            >"$work/export-$1.log" 2>&1 || [ ! -s "$dir.tmp/model.onnx" ]; then
            sed 's/^/    /' "$work/export-$1.log" >&2
            echo "export.py --arch $1 --full --size $2 failed" >&2
            return 1
        fi
        rm -rf "$dir"; mv "$dir.tmp" "$dir"
    fi
    echo "$dir/model.onnx"
}

# field LINE KEY: the value of KEY=VALUE in LINE.
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }

rows=$work/rows
: >"$rows"
status=0
for c in $cases; do
    case $c in
        u2netp) size=320; repeat=${SEG_BENCH_REPEAT_U2NETP:-10} ;;
        isnet) size=1024; repeat=${SEG_BENCH_REPEAT_ISNET:-3} ;;
        *) die "unknown case '$c' (want u2netp or isnet)" ;;
    esac
    name=$c-$size
    if ! m=$(model "$c" "$size"); then
        echo "$name: skipped (no model)"
        echo "$name - - - - -" >>"$rows"; status=1; continue
    fi
    kline=
    if "$kiln" model-info "$m" --run "$repeat" >"$work/kiln-$c.log" 2>&1; then
        kline=$(grep 'run median_ms=' "$work/kiln-$c.log" | tail -n 1 | sed 's/.*run median_ms=/run median_ms=/' || :)
    fi
    if [ -z "$kline" ]; then
        echo "$name: kiln model-info --run failed or printed no 'run median_ms=' line:" >&2
        tail -n 20 "$work/kiln-$c.log" | sed 's/^/    /' >&2
        status=1
    fi
    echo "$name kiln: ${kline:-failed}"
    oline=
    if node "$src/tests/bench/ort_run.js" "$m" "1x3x${size}x${size}" "$repeat" "$threads" >"$work/ort-$c.log" 2>&1; then
        oline=$(grep '^ort median_ms=' "$work/ort-$c.log" | tail -n 1 || :)
    fi
    if [ -z "$oline" ]; then
        echo "$name: ort_run.js failed:" >&2
        tail -n 20 "$work/ort-$c.log" | sed 's/^/    /' >&2
        status=1
    fi
    echo "$name ort:  ${oline:-failed}"
    km=$(field "$kline" median_ms); om=$(field "$oline" median_ms)
    kr=$(field "$kline" rss_peak_mib); orss=$(field "$oline" rss_peak_mib)
    ratio=-
    [ -n "$km" ] && [ -n "$om" ] && ratio=$(awk -v k="$km" -v o="$om" 'BEGIN { printf "%.2fx", k / o }')
    echo "$name ${km:--} ${om:--} $ratio ${kr:--} ${orss:--}" >>"$rows"
done

echo
printf '%-12s %12s %12s %10s %14s %14s\n' case kiln_ms ort_ms kiln/ort kiln_rss_MiB ort_rss_MiB
while read -r n a b r x y; do
    printf '%-12s %12s %12s %10s %14s %14s\n' "$n" "$a" "$b" "$r" "$x" "$y"
done <"$rows"
exit $status
