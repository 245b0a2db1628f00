"""Hostile OSC traffic (random, malformed, out of range) for tests and soak runs; the
well-formed flood is livegan.bench.traffic.

    python tests/hostile.py --kind hostile --port P [--rate R] [--seconds S] [--switched]
"""

from __future__ import annotations

import logging
import random
import struct
import sys
from collections import Counter
from collections.abc import Callable, Iterator

from livegan.bench.traffic import (  # noqa: F401 - the tests take them from here too
    FLOOD_ADDRESSES,
    POOL,
    Flood,
    _osc_string,
    float_list,
    main,
    send,
)
from livegan.control.osc.wire import encode_message

log = logging.getLogger(__name__)

#: The kinds of packet `HostileTraffic` makes, with their relative weights.
KINDS: dict[str, int] = {
    "random_bytes": 8,  # noise, sometimes starting with "/" or "#bundle"
    "truncated": 10,  # a valid message or bundle cut short
    "bad_tags": 10,  # a known address with a type-tag string that lies about the payload
    "huge_blob": 3,  # blobs claiming 2 GB, or really 60 kB
    "nonfinite": 8,  # NaN and infinities, as f and d
    "wrong_count": 8,  # no arguments, or far too many
    "nested_bundle": 6,  # bundles in bundles, 1 to 12 deep, some with broken sizes
    "unknown_address": 8,  # random, very long, non-ASCII, "/_" and pattern addresses
    "hostile_args": 16,  # known addresses with huge or negative indices, strings, 10k lists
    "valid": 23,  # well-formed messages with sane values
}

_NUMERIC = ("/livegan/speed", "/livegan/truncation", "/livegan/smooth", "/livegan/morph")
_KNOWN = ("/livegan/z", "/livegan/dirs", "/wek/outputs", "/livegan/seed", "/livegan/key",
          "/livegan/key/store", "/livegan/mode", "/livegan/scene", "/livegan/label",
          "/livegan/model", "/livegan/hud", "/livegan/snapshot", "/livegan/query",
          "/livegan/z/0", "/livegan/dir/0", *_NUMERIC)
_HOSTILE_NAMES = ("../x", "/etc/passwd", "models/../../x", "..", ".", "", "a\\b", "~root",
                  "x" * 5000, "nothing\0/../../x", "CON", "%s%s%n", "${HOME}",
                  "__import__('os').system('x')")
_TAG_CHARS = "ifsbhdtcrmTFNI[]SxyzQ?,"


def _message(address: str, *args: object) -> bytes:
    """encode_message, with floats beyond float32's range sent as doubles (d)."""
    if not any(isinstance(a, float) and abs(a) > 3.4e38 for a in args):
        return encode_message(address, *args)
    tags, data = ",", b""
    for a in args:
        if isinstance(a, float):
            tags, data = tags + "d", data + struct.pack(">d", a)
        else:  # ints, strings: take their bytes from the builder
            one = encode_message("/", a)
            tags += one[4:].split(b"\0", 1)[0][1:].decode()
            data += one[4 + len(_osc_string(one[4:].split(b"\0", 1)[0])):]
    return _osc_string(address.encode()) + _osc_string(tags.encode()) + data


def bundle(*elements: bytes, timetag: int = 1) -> bytes:
    """An OSC bundle of already encoded elements (timetag 1 = "now")."""
    body = b"".join(struct.pack(">i", len(e)) + e for e in elements)
    return b"#bundle\0" + struct.pack(">Q", timetag) + body


class HostileTraffic:
    """A reproducible stream of random and malformed OSC datagrams.

    Every packet is one of `KINDS`; `counts` says how many of each were made. Packets aim
    at the real namespace (``/livegan/...``, ``/wek/outputs``) so that the parser, the
    namespace, a patch's router and the controls all see hostile input, not only the
    parser.

    Args:
        seed: seeds the stream (the same seed makes the same packets).
        z_dim: latent size of the model under test (indices just past it are tried).
        n_dirs: direction count of the model under test.
        kinds: weights per kind (default `KINDS`); leave one out to never make it.
    """

    def __init__(self, seed: int = 0, z_dim: int = 128, n_dirs: int = 16,
                 kinds: dict[str, int] | None = None) -> None:
        self.rng = random.Random(seed)
        self.z_dim, self.n_dirs = z_dim, n_dirs
        weights = kinds or KINDS
        self._kinds = list(weights)
        self._weights = [weights[k] for k in self._kinds]
        self.counts: Counter[str] = Counter()
        self._makers: dict[str, Callable[[], bytes]] = {
            name: getattr(self, f"_{name}") for name in KINDS}
        self._big: dict[str, bytes] = {}  # 10k-element messages, built once

    def packet(self) -> bytes:
        """One datagram of a randomly chosen kind."""
        kind = self.rng.choices(self._kinds, self._weights)[0]
        self.counts[kind] += 1
        return self._makers[kind]()

    def packets(self, count: int) -> Iterator[bytes]:
        """`count` datagrams."""
        for _ in range(count):
            yield self.packet()

    # -- the kinds ------------------------------------------------------------------------

    def _random_bytes(self) -> bytes:
        rng = self.rng
        head = rng.choice([b"", b"/", b"#bundle\0", b"/livegan/z\0\0", b",f\0\0"])
        return head + rng.randbytes(rng.randrange(0, 120))

    def _truncated(self) -> bytes:
        whole = self._valid() if self.rng.random() < 0.7 else bundle(self._valid(),
                                                                     self._valid())
        return whole[: self.rng.randrange(0, max(1, len(whole)))]

    def _bad_tags(self) -> bytes:
        rng = self.rng
        tags = "," + "".join(rng.choice(_TAG_CHARS) for _ in range(rng.randrange(0, 12)))
        if rng.random() < 0.2:
            tags = tags.lstrip(",")  # no leading comma at all
        payload = rng.randbytes(rng.randrange(0, 40))
        return _osc_string(rng.choice(_KNOWN).encode()) + _osc_string(tags.encode()) + payload

    def _huge_blob(self) -> bytes:
        rng = self.rng
        address = _osc_string(rng.choice(_KNOWN).encode())
        if rng.random() < 0.5:
            size = rng.choice([2**31 - 1, 2**30, 65536, -1, -(2**31)])
            return address + _osc_string(b",b") + struct.pack(">i", size) + rng.randbytes(16)
        return encode_message(rng.choice(_KNOWN), rng.randbytes(60_000))

    def _nonfinite(self) -> bytes:
        rng = self.rng
        bad = rng.choice([float("nan"), float("inf"), float("-inf")])
        tag = rng.choice("fd")
        address = rng.choice(_NUMERIC + ("/livegan/z", "/livegan/dirs", "/wek/outputs",
                                         "/livegan/z/3", "/livegan/dir/1", "/livegan/seed"))
        values = [rng.gauss(0, 1) for _ in range(rng.randrange(0, 5))]
        values.insert(rng.randrange(0, len(values) + 1), bad)
        return float_list(address, values, tag)

    def _wrong_count(self) -> bytes:
        rng = self.rng
        address = rng.choice(_KNOWN)
        if rng.random() < 0.5:
            return encode_message(address)
        return float_list(address, [rng.uniform(-2, 2) for _ in range(rng.randrange(2, 300))])

    def _nested_bundle(self) -> bytes:
        rng = self.rng
        inner = bundle(*[self._valid() for _ in range(rng.randrange(1, 3))])
        for _ in range(rng.randrange(0, 12)):
            extra = [self._valid()] if rng.random() < 0.5 else []
            inner = bundle(inner, *extra, timetag=rng.getrandbits(64))
        if rng.random() < 0.25:  # an element size that lies
            cut = rng.randrange(16, len(inner))
            inner = inner[:cut] + struct.pack(">i", rng.randrange(-5, 2**20)) + inner[cut + 4:]
        return inner

    def _unknown_address(self) -> bytes:
        rng = self.rng
        address = rng.choice([
            "/" + "".join(rng.choice("abcxyz/_*?[]{}") for _ in range(rng.randrange(1, 30))),
            "/livegan/" + "x" * rng.randrange(1, 2000),
            "/livegan/zz", "/_samplerate", "/LIVEGAN/Z", "/livegan/z/", "/livegan/dir/",
            "/livegan/z/١٢", "/livegan/z/0x10", "/livegan/z/1e3", "/ünïcode/ädresse",
            "/livegan/*", "/wek/outputs/extra", "//", "/",
        ])
        return encode_message(address, rng.random())

    def _hostile_args(self) -> bytes:
        rng = self.rng
        choice = rng.randrange(12)
        if choice == 0:
            index = rng.choice([99_999_999, 2**31 - 1, self.z_dim, self.z_dim + 1, 10**30])
            return encode_message(f"/livegan/z/{index}", rng.random())
        if choice == 1:
            return encode_message(f"/livegan/{rng.choice(['z', 'dir'])}/-{rng.randrange(1, 9)}",
                                  1.0)
        if choice == 2:
            return encode_message(rng.choice(_NUMERIC + ("/livegan/z/0", "/livegan/dirs")),
                                  rng.choice(["fast", "", "1.0", "nan", "x" * 3000]))
        if choice == 3:
            return self._big_list()
        if choice == 4:
            return _message(rng.choice(["/livegan/seed", "/livegan/key",
                                               "/livegan/key/store", "/livegan/query"]),
                                  rng.choice([2**63 - 1, -(2**63), 2**40, -1, 10**6]),
                                  rng.choice([1e30, -5.0, 0.0, 1e-300]))
        if choice == 5:
            return encode_message(rng.choice(["/livegan/model", "/livegan/scene",
                                              "/livegan/label", "/livegan/mode"]),
                                  rng.choice(_HOSTILE_NAMES))
        if choice == 6:
            return _message(rng.choice(_NUMERIC + ("/livegan/z/1", "/livegan/dir/2")),
                                  rng.choice([3.0e38, -3.0e38, 1e300, -1e300, 1e-45, 2**62]))
        if choice == 7:
            return float_list(rng.choice(["/livegan/z", "/livegan/dirs", "/wek/outputs"]),
                              [rng.choice([3.0e38, -3.0e38, 1e30]) for _ in range(8)])
        if choice == 8:
            return encode_message(rng.choice(_KNOWN), None, True, False, b"\x00\xff")
        if choice == 9:
            return _message("/livegan/dir/" + rng.choice(["warm", "nope", "pc0",
                                                               "x" * 500, "..", "0"]),
                                  rng.choice([1.0, "1", 1e300]))
        if choice == 10:
            return _message(rng.choice(["/livegan/hud", "/livegan/label"]),
                                  rng.choice([2**40, -1, 0.5, "on", 1e300]))
        return float_list("/livegan/z", [1e300] * 4, "d")

    def _big_list(self) -> bytes:
        address = self.rng.choice(["/livegan/z", "/livegan/dirs", "/wek/outputs"])
        if address not in self._big:
            values = [((i * 7919) % 200 - 100) / 10.0 for i in range(10_000)]
            self._big[address] = float_list(address, values)
        return self._big[address]

    def _valid(self) -> bytes:
        rng = self.rng
        choice = rng.randrange(9)
        if choice == 0:
            return encode_message(f"/livegan/z/{rng.randrange(self.z_dim)}", rng.gauss(0, 1))
        if choice == 1:
            return encode_message(f"/livegan/dir/{rng.randrange(self.n_dirs)}",
                                  rng.uniform(-3, 3))
        if choice == 2:
            return float_list(rng.choice(["/wek/outputs", "/livegan/dirs"]),
                              [rng.uniform(-1, 1) for _ in range(rng.randrange(1, 8))])
        if choice == 3:
            return encode_message(rng.choice(_NUMERIC), rng.uniform(0, 1))
        if choice == 4:
            return encode_message("/livegan/seed", rng.randrange(1000), rng.uniform(0, 2))
        if choice == 5:
            return encode_message("/livegan/mode", rng.choice(["walk", "keys", "hold"]))
        if choice == 6:
            return encode_message(rng.choice(["/livegan/key", "/livegan/key/store"]),
                                  rng.randrange(8))
        if choice == 7:
            return float_list("/livegan/z", [rng.gauss(0, 1) for _ in range(self.z_dim)])
        return encode_message("/livegan/hud", rng.randrange(2))


if __name__ == "__main__":  # python tests/hostile.py --kind hostile --port P ...
    sys.exit(main(makers={"flood": Flood, "hostile": HostileTraffic}))
