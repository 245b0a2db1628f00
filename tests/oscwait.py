"""Waiting on a real OscServer from a test: until the messages sent have been handled.

``stats()["received"]`` counts a message as soon as it is parsed, before its handler runs,
so a test that waits on it may look at the handler's effects (controls, dispatcher counts,
replies) too early. A message is handled once it is counted as delivered (the handler
returned), ignored, coalesced or dropped: wait on that.
"""

from __future__ import annotations

import time

from livegan.control.osc.server import DROP_REASONS, OscServer

WAIT = 5.0  # generous bound for loopback delivery; each wait ends as soon as it holds


def handled(stats: dict[str, int]) -> int:
    """The messages whose handling is over, from an ``OscServer.stats()``."""
    drops = sum(stats[reason] for reason in DROP_REASONS)
    return stats["delivered"] + stats["ignored"] + stats["coalesced"] + drops


def balanced(stats: dict[str, int]) -> bool:
    """Whether every message received has been handled (the counters add up)."""
    return stats["received"] == handled(stats)


def wait_handled(server: OscServer, count: int, limit: float = WAIT) -> dict[str, int]:
    """Wait until ``server`` has handled at least ``count`` messages; returns its stats.

    Fails the test when they are not handled within ``limit`` seconds.
    """
    deadline = time.monotonic() + limit
    while handled(server.stats()) < count and time.monotonic() < deadline:
        time.sleep(0.002)
    stats = server.stats()
    assert handled(stats) >= count, f"{count} messages not handled: {stats}"
    return stats
