#!/bin/sh
# Cold-start benchmark: one image through a fresh `kiln segment` process
# beside a fresh Node process that loads onnxruntime-node, creates the
# session (CPU execution provider) and runs the same model file once
# (tests/bench/ort_cold.js).  U^2-Net-p at 320x320 and IS-Net at
# 1024x1024, full width, exported by tests/models/export.py.
# Usage: tests/bench/cold_bench.sh BUILD_DIR
#
# Both sides start cold as processes but with warm caches: kiln's program
# cache and conv tuning (KILN_CACHE_DIR, made by `kiln tune` and one
# untimed segment first) and POCL's kernel cache (POCL_CACHE_DIR); the OS
# file cache holds the model for both.  The runs interleave (kiln, ort,
# kiln, ort, ...) so that load on the machine hits both alike.  Wall times
# are of the whole process, measured here; onnxruntime's own figures
# (require, session load, first run) and kiln's breakdown (`kiln segment
# --verbose`: device open, model read/decode/convert/fold, arena plan,
# weight pack/upload, programs, first run, image I/O) are medians too.
# kiln does more than ort here: it decodes the PNG, pre- and
# post-processes and writes the cut-out; ort runs the network on a
# pseudo-random input.
#
# Environment:
#   COLD_BENCH_CASES   cases (default "u2netp isnet")
#   COLD_BENCH_RUNS    runs per side and case (default 5)
#   COLD_BENCH_THREADS onnxruntime intra-op threads (default: nproc)
#   COLD_BENCH_IMAGE   the input image (default: a 640x480 synthetic scene
#                      from tests/make_images when built, else
#                      conf/demo/photo00000.png)
#   COLD_BENCH_BASELINE another kiln binary (a build of an earlier commit,
#                      say) run as a third side in the same interleaving,
#                      without --verbose: its process wall and the ratio
#                      to it (before / after)
#   SEG_BENCH_NPM_DIR, SEG_BENCH_ORT_PKG: see bench_lib.sh
set -eu
build=$(cd "${1:?usage: cold_bench.sh BUILD_DIR}" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
kiln=$build/kiln
work=$build/tests/tmp/cold_bench
rm -rf "$work"; mkdir -p "$work"
bench_name=cold_bench
. "$src/tests/bench/bench_lib.sh"
cases=${COLD_BENCH_CASES:-u2netp isnet}
runs=${COLD_BENCH_RUNS:-5}
threads=${COLD_BENCH_THREADS:-$(nproc)}

[ -x "$kiln" ] || die "no kiln binary at $kiln (build first)"
baseline=${COLD_BENCH_BASELINE:-}
[ -z "$baseline" ] || [ -x "$baseline" ] || die "COLD_BENCH_BASELINE=$baseline is not an executable"
case $runs in ''|*[!0-9]*|0) die "COLD_BENCH_RUNS wants a positive count, not '$runs'" ;; esac
bench_ort_setup

image=${COLD_BENCH_IMAGE:-}
if [ -z "$image" ]; then
    if [ -x "$build/tests/make_images" ] &&
        "$build/tests/make_images" "$work" 1 640 480 scene8 >/dev/null 2>&1; then
        image=$work/img00000.png
    else
        image=$src/conf/demo/photo00000.png
    fi
fi
[ -f "$image" ] || die "no input image $image"
echo "onnxruntime-node $ort_version, $threads intra-op threads; kiln $("$kiln" version 2>/dev/null | head -n 1)"
echo "image $image; $runs runs per side, interleaved; caches $KILN_CACHE_DIR, $POCL_CACHE_DIR"

# the conv tuning, once per cache directory
if ! ls "$KILN_CACHE_DIR"/conv-tune-*.txt >/dev/null 2>&1; then
    echo "no conv tuning in $KILN_CACHE_DIR: running kiln tune ..."
    "$kiln" tune >"$work/tune.log" 2>&1 || { tail -n 20 "$work/tune.log" >&2; die "kiln tune failed"; }
fi

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# median: the median of the numbers on standard input, one per line.
median() {
    sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) printf "%.1f\n", v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# column FILE KEY: the median of KEY=VALUE over the lines of FILE.
column() { sed -n "s/.* $2=\([0-9.]*\).*/\1/p" "$1" | median; }

status=0
for c in $cases; do
    case $c in
        u2netp) size=320 ;;
        isnet) size=1024 ;;
        *) die "unknown case '$c' (want u2netp or isnet)" ;;
    esac
    name=$c-$size
    if ! m=$(bench_model "$c" "$size"); then
        echo "$name: skipped (no model)"; status=1; continue
    fi
    kout=$work/$c-out.png
    # warm kiln's program cache and POCL's for this model (untimed)
    if ! "$kiln" segment -m "$m" "$image" -o "$kout" >"$work/$c-warm.log" 2>&1 ||
        { [ -n "$baseline" ] && ! "$baseline" segment -m "$m" "$image" -o "$kout" >>"$work/$c-warm.log" 2>&1; }; then
        tail -n 20 "$work/$c-warm.log" | sed 's/^/    /' >&2
        echo "$name: kiln segment failed"; status=1; continue
    fi
    : >"$work/$c-kiln"; : >"$work/$c-ort"; : >"$work/$c-kwall"; : >"$work/$c-owall"; : >"$work/$c-bwall"
    r=0
    while [ "$r" -lt "$runs" ]; do
        if [ -n "$baseline" ]; then
            t0=$(now_ms)
            "$baseline" segment -m "$m" "$image" -o "$kout" >"$work/$c-b.log" 2>&1 ||
                { tail -n 20 "$work/$c-b.log" >&2; die "$name: baseline kiln segment failed"; }
            echo $(($(now_ms) - t0)) >>"$work/$c-bwall"
        fi
        t0=$(now_ms)
        "$kiln" segment --verbose -m "$m" "$image" -o "$kout" >"$work/$c-k.log" 2>&1 ||
            { tail -n 20 "$work/$c-k.log" >&2; die "$name: kiln segment failed"; }
        t1=$(now_ms)
        node "$src/tests/bench/ort_cold.js" "$m" "1x3x${size}x${size}" "$threads" >"$work/$c-o.log" 2>&1 ||
            { tail -n 20 "$work/$c-o.log" >&2; die "$name: ort_cold.js failed"; }
        t2=$(now_ms)
        echo $((t1 - t0)) >>"$work/$c-kwall"
        echo $((t2 - t1)) >>"$work/$c-owall"
        grep '^cold_ms ' "$work/$c-k.log" | sed 's/^cold_ms/cold_ms /' >>"$work/$c-kiln"
        grep '^ort_cold ' "$work/$c-o.log" | sed 's/^ort_cold/ort_cold /' >>"$work/$c-ort"
        r=$((r + 1))
    done
    kw=$(median <"$work/$c-kwall"); ow=$(median <"$work/$c-owall")
    ol=$(column "$work/$c-ort" load_ms); of=$(column "$work/$c-ort" first_ms)
    orq=$(column "$work/$c-ort" require_ms)
    olf=$(awk -v l="$ol" -v f="$of" 'BEGIN { printf "%.1f", l + f }')
    echo
    echo "$name (medians of $runs, ms)"
    printf '  %-34s %10s\n' "kiln segment process wall" "$kw"
    if [ -n "$baseline" ]; then
        bw=$(median <"$work/$c-bwall")
        printf '  %-34s %10s   (%s)\n' "baseline kiln process wall" "$bw" "$baseline"
        awk -v b="$bw" -v k="$kw" 'BEGIN { printf "  baseline / kiln                    %9.2fx\n", b / k }'
    fi
    printf '  %-34s %10s\n' "ort process wall" "$ow"
    printf '  %-34s %10s\n' "ort session load + first run" "$olf"
    printf '  %-34s %10s   (require %s, load %s, first run %s)\n' "" "" "$orq" "$ol" "$of"
    awk -v k="$kw" -v o="$ow" -v l="$olf" 'BEGIN {
        printf "  kiln wall / ort wall               %9.2fx\n", k / o
        printf "  kiln wall / ort load + first run   %9.2fx\n", k / l }'
    echo "  kiln breakdown (medians of --verbose):"
    for key in total device_open model_read model_decode model_convert model_fold arena_plan \
        weight_pack weight_upload programs_load programs_build first_run first_run_programs \
        first_network image_read image_write other; do
        printf '    %-22s %10s\n' "$key" "$(column "$work/$c-kiln" "$key")"
    done
done
exit $status
