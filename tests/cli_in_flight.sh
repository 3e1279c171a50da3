#!/bin/sh
# Two items in flight per device ([job] in_flight = 2; auto, the default,
# keeps one on a CPU device such as POCL's): the outputs are
# byte for byte those of one item at a time; a corrupt input (failing at
# decode) and a mismatched mask (failing inside the stages, with its
# neighbour in flight) fail alone; under a device budget that fits one
# item but not a second beside it the worker falls back to one in flight;
# two devices each keep two in flight; every report ends with an empty
# pool ledger.
. "$TOP_SRCDIR/tests/lib.sh"
MAKE_MODEL="$TOP_BUILDDIR/tests/make_model"
d=$(scratch cli_in_flight)
mkdir -p "$d/in" "$d/masks"
"$MAKE_MODEL" mini_unet "$d/mini.onnx"
# three sizes, the largest first in sorted order
"$MAKE_IMAGES" "$d/in" 4 80 60 scene8 a
"$MAKE_IMAGES" "$d/in" 4 64 48 scene8 b
"$MAKE_IMAGES" "$d/in" 2 61 47 scene8 c
cp "$d/in/b00000.png" "$d/in/bad.png"
printf '\377\377\377\377\377\377\377\377' | dd of="$d/in/bad.png" bs=1 seek=60 conv=notrunc 2>/dev/null
cat > "$d/job.ini" <<INI
[job]
inputs = in
output_dir = out
in_flight = 2
[segment]
enabled = yes
model = mini.onnx
input_size = 8
[refine]
enabled = yes
INI

# same_outputs DIR1 DIR2: the same PNG names with the same bytes
same_outputs() {
    [ "$(cd "$1" && ls)" = "$(cd "$2" && ls)" ] || return 1
    for f in "$1"/*.png; do cmp -s "$f" "$2/$(basename "$f")" || return 1; done
}
# items_released REPORT: no buffer but the model's is live when the
# report is written (staging included; the model's weights and arena are
# live until the devices close: a buffer live then makes kiln exit 2
# naming it, which run_kiln's expected status catches)
items_released() {
    awk '/"[a-z_.]*": \{/ { tag = $1; next }
         /"live_objects": [1-9]/ && tag ~ /\./ && tag !~ /^"model\./ { live = 1 }
         END { exit live }' "$1" && grep -q '"image.staging"' "$1"
}
# flight_number REPORT KEY: KEY's value in the report's in_flight object
flight_number() {
    sed -n "/\"in_flight\"/,/}/s/.*\"$2\": *\([0-9.e+-]*\).*/\1/p" "$1" | head -n 1
}

# one at a time, then two in flight (the default): the corrupt input fails
run_kiln 1 "$d/one.log" run "$d/job.ini" --set job.in_flight=1 --set job.output_dir="$d/one" \
    --report "$d/one.json" --no-progress
run_kiln 1 "$d/two.log" run "$d/job.ini" --set job.output_dir="$d/two" --report "$d/two.json" \
    --no-progress
for r in one two; do
    expect_in "$d/$r.json" '"succeeded": 10'
    expect_in "$d/$r.json" '"failed": 1'
    ok "$r: per-item buffers released" items_released "$d/$r.json"
    expect_in "$d/$r.log" 'bad.png'
done
ok "in_flight 1: 10 outputs" test "$(count_png "$d/one")" -eq 10
ok "in_flight 2: the same bytes as in_flight 1" same_outputs "$d/one" "$d/two"
ok "in_flight 1: one slot" test "$(flight_number "$d/one.json" slots)" = 1
ok "in_flight 1: nothing overlapped" test "$(flight_number "$d/one.json" overlapped_items)" = 0
ok "in_flight 2: two slots" test "$(flight_number "$d/two.json" slots)" = 2
ok "in_flight 2: items overlapped" test "$(flight_number "$d/two.json" overlapped_items)" -ge 5
ok "in_flight 2: every good item finished" \
    test "$(flight_number "$d/two.json" finished_items)" = 10
ok "in_flight 2: no wait for the budget" \
    test "$(flight_number "$d/two.json" waited_for_budget)" = 0

# a budget of one item at a time: five copies of one image (every item
# needs the same), the budget the one-at-a-time run's peak, which leaves
# no room for an item beside its neighbour's staging: one in flight, item
# by item (the waits are counted too, but an item that comes after its
# neighbour was written waits for nothing), with the same outputs
mkdir -p "$d/same"
for i in 1 2 3 4 5; do cp "$d/in/a00000.png" "$d/same/s$i.png"; done
run_kiln 0 "$d/same1.log" run "$d/job.ini" --set job.inputs="$d/same" --set job.in_flight=1 \
    --set job.output_dir="$d/same1" --report "$d/same1.json" --no-progress
peak=$(json_number "$d/same1.json" peak_live_bytes)
ok "a pool peak in the report" test "${peak:-0}" -gt 0
run_kiln 0 "$d/tight.log" run "$d/job.ini" --set job.inputs="$d/same" \
    --set job.output_dir="$d/tight" --set memory.device_budget="$peak" --report "$d/tight.json" \
    --no-progress
expect_in "$d/tight.json" '"succeeded": 5'
ok "tight: per-item buffers released" items_released "$d/tight.json"
ok "tight budget: nothing overlapped" test "$(flight_number "$d/tight.json" overlapped_items)" = 0
ok "tight budget: the same bytes" same_outputs "$d/same1" "$d/tight"

# cold costs once per worker: five items of one size create no buffer
# and load no program that one item does not (two in flight add one
# buffer: the second slot's staging)
mkdir -p "$d/single"
cp "$d/same/s1.png" "$d/single/"
run_kiln 0 "$d/single.log" run "$d/job.ini" --set job.inputs="$d/single" \
    --set job.output_dir="$d/single-out" --set job.in_flight=auto --report "$d/single.json" \
    --no-progress
ok "in_flight auto on a CPU device: one slot" test "$(flight_number "$d/single.json" slots)" = 1
run_kiln 0 "$d/same2.log" run "$d/job.ini" --set job.inputs="$d/same" \
    --set job.output_dir="$d/same2" --report "$d/same2.json" --no-progress
created1=$(json_number "$d/single.json" creations)
loads1=$(($(json_number "$d/single.json" builds) + $(json_number "$d/single.json" cache_hits)))
ok "one item created buffers" test "${created1:-0}" -gt 0
ok "five items, one in flight: no buffer created again" \
    test "$(json_number "$d/same1.json" creations)" -eq "$created1"
ok "five items, two in flight: one more buffer at most" \
    test "$(json_number "$d/same2.json" creations)" -le $((created1 + 1))
for r in same1 same2; do
    ok "$r: programs loaded once" test \
        $(($(json_number "$d/$r.json" builds) + $(json_number "$d/$r.json" cache_hits))) -eq "$loads1"
done
ok "five items, two in flight: the same bytes" same_outputs "$d/same1" "$d/same2"
# the buffer two in flight add fails (the creation after the one-item
# run's): the overlapped submit runs out of device memory and is tried
# again alone, and every item succeeds
KILN_FAULT_POOL_CREATE=$((created1 + 1)) run_kiln 0 "$d/retry.log" run "$d/job.ini" \
    --set job.inputs="$d/same" --set job.output_dir="$d/retry" --report "$d/retry.json" \
    --no-progress
expect_in "$d/retry.json" '"succeeded": 5'
ok "out of memory beside a neighbour: the same bytes" same_outputs "$d/same1" "$d/retry"
ok "out of memory beside a neighbour: per-item buffers released" items_released "$d/retry.json"

# a failure inside the stages with a neighbour in flight: mask files, one
# of the wrong size under mask_size_mismatch = fail
rm "$d/in/bad.png"
for f in "$d"/in/*.png; do
    n=$(basename "$f" .png)
    case $n in
        a*) "$MAKE_IMAGES" "$d/masks" 1 80 60 disc8 "${n}_mask" ;;
        b*) "$MAKE_IMAGES" "$d/masks" 1 64 48 disc8 "${n}_mask" ;;
        c*) "$MAKE_IMAGES" "$d/masks" 1 61 47 disc8 "${n}_mask" ;;
    esac
    mv "$d/masks/${n}_mask00000.png" "$d/masks/${n}_mask.png"
done
"$MAKE_IMAGES" "$d/masks" 1 30 30 disc8 b00002_mask
mv "$d/masks/b00002_mask00000.png" "$d/masks/b00002_mask.png"
cat > "$d/masks.ini" <<INI
[job]
inputs = in
output_dir = out
in_flight = 2
[refine]
enabled = yes
masks = masks
mask_suffix = _mask
mask_size_mismatch = fail
INI
run_kiln 1 "$d/m1.log" run "$d/masks.ini" --set job.in_flight=1 --set job.output_dir="$d/m1" \
    --report "$d/m1.json" --no-progress
run_kiln 1 "$d/m2.log" run "$d/masks.ini" --set job.output_dir="$d/m2" --report "$d/m2.json" \
    --no-progress
for r in m1 m2; do
    expect_in "$d/$r.json" '"succeeded": 9'
    expect_in "$d/$r.json" '"failed": 1'
    ok "$r: per-item buffers released" items_released "$d/$r.json"
    expect_in "$d/$r.log" 'b00002.png'
    expect_in "$d/$r.log" 'mask_size_mismatch = fail'
done
ok "stage failure in flight: the neighbours' bytes unchanged" same_outputs "$d/m1" "$d/m2"
ok "stage failure in flight: items overlapped" \
    test "$(flight_number "$d/m2.json" overlapped_items)" -ge 4

# two devices, two in flight each
POCL_DEVICES="pthread pthread" KILN_DEVICE=all run_kiln 0 "$d/dev2.log" run "$d/job.ini" \
    --set job.output_dir="$d/dev2" --report "$d/dev2.json" --no-progress
ok "two devices: the same bytes" same_outputs "$d/one" "$d/dev2"
ok "two devices: per-item buffers released" items_released "$d/dev2.json"
ok "two devices: both worked" test "$(grep -c '"items": [1-9]' "$d/dev2.json")" -eq 2
finish
