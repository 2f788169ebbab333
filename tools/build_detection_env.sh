#!/usr/bin/env bash
# Build the detection environment: mmbyol's stack with full mmcv (compiled
# ops) and MMDetection, in a virtual environment of its own.
#
#   bash tools/build_detection_env.sh [VENV]        (`make detection`)
#
# VENV defaults to .venv-detection. mmcv-lite (mmbyol's default) and full
# mmcv both install the package `mmcv`, so they cannot share an
# environment: this one holds full mmcv 2.1.0, the newest that MMDetection
# 3.3.0 accepts, and everything else mmbyol needs.
#
# mmcv 2.1.0 publishes no wheel for this torch, so its source is compiled
# here. Its setup.py asks for C++14/17, and torch >= 2.10's headers need
# C++20: the build replaces the standard and nothing else. The ops are
# compiled for the CPU, and for CUDA too where a GPU and a CUDA toolkit
# are found (or with FORCE_CUDA=1). The wheel is cached under
# $MMBYOL_CACHE (default ~/.cache/mmbyol), keyed by torch version and
# device, so a fresh environment on the same machine installs it in
# seconds. A second run with setup.py and this script unchanged only
# checks a stamp in VENV.
set -euo pipefail

VENV=${1:-.venv-detection}
MMCV_VERSION=2.1.0
MMDET_VERSION=3.3.0
CACHE=${MMBYOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mmbyol}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

log() { printf '[build_detection_env] %s\n' "$*" >&2; }

# What the environment is built from; unchanged means nothing to do.
STAMP="$VENV/.mmbyol-detection-installed"
want=$(cat setup.py "$0" | sha256sum | cut -d' ' -f1)
if [ -x "$VENV/bin/python" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ]; then
    log "up to date: $VENV"
    exit 0
fi

# 1. The environment, with mmbyol and its pinned stack (as `make install`).
if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV"
    python3 -m venv "$VENV"
fi
PY="$(cd "$VENV" && pwd)/bin/python"
"$PY" -m pip install -q 'setuptools<80' wheel
"$PY" -m pip install -q -e '.[tests]'

# 2. The mmcv wheel: from the cache, or compiled once. CUDA ops need a
# visible GPU and nvcc; otherwise the GPU is hidden from the build, which
# would ask for CUDA as soon as torch sees one.
device=$("$PY" -c 'import os, torch
def nvcc():
    from torch.utils.cpp_extension import CUDA_HOME
    return CUDA_HOME and os.path.isfile(os.path.join(CUDA_HOME, "bin", "nvcc"))
cuda = os.environ.get("FORCE_CUDA") == "1" or (
    torch.cuda.is_available() and nvcc())
print("cuda" if cuda else "cpu")')
torch=$("$PY" -c 'import torch; print(torch.__version__.split("+")[0])')
key=torch$torch-$device
WHEELS="$CACHE/mmcv-$MMCV_VERSION-$key"
wheel=$(ls "$WHEELS"/mmcv-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n 1 || true)
if [ -z "$wheel" ]; then
    build=$(mktemp -d)
    trap 'rm -rf "$build"' EXIT
    log "compiling mmcv $MMCV_VERSION with ops ($key): 15 minutes or so"
    "$PY" -m pip download -q --no-deps --no-binary :all: \
        --no-build-isolation "mmcv==$MMCV_VERSION" -d "$build"
    tar xzf "$build/mmcv-$MMCV_VERSION.tar.gz" -C "$build"
    src="$build/mmcv-$MMCV_VERSION"
    # torch's headers: "C++20 or later compatible compiler is required"
    sed -i -e 's/-std=c++14/-std=c++20/g' -e 's/-std=c++17/-std=c++20/g' \
        "$src/setup.py"
    [ "$device" = cuda ] || export CUDA_VISIBLE_DEVICES=
    start=$(date +%s)
    (cd "$src" && MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
        "$PY" -m pip wheel -q --no-deps --no-build-isolation . \
        -w "$build/dist")
    unset CUDA_VISIBLE_DEVICES
    mkdir -p "$WHEELS"
    built=$(ls "$build"/dist/mmcv-*.whl)
    # copy, then rename: a concurrent build never sees half a wheel
    cp "$built" "$WHEELS/.partial"
    mv "$WHEELS/.partial" "$WHEELS/$(basename "$built")"
    wheel="$WHEELS/$(basename "$built")"
    log "built $wheel in $(( $(date +%s) - start )) s"
else
    log "using the cached $wheel"
fi

# 3. Full mmcv in place of mmcv-lite (same package directory), then
# MMDetection, then a check that the compiled ops load.
"$PY" -m pip uninstall -q -y mmcv-lite 2>/dev/null || true
"$PY" -m pip install -q --force-reinstall --no-deps "$wheel"
"$PY" -m pip install -q "mmdet==$MMDET_VERSION"
"$PY" -c "import mmcv, mmdet, mmpretrain, mmbyol, torch
from mmcv.ops import nms
boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.]])
_, keep = nms(boxes, torch.tensor([0.9, 0.8]), 0.5)
assert keep.tolist() == [0], keep
print(f'mmcv {mmcv.__version__} (ops), mmdet {mmdet.__version__}, '
      f'mmpretrain {mmpretrain.__version__}, mmbyol {mmbyol.__version__}')"
echo "$want" > "$STAMP"
log "ready: $VENV"
