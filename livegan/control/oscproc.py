"""The OSC receiver process: takes datagrams off the show's socket so floods stay cheap.

Receiving a UDP datagram in Python costs a few microseconds, and on the show's own
interpreter that time is taken from the render thread, which needs the interpreter
between frames. The receiver process does it instead: it waits on the show's socket
(inherited, so the port is bound and checked by the show), takes what is there in one
batch, refuses senders outside the allowlist, keeps only the newest value per address
that the show's `Coalescing` names, and sends the rest to the show over a local socket
in one packet. After each packet it rests a little (REST_PER_DATAGRAM for each datagram
sent), so under a flood batches grow and the show wakes a few hundred times a second
at most, each time for a few dozen messages.

The show writes the current Coalescing to the process's stdin as one JSON line when it
changes; when the show ends, stdin closes and the process exits. If the process dies,
the show receives on its own thread from then on (OscServer).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import selectors
import signal
import socket
import subprocess
import sys
import time

from livegan.control.oscbatch import (
    DELIVER,
    MAX_DATAGRAM,
    MAX_PACKET,
    NOT_ALLOWED,
    Coalescer,
    Coalescing,
    encode_packets,
    take,
)

log = logging.getLogger(__name__)

REST_PER_DATAGRAM = 0.0005  # seconds of rest after a packet, per datagram in it
MAX_REST_SECONDS = 0.01  # the most a datagram waits behind the packet before it
PAIR_BUFFER = 4 * 1024 * 1024  # packets waiting for the show (then the process waits too)


class ReceiverProcess:
    """The show's side of a receiver process: spawn, feed it rules, read its packets."""

    def __init__(self, process: subprocess.Popen, pair: socket.socket) -> None:
        self.process = process
        self.pair = pair
        self._rule: Coalescing | None = None

    @classmethod
    def spawn(cls, sock: socket.socket, allow: list[str] | None) -> ReceiverProcess | None:
        """Start a process receiving on `sock`; None (and one log line) if it cannot run.

        Where it cannot (no AF_UNIX sequenced packets, no fd passing, a frozen app),
        OscServer receives on its own thread instead.
        """
        if not hasattr(socket, "AF_UNIX") or os.name != "posix" or getattr(sys, "frozen", False):
            return None
        try:
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        except OSError as exc:
            log.info("OSC receives on the show's thread (no local socket pair: %s)", exc)
            return None
        try:
            for end, option in ((ours, socket.SO_RCVBUF), (theirs, socket.SO_SNDBUF)):
                try:
                    end.setsockopt(socket.SOL_SOCKET, option, PAIR_BUFFER)
                except OSError:
                    pass  # the OS keeps its default size
            command = [sys.executable, "-m", "livegan.control.oscproc",
                       "--osc-fd", str(sock.fileno()), "--out-fd", str(theirs.fileno())]
            if allow is not None:
                command += ["--allow", json.dumps(allow)]
            process = subprocess.Popen(command, stdin=subprocess.PIPE,
                                       stdout=subprocess.DEVNULL,
                                       pass_fds=(sock.fileno(), theirs.fileno()))
        except OSError as exc:
            ours.close()
            log.info("OSC receives on the show's thread (cannot start a receiver: %s)", exc)
            return None
        finally:
            theirs.close()
        return cls(process, ours)  # if it fails to start, the server sees it end

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def set_rule(self, rule: Coalescing) -> None:
        """Tell the process which addresses to coalesce (only when it changed)."""
        if rule is self._rule or rule == self._rule:
            self._rule = rule
            return
        self._rule = rule
        try:
            assert self.process.stdin is not None
            self.process.stdin.write(json.dumps(rule.to_json()).encode() + b"\n")
            self.process.stdin.flush()
        except (OSError, ValueError):
            pass  # the process ended: receive() tells the server

    def receive(self, timeout: float) -> bytes | None:
        """The next packet; b"" once the process has ended; None after `timeout`."""
        self.pair.settimeout(timeout)
        try:
            return self.pair.recv(MAX_PACKET + MAX_DATAGRAM + 1024)
        except TimeoutError:
            return None
        except OSError:
            return b""

    def describe_exit(self) -> str:
        code = self.process.poll()
        return "still running" if code is None else f"exit status {code}"

    def stop(self, timeout: float) -> None:
        """Close its stdin (it exits), and kill it if it has not within `timeout`."""
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def close(self) -> None:
        self.pair.close()


def serve(sock: socket.socket, out: socket.socket, control: int,
          allow: object | None) -> int:
    """The process's loop; returns its exit status (0 when the show closed stdin)."""
    coalescer = Coalescer()
    errors = {"socket_errors": 0}

    def on_error(exc: OSError) -> None:
        errors["socket_errors"] += 1
        time.sleep(0.1)  # don't spin on a persistent error

    pending = b""
    with selectors.DefaultSelector() as selector:
        selector.register(sock, selectors.EVENT_READ, "osc")
        selector.register(control, selectors.EVENT_READ, "control")
        while True:
            for key, _ in selector.select(1.0):
                if key.data != "control":
                    continue
                chunk = os.read(control, 65536)
                if not chunk:
                    return 0  # the show is gone or done
                *lines, pending = (pending + chunk).split(b"\n")
                for line in lines:
                    coalescer.set_rule(Coalescing.from_json(json.loads(line)))
            batch = take(sock, on_error)
            if not batch and not errors["socket_errors"]:
                continue
            counts = {"datagrams": len(batch), **errors}
            errors["socket_errors"] = 0
            records: list = []
            if allow is not None:
                refused = [sender for _, sender in batch if not allow(sender[0])]  # type: ignore[operator]
                if refused:
                    batch = [item for item in batch if allow(item[1][0])]  # type: ignore[operator]
                    counts["not_allowed"] = len(refused)
                    records.append((NOT_ALLOWED, b"", refused[-1]))
            batch, counts["coalesced"] = coalescer.reduce(batch)
            records.extend((DELIVER, data, sender) for data, sender in batch)
            try:
                for packet in encode_packets(counts, records):
                    out.sendall(packet)
            except OSError:
                return 0  # the show closed its end
            time.sleep(min(MAX_REST_SECONDS, len(batch) * REST_PER_DATAGRAM))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m livegan.control.oscproc",
                                     description="livegan's OSC receiver process (started "
                                     "by the show; not meant to be run by hand)")
    parser.add_argument("--osc-fd", type=int, required=True, help="the show's UDP socket")
    parser.add_argument("--out-fd", type=int, required=True, help="the socket to the show")
    parser.add_argument("--allow", help="allowlist entries as a JSON list")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is for the show; it stops us
    sock = socket.socket(fileno=args.osc_fd)
    sock.setblocking(False)
    out = socket.socket(fileno=args.out_fd)
    allow = None
    if args.allow is not None:
        from livegan.control.osc import Allowlist

        allow = Allowlist(json.loads(args.allow))
    return serve(sock, out, sys.stdin.fileno(), allow)


if __name__ == "__main__":
    sys.exit(main())
