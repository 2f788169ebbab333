from .errors import ConfigError, MMBYOLError
from .host_memory import reuse_host_memory
from .precision import autocast_dtype, native_bf16
from .safe_load import load_checkpoint_safely

__all__ = [
    'ConfigError', 'MMBYOLError', 'autocast_dtype', 'load_checkpoint_safely',
    'native_bf16', 'reuse_host_memory'
]
