"""The mDNS advert's life on its own thread: close() never waits for probing or the goodbye,
the goodbye is still sent and zeroconf closed, failures cost a line, nothing leaks."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from types import SimpleNamespace

import pytest

from livegan.control.oscquery import mdns
from livegan.control.oscquery.mdns import Advert

WAIT = 10.0  # a bound for things that happen at once; each wait ends as soon as they do


class FakeZeroconf:
    """Zeroconf with a real event loop on a thread; what it does lands in `events`.
    `probing` / `goodbye` gates hold the registration's probing / the goodbye until set."""

    def __init__(self, world: World, interfaces: object) -> None:
        self.world = world
        if world.open_error is not None:
            raise world.open_error
        self.registry: list[object] = []
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        world.instances.append(self)

    async def async_register_service(self, info: object, allow_name_change: bool = False):
        self.world.log("probing")
        while not self.world.probing.is_set():
            await asyncio.sleep(0.005)
        if self.world.register_error is not None:
            raise self.world.register_error
        self.registry.append(info)
        self.world.log("registered")
        return asyncio.sleep(0)  # the announcements

    def unregister_service(self, info: object) -> None:
        self.world.log("goodbye started")
        self.world.goodbye.wait(WAIT)  # a slow goodbye, until the test lets it go
        self.registry.remove(info)
        self.world.log("goodbye sent")

    def close(self) -> None:
        """Like zeroconf's: says goodbye for what is still registered and lets the pending
        tasks (a cancelled registration) finish first."""
        asyncio.run_coroutine_threadsafe(_settle(), self.loop).result(WAIT)
        if self.registry:
            self.registry.clear()
            self.world.log("goodbye sent")
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()
        self.world.log("closed")


async def _settle() -> None:
    others = asyncio.all_tasks() - {asyncio.current_task()}
    if others:
        await asyncio.wait(others, timeout=WAIT)


class World:
    """A fake zeroconf module and the record of what happened in it."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.probing = threading.Event()
        self.goodbye = threading.Event()
        self.open_error: Exception | None = None
        self.register_error: Exception | None = None
        self.instances: list[FakeZeroconf] = []
        self.module = SimpleNamespace(
            ServiceInfo=lambda *args, **kw: SimpleNamespace(name=args[1]),
            InterfaceChoice=SimpleNamespace(All="all"),
            Zeroconf=lambda interfaces: FakeZeroconf(self, interfaces))
        self._changed = threading.Condition()

    def log(self, event: str) -> None:
        with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def wait_for(self, event: str) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: event in self.events, WAIT), self.events


@pytest.fixture
def world() -> World:
    return World()


def advert(world: World) -> Advert:
    return Advert(world.module, "livegan test", "127.0.0.1", 12001)


def test_close_returns_before_the_goodbye_is_sent_and_the_goodbye_follows(world) -> None:
    world.probing.set()
    ad = advert(world)
    assert ad.registered.wait(WAIT)
    ad.close()
    seen_on_return = list(world.events)  # the goodbye is held: close() did not wait for it
    world.wait_for("goodbye started")
    assert "goodbye sent" not in seen_on_return and "closed" not in seen_on_return
    world.goodbye.set()
    assert ad.join(WAIT)
    assert world.events == ["probing", "registered", "goodbye started", "goodbye sent",
                            "closed"]


def test_close_during_probing_gives_it_up_without_a_goodbye(world) -> None:
    ad = advert(world)
    world.wait_for("probing")
    ad.close()  # probing never ends by itself here: close() cuts it short
    assert ad.join(WAIT)
    assert world.events == ["probing", "closed"] and not ad.registered.is_set()


def test_close_is_idempotent_and_safe_before_the_thread_runs(world) -> None:
    world.probing.set()
    world.goodbye.set()
    ad = advert(world)
    ad.close()
    ad.close()
    assert ad.join(WAIT)
    ad.close()
    # however far it got: zeroconf (if opened) closed last, and a goodbye for an announcement
    assert world.events in ([], ["closed"], ["probing", "closed"],
                            ["probing", "registered", "goodbye sent", "closed"],
                            ["probing", "registered", "goodbye started", "goodbye sent",
                             "closed"])


def test_a_failed_registration_costs_a_line_and_closes_zeroconf_at_once(world, caplog) -> None:
    world.probing.set()
    world.register_error = OSError("name taken")
    with caplog.at_level(logging.WARNING, logger="livegan.control.oscquery.mdns"):
        ad = advert(world)
        assert ad.join(WAIT)  # done without close(): its sockets are not held until then
    assert world.events == ["probing", "closed"] and not ad.registered.is_set()
    assert [r.getMessage() for r in caplog.records] == [
        ("OSCQuery could not be announced over mDNS (name taken); clients can still "
         "connect by address and port")]
    ad.close()
    ad.close()


def test_zeroconf_that_cannot_open_costs_a_line_and_close_is_safe(world, caplog) -> None:
    world.open_error = OSError("no multicast")
    with caplog.at_level(logging.WARNING, logger="livegan.control.oscquery.mdns"):
        ad = advert(world)
        assert ad.join(WAIT)
    assert "no multicast" in caplog.text and world.events == []
    ad.close()
    ad.close()


def test_at_exit_live_adverts_are_withdrawn(world) -> None:
    world.probing.set()
    world.goodbye.set()
    ad = advert(world)
    assert ad.registered.wait(WAIT)
    mdns._withdraw_all(WAIT)  # what runs at exit: never closed, it says goodbye all the same
    assert ad.join(0)
    assert world.events[-3:] == ["goodbye started", "goodbye sent", "closed"]


def test_at_exit_the_wait_for_a_stuck_goodbye_is_bounded(world) -> None:
    world.probing.set()
    ad = advert(world)
    assert ad.registered.wait(WAIT)
    mdns._withdraw_all(0.0)  # returns although the goodbye is held
    assert not ad.join(0)
    world.goodbye.set()
    assert ad.join(WAIT)


def test_many_adverts_leave_no_thread_or_socket_behind() -> None:
    """Real zeroconf, opened and closed again and again: closed at once, during probing and
    once announced."""
    zeroconf = pytest.importorskip("zeroconf", reason="mDNS: pip install 'livegan[oscquery]'")
    opened: list[object] = []
    ready = threading.Event()

    def open_zeroconf(**kw: object) -> object:
        zc = zeroconf.Zeroconf(**kw)
        opened.append(zc)
        ready.set()
        return zc

    module = SimpleNamespace(ServiceInfo=zeroconf.ServiceInfo,
                             InterfaceChoice=zeroconf.InterfaceChoice, Zeroconf=open_zeroconf)
    before, fds = set(threading.enumerate()), _open_fds()
    for i in range(7):
        ready.clear()
        ad = Advert(module, f"livegan leak {i}", "127.0.0.1", 12001 + i)
        if i % 3 == 1:
            assert ready.wait(WAIT)  # probing
        elif i == 5:
            ad.registered.wait(WAIT)  # announced (unless multicast is off here)
        ad.close()
        assert ad.join(WAIT)
    assert opened and all(zc.loop.is_closed() for zc in opened)
    assert [t for t in threading.enumerate() if t not in before] == []
    if fds is not None:
        assert _open_fds() <= fds


def _open_fds() -> int | None:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return None
