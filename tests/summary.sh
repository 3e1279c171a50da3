#!/bin/sh
# Prints every test's result, the log tail of each failure, and as the last
# line "N passed, N failed, N skipped" over the build directories given
# (automake's parallel harness leaves a .trs file beside each test).
# Exit status 1 when a test failed or no test ran.
# Usage: summary.sh BUILD_DIR...
passed=0; failed=0; skipped=0
for dir in "$@"; do
    for trs in $(find "$dir/tests" -name '*.trs' 2>/dev/null | sort); do
        [ -f "$trs" ] || continue
        name=${trs%.trs}
        r=$(sed -n 's/^:test-result: //p' "$trs" | head -n 1)
        echo "${r:-ERROR}: $(basename "$dir")/${name#"$dir"/}"
        case "$r" in
            PASS|XFAIL) passed=$((passed + 1)) ;;
            SKIP) skipped=$((skipped + 1)) ;;
            *) failed=$((failed + 1))
               echo "---- last lines of $name.log"
               tail -n 40 "$name.log" 2>/dev/null
               echo "----" ;;
        esac
    done
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
