"""OSC settings: one frozen config read from a patch's [osc] and the command line."""

from __future__ import annotations

from dataclasses import dataclass

from livegan.control.osc.server import DEFAULT_HOST, DEFAULT_PORT


@dataclass(frozen=True)
class OscConfig:
    """Where OSC listens and who may steer; a patch's [osc], overridden by the flags."""

    port: int = DEFAULT_PORT  # UDP port (Wekinator's default output port; 0 picks a free one)
    host: str = DEFAULT_HOST  # address to listen on (loopback unless the performer opens it up)
    allow: tuple[str, ...] | None = None  # sender addresses or networks accepted (None: any)
    feedback: str = ""  # HOST:PORT that receives telemetry ("" = none)
