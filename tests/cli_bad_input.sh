#!/bin/sh
# Bad input: corrupt, truncated and fake PNGs, a decompression-bomb header,
# bad job keys and values, unusable output directories.  Each gives a clear
# error naming the file; the rest of the batch is not lost and no partial
# output is left.
. "$TOP_SRCDIR/tests/lib.sh"
d=$(scratch cli_bad_input)
mkdir -p "$d/in"
"$MAKE_IMAGES" "$d/in" 6 40 30 rgba8 good
cp "$d/in/good00000.png" "$d/good.png"
head -c 300 "$d/good.png" > "$d/in/truncated.png"
cp "$d/good.png" "$d/in/corrupt.png"
printf '\377\377\377\377\377\377\377\377' | dd of="$d/in/corrupt.png" bs=1 seek=60 conv=notrunc 2>/dev/null
echo "this is not an image" > "$d/in/text.png"
: > "$d/in/empty.png"
cp "$TOP_SRCDIR/tests/data/huge_header.png" "$d/in/huge.png"
cat > "$d/job.ini" <<INI
[job]
inputs = in
output_dir = out
[resize]
enabled = true
width = 20
INI

run_kiln 1 "$d/log" run "$d/job.ini" --report "$d/report.json" --no-progress
ok "the six good images were written" test "$(count_png "$d/out")" -eq 6
for bad in truncated corrupt text empty huge; do
    ok "no output for $bad" test ! -e "$d/out/$bad.png"
    expect_in "$d/log" "in/$bad.png"
done
expect_in "$d/log" "not a PNG or JPEG file"
expect_in "$d/log" "100000x100000"
expect_in "$d/report.json" '"failed": 5'
expect_in "$d/report.json" '"succeeded": 6'
expect_in "$d/report.json" '"KILN_E_LIMIT"'
expect_in "$d/report.json" '"KILN_E_FORMAT"'
ok "no temporary files" no_temp_files "$d/out"

# max_failures stops the batch early
rm -rf "$d/out"
run_kiln 1 "$d/log_stop" run "$d/job.ini" --set job.max_failures=1 --set job.prefetch_items=1 \
    --report "$d/stop.json" --no-progress
expect_in "$d/log_stop" "max_failures reached"
expect_in "$d/stop.json" '"stopped_early": true'

# job file errors name the file, section and key
printf '[job]\ninputs = in\noutput_dir = out\n[resize]\nwidht = 3\n' > "$d/typo.ini"
run_kiln 2 "$d/log_typo" run "$d/typo.ini"
expect_in "$d/log_typo" "typo.ini"
expect_in "$d/log_typo" "[resize]"
expect_in "$d/log_typo" "widht"
printf '[job]\ninputs = in\noutput_dir = out\n[resize]\nwidth = wide\n' > "$d/type.ini"
run_kiln 2 "$d/log_type" run "$d/type.ini"
expect_in "$d/log_type" "type.ini"
expect_in "$d/log_type" "width"
expect_in "$d/log_type" "'wide'"
printf '[job]\ninputs = in\noutput_dir = out\n[colour]\nx = 1\n' > "$d/section.ini"
run_kiln 2 "$d/log_section" run "$d/section.ini"
expect_in "$d/log_section" "unknown section"
run_kiln 2 "$d/log_set" run "$d/job.ini" --set resize.filter=cubic
expect_in "$d/log_set" "cubic"
run_kiln 2 "$d/log_missing" run "$d/nonexistent.ini"
expect_in "$d/log_missing" "nonexistent.ini"

# unusable output directories: a file in the way, a place nobody may write
: > "$d/a_file"
run_kiln 2 "$d/log_out1" run "$d/job.ini" --set "job.output_dir=$d/a_file"
expect_in "$d/log_out1" "a_file"
run_kiln 2 "$d/log_out2" run "$d/job.ini" --set job.output_dir=/proc/kiln-test-out
expect_in "$d/log_out2" "/proc/kiln-test-out"
# a FIFO named *.png among the inputs fails alone at once (it used to
# block the batch forever waiting for a writer); outputs for the rest
mkdir -p "$d/fifo_in"
"$MAKE_IMAGES" "$d/fifo_in" 2 24 16 rgba8 img >/dev/null
mkfifo "$d/fifo_in/zz_pipe.png"
printf '[job]\ninputs = fifo_in\noutput_dir = fifo_out\n' > "$d/fifo.ini"
timeout 120 "$KILN" run "$d/fifo.ini" --no-progress > "$d/log_fifo" 2>&1
rc=$?
ok "FIFO input: the batch ends, one item failed (exit $rc)" test "$rc" -eq 1
expect_in "$d/log_fifo" "zz_pipe.png: a FIFO, not a regular file"
ok "FIFO input: the other inputs done" test "$(count_png "$d/fifo_out")" -eq 2
finish
