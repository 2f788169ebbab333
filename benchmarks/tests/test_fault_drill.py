"""The fault drill in a short form: three SIGKILLs (one while a checkpoint
is being written), a NaN inside the forward pass, ``--resume``, and the run
ends bitwise where an undisturbed run ends, every tensor finite."""
from benchmarks import fault_drill


def test_fault_drill_short(tmp_path):
    result = fault_drill.drill(fault_drill.parse_args([
        '--kills', '3', '--samples', '32', '--batch-size', '8', '--epochs',
        '3', '--num-workers', '0', '--nan-at', '5', '--work-dir',
        str(tmp_path)]))
    assert result['kills'] == 3 and result['finished_before_kill'] == 0
    assert result['kills_during_save'] >= 1
    assert result['nan_steps_skipped'] == 1  # the reference met the NaN
    assert result['iteration'] == 12
    assert result['identical_weights'] and result['identical_optimizer']
    assert result['same_momentum_step'] and result['identical']
    assert result['finite'] and result['survived'] == 3
