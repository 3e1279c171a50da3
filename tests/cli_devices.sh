#!/bin/sh
# `kiln devices` (text and JSON) and device selection errors, on two POCL
# devices standing in for a fleet.
. "$TOP_SRCDIR/tests/lib.sh"
POCL_DEVICES="pthread pthread"
export POCL_DEVICES
d=$(scratch cli_devices)

run_kiln 0 "$d/text" devices
expect_in "$d/text" "0: "
expect_in "$d/text" "1: "
expect_in "$d/text" "global memory"
expect_in "$d/text" "fp64"
run_kiln 0 "$d/json" devices --json
expect_in "$d/json" '"opencl_c_version"'
expect_in "$d/json" '"max_alloc_bytes"'
expect_in "$d/json" '"local_mem_bytes"'
expect_in "$d/json" '"fp16"'
ok "two devices in the JSON listing" test "$(grep -c '"index"' "$d/json")" -eq 2
run_kiln 2 "$d/badopt" devices --bogus
expect_in "$d/badopt" "unknown option"

# an unmatched selector is an error listing the devices
"$MAKE_IMAGES" "$d" 2 16 16 rgb8
cat > "$d/job.ini" <<INI
[job]
inputs = .
output_dir = out
[device]
select = gpu:3
INI
run_kiln 2 "$d/nodev" run "$d/job.ini" --quiet
expect_in "$d/nodev" "device selector 'gpu:3' matches no device"
expect_in "$d/nodev" "  1: cpu"
KILN_DEVICE=no-such-vendor run_kiln 2 "$d/nodev2" run "$d/job.ini" --quiet
expect_in "$d/nodev2" "'no-such-vendor'"
# KILN_DEVICE overrides the job's selector
KILN_DEVICE=cpu:1 run_kiln 0 "$d/cpu1" run "$d/job.ini" --report "$d/r.json"
expect_in "$d/r.json" '"index": 1'
finish
