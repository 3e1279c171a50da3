#!/bin/sh
# Refinement benchmark, side by side: kiln refine against pymatting (run
# from a source checkout) on the same images and trimaps, interleaved in
# one run (kiln process, pymatting runs, kiln process, ...), both warm.
# Cases: the astronaut photo upscaled 2x (1024x1024) with the rembg-style
# trimap kiln derives from its mask, and the lemur with its hand-made
# trimap.  Prints every timed run, a table of medians (alpha + foreground
# per side, the unknown pixels, kiln's alpha against pymatting's over the
# unknown pixels) and, last, the ratios pymatting / kiln.
#
# Usage: tests/bench/refine_bench.sh BUILD_DIR [REFDATA_DIR]
# Environment:
#   REFINE_BENCH_PYMATTING_DIR  a pymatting source checkout (default
#       ${XDG_CACHE_HOME:-$HOME/.cache}/kiln-bench/pymatting); never inside
#       the repository
#   REFINE_BENCH_ROUNDS         interleaved rounds (default 5)
#   BENCH_24MP                  1 (default): also refine a 24 MP photo
#                               within a 2 GB device budget, first
# Needs /usr/bin/python3 with numpy, scipy, numba and PIL (Debian:
# python3-numpy python3-scipy python3-numba python3-pil).  pymatting's
# first call compiles for about a minute; numba's cache goes to
# $NUMBA_CACHE_DIR (default: beside the checkout), so later runs skip it.
set -eu
build=$(cd "${1:?usage: refine_bench.sh BUILD_DIR [REFDATA_DIR]}" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
R=${2:-$src/../shared/refdata/matting}
kiln=$build/kiln
work=$build/tests/tmp/refine_bench
pm=${REFINE_BENCH_PYMATTING_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kiln-bench/pymatting}
python=/usr/bin/python3
[ -x "$python" ] || python=python3
die() { echo "refine_bench: $*" >&2; exit 2; }

[ -x "$kiln" ] || die "$kiln not found: build first"
[ -f "$R/astronaut.png" ] || die "reference data not found in $R"
if [ ! -f "$pm/pymatting/__init__.py" ]; then
    die "no pymatting source checkout in $pm.
Get one outside the repository, e.g.
    git clone --depth 1 https://github.com/pymatting/pymatting \"$pm\"
(or 'git --git-dir=MIRROR archive HEAD | tar -x -C \"$pm\"' from a local
mirror), or point REFINE_BENCH_PYMATTING_DIR at one."
fi
case "$pm" in "$src"/*) die "the pymatting checkout must lie outside the repository" ;; esac
"$python" -c 'import numpy, scipy, numba, PIL' 2>/dev/null ||
    die "$python lacks numpy, scipy, numba or PIL (Debian: python3-numpy python3-scipy python3-numba python3-pil)"

rm -rf "$work"; mkdir -p "$work"
export KILN_CACHE_DIR="${KILN_CACHE_DIR:-$build/tests/cache/kiln}"
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-$build/tests/cache/pocl}"
export NUMBA_CACHE_DIR="${NUMBA_CACHE_DIR:-$pm.numba-cache}"
mkdir -p "$NUMBA_CACHE_DIR"

# upscale SIDE NAME: the astronaut photo (Lanczos-3) and its mask
# (bilinear) at SIDE x SIDE, as $work/NAME.png and $work/NAME_mask.png
upscale() {
    printf '[job]\ninputs = %s\noutput_dir = %s\n[resize]\nenabled = yes\nwidth = %s\nheight = %s\nfilter = %s\n' \
        "$R/astronaut.png" "$work/p$1" "$1" "$1" lanczos3 > "$work/up.ini"
    "$kiln" run "$work/up.ini" --quiet
    mv "$work/p$1/astronaut.png" "$work/$2.png"
    printf '[job]\ninputs = %s\noutput_dir = %s\n[resize]\nenabled = yes\nwidth = %s\nheight = %s\nfilter = bilinear\n' \
        "$R/astronaut_mask.png" "$work/m$1" "$1" "$1" > "$work/up.ini"
    "$kiln" run "$work/up.ini" --quiet
    mv "$work/m$1/astronaut_mask.png" "$work/$2_mask.png"
}

if [ "${BENCH_24MP:-1}" = 1 ]; then
    upscale 4900 mp24
    echo "24 MP within a 2 GB device budget:"
    "$kiln" refine "$work/mp24.png" "$work/mp24_mask.png" -o "$work/mp24_out.png" \
        --set memory.device_budget=2G
    rm -f "$work/mp24.png" "$work/mp24_mask.png" "$work/mp24_out.png"
fi
upscale 1024 mp1
"$python" "$src/tests/bench/pymatting_run.py" --pymatting "$pm" --kiln "$kiln" --work "$work" \
    --rounds "${REFINE_BENCH_ROUNDS:-5}" \
    "1MP:$work/mp1.png:$work/mp1_mask.png:mask" \
    "lemur:$R/lemur.png:$R/lemur_trimap.png:trimap"
