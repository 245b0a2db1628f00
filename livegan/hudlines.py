"""The HUD's lines of a running show, gathered from its parts (one place for their wording)."""

from __future__ import annotations

from typing import Any

from livegan.showpage import hud_line

Performance = Any  # livegan.perform.Performance (not imported: perform imports this module)


def hud_lines(show: Performance) -> list[str]:
    """What the HUD shows of a running show: fps, model, backend, OSC in and dropped, the
    last message, mode and errors, bends, sound, the inputs' and outputs' lines, the
    control page's address."""
    stats = show.osc.stats()
    last = show.osc.last_message
    args = " ".join(f"{a:.3g}" if isinstance(a, float) else _hud_text(a, 16)
                    for a in last[1][:6]) if last else ""
    return [
        f"{show.fps:4.0f} fps   {show.engine.info.name} ({show.engine.resolution}px"
        + (f", {show.engine.canvas.describe()})" if show.engine.canvas else ")"),
        f"{show.engine.backend.describe()}",
        f"OSC {show.cfg.osc.host}:{show.osc.port}  in {stats['received']}  dropped "
        + str(show.dropped()),
        f"last {_hud_text(last[0], 48)} {args}" if last else "last -",
        f"mode {show.controls.mode}  render errors {show.stage.errors}",
        *_bend_hud(show),
        *_sound_hud(show),
        *show.inputs.hud_lines(),
        *show.outputs.hud_lines(),
        *hud_line(show.web),
    ]


def _bend_hud(show: Performance) -> list[str]:
    """One HUD line of the bends that are on."""
    bends = show.controls.bends.current()
    on = " ".join(f"{layer}/{op} " + ",".join(f"{a:.3g}" for a in amounts)
                  for (layer, op), amounts in bends.items())
    return [_hud_text(f"bends {on}", 60)] if bends else []


def _sound_hud(show: Performance) -> list[str]:
    """One HUD line of the sound analysis, with sound in."""
    v = show.inputs.sound.values if show.inputs.sound is not None else None
    if v is None:
        return []
    tempo = f"{v.tempo:.0f} bpm" if v.tempo else "no tempo yet"
    return [(f"sound {v.level:.2f}  bands {v.bass:.2f} {v.mid:.2f} {v.high:.2f}  "
             f"onsets {v.onsets}  {tempo}")]


def _hud_text(value: object, limit: int) -> str:
    """Anything a sender put in a message, as short printable ASCII for the HUD font."""
    text = str(value)[: limit * 4].encode("ascii", "replace").decode()
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[: limit - 1] + "~"
