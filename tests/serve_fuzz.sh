#!/bin/sh
# `kiln serve` against bad requests: malformed multipart bodies, truncated
# uploads, wrong content types, huge headers, garbage and slow bodies
# (tests/serve_fuzz.py); every answer a proper HTTP status, the server up
# afterwards, and a clean exit on SIGTERM.  The sanitizer build runs it too.
. "$TOP_SRCDIR/tests/lib.sh"
d=$(scratch serve_fuzz)
"$TOP_BUILDDIR/tests/make_model" mini_unet "$d/mini.onnx"
"$MAKE_IMAGES" "$d" 1 40 30 scene8 img
ok "bad requests answered properly" \
    python3 "$TOP_SRCDIR/tests/serve_fuzz.py" "$KILN" "$d/mini.onnx" "$d/img00000.png" "$d" \
    "${SERVE_FUZZ_CASES:-420}"
finish
