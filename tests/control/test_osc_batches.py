"""OSC in batches: the newest value per address, triggers kept, and the show's rule."""

from __future__ import annotations

import logging
import socket
import threading

from oscwait import balanced, wait_handled

from livegan.control.controls import Controls
from livegan.control.osc.batch import Coalescer, Coalescing
from livegan.control.osc.server import OscServer
from livegan.control.osc.wire import encode_message
from livegan.control.patch.router import Router
from livegan.patchfile.load import parse_patch

WAIT = 10.0
ONE_ADDRESS = Coalescing(frozenset({"/x"}))
HOME = ("127.0.0.1", 9)


class Inbox(list):
    def __call__(self, address: str, args: tuple, sender: tuple[str, int]) -> None:
        self.append((address, args))


def send_all(port: int, datagrams: list[bytes]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for datagram in datagrams:
            sock.sendto(datagram, ("127.0.0.1", port))


# --- the batch rule, on its own -------------------------------------------------------


def test_newest_value_per_address_stands_in_the_place_of_its_arrival() -> None:
    coalescer = Coalescer(Coalescing(frozenset({"/z"}), ("/dir/",)))
    batch = [(encode_message(a, v), HOME) for a, v in [
        ("/z", 1.0), ("/dir/0", 1.0), ("/go", 1), ("/z", 2.0), ("/dir/1", 5.0),
        ("/go", 2), ("/dir/0", 3.0)]]
    kept, superseded = coalescer.reduce(batch)
    assert superseded == 2
    assert [d for d, _ in kept] == [encode_message(a, v) for a, v in [
        ("/go", 1), ("/z", 2.0), ("/dir/1", 5.0), ("/go", 2), ("/dir/0", 3.0)]]


def test_bundles_garbage_and_unnamed_addresses_are_never_merged() -> None:
    coalescer = Coalescer(ONE_ADDRESS)
    bundle = b"#bundle\0" + bytes(8) + b"\0\0\0\x0c" + encode_message("/x", 1.0)
    batch = [(d, HOME) for d in [bundle, bundle, b"/x", b"/x", b"\x00junk",
                                 encode_message("/y", 1.0), encode_message("/y", 2.0)]]
    kept, superseded = coalescer.reduce(batch)
    # "/x" without its NUL has no address to go by; the two /y are not named
    assert superseded == 0 and kept == batch


def test_a_new_rule_forgets_the_old_verdicts() -> None:
    coalescer = Coalescer(ONE_ADDRESS)
    batch = [(encode_message("/x", float(n)), HOME) for n in range(3)]
    assert coalescer.reduce(batch)[1] == 2
    coalescer.set_rule(Coalescing())
    assert coalescer.reduce(batch) == (batch, 0)


def test_a_rule_names_addresses_and_prefixes_minus_exceptions() -> None:
    rule = Coalescing(frozenset({"/a", "/b"}), ("/p/",), frozenset({"/p/3"}))
    assert rule("/a") and rule("/p/0") and not rule("/p/3") and not rule("/c")


# --- the server ------------------------------------------------------------------------


def test_a_burst_delivers_every_trigger_and_the_newest_value() -> None:
    inbox = Inbox()
    with OscServer(inbox, port=0, coalesce=lambda: ONE_ADDRESS) as server:
        datagrams = []
        for n in range(1000):
            datagrams.append(encode_message("/x", float(n)))
            if n % 100 == 0:
                datagrams.append(encode_message("/go", n))
        send_all(server.port, datagrams)
        stats = wait_handled(server, len(datagrams), WAIT)  # one message a datagram
    assert [args for address, args in inbox if address == "/go"] == [
        (n,) for n in range(0, 1000, 100)]
    values = [args[0] for address, args in inbox if address == "/x"]
    assert values[-1] == 999.0 and values == sorted(values)
    assert stats["coalesced"] == 1000 - len(values) and balanced(stats)


class Holding(Inbox):
    """An inbox whose handler keeps the receive thread busy on "/hold" until released."""

    def __init__(self) -> None:
        super().__init__()
        self.holding, self.release = threading.Event(), threading.Event()

    def __call__(self, address: str, args: tuple, sender: tuple[str, int]) -> None:
        if address == "/hold":
            self.holding.set()
            self.release.wait(WAIT)
        super().__call__(address, args, sender)


def test_what_waits_while_the_thread_is_busy_arrives_as_one_value() -> None:
    inbox = Holding()
    with OscServer(inbox, port=0, coalesce=lambda: ONE_ADDRESS) as server:
        send_all(server.port, [encode_message("/hold")])
        assert inbox.holding.wait(WAIT)
        send_all(server.port, [encode_message("/x", float(n)) for n in range(500)]
                 + [encode_message("/go", 1)])
        inbox.release.set()
        stats = wait_handled(server, 502, WAIT)
    assert inbox == [("/hold", ()), ("/x", (499.0,)), ("/go", (1,))]
    assert stats["coalesced"] == 499 and stats["delivered"] == 3 and balanced(stats)


def test_the_rule_is_asked_again_for_each_batch() -> None:
    rules = [ONE_ADDRESS]
    inbox = Inbox()
    server = OscServer(inbox, coalesce=lambda: rules[-1])
    burst = [(encode_message("/x", float(n)), HOME) for n in range(5)]
    server.feed_batch(burst)
    rules.append(Coalescing())  # a patch reload: /x became a button
    server.feed_batch(burst)
    assert [args for _, args in inbox] == [(4.0,)] + [(float(n),) for n in range(5)]
    assert server.stats()["coalesced"] == 4 and balanced(server.stats())


def test_senders_outside_the_allowlist_cannot_supersede_allowed_ones(caplog) -> None:
    inbox = Inbox()
    server = OscServer(inbox, allow=["10.1.2.0/24"], coalesce=lambda: ONE_ADDRESS)
    with caplog.at_level(logging.WARNING, "livegan.control.osc"):
        server.feed_batch([(encode_message("/x", 1.0), ("10.1.2.3", 9000)),
                           (encode_message("/x", 666.0), ("127.0.0.1", 9000)),
                           (encode_message("/x", 2.0), ("10.1.2.4", 9000))])
    stats = server.stats()
    assert inbox == [("/x", (2.0,))]
    assert stats["not_allowed"] == 1 and stats["coalesced"] == 1 and balanced(stats)
    assert "127.0.0.1" in caplog.text and "not in osc.allow" in caplog.text


# --- the show's rule ---------------------------------------------------------------------


def router_for(patch_text: str) -> Router:
    controls = Controls(8, 4)
    return Router(controls, parse_patch(patch_text))


def test_default_rule_merges_values_and_keeps_events() -> None:
    rule = router_for("").coalescing()
    for address in ("/livegan/z", "/livegan/z/3", "/livegan/dir/smile", "/livegan/dirs",
                    "/wek/outputs", "/livegan/speed", "/livegan/truncation", "/livegan/morph"):
        assert rule(address), address
    for address in ("/livegan/seed", "/livegan/scene", "/livegan/snapshot", "/livegan/key",
                    "/livegan/model", "/livegan/record", "/livegan/label", "/unknown"):
        assert not rule(address), address


def test_patch_buttons_and_pickup_are_never_merged() -> None:
    router = router_for("""
[[map]]
osc = "/fader"
to = "truncation"

[[map]]
osc = "/button"
to = "seed"
press = "trigger"
value = 3

[[map]]
osc = "/livegan/z/0"
to = "snapshot"

[[map]]
osc = "/soft"
to = "speed"
pickup = true
""")
    rule = router.coalescing()
    assert rule("/fader") and rule("/livegan/z/1")
    assert not rule("/button") and not rule("/livegan/z/0") and not rule("/soft")
    router.set_patch(parse_patch('[[map]]\nosc = "/fader"\nto = "seed"\nvalue = 1\n'))
    assert not router.coalescing()("/fader")  # a reload makes a new rule
