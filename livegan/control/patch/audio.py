"""Audio-source mappings (`[[map]] audio = "bass"`): the newest sound analysis applied to
the router as it comes, with the same range, curve, smoothing and presses as other sources."""

from __future__ import annotations

from livegan.control.audio.features import AudioValues
from livegan.control.patch.mapping import Mapping
from livegan.control.patch.router import Router

TICKS = {"onset": "onsets", "beat": "beats"}  # features that also count events
COUNTED_PRESSES = ("trigger", "toggle")  # fire once per onset or beat


class AudioRoutes:
    """Applies a router's audio mappings from the newest AudioValues (the analysis thread;
    the router's lock keeps it apart from OSC, MIDI and the main thread's glides).

    A continuous mapping follows its feature through the mapping's in/range/curve and
    smoothing, written only when the feature changed (in silence other inputs keep the
    target). A trigger or toggle on "onset" or "beat" fires once per onset or beat; other
    press modes act like a button pressed while the feature is above half its input range.

    Args:
        router: the patch router; its patch may change (live reload) between calls.
    """

    def __init__(self, router: Router) -> None:
        self.router = router
        self._maps: tuple[Mapping, ...] | None = None
        self._audio: list[int] = []  # indices of the audio mappings
        self._last: dict[int, float] = {}  # mapping -> the feature value applied last
        self._ticks: dict[int, int] = {}  # mapping -> onsets or beats counted so far

    def apply(self, values: AudioValues | None) -> None:
        """Apply `values` (None: no sound input, nothing to do)."""
        if values is None:
            return
        router = self.router
        with router.lock:
            if router.maps is not self._maps:
                self._reset(router.maps, values if self._maps is not None else None)
            for i in self._audio:
                self._apply_one(i, router.maps[i], values)

    def _reset(self, maps: tuple[Mapping, ...], values: AudioValues | None) -> None:
        """A new patch: onsets and beats before it do not fire its presses."""
        self._maps = maps
        self._audio = [i for i, m in enumerate(maps) if m.source.kind == "audio"]
        self._last = {}
        self._ticks = {i: int(getattr(values, TICKS[maps[i].source.feature])) if values
                       else 0 for i in self._audio if maps[i].source.feature in TICKS}

    def _apply_one(self, i: int, m: Mapping, values: AudioValues) -> None:
        player, feature = self.router.player, m.source.feature
        if m.press_mode in COUNTED_PRESSES and feature in TICKS:
            count = int(getattr(values, TICKS[feature]))
            if count > self._ticks.get(i, 0):
                player.press(i, 1.0, True)
                player.press(i, 0.0, False)
            self._ticks[i] = count
            return
        x = values.feature(feature)
        if self._last.get(i) == x or (feature == "tempo" and x <= 0):  # 0: no tempo yet
            return
        self._last[i] = x
        if m.press_mode is None:
            player.continuous(i, x)
        elif (on := player.is_on(m, x)) != player.pressed(i):
            player.press(i, x, on)
