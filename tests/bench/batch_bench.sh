#!/bin/sh
# Batch throughput benchmark: a 100-image segment + refine batch
# (U^2-Net-p at 320, closed-form refinement, multi-level foreground) on
# one device, with two items in flight ([job] in_flight = 2, the default)
# and with one (in_flight = 1), beside the warm single-image latency of the
# same job.
# Usage: tests/bench/batch_bench.sh BUILD_DIR [BASELINE_KILN]
# BASELINE_KILN: another kiln binary (an earlier build) run on the same
# job without the in_flight key, interleaved with the others, for a
# before/after row.
#
# Inputs: BATCH_BENCH_IMAGES (default 100) distinct images of 320 to 512
# pixels a side, made with PIL from ../shared/refdata/matting/
# {astronaut,lemur}.png (random crops, scales, flips and colour shifts,
# seeded: the same images every run).  The network: BATCH_BENCH_MODEL, or
# U^2-Net-p 320 exported by bench_lib.sh's bench_model.  One untimed run first (programs
# compiled or loaded from the cache).  Then BATCH_BENCH_ROUNDS rounds
# (default 3), each running every variant once in turn, the batch then
# the one-image job (interleaved: the machine's load hits every variant
# alike); the table shows medians.  Figures come from the reports:
# items/s and the batch's seconds are the batch's (elapsed from start,
# device open and model load included, once); the one-image latency is
# the elapsed time of the same job on one image in its own process
# (warm cache, model load included, as a user running one image sees
# it), and 100 x that is what running the images one by one would take;
# first and later item are the batch's per-item wall times (submit to
# written output) on the worker, the first paying the cold costs.
set -eu
build=$(cd "${1:?usage: batch_bench.sh BUILD_DIR [BASELINE_KILN]}" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
baseline=${2:-}
kiln=$build/kiln
work=$build/tests/tmp/batch_bench
rounds=${BATCH_BENCH_ROUNDS:-3}
count=${BATCH_BENCH_IMAGES:-100}
refdata=$src/../shared/refdata/matting
rm -rf "$work"; mkdir -p "$work/in" "$work/one"
bench_name=batch_bench
. "$src/tests/bench/bench_lib.sh"

[ -x "$kiln" ] || die "no kiln binary at $kiln (build first)"
[ -z "$baseline" ] || [ -x "$baseline" ] || die "no baseline binary at $baseline"
model=${BATCH_BENCH_MODEL:-}
[ -n "$model" ] || model=$(bench_model u2netp 320) || die "cannot export the u2netp model"

# the inputs
"$bench_python" - "$refdata" "$work/in" "$count" <<'EOF' || die "cannot make the input images"
import random, sys
from PIL import Image, ImageOps, ImageEnhance
ref, out, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
bases = [Image.open(f"{ref}/{n}.png").convert("RGB") for n in ("astronaut", "lemur")]
rng = random.Random(20261203)
for i in range(count):
    img = bases[i % len(bases)]
    w, h = img.size
    cw, ch = int(w * rng.uniform(0.6, 1.0)), int(h * rng.uniform(0.6, 1.0))
    x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
    crop = img.crop((x, y, x + cw, y + ch))
    side = rng.randint(320, 512)
    scale = side / max(cw, ch)
    crop = crop.resize((max(2, round(cw * scale)), max(2, round(ch * scale))), Image.BILINEAR)
    if rng.random() < 0.5:
        crop = ImageOps.mirror(crop)
    crop = ImageEnhance.Color(crop).enhance(rng.uniform(0.7, 1.3))
    crop = ImageEnhance.Brightness(crop).enhance(rng.uniform(0.85, 1.15))
    crop.save(f"{out}/img{i:03d}.png")
EOF
cp "$work/in/img000.png" "$work/one/img000.png"

# job INPUTS NAME: writes the job file $work/NAME.ini
job() {
    cat > "$work/$2.ini" <<EOF
[job]
name = $2
inputs = $1
output_dir = $work/out-$2
[segment]
enabled = yes
model = $model
[refine]
enabled = yes
EOF
}
job "$work/in" batch
job "$work/one" one

# run BINARY JOB IN_FLIGHT(or -): prints the report's items_per_s,
# elapsed_s, and first and later item ms (0 0 for a binary without them)
run() {
    rm -rf "$work/out-$2"
    if [ "$3" = - ]; then
        "$1" run "$work/$2.ini" --quiet --report "$work/r.json" >"$work/run.log" 2>&1 ||
            { cat "$work/run.log" >&2; die "$1 run $2 failed"; }
    else
        "$1" run "$work/$2.ini" --quiet --report "$work/r.json" --set "job.in_flight=$3" \
            >"$work/run.log" 2>&1 || { cat "$work/run.log" >&2; die "$1 run $2 (in_flight $3) failed"; }
    fi
    "$bench_python" - "$work/r.json" <<'EOF2'
import json, sys
r = json.load(open(sys.argv[1]))
f = r["devices"][0].get("in_flight", {})
print(r["items_per_s"], r["elapsed_s"], f.get("first_item_ms", 0), f.get("later_item_ms_mean", 0))
EOF2
}

variants="2 1"
[ -z "$baseline" ] || variants="$variants base"
# one untimed run: programs compiled or loaded from the cache
run "$kiln" one 2 >/dev/null
for r in $(seq "$rounds"); do
    for v in $variants; do
        if [ "$v" = base ]; then
            echo "base $(run "$baseline" batch -) $(run "$baseline" one - | cut -d' ' -f2)" \
                >>"$work/figures"
        else
            echo "$v $(run "$kiln" batch "$v") $(run "$kiln" one "$v" | cut -d' ' -f2)" \
                >>"$work/figures"
        fi
    done
    echo "round $r of $rounds done" >&2
done

# the table: medians per variant
"$bench_python" - "$work/figures" "$count" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    v, *nums = line.split()
    rows.setdefault(v, []).append([float(x) for x in nums])
count = int(sys.argv[2])
names = {"2": "kiln in_flight=2", "1": "kiln in_flight=1", "base": "baseline binary"}
print(f"{count}-image segment+refine batch (u2netp-320, one device), "
      f"medians of {len(rows['2'])} interleaved rounds")
print(f"{'variant':<18} {'items/s':>8} {'batch s':>8} {'1-image s':>10} {'%d x 1-image s' % count:>15} "
      f"{'first item ms':>14} {'later item ms':>14}")
med = {}
for v in ("2", "1", "base"):
    if v not in rows:
        continue
    m = [statistics.median(r[i] for r in rows[v]) for i in range(5)]
    med[v] = m[0]
    first = f"{m[2]:14.0f}" if m[2] else f"{'-':>14}"
    later = f"{m[3]:14.0f}" if m[3] else f"{'-':>14}"
    print(f"{names[v]:<18} {m[0]:8.3f} {m[1]:8.1f} {m[4]:10.2f} {count * m[4]:15.1f} {first} {later}")
print(f"overlap gain (items/s, in_flight 2 / in_flight 1): {med['2'] / med['1']:.3f}x")
if "base" in med:
    print(f"in_flight 2 / baseline binary (items/s): {med['2'] / med['base']:.3f}x")
for v in rows:
    print(f"  {names[v]} items/s per round: " + " ".join(f"{r[0]:.3f}" for r in rows[v]))
EOF
