"""The control page's flags, the show's lines about it, and `livegan bench --web` in small."""

from __future__ import annotations

import json
import logging

import pytest

from livegan.bench import web as webbench
from livegan.cli import build_parser, main
from livegan.control.web.config import WebConfig
from livegan.control.web.server import WebServer
from livegan.patchfile.load import PatchConfig
from livegan.performconfig import perform_config
from livegan.showpage import announce, hud_line


def config(*args: str):
    return perform_config(PatchConfig(), vars(build_parser().parse_args(["perform", *args])))


def test_flags_turn_the_page_off_move_it_and_open_it() -> None:
    assert config().web == WebConfig(page=True, host=None, port=None, open=False)
    assert config("--no-web").web.page is False
    assert config("--no-web").osc.oscquery is True  # OSCQuery stays
    assert config("--web-port", "8080", "--web-host", "0.0.0.0", "--open").web == \
        WebConfig(page=True, host="0.0.0.0", port=8080, open=True)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["perform", "--web-port", "70000"])


def test_the_show_says_where_the_page_is_and_the_pairing_code(caplog, monkeypatch) -> None:
    local = WebServer(lambda: ([], None), "127.0.0.1", 0, lambda: 0, web=WebConfig()).start()
    try:
        with caplog.at_level(logging.INFO, logger="livegan.showpage"):
            announce(local, open_page=False)
        assert caplog.messages == [f"control page: http://127.0.0.1:{local.port}/ui/"]
        assert hud_line(local) == []  # this machine only: no code
    finally:
        local.stop()
    remote = WebServer(lambda: ([], None), "127.0.0.1", 0, lambda: 0,
                       web=WebConfig(host="0.0.0.0"))
    remote._ports["page"] = 8123  # as if bound, without opening a port to the network
    monkeypatch.setattr("livegan.showpage.network_address", lambda host: "192.168.1.20")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="livegan.showpage"):
        announce(remote, open_page=False)
    code = remote.pairing.code
    said = (f"control page: http://127.0.0.1:8123/ui/  pairing code {code} "
            "(other devices: http://192.168.1.20:8123/ui/)")
    assert caplog.messages == [said]
    assert hud_line(remote) == [f"page http://192.168.1.20:8123/ui/  code {code}"]


@pytest.mark.slow
@pytest.mark.usefixtures("dummy_video")
def test_the_web_bench_in_small(tmp_path, make_tiny_model, monkeypatch, capsys) -> None:
    model = make_tiny_model(tmp_path / "tiny.safetensors")
    for name, value in (("PHASE_S", 0.6), ("SETTLE_S", 0.1), ("ROUNDS", 1), ("TABS", 5),
                        ("WARMUP_S", 0.2), ("LATENCY_SAMPLES", 20), ("FLOOD_RATE", 1000.0)):
        monkeypatch.setattr(webbench, name, value)
    assert main(["bench", "--web", "--json", "--model", str(model), "--backend", "cpu"]) == 0
    result = json.loads(capsys.readouterr().out)
    text = webbench.format_web(result)
    assert "page slider -> frame p50" in text and "5 pages, one client flooding" in text
    assert result["slider_latency"]["samples"] >= 20 and result["alone_fps"] > 0
    assert result["clients"]["connect_failures"] == 0 and result["clients"]["probes"] >= 1
    assert result["server"]["flood"] > 0  # the flood was over the limit
