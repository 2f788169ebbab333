"""``tools/dist_train.sh CONFIG 2`` on the CPU: gloo, sharded data, and
both ranks end with identical online and target weights."""
import os
import socket
import subprocess
import sys
from pathlib import Path

import torch

from tests.engine.runner._tiny import tiny_cfg

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_two_gloo_ranks_stay_identical(tmp_path):
    cfg = tiny_cfg(tmp_path, loop='iter', max_iters=4, batch_size=4,
                   samples=24, ckpt_interval=4)
    cfg.sync_bn = 'torch'  # must fall back cleanly without CUDA
    cfg.custom_imports = dict(imports=['tests._rank_dump_hook'])
    cfg.custom_hooks = cfg.custom_hooks + [dict(type='RankDumpHook')]
    cfg.dump(str(tmp_path / 'cfg.py'))
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(_free_port()),
               OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='')
    result = subprocess.run(
        ['bash', str(REPO / 'tools' / 'dist_train.sh'),
         str(tmp_path / 'cfg.py'), '2', '--work-dir', str(tmp_path)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert "sync_bn='torch' ignored" in log

    ranks = [torch.load(tmp_path / f'rank{r}.pt', weights_only=True)
             for r in (0, 1)]
    assert ranks[0]['wrapper'] == 'GuardedDistributedDataParallel'
    params = [n for n, p in ranks[0]['state'].items()
              if 'running' not in n and 'num_batches' not in n]
    assert any(n.startswith('target_backbone.') for n in params)
    for name in params:
        assert torch.equal(ranks[0]['state'][name], ranks[1]['state'][name]), \
            name
    # DistributedSampler-style sharding: each epoch (3 iterations of 4) the
    # ranks see disjoint halves of the 24 samples.
    for r in ranks:
        assert len(r['seen']) == 4 and all(len(b) == 4 for b in r['seen'])
    epoch0 = [set(sum(r['seen'][:3], [])) for r in ranks]
    assert not epoch0[0] & epoch0[1] and len(epoch0[0] | epoch0[1]) == 24
    assert (tmp_path / 'iter_4.pth').exists()  # rank 0 saved
