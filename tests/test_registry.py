import pytest
from mmengine.registry import DefaultScope
from mmpretrain import registry as mmpretrain_registry

from mmbyol import registry


@pytest.fixture
def mmbyol_scope():
    name = 'test-mmbyol-scope'
    with DefaultScope.overwrite_default_scope('mmbyol'):
        yield name


def test_every_mmpretrain_node_has_an_mmbyol_child():
    from mmengine import registry as mmengine_registry
    for node in mmpretrain_registry.__all__ + ['TOKENIZER']:
        child = getattr(registry, node)
        assert child.scope == 'mmbyol'
        # runners hang below MMEngine's root, where MMEngine looks up
        # 'mmbyol.ReliableRunner' (MMPretrain registers no runner)
        parent = mmengine_registry if node == 'RUNNERS' else \
            mmpretrain_registry
        assert child.parent is getattr(parent, node), node


def test_the_runner_resolves_by_scoped_name_from_mmengines_root():
    from mmengine.registry import RUNNERS

    from mmbyol.engine.runner import ReliableRunner
    assert RUNNERS.get('mmbyol.ReliableRunner') is ReliableRunner


@pytest.mark.parametrize('node,name', [
    ('MODELS', 'ResNet'),
    ('MODELS', 'VisionTransformer'),
    ('MODELS', 'NonLinearNeck'),
    ('TRANSFORMS', 'RandomResizedCrop'),
    ('TRANSFORMS', 'PackInputs'),
    ('DATASETS', 'CustomDataset'),
    ('OPTIMIZERS', 'LARS'),
    ('OPTIMIZERS', 'SGD'),
    ('HOOKS', 'CheckpointHook'),
    ('HOOKS', 'EMAHook'),
    ('METRICS', 'Accuracy'),
    ('PARAM_SCHEDULERS', 'CosineAnnealingLR'),
    ('MODELS', 'BYOL'),
    ('MODELS', 'BYOLNeck'),
    ('MODELS', 'LatentPredictHead'),
    ('HOOKS', 'BYOLMomentumHook'),
    ('DATASETS', 'DigitsDataset'),
    ('OPTIM_WRAPPER_CONSTRUCTORS', 'BYOLOptimWrapperConstructor'),
])
def test_names_resolve_in_mmbyol_scope(mmbyol_scope, node, name):
    assert getattr(registry, node).get(name) is not None, (node, name)


def test_mmbyol_byol_shadows_upstream_which_stays_reachable(mmbyol_scope):
    from mmpretrain.models import BYOL as UpstreamBYOL

    from mmbyol.models import BYOL
    assert registry.MODELS.get('BYOL') is BYOL
    assert registry.MODELS.get('mmpretrain.BYOL') is UpstreamBYOL
