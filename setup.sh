#!/bin/sh
# One entry point for a fresh Debian 12 machine (run as root, or with the
# packages already installed):
#   ./setup.sh demo    install what is missing, build, run the demo job
#   ./setup.sh check   install what is missing, build, run the whole test suite
# The build goes to ./build (and ./build-asan for the sanitizer pass,
# ./build-fuzz for the fuzzers).
set -eu

mode=${1:-demo}
top=$(cd "$(dirname "$0")" && pwd)
jobs=$(nproc 2>/dev/null || echo 2)

packages="build-essential autoconf automake libtool pkg-config
  ocl-icd-opencl-dev opencl-headers pocl-opencl-icd clinfo libclblast-dev
  libpng-dev libturbojpeg0-dev nettle-dev libcurl4-openssl-dev libiniparser-dev libjson-c-dev cppcheck
  protobuf-c-compiler libprotobuf-c-dev libonnx-dev libonnx-testdata libmicrohttpd-dev"
# the tests also export the U2-Net architectures from PyTorch
test_packages="python3-torch python3-onnx python3-numpy python3-pil"
# the fuzz targets are built with clang's libFuzzer
fuzz_packages="clang libclang-rt-14-dev"

install_missing() {
    missing=""
    for p in $packages; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" != 0 ]; then
        echo "setup: missing packages:$missing (run as root, or: sudo apt-get install$missing)" >&2
        exit 2
    fi
    echo "setup: installing$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
}

build() { # build DIR CONFIGURE-ARGS...
    dir=$1; shift
    [ -x "$top/configure" ] || (cd "$top" && autoreconf -fi)
    mkdir -p "$top/$dir"
    cd "$top/$dir"
    [ -f Makefile ] || "$top/configure" --enable-werror "$@" >/dev/null
    make -j"$jobs" >/dev/null
    make -j"$jobs" check TESTS= >/dev/null   # test programs, without running them
}

# record NAME COMMAND...: runs a check outside make, leaving NAME.log and a
# NAME.trs result in build/tests like the test harness does.
record() {
    name=$1; shift
    if "$@" >"$top/build/tests/$name.log" 2>&1; then r=PASS; else r=FAIL; fi
    printf ':test-result: %s\n' "$r" >"$top/build/tests/$name.trs"
}

case "$mode" in
demo)
    install_missing
    build build
    cd "$top"
    rm -rf demo-out
    build/kiln devices
    build/kiln run conf/demo.ini --report demo-out/report.json
    build/kiln run conf/demo_refine.ini --report demo-out/refine-report.json
    build/kiln run conf/demo_splat.ini --report demo-out/splat-report.json
    build/kiln splat info conf/demo_splat/knot.ply
    # training: the demo dataset's images drawn from the bundled scene, then
    # a short fit of a new scene to them, scored on its held-out views
    mkdir -p demo-out/train-data
    cp -r conf/demo_train/sparse demo-out/train-data/
    build/kiln splat render conf/demo_splat/knot.ply --cameras conf/demo_train/cameras.json \
        -o demo-out/train-data/images >/dev/null
    build/kiln splat train demo-out/train-data -o demo-out/trained --set train.iterations=500 \
        --set train.test_iterations=500 --set train.save_iterations=500 \
        --set train.densify_from=100 --set train.densify_until=400 --set train.sh_interval=150
    build/kiln splat eval demo-out/trained
    # segmentation: rembg's u2netp when it is installed or can be pulled
    # now (a short connect timeout: an offline machine falls through at
    # once), else an untrained stand-in network
    if ! build/kiln model-info u2netp >/dev/null 2>&1; then
        build/kiln model pull u2netp --connect-timeout 5 >/dev/null 2>&1 || true
    fi
    if build/kiln model-info u2netp >/dev/null 2>&1; then
        echo "demo: segmenting with rembg's u2netp ($(build/kiln model list --no-check |
             sed -n 's/^u2netp  *installed .*  \(\/.*\)/\1/p'))"
        build/kiln run conf/demo_segment.ini --report demo-out/segment-report.json
    else
        echo "demo: no u2netp.onnx in \$KILN_MODEL_DIR, \$U2NET_HOME or ~/.u2net (rembg's model" \
             "cache) and \`kiln model pull u2netp\` could not download it: segmenting with an" \
             "untrained stand-in network; the pipeline runs, its masks mean nothing"
        build/tests/make_model mini_unet demo-out/stand-in.onnx
        build/kiln run conf/demo_segment.ini --set segment.model=demo-out/stand-in.onnx \
            --set segment.input_size=8 --report demo-out/segment-report.json
    fi
    echo "demo outputs in $top/demo-out (reports: demo-out/report.json, demo-out/refine-report.json," \
         "demo-out/splat-report.json, demo-out/trained/report.json, demo-out/segment-report.json)"
    ;;
check)
    packages="$packages $test_packages $fuzz_packages"
    install_missing
    build build
    make -C "$top/build" -j"$jobs" check >/dev/null 2>&1 || true
    record install_check sh "$top/tests/install_check.sh" "$top/build" "$top"
    # the tarball builds, installs and runs a test of each kind of data it
    # must carry (the whole suite already ran above)
    record distcheck make -C "$top/build" -j"$jobs" distcheck \
        TESTS="tests/test_onnx_device tests/test_model_registry tests/cli_run.sh tests/cli_refine.sh tests/stage_pixels.sh tests/adversarial/ini.sh"
    # the unit tests again under AddressSanitizer and UBSan
    build build-asan --enable-sanitizers
    # the same kernels: share the main build's compiled programs
    KILN_TEST_CACHE="$top/build/tests/cache" make -C "$top/build-asan" -j"$jobs" check \
        >/dev/null 2>&1 || true
    # the parsers under libFuzzer (ASan, UBSan): each fuzzer for
    # FUZZ_SECONDS (60) on its seed corpus (tests/fuzz/run_fuzzer.sh)
    if command -v clang >/dev/null 2>&1; then
        build build-fuzz CC=clang --enable-fuzzers
        make -C "$top/build-fuzz" -j"$jobs" check >/dev/null 2>&1 || true
    fi
    exec sh "$top/tests/summary.sh" "$top/build" "$top/build-asan" "$top/build-fuzz"
    ;;
*)
    echo "usage: $0 demo|check" >&2
    exit 2
    ;;
esac
