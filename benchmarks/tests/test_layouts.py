"""benchmarks/layouts.py: per-stage layout timings, JSON out."""
import json

import torch.nn as nn

from benchmarks import layouts
from benchmarks.experiments.conv_backward_as_forward import \
    Conv2dBackwardAsForward
from benchmarks.tests.conftest import DIGITS_CONFIG


def test_times_every_conv_stage_in_both_layouts(tmp_path, capsys):
    out = tmp_path / 'layouts.json'
    result = layouts.main([
        DIGITS_CONFIG, '--batch', '4',
        '--size', '32', '--repeats', '1', '--device', 'cpu',
        '--dtype', 'bfloat16', '--out', str(out)
    ])
    assert json.loads(out.read_text()) == result
    assert 'suggested: custom_hooks' in capsys.readouterr().out
    rows = {r['stage']: r for r in result['stages']}
    # ResNet_CIFAR: the 3x3 stem and four stages; norm and ReLU hold no conv
    assert list(rows) == ['conv1', 'layer1', 'layer2', 'layer3', 'layer4']
    # each stage timed on what it really receives (base width 16)
    assert rows['conv1']['input_shape'] == [4, 3, 32, 32]
    assert rows['layer1']['input_shape'] == [4, 16, 32, 32]
    assert rows['layer4']['input_shape'] == [4, 64, 8, 8]
    # in the dtype training gives them: images fp32, activations bf16
    assert result['dtype'] == result['requested_dtype'] == 'bfloat16'
    assert rows['conv1']['input_dtype'] == 'float32'
    assert rows['layer1']['input_dtype'] == 'bfloat16'
    for row in rows.values():
        for layout in ('nhwc', 'nchw', 'nhwc_bwd_as_fwd', 'nchw_bwd_as_fwd'):
            t = row[layout]
            assert min(t['forward'], t['backward'],
                       t['forward_no_grad']) > 0
            assert t['byol_ms'] == 2 * (t['forward'] + t['backward'] +
                                        t['forward_no_grad'])
    # the suggestions follow the margin rule
    assert result['keep_nchw'] == [
        r['stage'] for r in result['stages']
        if r['nchw']['byol_ms'] < 0.95 * r['nhwc']['byol_ms']
    ]
    for r in result['stages']:  # gradients compared in the kept layout
        kept = 'nchw' if r['stage'] in result['keep_nchw'] else 'nhwc'
        assert r['bwd_as_fwd_speedup'] == (
            r[kept]['byol_ms'] / r[f'{kept}_bwd_as_fwd']['byol_ms'])
    assert result['backward_as_forward'] == [
        r['stage'] for r in result['stages']
        if r['bwd_as_fwd_speedup'] > 1 / 0.95
    ]


def test_variants_are_copies_in_their_layout_and_backward():
    tool = layouts
    stage = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4))
    for key, (layout, bwd_as_fwd) in tool.VARIANTS.items():
        copy = tool.variant(stage, layout, bwd_as_fwd)
        assert copy[0].weight.is_contiguous(memory_format=layout)
        assert (type(copy[0]) is Conv2dBackwardAsForward) is bwd_as_fwd, key
    assert type(stage[0]) is nn.Conv2d  # the original is untouched
    assert sum(b for _, b in tool.VARIANTS.values()) == 2
