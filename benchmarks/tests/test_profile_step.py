"""benchmarks/profile_step.py on a tiny model and real JPEGs."""
import json

from benchmarks import profile_step
from benchmarks.tests.conftest import CIFAR_CONFIG, tiny_jpeg_args


def test_times_every_op_of_a_step(cifar_folder, tmp_path, capsys):
    out = tmp_path / 'step.json'
    profile_step.main([
        CIFAR_CONFIG, '--channels-last', '--steps', '1', '--out', str(out),
        *tiny_jpeg_args(cifar_folder)
    ])
    result = json.loads(out.read_text())
    assert 'convolution forward' in capsys.readouterr().out
    shares = result['share_by_kind']
    assert abs(sum(shares.values()) - 1) < 0.01
    for kind in ('convolution forward', 'convolution backward',
                 'BatchNorm forward', 'BatchNorm backward', 'ReLU backward'):
        assert shares[kind] > 0, kind
    convs = [g for g in result['groups'] if g['op'] == 'convolution']
    # ResNet_CIFAR-18: 20 convolutions per encoder (17 3x3, 3 1x1
    # shortcuts), each run on two views by the online and target encoders
    assert sum(g['calls'] for g in convs) == 80
    assert all(g['gflops'] > 0 for g in convs)
    assert any('CL' in g['inputs'] for g in convs)  # channels-last inputs
    assert result['timed_step_s'] > 0 and result['step_s'] > 0
