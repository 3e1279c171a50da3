#!/bin/sh
# Every GPU check in one run, meant to finish within 8 minutes on a lent
# GPU machine (the tests otherwise run on POCL): builds kiln, then on the
# first GPU (KILN_DEVICE=gpu):
#   1. the device unit tests, splat parity and soak, the splat and segment
#      command-line tests;
#   2. the splat benchmark at 0.1M/648x420, 1M/1280x720 and 3M/1920x1080;
#   3. the profiling-event stage times of one segment and one refine run;
#   4. the performance checks of the segmentation network: `kiln tune`
#      (tiles, then per-shape algorithms: own tiled, Winograd F(2,3)/F(4,3),
#      CLBlast's GEMM, few-output-channel) on U^2-Net-p 320, and the
#      network's median time with each algorithm forced and with the tuned
#      choice; the batch throughput with one and two items in flight;
#   5. segment precision fp16 (half storage, half Conv products with
#      cl_khr_fp16) against fp32: test_precision's parity printout (mask
#      IoU, mean |d|) on its U^2-Net-shaped graphs and on U^2-Net-p 320,
#      and the network's median time and arena at fp32 and fp16 (three
#      interleaved rounds).
# The segmentation checks need the exported model: models are looked for
# in $GPU_MODELS (default BUILD_DIR/bench-models, as tests/bench/bench_lib.sh
# exports them; carry build/bench-models/u2netp-320 to the GPU machine).
# Logs go to $OUT (when set, as on the lent machine) or build-gpu/gpu-logs.
# Usage: tests/gpu_check.sh [BUILD_DIR]
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build-gpu}
logs=${OUT:-$build}/gpu-logs
mkdir -p "$build" "$logs"
export KILN_DEVICE=${KILN_DEVICE:-gpu}
jobs=$(nproc 2>/dev/null || echo 4)

step() { echo "== $*" | tee -a "$logs/summary.txt"; }

step "build ($jobs jobs)"
(cd "$src" && [ -x configure ] || autoreconf -fi) >"$logs/autoreconf.log" 2>&1
(cd "$build" && [ -f Makefile ] || "$src/configure" --enable-werror) >"$logs/configure.log" 2>&1 ||
    { step "configure failed"; tail -n 30 "$logs/configure.log"; exit 1; }
make -C "$build" -j"$jobs" >"$logs/make.log" 2>&1 || { step "build failed"; tail -n 30 "$logs/make.log"; exit 1; }
"$build/kiln" devices | tee "$logs/devices.txt"

step "device tests on $KILN_DEVICE"
timeout 300 make -C "$build" -j4 check TESTS="tests/test_pool tests/test_devices tests/test_resident \
    tests/test_ops_image tests/test_matting_cf tests/test_matting_fg tests/test_guided_filter \
    tests/test_nn_ops tests/test_conv_tiled tests/test_conv_algo tests/test_conv_fused tests/test_onnx_device tests/test_nn_model \
    tests/test_precision \
    tests/test_splat_render tests/test_splat_soak tests/test_splat_backward tests/test_splat_loss \
    tests/test_splat_adam tests/test_splat_densify tests/test_splat_train tests/cli_splat.sh \
    tests/cli_segment.sh tests/stage_pixels.sh" >"$logs/check.log" 2>&1
grep -h -E '^(PASS|FAIL|SKIP|ERROR|XFAIL)' "$logs/check.log" | tee -a "$logs/summary.txt"
for t in test_splat_render test_splat_soak test_splat_backward test_splat_train; do
    cp "$build/tests/$t.log" "$logs/" 2>/dev/null
done
grep -h 'fp16 vs fp32' "$build/tests/test_precision.log" 2>/dev/null | tee -a "$logs/summary.txt"
grep -h -E '^(parity|oracle|splat soak)' "$build/tests/test_splat_render.log" \
    "$build/tests/test_splat_soak.log" 2>/dev/null | tee -a "$logs/summary.txt"

step "splat benchmark"
timeout 150 "$src/tests/bench/splat_bench.sh" "$build" \
    "100000x648x420 1000000x1280x720 3000000x1920x1080" 2>&1 | tee -a "$logs/summary.txt"

step "training speed"
timeout 120 "$build/tests/splat_train_bench" 30 2>&1 | tee -a "$logs/summary.txt"

step "segment and refine stage times (profiling events)"
ref="$src/../shared/refdata"
if [ -f "$ref/lemur.png" ]; then
    timeout 60 "$build/kiln" refine "$ref/lemur.png" "$ref/lemur_trimap.png" --trimap \
        -o "$logs/lemur.png" --repeat 3 2>&1 | tee -a "$logs/summary.txt"
fi
step "segmentation network: tuning and algorithms"
models=${GPU_MODELS:-$build/bench-models}
m=$models/u2netp-320/model.onnx
if [ -f "$m" ]; then
    timeout 150 "$build/kiln" tune --model "$m" --size 320 >"$logs/tune.log" 2>&1
    tail -n 25 "$logs/tune.log" | tee -a "$logs/summary.txt"
    for a in auto tiled winograd4f winograd4 winograd2 gemm; do
        printf 'u2netp-320 %-9s ' "$a" | tee -a "$logs/summary.txt"
        KILN_CONV_ALGO=$a timeout 60 "$build/kiln" model-info "$m" --run 20 2>&1 |
            grep 'run median_ms=' | tail -n 1 | tee -a "$logs/summary.txt"
    done
    step "segment precision fp16 against fp32 (U^2-Net-p 320)"
    KILN_PRECISION_MODEL=$m KILN_PRECISION_SIZE=320 timeout 60 "$build/tests/test_precision" 2>&1 |
        tail -n 2 | tee -a "$logs/summary.txt"
    # interleaved rounds: compare the medians, not one run
    for r in 1 2 3; do
        for p in fp32 fp16; do
            printf 'u2netp-320 round %s %s ' "$r" "$p" | tee -a "$logs/summary.txt"
            timeout 40 "$build/kiln" model-info "$m" --run 10 --precision $p 2>&1 |
                grep -E '^(precision|run median_ms=)' | tr '\n' ' ' | tee -a "$logs/summary.txt"
            echo | tee -a "$logs/summary.txt"
        done
    done
    step "batch throughput, one and two items in flight"
    BATCH_BENCH_IMAGES=24 BATCH_BENCH_ROUNDS=1 BATCH_BENCH_MODEL=$m \
        timeout 120 "$src/tests/bench/batch_bench.sh" "$build" 2>&1 | tail -n 8 | tee -a "$logs/summary.txt"
else
    step "no $m: export it (tests/bench/bench_lib.sh bench_model) and carry build/bench-models"
fi
step "done"
