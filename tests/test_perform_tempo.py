"""A running show: OSCQuery served beside OSC, beats in the telemetry, a quantized scene."""

from __future__ import annotations

import http.client
import json
import logging
import socket

import pytest
from showdriver import Inbox, drive, until

from livegan.cli import build_parser
from livegan.control.osc.config import OscConfig
from livegan.control.osc.sender import OscSender
from livegan.patchfile.load import parse_patch
from livegan.perform import Performance
from livegan.performconfig import PerformConfig, perform_config
from livegan.show.outputs import OutputsConfig
from livegan.show.window import WindowConfig

PATCH = """
[tempo]
beats_per_bar = 2

[scenes.drop]
truncation = 0.4
glide = 0
quantize = "bar"
"""


def get(port: int, target: str) -> object:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", target)
        response = conn.getresponse()
        assert response.status == 200, (target, response.status)
        return json.loads(response.read())
    finally:
        conn.close()


def make_show(tmp_path, make_tiny_model, osc: OscConfig) -> Performance:
    model = make_tiny_model(tmp_path / "m.safetensors", arch="dcgan", name="tiny")
    return Performance(PerformConfig(model=str(model), backend="cpu", frames=100000, osc=osc,
                                     outputs=OutputsConfig(out_dir=str(tmp_path / "out")),
                                     window=WindowConfig(size=(64, 64)),
                                     patch=parse_patch(PATCH, tmp_path / "p.toml")))


@pytest.mark.usefixtures("dummy_video")
def test_a_show_serves_oscquery_and_reports_its_beats(tmp_path, make_tiny_model) -> None:
    inbox = Inbox()
    show = make_show(tmp_path, make_tiny_model, OscConfig(port=0, feedback=inbox.target))
    show.controls.set_param("tempo", 300.0)  # five beats a second, a bar every 0.4 s
    sender: list[OscSender] = []

    def script(show: Performance):
        yield
        assert show.oscquery is not None and show.oscquery.port > 0
        info = get(show.oscquery.port, "/?HOST_INFO")
        assert (info["OSC_PORT"], info["OSC_TRANSPORT"]) == (show.osc.port, "UDP")
        sender.append(OscSender("127.0.0.1", show.osc.port))
        sender[0].send("/livegan/scene", "drop")
        yield from until(lambda: show.inputs.router.scene == "drop")
        assert get(show.oscquery.port, "/livegan/truncation?VALUE") == {"VALUE": [0.4]}
        yield from until(lambda: len(inbox.args("/livegan/beat")) >= 3)

    try:
        drive(show, script, limit=60)
    finally:
        for s in sender:
            s.close()
        inbox.server.stop()
    beats = inbox.args("/livegan/beat")
    assert all(len(b) == 3 and 1 <= b[1] <= 2 and b[2] == pytest.approx(300.0) for b in beats)
    indices = [b[0] for b in beats]
    assert indices == sorted(indices) and len(set(indices)) == len(indices)
    assert show.inputs.quantizer.applied == 1


@pytest.mark.usefixtures("dummy_video")
def test_a_taken_oscquery_port_costs_one_line_not_the_show(tmp_path, make_tiny_model,
                                                            caplog) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        show = make_show(tmp_path, make_tiny_model,
                         OscConfig(port=0, oscquery_port=taken.getsockname()[1]))

        def script(show: Performance):
            for _ in range(3):
                yield

        with caplog.at_level(logging.WARNING, logger="livegan.perform"):
            assert drive(show, script, limit=60) >= 3
    assert show.oscquery is None
    assert any("the show goes on without OSCQuery" in r.getMessage() for r in caplog.records)


def test_flags_and_patch_keys_for_link_and_oscquery(tmp_path) -> None:
    def config(args: list[str], text: str = ""):
        flags = vars(build_parser().parse_args(["perform", *args]))
        return perform_config(parse_patch(text, tmp_path / "p.toml"), flags)

    default = config([])
    assert (default.osc.oscquery, default.osc.query_port, default.link) == (True, 12001, False)
    assert config(["--osc-port", "9000"]).osc.query_port == 9001
    assert config(["--osc-port", "0"]).osc.query_port == 0  # a free one beside a free one
    assert config(["--oscquery-port", "7000"]).osc.query_port == 7000
    assert config(["--no-oscquery"]).osc.oscquery is False
    assert config(["--link"]).link is True
    patched = config([], "[osc]\noscquery = false\noscquery_port = 7100\n[tempo]\nlink = true\n")
    assert (patched.osc.oscquery, patched.osc.query_port, patched.link) == (False, 7100, True)
    assert config(["--oscquery-port", "7200"], "[osc]\noscquery_port = 7100\n"
                  ).osc.query_port == 7200
