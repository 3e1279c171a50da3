#!/bin/sh
# Adversarial paths (each case failed before its fix):
#  - output names two inputs share are found on the whole input list,
#    before sharding and skipping: no shard reports one as done, no run
#    overwrites one with the other;
#  - skip_existing does not take a directory or an empty file as done;
#  - outputs and reports never replace a device node, a FIFO or a
#    symbolic link (a link's target is written; "-" is standard output);
#  - an output_dir that is an input directory is refused at start;
#  - the report path is checked at start, before any item runs;
#  - a full output file system stops the batch with one message (run as
#    root on a 64 KiB tmpfs; skipped with the reason otherwise).
. "$TOP_SRCDIR/tests/lib.sh"
d=$(scratch adversarial_paths)

# --- collisions across shards: a/x.png and b/x.png give one output name
mkdir -p "$d/a" "$d/b"
"$MAKE_IMAGES" "$d/a" 1 12 10 rgb8 x >/dev/null
"$MAKE_IMAGES" "$d/b" 1 12 10 rgb8 x >/dev/null
"$MAKE_IMAGES" "$d/a" 2 12 10 rgb8 y >/dev/null
printf '[job]\ninputs = */*.png\noutput_dir = out\n' > "$d/clash.ini"
run_kiln 1 "$d/clash0.log" run "$d/clash.ini" --shard 0/2 --no-progress
run_kiln 1 "$d/clash1.log" run "$d/clash.ini" --shard 1/2 --no-progress
ok "shards: neither colliding input was skipped as done" \
    test "$(grep -c 'is shared with another input' "$d/clash0.log" "$d/clash1.log" |
            awk -F: '{s += $2} END {print s}')" -eq 2
ok "shards: no output for the colliding name" test ! -e "$d/out/x00000.png"
ok "shards: the other inputs done" test "$(count_png "$d/out")" -eq 2
expect_in "$d/clash1.log" "not taken as input"
# an output left by an earlier run with fewer inputs is not taken as done
printf '[job]\ninputs = a/*.png\noutput_dir = out2\n' > "$d/fewer.ini"
run_kiln 0 "$d/fewer.log" run "$d/fewer.ini" --no-progress
printf '[job]\ninputs = */*.png\noutput_dir = out2\n' > "$d/more.ini"
run_kiln 1 "$d/more.log" run "$d/more.ini" --no-progress
expect_in "$d/more.log" "x00000.png is shared with another input"
# without skip_existing neither overwrites the other
cp "$d/out2/x00000.png" "$d/x_before.png"
run_kiln 1 "$d/noskip.log" run "$d/more.ini" --set output.skip_existing=false --no-progress
ok "skip_existing=false: the earlier output is not overwritten" cmp -s "$d/out2/x00000.png" "$d/x_before.png"

# --- skip_existing: a directory or an empty file at the output is not done
mkdir -p "$d/in" "$d/out3"
"$MAKE_IMAGES" "$d/in" 2 12 10 rgb8 img >/dev/null
printf '[job]\ninputs = in\noutput_dir = out3\n' > "$d/job.ini"
: > "$d/out3/img00000.png"
run_kiln 0 "$d/empty.log" run "$d/job.ini" --report "$d/empty.json" --no-progress
ok "an empty output file is redone" test -s "$d/out3/img00000.png"
ok "an empty output file is not counted as done" test "$(json_number "$d/empty.json" skipped_existing)" -eq 0
rm -f "$d/out3/img00001.png"
mkdir "$d/out3/img00001.png"
run_kiln 1 "$d/dir.log" run "$d/job.ini" --no-progress
expect_in "$d/dir.log" "img00001.png: a directory"

# --- outputs through links, device nodes, FIFOs, standard output
img="$d/in/img00000.png"
run_kiln 2 "$d/devfull.log" refine "$img" "$img" -o /dev/full
expect_in "$d/devfull.log" "/dev/full: a character device"
ok "/dev/full is still a character device" test -c /dev/full
mkfifo "$d/fifo.png"
timeout 60 "$KILN" refine "$img" "$img" -o "$d/fifo.png" > "$d/fifo.log" 2>&1
ok "-o FIFO: refused without blocking" test $? -ne 0 -a $? -ne 124
expect_in "$d/fifo.log" "a FIFO"
ok "the FIFO is still a FIFO" test -p "$d/fifo.png"
ln -s "$d/target.png" "$d/link.png"
run_kiln 0 "$d/link.log" refine "$img" "$img" -o "$d/link.png" --set refine.method=guided
ok "-o link: the link stays a link" test -L "$d/link.png"
ok "-o link: its target holds the PNG" test -s "$d/target.png"
"$KILN" refine "$img" "$img" -o - --set refine.method=guided > "$d/stdout.png" 2> "$d/stdout.log"
ok "-o -: the PNG goes to standard output" cmp -s "$d/stdout.png" "$d/target.png"
ln -s /dev/stdout "$d/report-link.json"
# standard output is a pipe here: a link to it is refused at start
"$KILN" run "$d/job.ini" --report "$d/report-link.json" --no-progress 2>&1 | cat > "$d/replink.log"
expect_in "$d/replink.log" "report-link.json: a link to a FIFO"
ok "--report on a link to stdout: the link stays" test -L "$d/report-link.json"

# --- output_dir equal to an input directory
printf '[job]\ninputs = in\noutput_dir = in\n[output]\nsuffix = _s\nskip_existing = false\n' > "$d/same.ini"
before=$(ls "$d/in" | wc -l)
run_kiln 2 "$d/same.log" run "$d/same.ini" --no-progress
expect_in "$d/same.log" "is the directory of the inputs"
ok "output_dir = input dir: nothing written" test "$(ls "$d/in" | wc -l)" -eq "$before"

# --- the report path is checked before any item runs
rm -rf "$d/out4"
run_kiln 2 "$d/norep.log" run "$d/job.ini" --set job.output_dir=out4 \
    --report "$d/nonexistent/r.json" --no-progress
expect_in "$d/norep.log" "nonexistent"
ok "bad --report: no item ran" test "$(count_png "$d/out4" 2>/dev/null || echo 0)" -eq 0

# --- a full disk stops the batch early, with one message
if [ "$(id -u)" = 0 ] && mkdir -p "$d/full" && mount -t tmpfs -o size=64k tmpfs "$d/full" 2>/dev/null; then
    mkdir -p "$d/many"
    "$MAKE_IMAGES" "$d/many" 40 64 64 rgb8 big >/dev/null
    printf '[job]\ninputs = many\noutput_dir = full\nprefetch_items = 2\n' > "$d/full.ini"
    run_kiln 2 "$d/full.log" run "$d/full.ini" --no-progress
    expect_in "$d/full.log" "No space left on device"
    ok "full disk: one stop message" test "$(grep -c 'stopping the batch' "$d/full.log")" -eq 1
    ok "full disk: stopped early (at most a few items failed)" \
        test "$(grep -c 'No space left' "$d/full.log")" -le 4
    ok "full disk: no temporary files left" test -z "$(find "$d/full" -name '.*.tmp.*')"
    umount "$d/full"
else
    echo "full disk: skipped (needs root and a tmpfs mount)"
fi
finish
