"""Our checkpoints load with weights_only=True; foreign pickles do not."""
import os
import pickle

import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner import Runner

from mmbyol import register_all_modules
from mmbyol.utils import load_checkpoint_safely
from mmbyol.utils.safe_load import (UnreadableCheckpointError,
                                    UnsafeCheckpointError)
from tests.engine.runner._tiny import tiny_cfg, train


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    """One checkpoint from ReliableRunner, one from MMEngine's Runner."""
    register_all_modules(init_default_scope=False)
    ours = tmp_path_factory.mktemp('ours')
    train(tiny_cfg(ours, loop='epoch', epochs=1, ckpt_interval=2))
    stock = tmp_path_factory.mktemp('stock')
    cfg = tiny_cfg(stock, loop='iter', max_iters=3, ckpt_interval=1)
    cfg.pop('runner_type')
    Runner.from_cfg(cfg).train()
    return ours / 'iter_2.pth', stock / 'iter_3.pth'


def test_our_and_mmengine_checkpoints_load(checkpoints):
    for path in checkpoints:
        # plain torch.load refuses them (this is what the allow-list fixes)
        with pytest.raises(pickle.UnpicklingError):
            torch.load(path, weights_only=True)
        ckpt = load_checkpoint_safely(str(path))
        assert {'meta', 'state_dict', 'message_hub', 'optimizer',
                'param_schedulers', 'byol_momentum'} <= set(ckpt)
        buffers = ckpt['message_hub']['log_scalars']
        loss = buffers['train/loss']
        assert isinstance(loss, HistoryBuffer)
        assert loss.mean() == pytest.approx(loss.data[0].mean())
        assert any(k.startswith('target_backbone.')
                   for k in ckpt['state_dict'])
    ours = load_checkpoint_safely(str(checkpoints[0]))
    state = ours['meta']['resume_state']
    assert len(state['rng']) == 1 and state['sampler_seed'] == 0


def test_foreign_pickled_object_is_refused(tmp_path, checkpoints):
    ckpt = load_checkpoint_safely(str(checkpoints[0]))
    ckpt['meta']['hook'] = os.system  # any code reference
    path = tmp_path / 'evil.pth'
    torch.save(ckpt, path)
    with pytest.raises(UnsafeCheckpointError, match=r'posix\.system'):
        load_checkpoint_safely(str(path))


def test_getattr_beyond_history_buffer_statistics_is_refused(tmp_path):
    class Sneaky:
        def __reduce__(self):  # pickled as getattr(HistoryBuffer, '__init__')
            return getattr, (HistoryBuffer, '__init__')

    torch.save({'x': Sneaky()}, tmp_path / 'sneaky.pth')
    with pytest.raises(UnsafeCheckpointError):
        load_checkpoint_safely(str(tmp_path / 'sneaky.pth'))


def test_truncated_and_missing_files(tmp_path, checkpoints):
    data = checkpoints[0].read_bytes()
    (tmp_path / 'cut.pth').write_bytes(data[:len(data) // 2])
    with pytest.raises(UnreadableCheckpointError, match='truncated'):
        load_checkpoint_safely(str(tmp_path / 'cut.pth'))
    with pytest.raises(FileNotFoundError):
        load_checkpoint_safely(str(tmp_path / 'nope.pth'))


def test_mmengine_pretrained_init_reads_a_training_checkpoint(
        tmp_path, checkpoints):
    # register_all_modules routes MMEngine's local loader through the
    # allow-list: Pretrained init takes the online encoder of a full BYOL
    # checkpoint by prefix (plain torch.load would refuse the file)
    from mmengine.runner.checkpoint import _load_checkpoint
    from mmpretrain.models import ResNet_CIFAR
    register_all_modules(init_default_scope=False)
    path = str(checkpoints[0])
    backbone = ResNet_CIFAR(depth=18, stem_channels=8, base_channels=8,
                            init_cfg=dict(type='Pretrained', checkpoint=path,
                                          prefix='backbone.'))
    backbone.init_weights()
    state = load_checkpoint_safely(path)['state_dict']
    for key, value in backbone.state_dict().items():
        assert torch.equal(value, state[f'backbone.{key}']), key
    ckpt = load_checkpoint_safely(path)
    ckpt['meta']['hook'] = os.system
    torch.save(ckpt, tmp_path / 'evil.pth')
    with pytest.raises(UnsafeCheckpointError):
        _load_checkpoint(str(tmp_path / 'evil.pth'))
