#!/bin/sh
# Signals (each case failed before its fix): SIGTERM and SIGINT stop a
# batch cleanly: no new items, those in flight finish, the report is
# written and marked interrupted, no temporary file is left, every output
# that exists is a whole PNG, and the exit status is 143 or 130; a second
# signal exits at once; temporaries left by a dead process are removed at
# the next start, a live process's are kept.
. "$TOP_SRCDIR/tests/lib.sh"
d=$(scratch adversarial_signals)
mkdir -p "$d/in"
"$MAKE_IMAGES" "$d/in" 300 160 120 rgb8 img >/dev/null
# Lanczos to a larger size keeps each item busy long enough to be caught
printf '[job]\ninputs = in\noutput_dir = out\nprefetch_items = 4\n[resize]\nenabled = yes\nwidth = 1200\nfilter = lanczos3\n' \
    > "$d/job.ini"
# warm the program cache so that the batch starts at once
run_kiln 0 "$d/warm.log" run "$d/job.ini" --set job.inputs="$d/in/img00000.png" \
    --set job.output_dir="$d/warm" --no-progress

# interrupt NAME STATUS: starts the batch, sends SIGNAL once some outputs
# exist, checks what is left.
interrupt() {
    sig=$1; want=$2
    rm -rf "$d/out" "$d/report.json"
    "$KILN" run "$d/job.ini" --report "$d/report.json" --no-progress > "$d/$sig.log" 2>&1 &
    pid=$!
    n=0
    while [ "$(count_png "$d/out" 2>/dev/null || echo 0)" -lt 3 ] && [ "$n" -lt 600 ]; do
        sleep 0.05; n=$((n + 1))
    done
    kill -s "$sig" "$pid"
    wait "$pid"
    got=$?
    ok "$sig: exit status $got, wanted $want" test "$got" -eq "$want"
    expect_in "$d/$sig.log" "finishing the items in flight"
    ok "$sig: stopped before the end" test "$(count_png "$d/out")" -lt 300
    ok "$sig: the report is valid JSON" python3 -m json.tool "$d/report.json" >/dev/null
    expect_in "$d/report.json" "\"interrupted\": \"SIG$sig\""
    ok "$sig: no temporary files" test -z "$(find "$d/out" -name '.*.tmp.*')"
    bad=0
    for f in "$d"/out/*.png; do
        "$KILN" refine "$f" "$f" -o "$d/check.png" --set refine.method=guided >/dev/null 2>&1 || bad=$((bad + 1))
    done
    ok "$sig: every output is a whole PNG" test "$bad" -eq 0
}
interrupt TERM 143
interrupt INT 130

# a second signal exits at once
rm -rf "$d/out"
"$KILN" run "$d/job.ini" --no-progress > "$d/twice.log" 2>&1 &
pid=$!
n=0
while [ ! -d "$d/out" ] && [ "$n" -lt 600 ]; do sleep 0.05; n=$((n + 1)); done
sleep 0.3
kill -s TERM "$pid"; sleep 0.2; kill -s TERM "$pid"
wait "$pid"
got=$?
ok "second signal: exit 143 ($got)" test "$got" -eq 143
expect_in "$d/twice.log" "second signal"

# what the second signal left in flight is removed by the next run's start
run_kiln 0 "$d/after_twice.log" run "$d/job.ini" --set job.inputs="$d/in/img0000[01].png" \
    --no-progress
ok "after a second signal: no temporary file once the next run started" \
    test -z "$(find "$d/out" -name '.*.tmp.*')"

# stale temporaries: a dead process's are removed at start, a live one's kept
sh -c 'exit 0' & dead=$!; wait "$dead"
mkdir -p "$d/out_stale"
: > "$d/out_stale/.img00000.png.tmp.$dead.0"
: > "$d/out_stale/.img00001.png.tmp.$$.0"
run_kiln 0 "$d/stale.log" run "$d/job.ini" --set job.inputs="$d/in/img0000[01].png" \
    --set job.output_dir="$d/out_stale" --no-progress
expect_in "$d/stale.log" "removed 1 temporary file"
ok "stale: the dead process's temporary is gone" test ! -e "$d/out_stale/.img00000.png.tmp.$dead.0"
ok "stale: a live process's temporary is kept" test -e "$d/out_stale/.img00001.png.tmp.$$.0"
finish
