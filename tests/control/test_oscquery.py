"""OSCQuery over a real HTTP server: the namespace, live values, HOST_INFO, refusals, mDNS."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import sys
import time

import pytest
from oscwait import wait_handled
from pythonosc.udp_client import SimpleUDPClient

from livegan.control.controls import Controls
from livegan.control.inputs import ShowInputs
from livegan.control.osc.namespace import OscNamespace
from livegan.control.osc.server import OscServer
from livegan.control.oscquery.mdns import advertise
from livegan.control.web.server import WebServer
from livegan.errors import LiveganError
from livegan.patchfile.load import parse_patch

WAIT = 5.0  # loopback delivery bound; each wait ends as soon as the condition holds
PATCH = """
[[map]]
osc = "/fader"
to = "truncation"
range = [0.2, 1.2]

[scenes.calm]
speed = 0.02

[scenes.wild]
speed = 2.0
"""


class Rig:
    """ShowInputs behind a real OSC server and a real OSCQuery server (the show's web server
    without its page), both on port 0."""

    def __init__(self, allow: list[str] | None = None) -> None:
        self.controls = Controls(z_dim=6, n_dirs=4)
        namespace = OscNamespace(self.controls, ["pc0", "pc1", "warm", "calm"])
        self.inputs = ShowInputs(self.controls, namespace, parse_patch(PATCH, "t.toml"))
        self.osc = OscServer(self.inputs.dispatcher, port=0).start()
        self.http = WebServer(self.inputs.oscquery, "127.0.0.1", 0, lambda: self.osc.port,
                              allow).start()

    def get(self, target: str, method: str = "GET", body: bytes | None = None,
            ) -> tuple[int, object | None]:
        conn = http.client.HTTPConnection("127.0.0.1", self.http.port, timeout=WAIT)
        try:
            conn.request(method, target, body=body)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        return response.status, json.loads(data) if data else None

    def close(self) -> None:
        self.http.stop()
        self.osc.stop()


@pytest.fixture
def rig():
    made: list[Rig] = []

    def make(**kwargs) -> Rig:
        made.append(Rig(**kwargs))
        return made[-1]

    yield make
    for r in made:
        r.close()


def test_the_whole_namespace_is_one_json_tree(rig) -> None:
    r = rig()
    status, root = r.get("/")
    assert status == 200 and root["FULL_PATH"] == "/"
    livegan = root["CONTENTS"]["livegan"]
    assert livegan["FULL_PATH"] == "/livegan"
    assert {"speed", "truncation", "dir", "z", "scene", "seed", "mode"} <= set(livegan["CONTENTS"])
    assert set(livegan["CONTENTS"]["dir"]["CONTENTS"]) == {"0", "1", "2", "3"}  # this model's
    assert set(livegan["CONTENTS"]["z"]["CONTENTS"]) == {str(k) for k in range(6)}
    assert root["CONTENTS"]["wek"]["CONTENTS"]["outputs"]["TYPE"] == "ffff"
    assert root["CONTENTS"]["fader"]["DESCRIPTION"].startswith("patch: /fader -> truncation")


def test_a_method_has_type_range_access_value_and_description(rig) -> None:
    r = rig()
    status, node = r.get("/livegan/truncation")
    assert status == 200
    assert node == {"FULL_PATH": "/livegan/truncation", "TYPE": "f", "ACCESS": 3,
                    "VALUE": [1.0], "RANGE": [{"MIN": 0.0, "MAX": 2.0}], "CLIPMODE": ["both"],
                    "DESCRIPTION": node["DESCRIPTION"]}
    assert "truncation" in node["DESCRIPTION"]
    assert r.get("/livegan/scene")[1]["RANGE"] == [{"VALS": ["calm", "wild"]}]
    assert r.get("/livegan/mode")[1]["RANGE"] == [{"VALS": ["walk", "keys", "hold"]}]
    assert "(warm;" in r.get("/livegan/dir/2")[1]["DESCRIPTION"]
    assert r.get("/livegan/snapshot")[1]["TYPE"] == "N"
    assert r.get("/livegan/seed/")[1]["FULL_PATH"] == "/livegan/seed"  # a trailing slash


def test_values_follow_the_live_controls(rig) -> None:
    r = rig()
    client = SimpleUDPClient("127.0.0.1", r.osc.port)
    client.send_message("/livegan/speed", 0.7)
    client.send_message("/livegan/dir/warm", -1.5)
    client.send_message("/fader", 1.0)  # the patch maps it onto truncation 0.2..1.2
    wait_handled(r.osc, 3)
    assert r.get("/livegan/speed?VALUE") == (200, {"VALUE": [pytest.approx(0.7)]})
    assert r.get("/livegan/dir/2?VALUE") == (200, {"VALUE": [-1.5]})
    assert r.get("/livegan/truncation?VALUE") == (200, {"VALUE": [pytest.approx(1.2)]})
    assert r.get("/livegan/dirs?VALUE")[1] == {"VALUE": [0.0, 0.0, -1.5, 0.0]}
    assert r.get("/livegan/truncation?RANGE") == (200, {"RANGE": [{"MIN": 0.0, "MAX": 2.0}]})


def test_bends_are_listed_per_layer_and_op_with_their_amounts(rig) -> None:
    r = rig()
    r.inputs.set_bend_layers(["4", "8", "16"])  # what the show does for the playing model
    bend = r.get("/livegan/bend")[1]["CONTENTS"]
    assert set(bend) == {"4", "8", "16", "off"}  # this model's layers, not the directions
    assert set(bend["8"]["CONTENTS"]) == {"translate", "rotate", "scale", "flip", "erode",
                                          "dilate", "invert", "ablate", "noise"}
    client = SimpleUDPClient("127.0.0.1", r.osc.port)
    client.send_message("/livegan/bend/8/rotate", 90.0)
    wait_handled(r.osc, 1)
    status, node = r.get("/livegan/bend/8/rotate")
    assert status == 200 and node["VALUE"] == [90.0] and node["TYPE"] == "f"
    assert node["RANGE"] == [{"MIN": -180.0, "MAX": 180.0}]
    assert r.get("/livegan/bend/4/translate?VALUE") == (200, {"VALUE": [0.0, 0.0]})
    assert r.get("/livegan/bend/4/translate?TYPE") == (200, {"TYPE": "ff"})
    assert r.get("/livegan/bend/32/rotate")[0] == 404  # a layer this model lacks


def test_host_info_says_where_to_send_osc(rig) -> None:
    r = rig()
    status, info = r.get("/?HOST_INFO")
    assert status == 200
    assert (info["NAME"], info["OSC_PORT"], info["OSC_TRANSPORT"], info["OSC_IP"]) == \
        ("livegan", r.osc.port, "UDP", "127.0.0.1")
    assert info["EXTENSIONS"]["VALUE"] and info["EXTENSIONS"]["RANGE"]
    assert info["EXTENSIONS"]["LISTEN"] is True  # over the WebSocket at /
    assert (info["WS_IP"], info["WS_PORT"]) == ("127.0.0.1", r.http.port)


@pytest.mark.parametrize("target, status", [
    ("/nope", 404),
    ("/livegan/speed/deeper", 404),
    ("/../../etc/passwd", 404),
    ("/%2e%2e/%2e%2e/etc/passwd", 404),
    ("/etc/passwd", 404),
    ("/livegan/speed?FOO", 400),
    ("/livegan/speed?LISTEN=speed", 400),
    ("/livegan/z?VALUE", 204),  # write-only: no value to give
    ("/livegan/a%00b", 400),
    ("/livegan/" + "x" * 3000, 414),
])
def test_bad_requests_are_answered_and_counted(rig, target: str, status: int) -> None:
    r = rig()
    got, body = r.get(target)
    assert got == status
    if status >= 400:
        assert isinstance(body["error"], str) and body["error"]
    refused = status >= 300  # 204: asked well, nothing to give
    counts = {key: r.http.counts[key] for key in ("refused", "served")}
    assert counts == {"refused": int(refused), "served": int(not refused)}


def test_only_get_without_a_body_is_served(rig) -> None:
    r = rig()
    assert r.get("/livegan/speed", method="POST", body=b"x")[0] == 405
    assert r.get("/livegan/speed", method="GET", body=b"x" * 100)[0] == 413
    with socket.create_connection(("127.0.0.1", r.http.port), timeout=WAIT) as sock:
        sock.sendall(b"\x16\x03\x01 garbage that is not http\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.0 400")
    deadline = time.monotonic() + WAIT  # the server counts what it could not parse once
    while r.http.counts["refused"] < 3 and time.monotonic() < deadline:  # it has answered
        time.sleep(0.01)
    assert r.http.counts["refused"] == 3
    assert r.get("/livegan/speed")[0] == 200  # the server goes on


def test_the_osc_allow_list_guards_oscquery_too(rig) -> None:
    r = rig(allow=["192.168.7.0/24"])
    assert r.get("/livegan/speed")[0] == 403


def test_a_taken_port_is_one_clear_sentence(rig) -> None:
    r = rig()
    with pytest.raises(LiveganError, match=r"^cannot serve OSCQuery on 127\.0\.0\.1:\d+: "):
        WebServer(r.inputs.oscquery, "127.0.0.1", r.http.port, lambda: 1).start()


def test_without_zeroconf_one_line_names_the_extra(monkeypatch, caplog) -> None:
    monkeypatch.setitem(sys.modules, "zeroconf", None)
    with caplog.at_level(logging.INFO, logger="livegan.control.oscquery.mdns"):
        assert advertise("livegan test", "127.0.0.1", 12001) is None
    assert [r.getMessage() for r in caplog.records] == [
        ("OSCQuery is not announced over mDNS (clients connect by address): "
         "pip install 'livegan[oscquery]'")]


def test_a_zeroconf_browser_finds_the_server_and_reads_it(rig) -> None:
    zeroconf = pytest.importorskip("zeroconf", reason="mDNS: pip install 'livegan[oscquery]'")
    r = rig()
    name = f"livegan test {r.http.port}"
    advert = advertise(name, "127.0.0.1", r.http.port)
    browser_zc = zeroconf.Zeroconf(interfaces=["127.0.0.1"])
    found: list[str] = []

    class Listener:
        def add_service(self, zc, kind, service) -> None:
            found.append(service)

        def update_service(self, zc, kind, service) -> None:
            pass

        def remove_service(self, zc, kind, service) -> None:
            pass

    try:
        zeroconf.ServiceBrowser(browser_zc, "_oscjson._tcp.local.", Listener())
        deadline = time.monotonic() + 15.0
        ours = f"{name}._oscjson._tcp.local."
        while ours not in found and time.monotonic() < deadline:
            time.sleep(0.05)
        if ours not in found:
            pytest.skip("no mDNS answer on loopback here (multicast off)")
        info = browser_zc.get_service_info("_oscjson._tcp.local.", ours, timeout=5000)
        assert info is not None and info.port == r.http.port
        assert info.parsed_addresses() == ["127.0.0.1"]
        conn = http.client.HTTPConnection(info.parsed_addresses()[0], info.port, timeout=WAIT)
        conn.request("GET", "/?HOST_INFO")
        assert json.loads(conn.getresponse().read())["OSC_PORT"] == r.osc.port
        conn.close()
    finally:
        browser_zc.close()
        advert.close()


def test_a_slow_client_does_not_hold_up_the_others(rig) -> None:
    """A client dribbling its request a byte at a time: a second client's request is
    answered meanwhile, at once (clients are served concurrently)."""
    r = rig()
    slow = socket.create_connection(("127.0.0.1", r.http.port), timeout=WAIT)
    try:
        for byte in b"GET /livegan/speed HTTP/1.1\r\n":
            slow.sendall(bytes([byte]))
            if byte == ord(" "):
                start = time.perf_counter()
                status, node = r.get("/livegan/speed")
                assert status == 200 and node["FULL_PATH"] == "/livegan/speed"
                assert time.perf_counter() - start < 2.0
            time.sleep(0.02)
    finally:
        slow.close()


def test_a_client_that_hangs_up_early_leaves_no_traceback(rig, caplog) -> None:
    r = rig()
    caplog.set_level(logging.DEBUG)
    for _ in range(20):
        with socket.create_connection(("127.0.0.1", r.http.port), timeout=WAIT) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        # closed with a reset before the answer is read
    status, _ = r.get("/livegan/speed")
    assert status == 200
    assert "Traceback" not in caplog.text and "BrokenPipeError" not in caplog.text
