"""tools/benchmark.py on tiny settings: it runs and emits valid JSON."""
import json
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from tests.conftest import load_script

REPO = Path(__file__).resolve().parents[2]
TINY_MODEL = [
    'model.backbone.stem_channels=8', 'model.backbone.base_channels=8',
    'model.neck.in_channels=64', 'model.neck.hid_channels=32',
    'model.neck.out_channels=16', 'model.head.predictor.in_channels=16',
    'model.head.predictor.hid_channels=32',
    'model.head.predictor.out_channels=16'
]
ONE_ITER = ['--iters', '1', '--warmup', '0', '--rounds', '1',
            '--step-iters', '1', '--ema-repeats', '2',
            '--peak-size', '256']


def tiny_jpeg_options(cifar_folder, batch_size: int = 8) -> list:
    """``--cfg-options`` of a tiny model on the real JPEGs, no workers."""
    return [
        f'train_dataloader.dataset.data_root={cifar_folder.parent}',
        f'train_dataloader.dataset.data_prefix={cifar_folder.name}',
        f'train_dataloader.batch_size={batch_size}',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False', *TINY_MODEL
    ]


def load_benchmark():
    return load_script('tools/benchmark.py')


def test_against_mmpretrain_on_real_jpegs(cifar_folder, tmp_path, capsys):
    out = tmp_path / 'result.json'
    load_benchmark().main([
        str(REPO / 'configs/byol_resnet18_cifar10.py'),
        '--against-mmpretrain', '--channels-last', *ONE_ITER,
        '--work-dir', str(tmp_path), '--out', str(out), '--cfg-options',
        *tiny_jpeg_options(cifar_folder)
    ])
    result = json.loads(out.read_text())
    assert 'speedup' in capsys.readouterr().out
    ours, theirs = result['sides']['mmbyol'], result['sides']['mmpretrain']
    for side in (ours, theirs):
        assert side['iteration']['median_s'] > 0
        assert side['model_step']['images_per_s'] > 0
        assert side['ema_ms'] > 0 and side['peak_rss_mb'] > 0
    assert result['mmbyol_settings']['optimizer'] == 'FusedLARS'
    assert result['mmbyol_settings']['keep_nchw'] == []
    assert result['mmbyol_settings']['backward_as_forward'] == []
    # mmbyol: FusedLARS + fused EMA; MMPretrain: .item() per parameter
    assert ours['syncs_optimizer_ema'] == 0
    # the whole Runner iteration: one copy brings the guard's flag and every
    # logged value to the host (the batched views make none)
    assert ours['syncs_per_iter'] == 1, ours['sync_sites']
    assert theirs['syncs_optimizer_ema'] > 100
    assert set(result['speedup']) == {'iteration', 'model_step'}
    # the same network on both sides: the same FLOPs per image
    assert 0.95 < ours['gflop_per_image'] / theirs['gflop_per_image'] < 1.05
    # peaks of the dtypes the sides compute in, and only those
    assert set(result['peak_gflops']) == {'float32'}
    for dtype, peak in result['peak_gflops'].items():
        assert peak == max(result['peak_detail'][dtype].values()) > 0
    assert theirs['compute_dtype'] == 'float32'
    # mmbyol's runtime keeps freed host memory; MMPretrain runs as it ships
    assert (ours['reuse_host_memory'], theirs['reuse_host_memory']) == (
        True, False)
    assert ours['page_faults_per_iter'] >= 0
    # no loader workers here (num_workers=0): nothing to measure
    assert ours['loader_cpu_s_per_batch'] is None
    assert ours['loader_bound_images_per_s'] is None
    for side in (ours, theirs):
        assert side['gflops'] == side['gflop_per_image'] * side[
            'iteration']['images_per_s']
        assert side['ceiling_images_per_s'] > 0


def test_bf16_channels_last_on_digits(tmp_path):
    # bf16 asked for by name: kept even where emulated (a warning says so)
    out = tmp_path / 'result.json'
    load_benchmark().main([
        str(REPO / 'configs/byol_demo_digits.py'), '--amp',
        '--keep-nchw', 'layer4', '--backward-as-forward', 'layer4',
        *ONE_ITER, '--work-dir', str(tmp_path),
        '--out', str(out), '--cfg-options', 'train_dataloader.batch_size=8',
        'optim_wrapper.dtype=bfloat16'
    ])
    result = json.loads(out.read_text())
    assert set(result['peak_gflops']) == {'bfloat16'}
    assert result['mmbyol_settings']['optim_wrapper'] == \
        'AutocastOptimWrapper'
    # --keep-nchw implies channels_last and reaches the hook
    assert result['mmbyol_settings']['channels_last'] is True
    assert result['mmbyol_settings']['keep_nchw'] == ['layer4']
    assert result['mmbyol_settings']['backward_as_forward'] == ['layer4']
    assert list(result['sides']) == ['mmbyol']
    assert result['sides']['mmbyol']['syncs_optimizer_ema'] == 0
    assert result['sides']['mmbyol']['compute_dtype'] == 'bfloat16'


def test_flags_reuse_the_configs_own_channels_last_hook(tmp_path):
    tool = load_benchmark()
    tool.register_all_modules(init_default_scope=False)
    args = tool.parse_args([
        str(REPO / 'configs/byol_resnet18_cifar10_bf16.py'),
        '--channels-last', '--keep-nchw', 'layer4'])
    cfg = tool.mmbyol_config(args, 2, str(tmp_path))
    layout = [h for h in cfg.custom_hooks
              if h['type'] == 'ChannelsLastHook']
    # one hook, the config's, with the stages the flag names
    assert layout == [dict(type='ChannelsLastHook', keep_nchw=['layer4'])]


def test_amp_alone_asks_for_auto_precision(tmp_path):
    tool = load_benchmark()
    args = tool.parse_args([str(REPO / 'configs/byol_demo_digits.py'),
                            '--amp'])
    cfg = tool.mmbyol_config(args, 2, str(tmp_path))
    assert cfg.optim_wrapper.type == 'AutocastOptimWrapper'
    assert cfg.optim_wrapper.dtype == 'auto'


class SpinDataset(torch.utils.data.Dataset):
    """Each item burns ``seconds`` of CPU time in its worker."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __len__(self) -> int:
        return 1000

    def __getitem__(self, index):
        end = time.process_time() + self.seconds
        while time.process_time() < end:
            pass
        return index


def test_loader_cpu_per_batch_reads_the_workers_cpu_time():
    from mmengine.runner.loops import _InfiniteDataloaderIterator
    tool = load_benchmark()

    def loop(num_workers):
        loader = torch.utils.data.DataLoader(
            SpinDataset(0.02), batch_size=2, num_workers=num_workers,
            persistent_workers=num_workers > 0)
        it = _InfiniteDataloaderIterator(loader)
        next(it)  # starts the workers
        return SimpleNamespace(dataloader_iterator=it)

    # 2 items x 20 ms of CPU per batch, in 1 worker
    cpu = tool.loader_cpu_per_batch(loop(1), batches=5)
    assert 0.03 <= cpu <= 0.08, cpu
    assert tool.loader_cpu_per_batch(loop(0), batches=5) is None


def test_ablate_runs_mmbyol_without_a_hook_beside_itself(tmp_path):
    out = tmp_path / 'result.json'
    load_benchmark().main([
        str(REPO / 'configs/byol_demo_digits.py'), '--backward-as-forward',
        'layer4', '--ablate', 'ConvBackwardAsForwardHook', *ONE_ITER,
        '--work-dir', str(tmp_path), '--out', str(out), '--cfg-options',
        'train_dataloader.batch_size=8'
    ])
    result = json.loads(out.read_text())
    assert list(result['sides']) == ['mmbyol', 'mmbyol-ablated']
    assert result['mmbyol_settings']['ablated'] == [
        'ConvBackwardAsForwardHook']
    assert set(result['speedup_over']) == {'mmbyol-ablated'}
    assert result['speedup'] == result['speedup_over']['mmbyol-ablated']
    for side in result['sides'].values():
        assert side['iteration']['median_s'] > 0


def test_ablated_config_drops_only_the_named_hooks(tmp_path):
    tool = load_benchmark()
    tool.register_all_modules(init_default_scope=False)
    args = tool.parse_args([
        str(REPO / 'configs/byol_resnet18_cifar10_bf16.py'),
        '--backward-as-forward', 'layer4'])
    cfg = tool.mmbyol_config(args, 2, str(tmp_path))
    ablated = tool.ablated_config(cfg, ['ConvBackwardAsForwardHook'],
                                  str(tmp_path))
    types = [h['type'] for h in cfg.custom_hooks]
    assert 'ConvBackwardAsForwardHook' in types
    assert [h['type'] for h in ablated.custom_hooks] == [
        t for t in types if t != 'ConvBackwardAsForwardHook']
    assert ablated.work_dir != cfg.work_dir
    with pytest.raises(ValueError, match='--ablate CompileHook: not among'):
        tool.ablated_config(cfg, ['CompileHook'], str(tmp_path))
