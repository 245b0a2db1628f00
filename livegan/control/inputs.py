"""A show's inputs: the OSC routes (namespace, patch, query), MIDI, sound and keys."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from livegan.control.audio.input import SoundInput
from livegan.control.controls import PARAMS, Controls
from livegan.control.midi.ports import MidiFilePlayer, MidiInputs
from livegan.control.osc.dispatch import Dispatcher, RouteTable
from livegan.control.osc.namespace import NAMESPACE, OscNamespace
from livegan.control.osc.query import Entry, QueryResponder
from livegan.control.oscquery.tree import Live
from livegan.control.patch.audio import AudioRoutes
from livegan.control.patch.config import PatchControls
from livegan.control.patch.router import Router
from livegan.control.tempo.clock import BeatClock
from livegan.control.tempo.link import open_link
from livegan.control.tempo.quantize import Quantizer

log = logging.getLogger(__name__)


def namespace_entries(patch: PatchControls | None = None,
                      layers: Sequence[str] = ()) -> list[Entry]:
    """The OSC namespace with parameter ranges and the model's bend layers, then the
    patch's own addresses."""
    entries: list[Entry] = []
    for address, (types, what) in NAMESPACE.items():
        name = address.rsplit("/", 1)[-1]
        if name in PARAMS and f"{PARAMS[name][1]:g}..{PARAMS[name][2]:g}" not in what:
            what = f"{what} ({PARAMS[name][1]:g}..{PARAMS[name][2]:g})"
        if name == "{op}" and layers:
            what = f"{what}; layers {', '.join(layers)}"
        entries.append((address, types, what))
    for m in patch.maps if patch is not None else ():
        if m.source.kind == "osc":
            types = "f…" if m.target.is_vector else "f"
            entries.append((m.source.address, types, "patch: " + m.describe()))
    return entries


def describe_patch(patch: PatchControls) -> list[str]:
    """Lines for `livegan osc PATCH`: every mapping (MIDI and keys too) and the scenes."""
    lines = [f"  {m.describe()}" + (f"   [line {m.line}]" if m.line else "")
             for m in patch.maps]
    for scene in patch.scenes.values():
        values = dict(scene.params)
        values.update({k: getattr(scene, k) for k in ("mode", "seed", "key", "label", "glide")
                       if getattr(scene, k) is not None})
        if scene.dirs is not None:
            values["dirs"] = list(scene.dirs)
        values.update({f"dir[{k}]": v for k, v in scene.dir.items()})
        values.update({f"bend[{k}]": list(v) for k, v in scene.bend.items()})
        shown = ", ".join(f"{k} {v}" for k, v in values.items())
        lines.append(f"  scene {scene.name}: {shown}")
    return lines


class ShowInputs:
    """Ties a patch to a show: router, MIDI inputs, a MIDI file and keys; `set_patch` plays
    an edited patch (the show watches the file).

    Pure control code (no torch, no pygame). The show calls `start()`, then `tick()`
    once a frame on the main thread, `key(name)` for key presses, `stop()` at the end,
    and registers `app_handlers()` for events queued by the default namespace.

    Args:
        controls: the show's control state.
        namespace: the show's default OSC routes; the patch's routes go in front of them.
        patch: the patch (PatchControls() when performing without one).
        labels: returns the playing model's class labels.
        midi: port name substrings; when given they replace the patch's [midi] input.
        midi_file: a MIDI file to play as input (replaces the patch's).
        midi_loop: loop the MIDI file.
        audio: sound card name or index ("" for the default input); None: no sound card.
        audio_file: a sound file played as input instead (WAV; FLAC with soundfile).
        audio_loop: loop the sound file.
        link: join an Ableton Link session (also when the patch's [tempo] link is on).
    """

    def __init__(self, controls: Controls, namespace: OscNamespace, patch: PatchControls, *,
                 labels: Callable[[], list[str]] = list, midi: Sequence[str] = (),
                 midi_file: str | None = None, midi_loop: bool = False,
                 audio: str | None = None, audio_file: str | None = None,
                 audio_loop: bool = False, link: bool = False) -> None:
        self.controls = controls
        self.namespace = namespace
        self.patch = patch
        self.labels = labels
        self.quantizer = Quantizer()  # scene, seed and key changes waiting for a beat or bar
        self.router = Router(controls, patch, labels=labels,
                             direction_names=lambda: namespace.direction_names,
                             quantizer=self.quantizer)
        self.entries = namespace_entries(patch)  # /livegan/query and OSCQuery answer with it
        self.query = QueryResponder(self.entries)
        self.dispatcher = Dispatcher(self._table())
        """The OscServer handler: the default namespace with the patch's routes in front."""
        self._midi_override = tuple(midi)
        self.midi = MidiInputs(self._midi_override or patch.midi.input,
                               virtual=patch.midi.virtual, on_tempo=self._tempo)
        file = midi_file or patch.midi.file
        self.player = MidiFilePlayer(file, self.midi.feed, loop=midi_loop or patch.midi.loop,
                                     on_tempo=self._tempo) if file else None
        self.link = link or patch.tempo.link
        self.beats = BeatClock(controls, per_bar=patch.tempo.beats_per_bar,
                               midi=self.midi.tempo if patch.midi.clock else None)
        self.audio_routes = AudioRoutes(self.router)  # applied on the analysis thread
        self.sound = SoundInput(audio, audio_file, loop=audio_loop,
                                on_values=self.audio_routes.apply) \
            if audio is not None or audio_file else None
        self.on_midi: Callable[[object], None] | None = None
        """Sees each MIDI message before the router does (the control page's learn)."""

    def start(self) -> None:
        """Open MIDI ports, start the MIDI file (MidiError if the file is unreadable) and the
        sound input (AudioError if the sound file is unreadable; no sound card: one line), and
        join Link (not installed: one line)."""
        if self.link:
            self.beats.link = open_link(self.controls.param("tempo"))
        self.midi.start()
        if self.player is not None:
            self.player.start()
        if self.sound is not None:
            self.sound.start()

    def tick(self) -> None:
        """Once a frame, main thread: apply MIDI, advance glides and the beat, and apply the
        changes held for the beat or bar that began."""
        for msg in self.midi.drain():
            if self.on_midi is not None:
                self.on_midi(msg)
            self.router.midi(msg)
        beat, bar = self.beats.tick()  # first: a Link tempo moves speed in beats this frame
        self.router.tick()
        self.quantizer.run(beat, bar)

    def hud_lines(self) -> list[str]:
        """The tempo and beat, and what waits for them."""
        held = ", ".join(f"{kind} on the {unit}" for kind, unit in self.quantizer.held().items())
        return [self.beats.describe() + (f"  waiting: {held}" if held else "")]

    def key(self, name: str) -> bool:
        """A key press from the window; True when a mapping used it."""
        return self.router.key(name)

    def oscquery(self) -> tuple[list[Entry], Live]:
        """The namespace and its values now, for OSCQuery (called on its HTTP thread)."""
        params, mode, dirs, label = self.controls.values()
        beat_speed = self.router.targets.beat_speed
        if beat_speed is not None:
            params["speed"] = beat_speed  # /livegan/speed is per beat then
        return self.entries, Live(
            params=params, mode=mode, dirs=dirs, label=label, z_dim=self.controls.z_dim,
            direction_names=list(self.namespace.direction_names),
            scenes=list(self.router.patch.scenes), scene=self.router.scene,
            labels=list(self.labels()), bend_layers=list(self.controls.bends.layers),
            bends=dict(self.controls.bends.current()))

    def set_bend_layers(self, layers: Sequence[str]) -> None:
        """The playing model's bend layers (start, hot-swap): OSC and the query follow."""
        self.controls.bends.set_layers(layers)
        self.entries = namespace_entries(self.patch, layers)
        self.query.set_entries(self.entries)

    def app_handlers(self) -> dict[str, Callable[..., None]]:
        """Handlers for the show's app events that this module owns."""
        return {
            "scene": lambda name: self.router.recall_scene(name),
            "label": lambda value: self.router.set_label(value),
        }

    def stop(self) -> None:
        """Close MIDI ports, the MIDI file, the sound input, Link and the query socket."""
        if self.player is not None:
            self.player.stop()
        if self.sound is not None:
            self.sound.stop()
        self.midi.stop()
        self.beats.close()
        self.query.close()

    def _table(self) -> RouteTable:
        """The routes: the namespace's defaults and the query answer, the patch's in front."""
        defaults = self.namespace.table().over({"/livegan/query": self.query.route})
        return self.router.table(defaults)

    def _tempo(self, bpm: float) -> None:
        if self.patch.midi.clock and self.beats.link is None:  # Link's tempo leads when on
            self.controls.set_param("tempo", bpm)

    def set_patch(self, patch: PatchControls) -> None:
        """Play `patch` from now on (main thread): an edited file, or mappings and scenes
        made on the control page; what needs a restart says so in one line."""
        old, self.patch = self.patch, patch
        self.router.set_patch(patch)
        self.entries = namespace_entries(patch, self.controls.bends.layers)
        self.query.set_entries(self.entries)
        self.dispatcher.table = self._table()
        if not self._midi_override and patch.midi.input != old.midi.input:
            self.midi.set_wanted(patch.midi.input)
        self.beats.per_bar = patch.tempo.beats_per_bar
        self.beats.midi = self.midi.tempo if patch.midi.clock else None
        later = patch.needs_restart(old)
        if later:
            log.warning("patch changes to %s take effect when the show restarts",
                        ", ".join(later))
