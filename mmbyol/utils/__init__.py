from .host_memory import reuse_host_memory
from .precision import autocast_dtype, native_bf16
from .safe_load import load_checkpoint_safely
from .setup_env import register_all_modules

__all__ = [
    'autocast_dtype', 'load_checkpoint_safely', 'native_bf16',
    'register_all_modules', 'reuse_host_memory'
]
