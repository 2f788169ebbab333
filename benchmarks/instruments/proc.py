"""Process counters read from the kernel: page faults and CPU seconds."""
import os
import time
from typing import List, Optional


def minor_page_faults() -> int:
    """Minor page faults of this process so far (0 where unknown)."""
    try:
        import resource
    except ImportError:  # Windows
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def cpu_seconds(pid: int) -> Optional[float]:
    """User + system CPU seconds of process ``pid`` (Linux ``/proc``)."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def loader_workers(loop) -> List[int]:
    """PIDs of the data-loader worker processes of an MMEngine train loop
    (``[]`` if none)."""
    iterator = getattr(loop.dataloader_iterator, '_iterator', None)
    return [w.pid for w in getattr(iterator, '_workers', None) or []]


def settled_cpu(pids: List[int], timeout: float = 60.0) -> Optional[float]:
    """The processes' CPU seconds once they stop working (loader workers
    with a full prefetch queue): two reads 0.3 s apart that agree."""
    last, deadline = None, time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = [cpu_seconds(pid) for pid in pids]
        if None in now:
            return None
        if now == last:
            return sum(now)
        last = now
        time.sleep(0.3)
    return None


def loader_cpu_per_batch(loop, batches: int) -> Optional[float]:
    """CPU seconds the loader's workers spend on one batch.

    With the workers idle and their prefetch queue full, ``batches``
    batches are drawn (no step runs) and the workers refill the queue; the
    CPU time they used meanwhile, over ``batches``, is the cost of one
    batch. None without worker processes or ``/proc``.
    """
    pids = loader_workers(loop)
    if not pids or batches < 1:
        return None
    before = settled_cpu(pids)
    for _ in range(batches):
        next(loop.dataloader_iterator)
    after = settled_cpu(pids)
    if before is None or after is None:
        return None
    return (after - before) / batches
