import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_demo_runs_and_reports_both_encoders(tmp_path):
    out = subprocess.run(
        [sys.executable, 'tools/demo.py', '--work-dir', str(tmp_path),
         '--cfg-options', 'train_cfg.max_epochs=1'],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    line = next(x for x in out.stdout.splitlines() if x.startswith('{'))
    result = json.loads(line)
    for key in ('knn_top1_random_init', 'knn_top1_byol'):
        assert 0.1 <= result[key] <= 1.0
    assert result['gain_points'] == round(
        100 * (result['knn_top1_byol'] - result['knn_top1_random_init']), 1)
    assert 'held out' in result['data']
    assert 'BYOL gain' in out.stdout
