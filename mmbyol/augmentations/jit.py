"""numba's ``njit`` as mmbyol's CPU kernels use it (one set of options)."""
try:
    import numba
except ImportError:  # pragma: no cover - numba is a dependency
    numba = None


def jit(fn):
    """``numba.njit``, cached on disk where numba finds a writable place
    (else compiled once per process); no fastmath, so the rounding is the
    tensor ops' (bar FMA contraction). Without numba: the Python function."""
    if numba is None:
        return fn
    options = dict(boundscheck=False, fastmath={'contract'}, nogil=True)
    try:
        return numba.njit(cache=True, **options)(fn)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return numba.njit(**options)(fn)
