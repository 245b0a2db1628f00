"""OSC transport: parsing by raw datagrams, and the server and sender over loopback UDP."""

from __future__ import annotations

import logging
import random
import socket
import struct
import subprocess
import sys
import threading
import time

import pytest
from oscwait import balanced, wait_handled
from pythonosc.osc_bundle_builder import OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.udp_client import SimpleUDPClient

from livegan.control.osc import server as osc
from livegan.control.osc import wire as oscwire
from livegan.control.osc.sender import OscSender, parse_hostport
from livegan.control.osc.server import OscServer
from livegan.control.osc.wire import MAX_BUNDLE_DEPTH, encode_message, parse_datagram
from livegan.errors import LiveganError
from livegan.ratelog import RateLimitedLog

WAIT = 5.0  # generous upper bound for loopback delivery; tests return as soon as it arrives


class Collector:
    """A handler that stores what arrives and lets the test wait for it."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, tuple, tuple[str, int]]] = []
        self._arrived = threading.Condition()

    def __call__(self, address: str, args: tuple, sender: tuple[str, int]) -> None:
        with self._arrived:
            self.messages.append((address, args, sender))
            self._arrived.notify_all()

    def wait_for(self, count: int, timeout: float = WAIT) -> list[tuple[str, tuple]]:
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.messages) >= count, timeout)
            assert len(self.messages) >= count, f"got {self.messages}"
            return [(address, args) for address, args, _ in self.messages]


@pytest.fixture
def collector() -> Collector:
    return Collector()


@pytest.fixture
def server(collector: Collector):
    with OscServer(collector, port=0) as running:
        yield running


def message(address: str, *args) -> bytes:
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg)
    return builder.build().dgram


def bundle(*elements: bytes, timetag: int = 1) -> bytes:
    body = b"".join(struct.pack(">i", len(e)) + e for e in elements)
    return b"#bundle\0" + struct.pack(">Q", timetag) + body


def nested(depth: int, inner: bytes) -> bytes:
    for _ in range(depth):
        inner = bundle(inner)
    return inner


# --- over UDP -------------------------------------------------------------------------


def test_int_and_float_args_arrive(server: OscServer, collector: Collector) -> None:
    client = SimpleUDPClient("127.0.0.1", server.port)
    client.send_message("/livegan/seed", [7, 2.5])
    client.send_message("/wek/outputs", [0.25, 0.5, 1.0])
    got = collector.wait_for(2)
    assert got[0] == ("/livegan/seed", (7, 2.5))
    assert isinstance(got[0][1][0], int) and isinstance(got[0][1][1], float)
    assert got[1] == ("/wek/outputs", (0.25, 0.5, 1.0))
    assert collector.messages[0][2][0] == "127.0.0.1"
    assert server.last_message == ("/wek/outputs", (0.25, 0.5, 1.0))


def test_future_nested_bundle_is_delivered_at_once(server: OscServer, collector: Collector):
    inner = OscBundleBuilder(time.time() + 3600)
    inner.add_content(OscMessageBuilder("/livegan/z/1").build())
    outer = OscBundleBuilder(time.time() + 3600)
    outer.add_content(OscMessageBuilder("/livegan/z/0").build())
    outer.add_content(inner.build())
    SimpleUDPClient("127.0.0.1", server.port).send(outer.build())
    assert collector.wait_for(2, timeout=1.0) == [("/livegan/z/0", ()), ("/livegan/z/1", ())]


def test_datagram_larger_than_8192_bytes_arrives_whole(server: OscServer, collector):
    values = [float(i) for i in range(3000)]  # 12 kB of floats
    SimpleUDPClient("127.0.0.1", server.port).send_message("/livegan/z", values)
    assert collector.wait_for(1)[0][1] == tuple(values)


def test_garbage_is_counted_and_the_server_keeps_working(server: OscServer, collector):
    good = message("/livegan/speed", 0.5)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
        for junk in (b"\xff\x00garbage", good[:-2], b"/x\0\0,i\0\0\0", b"#bundle\0\0", good):
            raw.sendto(junk, ("127.0.0.1", server.port))
    stats = wait_handled(server, 5)  # delivered is counted once the handler has returned
    assert collector.wait_for(1) == [("/livegan/speed", (0.5,))]
    assert stats["malformed"] == 4 and stats["delivered"] == 1 and balanced(stats)


def test_nan_is_dropped_and_counted(server: OscServer, collector: Collector) -> None:
    client = SimpleUDPClient("127.0.0.1", server.port)
    client.send_message("/livegan/z/0", float("nan"))
    client.send_message("/livegan/z/0", 0.5)
    assert collector.wait_for(1) == [("/livegan/z/0", (0.5,))]
    assert server.stats()["nonfinite"] == 1


def test_handler_exception_is_counted_and_thread_survives(caplog) -> None:
    collector = Collector()

    def handler(address: str, args: tuple, sender: tuple[str, int]) -> None:
        if address == "/boom":
            raise RuntimeError("bad handler")
        collector(address, args, sender)

    with OscServer(handler, port=0) as server:
        client = SimpleUDPClient("127.0.0.1", server.port)
        for _ in range(3):
            client.send_message("/boom", 1)
        client.send_message("/fine", 2)
        assert collector.wait_for(1) == [("/fine", (2,))]
        assert server.running
        assert server.stats()["handler_error"] == 3
    assert sum("bad handler" in r.getMessage() for r in caplog.records) == 1  # rate-limited


def test_message_from_another_process(server: OscServer, collector: Collector) -> None:
    code = (
        "import sys; from pythonosc.udp_client import SimpleUDPClient; "
        "SimpleUDPClient('127.0.0.1', int(sys.argv[1])).send_message('/wek/outputs', [1, 0.75])"
    )
    subprocess.run([sys.executable, "-c", code, str(server.port)], check=True, timeout=30)
    assert collector.wait_for(1) == [("/wek/outputs", (1, 0.75))]


def test_port_in_use_is_a_clear_error(server: OscServer) -> None:
    with pytest.raises(LiveganError) as caught:
        OscServer(lambda *a: None, port=server.port).start()
    assert str(caught.value) == (
        f"OSC port {server.port} is already in use (another livegan or Wekinator "
        "receiver?): pick another with --osc-port"
    )


def test_stop_ends_the_thread_and_a_restart_binds_the_same_port(collector: Collector,
                                                                 caplog) -> None:
    server = OscServer(collector, port=0).start()
    port, thread = server.port, server._thread
    server.stop()  # the thread notices within one receive poll; stop() waits for it
    assert thread is not None and not thread.is_alive() and not server.running
    assert "did not stop" not in caplog.text
    with OscServer(collector, port=port) as again:
        SimpleUDPClient("127.0.0.1", port).send_message("/again", 1)
        assert collector.wait_for(1) == [("/again", (1,))]
        assert again.port == port


def test_sender_round_trip(server: OscServer, collector: Collector) -> None:
    with OscSender("127.0.0.1", server.port) as sender:
        assert sender.send("/livegan/fps", 59.5)
        assert sender.send("/livegan/frame", 12, 2**40)
        assert sender.send("/livegan/model", "default", True, None)
        assert sender.stats() == {"sent": 3, "failed": 0}
    got = collector.wait_for(3)
    assert got == [
        ("/livegan/fps", (59.5,)),
        ("/livegan/frame", (12, 2**40)),
        ("/livegan/model", ("default", True, None)),
    ]
    assert type(got[1][1][0]) is int


def test_sender_never_raises_on_network_errors() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    sender = OscSender("127.0.0.1", closed_port)
    for _ in range(3):
        sender.send("/livegan/heartbeat", 1)  # nobody listens: no exception
    sender.close()
    assert sender.send("/livegan/heartbeat", 2) is False
    assert sender.stats()["failed"] == 1
    with pytest.raises(TypeError):
        encode_message("/x", object())


def test_sender_rejects_bad_targets() -> None:
    with pytest.raises(LiveganError, match="1..65535"):
        OscSender("127.0.0.1", 0)


# --- by raw datagrams -----------------------------------------------------------------


def test_message_without_type_tags_is_accepted(collector: Collector) -> None:
    server = OscServer(collector)
    server.feed(b"/livegan/snapshot\0\0\0")
    server.feed(b"/livegan/snapshot")  # not even NUL-terminated: dropped, not crashed
    assert collector.wait_for(1) == [("/livegan/snapshot", ())]
    assert server.stats()["malformed"] == 1


def test_every_argument_type_is_read(collector: Collector) -> None:
    builder = OscMessageBuilder("/all")
    for value, tag in [(1, "i"), (0.5, "f"), (0.25, "d"), (True, "T"), (False, "F")]:
        builder.add_arg(value, tag)
    for value, tag in [("text", "s"), (b"\x01\x02\x03", "b"), (None, "N"), (2**40, "h")]:
        builder.add_arg(value, tag)
    server = OscServer(collector)
    server.feed(builder.build().dgram)
    expected = (1, 0.5, 0.25, True, False, "text", b"\x01\x02\x03", None, 2**40)
    assert collector.wait_for(1) == [("/all", expected)]


def test_infinite_double_in_a_bundle_drops_only_that_message(collector: Collector) -> None:
    server = OscServer(collector)
    bad = OscMessageBuilder("/livegan/z/0")
    bad.add_arg(float("inf"), "d")
    server.feed(bundle(bad.build().dgram, message("/livegan/z/1", 0.5)))
    assert collector.wait_for(1) == [("/livegan/z/1", (0.5,))]
    assert server.stats()["nonfinite"] == 1


def test_samplerate_metadata_is_ignored(collector: Collector, caplog) -> None:
    server = OscServer(collector)
    server.feed(bundle(message("/_samplerate", 60.0), message("/tx", 0.5)))
    assert collector.wait_for(1) == [("/tx", (0.5,))]
    stats = server.stats()
    assert stats["ignored"] == 1 and balanced(stats)
    assert not caplog.records


def test_bundle_nesting_limit(collector: Collector) -> None:
    server = OscServer(collector)
    server.feed(nested(MAX_BUNDLE_DEPTH, message("/deep", 1)))
    server.feed(nested(MAX_BUNDLE_DEPTH + 1, message("/too/deep", 1)))
    server.feed(nested(1000, b""))  # a 20 kB tower of bundles: still one drop
    assert collector.wait_for(1) == [("/deep", (1,))]
    assert server.stats()["too_deep"] == 2


def test_allowlist_drops_other_senders(collector: Collector) -> None:
    server = OscServer(collector, allow=["127.0.0.1", "192.168.1.0/24"])
    datagram = message("/livegan/mode", "walk")
    server.feed(datagram, ("10.0.0.7", 5000))
    server.feed(datagram, ("192.168.1.20", 5000))
    server.feed(datagram, ("::ffff:127.0.0.1", 5000))
    server.feed(datagram, ("not an ip", 5000))
    assert [s for _, _, s in collector.messages] == [
        ("192.168.1.20", 5000),
        ("::ffff:127.0.0.1", 5000),
    ]
    stats = server.stats()
    assert stats["not_allowed"] == 2 and balanced(stats)
    with pytest.raises(LiveganError, match="not an IP address"):
        OscServer(collector, allow=["studio-mac"])


def test_listening_beyond_loopback_warns(collector: Collector, monkeypatch, caplog) -> None:
    def refuse(host: str, port: int) -> socket.socket:
        raise LiveganError("not binding in tests")

    monkeypatch.setattr(osc, "_bind", refuse)
    with pytest.raises(LiveganError):
        OscServer(collector, host="0.0.0.0").start()
    assert "anyone on the network can steer the show" in caplog.text
    caplog.clear()
    with pytest.raises(LiveganError):
        OscServer(collector, host="0.0.0.0", allow=["192.168.1.5"]).start()
    assert "anyone" not in caplog.text


def test_fuzzed_datagrams_never_escape_and_counters_add_up() -> None:
    rng = random.Random(1234)
    seeds = [
        message("/livegan/z", 0.1, 0.2, 3),
        message("/livegan/scene", "intro"),
        bundle(message("/a", 1), bundle(message("/b", 2.0), message("/_samplerate", 60.0))),
        b"/untyped\0\0\0\0",
    ]
    server = OscServer(lambda address, args, sender: None)
    for _ in range(5000):
        data = bytearray(rng.choice(seeds))
        kind = rng.random()
        if kind < 0.2:
            data = bytearray(rng.randbytes(rng.randrange(0, 64)))
        elif kind < 0.5:
            del data[rng.randrange(len(data)) :]
        else:
            for _ in range(rng.randrange(1, 4)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        server.feed(bytes(data))
    stats = server.stats()
    assert stats["datagrams"] == 5000 and balanced(stats)
    assert stats["delivered"] > 0 and stats["malformed"] > 0


def test_float_and_int_messages_parse_as_the_general_path_does(monkeypatch) -> None:
    """The cached fast path for f/i messages gives the general parser's answer, drops included."""
    rng = random.Random(99)
    seeds = [message("/livegan/z", *[rng.gauss(0, 1) for _ in range(8)]),
             message("/wek/outputs", 0.5, 0.25), message("/livegan/z/3", 7),
             message("/livegan/seed", 2**31 - 1), message("/livegan/dir/1", -1.5, 3),
             message("/livegan/hud"), struct.pack(">4s4sf", b"/a\0\0", b",f\0\0", float("nan")),
             struct.pack(">4s4sf", b"/a\0\0", b",f\0\0", float("-inf")) + b"tail"]
    datagrams = []
    for _ in range(3000):
        data = bytearray(rng.choice(seeds))
        if rng.random() < 0.5:
            del data[rng.randrange(1, len(data)) :]
        for _ in range(rng.randrange(0, 3)):
            data[rng.randrange(len(data))] = rng.choice([0, 44, 102, 105, 0x7F, 0xFF])
        datagrams.append(bytes(data))
    headers: dict = {}  # a server's cache of known headers, shared by every parse
    fast = [parse_datagram(data, headers) for data in datagrams]
    monkeypatch.setattr(oscwire, "_FAST_HEADER_MAX", 0)  # every message on the general path
    general = [parse_datagram(data, {}) for data in datagrams]
    assert fast == general
    assert sum(len(m) for m, _ in fast) > 500 and sum(len(d) for _, d in fast) > 500


def test_fast_path_cache_stays_bounded() -> None:
    headers: dict = {}
    for i in range(3 * oscwire._FAST_ENTRIES):
        assert parse_datagram(message(f"/x/{i}", 1.0), headers) == ([(f"/x/{i}", (1.0,))], [])
    assert 0 < len(headers) <= oscwire._FAST_ENTRIES


def test_parse_datagram_reports_drops_in_order() -> None:
    messages, drops = parse_datagram(bundle(message("/a", 1), b"junk", message("/b", 2)))
    assert messages == [("/a", (1,)), ("/b", (2,))]
    assert drops == ["malformed"]


# --- helpers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:9000", ("127.0.0.1", 9000)),
        ("localhost:57120", ("localhost", 57120)),
        ("[::1]:9000", ("::1", 9000)),
        ("9000", ("127.0.0.1", 9000)),
    ],
)
def test_parse_hostport(text: str, expected: tuple[str, int]) -> None:
    assert parse_hostport(text) == expected


@pytest.mark.parametrize("text", ["", "127.0.0.1", "127.0.0.1:", ":9000", "host:port", "h:70000"])
def test_parse_hostport_rejects_bad_input(text: str) -> None:
    with pytest.raises(LiveganError, match="expected HOST:PORT"):
        parse_hostport(text)


def test_rate_limited_log_counts_what_it_holds_back(caplog) -> None:
    now = [100.0]
    ratelog = RateLimitedLog(logging.getLogger("test.ratelog"), interval=5.0, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="test.ratelog"):
        assert ratelog.warning("k", "bad %s", "thing")
        for _ in range(523):
            assert not ratelog.warning("k", "bad %s", "thing")
        assert ratelog.warning("other", "different")
        now[0] += 5.0
        assert ratelog.warning("k", "bad %s", "thing")
    assert [r.getMessage() for r in caplog.records] == [
        "bad thing",
        "different",
        "bad thing (and 523 more like it)",
    ]


@pytest.mark.parametrize("size", [-4, -8, -(2**31)])
def test_bundle_element_sizes_that_loop_python_osc_are_dropped(size: int) -> None:
    """The packet that matters: '#bundle' + timetag + an element size of -4 or below sends
    python-osc's parser round in circles; livegan's returns at once and counts it."""
    packet = b"#bundle\0" + (1).to_bytes(8, "big") + size.to_bytes(4, "big", signed=True)
    assert parse_datagram(packet) == ([], [oscwire.MALFORMED])
    if size == -4:  # the reference parser really does loop on it
        probe = ("import sys; from pythonosc.osc_bundle import OscBundle; "
                 "OscBundle(sys.stdin.buffer.read())")
        with pytest.raises(subprocess.TimeoutExpired):
            subprocess.run([sys.executable, "-c", probe], input=packet, timeout=3, check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
