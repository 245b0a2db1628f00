"""Well-formed OSC floods from a process of their own: what `livegan bench --flood` sends
at a show (tests/hostile.py adds hostile traffic for tests and soak runs).

    python -m livegan.bench.traffic --port P [--rate R] [--seconds S] [--switched]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable

from livegan.control.osc.wire import encode_message

#: Addresses whose well-formed messages change what is on screen (the flood's mix).
FLOOD_ADDRESSES = ("/livegan/z/{i}", "/livegan/dir/{i}", "/wek/outputs", "/livegan/z",
                   "/livegan/speed", "/livegan/truncation", "/livegan/dirs")

POOL = 4096  # distinct datagrams a sender process cycles through

def float_list(address: str, values: list[float], tag: str = "f") -> bytes:
    """A message of many floats, packed in one go (the builder is slow for 10k args)."""
    head = _osc_string(address.encode()) + _osc_string(("," + tag * len(values)).encode())
    code = ">%d%s" % (len(values), tag)  # noqa: UP031 - a struct format, not a message
    return head + struct.pack(code, *values)


def _osc_string(raw: bytes) -> bytes:
    return raw + b"\0" * (4 - len(raw) % 4)



class Flood:
    """Well-formed messages that change the picture, as fast as asked (newest wins).

    Args:
        seed: seeds the values.
        z_dim: latent size of the model under test.
        n_dirs: direction count of the model under test.
    """

    def __init__(self, seed: int = 0, z_dim: int = 128, n_dirs: int = 16) -> None:
        self.rng = random.Random(seed)
        self.z_dim, self.n_dirs = z_dim, n_dirs

    def packet(self) -> bytes:
        rng = self.rng
        address = rng.choice(FLOOD_ADDRESSES)
        if address == "/livegan/z/{i}":
            return encode_message(f"/livegan/z/{rng.randrange(self.z_dim)}", rng.gauss(0, 1))
        if address == "/livegan/dir/{i}":
            return encode_message(f"/livegan/dir/{rng.randrange(self.n_dirs)}",
                                  rng.uniform(-2, 2))
        if address == "/livegan/z":
            return float_list(address, [rng.gauss(0, 1) for _ in range(self.z_dim)])
        if address in ("/wek/outputs", "/livegan/dirs"):
            return float_list(address, [rng.uniform(-1, 1) for _ in range(self.n_dirs)])
        if address == "/livegan/speed":
            return encode_message(address, rng.uniform(0.05, 0.5))
        return encode_message(address, rng.uniform(0.6, 1.2))


def send(port: int, rate: float, seconds: float, traffic: Callable[[], bytes],
         host: str = "127.0.0.1", active: Callable[[], bool | None] = lambda: True) -> int:
    """Send `traffic()` datagrams to host:port at `rate` per second for `seconds`.

    Paced in 1 ms slices against the clock, so a slow moment is caught up on (never
    ahead of the rate). A full socket buffer drops a datagram (not counted as sent).

    Args:
        active: polled each slice: True sends, False pauses (paused time does not count
            towards `seconds`), None stops.

    Returns:
        The datagrams handed to the OS.
    """
    sent = tried = 0
    spent = 0.0  # seconds spent sending (paused time does not count)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        last = time.perf_counter()
        total = int(seconds * rate)
        while tried < total:
            state, now = active(), time.perf_counter()
            if state is None:
                break
            if state:
                spent += now - last
            last = now
            due = total if spent >= seconds else min(int(spent * rate) + bool(state), total)
            while tried < due:
                tried += 1
                try:
                    sock.sendto(traffic(), (host, port))
                except OSError:
                    continue  # the send buffer is full: this one is lost, as on a network
                sent += 1
            time.sleep(0.001)
    return sent


def _switch_from_stdin() -> Callable[[], bool | None]:
    """on/off lines on stdin switch sending; end of input stops it."""
    state: list[bool | None] = [False]

    def read() -> None:
        for line in sys.stdin:
            state[0] = line.strip() == "on"
        state[0] = None

    threading.Thread(target=read, daemon=True).start()
    return lambda: state[0]


def main(argv: list[str] | None = None, makers: dict[str, Callable] | None = None) -> int:
    """Send a flood (or, with `makers`, another kind of traffic: tests/hostile.py) from its
    own process; prints {"sent": N} at the end. With --switched it waits for "on" / "off"
    lines on stdin.

    Args:
        makers: kind name -> class(seed, z_dim, n_dirs) with a packet() method.
    """
    makers = makers or {"flood": Flood}
    p = argparse.ArgumentParser(prog="python -m livegan.bench.traffic")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--rate", type=float, default=10_000.0, help="datagrams per second")
    p.add_argument("--seconds", type=float, default=10.0, help="seconds of sending")
    p.add_argument("--kind", choices=sorted(makers), default="flood")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--z-dim", type=int, default=128)
    p.add_argument("--dirs", type=int, default=16)
    p.add_argument("--switched", action="store_true", help="send only while stdin says on")
    args = p.parse_args(argv)
    traffic = makers[args.kind](args.seed, args.z_dim, args.dirs)
    # made up front and cycled: the sender's own Python work stays off the machine's back
    pool = itertools.cycle([traffic.packet() for _ in range(POOL)])
    active = _switch_from_stdin() if args.switched else (lambda: True)
    try:
        sent = send(args.port, args.rate, args.seconds, pool.__next__, args.host, active)
    except KeyboardInterrupt:
        return 130
    print(json.dumps({"sent": sent}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
