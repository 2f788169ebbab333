#!/usr/bin/env bash
# The GPU measurements in one command, for a machine with one NVIDIA GPU and
# no OpenMMLab packages (such as a lent H100/H200 machine): ResNet-50, 224 px,
# batch 256, bf16 + channels_last, batched augmentation path, whole
# iteration against MMPretrain's BYOL in the same process
# (benchmarks/speed.py), then the data pipelines on the GPU
# (benchmarks/data.py; on the CPU where there is no GPU).
#
#   bash benchmarks/gpu.sh prepare   # here, with a network: wheels for
#                                    # Python 3.12 in .whl/, the CIFAR-10
#                                    # archive in data/cifar10-archive/
#   bash benchmarks/gpu.sh run       # there: results under $OUT
#
# `run` installs .whl/ (if present) into /tmp/site, writes NUM_IMAGES
# ImageNet-sized JPEGs made from the archive (benchmarks/make_jpegs.py), and
# writes speed_gpu.{json,txt}, data_gpu.{json,txt} and nvidia-smi.txt to
# $OUT (default work_dirs/gpu_benchmark). Knobs: BATCH (256), WORKERS
# (cores - 2), ITERS (5), WARMUP (3), ROUNDS (3), NUM_IMAGES (4096),
# DATA_IMAGES (images timed by data.py, 512), PEAK_SIZE (side of the peak
# matmul, speed.py's default), PYTHON, WHEELS (the wheel folder, .whl),
# IMAGES (where the JPEGs go, data/gpu_benchmark), CFG_OPTIONS (further
# KEY=VALUE overrides of the config, space-separated).
# benchmarks/tests/test_gpu.py runs it on the CPU with tiny knobs.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
ARCHIVE_DIR=data/cifar10-archive
IMAGES=${IMAGES:-data/gpu_benchmark}
WHEELS=${WHEELS:-.whl}

case "${1:-}" in
prepare)
    # pure-Python wheels of the stack and of the needs that the GPU
    # machine's image lacks; setuptools < 80 keeps pkg_resources, which
    # mmengine imports
    $PY -m pip download -q --no-deps --only-binary=:all: \
        --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
        --platform manylinux2014_x86_64 -d "$WHEELS" \
        mmengine==0.10.7 mmcv-lite==2.2.0 mmpretrain==1.2.0 addict yapf \
        termcolor mat4py modelindex ordered-set platformdirs \
        importlib-metadata 'setuptools<80'
    mkdir -p "$ARCHIVE_DIR"
    cp ../shared/data/cifar10/train.tar.gz "$ARCHIVE_DIR/"
    du -sh "$WHEELS" "$ARCHIVE_DIR"
    echo "device: run(command='bash benchmarks/gpu.sh run'," \
         "carry=['$WHEELS', '$ARCHIVE_DIR'], timeout_s=600)"
    ;;
run)
    OUT=${OUT:-work_dirs/gpu_benchmark}
    mkdir -p "$OUT"
    if [ -d "$WHEELS" ]; then
        $PY -m pip install -q --no-index --no-deps --no-compile \
            --no-cache-dir --upgrade --target /tmp/site "$WHEELS"/*.whl
        export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
    fi
    export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
    export PYTHONUNBUFFERED=1
    (nvidia-smi || true) > "$OUT/nvidia-smi.txt" 2>&1
    workers=${WORKERS:-$(( $(nproc) > 3 ? $(nproc) - 2 : 1 ))}
    $PY benchmarks/make_jpegs.py "$IMAGES/train" --num "${NUM_IMAGES:-4096}" \
        --tar "$ARCHIVE_DIR/train.tar.gz"
    $PY benchmarks/speed.py configs/byol_resnet50_8xb32.py --amp \
        --channels-last --against-mmpretrain --iters "${ITERS:-5}" \
        --warmup "${WARMUP:-3}" --rounds "${ROUNDS:-3}" \
        ${PEAK_SIZE:+--peak-size "$PEAK_SIZE"} \
        --out "$OUT/speed_gpu.json" --cfg-options \
        train_dataloader.batch_size="${BATCH:-256}" \
        train_dataloader.num_workers="$workers" \
        train_dataloader.dataset.data_root="$IMAGES" \
        train_dataloader.dataset.data_prefix=train \
        env_cfg.cudnn_benchmark=True ${CFG_OPTIONS:-} \
        2>&1 | tee "$OUT/speed_gpu.txt"
    device=$($PY -c "import torch; print('cuda' if torch.cuda.is_available() else 'cpu')")
    $PY benchmarks/data.py --device "$device" --images "$IMAGES/train" \
        --num "${DATA_IMAGES:-512}" --batch "${BATCH:-256}" \
        --out "$OUT/data_gpu.json" \
        2>&1 | tee "$OUT/data_gpu.txt"
    ;;
*)
    echo "usage: bash benchmarks/gpu.sh prepare|run" >&2
    exit 2
    ;;
esac
