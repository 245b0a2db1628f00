"""Telemetry sends each onset as its own numbered message, however many came in one pass."""

from __future__ import annotations

from livegan.show import telemetry
from livegan.show.telemetry import Telemetry


class _Sender:
    def __init__(self) -> None:
        self.sent: list[tuple] = []
        self.target = "127.0.0.1:9000"

    def send(self, address: str, *args: object) -> None:
        self.sent.append((address, *args))

    def stats(self) -> dict:
        return {"sent": len(self.sent), "failed": 0}

    def close(self) -> None:
        pass


def test_every_onset_is_sent_numbered() -> None:
    sender = _Sender()
    t = Telemetry(sender)
    for onsets in (1, 1, 4, 5, 5, 9):  # passes of the main loop: the count so far
        t.audio(0.0, 0.5, (0.1, 0.2, 0.3), onsets)
    numbers = [s[1] for s in sender.sent if s[0] == "/livegan/audio/onset"]
    assert numbers == list(range(1, 10))


def test_a_long_stall_sends_only_the_newest_onsets() -> None:
    sender = _Sender()
    t = Telemetry(sender)
    t.audio(0.0, 0.5, (0.1, 0.2, 0.3), 1000)
    numbers = [s[1] for s in sender.sent if s[0] == "/livegan/audio/onset"]
    assert len(numbers) == telemetry.MAX_ONSETS and numbers[-1] == 1000
