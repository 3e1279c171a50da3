#!/bin/sh
# Training end to end: `kiln splat train` on a COLMAP text dataset made
# around the bundled demo scene (tests/make_splat_dataset.py, images drawn
# by kiln splat render), the reference trainer's output layout read back
# by kiln splat render, the report, test scores, kiln splat eval, a
# checkpoint and --resume, brush's minimal training set, and bad datasets
# refused naming the file.
. "$TOP_SRCDIR/tests/lib.sh"
PY=/usr/bin/python3
SCENE="$TOP_SRCDIR/conf/demo_splat/knot.ply"
BRUSH="${REFDATA_DIR:-$TOP_SRCDIR/../shared/refdata/splat}/brush"
d=$(scratch cli_splat_train)

# the dataset: 16 views of 48x48 around the knot, points3D from half its means
$PY "$TOP_SRCDIR/tests/make_splat_dataset.py" "$SCENE" "$d/ds" 16 48 9 2
run_kiln 0 "$d/draw.log" splat render "$SCENE" --cameras "$d/ds/cameras.json" -o "$d/ds/images"
ok "16 training images" test "$(count_png "$d/ds/images")" = 16

short="--set train.iterations=300 --set train.test_iterations=300 --set train.save_iterations=150
 --set train.densify_from=100 --set train.densify_until=250 --set train.densify_interval=50
 --set train.sh_interval=100 --set train.sh_degree=1 --set train.image_cache=64K"
# shellcheck disable=SC2086
run_kiln 0 "$d/train.log" splat train "$d/ds" -o "$d/out" $short
expect_in "$d/train.log" "16 views (14 for training)"
expect_in "$d/train.log" "iteration 300/300"
expect_in "$d/train.log" "2 test views, PSNR"
ok "iteration 150 saved" test -s "$d/out/point_cloud/iteration_150/point_cloud.ply"
ok "iteration 300 saved" test -s "$d/out/point_cloud/iteration_300/point_cloud.ply"
ok "cameras.json written" test -s "$d/out/cameras.json"
expect_in "$d/out/cfg_args" "sh_degree=1"
expect_in "$d/out/report.json" "\"bytes_per_gaussian\""
expect_in "$d/out/report.json" "\"loss_curve\""
expect_in "$d/out/report.json" "\"mean_psnr\""
ok "no temporary files" no_temp_files "$d/out"
psnr=$(sed -n 's/.*iteration 300: 2 test views, PSNR \([0-9.]*\) dB.*/\1/p' "$d/train.log")
ok "test PSNR $psnr dB >= 25" awk -v p="$psnr" 'BEGIN { exit !(p >= 25) }'
# the output is what viewers read: kiln renders it from its cameras.json
run_kiln 0 "$d/view.log" splat render "$d/out/point_cloud/iteration_300/point_cloud.ply" \
    --cameras "$d/out/cameras.json" --view 3 -o "$d/view3.png"
ok "trained scene rendered" test -s "$d/view3.png"
run_kiln 0 "$d/eval.log" splat eval "$d/out"
expect_in "$d/eval.log" "iteration 300"
expect_in "$d/eval.log" "mean PSNR"

# a checkpoint at 150, then --resume to 300
# shellcheck disable=SC2086
run_kiln 0 "$d/half.log" splat train "$d/ds" -o "$d/res" $short --set train.iterations=150 \
    --set train.checkpoint_iterations=150
ok "checkpoint written" test -s "$d/res/checkpoint.kck"
# shellcheck disable=SC2086
run_kiln 0 "$d/resume.log" splat train "$d/ds" -o "$d/res" $short --resume
expect_in "$d/resume.log" "from iteration 150"
expect_in "$d/resume.log" "iteration 300/300"
rpsnr=$(sed -n 's/.*iteration 300: 2 test views, PSNR \([0-9.]*\) dB.*/\1/p' "$d/resume.log")
ok "resumed run ($rpsnr dB) ends near the straight one ($psnr dB)" \
    awk -v a="$psnr" -v b="$rpsnr" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d < 2.0) }'

# killed (SIGKILL) at a random moment, then resumed from its last checkpoint
# shellcheck disable=SC2086
"$KILN" splat train "$d/ds" -o "$d/kill" $short \
    --set train.checkpoint_iterations=25,50,75,100,125,150,175,200,225,250,275 \
    >"$d/kill.log" 2>&1 &
pid=$!
sleep "$(awk 'BEGIN { srand(); printf "%.1f", 2 + 4 * rand() }')"
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
# shellcheck disable=SC2086
run_kiln 0 "$d/killres.log" splat train "$d/ds" -o "$d/kill" $short --resume
expect_in "$d/killres.log" "iteration 300/300"
kpsnr=$(sed -n 's/.*iteration 300: 2 test views, PSNR \([0-9.]*\) dB.*/\1/p' "$d/killres.log")
ok "run killed at $(grep -c 'iteration .*/300' "$d/kill.log")00-ish and resumed ($kpsnr dB) ends near \
the straight one ($psnr dB)" awk -v a="$psnr" -v b="$kpsnr" \
    'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d < 2.0) }'
ok "no temporary files after the kill" no_temp_files "$d/kill"

# deterministic: two runs give the same bits, and so does one resumed from
# a checkpoint between two densifications (the statistics are saved)
det="--set train.deterministic=yes --set train.iterations=120 --set train.test_iterations=120
 --set train.save_iterations=120 --set train.densify_from=20 --set train.densify_until=100
 --set train.densify_interval=20 --set train.sh_interval=40 --set train.sh_degree=1"
# shellcheck disable=SC2086
run_kiln 0 "$d/det1.log" splat train "$d/ds" -o "$d/det1" $det
# shellcheck disable=SC2086
run_kiln 0 "$d/det2.log" splat train "$d/ds" -o "$d/det2" $det
ok "deterministic runs are bit-identical" cmp -s "$d/det1/point_cloud/iteration_120/point_cloud.ply" \
    "$d/det2/point_cloud/iteration_120/point_cloud.ply"
# shellcheck disable=SC2086
run_kiln 0 "$d/det3.log" splat train "$d/ds" -o "$d/det3" $det --set train.iterations=70 \
    --set train.checkpoint_iterations=70
# shellcheck disable=SC2086
run_kiln 0 "$d/det3r.log" splat train "$d/ds" -o "$d/det3" $det --resume
ok "a deterministic resume is bit-identical" cmp -s \
    "$d/det1/point_cloud/iteration_120/point_cloud.ply" \
    "$d/det3/point_cloud/iteration_120/point_cloud.ply"

# JPEG images (capture datasets mostly are): the same dataset re-encoded
mkdir -p "$d/dsjpg/images"
cp -r "$d/ds/sparse" "$d/dsjpg/"
$PY - "$d/ds/images" "$d/dsjpg/images" <<'PYEOF'
import os, sys
from PIL import Image
src, dst = sys.argv[1], sys.argv[2]
for name in os.listdir(src):
    Image.open(os.path.join(src, name)).convert("RGB").save(
        os.path.join(dst, name[:-4] + ".jpg"), quality=95)
PYEOF
sed -i 's/\.png$/.jpg/' "$d/dsjpg/sparse/0/images.txt"
run_kiln 0 "$d/jpg.log" splat train "$d/dsjpg" -o "$d/jpgout" --set train.iterations=40 \
    --set train.test_iterations=40
expect_in "$d/jpg.log" "iteration 40: 2 test views"

# downscale without an images_2 folder: the images are reduced on the fly
run_kiln 0 "$d/reduce.log" splat train "$d/ds" -o "$d/halfsize" --set train.downscale=2 \
    --set train.iterations=20 --set train.test_iterations=20
expect_in "$d/reduce.log" "reduced 2 times on the fly"
expect_in "$d/reduce.log" "iteration 20: 2 test views"

# brush's minimal set (one view; fl_x wins over camera_angle_x, with a warning)
run_kiln 0 "$d/brush.log" splat train "$BRUSH" -o "$d/brush" --set train.iterations=10 \
    --set train.test_every=0
expect_in "$d/brush.log" "using fl_x"
ok "brush set trained" test -s "$d/brush/point_cloud/iteration_10/point_cloud.ply"

# per-image masks (an alpha render, as a [segment] job's masks would be)
run_kiln 0 "$d/masks.log" splat render "$SCENE" --cameras "$d/ds/cameras.json" \
    --set splat.output=alpha -o "$d/masks"
run_kiln 0 "$d/masked.log" splat train "$d/ds" -o "$d/masked" --set train.iterations=60 \
    --set train.test_iterations=60 --set train.masks="$d/masks" --set train.alpha=ignore
expect_in "$d/masked.log" "iteration 60/60"
rm "$d/masks/view_004.png"
run_kiln 1 "$d/nomask.log" splat train "$d/ds" -o "$d/nomask" --set train.iterations=60 \
    --set train.masks="$d/masks"
expect_in "$d/nomask.log" "view_004.png"

# a [train] job: a directory of two datasets, sharded, restartable
mkdir -p "$d/many"
cp -r "$d/ds" "$d/many/alpha"
cp -r "$d/ds" "$d/many/beta"
cat >"$d/train.ini" <<INI
[job]
inputs = many
output_dir = trained
[train]
enabled = true
iterations = 40
save_iterations = 40
test_iterations = 40
densify = false
INI
run_kiln 0 "$d/job0.log" run "$d/train.ini" --shard 0/2
ok "shard 0 trained alpha" test -s "$d/trained/alpha/point_cloud/iteration_40/point_cloud.ply"
ok "shard 0 left beta" test ! -e "$d/trained/beta"
run_kiln 0 "$d/job.log" run "$d/train.ini"
ok "beta trained" test -s "$d/trained/beta/point_cloud/iteration_40/point_cloud.ply"
expect_in "$d/job.log" "dataset 2/2"
run_kiln 0 "$d/job2.log" run "$d/train.ini"
ok "nothing trained twice" test "$(grep -c 'dataset ' "$d/job2.log")" = 0
run_kiln 2 "$d/jobmix.log" run "$d/train.ini" --set splat.enabled=yes --set splat.orbit_frames=2
expect_in "$d/jobmix.log" "[train] trains datasets"

# photos -> segment -> train in one job: each dataset's images are
# segmented into <output>/masks first (a small test network), then trained
# with those masks
"$TOP_BUILDDIR/tests/make_model" mini_unet "$d/mini.onnx"
mkdir -p "$d/segds"
cp -r "$d/ds" "$d/segds/one"
cat >"$d/segtrain.ini" <<INI
[job]
inputs = segds
output_dir = segtrained
[segment]
enabled = true
model = mini.onnx
input_size = 8
[train]
enabled = true
iterations = 30
save_iterations = 30
test_iterations = 30
alpha = ignore
densify = false
INI
run_kiln 0 "$d/segtrain.log" run "$d/segtrain.ini"
ok "16 masks from the segment stage" test "$(count_png "$d/segtrained/one/masks")" = 16
ok "trained with them" test -s "$d/segtrained/one/point_cloud/iteration_30/point_cloud.ply"
run_kiln 2 "$d/segboth.log" run "$d/segtrain.ini" --set train.masks="$d/masks"
expect_in "$d/segboth.log" "choose one"

# host memory does not grow with the number of images: 60 and 600 views
for n in 60 600; do
    $PY "$TOP_SRCDIR/tests/make_splat_dataset.py" "$SCENE" "$d/ds$n" "$n" 24 9 4
    "$KILN" splat render "$SCENE" --cameras "$d/ds$n/cameras.json" -o "$d/ds$n/images" \
        >/dev/null 2>&1
done
# a warm-up run first, so that both measured runs find every program built
"$KILN" splat train "$d/ds60" -o "$d/rsswarm" --set train.iterations=20 \
    --set train.test_iterations=20 --set train.densify=false >/dev/null 2>&1
for n in 60 600; do
    run_kiln 0 "$d/rss$n.log" splat train "$d/ds$n" -o "$d/rss$n" --set train.iterations=120 \
        --set train.test_iterations=120 --set train.densify=false --set train.image_cache=32K
done
r60=$(json_number "$d/rss60/report.json" host_rss_peak_bytes)
r600=$(json_number "$d/rss600/report.json" host_rss_peak_bytes)
ok "RSS peak with 600 images ($r600) within 5 % of 60 ($r60)" \
    awk -v a="$r60" -v b="$r600" 'BEGIN { exit !(b <= 1.05 * a && a <= 1.05 * b) }'
echo "training host RSS peak: 60 images $r60 bytes, 600 images $r600 bytes"

# bad datasets: a missing image, an image of the wrong size, an unknown
# camera model, a truncated images.txt
cp -r "$d/ds" "$d/bad1"
rm "$d/bad1/images/view_005.png"
run_kiln 1 "$d/bad1.log" splat train "$d/bad1" -o "$d/bad1out" --set train.iterations=5
expect_in "$d/bad1.log" "view_005.png"
cp -r "$d/ds" "$d/bad2"
"$KILN" splat render "$SCENE" --orbit 1 --set splat.width=20 --set splat.height=20 \
    -o "$d/bad2/images/view_002.png" >/dev/null 2>&1
run_kiln 1 "$d/bad2.log" splat train "$d/bad2" -o "$d/bad2out" --set train.iterations=5
expect_in "$d/bad2.log" "view_002.png"
cp -r "$d/ds" "$d/bad3"
sed -i 's/PINHOLE\(.*\)$/OPENCV\1 0 0 0 0/' "$d/bad3/sparse/0/cameras.txt"
run_kiln 1 "$d/bad3.log" splat train "$d/bad3" -o "$d/bad3out" --set train.iterations=5
expect_in "$d/bad3.log" "OPENCV"
cp -r "$d/ds" "$d/bad4"
head -c 300 "$d/ds/sparse/0/images.txt" >"$d/bad4/sparse/0/images.txt"
run_kiln 1 "$d/bad4.log" splat train "$d/bad4" -o "$d/bad4out" --set train.iterations=5
expect_in "$d/bad4.log" "images.txt"
run_kiln 2 "$d/badkey.log" splat train "$d/ds" -o "$d/x" --set train.iterationz=5
expect_in "$d/badkey.log" "iterationz"
run_kiln 2 "$d/noout.log" splat train "$d/ds"
expect_in "$d/noout.log" "missing -o OUTDIR"
finish
