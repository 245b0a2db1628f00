"""Control page settings: one frozen config read from the command line."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WebConfig:
    """Where the control page is served and who may use it (the perform flags set it)."""

    page: bool = True  # serve the control page at /ui/ (--no-web: OSCQuery alone)
    host: str | None = None  # address the page listens on (None: the OSC host); not loopback:
    # other machines may open it, and each must pair with the code the show prints
    port: int | None = None  # the page's own TCP port (None: the OSCQuery port, one server)
    open: bool = False  # open the page in the default browser at start (--open)
