# Shared helpers for the command-line tests (sourced).  Each test counts
# its checks and exits 0 when all passed, 1 otherwise.
checks=0
failures=0
: "${KILN:?run through tests/env.sh}"
MAKE_IMAGES="$TOP_BUILDDIR/tests/make_images"

# ok CONDITION-DESCRIPTION COMMAND...: runs COMMAND, counts a failure when it fails.
ok() {
    what=$1; shift
    checks=$((checks + 1))
    if "$@"; then :; else
        failures=$((failures + 1))
        echo "FAILED: $what" >&2
    fi
}

# run_kiln EXPECTED_STATUS LOGFILE ARGS...: runs kiln, checks its exit status.
run_kiln() {
    want=$1; log=$2; shift 2
    "$KILN" "$@" >"$log" 2>&1
    got=$?
    checks=$((checks + 1))
    if [ "$got" != "$want" ]; then
        failures=$((failures + 1))
        echo "FAILED: kiln $* exited $got, wanted $want; output:" >&2
        sed 's/^/    /' "$log" >&2
    fi
}

# expect_in LOGFILE TEXT: the log contains TEXT (fixed string).
expect_in() {
    checks=$((checks + 1))
    if ! grep -qF -- "$2" "$1"; then
        failures=$((failures + 1))
        echo "FAILED: '$2' not in $1:" >&2
        sed 's/^/    /' "$1" >&2
    fi
}

# count_png DIR: number of .png files in DIR.
count_png() {
    find "$1" -maxdepth 1 -name '*.png' | wc -l
}

# no_temp_files DIR: no temporary output was left behind.
no_temp_files() {
    [ -z "$(find "$1" -maxdepth 1 -name '.*tmp*' | head -n 1)" ]
}

# json_number FILE KEY: the first number after "KEY": in FILE.
json_number() {
    sed -n "s/.*\"$2\": *\([0-9.e+-]*\).*/\1/p" "$1" | head -n 1
}

# scratch NAME: a fresh scratch directory for this test.
scratch() {
    d="$TEST_TMPDIR/$1"
    rm -rf "$d"
    mkdir -p "$d"
    echo "$d"
}

# finish: prints the count and exits with the result.
finish() {
    echo "$checks checks, $failures failed"
    [ "$failures" -eq 0 ]
    exit $?
}
