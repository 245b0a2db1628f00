"""OSC in batches: take what waits in a socket, keep the newest value per address.

Used by the OSC receiver process and by the receive thread that stands in for it. A
batch is every datagram waiting in the socket; within it, a plain message to an address
that only sets a value (a latent component, a direction, a parameter) is superseded by a
newer one to the same address, so a flood costs the show work per address, not per
message. Messages that act (seeds, scenes, snapshots, triggers, anything unknown) are
always kept, in order.
"""

from __future__ import annotations

import socket
import struct
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

    def to_json(self) -> dict:
        return {"addresses": sorted(self.addresses), "prefixes": list(self.prefixes),
                "never": sorted(self.never)}

    @classmethod
    def from_json(cls, data: dict) -> Coalescing:
        return cls(frozenset(map(str, data.get("addresses", ()))),
                   tuple(map(str, data.get("prefixes", ()))),
                   frozenset(map(str, data.get("never", ()))))


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


# --- the receiver process's packets to the show ---------------------------------------
# One packet: a header of counter increments, then records of
# (kind, port, host length, data length, host, data). DELIVER records carry a datagram to
# parse and deliver; a NOT_ALLOWED record names one refused sender (for the log).

COUNTS = ("datagrams", "coalesced", "not_allowed", "socket_errors")
_HEADER = struct.Struct(f"!{len(COUNTS)}I")
_RECORD = struct.Struct("!BHHI")
DELIVER, NOT_ALLOWED = 0, 1
MAX_PACKET = 256 * 1024  # records go in packets of about this size at most


def encode_packets(counts: dict[str, int], records: list[tuple[int, bytes, Sender]]) -> list[bytes]:
    """Packets for `records`; the counter increments ride on the first."""
    packets: list[bytes] = []
    parts = [_HEADER.pack(*(counts.get(k, 0) for k in COUNTS))]
    size = _HEADER.size
    zero = _HEADER.pack(*(0 for _ in COUNTS))
    for kind, data, (host, port) in records:
        raw_host = host.encode("utf-8", "replace")[:255]
        record = _RECORD.pack(kind, port & 0xFFFF, len(raw_host), len(data)) + raw_host + data
        if size + len(record) > MAX_PACKET and len(parts) > 1:
            packets.append(b"".join(parts))
            parts, size = [zero], _HEADER.size
        parts.append(record)
        size += len(record)
    packets.append(b"".join(parts))
    return packets


def decode_packet(packet: bytes) -> tuple[dict[str, int], list[tuple[int, bytes, Sender]]]:
    """Counter increments and records from one packet (ValueError if it is cut short)."""
    if len(packet) < _HEADER.size:
        raise ValueError("packet shorter than its header")
    counts = dict(zip(COUNTS, _HEADER.unpack_from(packet, 0)))
    records: list[tuple[int, bytes, Sender]] = []
    pos, end = _HEADER.size, len(packet)
    while pos < end:
        if pos + _RECORD.size > end:
            raise ValueError("record header cut short")
        kind, port, host_len, data_len = _RECORD.unpack_from(packet, pos)
        pos += _RECORD.size
        if pos + host_len + data_len > end:
            raise ValueError("record cut short")
        host = packet[pos : pos + host_len].decode("utf-8", "replace")
        pos += host_len
        records.append((kind, packet[pos : pos + data_len], (host, port)))
        pos += data_len
    return counts, records
