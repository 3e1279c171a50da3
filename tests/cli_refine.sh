#!/bin/sh
# The refine stage end to end against pymatting's outputs (refdata), in
# `kiln refine` and in batch jobs with mask files: warnings, fallbacks and
# failures of single items.
. "$TOP_SRCDIR/tests/lib.sh"
R=${REFDATA_DIR:-$TOP_SRCDIR/../shared/refdata/matting}
if [ ! -f "$R/astronaut.png" ]; then
    echo "reference data not found in $R: skipping"
    exit 77
fi
CMP="$TOP_BUILDDIR/tests/matte_compare"
d=$(scratch cli_refine)

# rembg's recipe from a network's mask: trimap, closed-form alpha
run_kiln 0 "$d/astro.log" refine "$R/astronaut.png" "$R/astronaut_mask.png" -o "$d/astro_alpha.png" \
    --set refine.output=alpha --set output.bit_depth=16
cat "$d/astro.log"
ok "astronaut alpha parity" "$CMP" alpha "$d/astro_alpha.png" "$R/astronaut_alpha_cf.png" \
    "$R/astronaut_trimap_rembg.png" 0.25 2e-4
# a hand-made trimap; a 16-bit cut-out carries alpha and foreground
run_kiln 0 "$d/lemur.log" refine "$R/lemur.png" "$R/lemur_trimap.png" --trimap -o "$d/lemur_cut.png" \
    --set output.bit_depth=16
cat "$d/lemur.log"
ok "lemur alpha parity" "$CMP" alpha "$d/lemur_cut.png" "$R/lemur_alpha_cf.png" "$R/lemur_trimap.png" 0.25 2e-4
ok "lemur foreground parity" "$CMP" foreground "$d/lemur_cut.png" "$R/lemur_foreground_ml.png" \
    "$R/lemur_alpha_cf.png" 0.02
# the unknown band scales with the image when erode_reference_size is set
# (512 / 256: the 10-pixel square becomes 20): more unknown pixels
unknown_of() { sed -n 's/.*, \([0-9]*\) unknown pixels.*/\1/p' "$1" | head -n 1; }
run_kiln 0 "$d/scaled.log" refine "$R/astronaut.png" "$R/astronaut_mask.png" -o "$d/astro_scaled.png" \
    --set refine.output=alpha --set refine.erode_reference_size=256
ok "a scaled band has more unknown pixels" test "$(unknown_of "$d/scaled.log")" -gt "$(unknown_of "$d/astro.log")"
# the fast mode
run_kiln 0 "$d/guided.log" refine "$R/astronaut.png" "$R/astronaut_mask.png" -o "$d/astro_guided.png" \
    --set refine.method=guided --set composite.enabled=yes
ok "guided output written" test -s "$d/astro_guided.png"
# bad use
run_kiln 2 "$d/usage.log" refine "$R/astronaut.png" "$R/astronaut_mask.png"
expect_in "$d/usage.log" "usage: kiln refine"
printf 'not a png' > "$d/broken_mask.png"
run_kiln 1 "$d/broken.log" refine "$R/astronaut.png" "$d/broken_mask.png" -o "$d/never.png"
expect_in "$d/broken.log" "broken_mask.png"
ok "no output for a failed refinement" test ! -e "$d/never.png"

# a batch: images with masks in a directory
mkdir -p "$d/in" "$d/masks" "$d/small"
for n in a b c d; do cp "$R/astronaut.png" "$d/in/$n.png"; done
cp "$R/astronaut_mask.png" "$d/masks/a_mask.png"
cp "$R/astronaut_mask.png" "$d/small/b_mask.png"
printf '[job]\ninputs = small\noutput_dir = masks\n[resize]\nenabled = yes\nwidth = 256\n' > "$d/shrink.ini"
run_kiln 0 "$d/shrink.log" run "$d/shrink.ini" --quiet          # masks/b_mask.png at half size
"$MAKE_IMAGES" "$d/masks" 1 512 512 white8 c_mask                 # no background at all
mv "$d/masks/c_mask00000.png" "$d/masks/c_mask.png"
cat > "$d/job.ini" <<INI
[job]
inputs = in
output_dir = out
[refine]
enabled = yes
masks = masks
mask_suffix = _mask
[composite]
enabled = yes
colour = "#204080"
INI
run_kiln 1 "$d/batch.log" run "$d/job.ini" --report "$d/batch.json" --no-progress
ok "three of four written" test "$(count_png "$d/out")" -eq 3
expect_in "$d/batch.log" "mask 256x256 resized to the image's 512x512"
expect_in "$d/batch.log" "no background pixel"
expect_in "$d/batch.log" "d_mask.png"
expect_in "$d/batch.json" '"refine"'
expect_in "$d/batch.json" '"failed": 1'
ok "no output for the item without a mask" test ! -e "$d/out/d.png"
# stricter settings: the resized and the empty masks fail too
run_kiln 1 "$d/strict.log" run "$d/job.ini" --set job.output_dir=strict --set refine.mask_size_mismatch=fail \
    --set refine.on_empty_trimap=fail --report "$d/strict.json" --no-progress
expect_in "$d/strict.json" '"failed": 3'
expect_in "$d/strict.log" "mask_size_mismatch = fail"
expect_in "$d/strict.log" "on_empty_trimap = fail"
# trimap files in a batch
mkdir -p "$d/tin" "$d/trimaps"
cp "$R/lemur.png" "$d/tin/lemur.png"
cp "$R/lemur_trimap.png" "$d/trimaps/lemur.png"
printf '[job]\ninputs = tin\noutput_dir = tout\n[refine]\nenabled = yes\ntrimaps = trimaps\noutput = alpha\n[output]\nbit_depth = 16\n' > "$d/tjob.ini"
run_kiln 0 "$d/tjob.log" run "$d/tjob.ini" --quiet
ok "batch with a trimap file: lemur alpha parity" "$CMP" alpha "$d/tout/lemur.png" "$R/lemur_alpha_cf.png" \
    "$R/lemur_trimap.png" 0.25 2e-4
finish
