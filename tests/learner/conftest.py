import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    """Small CPU models run faster on one thread, and far faster on a
    shared, oversubscribed machine (OpenMP threads spin and wait)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
