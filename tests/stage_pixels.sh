#!/bin/sh
# The stage chain checked pixel by pixel against independent references
# (PIL and numpy, tests/stage_pixels.py): network mask -> cut-out alpha,
# composite over a colour, 16-bit outputs, the resize stage's sizes and
# its area and Lanczos filters.  Skipped when python3-pil is missing.
. "$TOP_SRCDIR/tests/lib.sh"
py=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1
if ! "$py" -c 'import PIL, numpy' >/dev/null 2>&1; then
    echo "stage_pixels: python3-pil or python3-numpy is not installed: skipped"
    exit 77
fi
d=$(scratch stage_pixels)
"$TOP_BUILDDIR/tests/make_model" mini_unet "$d/mini.onnx"
ok "input made" "$py" "$TOP_SRCDIR/tests/stage_pixels.py" make "$d"
seg="segment -m $d/mini.onnx"
run_kiln 0 "$d/mask.log" $seg --mask "$d/in.png" -o "$d/mask.png"
run_kiln 0 "$d/cut.log" $seg "$d/in.png" -o "$d/cut.png"
run_kiln 0 "$d/over.log" $seg "$d/in.png" -o "$d/over.png" \
    --set composite.enabled=yes --set 'composite.colour=#336699'
run_kiln 0 "$d/m16.log" $seg --mask "$d/in.png" -o "$d/mask16.png" --set output.bit_depth=16
for spec in "w19 resize.width=19" "h9 resize.height=9" "max20 resize.max_side=20" \
            "both resize.width=11 resize.height=13"; do
    # shellcheck disable=SC2086
    set -- $spec
    name=$1; shift
    sets=""
    for s in "$@"; do sets="$sets --set $s"; done
    # shellcheck disable=SC2086
    run_kiln 0 "$d/size_$name.log" $seg "$d/in.png" -o "$d/size_$name.png" \
        --set resize.enabled=yes $sets
done
run_kiln 0 "$d/area.log" $seg --mask "$d/in.png" -o "$d/mask_area.png" \
    --set resize.enabled=yes --set resize.width=19 --set resize.filter=area
run_kiln 0 "$d/lanczos.log" $seg --mask "$d/in.png" -o "$d/mask_lanczos.png" \
    --set resize.enabled=yes --set resize.width=19 --set resize.filter=lanczos3
"$py" "$TOP_SRCDIR/tests/stage_pixels.py" check "$d" > "$d/check.log" 2>&1
rc=$?
cat "$d/check.log"
ok "pixels match PIL/numpy" test "$rc" -eq 0
finish
