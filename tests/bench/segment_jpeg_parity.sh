#!/bin/sh
# Segmentation parity on JPEG inputs: kiln beside rembg's u2netp pipeline
# (Python: numpy + PIL for the pre/post-processing, onnxruntime-node for
# the network), both decoding the same JPEG files.
# Usage: tests/bench/segment_jpeg_parity.sh BUILD_DIR
# Not part of make check; needs node + npm (onnxruntime-node, installed
# once as segment_bench.sh does), Debian's python3 with numpy, PIL,
# torch and onnx (the full-width u2netp@320 model with random weights is
# exported by tests/models/export.py into BUILD_DIR/bench-models/).
#
# 1. Test JPEGs made by PIL from the repository's photos (conf/demo) and,
#    when present, refdata's astronaut.png and lemur.png: quality 90
#    (4:2:0) for each, the first colour photo at quality 95 4:4:4 too, and
#    the last one stored turned with EXIF orientation 6.
# 2. Decode parity: PIL (Image.open, ImageOps.exif_transpose as rembg's
#    remove() does, convert("RGB")) against kiln's decode (`kiln run` with
#    no stage enabled writes the decoded, upright image as a PNG):
#    differing samples and the largest absolute difference.
# 3. Segmentation parity: the reference mask is rembg's pipeline (resize to
#    320x320 with LANCZOS, divide by the max, ImageNet mean/std, the
#    network's first output min-max normalised, truncated to 8 bits,
#    LANCZOS back to the image size); kiln's is `kiln segment -m MODEL
#    --mask IN.jpg`, and again on PIL's decoded pixels saved as a PNG (so
#    a difference there is the network's or the pre/post-processing's,
#    not the decoder's).
#
# The bar: every mask (from the JPEG and from PIL's PNG) within 2 of the
# reference at every pixel; exit 0 when met, 1 otherwise, 2 when the
# comparison could not run.  Why 2 and not 0: kiln's network and
# onnxruntime's sum in different orders, so their float32 outputs differ
# in the last bits; the truncation to 8 bits after min-max turns a tiny
# difference next to a step into 1 LSB of the 320x320 prediction, and the
# Lanczos resize back to the image size (negative lobes: its weights'
# absolute values add up to more than 1, in two rounded passes) can turn
# neighbouring 1-LSB differences of opposite signs into a 2.  Anything
# larger is not rounding.  (Measured with this script's random-weight
# model: only 1s, in under 0.1% of the pixels; onnxruntime itself moves
# about as many pixels by 1 when its input changes by one float32 ulp.)
#
# Environment: REFDATA_DIR (default ../shared/refdata/matting beside the
# repository), SEG_BENCH_THREADS (onnxruntime intra-op threads, default
# nproc), SEG_BENCH_NPM_DIR and SEG_BENCH_ORT_PKG (see bench_lib.sh).
set -eu
build=$(cd "${1:?usage: segment_jpeg_parity.sh BUILD_DIR}" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
kiln=$build/kiln
work=$build/tests/tmp/segment_jpeg_parity
rm -rf "$work"; mkdir -p "$work"
bench_name=segment_jpeg_parity
. "$src/tests/bench/bench_lib.sh"
threads=${SEG_BENCH_THREADS:-$(nproc)}
refdata=${REFDATA_DIR:-$src/../shared/refdata/matting}
bar=2
py="$bench_python $src/tests/bench/jpeg_parity.py"

[ -x "$kiln" ] || die "no kiln binary at $kiln (build first)"
"$bench_python" -c 'import numpy, PIL' 2>/dev/null ||
    die "$bench_python lacks numpy or PIL (apt-get install python3-numpy python3-pil)"
bench_ort_setup
m=$(bench_model u2netp 320) || die "no u2netp@320 model"
echo "onnxruntime-node $ort_version, $threads intra-op threads; PIL $("$bench_python" -c \
    'import PIL; print(PIL.__version__)'); kiln $("$kiln" version 2>/dev/null | head -n 1)"
echo "model $m"

# 1. the test JPEGs
set -- "$src/conf/demo/photo00000.png" "$src/conf/demo/photo00001.png" "$src/conf/demo/gray00000.png"
for f in astronaut lemur; do
    if [ -f "$refdata/$f.png" ]; then
        set -- "$@" "$refdata/$f.png"
    else
        echo "($refdata/$f.png not found: skipped)"
    fi
done
names=$($py make-jpegs "$work" "$@") || die "making the test JPEGs failed"
# shellcheck disable=SC2086
set -- $names

# 2. decode parity
$py pil-decode "$work" "$@" || die "PIL decode / rembg normalize failed"
mkdir -p "$work/kiln-decode"
printf '[job]\ninputs = *.jpg\noutput_dir = kiln-decode\n' >"$work/decode.ini"
if ! "$kiln" run "$work/decode.ini" --quiet >"$work/kiln-decode.log" 2>&1; then
    sed 's/^/    /' "$work/kiln-decode.log" >&2
    die "kiln run (decode only) failed"
fi
$py decode-diff "$work" "$@" >"$work/decode.txt" || die "decode comparison failed"

# 3. segmentation: reference (rembg in Python + onnxruntime), then kiln
pairs=
for n in "$@"; do pairs="$pairs $work/$n.in.f32 $work/$n.out.f32"; done
# shellcheck disable=SC2086
if ! node "$src/tests/bench/ort_infer.js" "$m" 1x3x320x320 "$threads" $pairs >"$work/ort.log" 2>&1; then
    sed 's/^/    /' "$work/ort.log" >&2
    die "ort_infer.js failed"
fi
$py post "$work" "$@" || die "rembg postprocess failed"

status=0
rows=$work/rows
: >"$rows"
for n in "$@"; do
    row="$n"
    d=$(sed -n "s/^$n //p" "$work/decode.txt")
    row="$row $(field "$d" differing)/$(field "$d" samples) $(field "$d" max_abs)"
    [ -n "$(field "$d" max_abs)" ] || { echo "$n: decode comparison: ${d:-no result}" >&2; status=1; }
    for kind in jpg pil.png; do
        out=$work/$n.kiln-${kind%.png}.png
        if ! "$kiln" segment -m "$m" --mask "$work/$n.$kind" -o "$out" >"$work/$n.$kind.log" 2>&1; then
            echo "$n.$kind: kiln segment failed:" >&2
            sed 's/^/    /' "$work/$n.$kind.log" >&2
            row="$row - - -"; status=1; continue
        fi
        r=$($py mask-diff "$work/$n.ref.png" "$out")
        mx=$(field "$r" max_abs)
        if [ -z "$mx" ]; then
            echo "$n.$kind: mask comparison: $r" >&2
            row="$row - - -"; status=1; continue
        fi
        [ "$mx" -le "$bar" ] || status=1
        row="$row $mx $(field "$r" differing)/$(field "$r" pixels) $(field "$r" over1)"
    done
    # kiln's masks from the JPEG and from PIL's pixels: equal when the
    # decodes are
    r=$($py mask-diff "$work/$n.kiln-jpg.png" "$work/$n.kiln-pil.png" 2>/dev/null || :)
    row="$row $(field "$r" max_abs)"
    echo "$row" >>"$rows"
done

echo
echo "decode: PIL vs kiln, differing samples / all and max |diff|;"
echo "mask: kiln vs rembg+onnxruntime, max |diff|, differing pixels / all, pixels off by more than 1;"
echo "jpg/png: max |diff| between kiln's two masks"
printf '%-20s %16s %4s | %-25s | %-25s | %s\n' '' decode '' 'mask from the JPEG' \
    "mask from PIL's PNG" kiln
printf '%-20s %16s %4s | %3s %15s %5s | %3s %15s %5s | %s\n' file differing max max differing '>1' \
    max differing '>1' jpg/png
while read -r n dd dm am ad a1 bm bd b1 jp; do
    printf '%-20s %16s %4s | %3s %15s %5s | %3s %15s %5s | %7s\n' "$n" "$dd" "$dm" "$am" "$ad" "$a1" \
        "$bm" "$bd" "$b1" "${jp:--}"
done <"$rows"
echo
if [ "$status" -eq 0 ]; then
    echo "PASS: every mask within $bar of rembg's"
else
    echo "FAIL: a mask differs from rembg's by more than $bar, or a step failed (see above)"
fi
exit $status
