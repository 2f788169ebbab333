from pathlib import Path

import pytest

from mmbyol import register_all_modules
from tests.engine.hooks.test_knn_hook import BANK, QUERY, tiny_runner
from tests.conftest import load_script

REPO = Path(__file__).resolve().parents[2]


def tool():
    return load_script('tools/plot_curves.py')


def test_plot_from_a_real_short_run(tmp_path):
    register_all_modules()
    runner = tiny_runner(tmp_path / 'run', [
        dict(type='KNNHook', bank_dataloader=dict(dataset=BANK),
             query_dataloader=dict(dataset=QUERY), interval=1,
             by_epoch=False, k=5)
    ], iters=3)
    runner.train()
    out = tmp_path / 'curves.png'
    info = tool().main([str(tmp_path / 'run'), '--out', str(out)])
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert out.stat().st_size > 10_000
    assert {'loss', 'kNN accuracy', 'projection std (collapse -> 0)',
            'cos(prediction, target)', 'tau (target EMA)',
            'learning rate'} <= set(info['panels'])
    assert info['series']['loss'] == 3  # logged every iteration
    assert info['series']['knn/top1'] == 3


def test_missing_logs_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match='scalars.json'):
        tool().main([str(tmp_path)])
