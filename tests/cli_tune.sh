#!/bin/sh
# `kiln tune`: the convolution search runs on the device, prints every
# candidate with its GFLOP/s, saves its choice beside the program cache,
# and later processes apply it (`kiln model-info --run` says so); `kiln
# tune --model` adds the fastest algorithm of each of a model's conv
# shapes.  A corrupt tuning file falls back to the defaults with a note.
. "$TOP_SRCDIR/tests/lib.sh"
d=$(scratch cli_tune)
"$TOP_BUILDDIR/tests/make_model" mini_unet "$d/mini.onnx"
# a private cache directory, so that the suite's other tests keep defaults
export KILN_CACHE_DIR="$d/cache"
run_kiln 0 "$d/before.log" model-info "$d/mini.onnx" --run 1
expect_in "$d/before.log" "(tuning: defaults)"
run_kiln 0 "$d/tune.log" tune
tail -n 4 "$d/tune.log"
expect_in "$d/tune.log" "GFLOP/s"
expect_in "$d/tune.log" "saved to $d/cache/conv-tune-"
ok "one tuning file" test "$(find "$d/cache" -name 'conv-tune-*.txt' | wc -l)" -eq 1
run_kiln 0 "$d/after.log" model-info "$d/mini.onnx" --run 1
expect_in "$d/after.log" "(tuning: from kiln tune)"
# the model's own shapes: one record per distinct conv shape, kept beside
# the tiles; a later model build applies them (every Conv of the model
# gets a recorded algorithm) and a bad --size is a usage error
run_kiln 0 "$d/model.log" tune --model "$d/mini.onnx"
tail -n 2 "$d/model.log"
expect_in "$d/model.log" "winograd4"
expect_in "$d/model.log" "distinct conv shapes"
f=$(find "$d/cache" -name 'conv-tune-*.txt' | head -n 1)
ok "the tuning file keeps per-shape records" grep -q '^shape ' "$f"
ok "the tuning file keeps the tiles" grep -q '^class wide ' "$f"
run_kiln 0 "$d/model-run.log" model-info "$d/mini.onnx" --run 1
expect_in "$d/model-run.log" "(tuning: from kiln tune)"
run_kiln 2 "$d/badsize.log" tune --model "$d/mini.onnx" --size 0
expect_in "$d/badsize.log" "--size wants"
run_kiln 2 "$d/wrongsize.log" tune --model "$d/mini.onnx" --size 40
expect_in "$d/wrongsize.log" "mini.onnx: input 'x'"
run_kiln 2 "$d/nomodel.log" tune --size 40
expect_in "$d/nomodel.log" "--size needs --model"
for f in "$d"/cache/conv-tune-*.txt; do printf 'garbage\n' > "$f"; done
run_kiln 0 "$d/corrupt.log" model-info "$d/mini.onnx" --run 1
expect_in "$d/corrupt.log" "(tuning: defaults, the tuning file was unreadable)"
finish
