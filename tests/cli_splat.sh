#!/bin/sh
# Splatting end to end: `kiln splat info`, `kiln splat render` against
# brush's golden images (gsplat mode) and the float64 Inria renders
# (inria mode) from the PLY files, orbits into a directory, the float and
# 16-bit outputs, bad scenes and bad use, and [splat] batch jobs: an
# orbit over two devices, restart and shards, the trainer's output
# layout (scene_cameras), and job-level errors.
. "$TOP_SRCDIR/tests/lib.sh"
PY=/usr/bin/python3
REF="${REFDATA_DIR:-$TOP_SRCDIR/../shared/refdata/splat}"
COMPARE="$TOP_SRCDIR/tests/splat_compare.py"
d=$(scratch cli_splat)

# the golden camera (brush_camera.json) as the trainer's cameras.json
cat >"$d/cameras.json" <<'JSON'
[{"id": 0, "img_name": "golden", "width": 123, "height": 82,
  "position": [0.123, 0.456, -8.0],
  "rotation": [[1, 0, 0], [0, 1, 0], [0, 0, 1]], "fx": 61.5, "fy": 61.5}]
JSON

# info
run_kiln 0 "$d/info.log" splat info "$REF/brush_basic.ply"
expect_in "$d/info.log" "gaussians      16"
expect_in "$d/info.log" "sh degree      3"
expect_in "$d/info.log" "236 bytes a Gaussian"

# parity through the command line: both scenes, both modes
for scene in brush_tiny brush_basic; do
    run_kiln 0 "$d/$scene-gsplat.log" splat render "$REF/$scene.ply" --cameras "$d/cameras.json" \
        --set splat.mode=gsplat --set splat.output=rgba -o "$d/$scene-gsplat.f32"
    ok "$scene gsplat mode matches brush's golden image" \
        $PY "$COMPARE" "$d/$scene-gsplat.f32" "$REF/${scene}_golden.f32"
    run_kiln 0 "$d/$scene-inria.log" splat render "$REF/$scene.ply" --cameras "$d/cameras.json" \
        --set splat.output=rgba -o "$d/$scene-inria.f32" --repeat 2
    ok "$scene inria mode matches the float64 Inria render" \
        $PY "$COMPARE" "$d/$scene-inria.f32" "$REF/${scene}_oracle_inria.f32"
done
expect_in "$d/brush_basic-inria.log" "splat golden: 123x82:"
expect_in "$d/brush_basic-inria.log" "blend"
expect_in "$d/brush_basic-inria.log" "device pool peak"

# a 16-bit PNG and the other outputs
run_kiln 0 "$d/png16.log" splat render "$REF/brush_basic.ply" --cameras "$d/cameras.json" \
    --set output.bit_depth=16 --set splat.output=rgba -o "$d/basic16.png"
ok "16-bit RGBA written" test -s "$d/basic16.png"
run_kiln 0 "$d/depth.log" splat render "$REF/brush_basic.ply" --cameras "$d/cameras.json" \
    --set splat.output=depth -o "$d/depth.pfm"
ok "PFM depth written" test -s "$d/depth.pfm"
expect_in "$d/depth.pfm" "Pf"
run_kiln 2 "$d/depth8.log" splat render "$REF/brush_basic.ply" --cameras "$d/cameras.json" \
    --set splat.output=depth -o "$d/depth.png"
expect_in "$d/depth8.log" "bit_depth = 16"
run_kiln 2 "$d/pfm4.log" splat render "$REF/brush_basic.ply" --cameras "$d/cameras.json" \
    --set splat.output=rgba -o "$d/rgba.pfm"
expect_in "$d/pfm4.log" "1 or 3 channels"

# an orbit into a directory, one file per frame
run_kiln 0 "$d/orbit.log" splat render "$TOP_SRCDIR/conf/demo_splat/knot.ply" --orbit 4 \
    --set splat.width=64 --set splat.height=48 -o "$d/orbit"
ok "four orbit frames" test "$(count_png "$d/orbit")" = 4
ok "frames named by index" test -s "$d/orbit/orbit_0003.png"
run_kiln 0 "$d/view.log" splat render "$TOP_SRCDIR/conf/demo_splat/knot.ply" --orbit 8 --view 5 \
    --set splat.width=40 --set splat.height=30 -o "$d/one.png"
ok "one view to one file" test -s "$d/one.png"

# bad scenes and bad use
head -c 700 "$REF/brush_basic.ply" >"$d/truncated.ply"
run_kiln 1 "$d/trunc.log" splat render "$d/truncated.ply" --cameras "$d/cameras.json" -o "$d/t.png"
expect_in "$d/trunc.log" "truncated.ply"
ok "no output for a bad scene" test ! -e "$d/t.png"
run_kiln 1 "$d/trunc_info.log" splat info "$d/truncated.ply"
expect_in "$d/trunc_info.log" "truncated.ply"
run_kiln 2 "$d/nocam.log" splat render "$REF/brush_basic.ply" -o "$d/x.png"
expect_in "$d/nocam.log" "--cameras FILE or --orbit N"
run_kiln 2 "$d/badview.log" splat render "$REF/brush_basic.ply" --cameras "$d/cameras.json" \
    --view 3 -o "$d/x.png"
expect_in "$d/badview.log" "--view 3"
run_kiln 2 "$d/sub.log" splat draw "$REF/brush_basic.ply"
expect_in "$d/sub.log" "unknown subcommand"
run_kiln 1 "$d/maxg.log" splat render "$REF/brush_basic.ply" --cameras "$d/cameras.json" \
    --set splat.max_gaussians=8 -o "$d/x.png"
expect_in "$d/maxg.log" "max_gaussians"

# a [splat] job: an orbit of the demo scene on two devices, restartable
mkdir -p "$d/scenes"
cp "$TOP_SRCDIR/conf/demo_splat/knot.ply" "$d/scenes/knot.ply"
cp "$REF/brush_basic.ply" "$d/scenes/basic.ply"
cat >"$d/orbit.ini" <<INI
[job]
inputs = scenes
output_dir = out
[splat]
enabled = true
orbit_frames = 5
width = 48
height = 32
background = 0.1, 0.2, 0.3
INI
POCL_DEVICES="pthread pthread" run_kiln 0 "$d/job.log" run "$d/orbit.ini" \
    --set device.select=all --report "$d/report.json"
ok "two scenes x five frames" test "$(count_png "$d/out")" = 10
ok "outputs named scene_view" test -s "$d/out/knot_orbit_0004.png"
ok "no temporary files" no_temp_files "$d/out"
expect_in "$d/report.json" "\"splat\""
run_kiln 0 "$d/rerun.log" run "$d/orbit.ini"
expect_in "$d/rerun.log" "10 already done"
rm -rf "$d/out"
run_kiln 0 "$d/shard.log" run "$d/orbit.ini" --shard 1/3
ok "a third of the items" test "$(count_png "$d/out")" = 3

# the trainer's output layout: point_cloud/iteration_N/point_cloud.ply + cameras.json
mkdir -p "$d/model/point_cloud/iteration_30" 
cp "$REF/brush_tiny.ply" "$d/model/point_cloud/iteration_30/point_cloud.ply"
cp "$d/cameras.json" "$d/model/cameras.json"
cat >"$d/trained.ini" <<INI
[job]
inputs = model/point_cloud/iteration_30/point_cloud.ply
output_dir = trained
[splat]
enabled = true
scene_cameras = ../../cameras.json
mode = gsplat
output = rgba
[output]
bit_depth = 16
INI
run_kiln 0 "$d/trained.log" run "$d/trained.ini"
ok "trainer layout rendered" test -s "$d/trained/point_cloud_golden.png"

# job-level errors: no camera source, two sources, a missing camera file
run_kiln 2 "$d/nosrc.log" run "$d/orbit.ini" --set splat.orbit_frames=0
expect_in "$d/nosrc.log" "one camera source"
run_kiln 2 "$d/missingcam.log" run "$d/orbit.ini" --set splat.orbit_frames=0 \
    --set splat.cameras="$d/none.json"
expect_in "$d/missingcam.log" "none.json"
run_kiln 2 "$d/segsplat.log" run "$d/orbit.ini" --set segment.enabled=yes
expect_in "$d/segsplat.log" "[splat] renders scenes"
# a bad scene fails alone; the other scene's views are written
cp "$d/truncated.ply" "$d/scenes/bad.ply"
rm -rf "$d/out"
run_kiln 1 "$d/badjob.log" run "$d/orbit.ini"
expect_in "$d/badjob.log" "bad.ply"
ok "good scenes still rendered" test "$(count_png "$d/out")" = 10
finish
