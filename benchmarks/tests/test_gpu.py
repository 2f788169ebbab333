"""benchmarks/gpu.sh: the one command a lent GPU machine runs.

GPU time is scarce, so the script must work the first time it runs there.
Here it runs on the CPU with tiny knobs: the same config, flags and
``--cfg-options`` as on the GPU, plus a ResNet-18 at 64 px in place of the
ResNet-50 at 224 (``CFG_OPTIONS``), the same files under ``$OUT``. It
checks the script's glue, not its GPU path.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / 'benchmarks' / 'gpu.sh'


def run_script(*args, **knobs) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHON=sys.executable,
               **{k: str(v) for k, v in knobs.items()})
    return subprocess.run(['bash', str(SCRIPT), *args], env=env,
                          capture_output=True, text=True, timeout=900)


def test_run_writes_every_result_file(tmp_path):
    out, images = tmp_path / 'out', tmp_path / 'images'
    done = run_script('run', OUT=out, IMAGES=images,
                      WHEELS=tmp_path / 'no_wheels', BATCH=4, WORKERS=1,
                      ITERS=1, WARMUP=1, ROUNDS=1, NUM_IMAGES=16,
                      DATA_IMAGES=16, PEAK_SIZE=512,
                      CFG_OPTIONS='model.backbone.depth=18 '
                      'model.neck.in_channels=512 '
                      'train_dataloader.dataset.pipeline.1.size=64')
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(p.name for p in out.iterdir()) == [
        'data_gpu.json', 'data_gpu.txt', 'nvidia-smi.txt', 'speed_gpu.json',
        'speed_gpu.txt']
    assert len(list((images / 'train').glob('*.jpg'))) == 16

    bench = json.loads((out / 'speed_gpu.json').read_text())
    assert bench['config'] == 'configs/byol_resnet50_8xb32.py'
    assert bench['batch_size'] == 4
    assert bench['cfg_options']['model.backbone.depth'] == 18
    assert bench['cfg_options']['train_dataloader.dataset.data_root'] == str(
        images)
    settings = bench['mmbyol_settings']
    assert settings['amp'] and settings['channels_last']
    assert settings['optimizer'] == 'FusedLARS'
    mmbyol, anchor = bench['sides']['mmbyol'], bench['sides']['mmpretrain']
    assert mmbyol['syncs_optimizer_ema'] == 0
    assert anchor['syncs_optimizer_ema'] > 0
    assert mmbyol['iteration']['images_per_s'] > 0
    assert bench['speedup']['iteration'] > 0
    assert 'speedup iteration over mmpretrain' in (
        out / 'speed_gpu.txt').read_text()

    data = json.loads((out / 'data_gpu.json').read_text())
    assert len(data['pipelines']) == 4 and data['images'] == 16
    assert 'x stock' in (out / 'data_gpu.txt').read_text()


def test_unknown_command_prints_usage():
    done = run_script('benchmark')
    assert done.returncode == 2
    assert 'usage: bash benchmarks/gpu.sh prepare|run' in done.stderr
