"""benchmarks/instruments/proc.py: the loader workers' CPU seconds."""
import time
from types import SimpleNamespace

import torch
from mmengine.runner.loops import _InfiniteDataloaderIterator

from benchmarks.instruments.proc import loader_cpu_per_batch


class SpinDataset(torch.utils.data.Dataset):
    """Each item burns ``seconds`` of CPU time in its worker."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __len__(self) -> int:
        return 1000

    def __getitem__(self, index):
        end = time.process_time() + self.seconds
        while time.process_time() < end:
            pass
        return index


def test_loader_cpu_per_batch_reads_the_workers_cpu_time():

    def loop(num_workers):
        loader = torch.utils.data.DataLoader(
            SpinDataset(0.02), batch_size=2, num_workers=num_workers,
            persistent_workers=num_workers > 0)
        it = _InfiniteDataloaderIterator(loader)
        next(it)  # starts the workers
        return SimpleNamespace(dataloader_iterator=it)

    # 2 items x 20 ms of CPU per batch, in 1 worker
    cpu = loader_cpu_per_batch(loop(1), batches=5)
    assert 0.03 <= cpu <= 0.08, cpu
    assert loader_cpu_per_batch(loop(0), batches=5) is None
