"""benchmarks/speed.py on tiny settings: it runs and emits valid JSON."""
import json

import pytest

from benchmarks import speed, speed_configs
from benchmarks.tests.conftest import (CIFAR_AMP_CONFIG, CIFAR_CONFIG,
                                       DIGITS_CONFIG, tiny_jpeg_args)
from mmbyol import register_all_modules

ONE_ITER = ['--iters', '1', '--warmup', '0', '--rounds', '1',
            '--step-iters', '1', '--ema-repeats', '2',
            '--peak-size', '256']


def test_against_mmpretrain_on_real_jpegs(cifar_folder, tmp_path, capsys):
    out = tmp_path / 'result.json'
    speed.main([
        CIFAR_CONFIG, '--against-mmpretrain', '--channels-last', *ONE_ITER,
        '--work-dir', str(tmp_path), '--out', str(out),
        *tiny_jpeg_args(cifar_folder)
    ])
    result = json.loads(out.read_text())
    assert 'speedup' in capsys.readouterr().out
    # the CIFAR10 config trains on the JPEG folder it was pointed at
    assert result['dataset']['type'] == 'ImageFolderDataset'
    assert result['dataset']['data_prefix'] == cifar_folder.name
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
    speed.main([
        DIGITS_CONFIG, '--amp', '--keep-nchw', 'layer4',
        '--backward-as-forward', 'layer4', *ONE_ITER,
        '--work-dir', str(tmp_path), '--out', str(out), '--cfg-options',
        'train_dataloader.batch_size=8', 'optim_wrapper.dtype=bfloat16'
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
    register_all_modules(init_default_scope=False)
    args = speed.parse_args([CIFAR_AMP_CONFIG, '--channels-last',
                             '--keep-nchw', 'layer4', '--images',
                             str(tmp_path)])
    cfg = speed_configs.mmbyol_config(args, 2, str(tmp_path))
    layout = [h for h in cfg.custom_hooks
              if h['type'] == 'ChannelsLastHook']
    # one hook, the config's, with the stages the flag names
    assert layout == [dict(type='ChannelsLastHook', keep_nchw=['layer4'])]


def test_amp_alone_asks_for_auto_precision(tmp_path):
    args = speed.parse_args([DIGITS_CONFIG, '--amp'])
    cfg = speed_configs.mmbyol_config(args, 2, str(tmp_path))
    assert cfg.optim_wrapper.type == 'AutocastOptimWrapper'
    assert cfg.optim_wrapper.dtype == 'auto'


def test_ablate_runs_mmbyol_without_a_hook_beside_itself(tmp_path):
    out = tmp_path / 'result.json'
    speed.main([
        DIGITS_CONFIG, '--backward-as-forward', 'layer4', '--ablate',
        'ConvBackwardAsForwardHook', *ONE_ITER, '--work-dir', str(tmp_path),
        '--out', str(out), '--cfg-options', 'train_dataloader.batch_size=8'
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
    register_all_modules(init_default_scope=False)
    args = speed.parse_args([CIFAR_AMP_CONFIG, '--backward-as-forward',
                             'layer4', '--images', str(tmp_path)])
    cfg = speed_configs.mmbyol_config(args, 2, str(tmp_path))
    ablated = speed_configs.ablated_config(
        cfg, ['ConvBackwardAsForwardHook'], str(tmp_path))
    types = [h['type'] for h in cfg.custom_hooks]
    assert 'ConvBackwardAsForwardHook' in types
    assert [h['type'] for h in ablated.custom_hooks] == [
        t for t in types if t != 'ConvBackwardAsForwardHook']
    assert ablated.work_dir != cfg.work_dir
    with pytest.raises(ValueError, match='--ablate KNNHook: not among'):
        speed_configs.ablated_config(cfg, ['KNNHook'], str(tmp_path))
