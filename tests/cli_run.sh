#!/bin/sh
# `kiln run` end to end: mixed inputs through resize and composite, the
# report, restart (existing outputs skipped), cold vs warm compile times,
# and a batch spread over two devices.
. "$TOP_SRCDIR/tests/lib.sh"
d=$(scratch cli_run)
mkdir -p "$d/in"
"$MAKE_IMAGES" "$d/in" 4 64 48 rgba8 a
"$MAKE_IMAGES" "$d/in" 3 50 40 rgb8 b
"$MAKE_IMAGES" "$d/in" 3 33 21 gray8 c
"$MAKE_IMAGES" "$d/in" 2 40 40 rgba16 d
"$MAKE_IMAGES" "$d/in" 2 40 30 ga8 e
"$MAKE_IMAGES" "$d" 1 80 80 rgb8 bg
cat > "$d/job.ini" <<INI
; a job as a user writes it
[job]
name = cli-run
inputs = in
output_dir = out
[resize]
enabled = yes
max_side = 32
filter = lanczos3
[composite]
enabled = true
image = bg00000.png
[output]
suffix = _kiln
INI

# cold: a private, empty program cache
KILN_CACHE_DIR="$d/cache" run_kiln 0 "$d/log1" run "$d/job.ini" --report "$d/cold.json"
ok "14 outputs" test "$(count_png "$d/out")" -eq 14
ok "output named from input" test -f "$d/out/a00000_kiln.png"
ok "no temporary files" no_temp_files "$d/out"
expect_in "$d/cold.json" '"succeeded": 14'
expect_in "$d/cold.json" '"failed": 0'
expect_in "$d/cold.json" '"resize"'
expect_in "$d/cold.json" '"composite"'
expect_in "$d/cold.json" '"peak_rss_bytes"'
# kiln's own host allocations, beside the RSS: counted, bounded by the peak
host_allocs=$(json_number "$d/cold.json" allocations)
host_live=$(json_number "$d/cold.json" alloc_live_bytes)
host_peak=$(json_number "$d/cold.json" alloc_peak_bytes)
ok "host allocations counted" test "${host_allocs:-0}" -gt 0
ok "host live bytes within the peak" test "${host_live:-1}" -le "${host_peak:-0}"
expect_in "$d/cold.json" '"alloc_failures": 0'
expect_in "$d/cold.json" '"live_objects": 0'
expect_in "$d/cold.json" '"creations"'
cold_builds=$(json_number "$d/cold.json" builds)
ok "cold run compiled programs" test "${cold_builds:-0}" -gt 0

# re-run: every output exists and is skipped
KILN_CACHE_DIR="$d/cache" run_kiln 0 "$d/log2" run "$d/job.ini" --report "$d/again.json"
expect_in "$d/again.json" '"skipped_existing": 14'
expect_in "$d/again.json" '"succeeded": 0'
# one output removed: only that one is made again, from a warm cache
rm "$d/out/b00001_kiln.png"
KILN_CACHE_DIR="$d/cache" run_kiln 0 "$d/log3" run "$d/job.ini" --report "$d/warm.json"
expect_in "$d/warm.json" '"succeeded": 1'
ok "output restored" test -f "$d/out/b00001_kiln.png"
warm_builds=$(json_number "$d/warm.json" builds)
warm_hits=$(json_number "$d/warm.json" cache_hits)
ok "warm run compiled nothing" test "$warm_builds" -eq 0
ok "warm run loaded from the cache" test "$warm_hits" -gt 0
echo "compile: cold build_ms $(json_number "$d/cold.json" build_ms) ($cold_builds programs)," \
     "warm cache_load_ms $(json_number "$d/warm.json" cache_load_ms) ($warm_hits programs)"

# output sizes follow max_side, 16-bit output on request
run_kiln 0 "$d/log4" run "$d/job.ini" --set output.bit_depth=16 --set output.suffix=_16 \
    --set composite.enabled=no --quiet
ok "16-bit outputs" test "$(count_png "$d/out")" -eq 28

# two devices, one queue
POCL_DEVICES="pthread pthread" KILN_DEVICE=all run_kiln 0 "$d/log5" run "$d/job.ini" \
    --set output.suffix=_two --report "$d/two.json"
ok "two devices in the report" test "$(grep -c '"driver_version"' "$d/two.json")" -eq 2
expect_in "$d/two.json" '"succeeded": 14'
# the progress line redraws in place when asked (as on a terminal)
run_kiln 0 "$d/log6" run "$d/job.ini" --set output.suffix=_p --progress
expect_in "$d/log6" "ETA"
expect_in "$d/log6" "device memory"
ok "progress redraws in place" grep -q "$(printf '\r')" "$d/log6"

# the documented reference is what the code validates against
"$KILN" config --reference > "$d/reference.ini"
ok "conf/reference.ini matches kiln config --reference" cmp -s "$d/reference.ini" "$TOP_SRCDIR/conf/reference.ini"
finish
