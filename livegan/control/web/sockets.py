"""The WebSocket: page messages in; values, trees and answers out (OSCQuery LISTEN as binary
OSC); each client's rate, size and backlog bounded."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from livegan.control.osc.wire import encode_message
from livegan.control.oscquery.tree import find
from livegan.control.patch.config import PatchControls
from livegan.control.web import protocol
from livegan.control.web.client import RATE, Client
from livegan.control.web.pairing import PairingRefused
from livegan.control.web.patchedit import LearnedMap, LearnSession, PatchEditor, scene_toml
from livegan.control.web.protocol import MAX_MESSAGE, Refused
from livegan.control.web.state import ServerState
from livegan.control.web.values import Update, Values
from livegan.errors import PatchError
from livegan.ratelog import RateLimitedLog

log = logging.getLogger(__name__)

POLL_S = 1 / 60  # values are looked at this often while a client is connected
SEND_INTERVAL_S = 1 / 30  # a client gets at most 30 value messages a second
OUTBOX = 256  # messages waiting for one client at most; beyond, it is too slow and closed
MAX_LISTENS = 1024  # addresses one client may LISTEN to
MAX_CLIENTS = 512  # WebSocket connections at once; more are refused (503)
HEARTBEAT_S = 30.0  # a silent connection is pinged; one that does not answer is closed


class Sockets:
    """Every WebSocket client of one server, the values pump that keeps them current, and
    what the page asks for (osc, learn, save, scenes, pairing). Runs on the server's loop;
    `learned` and the show's setters may be called from other threads."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.hooks = state.hooks
        self.clients: set[Client] = set()
        self.learn = LearnSession()
        hooks = state.hooks
        self.editor = PatchEditor(hooks.check_patch, hooks.patch_text, hooks.patch_path,
                                  hooks.patch_model)
        self.values = Values(state.answers.describe, state.hooks.version)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pump: asyncio.Task | None = None
        self._ratelog = RateLimitedLog(log)

    def start(self) -> None:
        """On the server's loop: start the values pump."""
        self._loop = asyncio.get_running_loop()
        self._pump = self._loop.create_task(self._pump_values())

    async def close(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
        if self.clients:
            await asyncio.wait([asyncio.ensure_future(c.ws.close(code=WSCloseCode.GOING_AWAY))
                                for c in list(self.clients)], timeout=2.0)

    # --- connections ------------------------------------------------------------------------

    async def serve(self, request: web.Request, kind: str, paired: bool) -> web.StreamResponse:
        """Run one WebSocket connection to its end."""
        if len(self.clients) >= MAX_CLIENTS:
            return self.state.refuse("refused", 503, f"{MAX_CLIENTS} connections are open "
                                      "already", request)
        ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE, compress=False,
                                   heartbeat=HEARTBEAT_S)
        await ws.prepare(request)
        self.state.served(request)
        peer = request.transport.get_extra_info("peername") if request.transport else None
        client = Client(ws, kind, request.remote or "", peer[1] if peer else 0, paired)
        self.clients.add(client)
        self.state.counts["clients"] += 1
        writer = asyncio.ensure_future(self._write(client))
        try:
            if kind == "page":
                if paired:
                    await self._hello(client)
                else:
                    self.send(client, {"type": "hello", "paired": False})
            await self._read(client)
        finally:
            self.clients.discard(client)
            writer.cancel()
        return ws

    async def _read(self, client: Client) -> None:
        async for msg in client.ws:
            if msg.type == WSMsgType.TEXT:
                if client.take_token(time.monotonic()):
                    await self._handle(client, msg.data)
                    continue
                client.dropped += 1
                self._refuse(client, "flood", f"more than {RATE:.0f} messages a second",
                             answer=False)
                if client.dropped % 50 == 0:  # a flood waits in its own socket, not here
                    await asyncio.sleep(0.02)
            elif msg.type == WSMsgType.BINARY:
                self._refuse(client, "binary", "messages are JSON text frames")
            elif msg.type == WSMsgType.ERROR:
                error = client.ws.exception()
                code = getattr(error, "code", None)
                kind = "huge" if code == WSCloseCode.MESSAGE_TOO_BIG else "malformed"
                self._refuse(client, kind, f"{error or 'broken frame'}; connection closed",
                             answer=False)
                break

    async def _write(self, client: Client) -> None:
        ws = client.ws
        try:
            while not ws.closed:
                await client.wake.wait()
                client.wake.clear()
                while client.outbox:
                    item = client.outbox.popleft()
                    await (ws.send_str(item) if isinstance(item, str) else ws.send_bytes(item))
                if client.pending or client.pending_hud is not None or client.osc:
                    wait = client.last_sent + SEND_INTERVAL_S - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    await self._send_values(client)
        except (ConnectionError, RuntimeError):  # the client went away mid-send
            pass

    async def _send_values(self, client: Client) -> None:
        ws = client.ws
        if client.pending or client.pending_hud is not None:
            text = client.pending_text or _values_text(client.pending, client.pending_hud)
            client.pending, client.pending_hud, client.pending_text = {}, None, None
            await ws.send_str(text)
        if client.osc:
            messages, client.osc = list(client.osc.values()), {}
            for data in messages:
                await ws.send_bytes(data)
        client.last_sent = time.monotonic()

    def send(self, client: Client, message: dict[str, Any] | str | bytes) -> None:
        """Queue a message for one client (loop thread); a client too slow to take its
        messages is closed."""
        if client.ws.closed:
            return
        if len(client.outbox) >= OUTBOX:
            self._refuse(client, "slow", "a client that does not read its messages",
                         answer=False)
            client.outbox.clear()
            asyncio.ensure_future(client.ws.close(code=WSCloseCode.POLICY_VIOLATION))
            return
        client.outbox.append(protocol.dumps(message) if isinstance(message, dict) else message)
        client.wake.set()

    def broadcast(self, message: dict[str, Any]) -> None:
        """To every paired page (loop thread)."""
        text = protocol.dumps(message)
        for client in list(self.clients):
            if client.kind == "page" and client.paired:
                self.send(client, text)

    def _refuse(self, client: Client, kind: str, message: str, answer: bool = True) -> None:
        self.state.count(kind, f"WebSocket message from {client.remote}: {message}")
        if answer:
            self.send(client, {"type": "error", "message": message})

    # --- what clients ask -------------------------------------------------------------------

    async def _handle(self, client: Client, text: str) -> None:
        try:
            command = protocol.parse(text)
        except Refused as exc:
            self._refuse(client, exc.kind, str(exc))
            return
        self.state.counts["messages"] += 1
        if client.kind == "oscquery" and not isinstance(command, (protocol.Osc,
                                                                  protocol.Listen)):
            self._refuse(client, "not_offered", "OSCQuery's WebSocket takes LISTEN, IGNORE and "
                         "osc messages; the page's is at /ws")
            return
        if not client.paired and not isinstance(command, protocol.Pair):
            self.state.count("unpaired", f"a message from {client.remote} before pairing")
            self.send(client, {"type": "pair", "ok": False,
                               "message": "type the pairing code the show prints"})
            return
        try:
            await self._act(client, command)
        except Refused as exc:
            self._refuse(client, exc.kind, str(exc))
        except Exception as exc:  # noqa: BLE001 - a page never stops the server
            self._ratelog.error(f"failed:{type(command).__name__}", "control page: %s "
                                "failed: %s", type(command).__name__, exc, exc_info=True)
            self.send(client, {"type": "error", "message": f"that failed: {exc}"})

    async def _act(self, client: Client, command: protocol.Command) -> None:
        """Do what one message asks (Refused: it is not done)."""
        if isinstance(command, protocol.Osc):
            self._osc(client, command)
        elif isinstance(command, protocol.Listen):
            self._listen(client, command)
        elif isinstance(command, protocol.Learn):
            self._learn(command)
        elif isinstance(command, protocol.Save):
            await self._save(client, command)
        elif isinstance(command, protocol.StoreScene):
            self._store_scene(client, command)
        elif isinstance(command, protocol.Pair):
            await self._pair(client, command)

    def _osc(self, client: Client, command: protocol.Osc) -> None:
        """As a UDP message: through the show's dispatcher, so patches' routes, checks,
        clipping and counts are the same."""
        address, args = command.address, command.args
        if address == "/livegan/query":
            raise Refused("not_offered", "the page has the namespace already (its tree)")
        dispatcher = self.hooks.dispatcher
        known = dispatcher.table.find(address) is not None
        if protocol.out_of_range(args, self.values.ranges.get(address)):
            self.state.count("clipped", f"{address} {args!r:.60} from {client.remote}: "
                              "clipped to its range")
        before = dispatcher.counts["bad_args"]
        dispatcher(address, args, (client.remote, client.port))
        if not known:
            raise Refused("unknown", f"no OSC address {address[:80]!r} in this show")
        if dispatcher.counts["bad_args"] > before:
            raise Refused("bad_args", f"{address[:80]} does not take {list(args)!r:.80}: "
                          f"it takes {dispatcher.table.types(address)}")

    def _listen(self, client: Client, command: protocol.Listen) -> None:
        if not command.on:
            client.listens.discard(command.address)
            return
        if find(self.values.known(), command.address) is None:
            raise Refused("unknown", f"no OSC address {command.address[:80]!r} to LISTEN to")
        if len(client.listens) >= MAX_LISTENS:
            raise Refused("bad_args", f"LISTEN to at most {MAX_LISTENS} addresses")
        client.listens.add(command.address)

    def _learn(self, command: protocol.Learn) -> None:
        if command.target is None:
            self.learn.cancel()
        else:
            try:
                self.learn.arm(command.target, command.value)
            except Refused as exc:
                raise Refused("learn_refused", str(exc)) from None
        self.broadcast({"type": "learning", "target": command.target})

    async def _save(self, client: Client, command: protocol.Save) -> None:
        loop = asyncio.get_running_loop()
        path = await loop.run_in_executor(None, self.editor.save, command.name)
        log.info("the control page saved the patch %s", path)
        self.send(client, {"type": "saved", "path": str(path)})

    def _store_scene(self, client: Client, command: protocol.StoreScene) -> None:
        _, live = self.state.answers.describe()
        try:
            patch = self.editor.store_scene(command.name, scene_toml(command.name, live))
        except PatchError as exc:
            raise Refused("save_refused", f"scene not stored: {exc}") from None
        self._play(patch)
        self.broadcast({"type": "stored", "scene": command.name})

    async def _pair(self, client: Client, command: protocol.Pair) -> None:
        if client.paired:
            self.send(client, {"type": "pair", "ok": True})
            return
        try:
            token = self.state.pairing.attempt(client.remote, command.code)
        except PairingRefused as exc:
            self._refuse(client, exc.kind, str(exc), answer=False)
            self.send(client, {"type": "pair", "ok": False, "message": str(exc)})
            return
        log.info("a device at %s paired with the control page", client.remote)
        client.paired = True
        self.send(client, {"type": "pair", "ok": True, "token": token})
        await self._hello(client)

    def learned(self, mapping: LearnedMap | None) -> None:
        """A mapping learned from MIDI or OSC (any thread): played and told to the pages."""
        if mapping is not None and self._loop is not None:
            try:
                self._loop.call_soon_threadsafe(self._add_learned, mapping)
            except RuntimeError:  # the server stopped
                pass

    def _add_learned(self, mapping: LearnedMap) -> None:
        try:
            patch = self.editor.add_map(mapping.toml)
        except PatchError as exc:
            self.state.count("learn_refused", f"learned {mapping.source}: {exc}")
            self.broadcast({"type": "error", "message": f"mapping not made: {exc}"})
            return
        self._play(patch)
        log.info("learned on the control page: %s -> %s", mapping.source, mapping.target)
        self.broadcast({"type": "learned", "mapping": mapping.message()})

    def _play(self, patch: PatchControls) -> None:
        """Hand the page's mappings and scenes to the show (its other settings stay)."""
        self.hooks.apply_patch(dataclasses.replace(self.hooks.patch(), maps=patch.maps,
                                                   scenes=patch.scenes))

    # --- what clients get -------------------------------------------------------------------

    async def _hello(self, client: Client) -> None:
        models = await self.state.models()
        self.send(client, {"type": "hello", "tree": self.values.tree(),
                           "model": self.hooks.model_name(), "models": models, "paired": True,
                           "learning": self.learn.target})

    async def _pump_values(self) -> None:
        """While anyone is connected: look at the values every POLL_S, send what changed."""
        while True:
            await asyncio.sleep(POLL_S)
            if not self.clients:
                continue
            try:
                update = self.values.look(time.monotonic())
                if update is not None:
                    self._deliver(update)
            except Exception as exc:  # noqa: BLE001 - the pump outlives a bad read
                self._ratelog.error("pump", "control page values failed: %s", exc,
                                    exc_info=True)

    def _deliver(self, update: Update) -> None:
        """A new tree to every page; changed values (and the HUD) to the pages, at most
        SEND_INTERVAL_S apart each; LISTENed addresses' values as OSC."""
        if update.tree is not None:
            self.broadcast({"type": "tree", "tree": update.tree,
                            "model": self.hooks.model_name()})
        changed, hud = update.changed, update.hud
        if not changed and hud is None:
            return
        text = _values_text(changed, hud)
        encoded: dict[str, bytes] = {}
        for client in list(self.clients):
            if client.kind == "page" and client.paired:
                client.add_values(changed, hud, text)
            for address in client.listens.intersection(changed):
                if address not in encoded:
                    encoded[address] = _osc_bytes(address, changed[address])
                client.osc[address] = encoded[address]
                client.wake.set()


def _values_text(values: dict[str, list], hud: dict | None) -> str:
    message: dict[str, Any] = {"type": "values", "values": values}
    if hud is not None:
        message["hud"] = hud
    return protocol.dumps(message)


def _osc_bytes(address: str, value: list) -> bytes:
    try:
        return encode_message(address, *value)
    except TypeError:
        return encode_message(address, *[str(v) for v in value])
