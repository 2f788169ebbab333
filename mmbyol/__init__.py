"""mmbyol: BYOL (Grill et al., 2020) as an OpenMMLab plugin."""
import warnings

from .version import __version__

# mmcv-lite has no compiled ops; MMPretrain imports a module that warns about
# it on every start. BYOL needs none of them.
warnings.filterwarnings(
    'ignore', message='Fail to import ``MultiScaleDeformableAttention``')

__all__ = ['__version__', 'BYOLLearner']


def __getattr__(name):
    # ``mmbyol.BYOLLearner`` is imported on first use, so that ``import
    # mmbyol`` (and every ``mmbyol.<module>`` import) stays light.
    if name == 'BYOLLearner':
        from .learner import BYOLLearner
        return BYOLLearner
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
