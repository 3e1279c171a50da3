#!/bin/sh
# JPEG inputs end to end: a batch over a directory of PNGs and JPEGs (any
# case of extension) writes one PNG per input, a truncated JPEG fails alone
# with no partial output, x.png and x.jpg in one directory collide, a JPEG
# composite background, refinement of JPEGs with mask files read by the
# prefetch loader, and `kiln refine` / `kiln segment` on a JPEG.
. "$TOP_SRCDIR/tests/lib.sh"
MAKE_MODEL="$TOP_BUILDDIR/tests/make_model"
d=$(scratch cli_jpeg)
mkdir -p "$d/in" "$d/bg" "$d/clash" "$d/rin" "$d/masks" "$d/models"
"$MAKE_IMAGES" "$d/in" 2 40 30 rgb8 a
"$MAKE_IMAGES" "$d/in" 2 41 29 scene8.jpg j
"$MAKE_IMAGES" "$d/in" 1 33 21 gray8.jpg g
cp "$d/in/j00000.jpg" "$d/in/upper.JPEG"
# cut inside the scan data: the header reads, the decode fails
head -c $(($(wc -c < "$d/in/j00001.jpg") - 300)) "$d/in/j00001.jpg" > "$d/in/truncated.jpg"
"$MAKE_IMAGES" "$d/bg" 1 64 64 rgb8.jpg bg
# the PNG signature, for checking that outputs are PNGs
png_sig=$(head -c 8 "$d/in/a00000.png" | od -An -tx1)
is_png() { [ "$(head -c 8 "$1" | od -An -tx1)" = "$png_sig" ]; }

cat > "$d/job.ini" <<INI
[job]
inputs = in
output_dir = out
[resize]
enabled = yes
width = 20
[composite]
enabled = yes
image = bg/bg00000.jpg
INI
run_kiln 1 "$d/log" run "$d/job.ini" --report "$d/report.json" --no-progress
ok "six PNG outputs" test "$(count_png "$d/out")" -eq 6
for stem in a00000 a00001 j00000 j00001 g00000 upper; do
    ok "output $stem.png is a PNG" is_png "$d/out/$stem.png"
done
ok "no output for the truncated JPEG" test ! -e "$d/out/truncated.png"
ok "no temporary files" no_temp_files "$d/out"
expect_in "$d/log" "in/truncated.jpg"
expect_in "$d/log" "truncated or corrupt JPEG data"
expect_in "$d/report.json" '"succeeded": 6'
expect_in "$d/report.json" '"failed": 1'
expect_in "$d/report.json" '"KILN_E_FORMAT"'

# x.png and x.jpg would both write x.png: both fail, y.jpg goes through
"$MAKE_IMAGES" "$d/clash" 1 20 20 rgb8 x
"$MAKE_IMAGES" "$d/clash" 1 20 20 rgb8.jpg x
"$MAKE_IMAGES" "$d/clash" 1 20 20 rgb8.jpg y
run_kiln 1 "$d/clash.log" run "$d/job.ini" --set "job.inputs=$d/clash" --set "job.output_dir=$d/clash_out" \
    --set composite.enabled=no --report "$d/clash.json" --no-progress
expect_in "$d/clash.log" "output name"
expect_in "$d/clash.log" "x00000.png is shared with another input"
expect_in "$d/clash.json" '"failed": 2'
expect_in "$d/clash.json" '"succeeded": 1'
ok "the input without a clash was written" test -f "$d/clash_out/y00000.png"
ok "nothing written for the clashing name" test ! -e "$d/clash_out/x00000.png"

# refinement of JPEGs: each mask file comes through the prefetch loader;
# an input without its mask fails alone, naming the mask file
"$MAKE_IMAGES" "$d/rin" 2 48 40 scene8.jpg r
"$MAKE_IMAGES" "$d/masks" 1 48 40 disc8 r
mv "$d/masks/r00000.png" "$d/masks/r00000_mask.png"
cat > "$d/refine.ini" <<INI
[job]
inputs = rin
output_dir = rout
[refine]
enabled = yes
masks = masks
mask_suffix = _mask
INI
run_kiln 1 "$d/refine.log" run "$d/refine.ini" --report "$d/refine.json" --no-progress
ok "the JPEG with a mask was refined" is_png "$d/rout/r00000.png"
ok "no output for the JPEG without a mask" test ! -e "$d/rout/r00001.png"
expect_in "$d/refine.log" "mask file: $d/masks/r00001_mask.png"
expect_in "$d/refine.json" '"failed": 1'
expect_in "$d/refine.json" '"succeeded": 1'

# one image on the command line
run_kiln 0 "$d/single_refine.log" refine "$d/rin/r00000.jpg" "$d/masks/r00000_mask.png" \
    -o "$d/single_refine.png"
ok "kiln refine on a JPEG" is_png "$d/single_refine.png"
"$MAKE_MODEL" mini_unet "$d/models/mini.onnx"
run_kiln 0 "$d/single_segment.log" segment -m "$d/models/mini.onnx" \
    --set segment.input_size=8 "$d/rin/r00001.jpg" -o "$d/single_segment.png"
expect_in "$d/single_segment.log" "48x40"
ok "kiln segment on a JPEG" is_png "$d/single_segment.png"
run_kiln 1 "$d/single_bad.log" segment -m "$d/models/mini.onnx" \
    --set segment.input_size=8 "$d/in/truncated.jpg" -o "$d/never.png"
expect_in "$d/single_bad.log" "truncated.jpg"
ok "no output for a truncated JPEG" test ! -e "$d/never.png"
finish
