#!/bin/sh
# A batch of hostile inputs under a hard address-space limit (ulimit -v,
# 1.5 GiB: far below what the chunk bombs declare), so that any
# allocation a hostile file can cause shows as a failure: chunk-bomb PNGs
# (tEXt, zTXt, iTXt, iCCP declaring 2 GiB), a truncated PNG whose header
# announces 15000x15000, a JPEG whose header announces 60000x60000, and
# good images.  Every hostile file fails alone with a message, the good
# ones are written, nothing crashes.
. "$TOP_SRCDIR/tests/lib.sh"
py=/usr/bin/python3
d=$(scratch adversarial_memlimit)
mkdir -p "$d/in"
"$MAKE_IMAGES" "$d/in" 3 40 30 rgb8 good >/dev/null
"$MAKE_IMAGES" "$d/in" 1 40 30 rgb8.jpg photo >/dev/null
"$py" - "$d/in" <<'PY'
import struct, sys, zlib
d = sys.argv[1]
def chunk(t, data, length=None):
    n = len(data) if length is None else length
    return struct.pack(">I", n) + t + data + struct.pack(">I", zlib.crc32(t + data) & 0xffffffff)
sig = b"\x89PNG\r\n\x1a\n"
ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
for t in (b"tEXt", b"zTXt", b"iTXt", b"iCCP"):
    open("%s/bomb_%s.png" % (d, t.decode()), "wb").write(
        sig + ihdr + struct.pack(">I", 0x7fffffff) + t + b"abcdef")
big = chunk(b"IHDR", struct.pack(">IIBBBBB", 15000, 15000, 8, 2, 0, 0, 0))
idat = chunk(b"IDAT", zlib.compress(b"\0" * 1000))
open("%s/huge_truncated.png" % d, "wb").write(sig + big + idat)
jpg = open("%s/photo00000.jpg" % d, "rb").read()
i = jpg.find(b"\xff\xc0")
if i < 0:
    i = jpg.find(b"\xff\xc2")
huge = jpg[:i + 5] + struct.pack(">HH", 60000, 60000) + jpg[i + 9:]
open("%s/huge_header.jpg" % d, "wb").write(huge[:len(huge) // 2])
PY
printf '[job]\ninputs = in\noutput_dir = out\nmax_pixels = 4G\n[resize]\nenabled = yes\nwidth = 20\n' \
    > "$d/job.ini"
(ulimit -v 1572864; "$KILN" run "$d/job.ini" --no-progress > "$d/run.log" 2>&1)
rc=$?
ok "under 1.5 GiB of address space: the batch ends with failed items (exit $rc)" test "$rc" -eq 1
for f in bomb_tEXt bomb_zTXt bomb_iTXt bomb_iCCP huge_truncated; do
    expect_in "$d/run.log" "$f.png"
done
expect_in "$d/run.log" "huge_header.jpg"
ok "the good inputs are done" test "$(count_png "$d/out")" -eq 4
ok "no output for a hostile input" test ! -e "$d/out/bomb_tEXt.png" -a ! -e "$d/out/huge_truncated.png"
finish
