"""The one exception hierarchy: the CLI turns these into one sentence and exit code 2."""


class LiveganError(Exception):
    """Base of every error livegan reports to a user."""


class ModelFileError(LiveganError):
    """A model file is missing, truncated, of an unknown arch or of mismatched shapes."""


class PatchError(LiveganError):
    """A patch file cannot be read or does not validate."""


class DatasetError(LiveganError):
    """An image folder is empty, unreadable or otherwise unusable for training."""


class BackendError(LiveganError):
    """An engine backend is unavailable or failed to build."""


class DisplayError(LiveganError):
    """No window can be opened (no display, bad display index)."""


class MidiError(LiveganError):
    """A MIDI port cannot be opened or found."""


class OutputError(LiveganError):
    """A recording, snapshot or video output cannot be written or started."""


class ExtraMissingError(LiveganError):
    """An optional extra is not installed; the message names its pip command."""


class AudioError(LiveganError):
    """A sound file cannot be read, or a sound input cannot be opened."""
