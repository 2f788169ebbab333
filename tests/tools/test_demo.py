import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from mmengine.logging import MMLogger
from tests.conftest import load_script

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope='module')
def demo_run(tmp_path_factory):
    """One epoch of two iterations (256 of the digits in batches of 128).
    Bytes, decoded: universal newlines would turn the bar's \\r into lines."""
    work_dir = tmp_path_factory.mktemp('demo')
    out = subprocess.run(
        [sys.executable, 'tools/demo.py', '--work-dir', str(work_dir),
         '--cfg-options', 'train_cfg.max_epochs=1',
         'train_dataloader.dataset.indices=256'],
        cwd=REPO, capture_output=True, timeout=600)
    out.stdout, out.stderr = out.stdout.decode(), out.stderr.decode()
    assert out.returncode == 0, out.stderr[-2000:]
    return out


def test_demo_runs_and_reports_both_encoders(demo_run):
    out = demo_run
    line = next(x for x in out.stdout.splitlines() if x.startswith('{'))
    result = json.loads(line)
    for key in ('knn_top1_random_init', 'knn_top1_byol'):
        assert 0.1 <= result[key] <= 1.0
    assert result['gain_points'] == round(
        100 * (result['knn_top1_byol'] - result['knn_top1_random_init']), 1)
    assert 'held out' in result['data']
    assert 'BYOL gain' in out.stdout


def test_demo_console_is_short_and_the_log_file_is_full(demo_run):
    out = demo_run
    # Lines as a terminal shows them: the bar redraws itself with \r.
    stdout = out.stdout.rstrip('\n').split('\n')
    stderr = out.stderr.rstrip('\n').split('\n')
    assert len(stdout) + len(stderr) <= 12, out.stdout + out.stderr
    assert stdout[0].startswith('Pretraining BYOL for 1 epoch on ')
    assert stdout[-1].startswith('{')
    assert '| random init |' in out.stdout
    assert 'BYOL pretraining: 100%' in out.stderr and '2/2' in out.stderr
    assert ' - INFO - ' not in out.stdout + out.stderr

    log_file = Path(re.search(r'Full log: (\S+\.log)', stdout[0]).group(1))
    log = log_file.read_text()
    for info in ('- INFO - ', 'Config:', 'Epoch(train) [1][2/2]'):
        assert info in log


@pytest.fixture
def build_demo_logger(tmp_path):
    """Builds the demo runner's logger alone (no model, no data); call it
    in the test, where ``capsys`` holds the console."""
    demo = load_script('tools/demo.py')
    runner = object.__new__(demo.QuietConsoleRunner)
    runner._experiment_name = 'test_demo_console'
    yield lambda: runner.build_logger(log_file=str(tmp_path / 'demo.log'))
    logger = MMLogger._instance_dict.pop('test_demo_console', None)
    for handler in getattr(logger, 'handlers', []):
        handler.close()


def test_demo_console_keeps_warnings_only(build_demo_logger, capsys):
    logger = build_demo_logger()
    logger.info('an INFO line')
    logger.warning('a warning that matters')
    logger.warning('"FileClient" will be deprecated in future.')
    logger.error('an error')
    console = capsys.readouterr().out
    assert 'a warning that matters' in console and 'an error' in console
    assert 'INFO' not in console and 'deprecated' not in console
    for handler in logger.handlers:
        handler.flush()
    log = Path(logger.log_file).read_text()
    for line in ('an INFO line', 'a warning that matters', 'deprecated'):
        assert line in log
