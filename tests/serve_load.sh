#!/bin/sh
# `kiln serve` under load: 1,000 rembg-style requests at concurrency 8
# against one worker, with a small generated model; no failures, the
# device pool's peak and buffer creations frozen after the first 50
# requests, RSS growth under 2 MiB over the last 900 (tests/serve_load.py).
. "$TOP_SRCDIR/tests/lib.sh"
d=$(scratch serve_load)
"$TOP_BUILDDIR/tests/make_model" mini_unet "$d/mini.onnx"
"$MAKE_IMAGES" "$d" 1 64 48 scene8 img
ok "1,000 requests at concurrency 8" \
    python3 "$TOP_SRCDIR/tests/serve_load.py" "$KILN" "$d/mini.onnx" "$d/img00000.png" "$d" \
    "${SERVE_LOAD_REQUESTS:-1000}" 8
finish
