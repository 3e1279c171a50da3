#!/bin/sh
# `kiln model pull` and `kiln model list` against a local HTTP server
# (tests/model_server.py on 127.0.0.1; nothing leaves the machine) serving
# a generated model: a good download and its listing, a file already
# there, a wrong hash, a cut connection continued with a Range request, a
# server that ignores ranges, Ctrl-C, two pulls of one model at once, an
# unwritable directory, a 404, and bad use.
. "$TOP_SRCDIR/tests/lib.sh"
PY=/usr/bin/python3
d=$(scratch cli_model_pull)
"$TOP_BUILDDIR/tests/make_model" mini_unet "$d/mini.onnx"
md5=$(md5sum "$d/mini.onnx" | cut -d' ' -f1)
size=$(wc -c <"$d/mini.onnx")
half=$((size / 2))

# the process's own surroundings: no proxy, no model directories but ours
unset http_proxy https_proxy all_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY U2NET_HOME \
    XDG_DATA_HOME KILN_MODEL_DIR
export no_proxy='*' HOME="$d/home" KILN_CACHE_DIR="$d/cache"
mkdir -p "$HOME"

"$PY" "$TOP_SRCDIR/tests/model_server.py" "$d/mini.onnx" "$d/port" "$d/requests.log" &
server=$!
trap 'kill $server 2>/dev/null' EXIT
tries=0
while [ ! -s "$d/port" ] && [ $tries -lt 100 ]; do sleep 0.1; tries=$((tries + 1)); done
port=$(cat "$d/port")
base="http://127.0.0.1:$port"
m="$d/models"

# requests_with TEXT: the number of requests the server logged with TEXT
requests_with() {
    grep -cF -- "$1" "$d/requests.log"
}

# a good download: in place, byte for byte, no .part, listed as ok
run_kiln 0 "$d/good.log" model pull u2netp --url "$base/ok/" --md5 "$md5" --dir "$m"
expect_in "$d/good.log" "u2netp: saved $m/u2netp.onnx from $base/ok/u2netp.onnx"
ok "the downloaded file is the served one" cmp -s "$d/mini.onnx" "$m/u2netp.onnx"
ok "no .part left after a download" test ! -e "$m/u2netp.onnx.part"
ok "the --md5 note beside it" grep -q "^$md5  u2netp.onnx\$" "$m/u2netp.onnx.md5"
run_kiln 0 "$d/list.log" model list --dir "$m"
expect_in "$d/list.log" "installed"
ok "listed installed with md5 ok" grep -q "^u2netp  *installed .* ok  *$m/u2netp.onnx" "$d/list.log"
ok "the others listed missing" grep -q "^u2net  *missing .*kiln model pull u2net)" "$d/list.log"
# a progress bar on a terminal only (none above: stderr was a file)
ok "no progress bar off a terminal" test "$(grep -c '%' "$d/good.log")" -eq 0
if command -v script >/dev/null 2>&1; then
    script -qec "'$KILN' model pull u2netp --url '$base/ok/' --md5 $md5 --dir '$d/tty'" /dev/null \
        >"$d/tty.log" 2>&1
    expect_in "$d/tty.log" "u2netp [##############################] 100%"
fi
# already there: nothing downloaded
before=$(requests_with /ok/u2netp.onnx)
run_kiln 0 "$d/again.log" model pull u2netp --url "$base/ok/" --md5 "md5:$md5" --dir "$m"
expect_in "$d/again.log" "already there"
ok "nothing requested for a file already there" test "$(requests_with /ok/u2netp.onnx)" -eq "$before"

# the directory rembg uses ($U2NET_HOME), created when missing; list and
# segment's lookup find the file there
U2NET_HOME="$d/u2home/deep" run_kiln 0 "$d/home.log" model pull silueta \
    --url "$base/ok/silueta.onnx" --md5 "$md5"
ok "pulled into a new \$U2NET_HOME" cmp -s "$d/mini.onnx" "$d/u2home/deep/silueta.onnx"
U2NET_HOME="$d/u2home/deep" run_kiln 0 "$d/home_list.log" model list --no-check
ok "listed from \$U2NET_HOME" grep -q "^silueta  *installed .* ok  *$d/u2home/deep/silueta.onnx" \
    "$d/home_list.log"
# then $XDG_DATA_HOME/.u2net, then ~/.u2net, as rembg chooses
XDG_DATA_HOME="$d/xdg" run_kiln 0 "$d/xdg.log" model pull silueta --url "$base/ok/" --md5 "$md5"
ok "pulled into \$XDG_DATA_HOME/.u2net" cmp -s "$d/mini.onnx" "$d/xdg/.u2net/silueta.onnx"
upper=$(echo "$md5" | tr a-f A-F)
run_kiln 0 "$d/home2.log" model pull silueta --url "$base/ok/" --md5 "$upper"
ok "pulled into ~/.u2net" cmp -s "$d/mini.onnx" "$HOME/.u2net/silueta.onnx"
# the hash cache: a fresh cache lists it "not checked" with --no-check,
# then "ok" once hashed
KILN_CACHE_DIR="$d/cache2" U2NET_HOME="$d/u2home/deep" run_kiln 0 "$d/nc.log" model list --no-check
ok "an uncached file is not checked" grep -q "^silueta .* not checked" "$d/nc.log"
KILN_CACHE_DIR="$d/cache2" U2NET_HOME="$d/u2home/deep" run_kiln 0 "$d/c.log" model list
ok "hashed when checking" grep -q "^silueta .* ok " "$d/c.log"
# a file that is not rembg's (no note): mismatch
cp "$d/mini.onnx" "$m/u2net_human_seg.onnx"
run_kiln 0 "$d/mis.log" model list --dir "$m"
ok "a foreign file is a mismatch" grep -q "^u2net_human_seg  *installed .* mismatch" "$d/mis.log"
rm "$m/u2net_human_seg.onnx"

# a wrong hash: refused with both hashes, nothing left behind
run_kiln 1 "$d/bad.log" model pull isnet-general-use --url "$base/ok/" --dir "$m" \
    --md5 0123456789abcdef0123456789abcdef
expect_in "$d/bad.log" "md5 $md5 does not match the expected md5 0123456789abcdef0123456789abcdef"
ok "nothing left after a wrong hash" test ! -e "$m/isnet-general-use.onnx" -a \
    ! -e "$m/isnet-general-use.onnx.part"
# rembg's own hash when no --md5 is given
run_kiln 1 "$d/bad2.log" model pull u2net_human_seg --url "$base/ok/" --dir "$m"
expect_in "$d/bad2.log" "md5 $md5 does not match the expected md5 c09ddc2e0104f800e3e1bb4652583d1f"

# a cut connection: the half that arrived is kept and the next pull asks
# for the rest with a Range request
run_kiln 1 "$d/cut.log" model pull isnet-anime --url "$base/cut/" --md5 "$md5" --dir "$m"
expect_in "$d/cut.log" "isnet-anime.onnx.part keeps the $half bytes that arrived"
ok "no final file after a cut" test ! -e "$m/isnet-anime.onnx"
ok "the .part holds the first half" test "$(wc -c <"$m/isnet-anime.onnx.part")" -eq "$half"
run_kiln 0 "$d/part_list.log" model list --dir "$m"
ok "a .part listed as partial" grep -q "^isnet-anime  *partial " "$d/part_list.log"
run_kiln 0 "$d/resume.log" model pull isnet-anime --url "$base/cut/" --md5 "$md5" --dir "$m"
expect_in "$d/resume.log" "continued after $half bytes"
ok "the server saw the Range request" test "$(requests_with "/cut/isnet-anime.onnx bytes=$half-")" -eq 1
ok "the continued file is whole" cmp -s "$d/mini.onnx" "$m/isnet-anime.onnx"
ok "no .part after continuing" test ! -e "$m/isnet-anime.onnx.part"

# a server that ignores the range (200): the whole file again; a part
# longer than the file (416): the same
head -c "$half" "$d/mini.onnx" >"$m/u2net.onnx.part"
run_kiln 0 "$d/norange.log" model pull u2net --url "$base/norange/u2net.onnx" --md5 "$md5" --dir "$m"
expect_in "$d/norange.log" "downloaded whole: the server ignored the range"
ok "whole after a 200 to a range" cmp -s "$d/mini.onnx" "$m/u2net.onnx"
rm "$m/u2net.onnx"
cat "$d/mini.onnx" "$d/mini.onnx" >"$m/u2net.onnx.part"
run_kiln 0 "$d/past.log" model pull u2net --url "$base/ok/" --md5 "$md5" --dir "$m"
ok "whole after a 416" cmp -s "$d/mini.onnx" "$m/u2net.onnx"

# Ctrl-C in a transfer: the .part stays for the next pull, no final file
"$KILN" model pull u2netp --url "$base/slow/" --md5 "$md5" --dir "$d/int" >"$d/int.log" 2>&1 &
pull=$!
tries=0
while [ ! -s "$d/int/u2netp.onnx.part" ] && [ $tries -lt 100 ]; do sleep 0.1; tries=$((tries + 1)); done
kill -INT $pull
wait $pull
status=$?
ok "Ctrl-C exits 130 (got $status)" test "$status" -eq 130
expect_in "$d/int.log" "interrupted"
ok "the .part survives Ctrl-C" test -s "$d/int/u2netp.onnx.part"
ok "no final file after Ctrl-C" test ! -e "$d/int/u2netp.onnx"
run_kiln 0 "$d/int2.log" model pull u2netp --url "$base/ok/" --md5 "$md5" --dir "$d/int"
expect_in "$d/int2.log" "continued after"
ok "whole after Ctrl-C and a second pull" cmp -s "$d/mini.onnx" "$d/int/u2netp.onnx"

# a part another pull is writing (it holds the lock) is left to it
if command -v flock >/dev/null 2>&1; then
    mkdir -p "$d/busy"
    flock "$d/busy/u2netp.onnx.part" "$KILN" model pull u2netp --url "$base/ok/" --md5 "$md5" \
        --dir "$d/busy" >"$d/busy.log" 2>&1
    status=$?
    ok "a locked part fails the pull (got $status)" test "$status" -eq 1
    expect_in "$d/busy.log" "another process is downloading into it"
    ok "the other pull's part is kept" test -e "$d/busy/u2netp.onnx.part"
fi

# an unwritable directory (its parent is a regular file: unwritable even
# to root): a clear error naming it, exit 2
: >"$d/afile"
run_kiln 2 "$d/unw.log" model pull u2netp --url "$base/ok/" --md5 "$md5" --dir "$d/afile/models"
expect_in "$d/unw.log" "model directory $d/afile/models (--dir) cannot be created"
U2NET_HOME="$d/afile/u2" run_kiln 2 "$d/unw2.log" model pull u2netp --url "$base/ok/"
expect_in "$d/unw2.log" "$d/afile/u2 (\$U2NET_HOME)"

# a 404: the URL and the status, nothing left behind
run_kiln 1 "$d/404.log" model pull u2netp --url "$base/missing/" --dir "$d/m404"
expect_in "$d/404.log" "downloading $base/missing/u2netp.onnx: HTTP status 404"
ok "nothing left after a 404" test -z "$(ls -A "$d/m404")"

# bad use: exit 2 with the reason
run_kiln 2 "$d/u1.log" model pull u3net
expect_in "$d/u1.log" "unknown model 'u3net'"
run_kiln 2 "$d/u2.log" model pull --all --md5 "$md5"
expect_in "$d/u2.log" "give one NAME"
run_kiln 2 "$d/u3.log" model pull u2net u2netp --url "$base/ok/u2net.onnx"
expect_in "$d/u3.log" "names one file"
run_kiln 2 "$d/u4.log" model pull u2net --md5 xyz
expect_in "$d/u4.log" "not 32 hex digits"
run_kiln 2 "$d/u5.log" model pull
run_kiln 2 "$d/u6.log" model frob
expect_in "$d/u6.log" "unknown subcommand 'frob'"
finish
