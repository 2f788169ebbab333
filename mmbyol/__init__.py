"""mmbyol: BYOL (Grill et al., 2020) as an OpenMMLab plugin.

``import mmbyol`` registers every component in mmbyol's registries, so
``custom_imports = dict(imports=['mmbyol'])`` in a config is all that
MMEngine's and MMPretrain's own entry points need.
"""
import warnings

from .version import __version__

# mmcv-lite has no compiled ops; MMPretrain imports a module that warns about
# it on every start. BYOL needs none of them.
warnings.filterwarnings(
    'ignore', message='Fail to import ``MultiScaleDeformableAttention``')

from . import datasets, engine, evaluation, models, visualization  # noqa: E402,F401,E501
from .learner import BYOLLearner  # noqa: E402
from .setup_env import register_all_modules  # noqa: E402
from .utils.safe_load import use_safe_loader_in_mmengine  # noqa: E402

# MMEngine's own loader cannot open MMEngine checkpoints under torch >= 2.6
# (weights_only=True by default): read local files with mmbyol's allow-list.
use_safe_loader_in_mmengine()

__all__ = ['__version__', 'BYOLLearner', 'register_all_modules']
