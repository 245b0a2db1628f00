"""The page server over real sockets: its files and nothing else, the WebSocket both ways,
OSCQuery LISTEN, bad input counted, pairing, save, scenes, learn, preview and thumbnails."""

from __future__ import annotations

import asyncio
import io
import json
import math
import socket
from pathlib import Path

import aiohttp
import mido
import numpy as np
import pytest
from oscwait import wait_handled
from pagerig import WAIT, PageRig, outward_address, run, until, wait_for
from PIL import Image
from pythonosc.udp_client import SimpleUDPClient

from livegan.control.osc.wire import parse_datagram
from livegan.control.web import pairing
from livegan.control.web.config import WebConfig
from livegan.patchfile.load import load_patch


@pytest.fixture
def rig(tmp_path):
    made: list[PageRig] = []

    def make(**kwargs) -> PageRig:
        made.append(PageRig(tmp_path, **kwargs))
        return made[-1]

    yield make
    for r in made:
        r.close()


async def get(url: str, **kwargs) -> tuple[int, str, bytes]:
    async with aiohttp.ClientSession() as session, session.get(
            url, allow_redirects=False, **kwargs) as response:
        return response.status, response.content_type, await response.read()


def test_the_page_files_are_served_and_nothing_else(rig) -> None:
    r = rig()

    async def client() -> None:
        status, _, _ = await get(r.url("/ui"))
        assert status == 302
        status, kind, body = await get(r.url("/ui/"))
        assert (status, kind) == (200, "text/html") and b"<html" in body.lower()
        assert (await get(r.url("/ui/app.js")))[:2] == (200, "text/javascript")
        assert (await get(r.url("/ui/style.css")))[:2] == (200, "text/css")

    run(client())
    before = r.server.counts["bad_path"]
    for path in ("/ui/../server.py", "/ui/%2e%2e/server.py", "/ui/..%2fserver.py",
                 "/ui/%2e%2e%2f%2e%2e%2fpyproject.toml", "/ui/static/../../server.py",
                 "/ui/..%5cserver.py", "/ui/server.py", "/ui/.hidden", "/ui/a%00b",
                 "/ui//etc/passwd", "/ui/thumbs/../../x.jpg", "/ui/../../../../etc/passwd"):
        with socket.create_connection(("127.0.0.1", r.server.page_port), timeout=WAIT) as sock:
            sock.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())  # as written, not tidied
            answer = sock.makefile("rb").read()
        assert answer.split(b" ", 2)[1] == b"404" and b"import" not in answer, path
    assert r.server.counts["bad_path"] - before == 12


def test_hello_carries_the_tree_and_models_and_the_page_moves_values(rig) -> None:
    r = rig()

    async def client() -> None:
        async with aiohttp.ClientSession() as session, session.ws_connect(r.url("/ws")) as ws:
            hello = await until(ws, "hello")
            assert hello["paired"] is True and hello["model"] == "tiny"
            assert hello["models"] == [{"name": "tiny", "resolution": 32, "arch": "lite",
                                        "thumb": "/ui/thumbs/tiny.jpg"}]
            speed = hello["tree"]["CONTENTS"]["livegan"]["CONTENTS"]["speed"]
            assert speed["RANGE"] == [{"MIN": -10.0, "MAX": 10.0}]
            await ws.send_json({"type": "osc", "address": "/livegan/speed", "args": [0.5]})
            await ws.send_json({"type": "osc", "address": "/fader", "args": [1.0]})  # patch
            await ws.send_json({"type": "osc", "address": "/livegan/dir/warm", "args": [-2]})
            values = {}
            while values.get("/livegan/truncation") != [pytest.approx(1.2)]:
                values.update((await until(ws, "values"))["values"])
            assert values["/livegan/speed"] == [0.5] and values["/livegan/dir/2"] == [-2.0]

    run(client())
    assert r.controls.param("speed") == 0.5
    assert r.inputs.dispatcher.counts == {"unknown": 0, "bad_args": 0}


def test_a_new_shape_of_the_namespace_sends_the_tree_again(rig) -> None:
    r = rig()

    async def client() -> None:
        async with aiohttp.ClientSession() as session, session.ws_connect(r.url("/ws")) as ws:
            hello = await until(ws, "hello")
            assert "bend" not in hello["tree"]["CONTENTS"]["livegan"]["CONTENTS"] or \
                set(hello["tree"]["CONTENTS"]["livegan"]["CONTENTS"]["bend"]["CONTENTS"]) \
                == {"off"}
            r.inputs.set_bend_layers(["4", "8"])  # what a hot-swap does
            tree = (await until(ws, "tree"))["tree"]
            assert {"4", "8"} <= set(tree["CONTENTS"]["livegan"]["CONTENTS"]["bend"]["CONTENTS"])
            r.server.model_changed()
            assert (await until(ws, "tree"))["model"] == "tiny"

    run(client())


def test_a_value_sent_over_udp_arrives_as_a_values_message(rig) -> None:
    r = rig()

    async def client() -> None:
        async with aiohttp.ClientSession() as session, session.ws_connect(r.url("/ws")) as ws:
            await until(ws, "hello")
            udp = SimpleUDPClient("127.0.0.1", r.osc.port)
            udp.send_message("/livegan/truncation", 0.3)
            await until(ws, "values", lambda m: m["values"].get("/livegan/truncation")
                        == [pytest.approx(0.3)])

    run(client())


def test_oscquery_listen_streams_binary_osc_over_the_websocket(rig) -> None:
    r = rig()

    async def client() -> None:
        async with aiohttp.ClientSession() as session, \
                session.ws_connect(f"http://127.0.0.1:{r.server.port}/") as ws:
            await ws.send_json({"COMMAND": "LISTEN", "DATA": "/livegan/speed"})
            await asyncio.sleep(0.1)
            udp = SimpleUDPClient("127.0.0.1", r.osc.port)
            udp.send_message("/livegan/speed", 0.25)
            msg = await ws.receive(timeout=WAIT)
            assert msg.type == aiohttp.WSMsgType.BINARY
            messages, drops = parse_datagram(msg.data)
            assert messages == [("/livegan/speed", (0.25,))] and not drops
            await ws.send_json({"type": "save", "name": "x"})  # the page's, not OSCQuery's
            assert "/ws" in (await until(ws, "error"))["message"]
            await ws.send_json({"COMMAND": "IGNORE", "DATA": "/livegan/speed"})
            await ws.send_json({"COMMAND": "LISTEN", "DATA": "/livegan/nowhere"})
            error = await until(ws, "error")
            assert "no OSC address" in error["message"]
            await asyncio.sleep(0.1)
            udp.send_message("/livegan/speed", 0.5)
            with pytest.raises(asyncio.TimeoutError):
                await ws.receive(timeout=0.3)  # ignored now: nothing comes

    run(client())
    info = json.loads(run(get(f"http://127.0.0.1:{r.server.port}/?HOST_INFO"))[2])
    assert info["EXTENSIONS"]["LISTEN"] is True and info["WS_PORT"] == r.server.port


BAD = [  # (frame, counter)
    ("not json", "malformed"),
    ("[1, 2]", "malformed"),
    ('{"type": "osc", "address": "/livegan/speed", "args": [NaN]}', "nonfinite"),
    ('{"type": "osc", "address": "/livegan/speed", "args": [Infinity]}', "nonfinite"),
    ('{"type": "dance"}', "unknown"),
    ('{"type": "osc", "address": "/livegan/speed", "args": [{"a": 1}]}', "bad_args"),
    ('{"type": "osc", "address": "speed", "args": [1]}', "bad_args"),
    ('{"type": "osc", "address": "/livegan/nowhere", "args": [1]}', "unknown"),
    ('{"type": "osc", "address": "/livegan/speed", "args": ["fast"]}', "bad_args"),
    ('{"type": "osc", "address": "/livegan/query", "args": []}', "not_offered"),
    ('{"type": "save", "name": "../../evil"}', "bad_name"),
    ('{"type": "scene", "store": "a/b"}', "bad_name"),
    ('{"type": "learn", "target": "warp"}', "learn_refused"),
    ('{"COMMAND": "SHOUT", "DATA": "/x"}', "unknown"),
    ("[" * 60000, "malformed"),  # nested too deep for any parser
]


def test_bad_input_is_refused_counted_and_answered(rig) -> None:
    r = rig()

    async def client() -> None:
        async with aiohttp.ClientSession() as session, session.ws_connect(r.url("/ws")) as ws:
            await until(ws, "hello")
            for frame, kind in BAD:
                before = r.server.counts[kind]
                await ws.send_str(frame)
                error = await until(ws, "error")
                assert error["message"] and r.server.counts[kind] == before + 1, (frame, kind)
            await ws.send_bytes(b"\x00\x01")
            assert "JSON text" in (await until(ws, "error"))["message"]
            await ws.send_json({"type": "osc", "address": "/livegan/speed", "args": [50.0]})
            assert wait_for(lambda: r.controls.param("speed") == 10.0)  # clipped, as over UDP
            await ws.send_str(json.dumps({"type": "osc", "address": "/x", "args": ["a" * 70000]}))
            with pytest.raises(ConnectionError):  # too big: the connection is closed
                await until(ws, "never")
        async with aiohttp.ClientSession() as session, session.ws_connect(r.url("/ws")) as ws:
            assert (await until(ws, "hello"))["paired"]  # the server goes on

    run(client())
    counts = r.server.counts
    assert (counts["binary"], counts["clipped"], counts["huge"]) == (1, 1, 1)
    assert r.inputs.dispatcher.counts["unknown"] == 1  # as if it came over UDP


def test_a_flood_is_dropped_and_counted_and_the_server_still_answers(rig) -> None:
    r = rig()

    async def client() -> None:
        async with aiohttp.ClientSession() as session, session.ws_connect(r.url("/ws")) as ws:
            await until(ws, "hello")
            frame = json.dumps({"type": "osc", "address": "/livegan/speed", "args": [0.3]})
            for _ in range(2000):
                await ws.send_str(frame)
            assert wait_for(lambda: r.server.counts["messages"] + r.server.counts["flood"]
                            >= 2000, timeout=20)
            async with session.ws_connect(r.url("/ws")) as other:
                assert (await until(other, "hello"))["paired"]

    run(client())
    assert r.server.counts["flood"] >= 1000 and r.server.counts["messages"] < 1000


def test_without_the_code_a_device_gets_only_the_pairing_form(rig) -> None:
    r = rig(trusted=False)  # 127.0.0.1 plays a phone on the network
    code = r.server.pairing.code

    async def client() -> None:
        assert (await get(r.url("/ui/")))[0] == 200  # the page asks for the code itself
        for path in ("/ui/preview.jpg", "/ui/explore.json", "/ui/thumbs/tiny.jpg"):
            assert (await get(r.url(path)))[0] == 403
        async with aiohttp.ClientSession() as session, session.ws_connect(r.url("/ws")) as ws:
            hello = await until(ws, "hello")
            assert hello == {"type": "hello", "paired": False}
            await ws.send_json({"type": "osc", "address": "/livegan/speed", "args": [3.0]})
            assert (await until(ws, "pair"))["ok"] is False
            await ws.send_json({"type": "pair", "code": "000000" if code != "000000"
                                else "111111"})
            refused = await until(ws, "pair")
            assert refused["ok"] is False and "wrong" in refused["message"]
            await ws.send_json({"type": "pair", "code": code})
            paired = await until(ws, "pair")
            assert paired["ok"] is True and len(paired["token"]) >= 40
            assert "livegan" in (await until(ws, "hello"))["tree"]["CONTENTS"]
            token = paired["token"]
        status, kind, _ = await get(r.url("/ui/explore.json"), cookies={pairing.COOKIE: token})
        assert (status, kind) == (200, "application/json")

    run(client())
    assert r.controls.param("speed") == 0.1  # the unpaired message moved nothing
    assert (r.server.counts["unpaired"], r.server.counts["pair_wrong"]) == (4, 1)


def test_a_device_on_the_network_pairs_and_oscquery_stays_on_this_machine(rig) -> None:
    address = outward_address()
    if address is None:
        pytest.skip("this machine has no network address besides loopback")
    r = rig(web=WebConfig(host=address, port=0))  # as --web-host, on its own port
    assert r.server.pairs and r.server.page_port != r.server.port
    code = r.server.pairing.code

    async def client() -> None:
        async with aiohttp.ClientSession() as session:
            async with session.get(r.url("/ui/preview.jpg", address)) as response:
                assert response.status == 403  # from the machine's own network address
            async with session.ws_connect(r.url("/ws", address)) as ws:
                assert (await until(ws, "hello")) == {"type": "hello", "paired": False}
                await ws.send_json({"type": "pair", "code": code})
                token = (await until(ws, "pair"))["token"]
                assert (await until(ws, "hello"))["paired"] is True
            async with session.get(r.url("/ui/preview.jpg", address),
                                   headers={"X-Livegan-Session": token}) as response:
                assert response.status == 503  # paired: no frame shown yet
        with pytest.raises(aiohttp.ClientError):  # OSCQuery stays on loopback
            await get(f"http://{address}:{r.server.port}/livegan/speed")
        status, _, body = await get(f"http://{address}:{shared.server.port}/livegan/speed")
        assert status == 403 and b"answers that machine only" in body  # one port for both

    shared = rig(web=WebConfig(host=address))
    run(client())


def test_five_wrong_codes_lock_a_device_out_and_the_cookie_pairs_over_http(rig) -> None:
    r = rig(trusted=False)
    code = r.server.pairing.code
    wrong = "999999" if code != "999999" else "999998"

    async def client() -> None:
        async with aiohttp.ClientSession() as session:
            for _ in range(pairing.MAX_WRONG):
                async with session.post(r.url("/ui/pair"), json={"code": wrong}) as response:
                    assert response.status == 403
            async with session.post(r.url("/ui/pair"), json={"code": code}) as response:
                assert response.status == 403 and "wait" in (await response.json())["message"]
        r.server.pairing._locked.clear()  # a minute later
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            async with session.post(r.url("/ui/pair"), json={"code": code}) as response:
                assert response.status == 200 and (await response.json())["ok"]
                cookie = response.headers["Set-Cookie"]
                assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
            async with session.get(r.url("/ui/explore.json")) as response:
                assert response.status == 200  # the cookie jar (as a browser's) carries it

    run(client())
    assert r.server.counts["pair_locked"] == 2 and r.server.counts["pair_wrong"] == 4


def test_another_site_cannot_open_the_websocket(rig) -> None:
    r = rig()

    async def client() -> None:
        async with aiohttp.ClientSession() as session:
            for url in (r.url("/ws"), f"http://127.0.0.1:{r.server.port}/"):
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await session.ws_connect(url, origin="http://evil.example")
                assert refused.value.status == 403
            with pytest.raises(aiohttp.WSServerHandshakeError):  # DNS rebinding
                await session.ws_connect(r.url("/ws"), headers={"Host": "evil.example"})

    run(client())
    assert r.server.counts["refused"] == 3


def test_save_writes_a_patch_that_loads_and_nothing_outside_the_folder(rig, tmp_path) -> None:
    r = rig()

    async def client() -> None:
        async with aiohttp.ClientSession() as session, session.ws_connect(r.url("/ws")) as ws:
            await until(ws, "hello")
            await ws.send_json({"type": "osc", "address": "/livegan/speed", "args": [0.7]})
            assert wait_for(lambda: r.controls.param("speed") == pytest.approx(0.7))
            await ws.send_json({"type": "scene", "store": "bright"})
            assert (await until(ws, "stored"))["scene"] == "bright"
            await ws.send_json({"type": "save", "name": "mine"})
            saved = await until(ws, "saved")
            assert saved["path"] == str(tmp_path / "mine.toml")
            for name in ("../mine", "..", "a\\b", "x" * 65, "", "/etc/passwd"):
                await ws.send_json({"type": "save", "name": name})
                assert "refused" in (await until(ws, "error"))["message"]
            await ws.send_json({"type": "save"})  # over the show's own patch
            assert (await until(ws, "saved"))["path"] == str(tmp_path / "show.toml")

    run(client())
    mine = load_patch(tmp_path / "mine.toml")
    assert mine.scenes["bright"].params["speed"] == pytest.approx(0.7)
    assert mine.scenes["calm"].params["speed"] == 0.02 and len(mine.maps) == 1
    assert "the show's patch" in (tmp_path / "mine.toml").read_text()  # comments kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.toml", "show.toml"]
    assert "bright" in r.inputs.router.patch.scenes  # recallable at once
    assert r.server.counts["bad_name"] == 6


def test_a_show_without_a_patch_saves_only_under_a_name(rig, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    r = rig(patch=None)

    async def client() -> None:
        async with aiohttp.ClientSession() as session, session.ws_connect(r.url("/ws")) as ws:
            await until(ws, "hello")
            await ws.send_json({"type": "save"})
            assert "save it under a name" in (await until(ws, "error"))["message"]
            await ws.send_json({"type": "save", "name": "first"})
            assert (await until(ws, "saved"))["path"] == str(Path("patches") / "first.toml")

    run(client())
    assert load_patch(tmp_path / "patches" / "first.toml").model == "tiny"


def test_learn_maps_the_next_midi_control_or_osc_address(rig) -> None:
    r = rig()

    async def client() -> None:
        async with aiohttp.ClientSession() as session, session.ws_connect(r.url("/ws")) as ws:
            await until(ws, "hello")
            await ws.send_json({"type": "learn", "target": "speed"})
            assert (await until(ws, "learning"))["target"] == "speed"
            r.server.midi_seen(mido.Message("control_change", control=21, value=3, channel=1))
            learned = await until(ws, "learned")
            assert learned["mapping"]["source"] == "CC 21 ch 2"
            assert 'to = "speed"' in learned["mapping"]["toml"]
            await ws.send_json({"type": "learn", "target": "dir", "index": 2})
            await until(ws, "learning")
            SimpleUDPClient("127.0.0.1", r.osc.port).send_message("/touch/fader3", 1.0)
            assert (await until(ws, "learned"))["mapping"]["to"] == "dir[2]"
            await ws.send_json({"type": "learn", "target": "seed", "value": 7})
            await ws.send_json({"type": "learn", "cancel": True})
            assert (await until(ws, "learning", lambda m: m["target"] is None))

    run(client())
    r.inputs.router.midi(mido.Message("control_change", control=21, value=127, channel=1))
    assert r.controls.param("speed") == 1.0  # the learned knob plays: 0..1
    SimpleUDPClient("127.0.0.1", r.osc.port).send_message("/touch/fader3", 1.0)
    wait_handled(r.osc, 2)
    assert r.controls.values()[2][2] == 3.0  # the learned fader moves direction 2: -3..3
    assert len(r.inputs.router.patch.maps) == 3


def test_the_preview_is_a_small_jpeg_encoded_at_most_five_times_a_second(rig) -> None:
    r = rig()
    assert run(get(r.url("/ui/preview.jpg")))[0] == 503  # no frame yet
    r.server.shown(np.zeros((300, 600, 3), np.uint8))

    async def client() -> list[bytes]:
        return [(await get(r.url("/ui/preview.jpg")))[2] for _ in range(5)]

    bodies = run(client())
    assert Image.open(io.BytesIO(bodies[0])).size == (256, 128)
    assert r.server.preview.encoded == 1 and len(set(bodies)) == 1


def test_thumbnails_of_models_and_of_nearby_seeds(rig) -> None:
    r = rig()

    async def client() -> None:
        status, kind, body = await get(r.url("/ui/thumbs/tiny.jpg"))
        assert (status, kind) == (200, "image/jpeg")
        assert Image.open(io.BytesIO(body)).size == (96, 96)
        assert (await get(r.url("/ui/thumbs/other.jpg")))[0] == 404
        status, _, body = await get(r.url("/ui/explore.json?seed=5&count=3&step=2"))
        items = json.loads(body)["items"]
        assert items == [{"seed": s, "thumb": f"/ui/explore/{s}.jpg"} for s in (5, 7, 9)]
        status, kind, body = await get(r.url("/ui/explore/7.jpg"))
        assert (status, kind) == (200, "image/jpeg")
        for bad in ("seed=x", "count=1000", "seed=-1", "step=99999999"):
            assert (await get(r.url(f"/ui/explore.json?{bad}")))[0] == 400

    run(client())
    assert ("tiny", 0) in r.thumbs_asked and (None, 7) in r.thumbs_asked
    assert wait_for(lambda: {(None, 5), (None, 9)} <= set(r.thumbs_asked))


def test_the_page_on_its_own_port_leaves_oscquery_alone(rig) -> None:
    r = rig(web=WebConfig(port=0))
    assert r.server.page_port != r.server.port

    async def client() -> None:
        assert (await get(f"http://127.0.0.1:{r.server.port}/ui/"))[0] == 404  # OSC address
        assert (await get(r.url("/ui/")))[0] == 200
        status, _, body = await get(r.url("/livegan/speed"))
        assert status == 404 and b"/ui/" in body
        status, _, body = await get(f"http://127.0.0.1:{r.server.port}/livegan/speed?VALUE")
        assert json.loads(body) == {"VALUE": [0.1]}

    run(client())
    assert not math.isnan(r.controls.param("speed"))
