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
    oscquery: bool = True  # serve the namespace over OSCQuery (HTTP, on `host`)
    oscquery_port: int | None = None  # its TCP port (None: the OSC port + 1)

    @property
    def query_port(self) -> int:
        """The OSCQuery TCP port: `oscquery_port`, else the OSC port + 1 (0, a free one, when
        the OSC port is 0 or the last one)."""
        if self.oscquery_port is not None:
            return self.oscquery_port
        return self.port + 1 if 0 < self.port < 65535 else 0
