from .host_memory import reuse_host_memory
from .safe_load import load_checkpoint_safely
from .setup_env import register_all_modules

__all__ = [
    'load_checkpoint_safely', 'register_all_modules', 'reuse_host_memory'
]
