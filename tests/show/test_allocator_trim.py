"""Free memory goes back to the system after a swap (glibc's malloc_trim)."""

from __future__ import annotations

import subprocess
import sys

import pytest

# Many small blocks, most freed, one in fifty kept: the heap is full of holes the allocator
# keeps for reuse unless it is told to give them back.
HOLES = r"""
import sys
from livegan.show.allocator import release_free_memory

def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20

blocks = [bytes(2000 + i % 7) for i in range(100_000)]
kept = blocks[::50]
del blocks
before = rss()
done = release_free_memory()
print(done, before, rss())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_release_free_memory_hands_freed_heap_back() -> None:
    out = subprocess.run([sys.executable, "-c", HOLES], capture_output=True, text=True,
                         check=False, timeout=60)
    assert out.returncode == 0, out.stderr
    done, before, after = out.stdout.split()
    assert done == "True"
    assert float(before) - float(after) > 50, (before, after)  # ~200 MB of holes, most returned
