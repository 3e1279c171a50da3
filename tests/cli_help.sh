#!/bin/sh
# Every command answers --help (and -h) with its usage on stdout and exit
# status 0; an unknown option or a missing argument is a usage error: the
# command's usage on stderr and exit status 2.  No device is opened.
. "$TOP_SRCDIR/tests/lib.sh"
d=$(scratch cli_help)

# help_ok NAME ARGS...: kiln ARGS exits 0, "usage" on stdout, stderr empty.
help_ok() {
    name=$1; shift
    "$KILN" "$@" >"$d/$name.out" 2>"$d/$name.err"
    got=$?
    ok "kiln $* exits 0 (got $got)" test "$got" -eq 0
    expect_in "$d/$name.out" "usage"
    ok "kiln $* writes nothing on stderr" test ! -s "$d/$name.err"
}

# usage_error NAME ARGS...: kiln ARGS exits 2 with "usage" on stderr and
# nothing on stdout.
usage_error() {
    name=$1; shift
    "$KILN" "$@" >"$d/$name.out" 2>"$d/$name.err"
    got=$?
    ok "kiln $* exits 2 (got $got)" test "$got" -eq 2
    expect_in "$d/$name.err" "usage"
    ok "kiln $* writes nothing on stdout" test ! -s "$d/$name.out"
}

for cmd in devices run refine segment splat model model-info tune config version; do
    help_ok "$cmd-help" "$cmd" --help
    expect_in "$d/$cmd-help.out" "usage: kiln $cmd"
    help_ok "$cmd-h" "$cmd" -h
    usage_error "$cmd-bogus" "$cmd" --bogus
    expect_in "$d/$cmd-bogus.err" "unknown option '--bogus'"
    expect_in "$d/$cmd-bogus.err" "usage: kiln $cmd"
done

# --help after other arguments is still help, and runs nothing
help_ok run-late run "$d/no-such-job.ini" --quiet --help
help_ok refine-late refine a.png b.png -o "$d/never.png" --help
ok "refine --help wrote no output" test ! -e "$d/never.png"

# missing required arguments and option values
usage_error run-none run
expect_in "$d/run-none.err" "missing JOB.ini"
usage_error refine-none refine
usage_error refine-noout refine a.png b.png
expect_in "$d/refine-noout.err" "missing -o"
usage_error segment-none segment
usage_error segment-m segment -m
expect_in "$d/segment-m.err" "-m needs a value"
usage_error splat-none splat
usage_error splat-render-none splat render
expect_in "$d/splat-render-none.err" "missing SCENE"
usage_error splat-info-none splat info
help_ok splat-render-help splat render --help
help_ok splat-info-help splat info -h
usage_error splat-render-bogus splat render scene.ply --bogus
expect_in "$d/splat-render-bogus.err" "unknown option '--bogus'"
usage_error splat-view splat render scene.ply --orbit 3 --view x -o "$d/never.png"
expect_in "$d/splat-view.err" "--view wants a view index"
usage_error model-info-none model-info
usage_error model-none model
usage_error model-pull-none model pull
expect_in "$d/model-pull-none.err" "missing NAME"
help_ok model-pull-help model pull u2netp --help
usage_error model-list-extra model list extra
usage_error tune-device tune --device
expect_in "$d/tune-device.err" "--device needs a value"
usage_error run-report run job.ini --report
usage_error config-none config
usage_error version-extra version extra

# the general usage and the version
help_ok help help
expect_in "$d/help.out" "usage: kiln COMMAND"
for cmd in devices run refine segment splat model model-info tune config version; do
    expect_in "$d/help.out" "  $cmd "
done
help_ok dash-help --help
help_ok dash-h -h
"$KILN" --version >"$d/version.out" 2>"$d/version.err"
ok "kiln --version exits 0" test $? -eq 0
expect_in "$d/version.out" "kiln "
ok "kiln --version writes nothing on stderr" test ! -s "$d/version.err"
"$KILN" version >"$d/version2.out" 2>&1
ok "kiln version exits 0" test $? -eq 0
ok "kiln version and --version agree" cmp -s "$d/version.out" "$d/version2.out"
usage_error nothing
usage_error unknown no-such-command
expect_in "$d/unknown.err" "unknown command 'no-such-command'"
usage_error dash-bogus --bogus
finish
