import warnings

import pytest
import torch

from mmbyol.engine.optimizers import AutocastOptimWrapper, amp_optim_wrapper
from mmbyol.utils import precision
from mmbyol.utils.precision import autocast_dtype, native_bf16


@pytest.fixture(params=[True, False], ids=['native', 'emulated'])
def bf16_native(request, monkeypatch):
    monkeypatch.setattr(precision, 'native_bf16', lambda device: request.param)
    return request.param


def test_auto_is_bf16_only_where_native(bf16_native):
    expected = torch.bfloat16 if bf16_native else torch.float32
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert autocast_dtype('auto', 'cpu') == expected


def test_explicit_bf16_is_kept_and_warns_only_where_emulated(bf16_native):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        assert autocast_dtype('bfloat16', 'cpu') == torch.bfloat16
        assert autocast_dtype(torch.bfloat16, 'cpu') == torch.bfloat16
    assert len(caught) == (0 if bf16_native else 2)
    if caught:
        assert 'emulated' in str(caught[0].message)
        assert 'dtype="auto"' in str(caught[0].message)


def test_float32_and_float16_pass_through_without_warning(bf16_native):
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert autocast_dtype('float32', 'cpu') == torch.float32
        assert autocast_dtype('float16', 'cuda') == torch.float16


def test_unknown_dtype_is_refused():
    with pytest.raises(ValueError, match="auto, bfloat16, float16, float32"):
        autocast_dtype('int8', 'cpu')


def _cpu_flags() -> set:
    try:
        with open('/proc/cpuinfo') as f:
            line = next(x for x in f if x.startswith('flags'))
    except (OSError, StopIteration):
        return set()
    return set(line.split(':', 1)[1].split())


def test_native_check_follows_the_cpus_vector_extensions():
    # oneDNN's x86 bf16 kernels need AVX-512 or the AVX2 bf16 extensions
    # (AVX-NE-CONVERT); plain AVX2 CPUs emulate them
    flags = _cpu_flags()
    if 'avx2' in flags and not flags & {'avx512f', 'avx_ne_convert'}:
        assert native_bf16('cpu') is False
    if flags & {'avx512_bf16', 'amx_bf16'}:
        assert native_bf16('cpu') is True
    assert native_bf16('cuda') == (torch.cuda.is_available() and
                                   torch.cuda.is_bf16_supported(False))


def test_wrapper_defaults_to_auto_and_logs_its_choice(bf16_native,
                                                      monkeypatch):
    logged = []
    monkeypatch.setattr(amp_optim_wrapper, 'print_log',
                        lambda msg, **kwargs: logged.append(msg))
    param = torch.nn.Parameter(torch.zeros(2))
    wrapper = AutocastOptimWrapper(
        optimizer=torch.optim.SGD([param], lr=0.1))
    assert wrapper.cast_dtype == (torch.bfloat16 if bf16_native
                                  else torch.float32)
    choice = 'bfloat16 on cpu' if bf16_native else 'float32 on cpu (no'
    assert len(logged) == 1 and choice in logged[0]
    AutocastOptimWrapper(optimizer=wrapper.optimizer, dtype='float32')
    assert len(logged) == 1  # an explicit dtype needs no explanation
