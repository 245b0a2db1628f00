"""Malloc arenas: a show's threads share two, so a long show's memory stays flat."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import textwrap

import pytest

from livegan.show import allocator

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"

# Eight threads allocate at the same time; glibc's malloc_stats() then prints one
# "Arena N:" block per arena on stderr.
THREADS = textwrap.dedent("""
    import ctypes, sys, threading
    from livegan.show.allocator import limit_malloc_arenas
    if sys.argv[1] == "cap":
        assert limit_malloc_arenas()
    barrier = threading.Barrier(8)
    def work():
        barrier.wait()
        for _ in range(200):
            junk = [bytearray(2000) for _ in range(200)]
            del junk
    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads: t.start()
    for t in threads: t.join()
    ctypes.CDLL(None).malloc_stats()
""")


def _arenas(mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run([sys.executable, "-c", THREADS, mode], capture_output=True,
                          check=False, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    return sum(line.startswith("Arena ") for line in done.stderr.splitlines())


@pytest.mark.skipif(not GLIBC, reason="malloc arenas are glibc's")
def test_threads_share_two_arenas_once_capped():
    assert _arenas("free") > allocator.SHOW_ARENAS  # what the cap is for
    assert 1 <= _arenas("cap") <= allocator.SHOW_ARENAS


def test_an_explicit_malloc_arena_max_is_respected(monkeypatch):
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert allocator.limit_malloc_arenas() is False


def test_without_a_c_library_it_does_nothing(monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)

    def no_library(name):
        raise OSError("no C library here")

    monkeypatch.setattr(allocator.ctypes, "CDLL", no_library)
    assert allocator.limit_malloc_arenas() is False


def test_a_c_library_without_mallopt_is_not_an_error(monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)

    class NoMallopt:
        def __init__(self, name):
            pass

    monkeypatch.setattr(allocator.ctypes, "CDLL", NoMallopt)
    assert allocator.limit_malloc_arenas() is False
