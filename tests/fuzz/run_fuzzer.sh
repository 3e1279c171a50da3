#!/bin/sh
# Runs one libFuzzer target of a fuzz build (configure CC=clang
# --enable-fuzzers) for $FUZZ_SECONDS seconds (default 60) on a fresh copy
# of its seed corpus, and fails on any crash, leak, timeout (one input
# over 10 s) or out-of-memory (RSS over 1 GB, one allocation over 512 MB).
# Prints the executions per second and the coverage libFuzzer reached;
# on a failure, the path of the input that caused it.
#
# Usage: run_fuzzer.sh TARGET          (png, jpeg, onnx, job or splat_scene)
#        run_fuzzer.sh tests/fuzz/fuzz_TARGET   (as make check calls it)
# Run it from the fuzz build directory, or through tests/env.sh (make
# check, make fuzz), which names the build and source trees.  Everything
# it writes stays in the build tree, under tests/fuzz/work-TARGET:
# corpus/ (the seeds and what the run added), artifacts/ (inputs that
# failed, kept from run to run) and fuzz.log.  tests/fuzz/TARGET.dict, when
# there is one, is the run's dictionary.  FUZZ_FLAGS adds libFuzzer
# options.
set -u

arg=${1:?usage: run_fuzzer.sh png|jpeg|onnx|job|splat_scene}
build=${TOP_BUILDDIR:-$(pwd)}
src=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
case $arg in
    */*) prog=$arg; target=$(basename "$arg"); target=${target#fuzz_} ;;
    *) target=$arg; prog=$build/tests/fuzz/fuzz_$target ;;
esac
seconds=${FUZZ_SECONDS:-60}
seeds=$src/tests/fuzz/corpus/$target
dict=$src/tests/fuzz/$target.dict

if [ ! -x "$prog" ]; then
    echo "run_fuzzer: $prog is not built (configure with CC=clang --enable-fuzzers, then make check)" >&2
    exit 1
fi
if [ ! -d "$seeds" ]; then
    echo "run_fuzzer: no seed corpus $seeds" >&2
    exit 1
fi

work=$build/tests/fuzz/work-$target
rm -rf "$work/corpus"
mkdir -p "$work/corpus" "$work/artifacts" || exit 1
cp "$seeds"/* "$work/corpus/" || exit 1
log=$work/fuzz.log
[ -f "$dict" ] && dict_flag="-dict=$dict"

# UBSan stops at the first finding (-fno-sanitize-recover) with a stack.
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export UBSAN_OPTIONS

echo "fuzz_$target: $seconds s on $(ls "$work/corpus" | wc -l) seeds from $seeds"
# shellcheck disable=SC2086 # FUZZ_FLAGS is a list of options
"$prog" -max_total_time="$seconds" -rss_limit_mb=1024 -malloc_limit_mb=512 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
    ${dict_flag:-} ${FUZZ_FLAGS:-} \
    "$work/corpus" >"$log" 2>&1
rc=$?

# libFuzzer's last status line: "#N DONE cov: C ft: F corp: ... exec/s: E rss: R"
last=$(grep -E '^#[0-9]+' "$log" | grep 'cov:' | tail -n 1)
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
cov=$(printf '%s\n' "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
ft=$(printf '%s\n' "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
execs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
[ -n "$execs" ] || execs=$(printf '%s\n' "$last" | sed -n 's/.* exec\/s: \([0-9]*\).*/\1/p')
echo "fuzz_$target: ${runs:-?} runs, ${execs:-?} exec/s, cov: ${cov:-?} ft: ${ft:-?}"
echo "fuzz_$target: final status: ${last:-none}"

if [ "$rc" -eq 0 ] && grep -qE '^#[0-9]+[[:space:]]+DONE' "$log"; then
    echo "fuzz_$target: no crash, leak, timeout or out-of-memory"
    exit 0
fi
# a failure: the sanitizer's or libFuzzer's report, and the input kept
echo "fuzz_$target: FAILED (libFuzzer exit status $rc); log: $log"
if grep -q -E '==[0-9]+== ?ERROR|runtime error:|contract broken:|ALARM' "$log"; then
    grep -A 30 -m 1 -E '==[0-9]+== ?ERROR|runtime error:|contract broken:|ALARM' "$log" | head -n 40
    grep -E '^SUMMARY' "$log" | head -n 5
else
    tail -n 20 "$log"
fi
unit=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
if [ -n "$unit" ]; then
    echo "fuzz_$target: failing input: $unit"
    echo "fuzz_$target: reproduce with: $prog $unit"
fi
exit 1   # never 77 (libFuzzer's crash status), which the test harness reads as SKIP
