# shellcheck shell=sh disable=SC2154,SC2034
# (SC2154, SC2034: the caller sets and reads these variables.)
# Shell helpers shared by the benchmark scripts that run onnxruntime-node
# beside kiln (segment_bench.sh, segment_jpeg_parity.sh).  POSIX sh, meant
# to be sourced (". bench_lib.sh") after the caller has set:
#   bench_name  the script's name, prefixed to its messages
#   src         the repository root
#   build       the build directory (absolute)
#   work        the script's scratch directory (exists; logs go there)
# Defines models, npm_dir, ort_pkg and ort_version (after bench_ort_setup),
# exports KILN_CACHE_DIR, POCL_CACHE_DIR and NODE_PATH.
#
# Environment:
#   SEG_BENCH_NPM_DIR     scratch npm directory for onnxruntime-node, outside
#                         the repository (default ~/.cache/kiln-bench/ort-node)
#   SEG_BENCH_ORT_PKG     npm package spec (default onnxruntime-node@1.30.0)
# The npm directory and the exported models (BUILD_DIR/bench-models/) are
# reused on later runs (a model is exported again when tests/models/*.py
# is newer than it); delete them to start over.

models=$build/bench-models
npm_dir=${SEG_BENCH_NPM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kiln-bench/ort-node}
ort_pkg=${SEG_BENCH_ORT_PKG:-onnxruntime-node@1.30.0}
# Debian's interpreter: python3-torch, python3-onnx, python3-numpy and
# python3-pil are its packages (a python3 earlier on PATH, a pyenv shim
# say, may lack them).
bench_python=/usr/bin/python3
[ -x "$bench_python" ] || bench_python=python3
export KILN_CACHE_DIR="${KILN_CACHE_DIR:-$build/tests/cache/kiln}"
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-$build/tests/cache/pocl}"
mkdir -p "$KILN_CACHE_DIR" "$POCL_CACHE_DIR" "$models"

die() { echo "$bench_name: $*" >&2; exit 2; }

# bench_ort_setup: makes onnxruntime-node loadable by node (NODE_PATH),
# installing $ort_pkg into $npm_dir on first use; sets ort_version.
bench_ort_setup() {
    command -v node >/dev/null 2>&1 || die "node not found: install Node.js (18 or later) to run the onnxruntime side"
    command -v npm >/dev/null 2>&1 || die "npm not found: install npm to fetch onnxruntime-node"
    case "$npm_dir" in
        "$src"|"$src"/*) die "SEG_BENCH_NPM_DIR=$npm_dir is inside the repository; pick a directory outside it" ;;
    esac
    NODE_PATH="$npm_dir/node_modules"
    export NODE_PATH
    if ! bench_ort_ok; then
        echo "installing $ort_pkg into $npm_dir ..."
        mkdir -p "$npm_dir" || die "cannot create $npm_dir"
        # --ignore-scripts: the package carries a CPU build; its install script
        # would only download CUDA libraries.
        if ! (cd "$npm_dir" && npm install --no-audit --no-fund --ignore-scripts "$ort_pkg") >"$work/npm.log" 2>&1; then
            sed 's/^/    /' "$work/npm.log" >&2
            die "npm install $ort_pkg failed in $npm_dir (offline? no registry?); see above"
        fi
        bench_ort_ok || die "onnxruntime-node installed in $npm_dir but does not load: $(node -e "require('onnxruntime-node')" 2>&1 | head -n 5)"
    fi
    ort_version=$(node -p "require('onnxruntime-node/package.json').version")
}

bench_ort_ok() { node -e "require('onnxruntime-node')" >/dev/null 2>&1; }

# bench_model ARCH SIZE: prints the path of the exported full-width model,
# exporting it into BUILD_DIR/bench-models/ARCH-SIZE/ when it is missing
# or older than the exporter (tests/models/*.py).  Returns 1 (after
# printing the exporter's log) when the export fails.
bench_model() {
    dir=$models/$1-$2
    if [ ! -s "$dir/model.onnx" ] ||
        [ -n "$(find "$src/tests/models" -name '*.py' -newer "$dir/model.onnx" 2>/dev/null | head -n 1)" ]; then
        echo "exporting $1 --full --size $2 into $dir ..." >&2
        [ -f "$src/tests/models/export.py" ] || { echo "no tests/models/export.py" >&2; return 1; }
        rm -rf "$dir.tmp"
        if ! "$bench_python" "$src/tests/models/export.py" --arch "$1" --full --size "$2" --out "$dir.tmp" \
            >"$work/export-$1.log" 2>&1 || [ ! -s "$dir.tmp/model.onnx" ]; then
            sed 's/^/    /' "$work/export-$1.log" >&2
            echo "export.py --arch $1 --full --size $2 failed" >&2
            return 1
        fi
        rm -rf "$dir"; mv "$dir.tmp" "$dir"
    fi
    echo "$dir/model.onnx"
}

# field LINE KEY: the value of KEY=VALUE in LINE.
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }
