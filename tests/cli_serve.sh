#!/bin/sh
# `kiln serve` end to end (tests/serve_check.py): rembg's multipart
# /api/remove and /v1/run answer the same PNG bytes as `kiln segment`
# with the same settings; bad fields are 400 naming them; 413 over
# max_body and max_pixels; a full queue is 503 with Retry-After; a client
# gone while queued is dropped, one gone while its request runs has the
# result discarded; /metrics parses as Prometheus text; the
# SIGTERM drain completes what is in flight and exits 0 with clean
# device pools.  Everything stays on 127.0.0.1.
. "$TOP_SRCDIR/tests/lib.sh"
MAKE_MODEL="$TOP_BUILDDIR/tests/make_model"
py=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1
d=$(scratch cli_serve)
"$MAKE_MODEL" mini_unet "$d/mini.onnx"
"$MAKE_IMAGES" "$d" 1 61 47 scene8 small
"$MAKE_IMAGES" "$d" 1 80 60 scene8 wide
"$MAKE_IMAGES" "$d" 1 320 240 scene8 slow
"$MAKE_IMAGES" "$d" 1 41 29 scene8.jpg photo
mv "$d/photo00000.jpg" "$d/photo.jpg"
mv "$d/small00000.png" "$d/small.png"
mv "$d/wide00000.png" "$d/wide.png"
mv "$d/slow00000.png" "$d/slow.png"
seg() {
    out=$1; shift
    run_kiln 0 "$d/$out.log" segment -m "$d/mini.onnx" --set segment.input_size=8 "$d/small.png" \
        -o "$d/$out.png" "$@"
}
seg ref_cut
seg ref_mask --mask
seg ref_alpha --set refine.enabled=yes
seg ref_bgc --set composite.enabled=yes --set 'composite.colour=#ff0000'
seg ref_green --set composite.enabled=yes --set 'composite.colour=#00ff00'
run_kiln 0 "$d/ref_jpeg.log" segment -m "$d/mini.onnx" --set segment.input_size=8 "$d/photo.jpg" \
    -o "$d/ref_jpeg.png"

run_kiln 0 "$d/help.log" serve --help
expect_in "$d/help.log" "POST /api/remove"
run_kiln 2 "$d/badport.log" serve --port 70000
expect_in "$d/badport.log" "--port wants 0..65535"
run_kiln 2 "$d/badhost.log" serve --host nowhere.example --port 0
expect_in "$d/badhost.log" "[serve] host: 'nowhere.example' is not an IPv4 or IPv6 address"
run_kiln 2 "$d/badkey.log" serve --port 0 --set serve.queue=0
expect_in "$d/badkey.log" "queue"
# a model that cannot be loaded: the worker says so and the server exits 2
run_kiln 2 "$d/nomodel.log" serve --host 127.0.0.1 --port 0 --set "segment.model=$d/missing.onnx"
expect_in "$d/nomodel.log" "kiln serve: listening on http://127.0.0.1:"
expect_in "$d/nomodel.log" "missing.onnx"

checks=$((checks + 1))
if ! "$py" "$TOP_SRCDIR/tests/serve_check.py" "$KILN" "$d"; then
    failures=$((failures + 1))
    echo "FAILED: tests/serve_check.py" >&2
fi
finish
