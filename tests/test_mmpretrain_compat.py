"""mmbyol as MMPretrain users meet it: MMPretrain's own BYOL recipe trains
on mmbyol's components when only its default scope changes, and MMPretrain's
and MMEngine's entry points build mmbyol's runner from an mmbyol config."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import mmpretrain
import pytest
import torch
from mmengine.config import Config

from mmbyol import register_all_modules
from mmbyol.engine.hooks import BYOLMomentumHook
from mmbyol.functional import cosine_tau
from mmbyol.models import BYOL, LatentPredictHead
from tests.conftest import load_script

REPO = Path(__file__).resolve().parents[1]
MMPRETRAIN = Path(mmpretrain.__file__).parent / '.mim'
RECIPE = MMPRETRAIN / 'configs' / 'byol' / \
    'byol_resnet50_16xb256-coslr-200e_in1k.py'


def imagenet_like(root: Path, cifar_folder: Path) -> None:
    """``train/<class>/*.jpg`` and ``meta/train.txt``, as MMPretrain's
    ``ImageNet`` dataset reads them, from real CIFAR-10 images."""
    lines = []
    for label, cls in enumerate(sorted(p.name for p in cifar_folder.iterdir())):
        (root / 'train' / cls).mkdir(parents=True)
        for i in range(2):
            name = f'{cls}/{i:04d}.jpg'
            shutil.copy(cifar_folder / name, root / 'train' / name)
            lines.append(f'{name} {label}')
    (root / 'meta').mkdir()
    (root / 'meta' / 'train.txt').write_text('\n'.join(lines) + '\n')


def test_mmpretrains_byol_recipe_trains_on_mmbyols_components(
        tmp_path, cifar_folder, monkeypatch):
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(str(RECIPE))
    assert cfg.model.base_momentum == 0.01  # MMPretrain's 1 - tau
    cfg.default_scope = 'mmbyol'  # the only change to the recipe
    cfg.dump(str(tmp_path / 'recipe.py'))
    # the data where the recipe expects it (data/imagenet/, relative)
    imagenet_like(tmp_path / 'data' / 'imagenet', cifar_folder)
    monkeypatch.chdir(tmp_path)
    updates = []
    real_update = BYOL.update_target
    monkeypatch.setattr(BYOL, 'update_target', lambda self, tau: (
        updates.append(tau), real_update(self, tau)))
    runner = load_script('tools/train.py').main([
        str(tmp_path / 'recipe.py'), '--work-dir', str(tmp_path / 'work'),
        '--max-iters', '2', '--cfg-options', 'train_dataloader.batch_size=2',
        'train_dataloader.num_workers=0'])
    model = runner.model
    assert type(model) is BYOL and type(model.head) is LatentPredictHead
    assert type(model.neck).__name__ == 'NonLinearNeck'  # MMPretrain's
    assert type(model.head.loss_module).__name__ == 'CosineSimilarityLoss'
    # mmbyol's EMA moved the target, with tau = 1 - base_momentum
    hooks = [h for h in runner.hooks if isinstance(h, BYOLMomentumHook)]
    assert len(hooks) == 1 and hooks[0].steps == 2
    assert updates == [0.0] + [pytest.approx(cosine_tau(k, 2, 0.99))
                               for k in (0, 1)]
    online = dict(model.backbone.named_parameters())
    target = dict(model.target_backbone.named_parameters())
    assert all(torch.isfinite(t).all() for t in target.values())
    assert any(not torch.equal(online[n], t) for n, t in target.items())
    log = open(runner.logger.log_file).read()
    assert 'OverflowError' not in log  # ColorJitter's hue under numpy 2


def _digits_config(tmp_path) -> Path:
    """An mmbyol config with MMPretrain's custom_imports line, short."""
    path = tmp_path / 'plugin.py'
    path.write_text(
        f"_base_ = ['{REPO / 'configs' / 'byol_resnet18-w16_1xb128-coslr-50e_digits.py'}']\n"
        "custom_imports = dict(imports=['mmbyol'], "
        "allow_failed_imports=False)\n"
        "train_dataloader = dict(batch_size=16, dataset=dict(indices=32))\n"
        "train_cfg = dict(max_epochs=1)\n"
        "default_hooks = dict(checkpoint=dict(interval=1))\n")
    return path


def test_mmpretrains_train_py_builds_mmbyols_runner(tmp_path):
    config = _digits_config(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1')
    result = subprocess.run(
        [sys.executable, str(MMPRETRAIN / 'tools' / 'train.py'), str(config),
         '--work-dir', str(tmp_path / 'work')],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    # mmbyol's runner saved it: the exact-resume state only it writes
    from mmbyol.utils import load_checkpoint_safely
    ckpt = load_checkpoint_safely(str(tmp_path / 'work' / 'epoch_1.pth'))
    assert 'resume_state' in ckpt['meta']
    assert 'byol_momentum' in ckpt


def test_mmengines_runner_registry_builds_mmbyols_runner(tmp_path):
    """In a fresh process, with no default scope set: what MMEngine's
    ``RUNNERS.build(cfg)`` makes of an mmbyol config."""
    config = _digits_config(tmp_path)
    code = ('from mmengine.config import Config\n'
            'from mmengine.registry import RUNNERS\n'
            f'cfg = Config.fromfile({str(config)!r})\n'
            f'cfg.work_dir = {str(tmp_path / "work")!r}\n'
            'print(type(RUNNERS.build(cfg)).__name__)\n')
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1')
    result = subprocess.run([sys.executable, '-c', code], cwd=tmp_path,
                            env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == 'ReliableRunner'
