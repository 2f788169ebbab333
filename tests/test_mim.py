"""MIM: the model index lists every config with only measured results, and
``mim search/train/run mmbyol`` find the configs, tools and index that
installing mmbyol puts under ``mmbyol/.mim`` (links in an editable install,
copies in a regular one)."""
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

REPO = Path(__file__).resolve().parents[1]
DIGITS = 'byol_resnet18-w16_1xb128-coslr-50e_digits.py'
# One epoch of two iterations: 32 of the digits in batches of 16.
SHORT_RUN = ('--cfg-options', 'train_cfg.max_epochs=1',
             'train_dataloader.dataset.indices=32',
             'train_dataloader.batch_size=16')


def metafile_models():
    index = yaml.safe_load((REPO / 'model-index.yml').read_text())
    return [model for path in index['Import']
            for model in yaml.safe_load((REPO / path).read_text())['Models']]


def test_model_index_lists_every_config_once():
    listed = [model['Config'] for model in metafile_models()]
    assert len(listed) == len(set(listed))
    for config in listed:
        assert (REPO / config).is_file(), config
    configs = {str(p.relative_to(REPO))
               for p in (REPO / 'configs').rglob('*.py')
               if '_base_' not in p.parts}
    assert set(listed) == configs


def test_model_names_are_config_names():
    for model in metafile_models():
        assert model['Name'] == Path(model['Config']).stem


def test_model_index_parses_with_modelindex():
    from modelindex.load_model_index import load
    index = load(str(REPO / 'model-index.yml'))
    assert index.check(silent=True) == []
    assert len(index.models) == len(metafile_models())


def test_no_metafile_names_weights():
    for model in metafile_models():
        assert not {key.lower() for key in model} & {'weights', 'weight'}
    for path in [REPO / 'model-index.yml', *REPO.glob('configs/**/*.yml')]:
        assert '.pth' not in path.read_text(), path


def test_every_result_says_where_and_when_it_was_measured():
    measured = [m for m in metafile_models() if m.get('Results')]
    assert {m['Name'] for m in measured} >= {
        Path(DIGITS).stem, 'byol_resnet18-w16_1xb128-coslr-200e_cifar10-24px'}
    for model in measured:
        assert model['Metadata']['Training Resources']
        assert model['Metadata']['Measured'][:4].isdigit()
        for result in model['Results']:
            assert all(0 < v <= 100 for v in result['Metrics'].values())


# --------------------------------------------------------------- mim itself
def run_mim(*args, cwd, env=None):
    out = subprocess.run([sys.executable, '-m', 'mim', *map(str, args)],
                         cwd=cwd, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    return out.stdout


@pytest.fixture(scope='module')
def mim_root():
    """mmbyol's package folder as MIM sees it (never lets MIM install)."""
    pytest.importorskip('mim', reason='openmim is not installed')
    from mim.utils import get_installed_path, is_installed
    if not is_installed('mmbyol'):
        pytest.skip('mmbyol is not installed (pip install -e .)')
    root = Path(get_installed_path('mmbyol'))
    for name in ('configs', 'tools', 'model-index.yml'):
        assert (root / '.mim' / name).exists(), \
            f'{root}/.mim/{name} is missing: reinstall with pip install -e .'
    return root


@pytest.fixture(scope='module')
def trained(mim_root, tmp_path_factory):
    """``mim train mmbyol DIGITS``, run from a folder with no configs."""
    tmp = tmp_path_factory.mktemp('mim_train')
    stdout = run_mim('train', 'mmbyol', DIGITS, '--work-dir', tmp / 'work',
                     *SHORT_RUN, cwd=tmp)
    return stdout, tmp / 'work' / 'epoch_1.pth'


def test_mim_search_lists_every_config_with_its_results(mim_root, tmp_path):
    stdout = run_mim('search', 'mmbyol', cwd=tmp_path)
    for model in metafile_models():
        assert f"config id: {model['Name']}\n" in stdout
    stdout = run_mim('search', 'mmbyol', '--config', Path(DIGITS).stem,
                     cwd=tmp_path)
    assert '93.9' in stdout and 'weight' not in stdout


def test_mim_train_finds_the_bundled_config_and_train_script(trained,
                                                             mim_root):
    stdout, checkpoint = trained
    assert f"{mim_root / '.mim' / 'tools' / 'train.py'} " in stdout
    assert checkpoint.is_file()


def test_mim_run_extract_backbone(trained, tmp_path):
    _, checkpoint = trained
    out = tmp_path / 'backbone.pth'
    stdout = run_mim('run', 'mmbyol', 'extract_backbone', checkpoint, out,
                     cwd=tmp_path)
    info = json.loads(next(x for x in stdout.splitlines()
                           if x.startswith('{')))
    assert info['num_params'] > 0
    state = torch.load(out, weights_only=True)['state_dict']
    assert state and not any(key.startswith('target') for key in state)


def test_mim_train_pytorch_launcher_runs_two_processes(mim_root, tmp_path):
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    env = dict(os.environ, CUDA_VISIBLE_DEVICES='',
               OMP_NUM_THREADS='1')
    stdout = run_mim('train', 'mmbyol', DIGITS, '--gpus', 2, '--launcher',
                     'pytorch', '--port', port, '--work-dir', tmp_path,
                     *SHORT_RUN, cwd=tmp_path, env=env)
    assert '--nproc_per_node=2' in stdout
    assert (tmp_path / 'epoch_1.pth').is_file()


def test_mim_train_slurm_launcher_calls_srun_with_the_train_script(
        mim_root, tmp_path):
    # No cluster here: a stand-in srun records the command MIM builds.
    # openmim 0.3.9 under click >= 8.3 reads an absent --srun-args as a
    # click sentinel and crashes: pass it, empty.
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    srun = bin_dir / 'srun'
    srun.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {tmp_path}/argv\n')
    srun.chmod(0o755)
    env = dict(os.environ)
    env['PATH'] = f"{bin_dir}:{env['PATH']}"
    run_mim('train', 'mmbyol', DIGITS, '--gpus', 16, '--gpus-per-node', 8,
            '--partition', 'gpu', '--launcher', 'slurm', '--srun-args=',
            '--work-dir',
            tmp_path / 'work', cwd=tmp_path, env=env)
    argv = (tmp_path / 'argv').read_text().splitlines()
    assert argv[:2] == ['-p', 'gpu'] and '--ntasks=16' in argv
    script = argv.index(str(mim_root / '.mim' / 'tools' / 'train.py'))
    assert argv[script + 1].endswith(DIGITS)
    assert argv[script + 2:script + 4] == ['--launcher', 'slurm']


def test_regular_install_from_sdist_carries_the_mim_files(trained, tmp_path):
    """sdist (MANIFEST.in), then a wheel built from it (build_py), then
    ``mim run`` against that install."""
    src = tmp_path / 'src'
    src.mkdir()
    for name in ('setup.py', 'MANIFEST.in', 'README.md', 'model-index.yml'):
        shutil.copy(REPO / name, src / name)
    ignore = shutil.ignore_patterns('.mim', '__pycache__', '*.egg-info')
    for name in ('mmbyol', 'configs', 'tools'):
        shutil.copytree(REPO / name, src / name, ignore=ignore)
    subprocess.run([sys.executable, 'setup.py', '-q', 'sdist', '-d',
                    str(tmp_path / 'dist')], cwd=src, check=True,
                   capture_output=True)
    sdist, = (tmp_path / 'dist').glob('mmbyol-*.tar.gz')
    site = tmp_path / 'site'
    subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', '--no-deps',
                    '--no-build-isolation', '--no-index', '--target',
                    str(site), str(sdist)], check=True, capture_output=True)
    mim_dir = site / 'mmbyol' / '.mim'
    for path in ('model-index.yml', f'configs/{DIGITS}', 'tools/train.py',
                 'tools/extract_backbone.py', 'configs/metafile.yml'):
        assert (mim_dir / path).is_file() and not (mim_dir / path).is_symlink()

    env = dict(os.environ, PYTHONPATH=str(site))
    stdout = run_mim('run', 'mmbyol', 'extract_backbone', trained[1],
                     tmp_path / 'backbone.pth', cwd=tmp_path, env=env)
    assert str(mim_dir / 'tools' / 'extract_backbone.py') in stdout
    assert (tmp_path / 'backbone.pth').is_file()
