"""reuse_host_memory: freed tensors' pages are reused, not faulted again."""
import json
import subprocess
import sys

import pytest

from mmbyol.utils.host_memory import _glibc

# Each run in a fresh interpreter: the setting is process-wide.
PROBE = '''
import json, resource, sys, torch
from mmbyol.utils import reuse_host_memory
took = reuse_host_memory(True) if sys.argv[1] == 'reuse' else None
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(2):  # 64 MiB, allocated, touched and freed: warm-up
    torch.ones(64 << 18)
before = faults()
for _ in range(12):
    torch.ones(64 << 18)
back = reuse_host_memory(False) if took else None
print(json.dumps(dict(took=took, back=back, faults=faults() - before)))
'''


def probe(mode: str) -> dict:
    out = subprocess.run([sys.executable, '-c', PROBE, mode], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.skipif(_glibc() is None, reason='glibc malloc only')
def test_freed_tensors_reuse_their_pages():
    default, reuse = probe('default'), probe('reuse')
    assert reuse['took'] is True and reuse['back'] is True
    # 64 MiB is 16,384 pages of 4 KiB: faulted in on each of the 12
    # allocations by default; when reused, at most on a few early ones
    # (glibc settles the heap within the first 2-4 allocations)
    assert default['faults'] > 12 * 16384 * 0.9, default
    assert reuse['faults'] < default['faults'] / 4, (reuse, default)
