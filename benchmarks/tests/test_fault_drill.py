"""The fault drill in a short form: one SIGKILL while a checkpoint is being
written, ``--resume`` (auto), and the run ends bitwise where an
undisturbed run ends."""
from benchmarks import fault_drill


def test_fault_drill_short(tmp_path):
    result = fault_drill.drill(fault_drill.parse_args([
        '--kills', '1', '--samples', '16', '--batch-size', '8', '--epochs',
        '2', '--num-workers', '0', '--work-dir', str(tmp_path)]))
    # the kill waits for a save; if the run outpaced the poll it finished
    assert result['kills'] + result['finished_before_kill'] == 1
    assert result['kills_during_save'] == result['kills']
    assert result['iteration'] == 4
    assert result['identical_weights'] and result['identical_optimizer']
    assert result['same_momentum_step'] and result['identical']
