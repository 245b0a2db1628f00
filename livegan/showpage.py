"""A live show's control page: the page server's hooks into the show's inputs, patch, models
and generator (thumbnails), and the lines that tell the performer where the page is."""

from __future__ import annotations

import functools
import logging
import socket
import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from livegan.control.controls import Controls
from livegan.control.inputs import ShowInputs
from livegan.control.osc.config import OscConfig
from livegan.control.oscquery.mdns import Advert, advertise
from livegan.control.web.config import WebConfig
from livegan.control.web.hooks import ShowHooks
from livegan.control.web.server import WebServer
from livegan.engine import Engine
from livegan.engine.base import to_frame
from livegan.errors import LiveganError
from livegan.latent import seed_latent
from livegan.library import open_model
from livegan.modelfile import ModelInfo, list_models
from livegan.patchfile.load import PatchConfig, parse_patch

log = logging.getLogger(__name__)


def thumbnail(generator: torch.nn.Module, z_dim: int, n_labels: int, seed: int) -> np.ndarray:
    """One frame of `generator` for `seed`, eager fp32 on the CPU with one torch thread for
    the call (the render thread keeps the cores): uint8 [H, W, 3]."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # this thread's OpenMP pool only; restored below
    try:
        z = torch.from_numpy(seed_latent(seed, z_dim))[None]  # [1, Z]
        labels = torch.zeros(1, dtype=torch.long) if n_labels else None
        with torch.inference_mode():
            return to_frame(generator(z, labels)).numpy()  # [H, W, 3]
    finally:
        torch.set_num_threads(threads)


class Thumbnails:
    """`render_thumb` for the page: the playing model's own generator for its seeds, any
    other model of the model folders loaded for the one frame (its JPEG is cached)."""

    def __init__(self, engine: Callable[[], Engine]) -> None:
        self.engine = engine

    def __call__(self, model: str | None, seed: int) -> np.ndarray:
        engine = self.engine()
        if model is None or model == engine.info.name:
            n_labels = int(engine.info.config.get("n_labels", 0))
            return thumbnail(engine.model.generator, engine.z_dim, n_labels, seed)
        loaded = open_model(model, allow_paths=False)
        n_labels = int(loaded.info.config.get("n_labels", 0))
        return thumbnail(loaded.generator, loaded.info.z_dim, n_labels, seed)


def installed_models() -> list[dict[str, Any]]:
    """The usable models of the model folders, for the page's model picker."""
    return [{"name": m.name, "resolution": m.resolution, "arch": m.arch}
            for m in list_models() if isinstance(m, ModelInfo)]


def page_server(osc: OscConfig, web: WebConfig, inputs: ShowInputs, controls: Controls,
                engine: Callable[[], Engine], patch: PatchConfig | None, model: str,
                osc_port: Callable[[], int]) -> WebServer | None:
    """The show's web server: OSCQuery and the page as the configs say (None: neither)."""
    if not osc.oscquery and not web.page:
        return None
    text = ""
    if patch is not None and patch.path is not None:
        try:
            text = patch.path.read_text(encoding="utf-8")
        except OSError:  # gone since it was read: save-as still works
            text = ""
    as_path = "/" in model or "\\" in model or model.endswith(".safetensors")
    hooks = ShowHooks(
        dispatcher=inputs.dispatcher, version=lambda: controls.version,
        models=installed_models, model_name=lambda: engine().info.name,
        render_thumb=Thumbnails(engine), patch=lambda: inputs.patch,
        apply_patch=lambda new: controls.push_app("patch", new), check_patch=parse_patch,
        patch_text=text, patch_path=patch.path if patch is not None and text else None,
        patch_model=str(Path(model).resolve()) if as_path else model)
    allow = None if osc.allow is None else list(osc.allow)
    return WebServer(inputs.oscquery, osc.host, osc.query_port, osc_port, allow,
                     oscquery=osc.oscquery, web=web, hooks=hooks)


def start_page(server: WebServer, osc_host: str, osc_port: int,
               open_page: bool) -> tuple[WebServer | None, Advert | None]:
    """Start the web server, announce OSCQuery over mDNS and say where the page is; a
    port in use costs one line and the show goes on without them: (server or None, advert)."""
    try:
        server.start()
    except LiveganError as exc:
        log.warning("%s; the show goes on without OSCQuery and the control page "
                    "(--oscquery-port or --web-port picks another)", exc)
        return None, None
    advert = None
    if server.oscquery:
        log.info("OSCQuery on http://%s:%d/ (OSC on port %d)", osc_host, server.port, osc_port)
        advert = advertise(f"livegan {osc_port}", osc_host, server.port)
    announce(server, open_page)
    return server, advert


def announce(server: WebServer, open_page: bool) -> None:
    """Say where the page is (and the pairing code), and open it when asked."""
    url = server.page_url
    if url is None:
        return
    if server.pairs:
        log.info("control page: %s  pairing code %s (other devices: http://%s:%d/ui/)",
                 url, server.pairing.code, network_address(server.page_host),
                 server.page_port)
    else:
        log.info("control page: %s", url)
    if open_page:
        threading.Thread(target=webbrowser.open, args=(url,), name="livegan-browser",
                         daemon=True).start()


def hud_line(server: WebServer | None) -> list[str]:
    """The HUD's line for devices on the network: where to point them, and the code."""
    if server is None or not server.pairs or server.page_port is None:
        return []
    address = f"http://{network_address(server.page_host)}:{server.page_port}/ui/"
    return [f"page {address}  code {server.pairing.code}"]


@functools.lru_cache(maxsize=8)
def network_address(host: str) -> str:
    """The address other devices reach this machine at (`host` when it is one)."""
    if host not in ("0.0.0.0", "::", ""):
        return host
    try:  # the interface that routes outwards (nothing is sent)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))
            return probe.getsockname()[0]
    except OSError:
        return socket.gethostname()
