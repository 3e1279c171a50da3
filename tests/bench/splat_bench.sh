#!/bin/sh
# Splat rendering benchmark: seeded synthetic scenes (gsplat's benchmark
# recipe: tests/splat_synth.h) rendered by `kiln splat render --repeat`,
# warm, one view each; prints per-step device times from profiling
# events (project, scan, keys, sort, ranges, blend), the median render,
# Gaussians/s, tile instances sorted/s and the device pool peak.
#
# Usage: tests/bench/splat_bench.sh [BUILD_DIR] [CASES]
#   CASES: space-separated COUNTxWIDTHxHEIGHT (default
#   "100000x648x420 1000000x1280x720"; add 3000000x1920x1080 on a GPU).
#   SPLAT_BENCH_REPEAT (default 5) renders per case after one warm-up.
#   KILN_DEVICE picks the device as for every kiln command.
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
cases=${2:-"100000x648x420 1000000x1280x720"}
repeat=${SPLAT_BENCH_REPEAT:-5}
work=$build/bench-splat
mkdir -p "$work"
export KILN_CACHE_DIR="${KILN_CACHE_DIR:-$build/tests/cache/kiln}"
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-$build/tests/cache/pocl}"
mkdir -p "$KILN_CACHE_DIR" "$POCL_CACHE_DIR"
tool=$build/tests/splat_synth_tool
[ -x "$tool" ] || make -C "$build" tests/splat_synth_tool >/dev/null

printf '%-26s %9s %9s %8s %8s %8s %8s %8s %8s %10s %12s %10s\n' case "render ms" project scan keys \
    sort ranges blend instances "Gauss/s" "inst. sorted/s" "pool MiB"
for c in $cases; do
    n=${c%%x*}; rest=${c#*x}; w=${rest%%x*}; h=${rest#*x}
    # the grid tiling keeps the density of the 100k-Gaussian box for larger scenes
    tiles=1
    [ "$n" -ge 800000 ] && tiles=2
    [ "$n" -ge 2700000 ] && tiles=3
    per=$((n / (tiles * tiles * tiles)))
    scene=$work/synth_$n.ply
    [ -s "$scene" ] || "$tool" "$scene" "$per" 42 3 "$tiles" >/dev/null
    log=$work/render_$c.log
    "$build/kiln" splat render "$scene" --orbit 1 --set splat.width="$w" --set splat.height="$h" \
        --set splat.orbit_elevation=0 --set splat.orbit_radius="$(echo "$tiles" | awk '{print 2.6 * $1}')" \
        -o "$work/frame_$c.png" --repeat $((repeat + 1)) >"$log" 2>&1 || {
        echo "splat_bench: $c failed:" >&2; cat "$log" >&2; exit 1; }
    # drop the warm-up line, take the median of each column
    tail -n +2 "$log" | grep '^splat ' | awk -v c="$c" '
        {
            line = $0
            gsub(/[(),;]/, " ", line)
            split(line, f, " ")
            for (i = 1; i <= length(f); i++) {
                if (f[i] == "ms" && total[NR] == "") total[NR] = f[i - 1]
                if (f[i] ~ /^(project|scan|keys|sort|ranges|blend)$/) t[f[i], NR] = f[i + 1]
                if (f[i] == "Gaussians") g = f[i - 1]
                if (f[i] == "tile" && f[i + 1] == "instances") inst = f[i - 1]
                if (f[i] == "peak" && f[i + 2] == "MiB") pool = f[i + 1]
            }
            n = NR
        }
        function median(key,   i, k, v, tmp) {
            k = 0
            for (i = 1; i <= n; i++) { v[++k] = (key == "total") ? total[i] : t[key, i] }
            for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (v[j] + 0 < v[i] + 0) { tmp = v[i]; v[i] = v[j]; v[j] = tmp }
            return v[int((k + 1) / 2)]
        }
        END {
            m = median("total")
            printf "%-26s %9.1f %9.1f %8.1f %8.1f %8.1f %8.1f %8.1f %10d %12.3g %10.3g %10.1f\n", \
                c, m, median("project"), median("scan"), median("keys"), median("sort"), \
                median("ranges"), median("blend"), inst, g / (m / 1000), inst / (median("sort") / 1000), pool
        }'
done
echo "device: $(sed -n 's/.* on \(.*\)$/\1/p' "$log" | tail -n 1); $repeat warm renders a case, medians"
