"""/livegan/query: one datagram per answer, a few answers per sender, never on the main thread."""

from __future__ import annotations

import select
import socket

import pytest
from oscwait import wait_handled

from livegan.control.controls import Controls
from livegan.control.inputs import ShowInputs, namespace_entries
from livegan.control.osc import query
from livegan.control.osc.namespace import NAMESPACE, OscNamespace
from livegan.control.osc.server import OscServer
from livegan.control.osc.wire import encode_message, parse_datagram
from livegan.patchfile.load import PatchConfig

WAIT = 10.0


@pytest.fixture
def show_inputs():
    controls = Controls(16, 4)
    inputs = ShowInputs(controls, OscNamespace(controls), PatchConfig())
    now = [100.0]  # seconds on the responder's clock; tests move it on by hand
    inputs.query.clock = lambda: now[0]
    server = OscServer(inputs.dispatcher, port=0).start()
    yield controls, inputs, server, now
    server.stop()
    inputs.stop()


def _listeners(count: int, host: str = "127.0.0.1") -> list[socket.socket]:
    socks = []
    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((host, 0))
        sock.setblocking(False)
        socks.append(sock)
    return socks


def _collect(socks: list[socket.socket], settle: float = 0.5) -> list[bytes]:
    """Every datagram that reaches `socks` until none has come for `settle` seconds."""
    got: list[bytes] = []
    while True:
        ready, _, _ = select.select(socks, [], [], settle)
        if not ready:
            return got
        for sock in ready:
            got.append(sock.recv(65535))


def test_a_burst_of_queries_draws_a_bounded_number_of_replies(show_inputs) -> None:
    """400 queries from one sender naming 100 reply ports: BURST answers, one datagram each
    holding the whole namespace, and nothing queued for the main thread."""
    controls, inputs, server, _now = show_inputs
    listeners = _listeners(100)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            for n in range(400):
                port = listeners[n % 100].getsockname()[1]
                client.sendto(encode_message("/livegan/query", port), ("127.0.0.1", server.port))
        wait_handled(server, 400, WAIT)
        assert controls.app_events() == []  # nothing for the main or render thread to do
        replies = _collect(listeners)
    finally:
        for sock in listeners:
            sock.close()
    assert len(replies) == query.BURST
    messages, drops = parse_datagram(replies[0])
    assert drops == [] and messages[-1] == ("/livegan/namespace/end", ())
    assert set(NAMESPACE) <= {args[0] for address, args in messages[:-1]}
    assert len(messages) == len(namespace_entries(PatchConfig())) + 1
    assert inputs.query.counts == {"answered": query.BURST, "limited": 400 - query.BURST,
                                   "failed": 0}
    assert inputs.dispatcher.counts == {"unknown": 0, "bad_args": 0}


def test_each_sender_has_its_own_allowance_which_refills(show_inputs) -> None:
    _controls, _inputs, server, now = show_inputs
    mine, other = _listeners(1)[0], _listeners(1, "127.0.0.2")[0]
    try:
        for _ in range(5):
            server.feed(encode_message("/livegan/query", mine.getsockname()[1]),
                        ("127.0.0.1", 9))
            server.feed(encode_message("/livegan/query", other.getsockname()[1]),
                        ("127.0.0.2", 9))
        assert len(_collect([mine])) == query.BURST and len(_collect([other])) == query.BURST
        now[0] += query.EVERY  # one more answer a second
        for _ in range(3):
            server.feed(encode_message("/livegan/query", mine.getsockname()[1]),
                        ("127.0.0.1", 9))
        assert len(_collect([mine])) == 1
    finally:
        mine.close()
        other.close()


def test_a_bad_reply_port_is_a_wrong_argument(show_inputs) -> None:
    _controls, inputs, server, _now = show_inputs
    for bad in (0, 70000, "x", float("inf")):
        server.feed(encode_message("/livegan/query", bad), ("127.0.0.1", 9))
    assert inputs.dispatcher.counts["bad_args"] == 3  # inf never reaches a route
    assert inputs.query.counts["answered"] == 0
