#!/bin/sh
# Job file and option abuse (each case failed before its fix): a UTF-8
# byte-order mark is accepted; a NUL byte, an unterminated quote, text
# after a closing quote and a key given twice are refused naming the line;
# an input pattern that matches nothing is an error; an absurd --shard
# count says what is wrong.
. "$TOP_SRCDIR/tests/lib.sh"
d=$(scratch adversarial_ini)
mkdir -p "$d/in"
"$MAKE_IMAGES" "$d/in" 1 12 10 rgb8 img >/dev/null

printf '\357\273\277[job]\ninputs = in\noutput_dir = out\n' > "$d/bom.ini"
run_kiln 0 "$d/bom.log" run "$d/bom.ini" --no-progress
ok "BOM: the job ran" test "$(count_png "$d/out")" -eq 1

printf '[job]\ninputs = in\noutput_dir = out\n\000junk\n' > "$d/nul.ini"
run_kiln 2 "$d/nul.log" run "$d/nul.ini" --no-progress
expect_in "$d/nul.log" "nul.ini: line 4: a NUL byte"

printf '[job]\ninputs = in\noutput_dir = out\n[composite]\nenabled = yes\ncolour = "#ff0000\n' > "$d/quote.ini"
run_kiln 2 "$d/quote.log" run "$d/quote.ini" --no-progress
expect_in "$d/quote.log" "quote.ini: line 6: unterminated quote"

printf '[job]\ninputs = in\noutput_dir = out\n[composite]\ncolour = "#ff0000" and more\n' > "$d/after.ini"
run_kiln 2 "$d/after.log" run "$d/after.ini" --no-progress
expect_in "$d/after.log" "line 5: text after the closing quote"
printf '[job]\ninputs = in\noutput_dir = out\n[composite]\ncolour = "#ff0000" ; red\n' > "$d/comment.ini"
run_kiln 0 "$d/comment.log" run "$d/comment.ini" --set job.output_dir="$d/out_c" --no-progress

printf '[job]\ninputs = in\noutput_dir = out\n[resize]\nwidth = 8\nenabled = yes\nwidth = 6\n' > "$d/dup.ini"
run_kiln 2 "$d/dup.log" run "$d/dup.ini" --no-progress
expect_in "$d/dup.log" "line 7: [resize] width appears again (first at line 5)"
# a section opened twice merges its keys: that is fine
printf '[job]\ninputs = in\n[resize]\nenabled = no\n[job]\noutput_dir = out_twice\n' > "$d/twice.ini"
run_kiln 0 "$d/twice.log" run "$d/twice.ini" --no-progress

printf '[job]\ninputs = nothing*.png\noutput_dir = out\n' > "$d/none.ini"
run_kiln 2 "$d/none.log" run "$d/none.ini" --no-progress
expect_in "$d/none.log" "matches no PNG or JPEG file"

run_kiln 2 "$d/shard.log" run "$d/bom.ini" --shard 0/99999999999999999999 --no-progress
expect_in "$d/shard.log" "a number above"
finish
