#!/bin/sh
# Fault injection at the command line: the Nth device buffer creation
# fails, or the device budget is too small.  The item fails with
# KILN_E_NOMEM, the batch goes on, and no buffer is left live at close
# (a leak would make kiln exit 2).
. "$TOP_SRCDIR/tests/lib.sh"
d=$(scratch cli_fault)
mkdir -p "$d/in"
"$MAKE_IMAGES" "$d/in" 4 48 32 rgba8
printf '[job]\ninputs = in\noutput_dir = out\n[resize]\nenabled = yes\nwidth = 24\n[composite]\nenabled = yes\n' > "$d/job.ini"

for n in 1 2 3 4 5 6 7 8; do
    rm -rf "$d/out"
    KILN_FAULT_POOL_CREATE=$n "$KILN" run "$d/job.ini" --report "$d/r$n.json" --no-progress >"$d/log$n" 2>&1
    st=$?
    ok "fault $n: exit 0 or 1 (no leak, no crash), got $st" test "$st" -le 1
    failed=$(json_number "$d/r$n.json" failed)
    ok "fault $n: at most one item failed" test "${failed:-9}" -le 1
    ok "fault $n: the others were written" test "$(count_png "$d/out")" -eq $((4 - failed))
    expect_in "$d/r$n.json" '"live_objects": 0'
    ok "fault $n: no temporary files" no_temp_files "$d/out"
done
expect_in "$d/log1" "KILN_E_NOMEM"

# host memory: KILN_FAULT_HOST_ALLOC=N fails kiln's Nth host allocation
# (the whole walk is tests/test_host_fault.c).  Early points fail the job
# (exit 2, "out of host memory", nothing written); later ones fail one item
# (exit 1); never a leak, a crash or a partial output.
for n in 1 20 60 150; do
    rm -rf "$d/out" && mkdir "$d/out"
    KILN_FAULT_HOST_ALLOC=$n "$KILN" run "$d/job.ini" --report "$d/h$n.json" --no-progress >"$d/hlog$n" 2>&1
    st=$?
    ok "host fault $n: exit 1 or 2, got $st" test "$st" -ge 1 -a "$st" -le 2
    ok "host fault $n: no leak" test "$(grep -c KILN_E_LEAK "$d/hlog$n")" -eq 0
    if [ "$st" = 1 ]; then
        expect_in "$d/hlog$n" "memory"
        expect_in "$d/hlog$n" "[KILN_E_HOSTMEM]"
        expect_in "$d/h$n.json" '"failed": 1'
        expect_in "$d/h$n.json" '"status": "KILN_E_HOSTMEM"'
        ok "host fault $n: the others were written" test "$(count_png "$d/out")" -eq 3
    else
        expect_in "$d/hlog$n" "out of host memory"
        ok "host fault $n: nothing written" test "$(count_png "$d/out")" -eq 0
    fi
    ok "host fault $n: no temporary files" no_temp_files "$d/out"
done
rm -rf "$d/out"
KILN_FAULT_HOST_ALLOC=soon run_kiln 0 "$d/hbad" run "$d/job.ini" --no-progress
expect_in "$d/hbad" "KILN_FAULT_HOST_ALLOC=soon is not a whole number"

# a budget too small for any item: every item fails cleanly
rm -rf "$d/out"
run_kiln 1 "$d/tiny" run "$d/job.ini" --set memory.device_budget=4K --report "$d/tiny.json" --no-progress
expect_in "$d/tiny.json" '"failed": 4'
expect_in "$d/tiny" "budget"
finish
