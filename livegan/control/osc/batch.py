"""OSC in batches: take what waits in a socket, keep the newest value per address.

The OSC server's thread takes every datagram waiting in the socket as one batch; within
it, a plain message to an address that only sets a value (a latent component, a
direction, a parameter) is superseded by a newer one to the same address, so a flood
costs the show work per address, not per message. Messages that act (seeds, scenes,
snapshots, triggers, anything unknown) are always kept, in order.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_DATAGRAM = 65535
MAX_BATCH = 4096  # datagrams taken in one batch; the rest wait for the next
MAX_VERDICTS = 1024  # addresses remembered; past this the table starts over

Sender = tuple[str, int]
Datagram = tuple[bytes, Sender]


@dataclass(frozen=True)
class Coalescing:
    """Which addresses only set values, so the newest message in a batch stands for all.

    An address qualifies when it is in ``addresses`` or starts with one of ``prefixes``,
    and is not in ``never`` (a patch's buttons on such an address).
    """

    addresses: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    never: frozenset[str] = frozenset()

    def __call__(self, address: str) -> bool:
        return address not in self.never and (
            address in self.addresses or address.startswith(self.prefixes))


NOTHING = Coalescing()  # every message is delivered


@dataclass
class Coalescer:
    """Reduces batches under a `Coalescing`, remembering its verdict per raw address."""

    rule: Coalescing = NOTHING
    _verdicts: dict[bytes, bool] = field(default_factory=dict)

    def set_rule(self, rule: Coalescing) -> None:
        if rule != self.rule:
            self.rule, self._verdicts = rule, {}

    def reduce(self, batch: list[Datagram]) -> tuple[list[Datagram], int]:
        """The datagrams to deliver, in order, and how many were superseded.

        A superseded datagram's newest successor takes the place of its own arrival, so
        the order among what is kept is the order of the newest arrivals.
        """
        if len(batch) < 2 or self.rule is NOTHING:
            return batch, 0
        verdicts, rule = self._verdicts, self.rule
        latest: dict[object, Datagram] = {}
        superseded = 0
        for n, item in enumerate(batch):
            datagram = item[0]
            key: object = n
            if datagram[:1] == b"/":
                end = datagram.find(b"\0")
                if end > 0:
                    address = datagram[:end]
                    verdict = verdicts.get(address)
                    if verdict is None:
                        if len(verdicts) >= MAX_VERDICTS:  # ever new addresses: start over
                            verdicts.clear()
                        verdict = verdicts[address] = rule(address.decode("utf-8", "replace"))
                    if verdict:
                        key = address
                        if latest.pop(key, None) is not None:
                            superseded += 1
            latest[key] = item
        return list(latest.values()), superseded


def take(sock: socket.socket, on_error: Callable[[OSError], None]) -> list[Datagram]:
    """What waits in the non-blocking `sock`, up to MAX_BATCH datagrams."""
    batch: list[Datagram] = []
    recvfrom = sock.recvfrom
    try:
        while len(batch) < MAX_BATCH:
            datagram, sender = recvfrom(MAX_DATAGRAM)
            batch.append((datagram, (sender[0], sender[1])))
    except BlockingIOError:
        pass
    except OSError as exc:
        on_error(exc)
    return batch
