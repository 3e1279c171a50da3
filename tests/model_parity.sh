#!/bin/sh
# U2-Net, U2-Netp and IS-Net, written in PyTorch from the authors'
# published structure (tests/models/u2net_arch.py) with fixed random
# weights and exported to ONNX (opset 11, BatchNormalization and shape
# computations kept as the published files have them): kiln's first
# output on the device must match PyTorch's within max |d| <= 1e-4.
# U2-Netp is full size; U2-Net and IS-Net use reduced channel widths with
# the same topology so that the test stays small.  Models are generated
# into the build tree (not committed) and reused while export.py and
# u2net_arch.py are unchanged.  U2-Netp also runs with each conv
# algorithm forced (KILN_CONV_ALGO: tiled, Winograd F(2,3) and F(4,3),
# fused F(4,3), CLBlast GEMM) under the same bound.  Each also runs at
# segment precision fp16 against fp32 (tests/test_precision with
# KILN_PRECISION_MODEL), printing the mask IoU and mean |d|.  Skipped when
# PyTorch is not installed.
. "$TOP_SRCDIR/tests/lib.sh"

py=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1   # nothing written into the source tree
if ! "$py" -c 'import torch, onnx' >/dev/null 2>&1; then
    echo "model_parity: python3-torch or python3-onnx is not installed: skipped"
    exit 77
fi
models="$TOP_BUILDDIR/tests/parity-models"
mkdir -p "$models"

# export ARCH SIZE [--full]: generates $models/ARCH-SIZE unless current.
export_model() {
    dir="$models/$1-$2"
    if [ ! -f "$dir/model.onnx" ] || [ "$TOP_SRCDIR/tests/models/export.py" -nt "$dir/model.onnx" ] ||
       [ "$TOP_SRCDIR/tests/models/u2net_arch.py" -nt "$dir/model.onnx" ]; then
        rm -rf "$dir"
        ok "export $1 at $2" "$py" "$TOP_SRCDIR/tests/models/export.py" --arch "$1" --size "$2" \
            --seed 7 --all-outputs --ref-dtype float64 --out "$dir" $3
    fi
}

for spec in "u2netp 320 --full" "u2net 320" "isnet 288"; do
    # shellcheck disable=SC2086
    set -- $spec
    export_model "$1" "$2" "$3"
    dir="$models/$1-$2"
    log="$TEST_TMPDIR/parity-$1.log"
    mkdir -p "$TEST_TMPDIR"
    ok "$1: kiln matches PyTorch within 1e-4" \
        "$TOP_BUILDDIR/tests/test_onnx_device" --case "$dir" --atol 1e-4
    if [ "$1" = u2netp ]; then
        # every conv algorithm forced where it fits keeps the whole model
        # within the same bound (Winograd F(4,3) has the largest error)
        for algo in tiled winograd2 winograd4 winograd4f gemm; do
            ok "$1: kiln with every conv $algo matches PyTorch within 1e-4" \
                env KILN_CONV_ALGO=$algo "$TOP_BUILDDIR/tests/test_onnx_device" --case "$dir" \
                --atol 1e-4
        done
    fi
    # segment precision fp16 against fp32: mask IoU and mean |d| printed
    # (and bounded by test_precision's published-network limits)
    ok "$1: fp16 storage keeps the first output's mask (IoU, mean |d|)" \
        env KILN_PRECISION_MODEL="$dir/model.onnx" KILN_PRECISION_SIZE="$2" \
        "$TOP_BUILDDIR/tests/test_precision"
    run_kiln 0 "$log" model-info "$dir/model.onnx"
    expect_in "$log" "arena"
    grep -E "parameters|MACs|arena|lower bound|activation" "$log" | sed "s/^/  $1: /"
done
finish
