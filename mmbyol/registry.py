"""mmbyol's registries: one child of every MMPretrain registry node.

Each node has ``scope='mmbyol'`` and MMPretrain's node as parent, so a config
with ``default_scope = 'mmbyol'`` finds mmbyol's components first and falls
back to every MMPretrain (and MMEngine) backbone, transform, dataset,
optimizer, hook and metric by name.  ``locations`` lists mmbyol's package
*and* MMPretrain's: a parent does not run its own lazy imports when a child
falls back to it, so without the second entry ``ResNet`` would resolve to
``None``.
"""
from mmengine import registry as mmengine_registry
from mmengine.registry import Registry
from mmpretrain import registry as mmpretrain_registry

# name of the node in mmpretrain.registry -> (human name, modules to import)
_NODES = {
    'RUNNERS': ('runner', ['mmbyol.engine', 'mmpretrain.engine']),
    'RUNNER_CONSTRUCTORS': ('runner constructor',
                            ['mmbyol.engine', 'mmpretrain.engine']),
    'LOOPS': ('loop', ['mmbyol.engine', 'mmpretrain.engine']),
    'HOOKS': ('hook', ['mmbyol.engine', 'mmpretrain.engine']),
    'LOG_PROCESSORS': ('log processor', ['mmbyol.engine',
                                         'mmpretrain.engine']),
    'OPTIMIZERS': ('optimizer', ['mmbyol.engine', 'mmpretrain.engine']),
    'OPTIM_WRAPPERS': ('optim wrapper', ['mmbyol.engine',
                                         'mmpretrain.engine']),
    'OPTIM_WRAPPER_CONSTRUCTORS': ('optimizer wrapper constructor',
                                   ['mmbyol.engine', 'mmpretrain.engine']),
    'PARAM_SCHEDULERS': ('parameter scheduler',
                         ['mmbyol.engine', 'mmpretrain.engine']),
    'DATASETS': ('dataset', ['mmbyol.datasets', 'mmpretrain.datasets']),
    'DATA_SAMPLERS': ('data sampler', ['mmbyol.datasets',
                                       'mmpretrain.datasets']),
    'TRANSFORMS': ('transform', ['mmbyol.datasets', 'mmpretrain.datasets']),
    'MODELS': ('model', ['mmbyol.models', 'mmpretrain.models']),
    'MODEL_WRAPPERS': ('model_wrapper', ['mmbyol.models',
                                         'mmpretrain.models']),
    'WEIGHT_INITIALIZERS': ('weight initializer',
                            ['mmbyol.models', 'mmpretrain.models']),
    'BATCH_AUGMENTS': ('batch augment', ['mmbyol.models',
                                         'mmpretrain.models']),
    'TASK_UTILS': ('task util', ['mmbyol.models', 'mmpretrain.models']),
    'TOKENIZER': ('tokenizer', ['mmpretrain.models']),
    'METRICS': ('metric', ['mmbyol.evaluation', 'mmpretrain.evaluation']),
    'EVALUATORS': ('evaluator', ['mmbyol.evaluation',
                                 'mmpretrain.evaluation']),
    'VISUALIZERS': ('visualizer', ['mmbyol.visualization',
                                   'mmpretrain.visualization']),
    'VISBACKENDS': ('vis_backend', ['mmbyol.visualization',
                                    'mmpretrain.visualization']),
}


# Nodes that hang directly below MMEngine's root: MMEngine looks a scoped
# name up among the root's children only, so MMPretrain's and MMEngine's
# entry points (``RUNNERS.build(cfg)``) find ``'mmbyol.ReliableRunner'``.
# MMPretrain registers no runner, so nothing is lost.
_BELOW_ROOT = ('RUNNERS', )


def _child(node: str) -> Registry:
    name, locations = _NODES[node]
    parent = (mmengine_registry if node in _BELOW_ROOT else
              mmpretrain_registry)
    return Registry(
        name,
        parent=getattr(parent, node),
        scope='mmbyol',
        locations=locations)


RUNNERS = _child('RUNNERS')
RUNNER_CONSTRUCTORS = _child('RUNNER_CONSTRUCTORS')
LOOPS = _child('LOOPS')
HOOKS = _child('HOOKS')
LOG_PROCESSORS = _child('LOG_PROCESSORS')
OPTIMIZERS = _child('OPTIMIZERS')
OPTIM_WRAPPERS = _child('OPTIM_WRAPPERS')
OPTIM_WRAPPER_CONSTRUCTORS = _child('OPTIM_WRAPPER_CONSTRUCTORS')
PARAM_SCHEDULERS = _child('PARAM_SCHEDULERS')
DATASETS = _child('DATASETS')
DATA_SAMPLERS = _child('DATA_SAMPLERS')
TRANSFORMS = _child('TRANSFORMS')
MODELS = _child('MODELS')
MODEL_WRAPPERS = _child('MODEL_WRAPPERS')
WEIGHT_INITIALIZERS = _child('WEIGHT_INITIALIZERS')
BATCH_AUGMENTS = _child('BATCH_AUGMENTS')
TASK_UTILS = _child('TASK_UTILS')
TOKENIZER = _child('TOKENIZER')
METRICS = _child('METRICS')
EVALUATORS = _child('EVALUATORS')
VISUALIZERS = _child('VISUALIZERS')
VISBACKENDS = _child('VISBACKENDS')

__all__ = list(_NODES)
