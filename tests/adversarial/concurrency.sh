#!/bin/sh
# Concurrency: two processes on the same job at once, and the shards of a
# batch run at once, end with every output whole (a PNG kiln can read),
# no temporary file left, and the union of the shards exactly the batch.
. "$TOP_SRCDIR/tests/lib.sh"
d=$(scratch adversarial_concurrency)
mkdir -p "$d/in"
"$MAKE_IMAGES" "$d/in" 40 64 48 rgb8 img >/dev/null
printf '[job]\ninputs = in\noutput_dir = out\n[resize]\nenabled = yes\nwidth = 96\nfilter = lanczos3\n' \
    > "$d/job.ini"

# whole: every PNG in DIR decodes
whole() {
    bad=0
    for f in "$1"/*.png; do
        "$KILN" refine "$f" "$f" -o "$d/check.png" --set refine.method=guided >/dev/null 2>&1 ||
            bad=$((bad + 1))
    done
    test "$bad" -eq 0
}

# the same job twice at once (skip_existing on: each takes what is left)
"$KILN" run "$d/job.ini" --no-progress > "$d/a.log" 2>&1 & a=$!
"$KILN" run "$d/job.ini" --no-progress > "$d/b.log" 2>&1 & b=$!
wait "$a"; ra=$?
wait "$b"; rb=$?
ok "two runs at once: both exit 0 ($ra, $rb)" test "$ra" -eq 0 -a "$rb" -eq 0
ok "two runs at once: 40 outputs" test "$(count_png "$d/out")" -eq 40
ok "two runs at once: every output whole" whole "$d/out"
ok "two runs at once: no temporary files" test -z "$(find "$d/out" -name '.*.tmp.*')"

# four shards at once
pids=""
for i in 0 1 2 3; do
    "$KILN" run "$d/job.ini" --set job.output_dir="$d/sharded" --shard "$i/4" \
        --report "$d/s$i.json" --no-progress > "$d/s$i.log" 2>&1 &
    pids="$pids $!"
done
failed=0
for p in $pids; do wait "$p" || failed=$((failed + 1)); done
ok "four shards at once: all exit 0" test "$failed" -eq 0
total=0
for i in 0 1 2 3; do total=$((total + $(json_number "$d/s$i.json" succeeded))); done
ok "four shards at once: the union is the batch ($total)" test "$total" -eq 40
ok "four shards at once: 40 outputs" test "$(count_png "$d/sharded")" -eq 40
ok "four shards at once: every output whole" whole "$d/sharded"
finish
