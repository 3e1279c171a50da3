#!/bin/sh
# Refinement benchmark: kiln's refine time (trimap + closed-form alpha +
# multi-level foreground) on the reference images and on upscaled 1, 4
# and 24 megapixel photos with rembg-style trimaps, beside pymatting's
# figures on the 2-core development machine (from
# ../shared/refdata/matting/README.md: pymatting cannot be installed
# here, so its figures come from there, measured on that machine).
# Usage: tests/bench/refine_bench.sh BUILD_DIR [REFDATA_DIR]
# Prints a table and the ratio pymatting / kiln.  Times are warm (programs
# cached; in one process, the first run discarded: pymatting's figures are
# warm too), the median of 3 runs.
set -eu
build=$(cd "${1:?usage: refine_bench.sh BUILD_DIR [REFDATA_DIR]}" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
R=${2:-$src/../shared/refdata/matting}
kiln=$build/kiln
work=$build/tests/tmp/refine_bench
rm -rf "$work"; mkdir -p "$work/small" "$work/masks"
export KILN_CACHE_DIR="${KILN_CACHE_DIR:-$build/tests/cache/kiln}"
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-$build/tests/cache/pocl}"

# upscaled photos and masks (Lanczos-3 for the photo, bilinear for the mask)
upscale() { # SIDE NAME
    printf '[job]\ninputs = %s\noutput_dir = %s\n[resize]\nenabled = yes\nwidth = %s\nheight = %s\nfilter = %s\n' \
        "$R/astronaut.png" "$work/p$1" "$1" "$1" lanczos3 > "$work/up.ini"
    "$kiln" run "$work/up.ini" --quiet
    mv "$work/p$1/astronaut.png" "$work/$2.png"
    printf '[job]\ninputs = %s\noutput_dir = %s\n[resize]\nenabled = yes\nwidth = %s\nheight = %s\nfilter = bilinear\n' \
        "$R/astronaut_mask.png" "$work/m$1" "$1" "$1" > "$work/up.ini"
    "$kiln" run "$work/up.ini" --quiet
    mv "$work/m$1/astronaut_mask.png" "$work/$2_mask.png"
}
upscale 1024 mp1
upscale 2048 mp4

# run NAME IMAGE MASK MODE EXTRA...: prints "ms peak_pool_MiB peak_rss_MiB unknown"
run() {
    name=$1; img=$2; mask=$3; mode=$4; shift 4
    "$kiln" refine "$img" "$mask" $mode -o "$work/$name.png" --repeat 4 "$@" | sed 1d | sed -n 's/.*, \([0-9]*\) unknown pixels: \([0-9.]*\) ms.*pool peak \([0-9.]*\) MiB, process peak RSS \([0-9.]*\) MiB.*/\2 \3 \4 \1/p' \
        | sort -n | sed -n 2p
}

printf '%-10s %-10s %8s %10s %12s %8s %12s %12s\n' case size unknown kiln_ms pymatting_ms ratio pool_MiB rss_MiB
row() { # NAME SIZE PYMATTING_MS KILN_FIGURES
    set -- "$1" "$2" "$3" $4
    ratio=$(awk -v p="$3" -v k="$4" 'BEGIN { printf "%.1fx", p / k }')
    printf '%-10s %-10s %8s %10s %12s %8s %12s %12s\n' "$1" "$2" "$7" "$4" "$3" "$ratio" "$5" "$6"
}
row lemur 680x440 960 "$(run lemur "$R/lemur.png" "$R/lemur_trimap.png" --trimap)"
row astronaut 512x512 510 "$(run astronaut "$R/astronaut.png" "$R/astronaut_mask.png" "")"
row 1MP 1024x1024 2300 "$(run mp1 "$work/mp1.png" "$work/mp1_mask.png" "")"
row 4MP 2048x2048 16400 "$(run mp4 "$work/mp4.png" "$work/mp4_mask.png" "")"
if [ "${BENCH_24MP:-1}" = 1 ]; then
    upscale 4900 mp24
    echo "24 MP within a 2 GB device budget:"
    "$kiln" refine "$work/mp24.png" "$work/mp24_mask.png" -o "$work/mp24_out.png" --set memory.device_budget=2G
fi
