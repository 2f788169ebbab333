"""Skip a detection test module where MMDetection or full mmcv is missing."""
import importlib.util

import pytest

REASON = ('needs MMDetection 3.3.0 and full mmcv (compiled ops): build them '
          'with `make detection`, then run `make test-detection`')


def require_detection_stack():
    """Skip the calling module unless mmdet and mmcv's ops are importable
    (mmcv-lite, mmbyol's default, has no ``mmcv._ext``)."""
    if (importlib.util.find_spec('mmdet') is None
            or importlib.util.find_spec('mmcv._ext') is None):
        pytest.skip(REASON, allow_module_level=True)
