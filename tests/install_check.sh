#!/bin/sh
# Installs the build into a scratch root and proves the installed pieces
# work on their own: `kiln` runs the demo job from outside the source tree
# (kernels are embedded), and a program compiled with `pkg-config kiln`
# links against libkiln and calls it.
# Usage: install_check.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1; src=$2
root=$build/tests/tmp/install-root
work=$build/tests/tmp/install-work
rm -rf "$root" "$work"
mkdir -p "$work"
make -s -C "$build" install DESTDIR="$root" prefix=/usr/local >/dev/null
bin=$root/usr/local/bin/kiln
lib=$root/usr/local/lib
LD_LIBRARY_PATH=$lib
export LD_LIBRARY_PATH
cp -r "$src/conf/demo" "$work/images"
printf '[job]\ninputs = images\noutput_dir = out\n[resize]\nenabled = yes\nmax_side = 40\n' > "$work/job.ini"
(cd "$work" && KILN_CACHE_DIR="$work/cache" "$bin" run job.ini --quiet)
test "$(find "$work/out" -name '*.png' | wc -l)" -eq "$(find "$work/images" -name '*.png' | wc -l)"
# the library exports only the kiln_ API
nm -D --defined-only "$lib/libkiln.so" | awk '$2 ~ /^[TDRB]$/ {print $3}' > "$work/exports.txt"
test -s "$work/exports.txt"
if grep -v '^kiln_' "$work/exports.txt"; then
    echo "libkiln.so exports symbols without the kiln_ prefix (above)" >&2
    exit 1
fi
echo "libkiln.so exports $(wc -l < "$work/exports.txt") symbols, all kiln_"
# the example program builds against the installed kiln.pc, using kiln.h alone
PKG_CONFIG_PATH=$lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$root
export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
cc -std=c11 -Wall -Wextra -Werror -o "$work/cutout" "$src/tests/example/cutout.c" \
    $(pkg-config --cflags --libs kiln)
# no stage: the image comes back as it was
(cd "$work" && KILN_CACHE_DIR="$work/cache" ./cutout images/photo00000.png same.png)
test -s "$work/same.png"
# refine a mask into a cut-out composited over green, on the device
(cd "$work" && KILN_CACHE_DIR="$work/cache" ./cutout --set refine.enabled=yes \
    --set refine.method=guided --set composite.enabled=yes --set 'composite.colour=#00ff00' \
    "$src/conf/demo_refine/scene00000.png" "$src/conf/demo_refine/masks/scene00000.png" cut.png) \
    > "$work/cutout.log"
grep -q "x3, kiln" "$work/cutout.log"
# a refine without its mask is a clear error, exit 1
if (cd "$work" && KILN_CACHE_DIR="$work/cache" ./cutout --set refine.enabled=yes \
    images/photo00000.png never.png) 2> "$work/nomask.log"; then
    echo "cutout without a mask succeeded" >&2; exit 1
fi
grep -q "needs the image's mask" "$work/nomask.log"
test ! -e "$work/never.png"
echo "installed kiln and libkiln work"
