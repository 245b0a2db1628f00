"""OSC wire format: tolerant, bounded parsing of datagrams (explicit about drops) and encoding."""

from __future__ import annotations

import logging
import math
import numbers
import re
import struct
from collections.abc import Callable
from typing import Any

from pythonosc.osc_message_builder import OscMessageBuilder

log = logging.getLogger(__name__)

#: Deepest bundle nesting accepted; deeper bundles are dropped (reason "too_deep").
MAX_BUNDLE_DEPTH = 8

#: Why a piece of a datagram was dropped; the keys of the server's drop counters.
MALFORMED = "malformed"
NONFINITE = "nonfinite"
TOO_DEEP = "too_deep"

Message = tuple[str, tuple]

_BUNDLE_HEAD = b"#bundle\0"
_BUNDLE_PREFIX = 16  # "#bundle\0" + 8-byte timetag
IMMEDIATELY = (1).to_bytes(8, "big")  # the timetag that means "now"
_INT32 = struct.Struct(">i")
_UINT32 = struct.Struct(">I")
_INT64 = struct.Struct(">q")
_UINT64 = struct.Struct(">Q")
_FLOAT32 = struct.Struct(">f")
_FLOAT64 = struct.Struct(">d")
_FLOAT_RUN = re.compile("f*")
# Messages whose arguments are only floats and ints (what controllers, Wekinator and Max
# send, thousands a second in a flood) are parsed with one struct per address and type
# tags, kept in a small cache keyed by the raw header bytes: a `Headers` dict that its
# owner (an OSC server) hands to every parse.
_FAST_TAGS = re.compile(rb",[fi]*")
_FAST_HEADER_MAX = 1024  # bytes; longer headers take the general path
_FAST_ENTRIES = 1024  # the cache is emptied when it holds this many
Headers = dict[bytes, tuple[str, struct.Struct]]  # header bytes -> (address, arguments' struct)


class _Drop(Exception):
    """Internal: this message (or bundle element) is dropped, for ``reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_datagram(data: bytes, headers: Headers | None = None
                   ) -> tuple[list[Message], list[str]]:
    """Split one UDP datagram into OSC messages, flattening bundles.

    Bundle timetags are ignored: every message is for "now" (TouchDesigner and Tidal
    stamp bundles in the future). Never raises on any input.

    Args:
        data: the datagram as received.
        headers: the caller's cache of known headers (an OSC server keeps one); None: none
            kept past this call.

    Returns:
        ``(messages, drops)``: the messages as ``(address, args)`` in datagram order,
        and one reason (``MALFORMED``, ``NONFINITE``, ``TOO_DEEP``) per message,
        bundle element or whole datagram that had to be dropped.
    """
    data = bytes(data)  # no copy when it already is bytes
    headers = {} if headers is None else headers
    if data[:1] == b"/":  # one message, the usual datagram: no lists to fill
        try:
            return [_parse_message(data, headers)], []
        except _Drop as drop:
            return [], [drop.reason]
    messages: list[Message] = []
    drops: list[str] = []
    _parse_element(data, 0, messages, drops, headers)
    return messages, drops


def encode_message(address: str, *args: Any) -> bytes:
    """Encode one OSC message: ints as i (h beyond 32 bits), floats as f, str as s.

    bool goes as T/F, bytes as b and None as N; numpy scalars are accepted.

    Raises:
        TypeError: an argument of a type OSC cannot carry.
    """
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(*_typed(arg))
    return builder.build().dgram


def encode_bundle(messages: list[bytes]) -> bytes:
    """One OSC bundle (timetag: immediately) holding encoded `messages`, in order."""
    parts = [_BUNDLE_HEAD, IMMEDIATELY]
    for message in messages:
        parts += [len(message).to_bytes(4, "big"), message]
    return b"".join(parts)


def _parse_element(data: bytes, depth: int, messages: list[Message], drops: list[str],
                   headers: Headers) -> None:
    """Parse a message or a bundle found at nesting ``depth`` (0: the datagram itself)."""
    if data[:1] == b"/":
        try:
            messages.append(_parse_message(data, headers))
        except _Drop as drop:
            drops.append(drop.reason)
    elif data.startswith(_BUNDLE_HEAD):
        _parse_bundle(data, depth + 1, messages, drops, headers)
    else:
        drops.append(MALFORMED)


def _parse_bundle(data: bytes, depth: int, messages: list[Message], drops: list[str],
                  headers: Headers) -> None:
    """Parse the elements of a bundle; a broken element size ends the bundle."""
    if depth > MAX_BUNDLE_DEPTH:
        drops.append(TOO_DEEP)
        return
    end = len(data)
    if end < _BUNDLE_PREFIX:
        drops.append(MALFORMED)
        return
    pos = _BUNDLE_PREFIX
    while pos < end:
        if pos + 4 > end:
            drops.append(MALFORMED)
            return
        (size,) = _INT32.unpack_from(data, pos)
        pos += 4
        if size <= 0 or pos + size > end:
            drops.append(MALFORMED)
            return
        _parse_element(data[pos : pos + size], depth, messages, drops, headers)
        pos += size


def _parse_message(data: bytes, headers: Headers) -> Message:
    """Parse one message; raises ``_Drop`` with the reason when it cannot be used."""
    fast = _parse_fast(data, headers)
    if fast is not None:
        return fast
    try:
        address, pos = _read_string(data, 0)
        if not address.startswith("/"):
            raise _Drop(MALFORMED)
        if pos >= len(data) or data[pos] != 0x2C:  # no ",": an old-style untyped message
            return address, ()
        tags, pos = _read_string(data, pos)
        args: list[Any] = []
        depth, i, end = 0, 1, len(tags)
        while i < end:
            tag = tags[i]
            i += 1
            if tag == "f":  # a run of floats (lists from Max, Wekinator) in one unpack
                run = _FLOAT_RUN.match(tags, i).end() - i + 1
                values = struct.unpack_from(f">{run}f", data, pos)
                if not math.isfinite(sum(values)):  # float32 sums cannot overflow a double
                    raise _Drop(NONFINITE)
                args.extend(values)
                pos, i = pos + 4 * run, i + run - 1
                continue
            if tag == "[":
                depth += 1
                continue
            if tag == "]":
                depth -= 1
                if depth < 0:
                    raise _Drop(MALFORMED)
                continue
            reader = _READERS.get(tag)
            if reader is None:
                raise _Drop(MALFORMED)  # an unknown tag has an unknown size
            value, pos = reader(data, pos)
            args.append(value)
        if depth:
            raise _Drop(MALFORMED)
        return address, tuple(args)
    except (struct.error, ValueError, IndexError, OverflowError):
        raise _Drop(MALFORMED) from None


def _parse_fast(data: bytes, headers: Headers) -> Message | None:
    """The message if its arguments are only floats and ints, else None (general path).

    Gives exactly what the general path gives for such messages, drops included.
    """
    address_end = data.find(b"\0")
    tags_at = (address_end + 4) & ~3
    if address_end < 0 or data[tags_at : tags_at + 1] != b",":
        return None
    tags_end = data.find(b"\0", tags_at)
    header_size = (tags_end + 4) & ~3
    if tags_end < 0 or header_size > _FAST_HEADER_MAX:
        return None
    header = data[:header_size]
    entry = headers.get(header)
    if entry is None:
        if not _FAST_TAGS.fullmatch(data, tags_at, tags_end):
            return None
        if len(headers) >= _FAST_ENTRIES:
            headers.clear()  # hostile traffic with ever new addresses: start over
        tags = data[tags_at + 1 : tags_end].decode("ascii")
        entry = headers[header] = (data[:address_end].decode("utf-8", "replace"),
                                 struct.Struct(">" + tags))
    address, codec = entry
    if not codec.size:
        return address, ()  # no arguments: the tags' padding need not be there
    if len(data) < header_size + codec.size:
        return None  # truncated: the general path tells which drop it is
    values = codec.unpack_from(data, header_size)
    if not math.isfinite(sum(values)):  # int32s and float32s cannot overflow a double
        raise _Drop(NONFINITE)
    return address, values


def _read_string(data: bytes, pos: int) -> tuple[str, int]:
    """An OSC string at ``pos``: NUL-terminated, padded to a multiple of 4 bytes."""
    end = data.find(b"\0", pos)
    if end < 0:
        raise _Drop(MALFORMED)
    return data[pos:end].decode("utf-8", "replace"), (end + 4) & ~3


def _read_blob(data: bytes, pos: int) -> tuple[bytes, int]:
    (size,) = _INT32.unpack_from(data, pos)
    pos += 4
    if size < 0 or pos + size > len(data):
        raise _Drop(MALFORMED)
    return data[pos : pos + size], (pos + size + 3) & ~3


def _read_float32(data: bytes, pos: int) -> tuple[float, int]:
    (value,) = _FLOAT32.unpack_from(data, pos)
    if not math.isfinite(value):
        raise _Drop(NONFINITE)
    return value, pos + 4


def _read_float64(data: bytes, pos: int) -> tuple[float, int]:
    (value,) = _FLOAT64.unpack_from(data, pos)
    if not math.isfinite(value):
        raise _Drop(NONFINITE)
    return value, pos + 8


def _read_char(data: bytes, pos: int) -> tuple[str, int]:
    (code,) = _UINT32.unpack_from(data, pos)
    return chr(code), pos + 4  # chr raises ValueError past U+10FFFF: malformed


def _read_midi(data: bytes, pos: int) -> tuple[tuple[int, ...], int]:
    if pos + 4 > len(data):
        raise _Drop(MALFORMED)
    return tuple(data[pos : pos + 4]), pos + 4


def _fixed(codec: struct.Struct) -> Callable[[bytes, int], tuple[Any, int]]:
    """A reader for a fixed-size big-endian value."""

    def read(data: bytes, pos: int) -> tuple[Any, int]:
        return codec.unpack_from(data, pos)[0], pos + codec.size

    return read


def _constant(value: Any) -> Callable[[bytes, int], tuple[Any, int]]:
    """A reader for a tag that carries no bytes (T, F, N, I)."""

    def read(data: bytes, pos: int) -> tuple[Any, int]:
        return value, pos

    return read


def _typed(arg: Any) -> tuple[Any, str]:
    """``(value, OSC type tag)`` for one argument to send."""
    if isinstance(arg, bool):
        return arg, OscMessageBuilder.ARG_TYPE_TRUE if arg else OscMessageBuilder.ARG_TYPE_FALSE
    if isinstance(arg, numbers.Integral):
        value = int(arg)
        if -(2**31) <= value < 2**31:
            return value, OscMessageBuilder.ARG_TYPE_INT
        return value, OscMessageBuilder.ARG_TYPE_INT64
    if isinstance(arg, numbers.Real):
        return float(arg), OscMessageBuilder.ARG_TYPE_FLOAT
    if isinstance(arg, str):
        return arg, OscMessageBuilder.ARG_TYPE_STRING
    if isinstance(arg, (bytes, bytearray)):
        return bytes(arg), OscMessageBuilder.ARG_TYPE_BLOB
    if arg is None:
        return None, OscMessageBuilder.ARG_TYPE_NIL
    raise TypeError(f"OSC cannot send a {type(arg).__name__}: {arg!r}")


_READERS: dict[str, Callable[[bytes, int], tuple[Any, int]]] = {
    "i": _fixed(_INT32),
    "h": _fixed(_INT64),
    "r": _fixed(_UINT32),  # RGBA colour as one 32-bit integer
    "t": _fixed(_UINT64),  # timetag as a 64-bit NTP integer
    "f": _read_float32,
    "d": _read_float64,
    "s": _read_string,
    "S": _read_string,
    "b": _read_blob,
    "c": _read_char,
    "m": _read_midi,
    "T": _constant(True),
    "F": _constant(False),
    "N": _constant(None),
    "I": _constant(None),  # infinitum (1.0) / impulse (1.1): an event without a value
}
