#!/bin/sh
# Shards: --shard i/n, SLURM arrays (with MIN and STEP) and Kubernetes
# indexed jobs each take every n-th input; the union is exactly the batch.
. "$TOP_SRCDIR/tests/lib.sh"
d=$(scratch cli_shard)
mkdir -p "$d/in"
"$MAKE_IMAGES" "$d/in" 23 12 10 rgb8
printf '[job]\ninputs = in\noutput_dir = out\n' > "$d/job.ini"

total=0
for i in 0 1 2; do
    run_kiln 0 "$d/log$i" run "$d/job.ini" --shard "$i/3" --report "$d/r$i.json" --quiet
    n=$(json_number "$d/r$i.json" listed)
    total=$((total + n))
done
ok "--shard: union of 3 shards is the batch" test "$total" -eq 23
ok "--shard: 23 outputs" test "$(count_png "$d/out")" -eq 23
ok "shard 0 of 3 has 8 items" test "$(json_number "$d/r0.json" listed)" -eq 8

# SLURM array 1,3,5,7 (MIN=1 STEP=2, COUNT=4)
rm -rf "$d/out"
total=0
for id in 1 3 5 7; do
    SLURM_ARRAY_TASK_ID=$id SLURM_ARRAY_TASK_COUNT=4 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_STEP=2 \
        run_kiln 0 "$d/slog$id" run "$d/job.ini" --report "$d/s$id.json" --quiet
    total=$((total + $(json_number "$d/s$id.json" listed)))
done
ok "SLURM: union is the batch" test "$total" -eq 23
ok "SLURM: 23 outputs" test "$(count_png "$d/out")" -eq 23

# Kubernetes indexed job
rm -rf "$d/out"
for idx in 0 1; do
    JOB_COMPLETION_INDEX=$idx KILN_SHARD_COUNT=2 run_kiln 0 "$d/klog$idx" run "$d/job.ini" --quiet
done
ok "indexed job: 23 outputs" test "$(count_png "$d/out")" -eq 23

# malformed shards
run_kiln 2 "$d/bad1" run "$d/job.ini" --shard 3/3
expect_in "$d/bad1" "3/3"
SLURM_ARRAY_TASK_ID=x SLURM_ARRAY_TASK_COUNT=2 run_kiln 2 "$d/bad2" run "$d/job.ini"
expect_in "$d/bad2" "SLURM_ARRAY_TASK_ID"
finish
