"""mmbyol: BYOL (Grill et al., 2020) as an OpenMMLab plugin."""
from .version import __version__

__all__ = ['__version__']
