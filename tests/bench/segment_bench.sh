#!/bin/sh
# Segmentation benchmark: kiln beside onnxruntime (CPU execution provider,
# through onnxruntime-node) on the same full-width model file and the same
# input shape: U^2-Net-p at 320x320 and IS-Net at 1024x1024.
# Usage: tests/bench/segment_bench.sh BUILD_DIR
# Prints each side's raw line per round, then a table: median latency of
# both, the ratio kiln / ort (the bar: at most 1.2x on POCL; the goal 1.0x)
# and each process's peak RSS (kiln's must stay below onnxruntime's).
#
# The sides alternate, SEG_BENCH_ROUNDS rounds (default 3) of one process
# each, so that a change in machine load hits both.  Each process is warm:
# one untimed first run (kiln's includes compiling its programs unless
# cached), then the median of REPEAT runs; the table takes the median of
# the rounds' medians.  Inputs are pseudo-random; the two sides do not compare
# outputs, only time and memory.  ort's RSS includes Node itself and the
# onnxruntime library (about 80 MiB before the first run).
#
# Environment:
#   SEG_BENCH_CASES       cases to run (default "u2netp isnet")
#   SEG_BENCH_ROUNDS      interleaved rounds per case (default 3)
#   SEG_BENCH_REPEAT_U2NETP, SEG_BENCH_REPEAT_ISNET
#                         timed runs per side (default 10 and 3)
#   SEG_BENCH_THREADS     onnxruntime intra-op threads (default: nproc)
#   SEG_BENCH_NPM_DIR, SEG_BENCH_ORT_PKG
#                         where and which onnxruntime-node (bench_lib.sh)
# The npm directory and the exported models (BUILD_DIR/bench-models/) are
# reused on later runs (a model is exported again when tests/models/*.py
# is newer than it); delete them to start over.
set -eu
build=$(cd "${1:?usage: segment_bench.sh BUILD_DIR}" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
kiln=$build/kiln
work=$build/tests/tmp/segment_bench
rm -rf "$work"; mkdir -p "$work"
bench_name=segment_bench
. "$src/tests/bench/bench_lib.sh"
cases=${SEG_BENCH_CASES:-u2netp isnet}
threads=${SEG_BENCH_THREADS:-$(nproc)}

[ -x "$kiln" ] || die "no kiln binary at $kiln (build first)"

# onnxruntime-node in the scratch npm directory (installed once)
bench_ort_setup
echo "onnxruntime-node $ort_version ($npm_dir), $threads intra-op threads; kiln $("$kiln" version 2>/dev/null | head -n 1)"

rows=$work/rows
: >"$rows"
status=0
rounds=${SEG_BENCH_ROUNDS:-3}
# median of the numbers on stdin (one per line)
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for c in $cases; do
    case $c in
        u2netp) size=320; repeat=${SEG_BENCH_REPEAT_U2NETP:-10} ;;
        isnet) size=1024; repeat=${SEG_BENCH_REPEAT_ISNET:-3} ;;
        *) die "unknown case '$c' (want u2netp or isnet)" ;;
    esac
    name=$c-$size
    if ! m=$(bench_model "$c" "$size"); then
        echo "$name: skipped (no model)"
        echo "$name - - - - -" >>"$rows"; status=1; continue
    fi
    # Interleaved rounds: a kiln process, then an onnxruntime process, each
    # warm (its first run untimed) with REPEAT timed runs; the table takes
    # the median of the rounds' medians and the largest peak RSS.
    : >"$work/k-$c"; : >"$work/o-$c"
    r=1
    while [ "$r" -le "$rounds" ]; do
        kline=
        if "$kiln" model-info "$m" --run "$repeat" >"$work/kiln-$c.log" 2>&1; then
            kline=$(grep 'run median_ms=' "$work/kiln-$c.log" | tail -n 1 | sed 's/.*run median_ms=/run median_ms=/' || :)
        fi
        if [ -z "$kline" ]; then
            echo "$name: kiln model-info --run failed or printed no 'run median_ms=' line:" >&2
            tail -n 20 "$work/kiln-$c.log" | sed 's/^/    /' >&2
            status=1
        else
            echo "$(field "$kline" median_ms) $(field "$kline" rss_peak_mib)" >>"$work/k-$c"
        fi
        echo "$name round $r kiln: ${kline:-failed}"
        oline=
        if node "$src/tests/bench/ort_run.js" "$m" "1x3x${size}x${size}" "$repeat" "$threads" >"$work/ort-$c.log" 2>&1; then
            oline=$(grep '^ort median_ms=' "$work/ort-$c.log" | tail -n 1 || :)
        fi
        if [ -z "$oline" ]; then
            echo "$name: ort_run.js failed:" >&2
            tail -n 20 "$work/ort-$c.log" | sed 's/^/    /' >&2
            status=1
        else
            echo "$(field "$oline" median_ms) $(field "$oline" rss_peak_mib)" >>"$work/o-$c"
        fi
        echo "$name round $r ort:  ${oline:-failed}"
        r=$((r + 1))
    done
    km=$(cut -d' ' -f1 "$work/k-$c" | median || :)
    om=$(cut -d' ' -f1 "$work/o-$c" | median || :)
    kr=$(cut -d' ' -f2 "$work/k-$c" | sort -n | tail -n 1)
    orss=$(cut -d' ' -f2 "$work/o-$c" | sort -n | tail -n 1)
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
