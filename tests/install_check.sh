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
cat > "$work/use.c" <<'C'
#include <kiln.h>
#include <stdio.h>
#include <string.h>
int main(void) { printf("%s %s\n", kiln_version(), kiln_status_name(KILN_E_NOMEM)); return strcmp(kiln_status_name(KILN_E_NOMEM), "KILN_E_NOMEM") != 0; }
C
PKG_CONFIG_PATH=$lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$root
export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
cc -o "$work/use" "$work/use.c" $(pkg-config --cflags --libs kiln)
"$work/use"
echo "installed kiln and libkiln work"
