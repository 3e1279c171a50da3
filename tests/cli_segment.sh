#!/bin/sh
# The segment stage end to end: `kiln segment`, the model registry's
# search path and errors, [segment] batch jobs (cut-out, mask,
# post_process_mask, [refine] on the segmentation mask, two devices),
# bad models and bad images failing alone, and `kiln model-info`.
# The network is a small U-Net-like model (tests/make_model.c) so that
# this runs in seconds; the published architectures are checked by
# model_parity.sh.
. "$TOP_SRCDIR/tests/lib.sh"
MAKE_MODEL="$TOP_BUILDDIR/tests/make_model"
d=$(scratch cli_segment)
mkdir -p "$d/models" "$d/in"
"$MAKE_MODEL" mini_unet "$d/models/mini.onnx"
"$MAKE_MODEL" truncated "$d/models/truncated.onnx"
"$MAKE_MODEL" wide "$d/models/wide.onnx"
"$MAKE_IMAGES" "$d/in" 3 61 47 scene8 img
"$MAKE_IMAGES" "$d/in" 1 40 30 rgba8 alpha
"$MAKE_IMAGES" "$d/in" 1 33 20 gray8 gray
img="$d/in/img00000.png"
size8="--set segment.input_size=8"

# one file: the cut-out (RGBA, the input's size) and the mask (gray)
# shellcheck disable=SC2086
run_kiln 0 "$d/one.log" segment -m "$d/models/mini.onnx" $size8 "$img" -o "$d/cut.png"
expect_in "$d/one.log" "segment $img: 61x47"
ok "cut-out written" test -s "$d/cut.png"
# shellcheck disable=SC2086
run_kiln 0 "$d/mask.log" segment -m "$d/models/mini.onnx" $size8 --mask "$img" -o "$d/mask.png"
ok "cut-out and mask differ" test "$(cmp -s "$d/cut.png" "$d/mask.png"; echo $?)" = 1
# shellcheck disable=SC2086
run_kiln 0 "$d/post.log" segment -m "$d/models/mini.onnx" $size8 --mask --post-process-mask \
    "$img" -o "$d/mask_post.png"
ok "post-processed mask written" test -s "$d/mask_post.png"

# --verbose: one line of where the time went; the first run ran, and the
# parts do not exceed the total
# shellcheck disable=SC2086
run_kiln 0 "$d/verbose.log" segment -m "$d/models/mini.onnx" $size8 --verbose "$img" \
    -o "$d/verbose.png"
for key in total device_open model_read model_decode model_convert model_fold arena_plan \
    weight_pack weight_upload image_read image_write programs_cached programs_load first_run \
    first_network later_runs other; do
    expect_in "$d/verbose.log" " $key="
done
cold_line=$(grep '^cold_ms ' "$d/verbose.log" || :)
cold() { printf '%s\n' "$cold_line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
ok "--verbose: the first run took time ($(cold first_run) ms)" \
    awk -v v="$(cold first_run)" 'BEGIN { exit !(v > 0) }'
ok "--verbose: the first run is part of the total ($(cold total) ms)" \
    awk -v t="$(cold total)" -v f="$(cold first_run)" 'BEGIN { exit !(t >= f) }'
ok "--verbose: nothing left unaccounted is negative ($(cold other) ms)" \
    awk -v v="$(cold other)" 'BEGIN { exit !(v > -1) }'

# bad use
run_kiln 2 "$d/usage.log" segment "$img"
expect_in "$d/usage.log" "usage: kiln segment"
run_kiln 2 "$d/repeat.log" segment "$img" -o "$d/never.png" --repeat 0
expect_in "$d/repeat.log" "--repeat wants 1..1000"

# a file outside the registry runs at the side it declares (8 here), not 320
run_kiln 0 "$d/declared.log" segment -m "$d/models/mini.onnx" --mask "$img" -o "$d/declared.png"
ok "declared input side: the same mask as input_size = 8" cmp -s "$d/declared.png" "$d/mask.png"
# explicit mean and std keys: rembg's isnet normalisation (ImageNet mean,
# std 1) spelled out equals normalization = half's counterpart when given
# the same numbers
run_kiln 0 "$d/half.log" segment -m "$d/models/mini.onnx" --mask "$img" -o "$d/half.png" \
    --set segment.normalization=half
run_kiln 0 "$d/meanstd.log" segment -m "$d/models/mini.onnx" --mask "$img" -o "$d/meanstd.png" \
    --set "segment.mean=0.5, 0.5, 0.5" --set "segment.std=1 1 1"
ok "mean/std keys: the same mask as normalization = half" cmp -s "$d/half.png" "$d/meanstd.png"
run_kiln 0 "$d/isnetnorm.log" segment -m "$d/models/mini.onnx" --mask "$img" -o "$d/isnetnorm.png" \
    --set "segment.mean=0.9,0.1,0.5" --set "segment.std=0.2,0.3,0.25"
ok "mean/std keys: another normalisation gives another mask" \
    test "$(cmp -s "$d/half.png" "$d/isnetnorm.png"; echo $?)" -ne 0
run_kiln 2 "$d/badmean.log" segment -m "$d/models/mini.onnx" "$img" -o "$d/never.png" \
    --set "segment.mean=0.5,0.5"
expect_in "$d/badmean.log" "not three numbers"

# each stage reports its own time: segment with [refine] on prints a
# refine time of its own (it used to be counted under segment: "refine 0.0")
run_kiln 0 "$d/own_times.log" segment -m "$d/models/mini.onnx" "$TOP_SRCDIR/conf/demo/photo00000.png" \
    -o "$d/own_times.png" --set refine.enabled=yes --set refine.method=guided
refine_ms=$(sed -n 's/.*refine \([0-9.]*\)).*/\1/p' "$d/own_times.log")
ok "segment + refine: refine has its own time ($refine_ms ms)" \
    test -n "$refine_ms" -a "$refine_ms" != "0.0"

# the registry: names resolve in $KILN_MODEL_DIR, then $U2NET_HOME, then ~/.u2net
cp "$d/models/mini.onnx" "$d/models/u2netp.onnx"
KILN_MODEL_DIR="$d/models" run_kiln 0 "$d/reg.log" segment -m u2netp $size8 "$img" -o "$d/reg.png"
ok "registry name found in KILN_MODEL_DIR" test -s "$d/reg.png"
mkdir -p "$d/home/.u2net"
cp "$d/models/mini.onnx" "$d/home/.u2net/silueta.onnx"
HOME="$d/home" KILN_MODEL_DIR= U2NET_HOME= run_kiln 0 "$d/home.log" segment -m silueta $size8 "$img" \
    -o "$d/home.png"
ok "registry name found in ~/.u2net" test -s "$d/home.png"
HOME="$d/home" KILN_MODEL_DIR="$d/models" U2NET_HOME="$d/nowhere" \
    run_kiln 2 "$d/missing.log" segment -m isnet-anime "$img" -o "$d/never.png"
expect_in "$d/missing.log" "$d/models/isnet-anime.onnx"
expect_in "$d/missing.log" "$d/nowhere/isnet-anime.onnx"
expect_in "$d/missing.log" "$d/home/.u2net/isnet-anime.onnx"
expect_in "$d/missing.log" "kiln model pull isnet-anime"
run_kiln 2 "$d/unknown.log" segment -m u3net "$img" -o "$d/never.png"
expect_in "$d/unknown.log" "u2net_human_seg"
ok "no output for a missing model" test ! -e "$d/never.png"

# bad models: each a clear error naming the file, no output; the job
# fails at start (exit 2)
run_kiln 2 "$d/trunc.log" segment -m "$d/models/truncated.onnx" $size8 "$img" -o "$d/never.png"
expect_in "$d/trunc.log" "truncated.onnx"
: > "$d/models/empty.onnx"
run_kiln 2 "$d/empty.log" segment -m "$d/models/empty.onnx" "$img" -o "$d/never.png"
expect_in "$d/empty.log" "empty.onnx: empty file, not an ONNX model"
ok "a file error carries no input shape" test "$(grep -c 'network.s input' "$d/empty.log")" -eq 0
run_kiln 2 "$d/wide.log" segment -m "$d/models/wide.onnx" $size8 "$img" -o "$d/never.png"
expect_in "$d/wide.log" "wide.onnx"
run_kiln 2 "$d/shape.log" segment -m "$d/models/mini.onnx" --set segment.input_size=64 "$img" -o "$d/never.png"
expect_in "$d/shape.log" "mini.onnx"
ok "no output for a bad model" test ! -e "$d/never.png"
# images smaller than 2x2
"$MAKE_IMAGES" "$d" 1 1 1 rgb8 tiny
run_kiln 1 "$d/tiny.log" segment -m "$d/models/mini.onnx" $size8 "$d/tiny00000.png" -o "$d/never.png"
expect_in "$d/tiny.log" "at least 2x2"

# a batch: one corrupt and one 1x1 input fail alone; outputs for the rest
cp "$d/tiny00000.png" "$d/in/tiny.png"
printf 'not a png' > "$d/in/corrupt.png"
cat > "$d/job.ini" <<INI
[job]
inputs = in
output_dir = out
[segment]
enabled = yes
model = models/mini.onnx
input_size = 8
[composite]
enabled = yes
colour = "#00ff00"
INI
run_kiln 1 "$d/job.log" run "$d/job.ini" --report "$d/report.json" --no-progress
ok "5 outputs, the 2 bad inputs failed alone" test "$(count_png "$d/out")" -eq 5
expect_in "$d/job.log" "corrupt.png"
expect_in "$d/job.log" "at least 2x2"
ok "no temporary files" no_temp_files "$d/out"
expect_in "$d/report.json" '"segment"'
# a batch whose model cannot be found fails at start, once, with exit 2:
# no item is tried and no output written
HOME="$d/home" KILN_MODEL_DIR="$d/models" U2NET_HOME="$d/nowhere" \
    run_kiln 2 "$d/nomodel.log" run "$d/job.ini" --set segment.model=isnet-anime \
    --set job.output_dir="$d/nomodel-out" --no-progress
ok "missing model: the message once" test "$(grep -c 'isnet-anime.onnx' "$d/nomodel.log")" -eq 1
ok "missing model: no item tried" test "$(grep -c 'corrupt.png' "$d/nomodel.log")" -eq 0
ok "missing model: no outputs" test "$(count_png "$d/nomodel-out" 2>/dev/null || echo 0)" -eq 0
# [segment] precision: fp16 (half storage) runs the batch, says once what
# fp16 means on a device without cl_khr_fp16, and differs from fp32 only
# by rounding (the masks are not byte-identical, the run succeeds); a bad
# value is an error naming the key
run_kiln 1 "$d/fp16.log" run "$d/job.ini" --set segment.precision=fp16 \
    --set job.output_dir="$d/fp16-out" --no-progress
ok "precision fp16: 5 outputs" test "$(count_png "$d/fp16-out")" -eq 5
if "$KILN" devices 2>/dev/null | grep -q 'fp16 no'; then
    ok "precision fp16: the half-storage note once" \
        test "$(grep -c 'half storage, float arithmetic' "$d/fp16.log")" -eq 1
fi
run_kiln 1 "$d/fp32.log" run "$d/job.ini" --set segment.precision=fp32 \
    --set job.output_dir="$d/fp32-out" --no-progress
ok "precision fp32: no half-storage note" \
    test "$(grep -c 'half storage' "$d/fp32.log")" -eq 0
run_kiln 2 "$d/fp8.log" run "$d/job.ini" --set segment.precision=fp8 --no-progress
expect_in "$d/fp8.log" "segment.precision: 'fp8' is not one of auto, fp32, fp16"
# [refine] on the segmentation mask, on the device
cat > "$d/refine.ini" <<INI
[job]
inputs = in/img*.png
output_dir = refined
[segment]
enabled = yes
model = models/mini.onnx
input_size = 8
[refine]
enabled = yes
method = guided
output = alpha
INI
run_kiln 0 "$d/refine.log" run "$d/refine.ini" --no-progress
ok "refined masks written" test "$(count_png "$d/refined")" -eq 3
# mask files and [segment] both giving the mask is a configuration error
run_kiln 2 "$d/both.log" run "$d/refine.ini" --set refine.masks=in --no-progress
expect_in "$d/both.log" "choose one"
# two devices share the batch
mkdir -p "$d/many"
"$MAKE_IMAGES" "$d/many" 12 64 48 scene8 many
POCL_DEVICES="pthread pthread" KILN_DEVICE=all run_kiln 0 "$d/two.log" run "$d/refine.ini" \
    --set job.inputs="$d/many" --set job.output_dir="$d/two" --report "$d/two.json" --no-progress
ok "two devices: 12 outputs" test "$(count_png "$d/two")" -eq 12
ok "two devices: both worked" test "$(grep -c '"items": [1-9]' "$d/two.json")" -eq 2

# model-info: parameters, MACs, arena and lower bound; --run times it
run_kiln 0 "$d/info.log" model-info "$d/models/mini.onnx" --run 3
cat "$d/info.log"
expect_in "$d/info.log" "parameters"
expect_in "$d/info.log" "MACs"
expect_in "$d/info.log" "lower bound"
expect_in "$d/info.log" "run median_ms="
run_kiln 1 "$d/info_bad.log" model-info "$d/models/truncated.onnx"
expect_in "$d/info_bad.log" "truncated.onnx"
finish
