"""``tools/dist_train.sh CONFIG 2`` on the CPU: gloo, sharded data, both
ranks end with identical online and target weights, and a NaN on one rank
skips the step on both."""
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.engine.runner._tiny import tiny_cfg

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _two_ranks(tmp_path, cfg) -> str:
    """Train ``cfg`` with ``tools/dist_train.sh CFG 2``; returns the log."""
    cfg.custom_imports = dict(imports=['tests._rank_dump_hook'])
    cfg.dump(str(tmp_path / 'cfg.py'))
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(_free_port()),
               OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='')
    result = subprocess.run(
        ['bash', str(REPO / 'tools' / 'dist_train.sh'),
         str(tmp_path / 'cfg.py'), '2', '--work-dir', str(tmp_path)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    return log


def _same_weights_on_both_ranks(ranks) -> None:
    params = [n for n, p in ranks[0]['state'].items()
              if 'running' not in n and 'num_batches' not in n]
    assert any(n.startswith('target_backbone.') for n in params)
    for name in params:
        assert torch.equal(ranks[0]['state'][name], ranks[1]['state'][name]), \
            name


@pytest.fixture(scope='module')
def two_ranks(tmp_path_factory):
    """One 2-rank run (4 iterations of 4 samples, 24 samples) shared by the
    tests below: SyncBN asked for without CUDA, and rank 1's forward pass
    makes NaN at iteration 3 (1-based)."""
    tmp_path = tmp_path_factory.mktemp('two_ranks')
    cfg = tiny_cfg(tmp_path, loop='iter', max_iters=4, batch_size=4,
                   samples=24, ckpt_interval=4)
    cfg.sync_bn = 'torch'  # must fall back cleanly without CUDA
    cfg.model.data_preprocessor = dict(
        type='SelfSupDataPreprocessor', mean=[127.5] * 3, std=[127.5] * 3)
    cfg.log_level = 'INFO'
    cfg.custom_hooks = cfg.custom_hooks + [
        dict(type='RankDumpHook'),
        dict(type='ZeroStdOnRankHook', rank=1, at=2)]
    log = _two_ranks(tmp_path, cfg)
    ranks = [torch.load(tmp_path / f'rank{r}.pt', weights_only=True)
             for r in (0, 1)]
    return tmp_path, log, ranks


def test_two_gloo_ranks_stay_identical(two_ranks):
    tmp_path, log, ranks = two_ranks
    assert "sync_bn='torch' ignored" in log
    assert ranks[0]['wrapper'] == 'GuardedDistributedDataParallel'
    _same_weights_on_both_ranks(ranks)
    # DistributedSampler-style sharding: each epoch (3 iterations of 4) the
    # ranks see disjoint halves of the 24 samples.
    for r in ranks:
        assert len(r['seen']) == 4 and all(len(b) == 4 for b in r['seen'])
    epoch0 = [set(sum(r['seen'][:3], [])) for r in ranks]
    assert not epoch0[0] & epoch0[1] and len(epoch0[0] | epoch0[1]) == 24
    assert (tmp_path / 'iter_4.pth').exists()  # rank 0 saved


def test_a_nan_on_one_rank_skips_the_step_on_both(two_ranks):
    """Both ranks skip the step where rank 1 met NaN, and on both every
    weight and buffer (BatchNorm statistics of the online and target
    networks) is as it was before it; the log names the rank and its value,
    not a finite loss."""
    tmp_path, log, ranks = two_ranks
    assert 'non-finite loss (rank 1: nan) at iteration 3: step skipped on ' \
        'every rank' in log
    for rank in (0, 1):
        states = torch.load(tmp_path / f'skipped{rank}.pt',
                            weights_only=True)
        assert any(k.startswith('target_') and 'running_mean' in k
                   for k in states['before'])
        for key, value in states['before'].items():
            assert torch.equal(value, states['after'][key]), (rank, key)
    for state in (r['state'] for r in ranks):
        assert all(torch.isfinite(v).all() for v in state.values()
                   if v.is_floating_point())
