#!/bin/sh
# `kiln tune`: the convolution search runs on the device, prints every
# candidate with its GFLOP/s, saves its choice beside the program cache,
# and later processes apply it (`kiln model-info --run` says so).  A
# corrupt tuning file falls back to the defaults with a note.
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
for f in "$d"/cache/conv-tune-*.txt; do printf 'garbage\n' > "$f"; done
run_kiln 0 "$d/corrupt.log" model-info "$d/mini.onnx" --run 1
expect_in "$d/corrupt.log" "(tuning: defaults, the tuning file was unreadable)"
finish
